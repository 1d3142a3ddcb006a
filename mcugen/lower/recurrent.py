"""Recurrent operators: SVDF, its state kept in the activations between runs."""

from __future__ import annotations

import numpy as np

from mcugen.lower import quant as Q
from mcugen.lower.call import C_TYPES, KernelCall, StructParam, check_dtype, const_data, in_tensor, opt_tensor
from mcugen.lower.call import out_tensor, qparams, require, weights_array
from mcugen.model.graph import Graph, Operator


def lower_svdf(graph: Graph, op: Operator) -> KernelCall:
    x = in_tensor(graph, op, 0, "input")
    wf = in_tensor(graph, op, 1, "feature weights")
    wt = in_tensor(graph, op, 2, "time weights")
    bias = opt_tensor(graph, op, 3)
    state = in_tensor(graph, op, 4, "state")
    out = out_tensor(graph, op)
    check_dtype(x, ("int8",), "input")
    check_dtype(out, ("int8",), "output")
    check_dtype(wf, ("int8",), "feature weights")
    check_dtype(wt, ("int8", "int16"), "time weights")
    require(state.dtype == wt.dtype, "state and time weights differ in type")
    require(state.is_variable and not state.is_constant, "the state is not a variable tensor")
    const_data(wf, "the feature weights")
    const_data(wt, "the time weights")
    if bias is not None:
        check_dtype(bias, ("int32",), "bias")
        const_data(bias, "the bias")
    rank = int(op.option("rank", 1))
    require(len(x.shape) == 2 and len(out.shape) == 2, "input and output must be 2-D")
    batches, input_size = (int(d) for d in x.shape)
    filters = int(wf.shape[0])
    require(rank > 0 and filters % rank == 0, "filters are not a multiple of the rank")
    units = filters // rank
    memory = int(wt.shape[1])
    require(tuple(state.shape) == (batches, filters * memory), "state shape")
    require(tuple(out.shape) == (batches, units), "output shape")
    in_s, in_zp = qparams(x)
    st_s, st_zp = qparams(state)
    out_s, out_zp = qparams(out)
    wf_s, _ = qparams(wf)
    wt_s, _ = qparams(wt)
    f32 = np.float32
    m1, s1 = Q.quantize_multiplier(float(f32(in_s) * f32(wf_s) / f32(st_s)))
    m2, s2 = Q.quantize_multiplier(float(f32(st_s) * f32(wt_s) / f32(out_s)))
    st_ctype = C_TYPES[state.dtype]
    kernel = "mcu_svdf_s8" if state.dtype == "int8" else "mcu_svdf_s8_s16"
    constants = [weights_array("weights_feature", wf, "int8_t"), weights_array("weights_time", wt, st_ctype)]
    if bias is not None:
        constants.append(weights_array("bias", bias, "int32_t"))
    structs = (StructParam("params", "mcu_svdf_params", {
        "batches": batches, "input_size": input_size, "filters": filters, "units": units, "rank": rank,
        "memory": memory, "input_zero_point": in_zp, "state_zero_point": st_zp, "output_zero_point": out_zp,
        "multiplier1": m1, "shift1": s1, "multiplier2": m2, "shift2": s2, "act_min": -128, "act_max": 127}),)
    bias_ref = "$c_bias" if bias is not None else "NULL"
    setup = "const mcu_context ctx = { $scratch, $scratch_size };"
    call = (f"{kernel}(&ctx, &$s_params, (const int8_t *)$in0, $c_weights_feature, $c_weights_time, "
            f"{bias_ref}, ({st_ctype} *)$in1, (int8_t *)$out0)")
    scratch = batches * (filters + units) * 4
    return KernelCall(op.index, op.opcode, kernel, ("mcu_svdf_s8.c",), (x.index, state.index), (out.index,), call,
                      setup=setup, constants=tuple(constants), structs=structs, scratch_bytes=scratch,
                      summary=f"rank {rank}, {filters} filters x {memory} steps, {state.dtype} state")


LOWERINGS = {
    "SVDF": lower_svdf,
}
