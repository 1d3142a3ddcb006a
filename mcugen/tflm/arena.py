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

import math
from dataclasses import dataclass, field
from typing import Callable

import tflite

from mcugen.errors import ModelError
from mcugen.tflm.layout import PARSE_PARAMS, layout_for
from mcugen.tflm.ops import REGISTRATIONS
from mcugen.tflm.source import KERNEL_SETS

ARENA_ALIGNMENT = 16  # MicroArenaBufferAlignment()
MAX_SCRATCH_PER_OP = 12  # kMaxScratchBuffersPerOp (micro_allocator.cc)
PLANNER_BYTES_PER_BUFFER = 40  # GreedyMemoryPlanner::per_buffer_size(): 10 ints
INT16_LUT_BYTES = 2 * 513  # softmax int16 LUTs: sizeof(int16_t) * LUTSize<int16_t>()
UNMODELED_OP_DATA = 128  # guess for a kernel without a model here (Init + Prepare)
TARGETS = ("cortex-m7", "cortex-m7-nofp", "host")

# TensorType -> bytes per element (TfLiteTypeSizeOf); int4 and string are not planned here.
_TYPE_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 8: 8, 9: 1, 10: 8, 11: 16, 12: 8,
               15: 4, 16: 2, 17: 1}
_OPCODE_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


# --- the model, as TFLM sees it ----------------------------------------------------------------


@dataclass
class _Tensor:
    index: int
    shape: tuple[int, ...]
    dtype: int
    constant: bool  # its buffer has data: it lives in the flatbuffer, not the arena
    variable: bool
    quant_channels: int  # len(scale) when scale and zero_point are both non-empty, else 0

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * _TYPE_BYTES.get(self.dtype, 1)


@dataclass
class _Op:
    index: int
    opcode: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: object | None  # the tflite.*Options table, or None


@dataclass
class _Subgraph:
    tensors: list[_Tensor]
    ops: list[_Op]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass
class _Model:
    subgraphs: list[_Subgraph]
    offline_plan: bool


_OPTIONS = {
    "CONV_2D": tflite.Conv2DOptions,
    "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
    "AVERAGE_POOL_2D": tflite.Pool2DOptions,
    "MAX_POOL_2D": tflite.Pool2DOptions,
    "L2_POOL_2D": tflite.Pool2DOptions,
    "FULLY_CONNECTED": tflite.FullyConnectedOptions,
    "SVDF": tflite.SVDFOptions,
}


def _read_model(data: bytes) -> _Model:
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        n_sub = model.SubgraphsLength()
    except Exception as exc:  # flatbuffers raises plain struct/index errors on garbage
        raise ModelError("Not a TFLite flatbuffer; cannot estimate its TFLM arena.") from exc
    codes = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        codes.append(_OPCODE_NAMES.get(code, f"BUILTIN_{code}"))
    buffer_has_data = [model.Buffers(i).DataLength() > 0 for i in range(model.BuffersLength())]
    subgraphs = []
    for s in range(n_sub):
        sg = model.Subgraphs(s)
        tensors = []
        for t in range(sg.TensorsLength()):
            ft = sg.Tensors(t)
            q = ft.Quantization()
            channels = 0
            if q is not None and q.ScaleLength() > 0 and q.ZeroPointLength() > 0:
                channels = q.ScaleLength()
            buf = ft.Buffer()
            tensors.append(_Tensor(
                index=t,
                shape=tuple(int(d) for d in ft.ShapeAsNumpy()) if ft.ShapeLength() else (),
                dtype=ft.Type(),
                constant=0 <= buf < len(buffer_has_data) and buffer_has_data[buf],
                variable=bool(ft.IsVariable()),
                quant_channels=channels,
            ))
        ops = []
        for o in range(sg.OperatorsLength()):
            fo = sg.Operators(o)
            opcode = codes[fo.OpcodeIndex()]
            options = None
            if opcode in _OPTIONS and fo.BuiltinOptions() is not None:
                table = fo.BuiltinOptions()
                options = _OPTIONS[opcode]()
                options.Init(table.Bytes, table.Pos)
            ops.append(_Op(
                index=o, opcode=opcode,
                inputs=tuple(int(i) for i in fo.InputsAsNumpy()) if fo.InputsLength() else (),
                outputs=tuple(int(i) for i in fo.OutputsAsNumpy()) if fo.OutputsLength() else (),
                options=options,
            ))
        subgraphs.append(_Subgraph(
            tensors=tensors, ops=ops,
            inputs=tuple(int(i) for i in sg.InputsAsNumpy()) if sg.InputsLength() else (),
            outputs=tuple(int(i) for i in sg.OutputsAsNumpy()) if sg.OutputsLength() else (),
        ))
    offline = any(
        model.Metadata(i).Name() == b"OfflineMemoryAllocation" for i in range(model.MetadataLength())
    )
    return _Model(subgraphs=subgraphs, offline_plan=offline)


