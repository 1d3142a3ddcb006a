"""The data-movement kernels (resize, concat on any axis, split, slice, pack/unpack, gather,
depth/space), bit for bit against the TFLM reference interpreter.

One single-operator Keras model per operator and awkward variant (tests/tfops_move.py:
odd sizes, negative axes, masks, negative strides, both resize modes), quantized to int8,
generated in the cubeai style, compiled with the host cc and run on 20 random inputs;
every output element must equal TFLM's. A sample runs on qemu-m7."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from _cubeai import check_bit_exact  # noqa: E402
from tfmodels import cached_model  # noqa: E402
from tfops_move import CASES, CHECKS  # noqa: E402

from mcugen.lower import unsupported_ops  # noqa: E402
from mcugen.model.load import load_model  # noqa: E402


def _graph(case):
    cid, builder, kwargs, opcode = case
    graph = load_model(cached_model(cid, builder, **kwargs))
    ops = [op for op in graph.operators if op.opcode == opcode]
    assert ops, f"{cid}: the converter produced {graph.opcodes}, not {opcode}"
    if cid in CHECKS:
        assert any(CHECKS[cid](graph, op) for op in ops), f"{cid}: the {opcode} is not the intended variant"
    return graph


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_movement_op_bit_exact(case, tmp_path):
    graph = _graph(case)
    assert not unsupported_ops(graph), unsupported_ops(graph)
    check_bit_exact(graph, tmp_path / case[0], n=20)




def _net(name: str):
    import tfops_move

    return cached_model(name, getattr(tfops_move, name))


@pytest.mark.parametrize("name", ["yolo_head", "shuffle_net"])
def test_movement_nets_bit_exact_on_host(name, tmp_path):
    """Multi-output ops inside a graph: their outputs are planned, live and consumed apart."""
    graph = load_model(_net(name))
    expected = {"yolo_head": {"SPLIT_V", "RESIZE_BILINEAR", "STRIDED_SLICE", "CONCATENATION", "DEPTH_TO_SPACE"},
                "shuffle_net": {"SPACE_TO_DEPTH", "SPLIT", "UNPACK", "PACK", "GATHER", "SLICE",
                                "RESIZE_NEAREST_NEIGHBOR"}}[name]
    assert expected <= set(graph.opcodes), graph.opcodes
    assert not unsupported_ops(graph), unsupported_ops(graph)
    check_bit_exact(graph, tmp_path / name, n=20)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["yolo_head", "shuffle_net"])
def test_movement_nets_bit_exact_on_qemu(name, tmp_path):
    """Every data-movement kernel family on the Cortex-M7 (QEMU), 20 inputs, over the UART."""
    import shutil

    from mcugen import project
    from mcugen.options import GenerateOptions

    if shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    _, _, rep = project.validate(_net(name), "qemu-m7", GenerateOptions(style="cubeai"), random=20, seed=3,
                                 output=tmp_path / "p", force=True)
    assert rep.inputs == 20
    assert rep.comparison.bit_exact and rep.comparison.max_abs_diff == 0, \
        [(o.name, o.max_abs_diff, o.mismatches) for o in rep.comparison.outputs]


def _edited(path, edit) -> bytes:
    """The model at `path` with `edit(model, subgraph)` applied through TF's schema object API."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    edit(model, model.subgraphs[0])
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _case(cid: str):
    return next(c for c in CASES if c[0] == cid)


def _refusal(data: bytes, name: str) -> str:
    from mcugen.model.load import load_model_bytes
    from mcugen.ops import tflm_unsupported

    graph = load_model_bytes(data, name)
    assert not tflm_unsupported(graph)  # TFLM registers the op: the refusal is cubeai's alone
    bad = unsupported_ops(graph)
    assert len(bad) == 1, bad
    return f"{bad[0].opcode} #{bad[0].index}: {bad[0].reason}"


def test_masks_tflm_ignores_are_refused_clearly():
    """TFLM's STRIDED_SLICE drops ellipsis and new-axis masks; cubeai refuses them by name
    rather than computing another slice than TensorFlow's."""
    case = _case("strided_steps")
    path = cached_model(case[0], case[1], **case[2])

    def new_axis(model, sg):
        sg.operators[0].builtinOptions.newAxisMask = 2

    assert "new_axis_mask 2" in _refusal(_edited(path, new_axis), "new_axis")

    def ellipsis(model, sg):
        sg.operators[0].builtinOptions.ellipsisMask = 1

    assert "ellipsis_mask 1" in _refusal(_edited(path, ellipsis), "ellipsis")


