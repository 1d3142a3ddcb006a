"""The real arena a model needs under TFLM, measured by running TFLM itself.

A small program (probe/arena_probe.cc) is compiled against a cached library
entry: it builds a MicroInterpreter with every builtin operator registered,
calls AllocateTensors on a large arena and prints `arena_used_bytes()`, the
head/tail split, and the smallest arena for which AllocateTensors succeeds
(which can exceed arena_used_bytes: the planner and the kernels' Prepare need
temporary room that is freed afterwards).

- target "cortex-m7": built with the entry's arm-none-eabi flags plus
  probe/startup_m7.c and probe/mps2_an500.ld, run under
  `qemu-system-arm -M mps2-an500 -cpu cortex-m7` with semihosting output; the
  model is placed in QEMU's RAM by `-device loader`.
- target "host": built with the host compiler against a host library entry,
  run natively with the model path as argument.

The probe binary is built once per library entry and cached next to it in
<cache>/tflm-tools/<entry name>/ (same atomic-rename rule as the library).

`measure_python_interpreter` reads the figure the tflite-micro Python package
reports (64-bit host, reference kernels, RecordingMicroAllocator): a third
reference point, not a target mcugen builds for.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mcugen import process
from mcugen.errors import RunnerError, ToolchainError
from mcugen.tflm.cache import LibraryEntry, cache_root
from mcugen.tflm.ops import RESOLVER_METHODS

PROBE_DIR = Path(__file__).resolve().parent / "probe"
QEMU = "qemu-system-arm"
QEMU_MACHINE = ("-M", "mps2-an500", "-cpu", "cortex-m7")
MODEL_ADDR = 0x6000_0000  # QEMU mps2-an500 "mps.ram", 16 MiB (see probe/mps2_an500.ld)
MODEL_MAGIC = 0x4D43474D
ARENA_MAX = {"cortex-m7": 2 * 1024 * 1024, "cortex-m7-nofp": 2 * 1024 * 1024, "host": 64 * 1024 * 1024}
DEFAULT_TIMEOUT_S = 300.0
_RESULT = re.compile(r"MCUGEN_ARENA (.*)")


@dataclass(frozen=True)
class ArenaMeasurement:
    used: int  # MicroInterpreter::arena_used_bytes() after AllocateTensors
    head: int  # non-persistent section (the memory plan)
    tail: int  # persistent section
    minimum: int  # smallest arena size for which AllocateTensors succeeds
    target: str
    kernels: str


def probe_ops_inc() -> str:
    """One MCUGEN_OP(AddXxx) line per builtin operator the resolver knows."""
    return "".join(f"MCUGEN_OP({m})\n" for m in RESOLVER_METHODS.values())


def _run(argv: list[str], cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    try:
        out = process.run([process.require(argv[0]), *argv[1:]], cwd=cwd, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"{Path(argv[0]).name} did not finish within {timeout:.0f} s.") from exc
    if out.returncode != 0:
        raise ToolchainError(
            f"{Path(argv[0]).name} failed (exit {out.returncode}):\n{(out.stdout + out.stderr)[-3000:]}",
            hint="The command was: " + " ".join(argv),
        )
    return out


def probe_path(entry: LibraryEntry, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    return cache_root(cache_dir) / "tflm-tools" / entry.path.name / "arena_probe.elf"


def build_probe(entry: LibraryEntry, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Compile (once per library entry) the arena probe; returns the executable."""
    final = probe_path(entry, cache_dir)
    if final.is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    target = entry.key.target
    cross = target != "host"
    with tempfile.TemporaryDirectory(prefix=".probe-", dir=final.parent) as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "probe_ops.inc").write_text(probe_ops_inc())
        defines = [f"-DMCUGEN_OP_COUNT={len(RESOLVER_METHODS)}", f"-DMCUGEN_ARENA_MAX={ARENA_MAX[target]}u"]
        if cross:
            defines.append(f"-DMCUGEN_MODEL_ADDR=0x{MODEL_ADDR:08X}u")
        objects = [tmp / "arena_probe.o"]
        _run([entry.cxx, *entry.compile_flags(cxx=True), "-Os", *defines, f"-I{tmp}",
              "-c", str(PROBE_DIR / "arena_probe.cc"), "-o", str(objects[0])])
        link = [entry.cxx, *entry.cpu_flags]
        if cross:
            objects.append(tmp / "startup_m7.o")
            _run([entry.cc, *entry.cpu_flags, "-Os", "-ffunction-sections", "-c",
                  str(PROBE_DIR / "startup_m7.c"), "-o", str(objects[1])])
            link += ["--specs=rdimon.specs", "-nostartfiles", "-T", str(PROBE_DIR / "mps2_an500.ld")]
        out = tmp / "arena_probe.elf"
        _run([*link, "-Wl,--gc-sections", *map(str, objects), *entry.link_inputs(), "-o", str(out)])
        os.replace(out, final)
    return final


