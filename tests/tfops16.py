"""16x8 single-operator models (int16 activations, int8 weights, int64 biases) for
tests/test_int16.py: tests/tfops.py's builders converted with the converter's
EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 op set (tfmodels.quantize's
int16_activations), int16 model inputs and outputs. Awkward shapes on purpose: odd
sizes, stride 2, dilation, groups, a depth multiplier, broadcasting, batches."""

from __future__ import annotations

from tfops import Case, activation, binary, conv2d, conv_chain, dense, depthwise, mean, pool, reshape_dense
from tfops_elem import unary_op

Q16 = {"q_int16_activations": True, "q_input_type": "int16", "q_output_type": "int16"}


def _c(cid: str, builder, kwargs: dict, opcode: str) -> Case:
    return (cid, builder, {**Q16, **kwargs}, opcode)


CASES16: list[Case] = [
    _c("s16_conv_s1_same", conv2d, {"input_shape": (11, 9, 3), "filters": 7}, "CONV_2D"),
    _c("s16_conv_s2_valid_relu", conv2d, {"strides": 2, "padding": "valid", "kernel": 5, "activation": "relu"},
       "CONV_2D"),
    _c("s16_conv_dilation2_nobias", conv2d, {"dilation": 2, "use_bias": False}, "CONV_2D"),
    _c("s16_conv_even_kernel_s2", conv2d, {"kernel": 4, "strides": 2, "input_shape": (13, 11, 2)}, "CONV_2D"),
    _c("s16_conv_groups", conv2d, {"input_shape": (7, 7, 6), "filters": 9, "groups": 3}, "CONV_2D"),
    _c("s16_conv_relu6_wide_range", conv2d, {"activation": "relu6", "q_rep_range": (-20.0, 20.0)}, "CONV_2D"),
    # windows of more than 256 products: the kernels' 32-bit partial sums come in runs
    _c("s16_conv_deep_window", conv2d, {"input_shape": (6, 7, 40), "filters": 5}, "CONV_2D"),
    _c("s16_dw_17x17", depthwise, {"input_shape": (19, 18, 3), "kernel": 17, "padding": "valid"},
       "DEPTHWISE_CONV_2D"),
    _c("s16_dw_s1_same", depthwise, {"input_shape": (9, 13, 5)}, "DEPTHWISE_CONV_2D"),
    _c("s16_dw_s2_valid_relu6", depthwise, {"strides": 2, "padding": "valid", "kernel": 5, "activation": "relu6"},
       "DEPTHWISE_CONV_2D"),
    _c("s16_dw_mult3_dilation2", depthwise, {"depth_multiplier": 3, "dilation": 2}, "DEPTHWISE_CONV_2D"),
    _c("s16_fc", dense, {"input_shape": (37,), "units": 11}, "FULLY_CONNECTED"),
    _c("s16_fc_relu_nobias", dense, {"activation": "relu", "units": 33, "use_bias": False}, "FULLY_CONNECTED"),
    _c("s16_fc_batches", dense, {"input_shape": (3, 8), "units": 5}, "FULLY_CONNECTED"),
    _c("s16_reshape_fc_softmax", reshape_dense, {"q_rep_range": (-3.0, 3.0)}, "FULLY_CONNECTED"),
    _c("s16_add", binary, {"kind": "add", "shape_a": (5, 7, 3), "shape_b": (5, 7, 3)}, "ADD"),
    _c("s16_add_relu", binary, {"kind": "add", "activation": "relu"}, "ADD"),
    _c("s16_add_broadcast", binary, {"kind": "add", "shape_b": (1, 1, 8)}, "ADD"),
    _c("s16_mul", binary, {"kind": "mul", "shape_a": (3, 5, 7), "shape_b": (3, 5, 7)}, "MUL"),
    _c("s16_mul_broadcast_rows", binary, {"kind": "mul", "shape_a": (6, 1, 8), "shape_b": (1, 6, 1)}, "MUL"),
    _c("s16_softmax", activation, {"kind": "softmax", "q_rep_range": (-4.0, 4.0)}, "SOFTMAX"),
    _c("s16_softmax_wide", activation, {"kind": "softmax", "input_shape": (3, 37), "q_rep_range": (-30.0, 30.0)},
       "SOFTMAX"),
    _c("s16_avgpool_valid", pool, {"kind": "avg"}, "AVERAGE_POOL_2D"),
    _c("s16_avgpool_same", pool, {"kind": "avg", "padding": "same", "input_shape": (10, 7, 3)}, "AVERAGE_POOL_2D"),
    _c("s16_maxpool_valid", pool, {"kind": "max", "pool_size": 2}, "MAX_POOL_2D"),
    _c("s16_maxpool_same", pool, {"kind": "max", "padding": "same", "strides": 1}, "MAX_POOL_2D"),
    _c("s16_mean_keepdims", mean, {"keepdims": True}, "MEAN"),
    _c("s16_mean_no_keepdims", mean, {"keepdims": False, "input_shape": (5, 11, 9)}, "MEAN"),
    _c("s16_logistic", activation, {"kind": "sigmoid", "q_rep_range": (-6.0, 6.0)}, "LOGISTIC"),
    _c("s16_logistic_narrow", activation, {"kind": "sigmoid", "input_shape": (7, 9), "q_rep_range": (-1.5, 1.5)},
       "LOGISTIC"),
    _c("s16_float_in", conv_chain, {"q_input_type": "float32"}, "QUANTIZE"),
    _c("s16_float_out", conv_chain, {"q_output_type": "float32"}, "DEQUANTIZE"),
    _c("s16_tanh", unary_op, {"kind": "tanh", "input_shape": (5, 11), "q_rep_range": (-4.0, 4.0)}, "TANH"),
    _c("s16_tanh_wide", unary_op, {"kind": "tanh", "input_shape": (3, 4, 5), "q_rep_range": (-12.0, 12.0)}, "TANH"),
]
