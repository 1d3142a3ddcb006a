"""Recurrent operators: SVDF and the integer UNIDIRECTIONAL_SEQUENCE_LSTM, their state
(variable tensors) kept from run to run."""

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


# UNIDIRECTIONAL_SEQUENCE_LSTM's inputs (TFLite's numbering): 1-4 input weights and 5-8
# recurrent weights, 12-15 biases, per gate in the order input, forget, cell, output.
_LSTM_ABSENT = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection", 17: "projection",
                20: "layer norm", 21: "layer norm", 22: "layer norm", 23: "layer norm"}
_GATE_INPUT_SCALE = 2.0 ** -12  # TFLM's gates enter their non-linearity in Q3.12
_GATE_OUTPUT_SCALE = 2.0 ** -15  # and leave it in Q0.15


def _f64(scale: float) -> float:
    """A TfLiteTensor scale (float) as the double TFLM's prepare computes with."""
    return float(np.float32(scale))


def _cell_scale_power(scale: float) -> int:
    """TFLM's CheckedLog2: the integer log2 of a power-of-two cell scale."""
    power = round(float(np.log2(_f64(scale))))
    require(abs(2.0 ** power - _f64(scale)) <= 1e-3 * 2.0 ** power, "the cell state scale is not a power of two")
    return power


def _refs(arrays: list) -> str:
    return ", ".join(f"$c_{a.name}" for a in arrays)


def lower_lstm(graph: Graph, op: Operator) -> KernelCall:
    """TFLM's integer LSTM (lstm_eval: int8 activations, int16 cell state, 8x8->16 gates)."""
    x = in_tensor(graph, op, 0, "input")
    out = out_tensor(graph, op)
    require(len(op.inputs) == 24, "the LSTM needs its 24 inputs")
    for position, what in _LSTM_ABSENT.items():
        require(op.inputs[position] < 0, f"{what} tensors (TFLM's integer LSTM has none)")
    hidden = in_tensor(graph, op, 18, "hidden state")
    cell = in_tensor(graph, op, 19, "cell state")
    check_dtype(x, ("int8",), "input")
    check_dtype(out, ("int8",), "output")
    check_dtype(hidden, ("int8",), "hidden state")
    check_dtype(cell, ("int16",), "cell state")
    require(hidden.is_variable and cell.is_variable, "the hidden and cell states are not variable tensors")
    require(op.option("fused_activation_function", "TANH") == "TANH", "a cell activation other than TANH")
    require(len(x.shape) == 3 and len(out.shape) == 3, "input and output must be 3-D")
    time_major = bool(op.option("time_major", False))
    steps, batches = (int(x.shape[0]), int(x.shape[1])) if time_major else (int(x.shape[1]), int(x.shape[0]))
    input_size = int(x.shape[2])
    units = int(hidden.shape[-1])
    require(tuple(out.shape) == (int(x.shape[0]), int(x.shape[1]), units), "output shape")
    require(int(np.prod(hidden.shape)) == batches * units and int(np.prod(cell.shape)) == batches * units,
            "state shapes")
    in_s, in_zp = qparams(x)
    h_s, h_zp = qparams(hidden)
    c_s, c_zp = qparams(cell)
    require(c_zp == 0, "the cell state has a zero point")
    weights, recurrent, biases = [], [], []
    m_in, s_in, m_rec, s_rec = [], [], [], []
    for gate in range(4):
        wi = in_tensor(graph, op, 1 + gate, "input weights")
        wr = in_tensor(graph, op, 5 + gate, "recurrent weights")
        b = in_tensor(graph, op, 12 + gate, "bias")
        for w, shape in ((wi, (units, input_size)), (wr, (units, units))):
            check_dtype(w, ("int8",), "weights")
            const_data(w, "the weights")
            require(tuple(w.shape) == shape, "weights shape")
            require(len(w.quant.scale) == 1 and int(w.quant.zero_point[0]) == 0,
                    "per-channel or asymmetric weights (TFLM's LSTM takes per-tensor symmetric ones)")
        check_dtype(b, ("int32",), "bias")
        const_data(b, "the bias")
        m, s = Q.quantize_multiplier(_f64(in_s) * _f64(wi.quant.scale[0]) / _GATE_INPUT_SCALE)
        m_in.append(m)
        s_in.append(s)
        m, s = Q.quantize_multiplier(_f64(h_s) * _f64(wr.quant.scale[0]) / _GATE_INPUT_SCALE)
        m_rec.append(m)
        s_rec.append(s)
        name = "ifco"[gate]
        weights.append(weights_array(f"w_input_{name}", wi, "int8_t"))
        recurrent.append(weights_array(f"w_recurrent_{name}", wr, "int8_t"))
        biases.append(weights_array(f"bias_{name}", b, "int32_t"))
    fm, fs = Q.quantize_multiplier(_GATE_OUTPUT_SCALE * _f64(c_s) / _f64(c_s))
    im, is_ = Q.quantize_multiplier(_GATE_OUTPUT_SCALE * _GATE_OUTPUT_SCALE / _f64(c_s))
    om, os_ = Q.quantize_multiplier(_GATE_OUTPUT_SCALE * _GATE_OUTPUT_SCALE / _f64(h_s))
    # TFLM's lstm_internal::Tanh: the cell (scale 2^power) into tanh's Q3.12 input, times 3 (the LUT's range).
    tanh_shift = 15 + _cell_scale_power(c_s) - 3
    tanh_mult, tanh_shift = (3, -tanh_shift) if tanh_shift < 0 else (3 << tanh_shift, 0)
    clip = _f64(float(op.option("cell_clip", 0.0)))
    cell_clip = int(min(max(clip / _f64(c_s), -32768.0), 32767.0)) if clip > 0 else 0
    rows = batches if time_major else 1
    structs = (StructParam("params", "mcu_lstm_params", {
        "batches": batches, "time_steps": steps, "input_size": input_size, "units": units,
        "time_major": int(time_major), "input_zero_point": in_zp, "hidden_zero_point": h_zp,
        "input_multiplier": m_in, "input_shift": s_in, "recurrent_multiplier": m_rec, "recurrent_shift": s_rec,
        "forget_multiplier": fm, "forget_shift": fs, "input_gate_multiplier": im, "input_gate_shift": is_,
        "output_multiplier": om, "output_shift": os_, "cell_tanh_multiplier": tanh_mult,
        "cell_tanh_shift": tanh_shift, "cell_clip": cell_clip}),)
    setup = ("const mcu_context ctx = { $scratch, $scratch_size };\n"
             f"const mcu_lstm_weights lw = {{ {{ {_refs(weights)} }}, {{ {_refs(recurrent)} }}, {{ {_refs(biases)} }} }};")
    call = "mcu_lstm_s8(&ctx, &$s_params, &lw, (const int8_t *)$in0, (int8_t *)$in1, (int16_t *)$in2, (int8_t *)$out0)"
    return KernelCall(op.index, op.opcode, "mcu_lstm_s8", ("mcu_lstm_s8.c",), (x.index, hidden.index, cell.index),
                      (out.index,), call, setup=setup, constants=tuple(weights + recurrent + biases),
                      structs=structs, scratch_bytes=4 * rows * units * 2,
                      summary=f"{steps} steps x {batches} batches, {input_size} in -> {units} units, "
                              f"{'time' if time_major else 'batch'}-major, int16 cell")


LOWERINGS = {
    "SVDF": lower_svdf,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": lower_lstm,
}
