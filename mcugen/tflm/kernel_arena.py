"""What each TFLM kernel takes from the arena: its op data (Init), what its Prepare
allocates (per-channel multipliers and shifts, LUTs, CMSIS-NN kernel sums, copied
dims), its scratch requests (sizes from the CMSIS-NN *_get_buffer_size functions for
the Cortex-M7 DSP path, or the reference kernels' requests) and the temporary
TfLiteTensors it holds while preparing. Kernels not modelled here get a conservative
guess and are listed as unmodeled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import tflite

from mcugen.tflm.flatbuffer import TflmOp, TflmSubgraph, TflmTensor

# A kernel without a model here gets a conservative guess (issue 16: the tflm style runs every op TFLM
# registers). Its op data: 128 B, plus 32 B per input (LSTM's OpDataLSTM holds four gates' FC and
# arithmetic parameters for its 24 inputs; CMSIS-NN's LSTM OpData the cmsis_nn_lstm_params).
UNMODELED_OP_DATA = 128
UNMODELED_OP_DATA_PER_INPUT = 32
INT16_LUT_BYTES = 2 * 513  # softmax int16 LUTs: sizeof(int16_t) * LUTSize<int16_t>()

@dataclass
class KernelAllocations:
    """What one operator's kernel takes from the arena."""

    init: list[int] = field(default_factory=list)  # persistent, in Init (16-aligned)
    prepare: list[int] = field(default_factory=list)  # persistent, in Prepare (16-aligned)
    scratch: list[int] = field(default_factory=list)  # RequestScratchBufferInArena sizes
    temp_tensors: list[int] = field(default_factory=list)  # temp TfLiteTensors alive at once
    modeled: bool = True


@dataclass
class OpContext:
    graph: TflmSubgraph
    op: TflmOp
    kernels: str
    target: str
    layout: dict[str, tuple[int, int]]

    def tensor(self, pos: int, outputs: bool = False) -> TflmTensor | None:
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


def _conv_geometry(ctx: OpContext) -> dict[str, int]:
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


def _per_channel(filt: TflmTensor, axis: int) -> list[int]:
    """Per-channel output multipliers and shifts: two int32 arrays (conv, depthwise)."""
    n = filt.shape[axis]
    return [4 * n, 4 * n]


def _conv_like(ctx: OpContext, quant_axis: int, cmsis_scratch: Callable[[OpContext, TflmTensor], int]
               ) -> KernelAllocations:
    """CONV_2D and DEPTHWISE_CONV_2D: op data, per-channel multipliers and shifts (the
    filter's quantized axis), and the scratch CMSIS-NN's or the reference kernel asks for."""
    inp, filt = ctx.tensor(0), ctx.tensor(1)
    k = KernelAllocations(temp_tensors=ctx.io_tensors(2))
    if not ctx.cmsis:
        k.init = [ctx.size("OpDataConv")]
        k.prepare = _per_channel(filt, quant_axis)
        if filt.dtype == _INT4:
            k.scratch = [math.prod(filt.shape)]
        return k
    k.init = [ctx.size("CmsisConvOpData")]
    if inp.dtype in (_INT8, _INT16):
        k.prepare = _per_channel(filt, quant_axis)
    buf = cmsis_scratch(ctx, inp)
    if buf > 0:
        k.scratch = [buf]
    return k


def _conv_scratch(ctx: OpContext, inp: TflmTensor) -> int:
    if inp.dtype not in (_INT8, _INT16):
        return 0
    g = _conv_geometry(ctx)
    return _cmsis_conv_s8_buffer(g) if inp.dtype == _INT8 else _cmsis_conv_s16_buffer(g)


def _depthwise_scratch(ctx: OpContext, inp: TflmTensor) -> int:
    if inp.dtype != _INT8:
        return 0
    g = _conv_geometry(ctx)
    out_c = ctx.tensor(0, outputs=True).shape[3]
    if (g["in_c"] == out_c and g["n"] == 1 and g["dil_w"] == 1 and g["dil_h"] == 1
            and not (g["f_w"] == 3 and g["f_h"] == 3 and g["pad_h"] <= 1 and g["pad_w"] <= 1)
            and ctx.dsp):
        return g["in_c"] * g["f_w"] * g["f_h"] * 2  # arm_depthwise_conv_s8_opt (DSP)
    return 0


def _model_conv(ctx: OpContext) -> KernelAllocations:
    return _conv_like(ctx, 0, _conv_scratch)


def _model_depthwise(ctx: OpContext) -> KernelAllocations:
    return _conv_like(ctx, 3, _depthwise_scratch)


def _model_fully_connected(ctx: OpContext) -> KernelAllocations:
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


