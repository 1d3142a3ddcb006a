"""Measuring the code-size table the estimate reads (mcugen/data/code_sizes.json).

    python -m mcugen.calibrate.codesize --update     # re-measure after a firmware change

Every kernel, and each firmware family's runtime and board files, compiled with
arm-none-eabi-gcc exactly as a generated project compiles them (the matrix kernels
once per MCU_ARM_MM_VARIANTS bit); a stub application per family linked to measure
what libc/libgcc add. `sources_hash` fingerprints the firmware tree: the test of the
table fails when it changed and the table was not re-measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from mcugen import process
from mcugen.codesize import MAT_MULT_FILE, MAT_MULT_VARIANTS, TABLE_FLAGS, TABLE_PATH, load_table
from mcugen.firmware import firmware_bundle, write_files
from mcugen.mapfile import usage_by_file
from mcugen.resources import firmware_dir
from mcugen.tflm.cache import LibraryEntry
from mcugen.tflm.codesize import FRAMEWORK_ROOT, load_analysis
from mcugen.tflm.library import get_library
from mcugen.tflm.ops import REGISTRATIONS

COMPILE_TIMEOUT = 300.0  # seconds for one compile or link of the measuring run
# The library the tflm fallback table is measured from: what `generate --style tflm` builds for
# every Cortex-M7 board (mcugen.tflm.targets), with CMSIS-NN, the default kernels there.
TFLM_TABLE_TARGET = ("cortex-m7", "cmsis_nn")


def sources_hash(root: Path | None = None) -> str:
    root = root or firmware_dir()
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".c", ".h", ".cc") and path.is_file():
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


# One board per firmware family: its bundle gives the runtime and board objects.
FAMILY_BOARDS = {"mps2": "qemu-m7", "stm32h7": "nucleo-h743zi2", "imxrt": "mimxrt1170-evk"}
_STUB_MODEL = """
#include "mcugen_model.h"
static const mcugen_model_info info = {"stub", {0}, 0u, 0u, 0, 0, 0u, 0u};
const mcugen_model_info *mcugen_model_get_info(void) { return &info; }
int mcugen_model_init(void) { return 0; }
uint8_t *mcugen_model_input(uint32_t index) { (void)index; return 0; }
const uint8_t *mcugen_model_output(uint32_t index) { (void)index; return 0; }
int mcugen_model_run(void) { return 0; }
int main(void) { board_init(); return mcugen_serve(); }
"""


def _object_sizes(obj: Path) -> dict[str, int]:
    """Allocated bytes of an object: read-only (text), initialised writable (data), zeroed (bss)."""
    sizes = {"text": 0, "data": 0, "bss": 0}
    with obj.open("rb") as f:
        for section in ELFFile(f).iter_sections():
            flags = section["sh_flags"]
            if not flags & SH_FLAGS.SHF_ALLOC:
                continue
            if section["sh_type"] == "SHT_NOBITS":
                sizes["bss"] += section["sh_size"]
            elif flags & SH_FLAGS.SHF_WRITE:
                sizes["data"] += section["sh_size"]
            else:
                sizes["text"] += section["sh_size"]
    return sizes


def _compile(cc: str, flags: list[str], src: Path, obj: Path, rel: str) -> dict[str, int]:
    proc = process.run([cc, *flags, "-c", str(src), "-o", str(obj)], text=True, timeout=COMPILE_TIMEOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"compiling {rel} failed:\n{proc.stderr}")
    return _object_sizes(obj)


def measure_objects(compiler: str = "arm-none-eabi-gcc") -> dict:
    """Compile every kernel, and each family's runtime and board files exactly as a
    generated project does, for Cortex-M7; record text/data/bss per file. Also link a
    stub application per family to measure what libc/libgcc add."""
    root = firmware_dir()
    cc = shutil.which(compiler)
    if cc is None:
        raise RuntimeError(f"{compiler} not found (Debian package gcc-arm-none-eabi)")
    version = process.run([cc, "-dumpversion"], text=True, timeout=COMPILE_TIMEOUT).stdout.strip()
    objects: dict[str, dict[str, int]] = {}
    libc: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        kernel_includes = sorted({str(p.parent) for p in (root / "kernels").rglob("*.h")})
        for src in sorted((root / "kernels").rglob("*.c")):
            rel = str(src.relative_to(root))
            flags = [*TABLE_FLAGS, *(f"-I{i}" for i in kernel_includes)]
            objects[rel] = _compile(cc, flags, src, tmpdir / (rel.replace("/", "_") + ".o"), rel)
            if rel == MAT_MULT_FILE:
                # Generated projects compile in only the variants they use: measure the
                # dispatch alone (mask 0), then what each variant adds.
                obj = tmpdir / "mm.o"
                base = _compile(cc, [*flags, "-DMCU_ARM_MM_VARIANTS=0u"], src, obj, rel)
                objects[f"{rel}#base"] = base
                for bit in range(MAT_MULT_VARIANTS):
                    one = _compile(cc, [*flags, f"-DMCU_ARM_MM_VARIANTS={1 << bit}u"], src, obj, rel)
                    objects[f"{rel}#{bit}"] = {k: one[k] - base[k] for k in one}
        for family, board_name in FAMILY_BOARDS.items():
            bundle = firmware_bundle(board_name)
            proj = tmpdir / family
            write_files(proj, bundle.files)
            (proj / "stub.c").write_text('#include "board.h"\n#include "mcugen_protocol.h"\n' + _STUB_MODEL)
            flags = [*bundle.cflags, *(f"-D{k}={v}" for k, v in bundle.defines.items()),
                     *(f"-I{proj / d}" for d in bundle.include_dirs)]
            objs = []
            for src_rel in [*bundle.sources, "stub.c"]:
                name = Path(src_rel).name
                rel = f"runtime/{name}" if "/runtime/" in f"/{src_rel}" else f"boards/{family}/{name}"
                obj = proj / (src_rel.replace("/", "_") + ".o")
                sizes = _compile(cc, flags, proj / src_rel, obj, rel)
                objs.append(obj)
                if src_rel != "stub.c":
                    objects[rel] = sizes
            elf = proj / "stub.elf"
            ldflags = [f.replace("build/firmware.map", str(proj / "stub.map")) for f in bundle.ldflags]
            proc = process.run([cc, *map(str, objs), *ldflags, "-o", str(elf)], text=True, cwd=proj,
                               timeout=COMPILE_TIMEOUT)
            if proc.returncode != 0:
                raise RuntimeError(f"linking the {family} stub failed:\n{proc.stderr}")
            libc[family] = sum(u.code + u.data for src, u in usage_by_file(proj / "stub.map").items()
                               if ".a(" in src)
    return {"compiler": f"arm-none-eabi-gcc {version}", "flags": TABLE_FLAGS, "objects": objects,
            "libc_bytes": libc}


def update_table(tflm: bool = True) -> dict:
    """Re-measure the table. With `tflm`, also the tflm fallback ("extra.tflm") from the
    Cortex-M7 CMSIS-NN library (built once into the cache when it is not there: minutes)."""
    old = load_table()
    fresh = measure_objects()
    fresh["sources_hash"] = sources_hash()
    fresh["extra"] = {**old.get("extra", {}), "libc_bytes": fresh.pop("libc_bytes")}
    if tflm:
        fresh["extra"]["tflm"] = tflm_table()
    TABLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    TABLE_PATH.write_text(json.dumps(fresh, indent=1, sort_keys=True) + "\n")
    load_table.cache_clear()
    return fresh


def tflm_reference_table(entry: LibraryEntry, libc: str = "nano") -> dict:
    """The table's "extra.tflm", mcugen.codesize's fallback when no library is cached, from a
    library entry's section graph (toolchain libs included, bss not):

    - "framework": what an application with no operator links (the MicroInterpreter);
    - "groups": the sections the operators add on top, grouped by the set of operators that
      reach them ({"ops": "CONV_2D DEPTHWISE_CONV_2D", "bytes": n}): a model's code is the
      framework plus every group one of its operators is in, so a helper two kernels share
      counts once, as in the link;
    - "ops": each operator's bytes on top of the framework alone; "op_default" their median,
      for an operator the library does not have."""
    graph = load_analysis(entry, libc)
    framework = graph.closure(graph.roots_matching(FRAMEWORK_ROOT), set())
    reached: dict[int, list[str]] = {}
    ops = {}
    for op, (register, parser) in REGISTRATIONS.items():
        roots = graph.function_roots(register) + graph.function_roots(parser)
        if not roots:
            continue
        added = graph.closure(roots, set(framework)) - framework
        ops[op] = sum(graph.sections[s][3] for s in added if graph.sections[s][2] != "bss")
        for s in added:
            reached.setdefault(s, []).append(op)
    groups: dict[str, int] = {}
    for s, by in reached.items():
        if graph.sections[s][2] != "bss":
            key = " ".join(sorted(by))
            groups[key] = groups.get(key, 0) + graph.sections[s][3]
    values = sorted(ops.values())
    return {"framework": sum(graph.sections[s][3] for s in framework if graph.sections[s][2] != "bss"),
            "groups": [{"ops": k, "bytes": v} for k, v in sorted(groups.items())],
            "ops": ops, "op_default": values[len(values) // 2] if values else 0, "library": entry.path.name}


def tflm_library_key(entry: LibraryEntry) -> dict:
    """What makes the tflm table stale when it changes: the TFLM tree, the compiler, the target."""
    key = entry.key.to_json()
    return {k: key[k] for k in ("tree_revision", "compiler", "target", "kernels", "make_vars")}


def tflm_table(jobs: int | None = None) -> dict:
    """The tflm style's code-size fallback (mcugen.codesize.tflm_code_size reads it when no TFLM
    library is cached yet), measured from the objects of the real Cortex-M7 CMSIS-NN library."""
    target, kernels = TFLM_TABLE_TARGET
    entry = get_library(target=target, kernels=kernels, jobs=jobs)
    return {**tflm_reference_table(entry), "key": tflm_library_key(entry)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcugen.calibrate.codesize",
                                     description="The code-size table the estimate reads (mcugen/data/code_sizes.json): "
                                                 "printed, or re-measured with --update after a firmware change.")
    parser.add_argument("--update", action="store_true", help="compile every firmware file and rewrite the table")
    parser.add_argument("--no-tflm", action="store_true",
                        help="with --update: keep the tflm fallback as it is (measuring it needs the Cortex-M7 "
                             "CMSIS-NN TFLM library, built once into the cache: minutes)")
    args = parser.parse_args(argv)
    if args.update:
        table = update_table(tflm=not args.no_tflm)
        tflm = table["extra"].get("tflm", {})
        print(f"measured {len(table['objects'])} objects"
              + (f" and {len(tflm.get('ops', {}))} TFLM operators ({tflm.get('library')})" if tflm else "")
              + f" -> {TABLE_PATH}")
    else:
        print(json.dumps(load_table(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
