"""Sizes and alignments of the TFLM structures that land in the tensor arena.

The arena estimate (arena.py) replays TFLM's allocations; it needs sizeof and
alignof of TfLiteTensor, TfLiteEvalTensor, the allocator objects, every
builtin parameter struct and the kernels' op data, as the target compiler lays
them out (32-bit Cortex-M7 differs from the 64-bit host). They were measured
by compiling probe/layout_probe.cc with each target's compiler and flags and
reading the records back from the object file, and are committed below so that
estimating needs no compiler. `PARSE_PARAMS` (which builtin parameter struct
each flatbuffer parser allocates) was parsed from
tensorflow/lite/core/api/flatbuffer_conversions.cc.

tests/tflm/test_tflm_layout.py re-measures both and fails when these tables
are stale; regenerate with `python -m mcugen.tflm.layout [TFLM_ROOT]`.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from mcugen import process
from mcugen.tflm.ops import REGISTRATIONS

PROBE_SOURCE = Path(__file__).resolve().parent / "probe" / "layout_probe.cc"
FLATBUFFER_CONVERSIONS = Path("tensorflow/lite/core/api/flatbuffer_conversions.cc")
LAYOUT_TARGETS = ("cortex-m7", "host")

# --- generated tables (python -m mcugen.tflm.layout) ---------------------------------------------

PARSE_PARAMS: dict[str, str] = {
    "ParseAdd": "TfLiteAddParams",
    "ParseArgMax": "TfLiteArgMaxParams",
    "ParseArgMin": "TfLiteArgMinParams",
    "ParseBatchMatMul": "TfLiteBatchMatMulParams",
    "ParseCallOnce": "TfLiteCallOnceParams",
    "ParseCast": "TfLiteCastParams",
    "ParseConcatenation": "TfLiteConcatenationParams",
    "ParseConv2D": "TfLiteConvParams",
    "ParseCumsum": "TfLiteCumsumParams",
    "ParseDepthToSpace": "TfLiteDepthToSpaceParams",
    "ParseDepthwiseConv2D": "TfLiteDepthwiseConvParams",
    "ParseDiv": "TfLiteDivParams",
    "ParseFullyConnected": "TfLiteFullyConnectedParams",
    "ParseGather": "TfLiteGatherParams",
    "ParseIf": "TfLiteIfParams",
    "ParseL2Normalization": "TfLiteL2NormParams",
    "ParseLeakyRelu": "TfLiteLeakyReluParams",
    "ParseMirrorPad": "TfLiteMirrorPaddingParams",
    "ParseMul": "TfLiteMulParams",
    "ParsePack": "TfLitePackParams",
    "ParsePool": "TfLitePoolParams",
    "ParseReducer": "TfLiteReducerParams",
    "ParseReshape": "TfLiteReshapeParams",
    "ParseResizeBilinear": "TfLiteResizeBilinearParams",
    "ParseResizeNearestNeighbor": "TfLiteResizeNearestNeighborParams",
    "ParseShape": "TfLiteShapeParams",
    "ParseSoftmax": "TfLiteSoftmaxParams",
    "ParseSpaceToDepth": "TfLiteSpaceToDepthParams",
    "ParseSplit": "TfLiteSplitParams",
    "ParseSplitV": "TfLiteSplitVParams",
    "ParseSqueeze": "TfLiteSqueezeParams",
    "ParseStridedSlice": "TfLiteStridedSliceParams",
    "ParseSub": "TfLiteSubParams",
    "ParseSvdf": "TfLiteSVDFParams",
    "ParseTransposeConv": "TfLiteTransposeConvParams",
    "ParseUnidirectionalSequenceLSTM": "TfLiteUnidirectionalSequenceLSTMParams",
    "ParseUnpack": "TfLiteUnpackParams",
    "ParseVarHandle": "TfLiteVarHandleParams",
    "ParseWhile": "TfLiteWhileParams",
}

STRUCTS: dict[str, dict[str, tuple[int, int]]] = {
    "cortex-m7": {
        "SingleArenaBufferAllocator": (36, 4),
        "RecordingSingleArenaBufferAllocator": (52, 4),
        "GreedyMemoryPlanner": (44, 4),
        "LinearMemoryPlanner": (4108, 4),
        "MicroAllocator": (36, 4),
        "RecordingMicroAllocator": (124, 4),
        "MicroBuiltinDataAllocator": (8, 4),
        "SubgraphAllocations": (8, 4),
        "TfLiteEvalTensor": (12, 4),
        "TfLiteTensor": (32, 4),
        "TfLiteNode": (28, 4),
        "NodeAndRegistration": (32, 4),
        "TfLiteAffineQuantization": (12, 4),
        "TfLiteIntArray": (4, 4),
        "ScratchBufferHandle": (4, 4),
        "ScratchBufferRequest": (12, 4),
        "AllocationInfo": (24, 4),
        "pointer": (4, 4),
        "size_t": (4, 4),
        "OpDataConv": (56, 4),
        "OpDataFullyConnected": (48, 4),
        "OpDataPooling": (32, 4),
        "OpDataAdd": (60, 4),
        "OpDataSub": (52, 4),
        "OpDataMul": (36, 4),
        "SoftmaxParams": (56, 8),
        "OpDataQuantizeReference": (32, 8),
        "DequantizeOpData": (32, 8),
        "OpDataSvdf": (36, 4),
        "ReluOpData": (28, 4),
        "Relu6OpData": (8, 4),
        "OpDataLogistic": (16, 4),
        "HardSwishParams": (20, 4),
        "LeakyReluOpData": (24, 4),
        "OpDataReduce": (44, 4),
        "StridedSliceParams": (84, 4),
        "PadOpData": (56, 4),
        "CmsisConvOpData": (60, 4),
        "CmsisFullyConnectedOpData": (72, 4),
        "CmsisPoolingOpData": (36, 4),
        "CmsisAddOpData": (60, 4),
        "CMSISNNSoftmaxParams": (64, 8),
        "CmsisNnOpDataSvdf": (40, 4),
        "ConcatenationOpData": (24, 4),
        "TanhOpData": (16, 4),
        "TfLiteAddParams": (2, 1),
        "TfLiteArgMaxParams": (1, 1),
        "TfLiteArgMinParams": (1, 1),
        "TfLiteBatchMatMulParams": (3, 1),
        "TfLiteCallOnceParams": (4, 4),
        "TfLiteCastParams": (2, 1),
        "TfLiteConcatenationParams": (8, 4),
        "TfLiteConvParams": (28, 4),
        "TfLiteCumsumParams": (2, 1),
        "TfLiteDepthToSpaceParams": (4, 4),
        "TfLiteDepthwiseConvParams": (28, 4),
        "TfLiteDivParams": (1, 1),
        "TfLiteFullyConnectedParams": (5, 1),
        "TfLiteGatherParams": (8, 4),
        "TfLiteIfParams": (8, 4),
        "TfLiteL2NormParams": (1, 1),
        "TfLiteLeakyReluParams": (4, 4),
        "TfLiteMirrorPaddingParams": (1, 1),
        "TfLiteMulParams": (1, 1),
        "TfLitePackParams": (8, 4),
        "TfLitePoolParams": (40, 4),
        "TfLiteReducerParams": (1, 1),
        "TfLiteReshapeParams": (36, 4),
        "TfLiteResizeBilinearParams": (2, 1),
        "TfLiteResizeNearestNeighborParams": (2, 1),
        "TfLiteSVDFParams": (8, 4),
        "TfLiteShapeParams": (1, 1),
        "TfLiteSoftmaxParams": (4, 4),
        "TfLiteSpaceToDepthParams": (4, 4),
        "TfLiteSplitParams": (4, 4),
        "TfLiteSplitVParams": (4, 4),
        "TfLiteSqueezeParams": (36, 4),
        "TfLiteStridedSliceParams": (24, 4),
        "TfLiteSubParams": (2, 1),
        "TfLiteTransposeConvParams": (16, 4),
        "TfLiteUnidirectionalSequenceLSTMParams": (16, 4),
        "TfLiteUnpackParams": (8, 4),
        "TfLiteVarHandleParams": (8, 4),
        "TfLiteWhileParams": (8, 4),
    },
    "host": {
        "SingleArenaBufferAllocator": (72, 8),
        "RecordingSingleArenaBufferAllocator": (104, 8),
        "GreedyMemoryPlanner": (72, 8),
        "LinearMemoryPlanner": (8216, 8),
        "MicroAllocator": (72, 8),
        "RecordingMicroAllocator": (248, 8),
        "MicroBuiltinDataAllocator": (16, 8),
        "SubgraphAllocations": (16, 8),
        "TfLiteEvalTensor": (24, 8),
        "TfLiteTensor": (64, 8),
        "TfLiteNode": (56, 8),
        "NodeAndRegistration": (64, 8),
        "TfLiteAffineQuantization": (24, 8),
        "TfLiteIntArray": (4, 4),
        "ScratchBufferHandle": (8, 8),
        "ScratchBufferRequest": (16, 8),
        "AllocationInfo": (32, 8),
        "pointer": (8, 8),
        "size_t": (8, 8),
        "OpDataConv": (72, 8),
        "OpDataFullyConnected": (64, 8),
        "OpDataPooling": (32, 4),
        "OpDataAdd": (60, 4),
        "OpDataSub": (52, 4),
        "OpDataMul": (36, 4),
        "SoftmaxParams": (80, 8),
        "OpDataQuantizeReference": (32, 8),
        "DequantizeOpData": (32, 8),
        "OpDataSvdf": (36, 4),
        "ReluOpData": (28, 4),
        "Relu6OpData": (8, 4),
        "OpDataLogistic": (16, 4),
        "HardSwishParams": (20, 4),
        "LeakyReluOpData": (24, 4),
        "OpDataReduce": (44, 4),
        "StridedSliceParams": (84, 4),
        "PadOpData": (56, 4),
        "CmsisConvOpData": (80, 8),
        "CmsisFullyConnectedOpData": (96, 8),
        "CmsisPoolingOpData": (36, 4),
        "CmsisAddOpData": (60, 4),
        "CMSISNNSoftmaxParams": (88, 8),
        "CmsisNnOpDataSvdf": (48, 8),
        "ConcatenationOpData": (40, 8),
        "TanhOpData": (16, 4),
        "TfLiteAddParams": (8, 4),
        "TfLiteArgMaxParams": (4, 4),
        "TfLiteArgMinParams": (4, 4),
        "TfLiteBatchMatMulParams": (3, 1),
        "TfLiteCallOnceParams": (4, 4),
        "TfLiteCastParams": (8, 4),
        "TfLiteConcatenationParams": (8, 4),
        "TfLiteConvParams": (28, 4),
        "TfLiteCumsumParams": (2, 1),
        "TfLiteDepthToSpaceParams": (4, 4),
        "TfLiteDepthwiseConvParams": (28, 4),
        "TfLiteDivParams": (4, 4),
        "TfLiteFullyConnectedParams": (16, 4),
        "TfLiteGatherParams": (8, 4),
        "TfLiteIfParams": (8, 4),
        "TfLiteL2NormParams": (4, 4),
        "TfLiteLeakyReluParams": (4, 4),
        "TfLiteMirrorPaddingParams": (4, 4),
        "TfLiteMulParams": (4, 4),
        "TfLitePackParams": (8, 4),
        "TfLitePoolParams": (40, 4),
        "TfLiteReducerParams": (1, 1),
        "TfLiteReshapeParams": (36, 4),
        "TfLiteResizeBilinearParams": (2, 1),
        "TfLiteResizeNearestNeighborParams": (2, 1),
        "TfLiteSVDFParams": (12, 4),
        "TfLiteShapeParams": (4, 4),
        "TfLiteSoftmaxParams": (4, 4),
        "TfLiteSpaceToDepthParams": (4, 4),
        "TfLiteSplitParams": (4, 4),
        "TfLiteSplitVParams": (4, 4),
        "TfLiteSqueezeParams": (36, 4),
        "TfLiteStridedSliceParams": (24, 4),
        "TfLiteSubParams": (8, 4),
        "TfLiteTransposeConvParams": (20, 4),
        "TfLiteUnidirectionalSequenceLSTMParams": (16, 4),
        "TfLiteUnpackParams": (8, 4),
        "TfLiteVarHandleParams": (16, 8),
        "TfLiteWhileParams": (8, 4),
    },
}


# --- end of generated tables ------------------------------------------------------------------------


def layout_for(target: str) -> dict[str, tuple[int, int]]:
    """(size, align) per structure for a library target (cortex-m7-nofp shares cortex-m7's)."""
    return STRUCTS["host" if target == "host" else "cortex-m7"]


def parse_parse_params(text: str) -> dict[str, str]:
    """Parser function -> the builtin params struct it allocates, for the parsers the resolver uses."""
    wanted = {parser for _, parser in REGISTRATIONS.values()}
    out: dict[str, str] = {}
    for chunk in re.split(r"\n(?=TfLiteStatus Parse\w+\()", text):
        m = re.match(r"TfLiteStatus (Parse\w+)\(", chunk)
        if not m or m.group(1) not in wanted or m.group(1) in out:
            continue
        body = chunk.split("\n}\n", 1)[0]
        alloc = re.search(r"Allocate<(\w+)>", body)
        if alloc:
            out[m.group(1)] = alloc.group(1)
    return dict(sorted(out.items()))


def measure_layout(flags: dict, params_types: list[str]) -> dict[str, tuple[int, int]]:
    """Compile the layout probe with an application's flags (library.application_flags) and read it."""
    from elftools.elf.elffile import ELFFile

    with tempfile.TemporaryDirectory(prefix="mcugen-layout-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "layout_params.inc").write_text("".join(f"MCUGEN_PARAMS({t})\n" for t in params_types))
        obj = tmp / "layout.o"
        includes = [f"-I{tmp}"]
        argv = [flags["cxx"], *flags["cpu_flags"], *flags["cxxflags"],
                *(f"-D{d}" for d in flags["defines"]),
                *(f"-I{d}" for d in flags["include_dirs_abs"]), *includes,
                "-O0", "-c", str(PROBE_SOURCE), "-o", str(obj)]
        out = process.run(argv, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError("layout probe did not compile:\n" + out.stderr[-4000:])
        with open(obj, "rb") as fh:
            elf = ELFFile(fh)
            data = elf.get_section_by_name(".mcugen_layout").data()
    records: dict[str, tuple[int, int]] = {}
    for off in range(0, len(data), 64):
        raw = data[off : off + 64]
        name = raw[:56].split(b"\0", 1)[0].decode()
        size = int.from_bytes(raw[56:60], "little")
        align = int.from_bytes(raw[60:64], "little")
        records[name] = (size, align)
    return records


def measure_all(tflm_root=None) -> tuple[dict[str, str], dict[str, dict[str, tuple[int, int]]]]:
    """Re-derive PARSE_PARAMS and STRUCTS from a TFLM tree (needs both compilers)."""
    from mcugen.tflm.library import application_flags
    from mcugen.tflm.source import TflmTree, find_tflm_root

    tree = tflm_root if isinstance(tflm_root, TflmTree) else find_tflm_root(tflm_root)
    params = parse_parse_params((tree.root / FLATBUFFER_CONVERSIONS).read_text())
    types = sorted(set(params.values()))
    structs = {}
    for target in LAYOUT_TARGETS:
        kernels = "cmsis_nn" if target != "host" and tree.has_cmsis_nn else "reference"
        flags = application_flags(tree, target, kernels)
        flags["include_dirs_abs"] = [str(tree.root / d) for d in flags["include_dirs"]]
        structs[target] = measure_layout(flags, types)
    return params, structs


def render_tables(params: dict[str, str], structs: dict[str, dict[str, tuple[int, int]]]) -> str:
    lines = ["PARSE_PARAMS: dict[str, str] = {"]
    lines += [f'    "{k}": "{v}",' for k, v in params.items()]
    lines += ["}", "", "STRUCTS: dict[str, dict[str, tuple[int, int]]] = {"]
    for target, table in structs.items():
        lines.append(f'    "{target}": {{')
        lines += [f'        "{k}": ({s}, {a}),' for k, (s, a) in table.items()]
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    params, structs = measure_all(argv[0] if argv else None)
    print(render_tables(params, structs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
