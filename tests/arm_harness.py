"""Runs the Cortex-M7 kernels against the portable kernels, on the host or on QEMU.

A case is one operator in a small synthetic Graph (or a real model's): the
Cortex-M7 side is prepared by mcugen.lower.arm (the variant's stream: layout,
folded bias, requantization), the portable side with TFLM's prepare arithmetic
(mcugen.lower.quant), as the cubeai lowering does. tests/kernel_driver/driver.c
runs both on every case and returns both outputs and, on QEMU, the instruction
counts of both calls (QEMU -icount shift=0: the mps2 timer counts instructions);
built with CMSIS-NN (run_qemu(cmsis=True)) it also runs the CMSIS-NN kernel TFLM
would call. `acle_case` checks the emulated DSP operations themselves.

    cases = [prepare(*conv_case(rng, ...)), ...]
    results = run_host(cases)          # gcc build with the ACLE emulation (+ ASan/UBSan)
    results = run_qemu(cases)          # arm-none-eabi-gcc -O2 build, real DSP instructions
    results = run_qemu(cases, defines=("MCU_PORTABLE_C=1",))   # the kernels' ISO C path
    results = run_qemu(cases, compiler="clang")                 # clang-compiled, gcc-linked

Used by tests/test_kernels_arm.py and bench/kernels.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from mcugen.lower import quant as Q
from mcugen.lower.arm import ArmVariant, select_arm_variant
from mcugen.lower.call import KernelCall
from mcugen.model.graph import Graph, Operator, Quantization, Tensor
from mcugen.ops.access import min_distance

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "firmware" / "kernels"
DRIVER = ROOT / "tests" / "kernel_driver"
PORTABLE_SOURCES = ("mcu_conv2d_s8.c", "mcu_depthwise_conv2d_s8.c", "mcu_fully_connected_s8.c",
                    "mcu_avgpool_s8.c", "mcu_add_s8.c",
                    "mcu_lstm_s8.c")  # the M7 LSTM shares the step's end with the portable one
QEMU_TIMEOUT = 600.0

# blob slots and kinds: tests/kernel_driver/driver.c
B_IN_DIMS, B_INPUT, B_OUT_DIMS, B_INPUT2 = 0, 1, 2, 3
B_P_PARAMS, B_P_FILTER_DIMS, B_P_FILTER, B_P_BIAS, B_P_MULT, B_P_SHIFT = 4, 5, 6, 7, 8, 9
B_A_PARAMS, B_A_FILTER_DIMS, B_A_FILTER, B_A_RQ, B_A_SCRATCH = 10, 11, 12, 13, 14
N_BLOBS = 15
P_KIND = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 3, "AVERAGE_POOL_2D": 4, "ADD": 5}
A_KIND = {"conv1x1": 1, "conv": 2, "dw3x3": 3, "fc": 4, "avgpool": 5, "add": 6, "dw": 7,
          "conv1x1_w16": 1, "conv_w16": 2, "fc_w16": 4}

# C struct field orders (all int32)
STRUCT_FIELDS = {
    "mcu_dims": ("n", "h", "w", "c"),
    "mcu_arm_conv_params": ("stride_w", "stride_h", "pad_w", "pad_h", "dilation_w", "dilation_h", "pad_value",
                            "output_offset", "act_min", "act_max", "flags"),
    "mcu_arm_fc_params": ("output_offset", "act_min", "act_max", "flags"),
    "mcu_pool_params": ("stride_w", "stride_h", "pad_w", "pad_h", "filter_w", "filter_h", "act_min", "act_max"),
    "mcu_arm_add_params": ("mult", "add", "shift", "output_offset", "act_min", "act_max", "flags"),
}


# ---------------------------------------------------------------------------------
# synthetic graphs


def _tensor(index: int, name: str, shape: tuple[int, ...], dtype: str, scale: Any = None, zp: Any = None,
            data: np.ndarray | None = None, axis: int = 0) -> Tensor:
    quant = None
    if scale is not None:
        scales = tuple(float(s) for s in np.atleast_1d(scale))
        zps = tuple(int(z) for z in np.atleast_1d(zp if zp is not None else 0))
        if len(zps) == 1 and len(scales) > 1:
            zps = zps * len(scales)
        quant = Quantization(scales, zps, axis)
    return Tensor(index, name, tuple(int(d) for d in shape), dtype, quant, data)


def _graph(tensors: list[Tensor], op: Operator) -> Graph:
    return Graph("case", tuple(tensors), (op,), tuple(op.inputs[:1]), op.outputs, "0" * 64)


def _out_size(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    eff = (k - 1) * dilation + 1
    return (size + stride - 1) // stride if padding == "SAME" else (size + stride - eff) // stride


def _scales(rng: np.random.Generator, w2d: np.ndarray, bias: np.ndarray | None, in_zp: int, per_channel: bool,
            special: bool) -> tuple[float, np.ndarray, float, int]:
    """Input, filter and output scales and the output zero point for filters w2d
    [channels, depth], chosen so that the outputs spread over the int8 range (from the
    accumulators' expected mean and spread); `special` gives one channel a multiplier
    >= 0.5 (the exact path) or a zero multiplier."""
    channels = w2d.shape[0]
    w = w2d.astype(np.float64)
    in_scale = float(rng.uniform(0.005, 0.1))
    w_scale = rng.uniform(0.002, 0.03, size=channels if per_channel else 1)
    mean = (-0.5 - in_zp) * w.sum(axis=1) + (bias if bias is not None else 0) * 0.0
    spread = 74.0 * np.sqrt((w * w).sum(axis=1)) + 1.0
    ws = w_scale if per_channel else np.full(channels, w_scale[0])
    real_spread = float(np.median(spread * ws)) * in_scale
    out_scale = real_spread / 40.0 * float(rng.uniform(0.5, 2.0))
    out_zp = int(np.clip(-np.median(mean * ws) * in_scale / out_scale + rng.integers(-30, 31), -128, 127))
    if special and per_channel and channels >= 2:
        k = int(rng.integers(channels))
        if rng.random() < 0.5:
            w_scale[k] = out_scale / in_scale * float(rng.uniform(0.6, 3.0))   # multiplier >= 0.5
        else:
            w_scale[k] = out_scale / in_scale * 1e-12                            # multiplier 0
    return in_scale, w_scale, out_scale, out_zp


@dataclass
class Case:
    """One operator to run both ways."""

    graph: Graph
    op: Operator
    label: str
    overlap: bool = False        # run the Cortex-M7 kernel in place at its min distance
    in_shift: int = 0            # misalign its input by this many bytes
    variant: ArmVariant | None = None
    call: KernelCall | None = None
    distance: int | None = None
    blobs: list[bytes] = field(default_factory=list)
    out_bytes: int = 0


def conv_case(rng: np.random.Generator, *, n: int = 1, h: int, w: int, in_c: int, out_c: int, k_h: int, k_w: int,
              stride: tuple[int, int] = (1, 1), dilation: tuple[int, int] = (1, 1), padding: str = "SAME",
              depthwise: bool = False, mult: int = 1, act: str = "NONE", per_channel: bool = True,
              bias: bool = True, special: bool = False, in_zp: int | None = None, out_zp: int | None = None,
              label: str = "") -> tuple[Graph, Operator]:
    """A CONV_2D (or DEPTHWISE_CONV_2D, out_c = in_c * mult) op with random data."""
    sh, sw = stride
    dh, dw = dilation
    oh, ow = _out_size(h, k_h, sh, dh, padding), _out_size(w, k_w, sw, dw, padding)
    if depthwise:
        out_c = in_c * mult
        fshape: tuple[int, ...] = (1, k_h, k_w, out_c)
        axis = 3
    else:
        fshape, axis = (out_c, k_h, k_w, in_c), 0
    in_zp = int(rng.integers(-128, 128)) if in_zp is None else in_zp
    filt = rng.integers(-127, 128, size=fshape).astype(np.int8)
    if rng.random() < 0.2 and not depthwise:
        filt[..., 0] = 0
    b = rng.integers(-20000, 20000, size=out_c).astype(np.int32) if bias else None
    w2d = filt.reshape(-1, out_c).T if depthwise else filt.reshape(out_c, -1)
    in_scale, w_scale, out_scale, auto_zp = _scales(rng, w2d, b, in_zp, per_channel, special)
    out_zp = auto_zp if out_zp is None else out_zp
    x = rng.integers(-128, 128, size=(n, h, w, in_c)).astype(np.int8)
    tensors = [
        _tensor(0, "x", x.shape, "int8", in_scale, in_zp, None),
        _tensor(1, "filter", fshape, "int8", w_scale, 0, filt, axis),
        _tensor(2, "y", (n, oh, ow, out_c), "int8", out_scale, out_zp, None),
    ]
    inputs = [0, 1]
    if b is not None:
        tensors.append(_tensor(3, "bias", (out_c,), "int32", in_scale * w_scale, 0, b))
        inputs.append(3)
    else:
        inputs.append(-1)
    options = {"stride_h": sh, "stride_w": sw, "dilation_h_factor": dh, "dilation_w_factor": dw,
               "padding": padding, "fused_activation_function": act}
    if depthwise:
        options["depth_multiplier"] = mult
    op = Operator(0, "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", tuple(inputs), (2,),
                  MappingProxyType(options))
    graph = Graph(label or "case", tuple(tensors), (op,), (0,), (2,), "0" * 64)
    object.__setattr__(graph, "_input_data", x)
    return graph, op


def fc_case(rng: np.random.Generator, *, batches: int, depth: int, units: int, act: str = "NONE",
            per_channel: bool = False, bias: bool = True, special: bool = False) -> tuple[Graph, Operator]:
    in_zp = int(rng.integers(-128, 128))
    wts = rng.integers(-127, 128, size=(units, depth)).astype(np.int8)
    b = rng.integers(-20000, 20000, size=units).astype(np.int32) if bias else None
    in_scale, w_scale, out_scale, out_zp = _scales(rng, wts, b, in_zp, per_channel, special)
    x = rng.integers(-128, 128, size=(batches, depth)).astype(np.int8)
    tensors = [
        _tensor(0, "x", x.shape, "int8", in_scale, in_zp),
        _tensor(1, "weights", wts.shape, "int8", w_scale, 0, wts, 0),
        _tensor(2, "y", (batches, units), "int8", out_scale, out_zp),
    ]
    inputs = [0, 1, -1]
    if b is not None:
        tensors.append(_tensor(3, "bias", (units,), "int32", in_scale * w_scale, 0, b))
        inputs[2] = 3
    op = Operator(0, "FULLY_CONNECTED", tuple(inputs), (2,), MappingProxyType({"fused_activation_function": act}))
    graph = Graph("fc", tuple(tensors), (op,), (0,), (2,), "0" * 64)
    object.__setattr__(graph, "_input_data", x)
    return graph, op


def pool_case(rng: np.random.Generator, *, n: int = 1, h: int, w: int, c: int, f_h: int, f_w: int,
              stride: tuple[int, int] = (1, 1), padding: str = "VALID", act: str = "NONE") -> tuple[Graph, Operator]:
    oh, ow = _out_size(h, f_h, stride[0], 1, padding), _out_size(w, f_w, stride[1], 1, padding)
    scale, zp = float(rng.uniform(0.01, 0.1)), int(rng.integers(-128, 128))
    x = rng.integers(-128, 128, size=(n, h, w, c)).astype(np.int8)
    tensors = [_tensor(0, "x", x.shape, "int8", scale, zp), _tensor(1, "y", (n, oh, ow, c), "int8", scale, zp)]
    op = Operator(0, "AVERAGE_POOL_2D", (0,), (1,), MappingProxyType({
        "filter_height": f_h, "filter_width": f_w, "stride_h": stride[0], "stride_w": stride[1],
        "padding": padding, "fused_activation_function": act}))
    graph = Graph("pool", tuple(tensors), (op,), (0,), (1,), "0" * 64)
    object.__setattr__(graph, "_input_data", x)
    return graph, op


def add_case(rng: np.random.Generator, *, shape: tuple[int, ...], act: str = "NONE") -> tuple[Graph, Operator]:
    s1, s2 = float(rng.uniform(0.01, 0.2)), float(rng.uniform(0.01, 0.2))
    so = float(rng.uniform(0.5, 2.0)) * max(s1, s2) * 1.5
    z1, z2, zo = (int(v) for v in rng.integers(-128, 128, size=3))
    a = rng.integers(-128, 128, size=shape).astype(np.int8)
    b = rng.integers(-128, 128, size=shape).astype(np.int8)
    tensors = [_tensor(0, "a", shape, "int8", s1, z1), _tensor(1, "b", shape, "int8", s2, z2),
               _tensor(2, "y", shape, "int8", so, zo)]
    op = Operator(0, "ADD", (0, 1), (2,), MappingProxyType({"fused_activation_function": act}))
    graph = Graph("add", tuple(tensors), (op,), (0, 1), (2,), "0" * 64)
    object.__setattr__(graph, "_input_data", a)
    object.__setattr__(graph, "_input2_data", b)
    return graph, op


# ---------------------------------------------------------------------------------
# serialisation


def _i32(values: Any) -> bytes:
    return np.asarray(values, dtype=np.int64).astype("<i4").tobytes()


def _struct(ctype: str, fields: dict[str, Any]) -> bytes:
    return _i32([int(fields[k]) for k in STRUCT_FIELDS[ctype]])


def _qp(t: Tensor) -> tuple[float, int]:
    assert t.quant is not None
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def _portable_blobs(graph: Graph, op: Operator, blobs: list[bytes]) -> None:
    """The portable kernel's arguments, computed as mcugen.lower's op families do."""
    x = graph.tensors[op.inputs[0]]
    out = graph.tensors[op.outputs[0]]
    in_scale, in_zp = _qp(x)
    out_scale, out_zp = _qp(out)
    act = op.option("fused_activation_function", "NONE")
    act_min, act_max = Q.activation_range(act, "int8", out_scale, out_zp)
    if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        filt = graph.tensors[op.inputs[1]]
        channels = int(out.shape[3])
        mults, shifts = Q.conv_per_channel(in_scale, filt.quant.scale, out_scale, channels)
        sh, sw = op.option("stride_h", 1), op.option("stride_w", 1)
        dh, dw = op.option("dilation_h_factor", 1), op.option("dilation_w_factor", 1)
        _, pad_h = Q.padding(sh, dh, int(x.shape[1]), int(filt.shape[1]), op.option("padding"))
        _, pad_w = Q.padding(sw, dw, int(x.shape[2]), int(filt.shape[2]), op.option("padding"))
        params = [sw, sh, pad_w, pad_h, dw, dh]
        if op.opcode == "DEPTHWISE_CONV_2D":
            params.append(channels // int(x.shape[3]))
        params += [-in_zp, out_zp, act_min, act_max]
        blobs[B_P_PARAMS] = _i32(params)
        blobs[B_P_FILTER_DIMS] = _i32(filt.shape)
        blobs[B_P_FILTER] = np.asarray(filt.data, dtype=np.int8).tobytes()
        blobs[B_P_MULT], blobs[B_P_SHIFT] = _i32(mults), _i32(shifts)
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            blobs[B_P_BIAS] = _i32(graph.tensors[op.inputs[2]].data)
        blobs[B_IN_DIMS] = _i32(x.shape)
        blobs[B_OUT_DIMS] = _i32(out.shape)
    elif op.opcode == "FULLY_CONNECTED":
        wt = graph.tensors[op.inputs[1]]
        units, depth = (int(d) for d in wt.shape)
        batches = out.size // units
        if wt.quant.per_channel:
            mults, shifts = Q.conv_per_channel(in_scale, wt.quant.scale, out_scale, units)
        else:
            m, s = Q.fc_per_tensor(in_scale, wt.quant.scale[0], out_scale)
            mults, shifts = [m] * units, [s] * units
        blobs[B_P_PARAMS] = _i32([-in_zp, 0, out_zp, act_min, act_max])
        blobs[B_P_FILTER_DIMS] = _i32([units, 1, 1, depth])
        blobs[B_P_FILTER] = np.asarray(wt.data, dtype=np.int8).tobytes()
        blobs[B_P_MULT], blobs[B_P_SHIFT] = _i32(mults), _i32(shifts)
        if op.inputs[2] >= 0:
            blobs[B_P_BIAS] = _i32(graph.tensors[op.inputs[2]].data)
        blobs[B_IN_DIMS] = _i32([batches, 1, 1, depth])
        blobs[B_OUT_DIMS] = _i32([batches, 1, 1, units])
    elif op.opcode == "AVERAGE_POOL_2D":
        fh, fw = op.option("filter_height"), op.option("filter_width")
        sh, sw = op.option("stride_h"), op.option("stride_w")
        _, pad_h = Q.padding(sh, 1, int(x.shape[1]), fh, op.option("padding"))
        _, pad_w = Q.padding(sw, 1, int(x.shape[2]), fw, op.option("padding"))
        blobs[B_P_PARAMS] = _i32([sw, sh, pad_w, pad_h, fw, fh, act_min, act_max])
        blobs[B_IN_DIMS] = _i32(x.shape)
        blobs[B_OUT_DIMS] = _i32(out.shape)
    elif op.opcode == "ADD":
        b = graph.tensors[op.inputs[1]]
        s2, z2 = _qp(b)
        mp = Q.add_params(in_scale, s2, out_scale)
        blobs[B_P_PARAMS] = _i32([-in_zp, -z2, mp["left_shift"], mp["input1_multiplier"], mp["input1_shift"],
                                  mp["input2_multiplier"], mp["input2_shift"], mp["output_multiplier"],
                                  mp["output_shift"], out_zp, act_min, act_max])
        blobs[B_IN_DIMS] = _i32([1, 1, 1, out.size])
        blobs[B_OUT_DIMS] = _i32([1, 1, 1, out.size])
    else:
        raise ValueError(op.opcode)


def _arm_blobs(call: KernelCall, blobs: list[bytes]) -> None:
    structs = {s.name: s for s in call.structs}
    consts = {c.name: c for c in call.constants}
    p = structs["params"]
    blobs[B_A_PARAMS] = _struct(p.ctype, dict(p.fields))
    if "filter_dims" in structs:
        blobs[B_A_FILTER_DIMS] = _struct("mcu_dims", dict(structs["filter_dims"].fields))
    if "packed" in consts:
        blobs[B_A_FILTER] = _i32(consts["packed"].values)
    if "table1" in consts:
        blobs[B_A_RQ] = _i32(consts["table1"].values) + _i32(consts["table2"].values)
    if call.scratch_bytes:
        blobs[B_A_SCRATCH] = _i32([call.scratch_bytes])


def prepare(graph: Graph, op: Operator, label: str = "", overlap: bool = False, in_shift: int = 0,
            variant: ArmVariant | None = None, wide_limit: int | None = 0) -> Case:
    """A case ready to serialise: the variant `select_arm_variant(graph, op, wide_limit)`
    picks (int8 filters unless told otherwise), or the given one."""
    variant = variant or select_arm_variant(graph, op, wide_limit)
    if variant is None:
        raise ValueError(f"no Cortex-M7 variant for {label or op.opcode}")
    call = variant.prepare(graph, op)
    blobs = [b""] * N_BLOBS
    _portable_blobs(graph, op, blobs)
    blobs[B_INPUT] = np.asarray(getattr(graph, "_input_data"), dtype=np.int8).tobytes()
    if op.opcode == "ADD":
        blobs[B_INPUT2] = np.asarray(getattr(graph, "_input2_data"), dtype=np.int8).tobytes()
    _arm_blobs(call, blobs)
    out = graph.tensors[op.outputs[0]]
    distance = None
    if overlap:
        if variant.pixels_in_flight is None:
            raise ValueError(f"{variant.name} has no raster overlap model")
        distance = min_distance(graph, op, group=variant.pixels_in_flight)
    return Case(graph, op, label or variant.name, overlap, in_shift, variant, call, distance, blobs, out.nbytes)


ACLE_RESULTS = 16  # driver.c


def acle_case(rng: np.random.Generator, triples: int = 4000) -> Case:
    """Every emulated DSP operation of mcu_arm_acle.h on random words, edge values included:
    run on the host and on QEMU, the outputs must be equal."""
    edges = np.array([0, 1, -1, 0x7FFFFFFF, -(2**31), 0x7FFF, -0x8000, 0x80, -0x80, 0x7F7F7F7F, 0x80808080],
                     dtype=np.int64)
    words = rng.integers(-(2**31), 2**31, size=(triples, 3), dtype=np.int64)
    words[: len(edges) ** 2, 0] = np.repeat(edges, len(edges))
    words[: len(edges) ** 2, 1] = np.tile(edges, len(edges))
    blobs = [b""] * N_BLOBS
    blobs[B_INPUT] = _i32(((words + 2**31) % 2**32) - 2**31)
    case = Case(Graph("acle", (), (), (), (), "0" * 64), Operator(0, "ACLE", (), ()), "acle")
    case.blobs = blobs
    case.out_bytes = triples * ACLE_RESULTS * 4
    return case


def serialise(cases: list[Case]) -> bytes:
    parts = [b"MKC1", struct.pack("<i", len(cases))]
    for c in cases:
        if c.op.opcode == "ACLE":
            parts.append(struct.pack("<6i", 0, 0, c.out_bytes, -1, 0, len(c.blobs)))
            for b in c.blobs:
                parts.append(struct.pack("<i", len(b)) + b + b"\0" * (-len(b) % 4))
            continue
        assert c.call is not None and c.variant is not None
        parts.append(struct.pack("<6i", P_KIND[c.op.opcode], A_KIND[c.variant.name], c.out_bytes,
                                 c.distance if c.distance is not None else -1, c.in_shift, len(c.blobs)))
        for b in c.blobs:
            parts.append(struct.pack("<i", len(b)) + b + b"\0" * (-len(b) % 4))
    return b"".join(parts)


NO_CMSIS = -100  # driver.c DRIVER_NO_CMSIS


@dataclass(frozen=True)
class Result:
    case: Case
    status_portable: int
    status_arm: int
    count_portable: int
    count_arm: int
    out_portable: np.ndarray
    out_arm: np.ndarray
    status_cmsis: int = NO_CMSIS    # CMSIS-NN's kernel (QEMU driver built with CMSIS-NN)
    count_cmsis: int = 0
    out_cmsis: np.ndarray | None = None

    @property
    def cmsis_exact(self) -> bool | None:
        if self.status_cmsis == NO_CMSIS or self.out_cmsis is None:
            return None
        return self.status_cmsis == 0 and np.array_equal(self.out_portable, self.out_cmsis)

    @property
    def ok(self) -> bool:
        return self.status_portable == 0 and self.status_arm == 0 and np.array_equal(self.out_portable, self.out_arm)

    def describe(self) -> str:
        diff = int(np.count_nonzero(self.out_portable != self.out_arm))
        return (f"{self.case.label}: status {self.status_portable}/{self.status_arm}, {diff} of "
                f"{self.out_portable.size} bytes differ")


def parse(data: bytes, cases: list[Case]) -> list[Result]:
    if data[:4] != b"MKR1":
        raise RuntimeError("results.bin has a bad magic")
    (n,) = struct.unpack_from("<i", data, 4)
    if n != len(cases):
        raise RuntimeError(f"results for {n} cases, expected {len(cases)}")
    pos, out = 8, []
    for c in cases:
        sp, sa, sc, plo, phi, alo, ahi, clo, chi, nbytes = struct.unpack_from("<10i", data, pos)
        pos += 40
        padded = nbytes + (-nbytes % 4)
        outs = []
        for _ in range(3):
            outs.append(np.frombuffer(data, dtype=np.int8, count=nbytes, offset=pos).copy())
            pos += padded
        out.append(Result(c, sp, sa, (plo & 0xFFFFFFFF) | (phi << 32), (alo & 0xFFFFFFFF) | (ahi << 32),
                          outs[0], outs[1], sc, (clo & 0xFFFFFFFF) | (chi << 32), outs[2]))
    return out


# ---------------------------------------------------------------------------------
# builds and runs


def _sources_digest(extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for p in sorted([*KERNELS.glob("*.h"), *KERNELS.glob("*.c"), *(KERNELS / "arm").glob("*"), *DRIVER.glob("*"),
                     Path(__file__)]):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _build_dir() -> Path:
    root = Path(os.environ.get("MCUGEN_TEST_CACHE", Path.home() / ".cache" / "mcugen-tests")) / "arm-kernels"
    root.mkdir(parents=True, exist_ok=True)
    return root


def host_driver(sanitize: bool = True) -> Path:
    """The driver built with the host cc (ACLE emulation); cached by source digest."""
    flags = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-DDRIVER_MALLOC"] \
        if sanitize else ["-O2"]
    exe = _build_dir() / f"driver-host-{_sources_digest(' '.join(flags))}"
    if not exe.exists():
        srcs = [DRIVER / "driver.c", DRIVER / "driver_io_host.c", *sorted((KERNELS / "arm").glob("*.c")),
                *(KERNELS / s for s in PORTABLE_SOURCES)]
        cmd = [os.environ.get("CC", "cc"), *flags, "-std=gnu11", "-Wall", "-Wextra", "-Werror",
               f"-I{KERNELS}", f"-I{DRIVER}", *map(str, srcs), "-o", str(exe) + ".tmp"]
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
        os.replace(str(exe) + ".tmp", exe)
    return exe


def _run_driver(argv: list[str], cases: list[Case], timeout: float) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="mcugen-armk-") as tmp:
        Path(tmp, "cases.bin").write_bytes(serialise(cases))
        proc = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise RuntimeError(f"driver exited with {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        return parse(Path(tmp, "results.bin").read_bytes(), cases)


def run_host(cases: list[Case], sanitize: bool = True, timeout: float = 600.0) -> list[Result]:
    return _run_driver([str(host_driver(sanitize))], cases, timeout)


CMSIS_NN = Path(os.environ.get(
    "MCUGEN_CMSIS_NN", "/work/shared/third_party/tflm/tensorflow/lite/micro/tools/make/downloads/cmsis_nn"))
CMSIS_DIRS = ("ConvolutionFunctions", "NNSupportFunctions", "FullyConnectedFunctions", "PoolingFunctions",
              "BasicMathFunctions")


def cmsis_nn_sources() -> list[Path]:
    """CMSIS-NN's int8 sources (the float ones need extra configuration), if present."""
    if not (CMSIS_NN / "Include" / "arm_nnfunctions.h").is_file():
        return []
    return sorted(p for d in CMSIS_DIRS for p in (CMSIS_NN / "Source" / d).glob("*.c")
                  if not p.stem.endswith(("_f16", "_f32")))


def clang_make_overrides() -> list[str]:
    """make variables that compile a generated Makefile's C with clang for the Arm target
    (newlib's headers from arm-none-eabi-gcc's sysroot, its enum size ABI) and link with
    arm-none-eabi-gcc (newlib and libgcc as built for it)."""
    return [f"CC=clang --target=arm-none-eabi --sysroot={arm_sysroot()}", "LINKER=arm-none-eabi-gcc",
            "EXTRA_CFLAGS=-fshort-enums"]


def arm_sysroot() -> str:
    """arm-none-eabi-gcc's newlib root (Debian's gcc prints no -print-sysroot)."""
    libc = subprocess.run(["arm-none-eabi-gcc", "-print-file-name=libc.a"], capture_output=True, text=True,
                          check=True).stdout.strip()
    return str(Path(libc).resolve().parent.parent)


def qemu_driver(opt_level: str = "-O2", cmsis: bool = False, defines: tuple[str, ...] = (),
                compiler: str = "gcc") -> Path:
    """The driver as mps2-an500 firmware (the mps2 board support's startup, linker script
    and counter), built with the project's Makefile template; cached by source digest.
    cmsis: also link CMSIS-NN (MCUGEN_CMSIS_NN, default: the shared TFLM tree's copy).
    defines: NAME=VALUE for every source (e.g. MCU_PORTABLE_C=1: the kernels' ISO C path);
    compiler "clang": C compiled by clang, linked by arm-none-eabi-gcc."""
    from mcugen.build import build_project
    from mcugen.firmware import FirmwareOptions, Manifest, firmware_bundle, render_makefile, write_files, \
        write_manifest

    if compiler not in ("gcc", "clang"):
        raise ValueError(f"compiler {compiler!r}: gcc or clang")
    cmsis_srcs = cmsis_nn_sources() if cmsis else []
    if cmsis and not cmsis_srcs:
        raise FileNotFoundError(f"CMSIS-NN not found at {CMSIS_NN} (set MCUGEN_CMSIS_NN)")
    key = " ".join([opt_level, *(["cmsis"] if cmsis else []), *defines, compiler])
    out = _build_dir() / f"driver-qemu-{_sources_digest(key)}"
    elf = out / "build" / "firmware.elf"
    if elf.exists():
        return elf
    out.mkdir(parents=True, exist_ok=True)
    options = FirmwareOptions(stack_size=32 * 1024, opt_level=opt_level)
    bundle = firmware_bundle("qemu-m7", options)
    # The protocol runtime is not linked: the driver talks through semihosting.
    bundle = dataclasses.replace(bundle, sources=tuple(s for s in bundle.sources if "/runtime/" not in s))
    files: dict[str, str | bytes] = dict(bundle.files)
    app = []
    for p in [DRIVER / "driver.c", DRIVER / "driver_io_semihost.c", DRIVER / "driver_io.h"]:
        files[f"app/{p.name}"] = p.read_text()
        if p.suffix == ".c":
            app.append(f"app/{p.name}")
    for p in [*KERNELS.glob("*.h"), *(KERNELS / s for s in PORTABLE_SOURCES)]:
        files[f"kernels/{p.name}"] = p.read_text()
        if p.suffix == ".c":
            app.append(f"kernels/{p.name}")
    for p in sorted((KERNELS / "arm").glob("*")):
        files[f"kernels/arm/{p.name}"] = p.read_text()
        if p.suffix == ".c":
            app.append(f"kernels/arm/{p.name}")
    include_dirs = ["kernels", "app"]
    app_defines: dict[str, str] = dict(d.split("=", 1) for d in defines)
    extra_cflags: list[str] = []
    if cmsis_srcs:
        for p in sorted((CMSIS_NN / "Include").rglob("*.h")):
            files[f"cmsis_nn/Include/{p.relative_to(CMSIS_NN / 'Include')}"] = p.read_text()
        for p in cmsis_srcs:
            files[f"cmsis_nn/{p.parent.name}/{p.name}"] = p.read_text()
            app.append(f"cmsis_nn/{p.parent.name}/{p.name}")
        include_dirs.append("cmsis_nn/Include")
        app_defines["DRIVER_CMSIS"] = "1"
        extra_cflags = ["-Wno-error"]  # third-party code, whatever its warnings
    files["Makefile"] = render_makefile(bundle, app_sources=app, app_include_dirs=include_dirs,
                                        app_defines=app_defines, extra_cflags=extra_cflags, werror=not cmsis_srcs)
    write_files(out, files)
    write_manifest(out, Manifest("qemu-m7", "cubeai", "arm-kernel-driver", "0" * 64, options))
    if compiler == "clang":
        proc = subprocess.run(["make", "-C", str(out), "-j2", "--no-print-directory", *clang_make_overrides()],
                              capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise RuntimeError(f"clang build of the driver failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    else:
        build_project(out)
    return elf


def qemu_command(elf: Path) -> list[str]:
    from mcugen.boards import get_board
    from mcugen.runners.qemu import QEMU_PROGRAM, qemu_command as base

    board = get_board("qemu-m7")
    argv = base(QEMU_PROGRAM, board.flash.qemu_machine, board.core, elf)
    argv[argv.index("-serial") + 1] = "null"
    return argv + ["-semihosting-config", "enable=on,target=native"]


def run_qemu(cases: list[Case], timeout: float = QEMU_TIMEOUT, cmsis: bool = False,
             opt_level: str = "-O2", defines: tuple[str, ...] = (), compiler: str = "gcc") -> list[Result]:
    return _run_driver(qemu_command(qemu_driver(opt_level, cmsis=cmsis, defines=defines, compiler=compiler)),
                       cases, timeout)
