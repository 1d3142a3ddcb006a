"""Write tests/fixtures/board_facts/<device>_svd_facts.yaml from ST's SVD files (not shipped).

The SVD files are not kept in the repository; fetch github.com/modm-io/cmsis-svd-stm32 into a
temporary directory and point this script at its stm32h7/ folder:

    python tests/tools/svd_facts.py --svd-dir /tmp/cmsis-svd-stm32/stm32h7 --commit <sha>

It keeps only what the firmware's register headers and the derived-value tests use
(tests/_svd_facts.py decides), with the repository, commit, file and sha256 of each SVD.
Run it again whenever a header gains an `svd:` tag the facts do not hold yet (the tests say so).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _svd  # noqa: E402
import _svd_facts  # noqa: E402


def generate(device: str, svd_file: Path, commit: str, repository: str = _svd_facts.SOURCE_REPOSITORY) -> str:
    data = svd_file.read_bytes()
    w = _svd_facts.wanted(device)
    svd = _svd.parse_svd(device, data, frozenset(w.peripherals))
    prov = {"repository": repository, "commit": commit, "file": _svd_facts.SOURCE_PATHS[device],
            "sha256": _svd_facts.sha256(data), "license": "Apache-2.0 (SVD by STMicroelectronics)"}
    return _svd_facts.facts_document(device, svd, prov)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--svd-dir", type=Path, required=True, help="folder holding STM32H743.svd and STM32H747_CM7.svd")
    ap.add_argument("--commit", required=True, help="commit of cmsis-svd-stm32 the files come from")
    ap.add_argument("--repository", default=_svd_facts.SOURCE_REPOSITORY)
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = ap.parse_args(argv)
    status = 0
    for device, name in _svd_facts.FACT_FILES.items():
        svd_file = args.svd_dir / _svd.DEVICES[device][0]
        text = generate(device, svd_file, args.commit, args.repository)
        out = _svd_facts.facts_path(device)
        if args.check:
            same = out.is_file() and out.read_text() == text
            print(f"{name}: {'up to date' if same else 'DIFFERS'}")
            status |= 0 if same else 1
        else:
            out.write_text(text)
            print(f"wrote {out.relative_to(_svd.ROOT)} ({len(text.splitlines())} lines)")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
