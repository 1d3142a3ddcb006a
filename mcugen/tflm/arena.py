"""The tensor arena a model needs under TFLM, computed without running TFLM.

`estimate_tflm_arena` replays, in Python, what `MicroInterpreter::AllocateTensors`
does to the arena of a SingleArenaBufferAllocator (TFLM 90b983c2):

tail (persistent, grows down from the end; every allocation aligns down):
  MicroAllocator::Create        SingleArenaBufferAllocator, GreedyMemoryPlanner, MicroAllocator
  StartModelAllocation          MicroBuiltinDataAllocator, SubgraphAllocations[subgraphs],
                                TfLiteEvalTensor[tensors], NodeAndRegistration[operators]
  PrepareNodeAndRegistration... each operator's builtin parameter struct (the flatbuffer parser's)
  InitSubgraphs                 each kernel's Init: its op data (AllocatePersistentBuffer, 16-aligned)
  PrepareSubgraphs              each kernel's Prepare: per-channel multipliers and shifts, LUTs,
                                CMSIS-NN kernel sums, copied dims ... (16-aligned)
  FinishModelAllocation         ScratchBufferHandle[scratch requests], variable tensors (16-aligned)
  AllocateTensors (end)         input/output TfLiteTensor* arrays (16-aligned), one TfLiteTensor
                                per input and output, plus TfLiteAffineQuantization and its
                                zero-point TfLiteIntArray when quantized
head (non-persistent, from the start): the GreedyMemoryPlanner's plan over every
  non-constant, non-variable tensor (lifetimes from the operator order, sizes
  rounded up to 16 bytes, its exact placement order: reverse insertion order,
  stable sort by size descending, first fit) and every kernel scratch buffer
  (lifetime: its own operator; sizes from the CMSIS-NN *_get_buffer_size
  functions for the Cortex-M7 DSP path, or the reference kernels' requests).

`used` is then what `arena_used_bytes()` reports. While AllocateTensors runs
the arena must also hold temporary data that is freed before it returns: the
scratch-request table, each kernel Prepare's temporary TfLiteTensors, and the
planner's working arrays (an AllocationInfo per tensor and scratch buffer,
40 bytes per planned buffer). The same replay with absolute addresses finds
the smallest arena for which no allocation fails: `minimum`, which for small
models exceeds `used` (hello_world: 1156 vs 772 B on Cortex-M7). `total`, the
figure to size an arena with, is the larger of the two.

Struct sizes per target come from layout.py (measured with each compiler);
kernels not modelled here fall back to a conservative guess and are listed in
`ArenaEstimate.unmodeled_ops`. tests/tflm/test_tflm_arena.py checks the figures
against AllocateTensors on the host and on Cortex-M7 under QEMU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mcugen.errors import ModelError
from mcugen.tflm.flatbuffer import TflmModel, TflmSubgraph, TflmTensor, read_model
from mcugen.tflm.kernel_arena import KernelAllocations, OpContext, kernel_allocations
from mcugen.tflm.layout import PARSE_PARAMS, layout_for
from mcugen.tflm.ops import REGISTRATIONS
from mcugen.tflm.source import KERNEL_SETS
from mcugen.tflm.targets import TARGETS

ARENA_ALIGNMENT = 16  # MicroArenaBufferAlignment()
MAX_SCRATCH_PER_OP = 12  # kMaxScratchBuffersPerOp (micro_allocator.cc)
PLANNER_BYTES_PER_BUFFER = 40  # GreedyMemoryPlanner::per_buffer_size(): 10 ints


# --- the greedy memory planner ------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedBuffer:
    size: int  # already rounded up to 16
    first: int
    last: int
    what: str  # "tensor <i>" or "scratch <op>.<n>"


def greedy_plan(buffers: list[PlannedBuffer]) -> tuple[list[int], int]:
    """GreedyMemoryPlanner::CalculateOffsetsIfNeeded, step for step: (offsets, arena size)."""
    n = len(buffers)
    if n == 0:
        return [], 0
    # Online buffers are laid into the sort arrays from the tail (reverse order),
    # then ReverseSortInPlace: a stable bubble sort by size, largest first.
    order = sorted(reversed(range(n)), key=lambda i: -buffers[i].size)
    offsets = [0] * n
    placed: list[tuple[int, int]] = []  # (offset, buffer id), in the planner's list order
    for buffer_id in order:
        want = buffers[buffer_id]
        candidate = 0
        if placed:
            prior: int | None = None  # position in `placed`
            pos = 0
            while True:
                nxt = None
                for p in range(pos, len(placed)):
                    other = buffers[placed[p][1]]
                    if not (other.first > want.last or want.first > other.last):
                        nxt = p
                        break
                if prior is not None:
                    off, pid = placed[prior]
                    candidate = max(candidate, off + buffers[pid].size)
                if nxt is None:
                    break
                if placed[nxt][0] - candidate >= want.size:
                    break
                prior = nxt
                pos = nxt + 1
        offsets[buffer_id] = candidate
        # Insert after every entry whose offset is <= candidate (the planner's list walk).
        at = len(placed)
        for p, (off, _) in enumerate(placed):
            if off > candidate:
                at = p
                break
        placed.insert(at, (candidate, buffer_id))
    size = max(offsets[i] + buffers[i].size for i in range(n))
    return offsets, size


def _align_up(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def _align_down(x: int, a: int) -> int:
    return x // a * a


# --- the replay ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArenaEstimate:
    """TFLM's arena need for a model: `total` is the arena size to give MicroInterpreter."""

    total: int  # max(used, minimum): the smallest arena that works, as estimated
    breakdown: dict[str, int]  # parts of `used`, plus "allocation headroom" = total - used
    used: int  # arena_used_bytes() after AllocateTensors (head + tail)
    head: int  # the memory plan: activations and kernel scratch buffers
    tail: int  # persistent: interpreter and kernel bookkeeping
    minimum: int  # smallest arena for which AllocateTensors does not fail
    activations: int  # planned tensors only (head without scratch buffers), for reference
    scratch: int  # sum of kernel scratch requests, rounded to 16 each
    target: str
    kernels: str
    unmodeled_ops: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        """True when every operator's kernel allocations are modelled."""
        return not self.unmodeled_ops

    def to_json(self) -> dict:
        return {
            "total": self.total, "used": self.used, "head": self.head, "tail": self.tail,
            "minimum": self.minimum, "activations": self.activations, "scratch": self.scratch,
            "breakdown": dict(self.breakdown), "target": self.target, "kernels": self.kernels,
            "unmodeled_ops": list(self.unmodeled_ops),
        }


