"""Code flash of a TFLM application, from the library's really compiled objects.

After a library build, `analyse_objects` reads every object file of the build
(pyelftools) and records, per allocatable section, its size and kind and the
sections and symbols its relocations reference. TFLM is compiled with
-ffunction-sections -fdata-sections and applications link with --gc-sections,
so the linker keeps exactly the sections reachable from what the application
calls. `code_size_estimate` repeats that reachability walk from the roots an
application registering a given set of operators has:

- the framework: every MicroInterpreter member (constructor, AllocateTensors,
  Invoke, input/output, ...), which pulls the allocator, planner, flatbuffer
  helpers and the debug log;
- per operator: its kernel's Register_* function and the flatbuffer parser the
  resolver method passes (ops.REGISTRATIONS), which pull the kernel's
  Init/Prepare/Eval, its CMSIS-NN or reference functions and their helpers.

Undefined references of the library (memcpy, expf, __aeabi_*, the C++ runtime)
are resolved, for Cortex-M builds, in the toolchain's own libstdc++/libm/libc/
libgcc archives for the library's CPU flags, and counted as "toolchain libs".
What the walk cannot see: the application's own code (main, startup, the
resolver template instance, about 40 B per registered op) and string merging
across objects. The figure is an estimate; tests/tflm checks it against a real
link.

Sizes follow arm-none-eabi-size: text = code + read-only data, data =
initialised RAM data (also stored in flash), bss = zeroed RAM.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from mcugen import process
from mcugen.errors import McugenError
from mcugen.tflm.cache import LibraryEntry
from mcugen.tflm.ops import CUSTOM_REGISTRATIONS, REGISTRATIONS

# Sections the linker keeps whenever their object is linked (KEEP() in linker scripts).
_KEEP_PREFIXES = (".init_array", ".fini_array", ".preinit_array", ".ctors", ".dtors", ".isr_vector")
FRAMEWORK_ROOT = re.compile(r"^_ZN6tflite16MicroInterpreter(C[12]|D[012]|\d)")
FRAMEWORK = "framework"
ANALYSIS_FORMAT = 2
TOOLCHAIN = "toolchain libs"


@dataclass
class ObjectAnalysis:
    """The section graph of a set of objects (the library, plus toolchain archive members)."""

    objects: list[str] = field(default_factory=list)  # object paths: "core/.../x.o", "libc.a(memcpy.o)"
    sections: list[tuple[int, str, str, int]] = field(default_factory=list)  # (object, name, kind, size)
    refs: list[list[int]] = field(default_factory=list)  # section -> referenced sections
    ext: dict[int, list[str]] = field(default_factory=dict)  # section -> unresolved symbol names
    symbols: dict[str, int] = field(default_factory=dict)  # global symbol -> defining section
    keep: list[int] = field(default_factory=list)  # KEEP sections (kept with their object)
    toolchain_objects: int = 0  # objects[-toolchain_objects:] come from toolchain archives
    libc: str = ""  # the libc variant the toolchain part was resolved against ("" = none, host)

    # -- persistence

    def to_json(self) -> dict:
        return {
            "format": ANALYSIS_FORMAT,
            "libc": self.libc,
            "objects": self.objects,
            "sections": self.sections,
            "refs": self.refs,
            "ext": {str(k): v for k, v in self.ext.items()},
            "symbols": self.symbols,
            "keep": self.keep,
            "toolchain_objects": self.toolchain_objects,
        }

    @classmethod
    def from_json(cls, data: dict) -> "ObjectAnalysis":
        return cls(
            objects=list(data["objects"]),
            sections=[tuple(s) for s in data["sections"]],
            refs=[list(r) for r in data["refs"]],
            ext={int(k): v for k, v in data.get("ext", {}).items()},
            symbols=dict(data["symbols"]),
            keep=list(data.get("keep", [])),
            toolchain_objects=int(data.get("toolchain_objects", 0)),
            libc=data.get("libc", ""),
        )

    # -- per-object sizes (what arm-none-eabi-size prints per object)

    def object_sizes(self, include_toolchain: bool = False) -> dict[str, tuple[int, int, int]]:
        n_lib = len(self.objects) - self.toolchain_objects
        sums = [[0, 0, 0] for _ in self.objects]
        for obj, _, kind, size in self.sections:
            sums[obj][("text", "data", "bss").index(kind)] += size
        return {
            name: tuple(s)  # type: ignore[misc]
            for i, (name, s) in enumerate(zip(self.objects, sums))
            if include_toolchain or i < n_lib
        }

    def is_toolchain(self, section: int) -> bool:
        return self.sections[section][0] >= len(self.objects) - self.toolchain_objects

    # -- reachability

    def closure(self, roots: list[int], seen: set[int] | None = None) -> set[int]:
        """Sections reachable from `roots` (adds to and returns `seen`), like ld --gc-sections."""
        seen = set() if seen is None else seen
        linked_objects = {self.sections[s][0] for s in seen}
        keep_by_object: dict[int, list[int]] = {}
        for s in self.keep:
            keep_by_object.setdefault(self.sections[s][0], []).append(s)
        queue = deque(s for s in roots if s not in seen)
        seen.update(queue)
        while queue:
            s = queue.popleft()
            obj = self.sections[s][0]
            if obj not in linked_objects:
                linked_objects.add(obj)
                for k in keep_by_object.get(obj, ()):
                    if k not in seen:
                        seen.add(k)
                        queue.append(k)
            for t in self.refs[s]:
                if t not in seen:
                    seen.add(t)
                    queue.append(t)
        return seen

    def roots_matching(self, pattern: re.Pattern[str]) -> list[int]:
        return sorted({sec for name, sec in self.symbols.items() if pattern.search(name)})

    def function_roots(self, name: str) -> list[int]:
        """Sections defining a C++ function `name` in any namespace (any signature)."""
        return sorted({sec for sym, sec in self.symbols.items() if _mangled_function(sym) == name})


def _mangled_function(symbol: str) -> str | None:
    """The unqualified name of an Itanium-mangled (nested) function: _ZN6tflite16Register_ADDEv -> Register_ADD."""
    if symbol.startswith("_ZN"):
        pos, last = 3, None
        while pos < len(symbol) and symbol[pos].isdigit():
            end = pos
            while end < len(symbol) and symbol[end].isdigit():
                end += 1
            n = int(symbol[pos:end])
            last = symbol[end : end + n]
            pos = end + n
        return last if pos < len(symbol) and symbol[pos] == "E" else None
    if symbol.startswith("_Z") and symbol[2:3].isdigit():
        end = 2
        while symbol[end].isdigit():
            end += 1
        return symbol[end : end + int(symbol[2:end])]
    return None


@dataclass(frozen=True)
class ReachableCode:
    """Estimated code flash (text + data) of TFLM in an application, split by part."""

    by_part: dict[str, int]  # "framework", each opcode, "toolchain libs"
    total: int
    static_ram: int = 0  # data + bss the linked library sections take in RAM
    unknown_ops: tuple[str, ...] = ()  # opcodes without a registration in the library

    def to_json(self) -> dict:
        return {
            "by_part": dict(self.by_part),
            "total": self.total,
            "static_ram": self.static_ram,
            "unknown_ops": list(self.unknown_ops),
        }


ANALYSIS_FILES = {"nano": "objects.json", "newlib": "objects-newlib.json"}


def analysis_file(entry: LibraryEntry, libc: str = "nano") -> Path:
    """Where a library cache entry keeps its section graph for a libc variant."""
    if libc not in ANALYSIS_FILES:
        raise ValueError(f"libc must be one of {tuple(ANALYSIS_FILES)}")
    return Path(entry.path) / ANALYSIS_FILES[libc]


def load_analysis(entry: LibraryEntry, libc: str = "nano") -> ObjectAnalysis:
    """The section graph stored in a library cache entry.

    Made at build time; an entry without it (or from an older mcugen) gets it
    from its own library archive, written atomically next to the library.
    """
    path = analysis_file(entry, libc)
    try:
        data = json.loads(path.read_text())
        if data.get("format") == ANALYSIS_FORMAT:
            return ObjectAnalysis.from_json(data)
    except (OSError, ValueError):
        pass
    cross = entry.key.target != "host"
    archives = toolchain_archives(entry.cc, list(entry.cpu_flags), libc) if cross else []
    analysis = analyse_objects(entry.library, archives)
    analysis.libc = libc if cross else ""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(analysis.to_json(), separators=(",", ":")))
    os.replace(tmp, path)
    return analysis


def code_size_estimate(entry: LibraryEntry, opcodes: list[str], analysis: ObjectAnalysis | None = None,
                       libc: str = "nano") -> ReachableCode:
    """Estimated code flash for an application registering exactly `opcodes` with `entry`'s library.

    Each section is counted once, in the first part that reaches it: the
    framework first, then the operators in the given order (shared kernel
    helpers land in the first operator that uses them), and sections from the
    toolchain archives in "toolchain libs".
    """
    graph = analysis if analysis is not None else load_analysis(entry, libc)
    seen: set[int] = set()
    parts: dict[str, set[int]] = {}
    framework = graph.closure(graph.roots_matching(FRAMEWORK_ROOT), seen)
    parts[FRAMEWORK] = set(framework)
    unknown = []
    for op in dict.fromkeys(opcodes):
        reg = REGISTRATIONS.get(op)
        custom = CUSTOM_REGISTRATIONS.get(op.removeprefix("CUSTOM:")) if op.startswith("CUSTOM:") else None
        roots = (graph.function_roots(reg[0]) + graph.function_roots(reg[1]) if reg
                 else graph.function_roots(custom) if custom else [])
        if not roots:
            unknown.append(op)
            continue
        before = set(seen)
        graph.closure(roots, seen)
        parts[op] = seen - before
    by_part: dict[str, int] = {}
    toolchain = 0
    static_ram = 0
    for part, secs in parts.items():
        n = 0
        for s in secs:
            _, _, kind, size = graph.sections[s]
            if kind != "text":
                static_ram += size
            if kind == "bss":
                continue
            if graph.is_toolchain(s):
                toolchain += size
            else:
                n += size
        by_part[part] = n
    by_part[TOOLCHAIN] = toolchain
    return ReachableCode(by_part=by_part, total=sum(by_part.values()), static_ram=static_ram,
                    unknown_ops=tuple(unknown))


# --- reading objects ------------------------------------------------------------------------------


def _section_kind(section) -> str | None:
    flags = section["sh_flags"]
    if not flags & SH_FLAGS.SHF_ALLOC:
        return None
    if section["sh_type"] == "SHT_NOBITS":
        return "bss"
    if flags & SH_FLAGS.SHF_WRITE:
        return "data"
    return "text"


class _Builder:
    def __init__(self) -> None:
        self.a = ObjectAnalysis()
        self.pending: list[tuple[int, list[str]]] = []  # (section, referenced global names)
        self.weak: set[str] = set()

    def add_object(self, name: str, data: bytes) -> list[str]:
        """Add one ELF object; returns the names it strongly references but does not define."""
        a = self.a
        obj = len(a.objects)
        a.objects.append(name)
        elf = ELFFile(io.BytesIO(data))
        local: dict[int, int] = {}  # ELF section index -> our section id
        for idx, sec in enumerate(elf.iter_sections()):
            kind = _section_kind(sec)
            if kind is None or sec["sh_size"] == 0 and not sec.name.startswith(_KEEP_PREFIXES):
                continue
            local[idx] = len(a.sections)
            a.sections.append((obj, sec.name, kind, int(sec["sh_size"])))
            a.refs.append([])
            if sec.name.startswith(_KEEP_PREFIXES):
                a.keep.append(local[idx])
        symtab = elf.get_section_by_name(".symtab")
        syms = list(symtab.iter_symbols()) if symtab is not None else []
        undefined: set[str] = set()
        for sym in syms:
            bind = sym["st_info"]["bind"]
            shndx = sym["st_shndx"]
            if bind not in ("STB_GLOBAL", "STB_WEAK") or not sym.name:
                continue
            if shndx == "SHN_UNDEF":
                # Only strong references pull archive members; a weak undefined one (newlib-nano's
                # _printf_float) binds only to something linked for another reason.
                if bind == "STB_GLOBAL":
                    undefined.add(sym.name)
            elif isinstance(shndx, int) and shndx in local:
                # First strong definition wins; a weak one only fills a gap.
                if sym.name not in a.symbols or (sym.name in self.weak and bind == "STB_GLOBAL"):
                    a.symbols[sym.name] = local[shndx]
                    if bind == "STB_WEAK":
                        self.weak.add(sym.name)
                    else:
                        self.weak.discard(sym.name)
            elif shndx == "SHN_COMMON":
                undefined.discard(sym.name)
        for sec in elf.iter_sections():
            if not isinstance(sec, RelocationSection):
                continue
            target = local.get(sec["sh_info"])
            if target is None:
                continue
            names: list[str] = []
            ids: set[int] = set()
            for rel in sec.iter_relocations():
                sym = syms[rel["r_info_sym"]] if rel["r_info_sym"] < len(syms) else None
                if sym is None:
                    continue
                shndx = sym["st_shndx"]
                bind = sym["st_info"]["bind"]
                if bind in ("STB_GLOBAL", "STB_WEAK") and sym.name:
                    names.append(sym.name)  # resolved globally (COMDAT, weak overrides)
                elif isinstance(shndx, int) and shndx in local:
                    ids.add(local[shndx])
            a.refs[target].extend(sorted(ids - {target}))
            if names:
                self.pending.append((target, names))
        return sorted(undefined)

    def finish(self) -> ObjectAnalysis:
        a = self.a
        for sec, names in self.pending:
            refs = set(a.refs[sec])
            ext = []
            for n in dict.fromkeys(names):
                t = a.symbols.get(n)
                if t is None:
                    ext.append(n)
                elif t != sec:
                    refs.add(t)
            a.refs[sec] = sorted(refs)
            if ext:
                a.ext[sec] = ext
        return a


def analyse_objects(obj_dir: str | os.PathLike[str], toolchain_archives: list[Path] | None = None
                    ) -> ObjectAnalysis:
    """The section graph of every .o under `obj_dir` (or in an archive), plus the toolchain
    archive members they need.

    `toolchain_archives` are searched in link order for symbols the library
    references but does not define (pulled member by member, recursively, as
    the linker does); pass None or [] to skip (host builds link glibc dynamically).
    """
    obj_dir = Path(obj_dir)
    builder = _Builder()
    undefined: set[str] = set()
    if obj_dir.is_file():  # the library archive itself: members by name
        for member, data in _Archive(obj_dir).members():
            undefined.update(builder.add_object(member, data))
    else:
        for path in sorted(obj_dir.rglob("*.o")):
            undefined.update(builder.add_object(path.relative_to(obj_dir).as_posix(), path.read_bytes()))
    n_lib = len(builder.a.objects)
    if toolchain_archives:
        archives = [_Archive(p) for p in toolchain_archives if p.is_file()]
        loaded: set[tuple[int, int]] = set()
        queue = deque(sorted(undefined - set(builder.a.symbols)))
        while queue:
            name = queue.popleft()
            if name in builder.a.symbols:
                continue
            for ai, archive in enumerate(archives):
                offset = archive.index.get(name)
                if offset is None or (ai, offset) in loaded:
                    continue
                loaded.add((ai, offset))
                member, data = archive.member(offset)
                for n in builder.add_object(f"{archive.path.name}({member})", data):
                    if n not in builder.a.symbols:
                        queue.append(n)
                break
    analysis = builder.finish()
    analysis.toolchain_objects = len(analysis.objects) - n_lib
    return analysis


def toolchain_archives(cc: str, cpu_flags: list[str], libc: str = "nano") -> list[Path]:
    """The archives a Cortex-M C++ link searches, in order, for these CPU flags.

    libc "nano": what `--specs=nano.specs --specs=nosys.specs` links (mcugen's
    firmware does); "newlib": the full newlib.
    """
    cxx = re.sub(r"gcc$", "g++", cc)
    if libc == "nano":
        libs = ["libstdc++_nano.a", "libm.a", "libc_nano.a", "libnosys.a", "libgcc.a"]
    elif libc == "newlib":
        libs = ["libstdc++.a", "libm.a", "libc.a", "libgcc.a"]
    else:
        raise ValueError(f"libc must be one of {tuple(ANALYSIS_FILES)}")
    out = []
    for lib in libs:
        tool = cxx if lib.startswith("libstdc++") else cc
        arg = "-print-libgcc-file-name" if lib == "libgcc.a" else f"-print-file-name={lib}"
        try:
            found = process.run([tool, *cpu_flags, arg], text=True, timeout=30)
        except (McugenError, subprocess.SubprocessError):
            continue
        path = found.stdout.strip() if found.returncode == 0 else ""
        if path and os.path.isabs(path) and os.path.isfile(path):
            out.append(Path(path).resolve())
    return out


class _Archive:
    """A GNU/SysV `ar` archive: its symbol index and its members, read on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = path.read_bytes()
        if not self.data.startswith(b"!<arch>\n"):
            raise ValueError(f"{path} is not an ar archive")
        self.long_names = b""
        self.index: dict[str, int] = {}
        pos = 8
        while pos + 60 <= len(self.data):
            name, size, body = self._header(pos)
            if name == b"/":
                count = struct.unpack(">I", body[:4])[0]
                offsets = struct.unpack(f">{count}I", body[4 : 4 + 4 * count])
                names = body[4 + 4 * count :].split(b"\0")
                for off, sym in zip(offsets, names):
                    self.index.setdefault(sym.decode(errors="replace"), off)
            elif name == b"//":
                self.long_names = body
            else:
                break
            pos += 60 + size + (size & 1)

    def _header(self, pos: int) -> tuple[bytes, int, bytes]:
        head = self.data[pos : pos + 60]
        name = head[:16].rstrip(b" ")
        size = int(head[48:58].strip() or b"0")
        return name, size, self.data[pos + 60 : pos + 60 + size]

    def members(self):
        """Every object member, in archive order: (name, bytes)."""
        pos = 8
        while pos + 60 <= len(self.data):
            name, size, _ = self._header(pos)
            if name not in (b"/", b"//", b"/SYM64/"):
                yield self.member(pos)
            pos += 60 + size + (size & 1)

    def member(self, offset: int) -> tuple[str, bytes]:
        name, _, body = self._header(offset)
        if name.startswith(b"/") and name[1:].isdigit():
            start = int(name[1:])
            end = self.long_names.index(b"/\n", start)
            name = self.long_names[start:end]
        return name.rstrip(b"/").decode(errors="replace"), body