def measure_arena(
    model: bytes | str | os.PathLike[str],
    entry: LibraryEntry,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    find_minimum: bool = True,
) -> ArenaMeasurement:
    """Run the probe for `model` (bytes or a path) with `entry`'s library; QEMU for Cortex-M.

    The minimum arena is searched with one probe run per trial size (a failed
    allocation can crash TFLM, so trials never share a process): the gap above
    arena_used_bytes() is doubled until a size works, then bisected.
    """
    data = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    probe = build_probe(entry, cache_dir)
    target = entry.key.target
    if target != "host" and not shutil.which(QEMU):
        raise RunnerError(
            f"{QEMU} not found; it runs the Cortex-M7 arena probe.",
            hint="Install qemu-system-arm (Debian/Ubuntu: apt install qemu-system-arm).",
        )
    with tempfile.TemporaryDirectory(prefix="mcugen-arena-") as tmp_name:
        tmp = Path(tmp_name)

        def run(trial: int) -> dict[str, str]:
            if target == "host":
                model_file = tmp / "model.tflite"
                if not model_file.exists():
                    model_file.write_bytes(data)
                argv = [str(probe), str(model_file), str(trial)]
            else:
                blob = tmp / "model.bin"
                header = (MODEL_MAGIC.to_bytes(4, "little") + len(data).to_bytes(4, "little")
                          + trial.to_bytes(4, "little") + bytes(4))
                blob.write_bytes(header + data)
                argv = [QEMU, *QEMU_MACHINE, "-nographic", "-monitor", "none", "-serial", "null",
                        "-semihosting-config", "enable=on,target=native", "-kernel", str(probe),
                        "-device", f"loader,file={blob},addr=0x{MODEL_ADDR:08X}"]
            try:
                out = process.run(argv, text=True, timeout=timeout_s)
            except subprocess.TimeoutExpired as exc:
                raise RunnerError(f"The arena probe did not finish within {timeout_s:.0f} s.",
                                  hint="The model may be too large for the probe's arena.") from exc
            match = _RESULT.search(out.stdout)
            fields = dict(kv.split("=", 1) for kv in match.group(1).split()) if match else {}
            if trial and fields.get("status") != "ok":
                return {"status": "fail"}  # includes crashes: the size is too small
            if fields.get("status") != "ok":
                raise RunnerError(
                    f"The arena probe failed ({fields.get('status', 'no result')}):\n"
                    + (out.stdout + out.stderr)[-2000:],
                    hint=f"Command: {' '.join(argv)}",
                )
            return fields

        fields = run(0)
        used = int(fields["used"])
        minimum = used
        if find_minimum and run(used)["status"] != "ok":
            lo, gap = used, 64  # lo fails
            while run(used + gap)["status"] != "ok":
                lo = used + gap
                gap *= 2
                if used + gap > ARENA_MAX[target]:
                    raise RunnerError("The arena probe found no working arena size.")
            hi = used + gap
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if run(mid)["status"] == "ok":
                    hi = mid
                else:
                    lo = mid
            minimum = hi
    return ArenaMeasurement(
        used=used, head=int(fields["head"]), tail=int(fields["tail"]),
        minimum=minimum, target=target, kernels=entry.key.kernels,
    )


_PY_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")
_PY_HEAD = re.compile(r"Arena allocation head (\d+) bytes")
_PY_TAIL = re.compile(r"Arena allocation tail (\d+) bytes")


@dataclass(frozen=True)
class PythonArenaMeasurement:
    total: int
    head: int
    tail: int


def measure_python_interpreter(model: bytes | str | os.PathLike[str], timeout_s: float = 120.0
                               ) -> PythonArenaMeasurement:
    """The tflite-micro Python interpreter's own arena report (PrintAllocations, on stderr).

    Runs in a subprocess because the figures are printed by C++ to fd 2.
    """
    data = model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()
    code = (
        "import sys\n"
        "from tflite_micro.python.tflite_micro import runtime\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "it = runtime.Interpreter.from_bytes(data, arena_size=64 * 1024 * 1024)\n"
        "it.print_allocations()\n"
    )
    with tempfile.TemporaryDirectory(prefix="mcugen-pyarena-") as tmp_name:
        path = Path(tmp_name) / "model.tflite"
        path.write_bytes(data)
        out = process.run([sys.executable, "-c", code, str(path)], text=True, timeout=timeout_s)
    text = out.stdout + out.stderr
    total, head, tail = (_PY_TOTAL.search(text), _PY_HEAD.search(text), _PY_TAIL.search(text))
    if out.returncode != 0 or not (total and head and tail):
        raise RunnerError("The tflite-micro Python interpreter did not report its arena:\n" + text[-2000:],
                          hint="pip install tflite-micro")
    return PythonArenaMeasurement(int(total.group(1)), int(head.group(1)), int(tail.group(1)))


