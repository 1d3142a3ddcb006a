"""Tiny but real Arm images for runner tests: an ELF (assembled and linked with the
arm-none-eabi binutils) with loadable bytes at the given addresses, and its .hex beside
it, as `mcugen build` leaves them in build/."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_image(build_dir: Path, *addresses: int) -> Path:
    """build_dir/firmware.elf (+ .hex) with one word at each address (the first: .text)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    asm = build_dir / "image.s"
    lines = []
    for i, _ in enumerate(addresses):
        lines += [f'.section .s{i},"a"', f".word 0x{0xC0DE0000 + i:08X}"]
    asm.write_text("\n".join(lines) + "\n")
    obj, elf = build_dir / "image.o", build_dir / "firmware.elf"
    subprocess.run(["arm-none-eabi-as", "-mcpu=cortex-m7", "-o", str(obj), str(asm)], check=True)
    starts = [f"--section-start=.s{i}=0x{a:08X}" for i, a in enumerate(addresses)]
    subprocess.run(["arm-none-eabi-ld", "-e", "0", *starts, "-o", str(elf), str(obj)], check=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "ihex", str(elf), str(elf.with_suffix(".hex"))], check=True)
    return elf


def make_project(project_dir: Path, board: str, model: Path, *addresses: int, uart_baud: int = 0) -> Path:
    """A project as `mcugen build` leaves it, as far as flash-and-measure reads it: mcugen.json,
    the model's copy, and build/firmware.elf (+ .hex), a tiny image at `addresses`."""
    import hashlib

    from mcugen.firmware import FirmwareOptions, Manifest, write_manifest

    project_dir.mkdir(parents=True, exist_ok=True)
    data = model.read_bytes()
    (project_dir / "model.tflite").write_bytes(data)
    write_manifest(project_dir, Manifest(board=board, style="cubeai", model_name=model.stem,
                                         model_hash=hashlib.sha256(data).hexdigest(),
                                         firmware=FirmwareOptions(uart_baud=uart_baud)))
    make_image(project_dir / "build", *(addresses or (0x08000000,)))
    return project_dir
