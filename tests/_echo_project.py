"""Builds throw-away projects around the echo fake model (tests/fixtures/echo_model.c)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mcugen.firmware import FirmwareOptions, Manifest, firmware_bundle, render_makefile, write_files, write_manifest

FIXTURES = Path(__file__).parent / "fixtures"
MAIN_C = """#include "board.h"
#include "mcugen_protocol.h"

int main(void)
{
    board_init();
    return mcugen_serve();
}
"""


def echo_hash(n0: int, name: str = "echo") -> str:
    return hashlib.sha256(f"echo-model:{name}:{n0}".encode()).hexdigest()


def make_echo_project(
    project_dir: Path,
    board: str,
    n0: int = 16,
    name: str = "echo",
    placement: dict[str, str] | None = None,
    defines: dict[str, str] | None = None,
    stack_size: int = 8192,
    werror: bool = True,
    opt_level: str = "-O2",
) -> Manifest:
    project_dir.mkdir(parents=True, exist_ok=True)
    digest = echo_hash(n0, name)
    options = FirmwareOptions(placement=placement or {}, stack_size=stack_size, defines=defines or {},
                              opt_level=opt_level)
    bundle = firmware_bundle(board, options)
    write_files(project_dir, bundle.files)
    hash_init = "{" + ", ".join(f"0x{b:02x}" for b in bytes.fromhex(digest)) + "}"
    files = {
        "app/echo_model.c": (FIXTURES / "echo_model.c").read_text(),
        "app/main.c": MAIN_C,
        "app/echo_config.h": (
            f'#define ECHO_NAME "{name}"\n#define ECHO_N0 {n0}u\n#define ECHO_HASH {hash_init}\n'
        ),
    }
    write_files(project_dir, files)
    makefile = render_makefile(bundle, app_sources=["app/echo_model.c", "app/main.c"],
                               app_include_dirs=["app"], werror=werror)
    (project_dir / "Makefile").write_text(makefile)
    manifest = Manifest(board=board, style="cubeai", model_name=name, model_hash=digest, firmware=options)
    write_manifest(project_dir, manifest)
    return manifest