# --- per-kernel allocations --------------------------------------------------------------------


@dataclass
class KernelAllocations:
    """What one operator's kernel takes from the arena."""

    init: list[int] = field(default_factory=list)  # persistent, in Init (16-aligned)
    prepare: list[int] = field(default_factory=list)  # persistent, in Prepare (16-aligned)
    scratch: list[int] = field(default_factory=list)  # RequestScratchBufferInArena sizes
    temp_tensors: list[int] = field(default_factory=list)  # temp TfLiteTensors alive at once
    modeled: bool = True


@dataclass
class _OpContext:
    graph: _Subgraph
    op: _Op
    kernels: str
    target: str
    layout: dict[str, tuple[int, int]]

    def tensor(self, pos: int, outputs: bool = False) -> _Tensor | None:
        ids = self.op.outputs if outputs else self.op.inputs
        if pos >= len(ids) or ids[pos] < 0:
            return None
        return self.graph.tensors[ids[pos]]

    def size(self, struct: str) -> int:
        return self.layout[struct][0]

    @property
    def cmsis(self) -> bool:
        return self.kernels == "cmsis_nn"

    @property
    def dsp(self) -> bool:
        """CMSIS-NN's ARM_MATH_DSP path (Cortex-M7 has the DSP extension; the host has not)."""
        return self.target != "host"

    def io_tensors(self, times: int = 1) -> list[int]:
        ids = [i for i in (*self.op.inputs, *self.op.outputs) if i >= 0]
        return ids * times


_INT8, _INT16, _INT4 = 9, 7, 17


def _padding(padding: int, stride: int, dilation: int, in_size: int, filt: int) -> int:
    """TFLite's ComputePaddingHeightWidth for one dimension (kernels/padding.h)."""
    eff = (filt - 1) * dilation + 1
    if padding == tflite.Padding.SAME:
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size + stride - eff) // stride
    total = (out - 1) * stride + eff - in_size
    return max(total, 0) // 2


def _conv_geometry(ctx: _OpContext) -> dict[str, int]:
    inp, filt = ctx.tensor(0), ctx.tensor(1)
    o = ctx.op.options
    sh, sw = (o.StrideH(), o.StrideW()) if o else (1, 1)
    dh, dw = (o.DilationHFactor(), o.DilationWFactor()) if o else (1, 1)
    pad = o.Padding() if o else tflite.Padding.SAME
    return {
        "in_h": inp.shape[1], "in_w": inp.shape[2], "in_c": inp.shape[3], "n": inp.shape[0],
        "f_h": filt.shape[1], "f_w": filt.shape[2], "f_c": filt.shape[3],
        "pad_h": _padding(pad, sh, dh, inp.shape[1], filt.shape[1]),
        "pad_w": _padding(pad, sw, dw, inp.shape[2], filt.shape[2]),
        "stride_h": sh, "stride_w": sw, "dil_h": dh, "dil_w": dw,
    }


