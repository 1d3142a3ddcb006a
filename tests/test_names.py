"""--name: C identifiers of bounded length whose files collide with none of the generator's."""

from __future__ import annotations

import pytest

from conftest import MODELS
from mcugen.boards import get_board
from mcugen.codegen.cubeai import render_project
from mcugen.lower import lower
from mcugen.model.load import load_model
from mcugen.names import (
    MAX_NAME_LENGTH,
    InvalidNameError,
    check_network_name,
    fixed_file_names,
    network_file_names,
    reserved_names,
)
from mcugen.options import GenerateOptions


@pytest.mark.parametrize("name", ["network", "_x__y_", "kws", "N1", "a" * MAX_NAME_LENGTH, "stai_data", "model"])
def test_valid_names(name):
    assert check_network_name(name) == name


@pytest.mark.parametrize("name,why", [
    ("", "C name"), ("1net", "C name"), ("net-work", "C name"), ("néural", "C name"), ("a b", "C name"),
    ("a" * (MAX_NAME_LENGTH + 1), "longer than 64"), ("main", "main.c"), ("stai", "stai.h"),
    ("stai_runtime", "stai_runtime.c"), ("host_main", "host_main.c"), ("ai_platform", "ai_platform.h"),
    ("MAIN", "main.c"), ("x\x1b[2J", "C name"),
])
def test_invalid_names(name, why):
    with pytest.raises(InvalidNameError, match=why.replace(".", r"\.")) as e:
        check_network_name(name)
    assert e.value.hint and "\x1b" not in e.value.message and len(e.value.message) < 200


def test_the_reserved_names_follow_the_templates():
    assert reserved_names() == ("ai_datatypes_defines", "ai_platform", "host_main", "main", "stai", "stai_debug",
                                "stai_runtime")


@pytest.mark.parametrize("c_api", ["st-ai", "both"])
def test_the_derived_file_names_are_the_files_render_project_writes(c_api):
    """If render_project names its files differently, the collision check would go stale: this fails first."""
    board = get_board("host")
    files, _, _ = render_project(lower(load_model(MODELS / "hello_world_int8.tflite"), board), board,
                                 GenerateOptions(name="kws", c_api=c_api))
    top = {f for f in files if "/" not in f and f != "Makefile"}
    expected = set(network_file_names("kws")) | set(fixed_file_names())
    if c_api == "st-ai":
        # the legacy API's files, written with --c-api legacy/both
        expected -= {"ai_platform.h", "ai_datatypes_defines.h", "kws_config.h", "kws_data_params.h",
                     "kws_data_params.c"}
    expected -= {"kws_legacy.h", "kws_legacy.c"} if c_api != "both" else set()  # the legacy API apart: both only
    assert top == expected
