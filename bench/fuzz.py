"""Mutation fuzzing of the bundled models through inspect, estimate and generate.

Run: python bench/fuzz.py [--count 10000] [--seed 1] [--jobs 2] [--timeout 10]
     python bench/fuzz.py --replay SEED:INDEX   (one mutant, its outcome and message)
     python bench/fuzz.py --replay SEED:INDEX --write m.tflite   (keep the mutant to debug it)

Mutants are spread round-robin over examples/models/*.tflite; see bench/fuzzlib.py for
the mutations, the outcome classes and the rule that tells a clear error from a vague one.
Exits 1 when any mutant crashed, hung, printed a control character from the model or got
a message over 600 characters, or when 5 % or more of the errors are vague.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.table import Table  # noqa: E402

import fuzzlib  # noqa: E402

VAGUE_LIMIT = 0.05


def _replay(corpus: fuzzlib.Corpus, tag: str, write: Path | None) -> int:
    seed, index = (int(x) for x in tag.split(":"))
    mutant = corpus.mutant(seed, index)
    if write:
        write.write_bytes(mutant.data)
        print(f"wrote {write} ({len(mutant.data)} bytes)")
    outcome = next(fuzzlib.fuzz(corpus, seed, [index], jobs=1))
    print(f"{outcome.tag} {outcome.model} {'+'.join(outcome.mutations)}: {outcome.kind} "
          f"({outcome.stage or '-'}, {outcome.cpu_seconds:.2f} s CPU, {outcome.seconds:.2f} s wall)\n{outcome.message}")
    return 1 if outcome.kind in fuzzlib.FAILING else 0


def _tables(outcomes: list[fuzzlib.Outcome], corpus: fuzzlib.Corpus, seconds: float, examples: int) -> None:
    console = Console(highlight=False)
    counts = fuzzlib.summarize(outcomes)
    t = Table(title=f"{len(outcomes):,} mutants in {seconds:.0f} s", title_justify="left")
    t.add_column("model")
    for k in fuzzlib.CLASSES:
        t.add_column(k, justify="right")
    for name in corpus.names:
        per = fuzzlib.summarize([o for o in outcomes if o.model == name])
        t.add_row(name, *(f"{per[k]:,}" for k in fuzzlib.CLASSES))
    t.add_row("[bold]all[/bold]", *(f"[bold]{counts[k]:,}[/bold]" for k in fuzzlib.CLASSES))
    console.print(t)
    errors = counts["clear"] + counts["vague"] + counts["oversize"]
    slowest = max(outcomes, key=lambda o: o.cpu_seconds, default=None)
    console.print(f"errors: {errors:,}; vague: {counts['vague']:,} ({100 * fuzzlib.vague_share(counts):.2f} % of the "
                  f"errors); longest message {max((len(o.message) for o in outcomes), default=0)} characters")
    if slowest is not None:
        console.print(f"slowest mutant: {slowest.tag} {slowest.model}, {slowest.cpu_seconds:.2f} s CPU "
                      f"({slowest.seconds:.2f} s wall)")

    stages = Counter((o.kind, o.stage) for o in outcomes if o.kind != "ok")
    s = Table(title="Errors by command", title_justify="left")
    for col in ("class", "command", "mutants"):
        s.add_column(col)
    for (kind, stage), n in sorted(stages.items()):
        s.add_row(kind, stage or "-", f"{n:,}")
    console.print(s)

    for kind in ("crash", "hang", "unsafe", "oversize", "vague", "clear"):
        group = [o for o in outcomes if o.kind == kind]
        if not group:
            continue
        # the worst: distinct messages (numbers blanked), most frequent first, the longest on a tie
        shapes = Counter(_shape(o.message) for o in group)
        shown = set()
        console.print(f"\n[bold]{kind}[/bold]: {len(group):,} mutants, {len(shapes)} kinds of message")
        for shape, n in sorted(shapes.items(), key=lambda kv: (-kv[1], -len(kv[0])))[:examples]:
            o = next(o for o in group if _shape(o.message) == shape and o.tag not in shown)
            shown.add(o.tag)
            console.print(f"  {n:>5} x  [dim]{o.tag} {o.model} {'+'.join(o.mutations)} ({o.stage})[/dim]\n"
                          f"           {escape(o.message[:400])}")


def _shape(message: str) -> str:
    import re

    return re.sub(r"0x[0-9a-f]+|\d[\d,]*", "N", message.split("'", 2)[-1] if message.startswith("'") else message)[:160]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="number of mutants")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="first mutant index")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--timeout", type=float, default=fuzzlib.TIMEOUT_S,
                        help="CPU seconds per mutant (wall time: 6 times that)")
    parser.add_argument("--examples", type=int, default=6, help="example messages per class")
    parser.add_argument("--replay", metavar="SEED:INDEX", help="run one mutant and print its outcome")
    parser.add_argument("--write", type=Path, help="with --replay: write the mutant to this file")
    parser.add_argument("--dump", type=Path, help="write every outcome to this file (JSON lines)")
    opts = parser.parse_args()

    corpus = fuzzlib.Corpus()
    if opts.replay:
        return _replay(corpus, opts.replay, opts.write)
    start = time.monotonic()
    outcomes = []
    last = start
    for o in fuzzlib.fuzz(corpus, opts.seed, range(opts.start, opts.start + opts.count), jobs=opts.jobs,
                          timeout=opts.timeout):
        outcomes.append(o)
        if time.monotonic() - last > 30:
            last = time.monotonic()
            c = fuzzlib.summarize(outcomes)
            print(f"[{len(outcomes):,}/{opts.count:,}] " + " ".join(f"{k} {v}" for k, v in c.items() if v),
                  file=sys.stderr, flush=True)
    _tables(outcomes, corpus, time.monotonic() - start, opts.examples)
    if opts.dump:
        with opts.dump.open("w") as f:
            for o in sorted(outcomes, key=lambda o: int(o.tag.split(":")[1])):
                f.write(json.dumps(dataclasses.asdict(o)) + "\n")
    counts = fuzzlib.summarize(outcomes)
    bad = sum(counts[k] for k in fuzzlib.FAILING)
    return 1 if bad or fuzzlib.vague_share(counts) >= VAGUE_LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())