def _model_pool(ctx: OpContext) -> KernelAllocations:
    inp, out = ctx.tensor(0), ctx.tensor(0, outputs=True)
    k = KernelAllocations(temp_tensors=ctx.io_tensors())
    if ctx.cmsis:
        k.init = [ctx.size("CmsisPoolingOpData")]
        if ctx.op.opcode == "AVERAGE_POOL_2D" and inp.dtype in (_INT8, _INT16) and ctx.dsp:
            k.scratch = [out.shape[3] * 4]  # arm_avgpool_s{8,16}_get_buffer_size (DSP)
    else:
        k.init = [ctx.size("OpDataPooling")]
    return k


def _model_softmax(ctx: OpContext) -> KernelAllocations:
    inp = ctx.tensor(0)
    k = KernelAllocations(temp_tensors=ctx.io_tensors())
    k.init = [ctx.size("CMSISNNSoftmaxParams" if ctx.cmsis else "SoftmaxParams")]
    if inp.dtype == _INT16:
        k.prepare = [INT16_LUT_BYTES, INT16_LUT_BYTES]
    return k


def _model_reshape(ctx: OpContext) -> KernelAllocations:
    out = ctx.tensor(0, outputs=True)
    k = KernelAllocations(temp_tensors=ctx.io_tensors())
    if out is not None and -1 in out.shape:  # CreateWritableTensorDimsWithCopy
        k.prepare = [4 + 4 * len(out.shape)]
    return k


def _model_svdf(ctx: OpContext) -> KernelAllocations:
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


REVERSE_TCOL_EFFICIENT_THRESHOLD = 16  # CMSIS-NN arm_nnsupportfunctions.h


def _cmsis_transpose_conv_s8_buffers(inp: TflmTensor, filt: TflmTensor, out: TflmTensor, sh: int, sw: int
                                     ) -> list[int]:
    """arm_transpose_conv_s8_get_buffer_size and ..._get_reverse_conv_buffer_size off MVE: a
    strided-by-<=2 layer deeper than 16 channels runs as a convolution over the zero-stuffed
    input (its im2col columns, and the filter reversed), any other as int32 output rows."""
    n, in_h, in_w, in_c = inp.shape
    out_c, f_h, f_w = filt.shape[0], filt.shape[1], filt.shape[2]
    if sh <= 2 and sw <= 2 and in_c > REVERSE_TCOL_EFFICIENT_THRESHOLD:
        g = {"pad_w": 1, "pad_h": 1, "f_w": f_w, "f_h": f_h, "dil_w": 1, "dil_h": 1, "in_c": in_c, "f_c": in_c}
        return [_cmsis_conv_s8_buffer(g), in_c * f_w * f_h * out_c]
    buf_x = ((in_w - 1) * sw + max(f_w, sh)) * out.shape[3]
    return [buf_x * max(f_h, sh) * 4, 0]


def _model_transpose_conv(ctx: OpContext) -> KernelAllocations:
    """TFLM's TRANSPOSE_CONV (operands: output shape, filter, input, bias): its OpData (a ConvParams
    and buffer indices, no layout entry: the unmodelled kernels' size), per-channel multipliers and
    shifts, and its scratch: the reference kernel an int32 (int64 for 16x8) per output element,
    CMSIS-NN's int8 path its own buffers; 16x8 with an int16 bias also its int64 copy. Prepare
    and CalculateOpData hold up to seven temporary tensors at once."""
    filt, inp, bias, out = ctx.tensor(1), ctx.tensor(2), ctx.tensor(3), ctx.tensor(0, outputs=True)
    o = ctx.op.options
    sh, sw = (o.StrideH(), o.StrideW()) if o else (1, 1)
    k = KernelAllocations(init=[UNMODELED_OP_DATA], prepare=_per_channel(filt, 0), temp_tensors=ctx.io_tensors(2))
    elements = math.prod(out.shape)
    if inp.dtype == _INT8:
        k.scratch = (_cmsis_transpose_conv_s8_buffers(inp, filt, out, sh, sw) if ctx.cmsis else [4 * elements])
    elif inp.dtype == _INT16:
        k.scratch = [8 * math.prod(bias.shape)] if bias is not None and bias.dtype == _INT16 else []
        k.scratch.append(8 * elements)
    return k


BATCH_MATMUL_QUANT_BYTES = 28  # QuantizationOpDataBatchMatmul: seven int32


