"""The cubeai style: an X-CUBE-AI-shaped C project calling mcugen's own int8 kernels.

`generate_cubeai(graph, board, out_dir)` lowers every operator (`lowering`),
plans the activation arena (`mcugen.planner.plan_memory`, with the kernels'
scratch needs), renders `templates/cubeai/` and writes a self-contained project:

    <name>.h / <name>.c            st-ai client API (stai_<name>_init, _run, ...), with
                                   c_api="legacy"/"both" also ai_<name>_create_and_init, _run, ...
    <name>_data.h / <name>_data.c  weights blob (.nn_weights) and requantization tables
    stai.h, stai_runtime.c         the st-ai types and runtime entry points
    ai_platform.h                  the legacy API's types (c_api "legacy" or "both")
    kernels/                       the mcu_* kernel sources this model uses, and their headers
    main.c                         the firmware application: the network through its client
                                   API (st-ai, or legacy with c_api="legacy") behind the
                                   UART runtime's mcugen_model.h, board start-up
    host_main.c                    a stdin/stdout harness for bit-exact checks on the host
    firmware/, Makefile            the board support bundle and its build (mcugen.firmware)
    mcugen.json                    the manifest: board, style, model, plan, files and hashes

Nothing is written when an operator is unsupported (all are listed) or when the
directory holds files mcugen did not write (unless forced).
"""

from __future__ import annotations

import dataclasses
import hashlib
from string import Template
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import jinja2
import numpy as np

from mcugen import __version__
from mcugen.boards import Board, get_board
from mcugen.codegen.lowering import (
    KERNEL_HEADERS,
    ConstArray,
    CRef,
    KernelCall,
    LoweredGraph,
    LoweringError,
    StructParam,
    c_float,
    lower_op,
)
from mcugen.names import check_network_name
from mcugen.outdir import write_project
from mcugen.codegen.pools import plan_activations
from mcugen.errors import McugenError, UnsupportedOpsError
from mcugen.model.graph import DTYPE_SIZES, Graph, Operator, Tensor, c_identifier
from mcugen.ops import UnsupportedOp, total_macs
from mcugen.patch import recomputed_macs
from mcugen.planner import MemoryPlan
from mcugen.resources import firmware_dir, template_environment

STYLE = "cubeai"
KERNELS_SUBDIR = "kernels"
WEIGHTS_ALIGNMENT = 16

STAI_FORMATS = {
    "float32": "STAI_FORMAT_FLOAT32",
    "uint8": "STAI_FORMAT_U8",
    "int8": "STAI_FORMAT_S8",
    "int16": "STAI_FORMAT_S16",
    "int32": "STAI_FORMAT_S32",
    "uint16": "STAI_FORMAT_U16",
    "uint32": "STAI_FORMAT_U32",
    "bool": "STAI_FORMAT_BOOL",
}
C_APIS = ("st-ai", "legacy", "both")
AI_FORMATS = {
    "float32": "AI_BUFFER_FORMAT_FLOAT", "uint8": "AI_BUFFER_FORMAT_U8", "int8": "AI_BUFFER_FORMAT_S8",
    "int16": "AI_BUFFER_FORMAT_S16", "int32": "AI_BUFFER_FORMAT_S32", "uint16": "AI_BUFFER_FORMAT_U16",
    "uint32": "AI_BUFFER_FORMAT_U32", "bool": "AI_BUFFER_FORMAT_BOOL",
}
# Zero-point array type and flag of the legacy API's quantization meta info.
AI_ZERO_POINTS = {"uint8": ("ai_u8", "AI_BUFFER_META_FLAG_ZEROPOINT_U8"),
                  "int8": ("ai_i8", "AI_BUFFER_META_FLAG_ZEROPOINT_S8")}