class _ArenaTooSmall(Exception):
    pass


@dataclass
class _Plan:
    """Everything the replay needs, computed once per (model, kernels, target)."""

    layout: dict[str, tuple[int, int]]
    model: TflmModel  # one subgraph (checked by _plan)
    params: list[tuple[int, int]]  # builtin params (size, align) per operator
    kernels: list[KernelAllocations]  # per operator, in Prepare order
    buffers: list[PlannedBuffer]
    head: int
    unmodeled: tuple[str, ...]
    recording: bool = False  # RecordingMicroAllocator (the tflite-micro Python interpreter)
    extra: KernelAllocations | None = None  # the other subgraphs' allocations (an upper bound)


def _lifetimes(sg: TflmSubgraph, scratch_owner: list[int]) -> tuple[dict[int, tuple[int, int]], list[tuple[int, int]]]:
    """AllocationInfoBuilder::MarkAllocationLifetimes for one subgraph (no control flow).

    Inputs are created at scope 0, operator i runs in scope i + 1, outputs live to
    the last scope; a scratch buffer lives in its operator's scope only.
    """
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in sg.inputs:
        first.setdefault(t, 0)
        last[t] = 0
    scope = 0
    for op in sg.ops:
        scope += 1
        for t in op.outputs:
            first.setdefault(t, scope)
        for t in (*op.inputs, *op.outputs):
            if t >= 0:
                last[t] = scope
    for t in sg.outputs:
        first.setdefault(t, scope)
        last[t] = scope
    life = {t: (first.get(t, -1), last.get(t, -1)) for t in set(first) | set(last)}
    return life, [(op + 1, op + 1) for op in scratch_owner]