def test_copies_between_differing_quantizations_are_refused():
    """A copy keeps raw values: an output with another scale or zero point than its input
    would change their meaning (TFLM's kernels do not look), so cubeai refuses it."""
    import numpy as np

    for cid in ("split_v_neg1", "gather_axis1", "resize_bilinear", "pack_axis2", "strided_shrink"):
        case = _case(cid)
        path = cached_model(case[0], case[1], **case[2])

        def rescale(model, sg):
            out = sg.tensors[sg.operators[0].outputs[0]]
            out.quantization.zeroPoint = np.asarray(out.quantization.zeroPoint) + 3

        reason = _refusal(_edited(path, rescale), cid)
        assert "quantization" in reason and "differs" in reason, reason


def test_gather_position_outside_the_axis_is_refused():
    import numpy as np

    case = _case("gather_axis1")
    path = cached_model(case[0], case[1], **case[2])

    def far(model, sg):
        positions = sg.tensors[sg.operators[0].inputs[1]]
        buf = model.buffers[positions.buffer]
        values = np.frombuffer(bytes(buf.data), dtype=np.int32).copy()
        values[2] = 9
        buf.data = np.frombuffer(values.tobytes(), dtype=np.uint8)

    assert "positions [9]" in _refusal(_edited(path, far), "gather_far")


def test_bilinear_sizes_where_tflm_reads_past_the_input_are_refused():
    """1 -> 55 rows without align_corners or half-pixel centres: TFLM's integer resize
    rounds its scale so that its last lower neighbour is row 1 of a 1-row input (a read
    past the tensor): no defined output to match, so cubeai refuses, naming the row."""
    from tfops_move import resize

    graph = load_model(cached_model("resize_bilinear_past", resize, input_shape=(1, 4, 2), size=(55, 4)))
    bad = unsupported_ops(graph)
    assert len(bad) == 1 and "reads input row 1 of 1 for an output of 55" in bad[0].reason, bad


@pytest.mark.parametrize("cid, output", [("split_v_neg1", 1), ("gather_axis1", 0), ("resize_nearest", 0),
                                         ("strided_shrink", 0), ("unpack_neg2", 3), ("space_to_depth", 0)])
def test_registry_checks_declared_shapes(cid, output):
    """The registry's shape rules (mcugen.ops.movement) catch a model whose declared output
    shape is not what the op's inputs give, naming the op, for every output of the op."""
    from mcugen.errors import ModelError
    from mcugen.model.load import load_model_bytes
    from mcugen.ops import check_shapes

    case = _case(cid)
    path = cached_model(case[0], case[1], **case[2])
    check_shapes(load_model_bytes(path.read_bytes(), cid))  # as converted: accepted

    def grow(model, sg):
        op = next(o for o in sg.operators if len(o.outputs) > output)
        t = sg.tensors[op.outputs[output]]
        t.shape = [int(d) for d in t.shape]
        t.shape[-1] += 1

    with pytest.raises(ModelError, match="declares output shape"):
        check_shapes(load_model_bytes(_edited(path, grow), cid))


def test_every_movement_op_is_known_lowered_and_registered_by_tflm():
    from mcugen.lower.portable import LOWERINGS
    from mcugen.ops import REGISTRY, SEPARATE
    from mcugen.tflm.ops import resolver_method

    ops = """SPLIT SPLIT_V SLICE STRIDED_SLICE GATHER PACK UNPACK CONCATENATION DEPTH_TO_SPACE SPACE_TO_DEPTH
    RESIZE_NEAREST_NEIGHBOR RESIZE_BILINEAR""".split()
    for name in ops:
        assert name in REGISTRY and name in LOWERINGS and resolver_method(name), name
        assert REGISTRY[name].memory == SEPARATE, name  # no sharing until a byte-replay check proves one
    assert {c[3] for c in CASES} == set(ops)  # and each has its bit-exact case above