AI_ZERO_POINT_WIDE = ("ai_i16", "AI_BUFFER_META_FLAG_ZEROPOINT_S16")
MCUGEN_DTYPES = {
    "float32": "MCUGEN_DTYPE_FLOAT32", "int32": "MCUGEN_DTYPE_INT32", "uint8": "MCUGEN_DTYPE_UINT8",
    "int16": "MCUGEN_DTYPE_INT16", "int8": "MCUGEN_DTYPE_INT8", "bool": "MCUGEN_DTYPE_BOOL",
    "uint16": "MCUGEN_DTYPE_UINT16", "uint32": "MCUGEN_DTYPE_UINT32",
}
NP_TO_C = {
    np.dtype(np.int8): "int8_t", np.dtype(np.uint8): "uint8_t", np.dtype(np.int16): "int16_t",
    np.dtype(np.int32): "int32_t", np.dtype(np.float32): "float", np.dtype(np.bool_): "uint8_t",
    np.dtype(np.int64): "int64_t", np.dtype(np.uint16): "uint16_t", np.dtype(np.uint32): "uint32_t",
}


# ---------------------------------------------------------------------------------
# support


def unsupported_ops(graph: Graph) -> list[UnsupportedOp]:
    """Every operator the cubeai style cannot run, with its index and the reason."""
    found = []
    for op in graph.operators:
        try:
            lower_op(graph, op)
        except LoweringError as exc:
            opcode = f"CUSTOM:{op.custom_code}" if op.opcode == "CUSTOM" else op.opcode
            found.append(UnsupportedOp(op.index, opcode, str(exc)))
    return found


def require_supported(graph: Graph) -> None:
    bad = unsupported_ops(graph)
    if not bad:
        return
    listed = "; ".join(f"{u.opcode} (op index {u.index}): {u.reason}" for u in bad)
    hint = "Use --style tflm, which runs these operators through TensorFlow Lite Micro."
    try:
        from mcugen.ops import unsupported_ops as registry_unsupported

        if registry_unsupported(graph, "tflm"):
            hint = "Replace these operators in the model (the tflm style does not run all of them either)."
    except Exception:  # the registry is advisory here
        pass
    raise UnsupportedOpsError(
        f"Model '{graph.name}' uses {len(bad)} operator(s) unsupported in cubeai: {listed}.", hint=hint
    )


KernelSelector = Callable[[Graph, Operator], "KernelCall | None"]


def lower(graph: Graph, select_kernel: KernelSelector | None = None, *, check: bool = True) -> LoweredGraph:
    """Every operator's KernelCall: `select_kernel(graph, op)` first when given (a faster
    variant, e.g. Cortex-M7 SIMD kernels; None keeps the portable kernel). `check=False`
    when the caller has already refused unsupported operators."""
    if check:
        require_supported(graph)
    calls = []
    for op in graph.operators:
        call = select_kernel(graph, op) if select_kernel is not None else None
        calls.append(call if call is not None else lower_op(graph, op))
    return LoweredGraph(tuple(calls))


# ---------------------------------------------------------------------------------
# C text helpers


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _c_number(value: Any, ctype: str) -> str:
    if ctype == "float":
        return c_float(float(value))
    v = int(value)
    if ctype == "int32_t" and v == -(2**31):
        return "(-2147483647 - 1)"
    if ctype == "int64_t":
        return f"{v}LL"
    if ctype in ("uint32_t",):
        return f"{v}u"
    return str(v)


C99_MAX_STRING = 4095  # the longest string literal every C99 compiler must take (5.2.4.1)


