"""docs/farm.md, followed step by step: every `sh` block of the guide, in order, as one shell
script in an empty directory (the guide says so), with a free port for the coordinator. The
farm it starts (coordinator, exporter) is stopped afterwards with its whole process group."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from _farm import BIN, free_port, group_members, qemu_processes_with, stop_group

pytest.importorskip("labgrid")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "farm.md"
DOC_PORT = "20408"


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


def test_the_guide_has_every_step_as_commands():
    blocks = shell_blocks(GUIDE.read_text())
    script = "\n".join(blocks)
    for step in ("labgrid-coordinator", "mcugen farm describe", "labgrid-exporter", "place-qemu-1.sh",
                 "--place qemu-1,qemu-2", "labgrid-client -p qemu-1 acquire"):
        assert step in script, step


def test_following_the_farm_guide(tmp_path):
    script = "set -euo pipefail\n" + "\n".join(shell_blocks(GUIDE.read_text()))
    port = str(free_port())
    script = script.replace(DOC_PORT, port)
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
           "MODELS": str(ROOT / "examples" / "models")}
    env.pop("LG_COORDINATOR", None)
    proc = subprocess.Popen(["bash", "-c", script], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=900)
    finally:
        stop_group(proc.pid)  # the coordinator and exporter the guide started
    logs = "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in tmp_path.glob("*.log"))
    assert proc.returncode == 0, f"{out[-4000:]}\n{err[-4000:]}{logs}"
    assert "person_detect" in out and "bit-exact" in out  # the validate step's tables and summary
    result = json.loads((tmp_path / "farm.json").read_text())
    assert [p["place"] for p in result["places"]] == ["qemu-1", "qemu-2"]
    assert result["summary"]["bit_exact"] and all(p["max_abs_diff"] == 0 for p in result["places"])
    for name in ("exporter-h7-1.yaml", "place-h7-1.sh", "env-h7-1.yaml"):
        assert (tmp_path / "bench2" / name).is_file()
    assert "ID_SERIAL_SHORT: 0670FF383930434B43175331" in (tmp_path / "bench2" / "exporter-h7-1.yaml").read_text()
    assert "set-tags board=nucleo-h743zi2 probe=0670FF383930434B43175331" in \
        (tmp_path / "bench2" / "place-h7-1.sh").read_text()
    deadline = time.monotonic() + 10
    while qemu_processes_with(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not qemu_processes_with(str(tmp_path)), "a QEMU was left running"
    assert not group_members(proc.pid), "the guide's coordinator or exporter outlived the test"
