"""Every --json output, errors included, validates against the schema shipped in the package
(mcugen/data/report.schema.json), with one shape for regions, fixed timing keys and machine keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import MODELS
from mcugen.jsonreport import SCHEMA_PATH, SCHEMA_VERSION, load_schema, part_key, parts_json, timing_json

PERSON = MODELS / "person_detect.tflite"
REGION_CORE = {"name", "kind", "base", "size", "used", "free", "fits"}


def mcugen_json(*args, env=None, timeout=600) -> tuple[int, dict, str]:
    """(exit code, the one JSON document on stdout, stderr) of `mcugen ARGS --json`."""
    r = subprocess.run([sys.executable, "-m", "mcugen", *map(str, args), "--json"], capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, **(env or {})})
    doc = json.loads(r.stdout)  # exactly one document: json.loads refuses anything after it
    return r.returncode, doc, r.stderr


def valid(doc: dict) -> dict:
    jsonschema.Draft202012Validator(load_schema()).validate(doc)
    return doc


def test_the_schema_is_a_valid_2020_12_schema_inside_the_package():
    assert SCHEMA_PATH.is_file() and SCHEMA_PATH.parent.parent.name == "mcugen"
    jsonschema.Draft202012Validator.check_schema(load_schema())
    assert load_schema()["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_the_schema_refuses_the_old_shapes():
    """A document without a version, with timing under a per-unit key or regions as a dict fails."""
    v = jsonschema.Draft202012Validator(load_schema())
    code, est, _ = mcugen_json("estimate", PERSON, "-t", "qemu-m7")
    assert code == 0
    assert not v.is_valid({k: x for k, x in est.items() if k != "schema_version"})
    assert not v.is_valid({**est, "regions": {r["name"]: r for r in est["regions"]}})
    assert not v.is_valid({**est, "code_flash_parts": {"network (generated)": 1}})
    assert not v.is_valid({"schema_version": SCHEMA_VERSION, "command": "estimate", "error": "x"})  # no hint key


def test_inspect_estimate_boards_and_cache_validate(tmp_path):
    code, doc, _ = mcugen_json("inspect", PERSON)
    assert code == 0 and valid(doc)["command"] == "inspect"
    for extra in ([], ["--style", "tflm"], ["--pools", "dtcm,axisram"], ["--place", "arena=dtcm"]):
        code, doc, _ = mcugen_json("estimate", PERSON, "-t", "stm32h7", *extra)
        assert code == 0 and valid(doc)["fits"] is True, extra
        assert all(REGION_CORE <= set(r) and "items" in r for r in doc["regions"])
        assert sum(doc["code_flash_parts"].values()) == doc["code_flash"]
        assert set(doc["code_flash_part_labels"]) == set(doc["code_flash_parts"])
    code, doc, _ = mcugen_json("boards")
    assert code == 0 and {b["name"] for b in valid(doc)["boards"]} >= {"qemu-m7", "nucleo-h743zi2"}
    code, doc, _ = mcugen_json("cache", "list", env={"MCUGEN_CACHE_DIR": str(tmp_path / "cache")})
    assert code == 0 and valid(doc) == {"schema_version": SCHEMA_VERSION, "command": "cache list", "entries": []}


@pytest.mark.parametrize("args, words", [
    (["estimate", MODELS / "missing.tflite", "-t", "qemu-m7"], "does not exist"),
    (["estimate", PERSON, "-t", "no-such-board"], "Unknown target"),
    (["estimate", PERSON, "-t", "qemu-m7", "--no-such-flag"], "No such option"),
    (["estimate", PERSON, "-t", "qemu-m7", "--place", "arena"], "KEY=REGION"),
    (["inspect", MODELS / "README.md"], ""),
    (["build", MODELS], "mcugen.json"),
])
def test_errors_are_json_objects_on_stdout_with_a_non_zero_exit(args, words):
    code, doc, stderr = mcugen_json(*args)
    assert code != 0 and "Traceback" not in stderr
    assert set(valid(doc)) == {"schema_version", "command", "error", "hint"}
    assert doc["command"] == args[0] and words in doc["error"]


def test_a_model_that_does_not_fit_prints_one_document_and_exits_non_zero():
    code, doc, stderr = mcugen_json("estimate", PERSON, "-t", "stm32h7", "--place", "arena=itcm",
                                    "--place", "weights=dtcm")
    assert code != 0 and valid(doc)["fits"] is False and "error" not in doc
    assert "does not fit" in stderr or "too many" in stderr


def test_machine_keys_and_timing_keys():
    assert part_key("network (generated)") == "network_generated"
    assert part_key("libc/libgcc") == "libc_libgcc"
    assert parts_json({"tflm conv_2d": 3, "tflm CONV_2D": 4}) == {"tflm_conv_2d": 7}
    counts = {"min": 1000.0, "median": 2000.0, "max": 3000.0}
    for unit, clock, ms in (("cycles", 1_000_000, 2.0), ("nanoseconds", 0, 0.002), ("instructions", 0, None)):
        t = timing_json(unit, counts, 100, clock)
        assert set(t) == {"unit", "min", "median", "max", "per_macc", "clock_hz", "ms"}
        assert t["per_macc"] == 20.0 and (t["ms"] and t["ms"]["median"]) == ms


@pytest.mark.slow
def test_generate_build_measure_and_validate_validate(tmp_path):
    out = tmp_path / "pd"
    code, gen, _ = mcugen_json("generate", PERSON, "-t", "qemu-m7", "-o", out)
    assert code == 0 and valid(gen)["command"] == "generate"
    code, built, _ = mcugen_json("build", out)
    assert code == 0 and valid(built)["command"] == "build"
    # one shape for regions: build's have the estimate's core keys
    est = {r["name"]: r for r in gen["estimate"]["regions"]}
    for r in built["regions"]:
        assert REGION_CORE <= set(r) and "sections" in r
        if r["name"] in est:
            assert (r["kind"], r["base"], r["size"]) == (est[r["name"]]["kind"], est[r["name"]]["base"],
                                                         est[r["name"]]["size"])
    assert ".hex" in {Path(p).suffix for p in built["images"]} and all(Path(p).is_file() for p in built["images"])
    code, rep, _ = mcugen_json("flash-and-measure", out, "--inputs", MODELS / "person.bmp")
    assert code == 0 and valid(rep)["timing"]["unit"] == "instructions" and rep["timing"]["ms"] is None
    code, rep, _ = mcugen_json("validate", PERSON, "-t", "host", "--inputs", "2")
    assert code == 0 and valid(rep)["timing"]["unit"] == "nanoseconds" and rep["timing"]["ms"]["median"] > 0
    code, rep, _ = mcugen_json("flash-and-measure", tmp_path / "missing")
    assert code != 0 and "error" in valid(rep)