def c_array_init(values: np.ndarray, ctype: str, per_line: int = 24) -> str:
    """A C initializer for a flat array: a string literal for 8-bit data (up to the C99
    limit), numbers otherwise."""
    flat = np.ascontiguousarray(values).reshape(-1)
    if flat.size == 0:
        return "{ 0 }"
    if ctype in ("int8_t", "uint8_t") and flat.size <= C99_MAX_STRING:
        raw = flat.astype(np.uint8 if ctype == "uint8_t" else np.int8).tobytes()
        chunk = 48
        lines = []
        for i in range(0, len(raw), chunk):
            lines.append('"' + "".join(f"\\x{b:02x}" for b in raw[i : i + chunk]) + '"')
        return "\n        ".join(lines)
    if ctype == "float":
        items = [c_float(float(v)) for v in flat]
    elif ctype == "int32_t":
        items = [("(-2147483647 - 1)" if v == -(2**31) else str(v)) for v in flat.astype(np.int64).tolist()]
    elif ctype == "int64_t":
        items = [f"{v}LL" for v in flat.astype(np.int64).tolist()]
    else:
        items = [str(v) for v in flat.astype(np.int64).tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "{\n        " + ",\n        ".join(lines) + ",\n    }"


def safe_text(text: str, limit: int = 80) -> str:
    """Text that is safe both inside a C comment and a C string literal (names from the model)."""
    out = []
    for ch in str(text)[:limit]:
        if ch in '\\"':
            out.append("'" if ch == '"' else "/")
        elif not (32 <= ord(ch) < 127) or ch == "?":  # no trigraphs either
            out.append("_")
        else:
            out.append(ch)
    return "".join(out).replace("*/", "*_/").replace("/*", "/_*")


def _c_field(value: Any, resolve: Mapping[str, str]) -> str:
    if isinstance(value, CRef):
        return resolve[value.name]
    if isinstance(value, (list, tuple)):
        return "{ " + ", ".join(_c_field(v, resolve) for v in value) + " }"
    if isinstance(value, float):
        return c_float(value)
    v = int(value)
    return "(-2147483647 - 1)" if v == -(2**31) else str(v)


def render_struct(s: StructParam, symbol: str, resolve: Mapping[str, str]) -> str:
    fields = ", ".join(f".{k} = {_c_field(v, resolve)}" for k, v in s.fields.items())
    return f"static const {s.ctype} {symbol} = {{ {fields} }};"


def _stamp(rel: str, text: str, graph: Graph, how: str) -> str:
    """Prefixes a first line naming mcugen, its version and the model's sha256."""
    line = f"{how} by mcugen {__version__} for model '{safe_text(graph.name)}' (sha256 {graph.model_hash})"
    if rel.endswith((".c", ".h", ".ld", ".cc", ".cpp")):
        return f"/* {rel}: {line} */\n{text}"
    if rel == "Makefile" or rel.endswith((".mk", ".txt")):
        return f"# {line}\n{text}"
    return text


def _header(kind: str, name: str, graph: Graph) -> Any:
    def render(filename: str) -> str:
        body = (
            f"{filename} - generated by mcugen {__version__} (cubeai style) from model '{safe_text(graph.name)}'\n"
            f"model sha256: {graph.model_hash}\n"
            "Do not edit: regenerate with `mcugen generate`."
        )
        if kind == "c":
            return "/*\n" + "\n".join(f" * {line}" for line in body.splitlines()) + "\n */"
        return "\n".join(f"# {line}" for line in body.splitlines())

    return render


# ---------------------------------------------------------------------------------
# the project


@dataclass(frozen=True)
class IOTensor:
    k: int  # 1-based, as in the STAI macros
    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    bytes: int
    offset: int
    scale: float | None
    zero_point: int | None
    pool: int = 0  # activation pool holding it (when in_activations)
    in_activations: bool = True  # False: the application's buffer (offset is then -1)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "dtype": self.dtype, "shape": list(self.shape),
            "bytes": self.bytes, "offset": self.offset, "scale": self.scale, "zero_point": self.zero_point,
            "pool": self.pool, "in_activations": self.in_activations,
        }


@dataclass(frozen=True)
class GeneratedProject:
    out_dir: Path
    name: str  # C name of the network
    board: str
    files: tuple[str, ...]  # relative paths written (the manifest excepted)
    arena_size: int
    weights_bytes: int  # the weights blob (section .nn_weights), signature word included
    params_bytes: int  # requantization tables (.rodata)
    macs: int
    kernels: tuple[str, ...]  # kernel source files copied
    inputs: tuple[IOTensor, ...]
    outputs: tuple[IOTensor, ...]
    plan: MemoryPlan
    host_sources: tuple[str, ...]  # what build_host compiles
    include_dirs: tuple[str, ...]
    c_api: str = "st-ai"
    pools: tuple[dict[str, Any], ...] = ()  # per activation pool: region, section, size
    notes: tuple[str, ...] = ()  # what writing the directory kept, replaced or ignored (mcugen.outdir)

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / "mcugen.json"


