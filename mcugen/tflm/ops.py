"""Which TFLite builtin operators the TFLM tree can register, and how.

`RESOLVER_METHODS` maps a builtin opcode name ("CONV_2D") to the
`MicroMutableOpResolver` method that registers it ("AddConv2D"); the code
generator emits one such call per distinct operator of the model.
`REGISTRATIONS` gives, per opcode, the kernel's `Register_*` function and the
flatbuffer parser the method passes (the roots of that operator's code in the
library, used by the code-size estimate). `CUSTOM_RESOLVER_METHODS` lists the
custom operators the resolver knows by name.

The tables were parsed from tensorflow/lite/micro/micro_mutable_op_resolver.h
of the pinned tree (TFLM 90b983c2) by mcugen.calibrate.resolver and are
committed as plain data, so mcugen needs no TFLM tree to check a model.
tests/tflm/test_tflm_ops.py re-parses the header of the tree in use and fails
when these tables are stale; regenerate them with

    python -m mcugen.calibrate.resolver [TFLM_ROOT] > /tmp/tables.py

and paste the output below.
"""

from __future__ import annotations

# --- generated tables (python -m mcugen.calibrate.resolver) -------------------------------------------------

RESOLVER_METHODS: dict[str, str] = {
    "ABS": "AddAbs",
    "ADD": "AddAdd",
    "ADD_N": "AddAddN",
    "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin",
    "ASSIGN_VARIABLE": "AddAssignVariable",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo",
    "CALL_ONCE": "AddCallOnce",
    "CAST": "AddCast",
    "CEIL": "AddCeil",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "COS": "AddCos",
    "CUMSUM": "AddCumSum",
    "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize",
    "DIV": "AddDiv",
    "DYNAMIC_UPDATE_SLICE": "AddDynamicUpdateSlice",
    "EMBEDDING_LOOKUP": "AddEmbeddingLookup",
    "ELU": "AddElu",
    "EQUAL": "AddEqual",
    "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill",
    "FLOOR": "AddFloor",
    "FLOOR_DIV": "AddFloorDiv",
    "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater",
    "GREATER_EQUAL": "AddGreaterEqual",
    "HARD_SWISH": "AddHardSwish",
    "IF": "AddIf",
    "L2_NORMALIZATION": "AddL2Normalization",
    "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu",
    "LESS": "AddLess",
    "LESS_EQUAL": "AddLessEqual",
    "LOG": "AddLog",
    "LOGICAL_AND": "AddLogicalAnd",
    "LOGICAL_NOT": "AddLogicalNot",
    "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic",
    "LOG_SOFTMAX": "AddLogSoftmax",
    "MAXIMUM": "AddMaximum",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MIRROR_PAD": "AddMirrorPad",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MUL": "AddMul",
    "NEG": "AddNeg",
    "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "READ_VARIABLE": "AddReadVariable",
    "REDUCE_ALL": "AddReduceAll",
    "REDUCE_MAX": "AddReduceMax",
    "REDUCE_MIN": "AddReduceMin",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "REVERSE_V2": "AddReverseV2",
    "ROUND": "AddRound",
    "RSQRT": "AddRsqrt",
    "SELECT_V2": "AddSelectV2",
    "SHAPE": "AddShape",
    "SIN": "AddSin",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQUEEZE": "AddSqueeze",
    "SQRT": "AddSqrt",
    "SQUARE": "AddSquare",
    "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "SVDF": "AddSvdf",
    "TANH": "AddTanh",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "TRANSPOSE": "AddTranspose",
    "UNPACK": "AddUnpack",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "VAR_HANDLE": "AddVarHandle",
    "WHILE": "AddWhile",
    "ZEROS_LIKE": "AddZerosLike",
}

