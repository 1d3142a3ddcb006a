"""Convolutions and fully connected layers on the portable kernels (firmware/kernels/)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from mcugen.lower import quant as Q
from mcugen.lower.call import ConstArray, CRef, KernelCall, LoweringError, StructParam, activation, check_dtype
from mcugen.lower.call import const_data, i32_array, in_tensor, nhwc, no_bias_dims, numel, opt_tensor, out_tensor
from mcugen.lower.call import qparams, require, weights_array
from mcugen.model.graph import Graph, Operator, Tensor


def weighted(graph: Graph, op: Operator, what: str, activations: str = "int8",
             bias_type: str = "int32") -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    """(input, weights, bias or None, output) of an op with `activations` in and out, constant
    int8 weights (`what`: "filter", "weights") and an optional constant `bias_type` bias
    (int8 ops: int32; 16x8: int64)."""
    x = in_tensor(graph, op, 0, "input")
    w = in_tensor(graph, op, 1, what)
    bias = opt_tensor(graph, op, 2)
    out = out_tensor(graph, op)
    check_dtype(x, (activations,), "input")
    check_dtype(out, (activations,), "output")
    check_dtype(w, ("int8",), what)
    const_data(w, f"the {what}")
    if bias is not None:
        check_dtype(bias, (bias_type,), "bias" if activations == "int8" else "16x8 bias")
        const_data(bias, "the bias")
    return x, w, bias, out



def constants_of(name: str, w: Tensor, bias: Tensor | None, mults: list[int], shifts: list[int],
                 comment: str, bias_ctype: str = "int32_t") -> tuple[ConstArray, ...]:
    """The weights, the requantization arrays (comment: "... {multipliers|shifts} ({what}) ...")
    and the bias, in the order the generated data lists them."""
    constants = [
        weights_array(name, w, "int8_t"),
        i32_array("multiplier", mults, comment.format("multipliers", "Q0.31")),
        i32_array("shift", shifts, comment.format("shifts", "exponents")),
    ]
    if bias is not None:
        constants.append(weights_array("bias", bias, bias_ctype))
    return tuple(constants)



@dataclass(frozen=True)
class ConvGeometry:
    """A CONV_2D or DEPTHWISE_CONV_2D's checked shapes, whatever its types (int8, 16x8):
    NHWC dims, the kernel struct's geometry fields (`params`: strides, padding, dilation;
    depthwise also its multiplier) and the MACs."""

    op: Operator
    ind: dict[str, int]
    fd: dict[str, int]
    od: dict[str, int]
    params: dict[str, int]
    macs: int

    @property
    def channels(self) -> int:
        return self.od["c"]

    def describe(self) -> str:
        p = self.params
        return (f"{self.fd['h']}x{self.fd['w']} stride {p['stride_h']}x{p['stride_w']} "
                f"dilation {p['dilation_h']}x{p['dilation_w']} {self.op.option('padding', 'SAME')}")


def conv_geometry(op: Operator, x: Tensor, filt: Tensor, out: Tensor, kind: str) -> ConvGeometry:
    """The geometry of a convolution (`kind` "conv") or depthwise one, checked as TFLM's prepare
    checks it: per-channel scales on the right axis, the output size its padding gives, the
    filter's depth against the groups (conv) or the multiplier (depthwise)."""
    ind, fd, od = nhwc(x), nhwc(filt), nhwc(out)
    channels = od["c"]
    quant_axis = 0 if kind == "conv" else 3
    if filt.quant.per_channel:
        require(len(filt.quant.scale) == channels, "per-channel scales do not match the output channels")
        require(filt.quant.axis == quant_axis, f"per-channel axis {filt.quant.axis} (expected {quant_axis})")
    stride_h, stride_w = op.option("stride_h", 1), op.option("stride_w", 1)
    dil_h, dil_w = op.option("dilation_h_factor", 1), op.option("dilation_w_factor", 1)
    try:
        oh, pad_h = Q.op_padding(op, "h", stride_h, dil_h, ind["h"], fd["h"])
        ow, pad_w = Q.op_padding(op, "w", stride_w, dil_w, ind["w"], fd["w"])
    except Q.PrepareError as exc:
        raise LoweringError(str(exc)) from exc
    require((oh, ow) == (od["h"], od["w"]), f"output size {oh}x{ow} differs from the tensor's {od['h']}x{od['w']}")
    params = {"stride_w": stride_w, "stride_h": stride_h, "pad_w": pad_w, "pad_h": pad_h,
              "dilation_w": dil_w, "dilation_h": dil_h}
    if kind == "conv":
        require(fd["n"] == channels, "filter count differs from the output channels")
        require(ind["c"] % fd["c"] == 0 and channels % (ind["c"] // fd["c"]) == 0, "bad filter depth for groups")
        macs = numel(out.shape) * fd["h"] * fd["w"] * fd["c"]
    else:
        require(fd["n"] == 1 and fd["c"] == channels, "depthwise filter is not [1, kh, kw, out_c]")
        # the option, when it agrees with the shapes, is this quotient: the shapes decide
        require(channels % ind["c"] == 0, "output channels are not a multiple of the input channels")
        params["depth_multiplier"] = channels // ind["c"]
        macs = numel(out.shape) * fd["h"] * fd["w"]
    return ConvGeometry(op, ind, fd, od, params, macs)


def _conv_common(graph: Graph, op: Operator, kind: str) -> KernelCall:
    x, filt, bias, out = weighted(graph, op, "filter")
    require(filt.quant is not None and bool(filt.quant.scale), "filter has no quantization")
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    g = conv_geometry(op, x, filt, out, kind)
    act_min, act_max = activation(op, out)
    mults, shifts = Q.conv_per_channel(in_scale, filt.quant.scale, out_scale, g.channels)
    params = {**g.params, "input_offset": -in_zp, "output_offset": out_zp, "act_min": act_min, "act_max": act_max}
    if kind == "conv":
        kernel, ptype, src = "mcu_conv2d_s8", "mcu_conv_params", "mcu_conv2d_s8.c"
    else:
        kernel, ptype, src = "mcu_depthwise_conv2d_s8", "mcu_dw_conv_params", "mcu_depthwise_conv2d_s8.c"
    ind, fd, od, channels, macs = g.ind, g.fd, g.od, g.channels, g.macs
    constants = constants_of("filter", filt, bias, mults, shifts, "per-channel output {} ({})")
    structs = (
        StructParam("params", ptype, params),
        StructParam("quant", "mcu_per_channel_quant", {"multiplier": CRef("multiplier"), "shift": CRef("shift")}),
        StructParam("in_dims", "mcu_dims", ind),
        StructParam("filter_dims", "mcu_dims", fd),
        StructParam("bias_dims", "mcu_dims", {"n": 1, "h": 1, "w": 1, "c": channels} if bias is not None else no_bias_dims()),
        StructParam("out_dims", "mcu_dims", od),
    )
    bias_ref = "$c_bias" if bias is not None else "NULL"
    call = (
        f"{kernel}(NULL, &$s_params, &$s_quant, &$s_in_dims, (const int8_t *)$in0, "
        f"&$s_filter_dims, $c_filter, &$s_bias_dims, {bias_ref}, &$s_out_dims, (int8_t *)$out0)"
    )
    summary = (
        f"{g.describe()}, "
        f"{'per-channel' if filt.quant.per_channel else 'per-tensor'}, "
        f"{op.option('fused_activation_function', 'NONE')}, {macs} MACs"
    )
    return KernelCall(op.index, op.opcode, kernel, (src,), (x.index,), (out.index,), call,
                      constants=constants, structs=structs, summary=summary)


def lower_fully_connected(graph: Graph, op: Operator) -> KernelCall:
    x, w, bias, out = weighted(graph, op, "weights")
    require(op.option("weights_format", 0) in (0, "DEFAULT"), "shuffled weights format")
    require(len(w.shape) == 2, "weights are not 2-D")
    in_scale, in_zp = qparams(x)
    out_scale, out_zp = qparams(out)
    units, depth = (int(d) for d in w.shape)
    require(out.shape and int(out.shape[-1]) == units, "output depth differs from the weights' units")
    batches = out.size // units
    require(x.size == batches * depth, "input size is not batches x depth")
    require(w.quant is not None and bool(w.quant.scale), "weights have no quantization")
    if w.quant.per_channel:
        require(len(w.quant.scale) == units, "per-channel scales do not match the units")
        mults, shifts = Q.conv_per_channel(in_scale, w.quant.scale, out_scale, units)
        filter_offset = 0
    else:
        m, s = Q.fc_per_tensor(in_scale, w.quant.scale[0], out_scale)
        mults, shifts = [m] * units, [s] * units
        filter_offset = -int(w.quant.zero_point[0])
    act_min, act_max = activation(op, out)
    constants = constants_of("weights", w, bias, mults, shifts, "output {} ({}), one per unit")
    structs = (
        StructParam("params", "mcu_fc_params", {
            "input_offset": -in_zp, "filter_offset": filter_offset, "output_offset": out_zp,
            "act_min": act_min, "act_max": act_max,
        }),
        StructParam("quant", "mcu_per_channel_quant", {"multiplier": CRef("multiplier"), "shift": CRef("shift")}),
        StructParam("in_dims", "mcu_dims", {"n": batches, "h": 1, "w": 1, "c": depth}),
        StructParam("filter_dims", "mcu_dims", {"n": units, "h": 1, "w": 1, "c": depth}),
        StructParam("bias_dims", "mcu_dims", {"n": 1, "h": 1, "w": 1, "c": units} if bias is not None else no_bias_dims()),
        StructParam("out_dims", "mcu_dims", {"n": batches, "h": 1, "w": 1, "c": units}),
    )
    bias_ref = "$c_bias" if bias is not None else "NULL"
    call = (
        "mcu_fully_connected_s8(NULL, &$s_params, &$s_quant, &$s_in_dims, (const int8_t *)$in0, "
        f"&$s_filter_dims, $c_weights, &$s_bias_dims, {bias_ref}, &$s_out_dims, (int8_t *)$out0)"
    )
    summary = (
        f"{batches}x{depth} -> {units}, {'per-channel' if w.quant.per_channel else 'per-tensor'}, "
        f"{op.option('fused_activation_function', 'NONE')}, {batches * units * depth} MACs"
    )
    return KernelCall(op.index, op.opcode, "mcu_fully_connected_s8", ("mcu_fully_connected_s8.c",),
                      (x.index,), (out.index,), call, constants=constants, structs=structs, summary=summary)


LOWERINGS = {
    "CONV_2D": partial(_conv_common, kind="conv"),
    "DEPTHWISE_CONV_2D": partial(_conv_common, kind="depthwise"),
    "FULLY_CONNECTED": lower_fully_connected,
}
