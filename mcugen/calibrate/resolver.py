"""Parsing TFLM's resolver header into the tables of mcugen.tflm.ops.

    python -m mcugen.calibrate.resolver [TFLM_ROOT] > /tmp/tables.py

reads tensorflow/lite/micro/micro_mutable_op_resolver.h: per builtin opcode, the
MicroMutableOpResolver method that registers it, the kernel's Register_* function
and the flatbuffer parser the method passes; and the custom operators by name.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from mcugen.tflm.source import RESOLVER_HEADER, find_tflm_root


@dataclass(frozen=True)
class ResolverTables:
    methods: dict[str, str]
    registrations: dict[str, tuple[str, str]]
    custom_methods: dict[str, str]


_METHOD = re.compile(
    r"TfLiteStatus\s+(Add\w+)\s*\(([^)]*(?:\([^)]*\))?[^)]*)\)\s*\{(.*?)\n  \}", re.S
)
_BUILTIN = re.compile(
    r"AddBuiltin\(\s*BuiltinOperator_(\w+)\s*,\s*([\w:]+(?:\(\))?)\s*,\s*(?:tflite::)?(\w+)\s*\)"
)
_DEFAULT_REGISTRATION = re.compile(r"=\s*([\w:]+)\(\)")
_CUSTOM = re.compile(r'AddCustom\(\s*"([^"]*)"')


def parse_resolver_header(text: str) -> ResolverTables:
    """Parse micro_mutable_op_resolver.h into the three tables above."""
    methods: dict[str, str] = {}
    registrations: dict[str, tuple[str, str]] = {}
    custom: dict[str, str] = {}
    for match in _METHOD.finditer(text):
        name, args, body = match.groups()
        if name in ("AddBuiltin", "AddCustom"):
            continue
        builtin = _BUILTIN.search(body)
        if builtin:
            opcode, registration, parser = builtin.groups()
            if registration == "registration":
                default = _DEFAULT_REGISTRATION.search(args)
                registration = default.group(1) if default else ""
            registration = registration.removesuffix("()").split("::")[-1]
            methods[opcode] = name
            registrations[opcode] = (registration, parser)
            continue
        named = _CUSTOM.search(body)
        if named:
            custom[named.group(1)] = name
    return ResolverTables(methods, registrations, custom)


def render_tables(tables: ResolverTables) -> str:
    """The Python source of the generated tables, as committed above."""
    lines = ["RESOLVER_METHODS: dict[str, str] = {"]
    lines += [f'    "{k}": "{v}",' for k, v in tables.methods.items()]
    lines += ["}", "", "REGISTRATIONS: dict[str, tuple[str, str]] = {"]
    lines += [f'    "{k}": ("{r}", "{p}"),' for k, (r, p) in tables.registrations.items()]
    lines += ["}", "", "CUSTOM_RESOLVER_METHODS: dict[str, str] = {"]
    lines += [f'    "{k}": "{v}",' for k, v in tables.custom_methods.items()]
    lines += ["}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    tree = find_tflm_root(argv[0] if argv else None)
    print(render_tables(parse_resolver_header((tree.root / RESOLVER_HEADER).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