def _cmsis_conv_s8_buffer(g: dict[str, int]) -> int:
    """arm_convolve_wrapper_s8_get_buffer_size, DSP and plain-C paths (GCC: 1x1 fast needs none)."""
    is_1x1 = (g["pad_w"] == 0 and g["pad_h"] == 0 and g["f_w"] == 1 and g["f_h"] == 1
              and g["dil_w"] == 1 and g["dil_h"] == 1 and g["in_c"] == g["f_c"])
    if is_1x1:
        return 0  # 1x1 (fast or not): arm_convolve_1x1_s8_fast_get_buffer_size is 0 with GCC
    # 1xN and the generic path both use arm_convolve_s8_get_buffer_size off MVE.
    rhs_cols = g["f_w"] * g["f_h"] * g["in_c"]
    aligned = rhs_cols + (4 - rhs_cols % 4) % 4
    return 2 * aligned * 2


def _cmsis_conv_s16_buffer(g: dict[str, int]) -> int:
    """arm_convolve_wrapper_s16_get_buffer_size off MVE: 2 im2col columns of int16 (DSP or not)."""
    return 2 * g["in_c"] * g["f_w"] * g["f_h"] * 2


def _per_channel(filt: _Tensor, axis: int) -> list[int]:
    """Per-channel output multipliers and shifts: two int32 arrays (conv, depthwise)."""
    n = filt.shape[axis]
    return [4 * n, 4 * n]


def _model_conv(ctx: _OpContext) -> KernelAllocations:
    inp, filt = ctx.tensor(0), ctx.tensor(1)
    k = KernelAllocations(temp_tensors=ctx.io_tensors(2))
    if ctx.cmsis:
        k.init = [ctx.size("CmsisConvOpData")]
        if inp.dtype in (_INT8, _INT16):
            k.prepare = _per_channel(filt, 0)
            g = _conv_geometry(ctx)
            buf = _cmsis_conv_s8_buffer(g) if inp.dtype == _INT8 else _cmsis_conv_s16_buffer(g)
            if buf > 0:
                k.scratch = [buf]
    else:
        k.init = [ctx.size("OpDataConv")]
        k.prepare = _per_channel(filt, 0)
        if filt.dtype == _INT4:
            k.scratch = [math.prod(filt.shape)]
    return k


def _model_depthwise(ctx: _OpContext) -> KernelAllocations:
    inp, filt, out = ctx.tensor(0), ctx.tensor(1), ctx.tensor(0, outputs=True)
    k = KernelAllocations(temp_tensors=ctx.io_tensors(2))
    if ctx.cmsis:
        k.init = [ctx.size("CmsisConvOpData")]
        if inp.dtype in (_INT8, _INT16):
            k.prepare = _per_channel(filt, 3)
        if inp.dtype == _INT8:
            g = _conv_geometry(ctx)
            out_c = out.shape[3]
            buf = 0
            if (g["in_c"] == out_c and g["n"] == 1 and g["dil_w"] == 1 and g["dil_h"] == 1
                    and not (g["f_w"] == 3 and g["f_h"] == 3 and g["pad_h"] <= 1 and g["pad_w"] <= 1)
                    and ctx.dsp):
                buf = g["in_c"] * g["f_w"] * g["f_h"] * 2  # arm_depthwise_conv_s8_opt (DSP)
            if buf > 0:
                k.scratch = [buf]
    else:
        k.init = [ctx.size("OpDataConv")]
        k.prepare = _per_channel(filt, 3)
        if filt.dtype == _INT4:
            k.scratch = [math.prod(filt.shape)]
    return k


