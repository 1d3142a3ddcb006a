"""mcugen.tflm.nodes: the operators TFLM invokes, in order, with the kernel it links for each
(what a profiled tflm build's counters are named after)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mcugen.codegen.tflm import render_tflm
from mcugen.model.load import load_model, load_model_bytes
from mcugen.tflm.nodes import CMSIS_NN_OPS, tflm_kernel, tflm_nodes

MODELS = Path(__file__).resolve().parents[2] / "examples" / "models"


def test_person_detect_nodes_follow_the_flatbuffer_with_their_kernels():
    graph = load_model(MODELS / "person_detect.tflite")
    nodes = tflm_nodes(graph, "cmsis_nn")
    assert [n["index"] for n in nodes] == list(range(31)) == [n["graph_index"] for n in nodes]
    assert [n["op"] for n in nodes][:3] == ["DEPTHWISE_CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D"]
    assert [n["op"] for n in nodes][-4:] == ["AVERAGE_POOL_2D", "CONV_2D", "RESHAPE", "SOFTMAX"]
    assert {n["op"]: n["kernel"] for n in nodes} == {"DEPTHWISE_CONV_2D": "cmsis_nn", "CONV_2D": "cmsis_nn",
                                                     "AVERAGE_POOL_2D": "cmsis_nn", "RESHAPE": "reference",
                                                     "SOFTMAX": "cmsis_nn"}
    assert nodes[2]["macs"] == 294912 and nodes[29]["macs"] in (None, 0)
    assert {n["kernel"] for n in tflm_nodes(graph, "reference")} == {"reference"}


def test_shape_ops_mcugen_folds_are_still_nodes_tflm_runs():
    """TFLM invokes SHAPE/STRIDED_SLICE/PACK that mcugen computed at load time: they keep their
    place (a counter each) and have no index in mcugen's graph."""
    tf = pytest.importorskip("tensorflow")
    from tfmodels import quantize

    inp = tf.keras.Input(shape=(4, 4, 3))  # batch left open: the converter keeps the shape ops
    x = tf.keras.layers.Conv2D(8, 3)(inp)

    class DynReshape(tf.keras.layers.Layer):
        def call(self, t):
            return tf.reshape(t, tf.stack([tf.shape(t)[0], -1]))

    graph = load_model_bytes(quantize(tf.keras.Model(inp, DynReshape()(x))), "m")
    assert graph.folded
    nodes = tflm_nodes(graph, "cmsis_nn")
    assert len(nodes) == len(graph.operators) + len(graph.folded)
    kept = [n for n in nodes if n["graph_index"] is not None]
    assert [n["op"] for n in kept] == ["CONV_2D", "RESHAPE"] and [n["graph_index"] for n in kept] == [0, 1]
    assert {n["op"] for n in nodes if n["graph_index"] is None} >= {"SHAPE", "STRIDED_SLICE", "PACK"}
    assert all(n["macs"] is None for n in nodes if n["graph_index"] is None)


@pytest.mark.tflm
def test_the_application_counts_one_event_per_node_only_in_profiling_builds(tflm_library):
    from mcugen.boards import get_board

    graph = load_model(MODELS / "person_detect.tflite")
    files, manifest = render_tflm(graph, get_board("qemu-m7"), kernels="cmsis_nn", arena_size=100_000,
                                  library=tflm_library("cortex-m7", "cmsis_nn"))
    main = files["main.cc"]
    assert "constexpr uint32_t kProfiledOps = 31u;" in main
    profiled = main[main.index("#ifdef MCUGEN_PROFILE"):main.index("#endif")]
    assert "BeginEvent" in profiled and "EndEvent" in profiled
    assert "BeginEvent" not in main.replace(profiled, "")  # a plain build is TFLM's own, untouched
    assert manifest["nodes"] == tflm_nodes(graph, "cmsis_nn")


@pytest.mark.tflm
def test_cmsis_nn_ops_are_the_registrations_of_the_trees_cmsis_nn_kernels(tflm_tree):
    """The op-level registrations (Register_CONV_2D, not Register_CONV_2D_INT8) defined in
    kernels/cmsis_nn: exactly the ops tflm_kernel names cmsis_nn."""
    folder = tflm_tree.root / "tensorflow" / "lite" / "micro" / "kernels" / "cmsis_nn"
    names = set()
    for source in folder.glob("*.cc"):
        names |= set(re.findall(r"TFLMRegistration Register_([A-Z0-9_]+)\(\)", source.read_text()))
    op_level = {n for n in names if not re.search(r"_INT\d+(_INT\d+)?$", n)}
    assert op_level == CMSIS_NN_OPS
    assert tflm_kernel("CONV_2D", "cmsis_nn") == "cmsis_nn" and tflm_kernel("RESHAPE", "cmsis_nn") == "reference"
