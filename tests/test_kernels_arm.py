"""Cortex-M7 kernels (firmware/kernels/arm) and their generation-time side (mcugen.lower.arm).

Bit-exactness against the portable kernels on many random shapes and parameters:
on the host with the ACLE emulation (AddressSanitizer and UBSan on), and on
QEMU (mps2-an500, real DSP instructions, arm-none-eabi-gcc -O2) for the same
kind of cases, which also proves the emulation right. Overlap: each raster
variant run with its output overlapping its input at the planner's
min_distance for the variant's declared pixels in flight gives the same bytes.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import arm_harness as H
from mcugen.lower.arm import (
    AVGPOOL,
    CONV,
    CONV1X1,
    CONV1X1_W16,
    CONV_W16,
    DW,
    DW3X3,
    VARIANTS,
    select_arm_variant,
)
from mcugen.lower.arm.variant import REQUANT_EXACT
from mcugen.lower.arm import fixedpoint as FP
from mcugen.lower.arm import layouts as L
from mcugen.model.load import load_model
from mcugen.ops.access import GROUP, min_distance

ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


# ---------------------------------------------------------------------------------
# random cases


def random_cases(seed: int, count: int) -> list[H.Case]:
    """A mix of every variant over odd shapes, padding, strides, dilation, per-channel and
    per-tensor quantization, clamps, offsets, exact-path layers and misaligned inputs."""
    rng = np.random.default_rng(seed)
    cases: list[H.Case] = []
    while len(cases) < count:
        kind = rng.choice(["conv1x1", "conv", "dw3x3", "dw", "dw1", "fc", "avgpool", "add"],
                          p=[0.2, 0.2, 0.16, 0.12, 0.08, 0.08, 0.08, 0.08])
        act = str(rng.choice(ACTS))
        common = dict(act=act, per_channel=bool(rng.random() < 0.8), bias=bool(rng.random() < 0.85),
                      special=bool(rng.random() < 0.15))
        shift = int(rng.integers(0, 4)) if rng.random() < 0.3 else 0
        if kind == "conv1x1":
            s = int(rng.choice([1, 1, 2, 3]))
            g, op = H.conv_case(rng, n=int(rng.choice([1, 1, 2])), h=int(rng.integers(1, 10)),
                                w=int(rng.integers(1, 10)), in_c=int(rng.integers(1, 41)),
                                out_c=int(rng.integers(1, 41)), k_h=1, k_w=1, stride=(s, int(rng.choice([1, s]))),
                                padding=str(rng.choice(["SAME", "VALID"])), **common)
        elif kind == "conv":
            k_h, k_w = int(rng.integers(1, 6)), int(rng.integers(1, 6))
            d = (int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2])))
            h = int(rng.integers(max(1, (k_h - 1) * d[0] + 1), 12))
            w = int(rng.integers(max(1, (k_w - 1) * d[1] + 1), 12))
            g, op = H.conv_case(rng, n=int(rng.choice([1, 1, 2])), h=h, w=w, in_c=int(rng.integers(1, 13)),
                                out_c=int(rng.integers(1, 21)), k_h=k_h, k_w=k_w,
                                stride=(int(rng.integers(1, 4)), int(rng.integers(1, 4))), dilation=d,
                                padding=str(rng.choice(["SAME", "VALID"])), **common)
        elif kind == "dw":
            k_h, k_w = int(rng.integers(1, 8)), int(rng.integers(1, 8))
            d = (int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2])))
            lo_h, lo_w = (k_h - 1) * d[0] + 1, (k_w - 1) * d[1] + 1
            g, op = H.conv_case(rng, n=int(rng.choice([1, 1, 2])), h=int(rng.integers(lo_h, lo_h + 8)),
                                w=int(rng.integers(lo_w, lo_w + 8)), in_c=4 * int(rng.integers(1, 9)),
                                out_c=0, k_h=k_h, k_w=k_w, stride=(int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                                dilation=d, depthwise=True, padding=str(rng.choice(["SAME", "VALID"])), **common)
        elif kind in ("dw3x3", "dw1"):
            h, w = int(rng.integers(3, 13)), int(rng.integers(3, 13))
            s = int(rng.choice([1, 2]))
            if kind == "dw3x3":
                g, op = H.conv_case(rng, n=int(rng.choice([1, 1, 2])), h=h, w=w, in_c=4 * int(rng.integers(1, 13)),
                                    out_c=0, k_h=3, k_w=3, stride=(s, int(rng.choice([1, 2]))), depthwise=True,
                                    padding=str(rng.choice(["SAME", "VALID"])), **common)
            else:
                k = int(rng.choice([3, 3, 5]))
                g, op = H.conv_case(rng, h=max(h, k), w=max(w, k), in_c=1, out_c=0, k_h=k, k_w=k,
                                    stride=(s, s), depthwise=True, mult=int(rng.integers(1, 11)),
                                    padding=str(rng.choice(["SAME", "VALID"])), **common)
        elif kind == "fc":
            g, op = H.fc_case(rng, batches=int(rng.integers(1, 5)), depth=int(rng.integers(1, 80)),
                              units=int(rng.integers(1, 25)), act=act, per_channel=bool(rng.random() < 0.3),
                              bias=bool(rng.random() < 0.85), special=bool(rng.random() < 0.15))
        elif kind == "avgpool":
            f_h, f_w = int(rng.integers(1, 5)), int(rng.integers(1, 5))
            g, op = H.pool_case(rng, n=int(rng.choice([1, 2])), h=int(rng.integers(f_h, 10)),
                                w=int(rng.integers(f_w, 10)), c=int(rng.integers(1, 24)), f_h=f_h, f_w=f_w,
                                stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))),
                                padding=str(rng.choice(["SAME", "VALID"])), act=str(rng.choice(["NONE", "RELU6"])))
        else:
            shape = tuple(int(v) for v in rng.integers(1, 7, size=4))
            g, op = H.add_case(rng, shape=shape, act=act)
        if g.tensors[op.outputs[0]].size == 0:
            continue
        if select_arm_variant(g, op) is None:
            continue
        wide = bool(rng.random() < 0.4)
        cases.append(H.prepare(g, op, f"{kind}#{len(cases)} seed {seed}{' w16' if wide else ''}", in_shift=shift,
                               wide_limit=None if wide else 0))
    return cases


def assert_all_ok(results: list[H.Result]) -> None:
    bad = [r.describe() for r in results if not r.ok]
    assert not bad, "\n".join(bad[:20])


# ---------------------------------------------------------------------------------
# generation-time arithmetic


def test_fast_requant_matches_tflm_on_random_values() -> None:
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(20000):
        mult = int(rng.integers(2**30, 2**31))
        shift = -int(rng.integers(1, 32))
        off = int(rng.integers(-128, 128))
        bound = int(2 ** rng.uniform(0, 29.9))
        acc = int(rng.integers(-bound, bound + 1))
        row = FP.fold_channel(0, mult, shift, off, bound)
        if row is None or not row.fast:
            continue
        assert FP.fast_requant(2 * acc, row.mult, row.add, row.shift) == FP.mbqm(acc, mult, shift) + off
        checked += 1
    assert checked > 10000


def test_fast_requant_on_rounding_ties() -> None:
    """Accumulators where either rounding step meets an exact tie, both signs."""
    rng = np.random.default_rng(1)
    for _ in range(3000):
        r = int(rng.integers(1, 20))
        mult = int(rng.integers(2**30, 2**31))
        off = int(rng.integers(-128, 128))
        # x = SRDHM(acc, m) lands near k * 2^r + 2^(r-1): search accumulators around it
        k = int(rng.integers(-(2**27 >> r), 2**27 >> r))
        target = k * (1 << r) + (1 << (r - 1))
        acc0 = (target << 31) // mult
        row = FP.fold_channel(0, mult, -r, off, 2**29)
        assert row is not None and row.fast
        for acc in range(acc0 - 3, acc0 + 4):
            assert FP.fast_requant(2 * acc, row.mult, row.add, row.shift) == FP.mbqm(acc, mult, -r) + off
            assert FP.fast_requant(-2 * acc, row.mult, row.add, row.shift) == FP.mbqm(-acc, mult, -r) + off


def test_zero_multiplier_and_exact_rows() -> None:
    row = FP.fold_channel(5, 0, 0, -7, 1000)
    assert row is not None and row.fast
    for acc in (-1000, -1, 0, 1, 999):
        assert FP.fast_requant(2 * acc, row.mult, row.add, row.shift) == -7
    # a positive exponent is not in the fast form: the layer takes the exact path
    rows, exact = FP.fold_channels([1, 2], [2**30, 2**30 + 5], [-3, 2], 0, [100, 100])
    assert exact and rows[1] == (4, 2**30 + 5, 0, 2)
    assert FP.fold_channels([0], [2**30], [-3], 0, [2**30]) is None


def test_pair_interleave_layout() -> None:
    w = np.arange(5 * 8, dtype=np.int64).reshape(5, 8).astype(np.int8)
    s = L.pair_interleave(w)
    # pair 0, step 0: channel 0 bytes 0..3, channel 1 bytes 0..3; step 1: channel 0 bytes 4..7 ...
    assert list(s[:16]) == [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15]
    assert list(s[-8:]) == list(range(32, 40))  # odd last channel alone
    assert L.conv1x1_filter(np.ones((3, 1, 1, 5), np.int8)).size == 3 * 8


def test_dw3x3_layout_words() -> None:
    f = np.arange(9 * 4, dtype=np.int64).reshape(1, 3, 3, 4).astype(np.int8)  # f[0, ky, kx, c] = 4 * tap + c
    words = L.dw3x3_filter(f)[0].astype(np.int64) & 0xFFFFFFFF
    lo, hi = words & 0xFFFF, words >> 16
    # pair (0, 1), channel 2: bottom = 2 * w[tap 0][2], top = 2 * w[tap 1][2]
    assert (lo[2], hi[2]) == (2 * 2, 2 * 6)
    # pair (6, 7), channel 3
    assert (lo[15], hi[15]) == (2 * 27, 2 * 31)
    # tap 8: {c0, c2}, {c1, c3}
    assert (lo[16], hi[16], lo[17], hi[17]) == (2 * 32, 2 * 34, 2 * 33, 2 * 35)


def test_person_detect_runs_on_arm_variants(person_detect) -> None:
    g = load_model(person_detect)
    names = {}
    for op in g.operators:
        v = select_arm_variant(g, op)
        names[op.index] = v.name if v else None
        if v is not None:
            call = v.prepare(g, op)
            params = next(s.fields for s in call.structs if s.name == "params")
            assert call.kernel == v.kernel and call.variant == v.name and not params.get("flags", 0) & REQUANT_EXACT
            assert v.pixels_in_flight is None or v.pixels_in_flight <= GROUP
    assert names[0] == "conv_w16"  # depthwise with one input channel; a 72-byte filter
    assert all(names[i] == "dw3x3" for i in range(1, 27, 2))
    assert all(names[i] == ("conv1x1_w16" if g.tensors[g.operators[i].inputs[1]].nbytes <= 4096 else "conv1x1")
               for i in range(2, 27, 2))
    assert names[27] == "avgpool" and names[28] == "conv1x1_w16"
    assert select_arm_variant(g, g.operators[0], wide_limit=0).name == "conv"


def test_variants_declare_what_the_planner_needs() -> None:
    for v in VARIANTS:
        assert v.kernel and v.sources and all(s.startswith("arm/") for s in v.sources)
        assert v.pixels_in_flight in (None, 1, 2)


def test_prepare_gives_the_kernel_call() -> None:
    rng = np.random.default_rng(3)
    g, op = H.conv_case(rng, h=4, w=4, in_c=8, out_c=4, k_h=1, k_w=1)
    kc = CONV1X1.prepare(g, op)
    assert kc.kernel == "mcu_conv2d_1x1_s8_arm" and kc.scratch_bytes == 32 and kc.variant == "conv1x1"
    assert {c.name for c in kc.constants} == {"packed"}
    # the generator copies the headers with the sources and compiles the .c files
    assert kc.sources == CONV1X1.sources + CONV1X1.headers


# ---------------------------------------------------------------------------------
# bit-exactness on the host (ACLE emulation, sanitizers)


@pytest.fixture(scope="module")
def host_cc() -> None:
    if shutil.which("cc") is None:
        pytest.skip("no host C compiler")


@pytest.mark.parametrize("seed", range(4))
def test_random_cases_bit_exact_on_host(host_cc, seed: int) -> None:
    assert_all_ok(H.run_host(random_cases(seed, 120)))


def _layer_cases(model_layers: list[tuple], overlap: bool = False, wide_limit: int | None = 0) -> list[H.Case]:
    rng = np.random.default_rng(7)
    out = []
    for spec in model_layers:
        kind, h, w, in_c, out_c, s = spec
        if kind == "pw":
            g, op = H.conv_case(rng, h=h, w=w, in_c=in_c, out_c=out_c, k_h=1, k_w=1, act="RELU6", in_zp=-128)
        elif kind == "dw":
            g, op = H.conv_case(rng, h=h, w=w, in_c=in_c, out_c=0, k_h=3, k_w=3, stride=(s, s), depthwise=True,
                                act="RELU6", in_zp=-128)
        else:  # "dw1": depthwise with one input channel, multiplier out_c
            g, op = H.conv_case(rng, h=h, w=w, in_c=1, out_c=0, k_h=3, k_w=3, stride=(s, s), depthwise=True,
                                mult=out_c, act="RELU6", in_zp=-1)
        out.append(H.prepare(g, op, f"{kind} {h}x{w}x{in_c}->{out_c} s{s}", overlap=overlap, wide_limit=wide_limit))
    return out


SMALL_LAYERS = [("dw1", 24, 24, 1, 8, 2), ("dw", 12, 12, 8, 8, 1), ("pw", 12, 12, 8, 16, 1),
                ("dw", 12, 12, 16, 16, 2), ("pw", 6, 6, 16, 32, 1), ("dw", 6, 6, 32, 32, 1),
                ("pw", 3, 3, 128, 256, 1), ("dw", 3, 3, 256, 256, 1), ("pw", 1, 1, 256, 2, 1)]


def test_person_detect_like_layers_bit_exact_on_host(host_cc) -> None:
    assert_all_ok(H.run_host(_layer_cases(SMALL_LAYERS) + _layer_cases(SMALL_LAYERS, wide_limit=None)))


def overlap_cases(seed: int, count: int) -> list[H.Case]:
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        variant = [CONV1X1, CONV, DW3X3, CONV1X1_W16, CONV_W16, DW, AVGPOOL][len(cases) % 7]
        s = int(rng.choice([1, 2]))
        if variant in (CONV1X1, CONV1X1_W16):
            g, op = H.conv_case(rng, h=int(rng.integers(1, 9)), w=int(rng.integers(1, 9)),
                                in_c=int(rng.integers(1, 33)), out_c=int(rng.integers(1, 33)), k_h=1, k_w=1,
                                stride=(s, s))
        elif variant in (CONV, CONV_W16):
            g, op = H.conv_case(rng, h=int(rng.integers(3, 9)), w=int(rng.integers(3, 9)),
                                in_c=int(rng.integers(1, 9)), out_c=int(rng.integers(1, 17)), k_h=3, k_w=3,
                                stride=(s, s), padding=str(rng.choice(["SAME", "VALID"])))
        elif variant is AVGPOOL:
            f = int(rng.integers(2, 4))
            g, op = H.pool_case(rng, h=int(rng.integers(f, 10)), w=int(rng.integers(f, 10)),
                                c=int(rng.integers(1, 20)), f_h=f, f_w=f, stride=(s, s),
                                padding=str(rng.choice(["SAME", "VALID"])))
        elif variant is DW3X3:
            g, op = H.conv_case(rng, h=int(rng.integers(3, 10)), w=int(rng.integers(3, 10)),
                                in_c=4 * int(rng.integers(1, 9)), out_c=0, k_h=3, k_w=3, stride=(s, s),
                                depthwise=True, padding=str(rng.choice(["SAME", "VALID"])))
        else:
            g, op = H.conv_case(rng, h=int(rng.integers(5, 12)), w=int(rng.integers(5, 12)),
                                in_c=4 * int(rng.integers(1, 9)), out_c=0, k_h=5, k_w=5, stride=(s, s),
                                depthwise=True, padding=str(rng.choice(["SAME", "VALID"])))
        if select_arm_variant(g, op, None if variant.wide else 0) is not variant:
            continue
        d = min_distance(g, op, group=variant.pixels_in_flight)
        if d is None or d >= g.tensors[op.outputs[0]].nbytes:
            continue  # no real overlap at this distance
        cases.append(H.prepare(g, op, f"overlap {variant.name}#{len(cases)} d={d}", overlap=True, variant=variant))
    return cases


def test_overlap_at_declared_pixels_in_flight_on_host(host_cc) -> None:
    """The output written over the input from min_distance(group=pixels_in_flight) on:
    same bytes as the separate run. The planner uses GROUP >= each variant's value."""
    cases = overlap_cases(11, 90)
    assert all(c.distance is not None for c in cases)
    for c in cases:
        assert c.variant is not None and c.variant.pixels_in_flight <= GROUP
        assert c.distance <= min_distance(c.graph, c.op)
    assert_all_ok(H.run_host(cases))


