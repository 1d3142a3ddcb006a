"""The resolver table: parsed from micro_mutable_op_resolver.h and committed as data."""

from __future__ import annotations

import pytest

from mcugen.calibrate import resolver
from mcugen.tflm import ops
from mcugen.tflm.source import RESOLVER_HEADER


def test_known_entries():
    assert ops.RESOLVER_METHODS["CONV_2D"] == "AddConv2D"
    assert ops.RESOLVER_METHODS["DEPTHWISE_CONV_2D"] == "AddDepthwiseConv2D"
    assert ops.RESOLVER_METHODS["AVERAGE_POOL_2D"] == "AddAveragePool2D"
    assert ops.RESOLVER_METHODS["UNIDIRECTIONAL_SEQUENCE_LSTM"] == "AddUnidirectionalSequenceLSTM"
    assert ops.REGISTRATIONS["MAX_POOL_2D"] == ("Register_MAX_POOL_2D", "ParsePool")
    assert ops.CUSTOM_RESOLVER_METHODS["TFLite_Detection_PostProcess"] == "AddDetectionPostprocess"
    assert set(ops.RESOLVER_METHODS) == set(ops.REGISTRATIONS)


def test_unsupported_opcodes_keeps_order_once():
    assert ops.unsupported_opcodes(["CONV_2D", "LSH_PROJECTION", "ADD", "LSH_PROJECTION", "HASHTABLE"]) == [
        "LSH_PROJECTION", "HASHTABLE"]
    assert ops.resolver_method("SOFTMAX") == "AddSoftmax" and ops.resolver_method("NOPE") is None


def test_parser_on_a_snippet():
    text = """
  TfLiteStatus AddFoo(
      const TFLMRegistration& registration = tflite::Register_FOO()) {
    return AddBuiltin(BuiltinOperator_FOO, registration, ParseFoo);
  }

  TfLiteStatus AddBar() {
    return AddBuiltin(BuiltinOperator_BAR, Register_BAR(), ParseBar);
  }

  TfLiteStatus AddBaz() {
    return AddCustom("Baz", tflite::Register_BAZ());
  }
"""
    t = resolver.parse_resolver_header(text)
    assert t.methods == {"FOO": "AddFoo", "BAR": "AddBar"}
    assert t.registrations == {"FOO": ("Register_FOO", "ParseFoo"), "BAR": ("Register_BAR", "ParseBar")}
    assert t.custom_methods == {"Baz": "AddBaz"}


@pytest.mark.tflm
def test_committed_tables_match_the_tree(tflm_tree):
    tables = resolver.parse_resolver_header((tflm_tree.root / RESOLVER_HEADER).read_text())
    assert tables.methods == ops.RESOLVER_METHODS, "stale: run python -m mcugen.tflm.ops"
    assert tables.registrations == ops.REGISTRATIONS, "stale: run python -m mcugen.tflm.ops"
    assert tables.custom_methods == ops.CUSTOM_RESOLVER_METHODS, "stale: run python -m mcugen.tflm.ops"
    assert len(tables.methods) >= 100


@pytest.mark.tflm
def test_committed_kernel_types_match_the_tree(tflm_tree):
    """The types per TFLM kernel (docs/operators.md's tflm columns), re-scanned from the tree in use."""
    from mcugen.calibrate import kernel_types as scanner
    from mcugen.tflm.kernel_types import KERNEL_TYPES

    scanned = scanner.scan(tflm_tree.root)
    assert {op: tuple(t) for op, t in scanned.items()} == KERNEL_TYPES, \
        "stale: run python -m mcugen.calibrate.kernel_types --update"
    assert set(ops.RESOLVER_METHODS) <= set(scanned)  # every builtin's kernel source was found
    assert "int16" in scanned["CONV_2D"] and "uint8" in scanned["QUANTIZE"] and scanned["RESHAPE"] == ["any"]


@pytest.mark.tflm
def test_custom_registrations_match_the_header(tflm_tree):
    from mcugen.calibrate import kernel_types as scanner

    parsed = scanner._custom_registrations(tflm_tree.root)
    for name, reg in ops.CUSTOM_REGISTRATIONS.items():
        assert parsed[name] == reg