def _model_fully_connected(ctx: _OpContext) -> KernelAllocations:
    inp, filt, out = ctx.tensor(0), ctx.tensor(1), ctx.tensor(0, outputs=True)
    k = KernelAllocations(temp_tensors=ctx.io_tensors())
    per_channel = filt.quant_channels > 1 and inp.dtype != 0
    if per_channel:
        k.prepare = [4 * filt.quant_channels, 4 * filt.quant_channels]
    if ctx.cmsis:
        k.init = [ctx.size("CmsisFullyConnectedOpData")]
        out_dims = len(out.shape)
        accum_depth = filt.shape[-1]
        if inp.dtype == _INT16:
            pass  # arm_fully_connected_s16_get_buffer_size: 0 off MVE
        elif inp.dtype == _INT8 and filt.dtype != _INT4:
            if out_dims > 2 and accum_depth % 4 == 0:
                if not per_channel:
                    k.scratch = [out.shape[-1] * 4 * 2]  # fake per-channel params for conv 1x1
                # arm_convolve_1x1_s8_fast_get_buffer_size: 0 with GCC
            # else arm_fully_connected_s8_get_buffer_size: 0 off MVE, so no kernel sums
    else:
        k.init = [ctx.size("OpDataFullyConnected")]
        if filt.dtype == _INT4:
            k.scratch = [math.prod(filt.shape)]
    return k


def _model_pool(ctx: _OpContext) -> KernelAllocations:
    inp, out = ctx.tensor(0), ctx.tensor(0, outputs=True)
    k = KernelAllocations(temp_tensors=ctx.io_tensors())
    if ctx.cmsis:
        k.init = [ctx.size("CmsisPoolingOpData")]
        if ctx.op.opcode == "AVERAGE_POOL_2D" and inp.dtype in (_INT8, _INT16) and ctx.dsp:
            k.scratch = [out.shape[3] * 4]  # arm_avgpool_s{8,16}_get_buffer_size (DSP)
    else:
        k.init = [ctx.size("OpDataPooling")]
    return k


def _model_softmax(ctx: _OpContext) -> KernelAllocations:
    inp = ctx.tensor(0)
    k = KernelAllocations(temp_tensors=ctx.io_tensors())
    k.init = [ctx.size("CMSISNNSoftmaxParams" if ctx.cmsis else "SoftmaxParams")]
    if inp.dtype == _INT16:
        k.prepare = [INT16_LUT_BYTES, INT16_LUT_BYTES]
    return k


def _model_reshape(ctx: _OpContext) -> KernelAllocations:
    out = ctx.tensor(0, outputs=True)
    k = KernelAllocations(temp_tensors=ctx.io_tensors())
    if out is not None and -1 in out.shape:  # CreateWritableTensorDimsWithCopy
        k.prepare = [4 + 4 * len(out.shape)]
    return k


def _model_svdf(ctx: _OpContext) -> KernelAllocations:
    inp, wf = ctx.tensor(0), ctx.tensor(1)
    out = ctx.tensor(0, outputs=True)
    k = KernelAllocations(temp_tensors=ctx.io_tensors())
    k.init = [ctx.size("CmsisNnOpDataSvdf" if ctx.cmsis else "OpDataSvdf")]
    num_filters = wf.shape[0]
    batch = inp.shape[0]
    num_units = out.shape[1] if len(out.shape) > 1 else out.shape[0]
    if inp.dtype == _INT8:
        k.scratch = [batch * num_filters * 4, batch * num_units * 4]
        # arm_svdf_s8_get_buffer_size is 0 off MVE: no kernel sums
    else:
        k.scratch = [batch * num_filters * 4]
    return k


def _simple(struct_ref: str | None, struct_cmsis: str | None = None) -> Callable[[_OpContext], KernelAllocations]:
    def model(ctx: _OpContext) -> KernelAllocations:
        k = KernelAllocations(temp_tensors=ctx.io_tensors())
        struct = struct_cmsis if ctx.cmsis and struct_cmsis else struct_ref
        if struct:
            k.init = [ctx.size(struct)]
        return k

    return model


