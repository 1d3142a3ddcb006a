"""Names the user chooses that become C identifiers and file names, checked before
anything is computed or written.

`--name` (cubeai) names the network: its C symbols (`stai_<name>_run`, `<NAME>_...`)
and four of the project's files (`<name>.h/.c`, `<name>_data.h/.c`: the templates
whose names start with `network`). It must be a C identifier (ASCII letters, digits
and '_', not starting with a digit), at most MAX_NAME_LENGTH characters, and none of
its files may be a file the generator writes anyway (`main.c`, `stai.h`, ...): those
are read from the templates folder, the same way render_project names its outputs
(each template that no other template includes becomes the file of its name without
`.j2`), so the check follows the templates as they change.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import PurePosixPath

from jinja2 import meta

from mcugen.errors import McugenError
from mcugen.resources import template_environment

MAX_NAME_LENGTH = 64  # C compilers take more; file names and symbols stay readable
NETWORK_TEMPLATE_STEM = "network"  # templates/cubeai/network*.j2 -> <name>*
STYLE_TEMPLATES = "cubeai"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class InvalidNameError(McugenError):
    """A name given on the command line cannot be used."""


@lru_cache(maxsize=1)
def _rendered_templates() -> tuple[str, ...]:
    """The cubeai templates that become files: those no other template includes."""
    env = template_environment()
    names = [t for t in env.list_templates(extensions=["j2"]) if t.startswith(f"{STYLE_TEMPLATES}/")]
    included: set[str] = set()
    for t in names:
        source = env.loader.get_source(env, t)[0]
        included |= {r for r in meta.find_referenced_templates(env.parse(source)) if r}
    return tuple(sorted(PurePosixPath(t).name[: -len(".j2")] for t in names if t not in included))


def network_file_names(name: str) -> tuple[str, ...]:
    """The files named after the network (`<name>.h`, `<name>_data.c`, ...)."""
    return tuple(name + f[len(NETWORK_TEMPLATE_STEM):] for f in _rendered_templates()
                 if f.startswith(NETWORK_TEMPLATE_STEM))


def fixed_file_names() -> tuple[str, ...]:
    """The generated files whose names do not depend on --name (`main.c`, `stai.h`, ...)."""
    return tuple(f for f in _rendered_templates() if not f.startswith(NETWORK_TEMPLATE_STEM))


def reserved_names() -> tuple[str, ...]:
    """Every --name whose files would overwrite one of the fixed files."""
    suffixes = [f[len(NETWORK_TEMPLATE_STEM):] for f in _rendered_templates() if f.startswith(NETWORK_TEMPLATE_STEM)]
    return tuple(sorted({f[: -len(s)] for f in fixed_file_names() for s in suffixes if s and f.endswith(s)}))


def check_network_name(name: str) -> str:
    """`name` if it can name the network; InvalidNameError saying why not otherwise."""
    name = str(name)
    printable = ascii(name)[1:-1]  # control characters and non-ASCII escaped, never sent to the terminal raw
    shown = printable if len(printable) <= 40 else f"{printable[:37]}... ({len(name)} characters)"
    if not _IDENTIFIER.match(name):
        raise InvalidNameError(f"'{shown}' cannot be the network's C name.",
                               hint="Use a C identifier: ASCII letters, digits and '_', not starting with a "
                                    "digit (default: network).")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(f"The network name '{shown}' is longer than {MAX_NAME_LENGTH} characters.",
                               hint=f"Use a name of at most {MAX_NAME_LENGTH} characters (default: network).")
    # compared without case: on a case-insensitive file system Main.c is main.c
    fixed = {f.casefold(): f for f in fixed_file_names()}
    clashes = [fixed[mine.casefold()] for mine in network_file_names(name) if mine.casefold() in fixed]
    if clashes:
        raise InvalidNameError(f"--name {name} clashes with mcugen's own {', '.join(clashes)}: the network's "
                               "files would overwrite it.",
                               hint=f"Choose another name; these are taken: {', '.join(reserved_names())}.")
    return name