@pytest.mark.parametrize("cid", ["split_last", "unpack_neg2"])
def test_multi_output_ops_with_outputs_outside_the_activations(cid, tmp_path):
    """--no-outputs-allocation / --no-inputs-allocation: each of SPLIT's or UNPACK's outputs is
    a model output in the application's own buffer, written through its own pointer."""
    from mcugen.options import GenerateOptions

    graph = _graph(_case(cid))
    assert len(graph.outputs) >= 3
    check_bit_exact(graph, tmp_path / cid, n=5,
                    options=GenerateOptions(inputs_allocation=False, outputs_allocation=False))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_strided_slices_bit_exact(seed, tmp_path):
    """12 random STRIDED_SLICEs per model (begin/end/shrink masks, negative and out-of-range
    indices, strides -3..3) on a [2,5,6,7] input: the registry's shapes are numpy's, and every
    output matches TFLM's (whose prepare also checks the declared shapes)."""
    import numpy as np
    from tfops_move import strided_slices_model

    from mcugen.model.load import load_model_bytes
    from mcugen.ops import check_shapes

    data, cases = strided_slices_model(seed=seed)
    graph = load_model_bytes(data, f"slices{seed}")
    check_shapes(graph)
    for op, (_, expected) in zip(graph.operators, cases):
        assert tuple(graph.tensors[op.outputs[0]].shape) == expected.shape
    assert any(np.any(np.asarray(c[0][2]) < 0) for c in cases) and any(c[0][5] for c in cases)
    assert not unsupported_ops(graph), unsupported_ops(graph)
    check_bit_exact(graph, tmp_path / f"slices{seed}", n=3)


def test_shrink_with_negative_stride_is_refused():
    """TFLM's STRIDED_SLICE walks a shrunk axis from begin to begin + 1 by its stride: with a
    negative stride it writes no output at all. cubeai says so instead of guessing."""
    case = _case("strided_shrink")
    path = cached_model(case[0], case[1], **case[2])

    def backwards(model, sg):
        strides = sg.tensors[sg.operators[0].inputs[3]]
        buf = model.buffers[strides.buffer]
        import numpy as np

        values = np.frombuffer(bytes(buf.data), dtype=np.int32).copy()
        values[1] = -1  # axis 1 is the shrunk one (CHECKS: shrink_axis_mask 2)
        buf.data = np.frombuffer(values.tobytes(), dtype=np.uint8)

    assert "shrink_axis_mask on axis 1 with stride -1" in _refusal(_edited(path, backwards), "shrink_back")


@pytest.mark.parametrize("seed", [0, 1])
def test_random_resizes_bit_exact(seed, tmp_path):
    """16 resizes per model, bilinear and nearest alternating, all three modes, random output
    sizes 1..24 from 5x7 (down, up, to one pixel): every output matches TFLM's."""
    from tfops_move import random_resizes_model

    from mcugen.model.load import load_model_bytes

    data, modes = random_resizes_model(seed=seed)
    assert {m[1] for m in modes} == {"asymmetric", "align_corners", "half_pixel"}
    graph = load_model_bytes(data, f"resizes{seed}")
    assert not unsupported_ops(graph), unsupported_ops(graph)
    check_bit_exact(graph, tmp_path / f"resizes{seed}", n=5)


@pytest.mark.parametrize("kwargs", [
    {},  # batch_dims 1: each batch row picks its own positions
    {"shape": (2, 3, 4, 5), "positions": ((0, 2, 2), (1, 1, 0)), "axis": -1, "batch_dims": -1},
    {"shape": (4, 3, 2), "positions": ((3, 0), (1, 3), (2, 2)), "axis": 0, "batch_dims": 0},  # 2-D positions
], ids=["batch_dims1", "batch_dims_neg_axis_neg", "positions_2d"])
def test_gather_batch_dims_bit_exact(kwargs, tmp_path):
    from tfops_move import gather_model

    from mcugen.model.load import load_model_bytes
    from mcugen.ops import check_shapes

    graph = load_model_bytes(gather_model(**kwargs), "gather")
    check_shapes(graph)
    assert not unsupported_ops(graph), unsupported_ops(graph)
    check_bit_exact(graph, tmp_path / "gather", n=5)