def test_overlap_checker_catches_a_violation(host_cc) -> None:
    """Sanity of the overlap test itself: three output pixels closer than min_distance
    for the declared pixels in flight, outputs differ."""
    rng = np.random.default_rng(5)
    broken = []
    for k in range(30):
        variant = (CONV1X1, DW3X3)[k % 2]
        if variant in (CONV1X1, CONV1X1_W16):
            g, op = H.conv_case(rng, h=6, w=6, in_c=8, out_c=24, k_h=1, k_w=1)
        else:
            g, op = H.conv_case(rng, h=6, w=6, in_c=8, out_c=0, k_h=3, k_w=3, depthwise=True)
        c = H.prepare(g, op, f"{variant.name} too close", overlap=True)
        c.distance -= 3 * int(g.tensors[op.outputs[0]].shape[3])
        broken.append(c)
    results = H.run_host(broken)
    assert sum(not r.ok for r in results) >= 10


def test_arm_sources_compile_without_warnings_for_cortex_m7(tmp_path) -> None:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    for src in sorted((H.KERNELS / "arm").glob("*.c")):
        subprocess.run([gcc, "-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16", "-O2",
                        "-std=gnu11", "-Wall", "-Wextra", "-Werror", f"-I{H.KERNELS}", "-c", str(src),
                        "-o", str(tmp_path / (src.stem + ".o"))], check=True, capture_output=True)


