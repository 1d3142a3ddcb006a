"""TRANSPOSE_CONV on its portable kernel (firmware/kernels/mcu_transpose_conv_s8.c).

TFLite's operands: 0 the output shape (a constant int32 [4]), 1 the filter [out_c, kh, kw,
in_c] (OHWI), 2 the input, 3 the optional bias. TFLM's prepare computes the leading
padding from the OUTPUT size (ComputePaddingHeightWidth with the output as its "input",
dilation 1) and the per-channel requantization along the filter's axis 0 as a convolution's.
"""

from __future__ import annotations

import numpy as np

from mcugen.lower import quant as Q
from mcugen.lower.call import CRef, KernelCall, StructParam, activation, check_dtype, const_data, i32_array
from mcugen.lower.call import in_tensor, nhwc, no_bias_dims, numel, opt_tensor, out_tensor, qparams, require
from mcugen.lower.call import weights_array
from mcugen.model.graph import Graph, Operator


def lower_transpose_conv(graph: Graph, op: Operator) -> KernelCall:
    shape_t = in_tensor(graph, op, 0, "output shape")
    filt = in_tensor(graph, op, 1, "filter")
    x = in_tensor(graph, op, 2, "input")
    bias = opt_tensor(graph, op, 3)
    out = out_tensor(graph, op)
    check_dtype(x, ("int8",), "input")
    check_dtype(out, ("int8",), "output")
    check_dtype(filt, ("int8",), "filter")
    const_data(filt, "the filter")
    if bias is not None:
        check_dtype(bias, ("int32",), "bias")
        const_data(bias, "the bias")
    declared = [int(d) for d in np.asarray(const_data(shape_t, "the output shape")).reshape(-1)]
    require(declared == [int(d) for d in out.shape], f"output shape input {declared} differs from the "
            f"output tensor's {list(out.shape)}")
    ind, fd, od = nhwc(x), nhwc(filt), nhwc(out)
    channels = od["c"]
    require(fd["n"] == channels, "filter count differs from the output channels")
    require(fd["c"] == ind["c"], "filter depth differs from the input channels")
    require(od["n"] == ind["n"], "batch of the output differs from the input's")
    require(filt.quant is not None and bool(filt.quant.scale), "filter has no quantization")
    if filt.quant.per_channel:
        require(len(filt.quant.scale) == channels, "per-channel scales do not match the output channels")
        require(filt.quant.axis == 0, f"per-channel axis {filt.quant.axis} (expected 0)")
    require(all(int(z) == 0 for z in filt.quant.zero_point), "filter zero point is not 0")
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    stride_h, stride_w = int(op.option("stride_h", 1)), int(op.option("stride_w", 1))
    require(stride_h > 0 and stride_w > 0, "stride must be positive")
    pad_kind = op.option("padding", "SAME")
    _, pad_h = Q.padding(stride_h, 1, od["h"], fd["h"], pad_kind)
    _, pad_w = Q.padding(stride_w, 1, od["w"], fd["w"], pad_kind)
    act_min, act_max = activation(op, out)
    mults, shifts = Q.conv_per_channel(in_scale, filt.quant.scale, out_scale, channels)
    params = {
        "stride_w": stride_w, "stride_h": stride_h, "pad_w": pad_w, "pad_h": pad_h,
        "dilation_w": 1, "dilation_h": 1,
        "input_offset": -in_zp, "output_offset": out_zp, "act_min": act_min, "act_max": act_max,
    }
    constants = [
        weights_array("filter", filt, "int8_t"),
        i32_array("multiplier", mults, "per-channel output multipliers (Q0.31)"),
        i32_array("shift", shifts, "per-channel output shifts (exponents)"),
    ]
    if bias is not None:
        constants.append(weights_array("bias", bias, "int32_t"))
    structs = (
        StructParam("params", "mcu_conv_params", params),
        StructParam("quant", "mcu_per_channel_quant", {"multiplier": CRef("multiplier"), "shift": CRef("shift")}),
        StructParam("in_dims", "mcu_dims", ind),
        StructParam("filter_dims", "mcu_dims", fd),
        StructParam("bias_dims", "mcu_dims", {"n": 1, "h": 1, "w": 1, "c": channels} if bias is not None else no_bias_dims()),
        StructParam("out_dims", "mcu_dims", od),
    )
    bias_ref = "$c_bias" if bias is not None else "NULL"
    call = (
        "mcu_transpose_conv_s8(NULL, &$s_params, &$s_quant, &$s_in_dims, (const int8_t *)$in0, "
        f"&$s_filter_dims, $c_filter, &$s_bias_dims, {bias_ref}, &$s_out_dims, (int8_t *)$out0)"
    )
    macs = numel(x.shape) * fd["h"] * fd["w"] * channels
    summary = (
        f"{fd['h']}x{fd['w']} stride {stride_h}x{stride_w} {pad_kind}, "
        f"{'per-channel' if filt.quant.per_channel else 'per-tensor'}, "
        f"{op.option('fused_activation_function', 'NONE')}, {macs} MACs"
    )
    return KernelCall(op.index, op.opcode, "mcu_transpose_conv_s8", ("mcu_transpose_conv_s8.c",),
                      (x.index,), (out.index,), call,
                      constants=tuple(constants), structs=structs, summary=summary)


LOWERINGS = {
    "TRANSPOSE_CONV": lower_transpose_conv,
}