def _io(graph: Graph, k: int, t: Tensor, plan: MemoryPlan, in_activations: bool) -> IOTensor:
    q = t.quant if (t.quant is not None and t.dtype != "float32") else None
    if in_activations and t.index not in plan.offsets:
        raise McugenError(f"The memory plan has no place for '{t.name}', which should live in the activations.",
                          hint="Plan with mcugen.codegen.pools.plan_activations and the same I/O choices.")
    return IOTensor(
        k=k, index=t.index, name=t.name, dtype=t.dtype, shape=tuple(int(d) for d in t.shape), bytes=t.nbytes,
        offset=int(plan.offsets[t.index]) if in_activations else -1, scale=float(q.scale[0]) if q else None,
        zero_point=int(q.zero_point[0]) if q else None,
        pool=_pool_of(plan, t.index) if in_activations else 0, in_activations=in_activations,
    )


def _pool_of(plan: MemoryPlan, tensor: int) -> int:
    return plan.pool_of(tensor) if plan.pools else 0


def _io_context(io: IOTensor, tag: str) -> dict[str, Any]:
    shape = list(io.shape) or [1]
    rank = len(shape)
    if rank == 4:
        h, w, c = shape[1], shape[2], shape[3]
    elif rank == 3:
        h, w, c = shape[1], 1, shape[2]
    elif rank == 2:
        h, w, c = 1, 1, shape[1]
    else:
        h, w, c = 1, 1, shape[-1]
    elem = DTYPE_SIZES[io.dtype]
    owner = "STAI_FLAG_INPUTS" if tag.startswith("in") else "STAI_FLAG_OUTPUTS"
    zp_ctype, zp_flag = AI_ZERO_POINTS.get(io.dtype, AI_ZERO_POINT_WIDE)
    return {
        "flags": ([owner] if io.in_activations else []) + ["STAI_FLAG_CHANNEL_LAST", "STAI_FLAG_HAS_BATCH"],
        "batch": shape[0] if rank >= 2 else 1, "ai_format": AI_FORMATS.get(io.dtype, "AI_BUFFER_FORMAT_NONE"),
        "zp_ctype": zp_ctype, "zp_flag": zp_flag, "pool": io.pool, "pool_k": io.pool + 1,
        "in_activations": io.in_activations,
        "k": io.k, "tag": tag, "name": safe_text(io.name), "dtype": io.dtype,
        "shape": shape, "rank": rank, "size": int(np.prod(shape)), "bytes": io.bytes, "offset": io.offset,
        "format": STAI_FORMATS.get(io.dtype, "STAI_FORMAT_NONE"), "mcugen_dtype": MCUGEN_DTYPES.get(io.dtype, "0"),
        "height": h, "width": w, "channel": c, "alignment": min(elem, 4) if elem else 1,
        "quantized": io.scale is not None, "scale": io.scale,
        "scale_c": c_float(io.scale) if io.scale is not None else "0.0f", "zero_point": io.zero_point,
    }


def _jinja() -> jinja2.Environment:
    return template_environment()


def check_name(name: str) -> str:
    return check_network_name(name)