# --- code size of a real link ------------------------------------------------------------------------

_MAP_INPUT = re.compile(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_MAP_CONT = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_MAP_NAME_ONLY = re.compile(r"^ (\S+)$")
_FLASH_OUTPUT_SECTIONS = {".text", ".ARM.extab", ".ARM.exidx", ".data"}


@dataclass(frozen=True)
class LinkedCodeSize:
    """Flash (text + data) of a real --gc-sections link, by where the input sections came from."""

    library: int  # libtensorflow-microlite.a members
    toolchain: int  # libstdc++/libm/libc/libnosys/libgcc members
    application: int  # the probe's own objects (main, resolver instance, startup)
    by_object: dict[str, int]

    @property
    def tflm(self) -> int:
        """What codesize.code_size_estimate estimates: the library plus the toolchain libs."""
        return self.library + self.toolchain


def parse_link_map(text: str) -> dict[str, int]:
    """Bytes per input file (archive(member) or object) in the flash output sections of a GNU ld map."""
    sizes: dict[str, int] = {}
    in_map = False
    output = None
    pending = None
    for line in text.splitlines():
        if not in_map:
            in_map = line.startswith("Linker script and memory map")
            continue
        if line[:1] == ".":
            output = line.split()[0]
            pending = None
            continue
        if output not in _FLASH_OUTPUT_SECTIONS:
            continue
        m = _MAP_INPUT.match(line)
        if m and not m.group(1).startswith("*"):
            name, size, where = m.group(1), int(m.group(3), 16), m.group(4).strip()
        elif pending and (c := _MAP_CONT.match(line)):
            name, size, where = pending, int(c.group(2), 16), c.group(3).strip()
        else:
            n = _MAP_NAME_ONLY.match(line)
            pending = n.group(1) if n and not n.group(1).startswith("*") else None
            continue
        pending = None
        if size and name.startswith("."):
            sizes[where] = sizes.get(where, 0) + size
    return sizes


def measure_code_size(
    entry: LibraryEntry, opcodes: list[str], *, cache_dir: str | os.PathLike[str] | None = None
) -> LinkedCodeSize:
    """Link the code-size probe (exactly these builtin operators) like mcugen's firmware and read its map.

    Cortex-M targets only: newlib-nano + nosys, -Wl,--gc-sections.
    """
    if entry.key.target == "host":
        raise ValueError("code size is measured for Cortex-M library entries only")
    methods = [RESOLVER_METHODS[op] for op in dict.fromkeys(opcodes)]
    with tempfile.TemporaryDirectory(prefix="mcugen-codesize-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "probe_ops.inc").write_text("".join(f"MCUGEN_OP({m})\n" for m in methods))
        main_o, start_o, elf, map_file = (tmp / "main.o", tmp / "startup.o", tmp / "probe.elf",
                                          tmp / "probe.map")
        _run([entry.cxx, *entry.compile_flags(cxx=True), "-Os", f"-DMCUGEN_OP_COUNT={max(1, len(methods))}",
              f"-I{tmp}", "-c", str(PROBE_DIR / "codesize_probe.cc"), "-o", str(main_o)])
        _run([entry.cc, *entry.cpu_flags, "-Os", "-ffunction-sections", "-DMCUGEN_NO_SEMIHOSTING",
              "-c", str(PROBE_DIR / "startup_m7.c"), "-o", str(start_o)])
        _run([entry.cxx, *entry.cpu_flags, "--specs=nano.specs", "--specs=nosys.specs", "-nostartfiles",
              "-T", str(PROBE_DIR / "mps2_an500.ld"), "-Wl,--gc-sections", f"-Wl,-Map={map_file}",
              str(main_o), str(start_o), *entry.link_inputs(), "-o", str(elf)])
        by_object = parse_link_map(map_file.read_text())
    library = toolchain = application = 0
    for where, size in by_object.items():
        if "libtensorflow-microlite.a(" in where:
            library += size
        elif ".a(" in where:
            toolchain += size
        else:
            application += size
    return LinkedCodeSize(library=library, toolchain=toolchain, application=application, by_object=by_object)
