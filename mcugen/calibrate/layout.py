"""Measuring the TFLM struct layouts and parser table the arena estimate reads
(mcugen/data/tflm_layout.json, loaded by mcugen.tflm.layout).

    python -m mcugen.calibrate.layout --update [TFLM_ROOT]

Compiles probe/layout_probe.cc with each target's compiler and the flags an
application of the TFLM library uses, and reads the sizeof/alignof records back
from the object file; parses flatbuffer_conversions.cc for the structs each parser
allocates.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

from elftools.elf.elffile import ELFFile

from mcugen import process
from mcugen.tflm.layout import LAYOUT_TARGETS, TABLE_PATH
from mcugen.tflm.library import application_flags
from mcugen.tflm.ops import REGISTRATIONS
from mcugen.tflm.source import TflmTree, find_tflm_root

PROBE_SOURCE = Path(__file__).resolve().parent / "probe" / "layout_probe.cc"
FLATBUFFER_CONVERSIONS = Path("tensorflow/lite/core/api/flatbuffer_conversions.cc")


def parse_parse_params(text: str) -> dict[str, str]:
    """Parser function -> the builtin params struct it allocates, for the parsers the resolver uses."""
    wanted = {parser for _, parser in REGISTRATIONS.values()}
    out: dict[str, str] = {}
    for chunk in re.split(r"\n(?=TfLiteStatus Parse\w+\()", text):
        m = re.match(r"TfLiteStatus (Parse\w+)\(", chunk)
        if not m or m.group(1) not in wanted or m.group(1) in out:
            continue
        body = chunk.split("\n}\n", 1)[0]
        alloc = re.search(r"Allocate<(\w+)>", body)
        if alloc:
            out[m.group(1)] = alloc.group(1)
    return dict(sorted(out.items()))


def measure_layout(flags: dict, params_types: list[str]) -> dict[str, tuple[int, int]]:
    """Compile the layout probe with an application's flags (library.application_flags) and read it."""
    with tempfile.TemporaryDirectory(prefix="mcugen-layout-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "layout_params.inc").write_text("".join(f"MCUGEN_PARAMS({t})\n" for t in params_types))
        obj = tmp / "layout.o"
        includes = [f"-I{tmp}"]
        argv = [flags["cxx"], *flags["cpu_flags"], *flags["cxxflags"],
                *(f"-D{d}" for d in flags["defines"]),
                *(f"-I{d}" for d in flags["include_dirs_abs"]), *includes,
                "-O0", "-c", str(PROBE_SOURCE), "-o", str(obj)]
        out = process.run(argv, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError("layout probe did not compile:\n" + out.stderr[-4000:])
        with open(obj, "rb") as fh:
            elf = ELFFile(fh)
            data = elf.get_section_by_name(".mcugen_layout").data()
    records: dict[str, tuple[int, int]] = {}
    for off in range(0, len(data), 64):
        raw = data[off : off + 64]
        name = raw[:56].split(b"\0", 1)[0].decode()
        size = int.from_bytes(raw[56:60], "little")
        align = int.from_bytes(raw[60:64], "little")
        records[name] = (size, align)
    return records


def measure_all(tflm_root=None) -> tuple[dict[str, str], dict[str, dict[str, tuple[int, int]]]]:
    """Re-derive PARSE_PARAMS and STRUCTS from a TFLM tree (needs both compilers)."""
    tree = tflm_root if isinstance(tflm_root, TflmTree) else find_tflm_root(tflm_root)
    params = parse_parse_params((tree.root / FLATBUFFER_CONVERSIONS).read_text())
    types = sorted(set(params.values()))
    structs = {}
    for target in LAYOUT_TARGETS:
        kernels = "cmsis_nn" if target != "host" and tree.has_cmsis_nn else "reference"
        flags = application_flags(tree, target, kernels)
        flags["include_dirs_abs"] = [str(tree.root / d) for d in flags["include_dirs"]]
        structs[target] = measure_layout(flags, types)
    return params, structs


def table_json(params: dict[str, str], structs: dict[str, dict[str, tuple[int, int]]]) -> str:
    return json.dumps({"source": "measured by python -m mcugen.calibrate.layout", "parse_params": params,
                       "structs": {t: {k: list(v) for k, v in s.items()} for t, s in structs.items()}},
                      indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    """[--update] [TFLM_ROOT]: print the measured tables, or write them over the packaged ones."""
    argv = list(sys.argv[1:] if argv is None else argv)
    update = "--update" in argv
    roots = [a for a in argv if a != "--update"]
    text = table_json(*measure_all(roots[0] if roots else None))
    if update:
        TABLE_PATH.write_text(text)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