def render_project(
    graph: Graph,
    board: Board,
    *,
    name: str = "network",
    own_activations: bool = True,
    plan: MemoryPlan | None = None,
    firmware_options: Any = None,
    select_kernel: KernelSelector | None = None,
    c_api: str = "st-ai",
    inputs_in_activations: bool = True,
    outputs_in_activations: bool = True,
) -> tuple[dict[str, str], dict[str, Any], GeneratedProject]:
    """All project files in memory: (relative path -> content, manifest, summary).

    c_api: "st-ai" (default), "legacy" or "both": which client API the headers offer
    (st-ai is always there underneath) and main.c uses (legacy for "legacy").
    inputs/outputs_in_activations: False gives them no place in the activations; the
    application sets their buffers (main.c and host_main.c have their own).
    plan: the activation plan (mcugen.codegen.pools.plan_activations, one pool or several).

    Raises UnsupportedOpsError (listing every operator) before anything else."""
    name = check_name(name)
    c_api = check_c_api(c_api)
    lowered = lower(graph, select_kernel)
    plan = plan or plan_activations(graph, lowered.scratch_bytes, inputs=inputs_in_activations,
                                    outputs=outputs_in_activations)
    NAME = name.upper()
    pool_list = _pools(plan, board)
    in_graph = {t: k for k, t in enumerate(graph.inputs)}
    out_graph = {t: k for k, t in enumerate(graph.outputs)}

    def tensor_ptr(t: int) -> str:
        if t in in_graph:
            return f"c->inputs[{in_graph[t]}]"
        if t in out_graph:
            return f"c->outputs[{out_graph[t]}]"
        return f"(act{_pool_of(plan, t)} + {plan.offsets[t]}u)"

    # Weights blob members and params arrays, in op order.
    weights: list[dict[str, Any]] = []
    params: list[dict[str, Any]] = []
    graph_constants: dict[int, str] = {}  # tensor index -> weights member for constant data inputs

    def add_weights(member: str, c: ConstArray) -> None:
        ctype = c.ctype
        weights.append({"name": member, "ctype": ctype, "count": int(c.values.size),
                        "init": c_array_init(c.values, ctype), "comment": safe_text(c.comment or member, 120),
                        "nbytes": c.nbytes})

    structs: list[str] = []
    nodes: list[dict[str, Any]] = []
    for call in lowered.calls:
        i = call.op_index
        op = graph.operators[i]
        resolve: dict[str, str] = {}
        for c in call.constants:
            if c.weights:
                member = f"op{i}_{c.name}"
                add_weights(member, c)
                resolve[f"c_{c.name}"] = f"w->{member}"
            else:
                symbol = f"{name}_op{i}_{c.name}"
                params.append({"symbol": symbol, "ctype": c.ctype, "count": int(c.values.size),
                               "init": c_array_init(c.values, c.ctype), "comment": safe_text(c.comment or symbol, 120),
                               "nbytes": c.nbytes})
                resolve[f"c_{c.name}"] = symbol
        cref = {c.name: resolve[f"c_{c.name}"] for c in call.constants if not c.weights}
        for s in call.structs:
            symbol = f"{name}_op{i}_{s.name}"
            structs.append(render_struct(s, symbol, cref))
            resolve[f"s_{s.name}"] = symbol
        resolve["prefix"] = f"{name}_op{i}"
        if call.declarations:
            structs.append(Template(call.declarations).substitute(resolve))
        for k, t in enumerate(call.inputs):
            if t < 0:
                resolve[f"in{k}"] = "NULL"
                continue
            tensor = graph.tensors[t]
            if tensor.is_constant:
                if t not in graph_constants:
                    member = f"t{t}_{c_identifier(tensor.name, 't')[:40]}"
                    ctype = NP_TO_C.get(np.asarray(tensor.data).dtype, "uint8_t")
                    add_weights(member, ConstArray(member, ctype, np.asarray(tensor.data).reshape(-1), True,
                                                   f"constant '{tensor.name}' {list(tensor.shape)}"))
                    graph_constants[t] = member
                resolve[f"in{k}"] = f"w->{graph_constants[t]}"
            else:
                resolve[f"in{k}"] = tensor_ptr(t)
        for k, t in enumerate(call.outputs):
            resolve[f"out{k}"] = tensor_ptr(t)
        if call.scratch_bytes:
            if i not in plan.scratch or plan.scratch[i][1] < call.scratch_bytes:
                raise McugenError(f"The memory plan gives op {i} ({op.opcode}) no scratch buffer of "
                                  f"{call.scratch_bytes} B.", hint="Plan with the kernels' scratch needs "
                                  "(mcugen.codegen.pools.plan_activations(graph, scratch_bytes)).")
            off, size = plan.scratch[i]
            pool = next((b.pool for b in plan.buffers if b.scratch_of == i), 0) if plan.pools else 0
            resolve["scratch"] = f"(act{pool} + {off}u)"
            resolve["scratch_size"] = str(size)
        tensors_doc = []
        for role, ts in (("in", op.inputs), ("out", op.outputs)):
            for t in ts:
                if t < 0:
                    continue
                tt = graph.tensors[t]
                where = "constant" if tt.is_constant else _where(plan, t, in_graph, out_graph)
                tensors_doc.append(f"{role:3s} t{t} '{safe_text(tt.name, 60)}' {tt.dtype} {list(tt.shape)} {where}")
        node = {"index": i, "opcode": op.opcode, "summary": safe_text(call.summary, 160), "tensors": tensors_doc}
        if call.alias_bytes:
            src, dst = resolve["in0"], resolve["out0"]
            node.update(kind="copy" if src != dst else "alias", src=src, dst=dst, bytes=call.alias_bytes)
        else:
            setup, expr = call.render(resolve)
            node.update(kind="call", setup=[line for line in setup.splitlines() if line.strip()], call=expr)
        nodes.append(node)

    states = []
    for t in graph.tensors:
        if t.is_variable and not t.is_constant and t.index in plan.offsets:
            fill = 0
            if t.dtype == "int8" and t.quant is not None:
                fill = int(t.quant.zero_point[0]) & 0xFF
            states.append({"offset": plan.offsets[t.index], "bytes": t.nbytes, "fill": fill, "name": safe_text(t.name),
                           "pool": _pool_of(plan, t.index)})

    # Explicit padding members put every weights member at a multiple of WEIGHTS_ALIGNMENT:
    # ISO C has no member alignment attribute (the blob itself is aligned with MCU_ALIGNED).
    weights_size = 4
    for m in weights:
        m["pad"] = _align(weights_size, WEIGHTS_ALIGNMENT) - weights_size
        weights_size += m["pad"] + m["nbytes"]
    weights_tail = _align(weights_size, WEIGHTS_ALIGNMENT) - weights_size
    weights_size += weights_tail
    params_bytes = sum(p["nbytes"] for p in params)

    inputs = tuple(_io(graph, k + 1, graph.tensors[t], plan, inputs_in_activations)
                   for k, t in enumerate(graph.inputs))
    outputs = tuple(_io(graph, k + 1, graph.tensors[t], plan, outputs_in_activations)
                    for k, t in enumerate(graph.outputs))
    # The model's MACC, as X-CUBE-AI reports it: without what patch stages recompute.
    macs = total_macs(graph) - recomputed_macs(graph)
    n_ptrs = len(pool_list) + 1 + len(inputs) + len(outputs)  # activations, weights, inputs, outputs
    context_size = _align(16 + 8 * n_ptrs, 8)
    digest = graph.model_hash
    flags = ["STAI_FLAG_CHANNEL_LAST", "STAI_FLAG_HAS_BATCH"]
    if own_activations:
        flags.append("STAI_FLAG_ACTIVATIONS")
    if inputs_in_activations:
        flags.append("STAI_FLAG_INPUTS")
    if outputs_in_activations:
        flags.append("STAI_FLAG_OUTPUTS")
    flags.append("STAI_FLAG_WEIGHTS")
    legacy = c_api in ("legacy", "both")
    version_parts = ([int(p) if p.isdigit() else 0 for p in __version__.split(".")] + [0, 0, 0])[:3]
    context = {
        "header": _header("c", name, graph),
        "name": name, "NAME": NAME, "version": __version__, "version_parts": version_parts,
        "model_name": safe_text(graph.name), "model_hash": digest,
        "hash_bytes": ", ".join(f"0x{b:02x}" for b in bytes.fromhex(digest)),
        "inputs": [_io_context(io, f"in_{io.k}") for io in inputs],
        "outputs": [_io_context(io, f"out_{io.k}") for io in outputs],
        "arena_size": plan.arena_size, "arena_alignment": plan.alignment, "own_activations": own_activations,
        "weights": weights, "weights_tail": weights_tail, "params": params, "weights_size": weights_size,
        "params_bytes": params_bytes,
        "weights_signature": digest[:8], "context_magic": hashlib.sha256(f"ctx:{name}:{digest}".encode()).hexdigest()[:8],
        "structs": structs, "nodes": nodes, "states": states, "macc": macs, "n_nodes": len(graph.operators),
        "flags": flags, "context_size": context_size, "pools": pool_list, "legacy": legacy, "c_api": c_api,
        "main_api": "legacy" if c_api == "legacy" else "stai",
        "inputs_in_activations": inputs_in_activations, "outputs_in_activations": outputs_in_activations,
    }
    env = _jinja()
    files: dict[str, str] = {}

    def render(template: str, out: str) -> None:
        files[out] = env.get_template(f"cubeai/{template}").render(**context)

    render("stai.h.j2", "stai.h")
    render("stai_runtime.c.j2", "stai_runtime.c")
    if legacy:
        render("ai_platform.h.j2", "ai_platform.h")
    render("network.h.j2", f"{name}.h")
    render("network.c.j2", f"{name}.c")
    render("network_data.h.j2", f"{name}_data.h")
    render("network_data.c.j2", f"{name}_data.c")
    render("main.c.j2", "main.c")
    render("host_main.c.j2", "host_main.c")

    if any(rel.startswith("arm/") for rel in lowered.sources):
        # The Cortex-M7 variants' parameter structs live in their own header.
        from mcugen.codegen.arm.select import ARM_CONFIG_HEADER, arm_config_header, patch_network_source  # noqa: PLC0415

        files[f"{name}.c"] = patch_network_source(files[f"{name}.c"])
        # Only the matrix-kernel variants the layers use are compiled in.
        files[f"{KERNELS_SUBDIR}/{ARM_CONFIG_HEADER}"] = _stamp(
            ARM_CONFIG_HEADER, arm_config_header(lowered.calls), graph, "generated")

    kernel_root = firmware_dir() / "kernels"
    kernel_files = []
    for rel in (*KERNEL_HEADERS, *lowered.sources):
        text = (kernel_root / rel).read_text(encoding="utf-8")
        files[f"{KERNELS_SUBDIR}/{rel}"] = _stamp(rel, text, graph, f"firmware/kernels/{rel} copied")
        if rel.endswith(".c"):
            kernel_files.append(rel)

    network_sources = [f"{name}.c", f"{name}_data.c", "stai_runtime.c",
                       *[f"{KERNELS_SUBDIR}/{k}" for k in kernel_files]]
    app_sources = [*network_sources, "main.c"]
    include_dirs = [".", KERNELS_SUBDIR]
    for rel in lowered.sources:  # kernel variants in sub-folders (kernels/arm/...)
        sub = str(Path(KERNELS_SUBDIR, rel).parent.as_posix())
        if sub not in include_dirs:
            include_dirs.append(sub)

    # The board's firmware bundle and the project Makefile (mcugen.firmware).
    from mcugen import firmware as fw

    options = firmware_options or fw.FirmwareOptions()
    pool_regions = tuple(p["region"] for p in pool_list) if plan.pools else ()
    if tuple(getattr(options, "pools", ())) != pool_regions:  # one linker section per pool, in its region
        options = dataclasses.replace(options, pools=pool_regions)
    bundle = fw.firmware_bundle(board, options)
    for rel, content in bundle.files.items():
        text = content if isinstance(content, str) else content.decode("utf-8")
        files[rel] = _stamp(rel, text, graph, "copied from mcugen's firmware tree")
    files["Makefile"] = _stamp("Makefile", fw.render_makefile(
        bundle, app_sources=app_sources, app_include_dirs=include_dirs, libs=["-lm"], werror=True), graph,
        "generated")
    runtime_include = next((d for d in bundle.include_dirs if d.endswith("runtime")), "firmware/runtime")
    host_sources = ("host_main.c", *network_sources)

    manifest = {
        "generator": "mcugen",
        "version": __version__,
        "board": board.name,
        "style": STYLE,
        "model": {"name": graph.name, "hash": digest},
        "firmware": options.to_dict(),
        "name": name,
        "c_api": c_api,
        "inputs_in_activations": inputs_in_activations,
        "outputs_in_activations": outputs_in_activations,
        "pools": [{k: p[k] for k in ("region", "section", "size", "alignment")} for p in pool_list],
        "arena_size": plan.arena_size,
        "arena_alignment": plan.alignment,
        "plan_strategy": plan.strategy,
        "weights_bytes": weights_size,
        "params_bytes": params_bytes,
        "macs": macs,
        "kernels": kernel_files,
        "sources": app_sources,
        "host_sources": list(host_sources),
        "include_dirs": [*include_dirs, runtime_include],
        "inputs": [io.to_json() for io in inputs],
        "outputs": [io.to_json() for io in outputs],
    }
    summary = GeneratedProject(
        out_dir=Path("."), name=name, board=board.name, files=tuple(sorted(files)), arena_size=plan.arena_size,
        weights_bytes=weights_size, params_bytes=params_bytes, macs=macs, kernels=tuple(kernel_files),
        inputs=inputs, outputs=outputs, plan=plan, host_sources=host_sources,
        include_dirs=(*include_dirs, runtime_include), c_api=c_api,
        pools=tuple({k: p[k] for k in ("region", "section", "size", "alignment")} for p in pool_list),
    )
    return files, manifest, summary