# opcode -> (kernel registration function, flatbuffer parse function), both in namespace tflite
REGISTRATIONS: dict[str, tuple[str, str]] = {
    "ABS": ("Register_ABS", "ParseAbs"),
    "ADD": ("Register_ADD", "ParseAdd"),
    "ADD_N": ("Register_ADD_N", "ParseAddN"),
    "ARG_MAX": ("Register_ARG_MAX", "ParseArgMax"),
    "ARG_MIN": ("Register_ARG_MIN", "ParseArgMin"),
    "ASSIGN_VARIABLE": ("Register_ASSIGN_VARIABLE", "ParseAssignVariable"),
    "AVERAGE_POOL_2D": ("Register_AVERAGE_POOL_2D", "ParsePool"),
    "BATCH_MATMUL": ("Register_BATCH_MATMUL", "ParseBatchMatMul"),
    "BATCH_TO_SPACE_ND": ("Register_BATCH_TO_SPACE_ND", "ParseBatchToSpaceNd"),
    "BROADCAST_ARGS": ("Register_BROADCAST_ARGS", "ParseBroadcastArgs"),
    "BROADCAST_TO": ("Register_BROADCAST_TO", "ParseBroadcastTo"),
    "CALL_ONCE": ("Register_CALL_ONCE", "ParseCallOnce"),
    "CAST": ("Register_CAST", "ParseCast"),
    "CEIL": ("Register_CEIL", "ParseCeil"),
    "CONCATENATION": ("Register_CONCATENATION", "ParseConcatenation"),
    "CONV_2D": ("Register_CONV_2D", "ParseConv2D"),
    "COS": ("Register_COS", "ParseCos"),
    "CUMSUM": ("Register_CUMSUM", "ParseCumsum"),
    "DEPTH_TO_SPACE": ("Register_DEPTH_TO_SPACE", "ParseDepthToSpace"),
    "DEPTHWISE_CONV_2D": ("Register_DEPTHWISE_CONV_2D", "ParseDepthwiseConv2D"),
    "DEQUANTIZE": ("Register_DEQUANTIZE", "ParseDequantize"),
    "DIV": ("Register_DIV", "ParseDiv"),
    "DYNAMIC_UPDATE_SLICE": ("Register_DYNAMIC_UPDATE_SLICE", "ParseDynamicUpdateSlice"),
    "EMBEDDING_LOOKUP": ("Register_EMBEDDING_LOOKUP", "ParseEmbeddingLookup"),
    "ELU": ("Register_ELU", "ParseElu"),
    "EQUAL": ("Register_EQUAL", "ParseEqual"),
    "EXP": ("Register_EXP", "ParseExp"),
    "EXPAND_DIMS": ("Register_EXPAND_DIMS", "ParseExpandDims"),
    "FILL": ("Register_FILL", "ParseFill"),
    "FLOOR": ("Register_FLOOR", "ParseFloor"),
    "FLOOR_DIV": ("Register_FLOOR_DIV", "ParseFloorDiv"),
    "FLOOR_MOD": ("Register_FLOOR_MOD", "ParseFloorMod"),
    "FULLY_CONNECTED": ("Register_FULLY_CONNECTED", "ParseFullyConnected"),
    "GATHER": ("Register_GATHER", "ParseGather"),
    "GATHER_ND": ("Register_GATHER_ND", "ParseGatherNd"),
    "GREATER": ("Register_GREATER", "ParseGreater"),
    "GREATER_EQUAL": ("Register_GREATER_EQUAL", "ParseGreaterEqual"),
    "HARD_SWISH": ("Register_HARD_SWISH", "ParseHardSwish"),
    "IF": ("Register_IF", "ParseIf"),
    "L2_NORMALIZATION": ("Register_L2_NORMALIZATION", "ParseL2Normalization"),
    "L2_POOL_2D": ("Register_L2_POOL_2D", "ParsePool"),
    "LEAKY_RELU": ("Register_LEAKY_RELU", "ParseLeakyRelu"),
    "LESS": ("Register_LESS", "ParseLess"),
    "LESS_EQUAL": ("Register_LESS_EQUAL", "ParseLessEqual"),
    "LOG": ("Register_LOG", "ParseLog"),
    "LOGICAL_AND": ("Register_LOGICAL_AND", "ParseLogicalAnd"),
    "LOGICAL_NOT": ("Register_LOGICAL_NOT", "ParseLogicalNot"),
    "LOGICAL_OR": ("Register_LOGICAL_OR", "ParseLogicalOr"),
    "LOGISTIC": ("Register_LOGISTIC", "ParseLogistic"),
    "LOG_SOFTMAX": ("Register_LOG_SOFTMAX", "ParseLogSoftmax"),
    "MAXIMUM": ("Register_MAXIMUM", "ParseMaximum"),
    "MAX_POOL_2D": ("Register_MAX_POOL_2D", "ParsePool"),
    "MIRROR_PAD": ("Register_MIRROR_PAD", "ParseMirrorPad"),
    "MEAN": ("Register_MEAN", "ParseReducer"),
    "MINIMUM": ("Register_MINIMUM", "ParseMinimum"),
    "MUL": ("Register_MUL", "ParseMul"),
    "NEG": ("Register_NEG", "ParseNeg"),
    "NOT_EQUAL": ("Register_NOT_EQUAL", "ParseNotEqual"),
    "PACK": ("Register_PACK", "ParsePack"),
    "PAD": ("Register_PAD", "ParsePad"),
    "PADV2": ("Register_PADV2", "ParsePadV2"),
    "PRELU": ("Register_PRELU", "ParsePrelu"),
    "QUANTIZE": ("Register_QUANTIZE", "ParseQuantize"),
    "READ_VARIABLE": ("Register_READ_VARIABLE", "ParseReadVariable"),
    "REDUCE_ALL": ("Register_REDUCE_ALL", "ParseReducer"),
    "REDUCE_MAX": ("Register_REDUCE_MAX", "ParseReducer"),
    "REDUCE_MIN": ("Register_REDUCE_MIN", "ParseReducer"),
    "RELU": ("Register_RELU", "ParseRelu"),
    "RELU6": ("Register_RELU6", "ParseRelu6"),
    "RESHAPE": ("Register_RESHAPE", "ParseReshape"),
    "RESIZE_BILINEAR": ("Register_RESIZE_BILINEAR", "ParseResizeBilinear"),
    "RESIZE_NEAREST_NEIGHBOR": ("Register_RESIZE_NEAREST_NEIGHBOR", "ParseResizeNearestNeighbor"),
    "REVERSE_V2": ("Register_REVERSE_V2", "ParseReverseV2"),
    "ROUND": ("Register_ROUND", "ParseRound"),
    "RSQRT": ("Register_RSQRT", "ParseRsqrt"),
    "SELECT_V2": ("Register_SELECT_V2", "ParseSelectV2"),
    "SHAPE": ("Register_SHAPE", "ParseShape"),
    "SIN": ("Register_SIN", "ParseSin"),
    "SLICE": ("Register_SLICE", "ParseSlice"),
    "SOFTMAX": ("Register_SOFTMAX", "ParseSoftmax"),
    "SPACE_TO_BATCH_ND": ("Register_SPACE_TO_BATCH_ND", "ParseSpaceToBatchNd"),
    "SPACE_TO_DEPTH": ("Register_SPACE_TO_DEPTH", "ParseSpaceToDepth"),
    "SPLIT": ("Register_SPLIT", "ParseSplit"),
    "SPLIT_V": ("Register_SPLIT_V", "ParseSplitV"),
    "SQUEEZE": ("Register_SQUEEZE", "ParseSqueeze"),
    "SQRT": ("Register_SQRT", "ParseSqrt"),
    "SQUARE": ("Register_SQUARE", "ParseSquare"),
    "SQUARED_DIFFERENCE": ("Register_SQUARED_DIFFERENCE", "ParseSquaredDifference"),
    "STRIDED_SLICE": ("Register_STRIDED_SLICE", "ParseStridedSlice"),
    "SUB": ("Register_SUB", "ParseSub"),
    "SUM": ("Register_SUM", "ParseReducer"),
    "SVDF": ("Register_SVDF", "ParseSvdf"),
    "TANH": ("Register_TANH", "ParseTanh"),
    "TRANSPOSE_CONV": ("Register_TRANSPOSE_CONV", "ParseTransposeConv"),
    "TRANSPOSE": ("Register_TRANSPOSE", "ParseTranspose"),
    "UNPACK": ("Register_UNPACK", "ParseUnpack"),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (
        "Register_UNIDIRECTIONAL_SEQUENCE_LSTM",
        "ParseUnidirectionalSequenceLSTM",
    ),
    "VAR_HANDLE": ("Register_VAR_HANDLE", "ParseVarHandle"),
    "WHILE": ("Register_WHILE", "ParseWhile"),
    "ZEROS_LIKE": ("Register_ZEROS_LIKE", "ParseZerosLike"),
}