def _plan(data: bytes, kernels: str, target: str) -> _Plan:
    layout = layout_for(target)
    model = read_model(data)
    if model.offline_plan:
        raise ModelError(
            "The model carries an offline memory plan (OfflineMemoryAllocation metadata); "
            "the TFLM arena estimate plans online only.",
        )
    sg = model.subgraphs[0]
    params: list[tuple[int, int]] = []
    allocations: list[KernelAllocations] = []
    scratch_owner: list[int] = []  # the operator of each scratch request
    scratch_sizes: list[int] = []
    unmodeled: list[str] = []
    for op in sg.ops:
        reg = REGISTRATIONS.get(op.opcode)
        struct = PARSE_PARAMS.get(reg[1]) if reg else None
        params.append(layout[struct] if struct else (0, 1))
        k = kernel_allocations(OpContext(sg, op, kernels, target, layout))
        if not k.modeled and op.opcode not in unmodeled:
            unmodeled.append(op.opcode)
        allocations.append(k)
        for size in k.scratch:
            scratch_owner.append(op.index)
            scratch_sizes.append(size)
    life, scratch_life = _lifetimes(sg, scratch_owner)
    buffers: list[PlannedBuffer] = []
    for t in sg.tensors:
        if t.constant or t.variable or t.nbytes == 0:
            continue
        f, l = life.get(t.index, (-1, -1))
        buffers.append(PlannedBuffer(_align_up(t.nbytes, ARENA_ALIGNMENT), f, l, f"tensor {t.index}"))
    for n, size in enumerate(scratch_sizes):
        f, l = scratch_life[n]
        buffers.append(PlannedBuffer(_align_up(size, ARENA_ALIGNMENT), f, l, f"scratch op {scratch_owner[n]}"))
    extra = _other_subgraphs(model, kernels, target, layout, len(sg.ops) + 1, buffers)
    if extra is not None and "control flow" not in unmodeled:
        unmodeled.append("control flow")
    _, head = greedy_plan(buffers)
    return _Plan(layout, model, params, allocations, buffers, head, tuple(unmodeled), extra=extra)


def _other_subgraphs(model: TflmModel, kernels: str, target: str, layout: dict[str, tuple[int, int]],
                     scopes: int, buffers: list[PlannedBuffer]) -> KernelAllocations | None:
    """Subgraphs 1.. (WHILE/IF bodies, CALL_ONCE initialisers), not replayed exactly: an upper
    bound. Their tensors join the plan alive for the whole run (TFLM nests them inside the calling
    op's scope), their kernels' allocations and bookkeeping are added to subgraph 0's."""
    extra = KernelAllocations(modeled=False)
    for sg in model.subgraphs[1:]:
        extra.init.append(layout["SubgraphAllocations"][0] + layout["TfLiteEvalTensor"][0] * len(sg.tensors)
                          + layout["NodeAndRegistration"][0] * len(sg.ops))
        for t in sg.tensors:
            if not t.constant and t.nbytes:
                buffers.append(PlannedBuffer(_align_up(t.nbytes, ARENA_ALIGNMENT), 0, scopes, "subgraph tensor"))
        for op in sg.ops:
            k = kernel_allocations(OpContext(sg, op, kernels, target, layout))
            reg = REGISTRATIONS.get(op.opcode)
            struct = PARSE_PARAMS.get(reg[1]) if reg else None
            extra.init.extend([*k.init, layout[struct][0] if struct else 0])
            extra.prepare.extend(k.prepare)
            for size in k.scratch:
                buffers.append(PlannedBuffer(_align_up(size, ARENA_ALIGNMENT), 0, scopes, "subgraph scratch"))
    return extra if len(model.subgraphs) > 1 else None