def check_c_api(c_api: str) -> str:
    if c_api not in C_APIS:
        raise McugenError(f"Unknown client API '{c_api}'.", hint="Use --c-api st-ai, legacy or both.")
    return c_api


def _pools(plan: MemoryPlan, board: Board) -> list[dict[str, Any]]:
    """Per activation pool: its index (0-based), k (1-based), size, alignment, region and
    linker section (.nn_arena for a single-buffer plan, .nn_arena.<region> per pool)."""
    if not plan.pools:
        region = board.placement.arena if board.placement is not None else "ram"
        return [{"index": 0, "k": 1, "size": plan.arena_size, "alignment": plan.alignment, "region": region,
                 "section": ".nn_arena", "label": "activations"}]
    return [{"index": i, "k": i + 1, "size": p.size, "alignment": plan.alignment, "region": p.region,
             "section": f".nn_arena.{p.region}", "label": f"activations {p.region}"}
            for i, p in enumerate(plan.pools)]


def _where(plan: MemoryPlan, t: int, in_graph: Mapping[int, int], out_graph: Mapping[int, int]) -> str:
    if t in plan.offsets:
        return f"@{plan.offsets[t]}" + (f" in pool {_pool_of(plan, t) + 1}" if plan.pools else "")
    if t in in_graph:
        return f"application buffer (input {in_graph[t] + 1})"
    if t in out_graph:
        return f"application buffer (output {out_graph[t] + 1})"
    return "@?"