# ---------------------------------------------------------------------------------
# QEMU: the real instructions


@pytest.fixture(scope="module")
def qemu() -> None:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")


@pytest.mark.slow
def test_acle_emulation_matches_the_instructions(qemu, host_cc) -> None:
    """The host build's C emulation of each DSP instruction gives what the instruction
    gives on QEMU, on random and edge operands."""
    case = H.acle_case(np.random.default_rng(9))
    host, target = H.run_host([case])[0], H.run_qemu([case])[0]
    results = host.out_portable.view("<i4").reshape(-1, H.ACLE_RESULTS)
    expected = target.out_portable.view("<i4").reshape(-1, H.ACLE_RESULTS)
    bad = np.argwhere(results != expected)
    assert bad.size == 0, f"{len(bad)} differences, first (triple, op): {bad[:5].tolist()}"


@pytest.mark.slow
def test_random_cases_bit_exact_on_qemu(qemu) -> None:
    cases = random_cases(100, 150) + random_cases(101, 150)
    assert_all_ok(H.run_qemu(cases))


@pytest.mark.slow
@pytest.mark.parametrize("opt_level", ["-O0", "-Os", "-O3"])
def test_other_optimisation_levels_on_qemu(qemu, opt_level: str) -> None:
    """Projects may build with another -O: the kernels stay bit-exact (at -O0 the LDM
    register binding falls back to plain loads, r7 being the frame pointer)."""
    assert_all_ok(H.run_qemu(random_cases(200, 100), opt_level=opt_level))


@pytest.mark.slow
def test_layers_and_overlap_bit_exact_on_qemu(qemu) -> None:
    results = H.run_qemu(_layer_cases(SMALL_LAYERS) + overlap_cases(12, 60))
    assert_all_ok(results)
    for r in results[: len(SMALL_LAYERS)]:
        assert r.count_arm > 0 and r.count_arm * 2 < r.count_portable, r.case.label
