"""A CI sample of the mutation fuzzer (bench/fuzz.py runs 10,000+): damaged copies of every
bundled model go through inspect, estimate and generate as a user runs them, each in a worker
process with a time limit. None may crash, hang, print a control character from the model or
get a message over 600 characters; fewer than 5 % of the errors may leave unsaid what is wrong."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import fuzzlib  # noqa: E402

COUNT = 400  # 100 per bundled model: about 20 s on an idle core
SEED = 14


@pytest.fixture(scope="module")
def outcomes() -> list[fuzzlib.Outcome]:
    corpus = fuzzlib.Corpus()
    return list(fuzzlib.fuzz(corpus, SEED, range(COUNT), jobs=1))


def test_every_mutant_ends_cleanly(outcomes):
    counts = fuzzlib.summarize(outcomes)
    assert len(outcomes) == COUNT
    failures = [f"{o.tag} {o.model} {'+'.join(o.mutations)}: {o.kind} ({o.stage}) {o.message[:300]}"
                for o in outcomes if o.kind in fuzzlib.FAILING]
    assert not failures, f"{counts}\n" + "\n".join(failures[:10])


def test_errors_name_what_is_wrong(outcomes):
    counts = fuzzlib.summarize(outcomes)
    assert counts["clear"] > COUNT // 2 and counts["ok"] > 0, counts  # the mutations do damage, not always
    vague = [o.message for o in outcomes if o.kind == "vague"]
    assert fuzzlib.vague_share(counts) < 0.05, "\n".join(vague[:10])


def test_mutants_are_reproducible():
    corpus = fuzzlib.Corpus()
    a, b = corpus.mutant(SEED, 7), corpus.mutant(SEED, 7)
    assert a.data == b.data and a.mutations == b.mutations
    assert {corpus.mutant(SEED, i).model for i in range(8)} == set(corpus.names)


def test_the_classifier():
    assert fuzzlib.names_something("Tensor 12 'conv/w': buffer index 99 out of range (the model has 40 buffers)")
    assert fuzzlib.names_something("Model: field 'subgraphs' points beyond the end of the file (byte offset 0x2c)")
    assert fuzzlib.names_something("Model 'm': operator TANH at index 3 is not supported by mcugen")
    assert fuzzlib.names_something("Model 'm' uses 2 operators not supported by mcugen: SCATTER_ND at indices 0, 14")
    assert not fuzzlib.names_something("'m' is a corrupt or truncated TFLite file (error while reading it).")
    assert not fuzzlib.names_something("'m' is a corrupt or truncated TFLite file (TypeError while reading it).")
    assert not fuzzlib.names_something("'tensor 5' is a corrupt or truncated TFLite file (error while reading it).")


def test_a_hang_is_detected_and_the_worker_replaced(monkeypatch):
    """A mutant that computes forever, or blocks forever, is a hang after the time limit (CPU time,
    or six times as much wall time); the worker is replaced and the next mutant still runs."""
    import time

    corpus = fuzzlib.Corpus()
    real = fuzzlib.run_mutant

    def hang_on_some(mutant, work):
        if mutant.index == 0:
            while True:  # computes
                pass
        if mutant.index == 1:
            time.sleep(600)  # blocks
        return real(mutant, work)

    monkeypatch.setattr(fuzzlib, "run_mutant", hang_on_some)
    start = time.monotonic()
    results = {o.tag: o for o in fuzzlib.fuzz(corpus, SEED, range(3), jobs=1, timeout=1)}
    assert [results[f"{SEED}:{i}"].kind == "hang" for i in range(3)] == [True, True, False]
    assert "s of CPU time" in results[f"{SEED}:0"].message
    assert time.monotonic() - start < 30