def generate_cubeai(
    graph: Graph,
    board: Board | str,
    out_dir: str | Path,
    *,
    name: str = "network",
    force: bool = False,
    own_activations: bool = True,
    plan: MemoryPlan | None = None,
    firmware_options: Any = None,
    select_kernel: KernelSelector | None = None,
    c_api: str = "st-ai",
    inputs_in_activations: bool = True,
    outputs_in_activations: bool = True,
    extra_files: Mapping[str, str | bytes] | None = None,
    extra_manifest: Mapping[str, Any] | None = None,
) -> GeneratedProject:
    """Generate the cubeai project for `graph` into `out_dir` (see the module doc).

    UnsupportedOpsError lists every operator cubeai cannot run; OutputDirError
    names the files mcugen did not write. Both are raised before any file is written.
    select_kernel(graph, op) -> KernelCall | None picks a faster kernel variant per op.
    See render_project for c_api, inputs/outputs_in_activations and plan (pools).
    """
    if isinstance(board, str):
        board = get_board(board)
    files, manifest, summary = render_project(
        graph, board, name=name, own_activations=own_activations, plan=plan, firmware_options=firmware_options,
        select_kernel=select_kernel, c_api=c_api, inputs_in_activations=inputs_in_activations,
        outputs_in_activations=outputs_in_activations,
    )
    files = {**files, **(extra_files or {})}
    manifest = {**manifest, **(extra_manifest or {})}
    out = Path(out_dir)
    written = write_project(out, files, manifest, force=force)
    return dataclasses.replace(summary, out_dir=out, files=tuple(sorted(files)), notes=tuple(written.notes()))


def data_sizes(graph: Graph, select_kernel: KernelSelector | None = None,
               lowered: LoweredGraph | None = None) -> tuple[int, int]:
    """(weights blob bytes, params bytes) the cubeai style emits for `graph`, without writing
    (`lowered`: the graph already lowered with `select_kernel`)."""
    lowered = lowered or lower(graph, select_kernel)
    size = _align(4, WEIGHTS_ALIGNMENT)
    seen: set[int] = set()
    params = 0
    for call in lowered.calls:
        for c in call.constants:
            if c.weights:
                size = _align(size, WEIGHTS_ALIGNMENT) + c.nbytes
            else:
                params += c.nbytes
        for t in call.inputs:
            if t >= 0 and graph.tensors[t].is_constant and t not in seen:
                seen.add(t)
                size = _align(size, WEIGHTS_ALIGNMENT) + graph.tensors[t].nbytes
    return _align(size, WEIGHTS_ALIGNMENT), params


__all__ = [
    "C_APIS", "GeneratedProject", "IOTensor", "data_sizes", "generate_cubeai", "lower", "render_project",
    "require_supported", "unsupported_ops",
]