def _model_reduce(ctx: _OpContext) -> KernelAllocations:
    inp, axis = ctx.tensor(0), ctx.tensor(1)
    out = ctx.tensor(0, outputs=True)
    k = KernelAllocations(temp_tensors=ctx.io_tensors(), init=[ctx.size("OpDataReduce")])
    rank = len(inp.shape)
    num_axis = math.prod(axis.shape) if axis is not None else 0
    if ctx.op.opcode in ("MEAN", "SUM"):
        if inp.dtype in (_INT8, _INT16):
            k.scratch.append(4 * math.prod(out.shape))
        k.scratch += [4 * rank, 4 * num_axis]
    else:  # REDUCE_MAX, REDUCE_MIN, REDUCE_ALL
        k.scratch = [4 * rank, 4 * num_axis]
    return k


_OP_MODELS: dict[str, Callable[[_OpContext], KernelAllocations]] = {
    "CONV_2D": _model_conv,
    "DEPTHWISE_CONV_2D": _model_depthwise,
    "FULLY_CONNECTED": _model_fully_connected,
    "AVERAGE_POOL_2D": _model_pool,
    "MAX_POOL_2D": _model_pool,
    "SOFTMAX": _model_softmax,
    "RESHAPE": _model_reshape,
    "SVDF": _model_svdf,
    "MEAN": _model_reduce,
    "SUM": _model_reduce,
    "REDUCE_MAX": _model_reduce,
    "REDUCE_MIN": _model_reduce,
    "ADD": _simple("OpDataAdd", "CmsisAddOpData"),
    "SUB": _simple("OpDataSub"),
    "MUL": _simple("OpDataMul"),
    "QUANTIZE": _simple("OpDataQuantizeReference"),
    "DEQUANTIZE": _simple("DequantizeOpData"),
    "RELU": _simple("ReluOpData"),
    "RELU6": _simple("Relu6OpData"),
    "LOGISTIC": _simple("OpDataLogistic"),
    "TANH": _simple("TanhOpData"),
    "HARD_SWISH": _simple("HardSwishParams"),
    "LEAKY_RELU": _simple("LeakyReluOpData"),
    "CONCATENATION": _simple("ConcatenationOpData"),
    "PAD": _simple("PadOpData"),
    "PADV2": _simple("PadOpData"),
    "STRIDED_SLICE": _simple("StridedSliceParams"),
    "SQUEEZE": _simple(None),
    "EXPAND_DIMS": _simple(None),
    "TRANSPOSE": _simple(None),
    "MAXIMUM": _simple(None),
    "MINIMUM": _simple(None),
}

MODELED_OPS = frozenset(_OP_MODELS)


def kernel_allocations(ctx: _OpContext) -> KernelAllocations:
    model = _OP_MODELS.get(ctx.op.opcode)
    if model is None:
        return KernelAllocations(init=[UNMODELED_OP_DATA], temp_tensors=ctx.io_tensors(2), modeled=False)
    return model(ctx)


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
    model: _Model  # one subgraph (checked by _plan)
    params: list[tuple[int, int]]  # builtin params (size, align) per operator
    kernels: list[KernelAllocations]  # per operator, in Prepare order
    buffers: list[PlannedBuffer]
    head: int
    unmodeled: tuple[str, ...]
    recording: bool = False  # RecordingMicroAllocator (the tflite-micro Python interpreter)


def _lifetimes(sg: _Subgraph, scratch_owner: list[int]) -> tuple[dict[int, tuple[int, int]], list[tuple[int, int]]]:
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
    model = _read_model(data)
    if len(model.subgraphs) != 1:
        raise ModelError(
            f"The model has {len(model.subgraphs)} subgraphs; the TFLM arena estimate handles one.",
            hint="Control-flow models (IF, WHILE, CALL_ONCE) are not supported by mcugen.",
        )
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
        k = kernel_allocations(_OpContext(sg, op, kernels, target, layout))
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
    _, head = greedy_plan(buffers)
    return _Plan(layout, model, params, allocations, buffers, head, tuple(unmodeled))


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

    def temp_tensor(t: _Tensor) -> None:
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
        raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
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
    from pathlib import Path

    return Path(model).read_bytes()