# custom operator name -> resolver method
CUSTOM_RESOLVER_METHODS: dict[str, str] = {
    "CIRCULAR_BUFFER": "AddCircularBuffer",
    "TFLM_DECODE": "AddDecode",
    "SignalDelay": "AddDelay",
    "TFLite_Detection_PostProcess": "AddDetectionPostprocess",
    "SignalEnergy": "AddEnergy",
    "SignalFftAutoScale": "AddFftAutoScale",
    "SignalFilterBank": "AddFilterBank",
    "SignalFilterBankLog": "AddFilterBankLog",
    "SignalFilterBankSquareRoot": "AddFilterBankSquareRoot",
    "SignalFilterBankSpectralSubtraction": "AddFilterBankSpectralSubtraction",
    "SignalFramer": "AddFramer",
    "SignalIrfft": "AddIrfft",
    "SignalOverlapAdd": "AddOverlapAdd",
    "SignalPCAN": "AddPCAN",
    "SignalRfft": "AddRfft",
    "SignalStacker": "AddStacker",
    "SignalWindow": "AddWindow",
}

# --- end of generated tables ----------------------------------------------------------------------

# custom operator name -> its kernel registration function (micro_mutable_op_resolver.h's AddCustom
# calls; the roots of its code for the code-size estimate). tests/tflm/test_tflm_ops.py checks them
# against the header.
CUSTOM_REGISTRATIONS: dict[str, str] = {
    "TFLite_Detection_PostProcess": "Register_DETECTION_POSTPROCESS",
}


def resolver_method(opcode: str) -> str | None:
    """The MicroMutableOpResolver method registering builtin `opcode` (or custom op "CUSTOM:<name>"),
    or None."""
    if opcode.startswith("CUSTOM:"):
        return CUSTOM_RESOLVER_METHODS.get(opcode[len("CUSTOM:"):])
    return RESOLVER_METHODS.get(opcode)


def unsupported_opcodes(opcodes: list[str]) -> list[str]:
    """The builtin opcodes (in the given order, once each) that TFLM cannot register."""
    seen: dict[str, None] = {}
    for op in opcodes:
        if op not in RESOLVER_METHODS:
            seen.setdefault(op, None)
    return list(seen)