class _Arena:
    """A SingleArenaBufferAllocator over [0, size): head_, temp_ and tail_ as absolute offsets."""

    def __init__(self, size: int, categories: dict[str, int] | None = None) -> None:
        self.size = size
        self.head = 0
        self.temp = 0
        self.tail = size
        self.cat = categories

    def persistent(self, size: int, align: int, what: str = "") -> None:
        result = _align_down(self.tail - size, align)
        if result < self.head:
            raise _ArenaTooSmall(what)
        if self.cat is not None:
            self.cat[what] = self.cat.get(what, 0) + size
            self.cat["alignment padding"] = self.cat.get("alignment padding", 0) + (self.tail - result - size)
        self.tail = result

    def temp_alloc(self, size: int, align: int) -> None:
        result = _align_up(self.temp, align)
        if self.tail - result < size:
            raise _ArenaTooSmall("temp")
        self.temp = result + size

    def reset_temp(self) -> None:
        self.temp = self.head

    def resize_head(self, size: int, align: int) -> None:
        start = _align_up(0, align)
        if self.tail - start < size:
            raise _ArenaTooSmall("head")
        self.head = start + size
        self.temp = self.head

    def available(self, align: int) -> int:
        return _align_down(self.tail, align) - _align_up(self.temp, align)


def _replay(plan: _Plan, size: int, categories: dict[str, int] | None = None) -> _Arena:
    """AllocateTensors on an arena of `size` bytes; raises _ArenaTooSmall where TFLM fails."""
    L = plan.layout
    A = ARENA_ALIGNMENT
    arena = _Arena(size, categories)

    def p(struct: str, what: str, count: int = 1) -> None:
        s, a = L[struct]
        arena.persistent(s * count, a, what)

    def temp_tensor(t: TflmTensor) -> None:
        arena.temp_alloc(*L["TfLiteTensor"])
        if t.quant_channels:
            arena.temp_alloc(*L["TfLiteAffineQuantization"])
            arena.temp_alloc(L["TfLiteIntArray"][0] + 4 * t.quant_channels, L["TfLiteIntArray"][1])

    # MicroAllocator::Create (arena start is 16-aligned), or RecordingMicroAllocator::Create.
    prefix = "Recording" if plan.recording else ""
    p(f"{prefix}SingleArenaBufferAllocator", "interpreter objects")
    p("GreedyMemoryPlanner", "interpreter objects")
    p(f"{prefix}MicroAllocator", "interpreter objects")
    # StartModelAllocation.
    p("MicroBuiltinDataAllocator", "interpreter objects")
    request = L["ScratchBufferRequest"]
    arena.resize_head(request[0] * MAX_SCRATCH_PER_OP, request[1])  # InitScratchBufferData
    sg = plan.model.subgraphs[0]
    p("SubgraphAllocations", "interpreter objects")
    p("TfLiteEvalTensor", "eval tensors", len(sg.tensors))
    p("NodeAndRegistration", "nodes and registrations", len(sg.ops))
    # Builtin parameter structs, then each kernel's Init.
    for size_, align in plan.params:
        if size_:
            arena.persistent(size_, align, "builtin parameters")
    for k in plan.kernels:
        for n in k.init:
            arena.persistent(n, A, "kernel op data")
    if plan.extra is not None:  # the other subgraphs (control flow): bookkeeping, op data, buffers
        for n in (*plan.extra.init, *plan.extra.prepare):
            if n:
                arena.persistent(n, A, "other subgraphs")
    # Prepare, operator by operator.
    requests = 0
    for k in plan.kernels:
        for n in k.prepare:
            arena.persistent(n, A, "kernel buffers")
        for t in k.temp_tensors:
            temp_tensor(sg.tensors[t])
        requests += len(k.scratch)
        arena.reset_temp()  # FinishPrepareNodeAllocations
        arena.resize_head(request[0] * (requests + MAX_SCRATCH_PER_OP), request[1])
    # FinishModelAllocation.
    if requests:
        p("ScratchBufferHandle", "scratch handles", requests)
    size_t = L["size_t"]
    arena.temp_alloc(size_t[0], size_t[1])  # subgraph offsets
    info = L["AllocationInfo"]
    arena.temp_alloc(info[0] * (len(sg.tensors) + requests), info[1])
    for t in sg.tensors:
        if t.variable:
            arena.persistent(t.nbytes, A, "variable tensors")
    remaining = arena.available(A)
    if remaining // PLANNER_BYTES_PER_BUFFER < len(plan.buffers):
        raise _ArenaTooSmall("planner")
    arena.reset_temp()
    arena.resize_head(plan.head, A)  # ReserveNonPersistentOverlayMemory
    # Input and output TfLiteTensors.
    for ids in (sg.inputs, sg.outputs):
        arena.persistent(L["pointer"][0] * len(ids), A, "input/output tensors")
        for t in ids:
            p("TfLiteTensor", "input/output tensors")
            tensor = sg.tensors[t]
            if tensor.quant_channels:
                p("TfLiteAffineQuantization", "input/output tensors")
                arena.persistent(L["TfLiteIntArray"][0] + 4 * tensor.quant_channels, L["TfLiteIntArray"][1],
                                 "input/output tensors")
    return arena