def _model_batch_matmul(ctx: OpContext) -> KernelAllocations:
    """TFLM's BATCH_MATMUL (reference and CMSIS-NN alike): its OpData, the quantization block,
    a persistent row/column-transposed copy of the rhs unless adj_y and of the lhs if adj_x
    (an eval tensor, its dims and its data), and the output's dims copied to be writable.
    CMSIS-NN's int8 scratch (arm_fully_connected_s8_get_buffer_size) is 0 off MVE. OpDataBatchMatmul
    holds three pointers and three bools (CMSIS-NN's OpData adds its output dims and a buffer index)."""
    lhs, rhs, out = ctx.tensor(0), ctx.tensor(1), ctx.tensor(0, outputs=True)
    o = ctx.op.options
    adj_x, adj_y = (bool(o.AdjX()), bool(o.AdjY())) if o else (False, False)
    pointer = ctx.size("TfLiteEvalTensor") // 3  # data and dims pointers and the type, padded
    op_data = 3 * pointer + 3 + (4 * 4 + 4 if ctx.cmsis else 0)
    k = KernelAllocations(init=[op_data], temp_tensors=ctx.io_tensors(2))
    for t, copied in ((lhs, adj_x), (rhs, not adj_y)):
        if copied:
            k.prepare += [ctx.size("TfLiteEvalTensor"), 4 + 4 * len(t.shape), t.nbytes]
    if lhs.dtype in (_INT8, _INT16):
        k.prepare.append(BATCH_MATMUL_QUANT_BYTES)
    k.prepare.append(4 + 4 * len(out.shape))
    # Not yet exact: on the host a rank-5 lhs against a rank-3 rhs needed 32 B more than the items
    # above (not found in batch_matmul.cc); until then the unmodelled kernels' op-data guess is kept on
    # top as a margin, and the op is reported as a guess.
    k.init.append(UNMODELED_OP_DATA)
    k.modeled = False
    return k


DETECTION_OP_DATA = 256  # detection_postprocess.cc's OpData: options, scales, 13 scratch indices (~120 B)


def _model_detection_postprocess(ctx: OpContext) -> KernelAllocations:
    """TFLM's TFLite_Detection_PostProcess: its OpData in Init and eleven scratch requests in Prepare
    (detection_postprocess.cc: candidates, decoded boxes, scores, NMS buffers). max_detections is
    read from the output's shape (it holds max_detections x max_classes_per_detection boxes: an
    upper bound), num_classes from the scores (without the background class)."""
    scores, out = ctx.tensor(1), ctx.tensor(0, outputs=True)
    boxes = scores.shape[1]
    num_classes = max(scores.shape[2] - 1, 1)
    max_det = out.shape[1] if len(out.shape) > 1 else 1
    k = KernelAllocations(init=[DETECTION_OP_DATA], temp_tensors=ctx.io_tensors())
    k.scratch = [boxes, boxes * 16, scores.shape[1] * scores.shape[2] * 4, boxes * 4, boxes * 4,
                 max_det * boxes * 4, max_det * boxes * 4, boxes * 4, max_det * boxes * 4,
                 max(num_classes, max_det) * boxes * 4, min(boxes, max_det) * boxes * 4]
    return k


def _simple(struct_ref: str | None, struct_cmsis: str | None = None) -> Callable[[OpContext], KernelAllocations]:
    def model(ctx: OpContext) -> KernelAllocations:
        k = KernelAllocations(temp_tensors=ctx.io_tensors())
        struct = struct_cmsis if ctx.cmsis and struct_cmsis else struct_ref
        if struct:
            k.init = [ctx.size(struct)]
        return k

    return model


def _model_reduce(ctx: OpContext) -> KernelAllocations:
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


_OP_MODELS: dict[str, Callable[[OpContext], KernelAllocations]] = {
    "CONV_2D": _model_conv,
    "DEPTHWISE_CONV_2D": _model_depthwise,
    "FULLY_CONNECTED": _model_fully_connected,
    "AVERAGE_POOL_2D": _model_pool,
    "MAX_POOL_2D": _model_pool,
    "SOFTMAX": _model_softmax,
    "RESHAPE": _model_reshape,
    "SVDF": _model_svdf,
    "TRANSPOSE_CONV": _model_transpose_conv,
    "BATCH_MATMUL": _model_batch_matmul,
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

_OP_MODELS["CUSTOM:TFLite_Detection_PostProcess"] = _model_detection_postprocess

MODELED_OPS = frozenset(_OP_MODELS)


def kernel_allocations(ctx: OpContext) -> KernelAllocations:
    model = _OP_MODELS.get(ctx.op.opcode)
    if model is None:
        return _unmodeled(ctx)
    return model(ctx)


def _unmodeled(ctx: OpContext) -> KernelAllocations:
    """The guess for a kernel not modelled here: op data (UNMODELED_OP_DATA*), a persistent int32 per
    output channel per input (per-channel parameters, CMSIS-NN kernel sums), for an op with state
    (variable tensors) scratch of an int32 per state element (LSTM's four int16 gate buffers), and
    two temporary TfLiteTensors per operand (LSTM's Prepare holds all 24 inputs at once).
    tests/test_ops_generic.py runs such models with this arena on the host and on Cortex-M7."""
    inputs = [ctx.graph.tensors[i] for i in ctx.op.inputs if i >= 0]
    state = sum(math.prod(t.shape) for t in inputs if t.variable)
    out = ctx.tensor(0, outputs=True)
    channels = out.shape[-1] if out is not None and out.shape else 1
    return KernelAllocations(init=[UNMODELED_OP_DATA + UNMODELED_OP_DATA_PER_INPUT * len(inputs)],
                             prepare=[4 * channels * max(len(inputs), 1)],
                             scratch=[4 * state] if state else [],
                             temp_tensors=ctx.io_tensors(2), modeled=False)