def _minimum(plan: _Plan, used: int) -> int:
    def ok(size: int) -> bool:
        try:
            _replay(plan, size)
            return True
        except _ArenaTooSmall:
            return False

    if ok(used):
        return used
    lo, gap = used, 64
    while not ok(used + gap):
        lo = used + gap
        gap *= 2
    hi = used + gap
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def estimate_tflm_arena(model, kernels: str = "cmsis_nn", target: str = "cortex-m7",
                        *, allocator: str = "default") -> ArenaEstimate:
    """TFLM's arena need for `model` (.tflite bytes, a path, or a Graph with model_bytes).

    `kernels`: "cmsis_nn" or "reference"; `target`: "cortex-m7" (32-bit, CMSIS-NN
    DSP path), "cortex-m7-nofp" or "host" (64-bit). `allocator`: "default"
    (MicroInterpreter(model, resolver, arena, size), what applications do) or
    "recording" (RecordingMicroAllocator, as the tflite-micro Python package uses).
    """
    if allocator not in ("default", "recording"):
        raise ValueError(f"allocator must be 'default' or 'recording', not {allocator!r}")
    if kernels not in KERNEL_SETS:
        raise ValueError(f"kernels must be one of {KERNEL_SETS}, not {kernels!r}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {tuple(TARGETS)}, not {target!r}")
    data = _model_bytes(model)
    plan = _plan(data, kernels, target)
    plan.recording = allocator == "recording"
    big = 1 << 40
    categories: dict[str, int] = {}
    arena = _replay(plan, big, categories)
    tail = big - arena.tail
    used = plan.head + tail
    minimum = _minimum(plan, used)
    total = max(used, minimum)
    scratch = sum(b.size for b in plan.buffers if b.what.startswith("scratch"))
    activations_only = greedy_plan([b for b in plan.buffers if b.what.startswith("tensor")])[1]
    breakdown = {"memory plan (activations + scratch)": plan.head}
    breakdown.update(categories)
    breakdown["allocation headroom"] = total - used
    return ArenaEstimate(
        total=total, breakdown=breakdown, used=used, head=plan.head, tail=tail, minimum=minimum,
        activations=activations_only, scratch=scratch, target=target, kernels=kernels,
        unmodeled_ops=plan.unmodeled,
    )


def _model_bytes(model) -> bytes:
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    data = getattr(model, "model_bytes", None)
    if data is not None:
        if not data:
            raise ModelError("The Graph carries no model bytes; the TFLM arena estimate needs them.")
        return bytes(data)
    return Path(model).read_bytes()
