"""The link fault suite: the host against misbehaving targets on a real pty, opened with
pyserial as QEMU's pty and a board's virtual COM port are (tests/_link_attacks.py holds
the attacks). Each must end in the exact result or in a clear error of the right
LinkError subclass that names what was received, within a bounded time; never in a wrong
number, a hang or a traceback."""

from __future__ import annotations

import re

import pytest

import mcugen.errors
from _link_attacks import SCENARIOS, TIME_LIMIT, Scenario, play
from mcugen.errors import LinkError


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_attack_ends_exact_or_in_a_typed_error(scenario: Scenario):
    outcome = play(scenario)
    assert outcome.seconds < TIME_LIMIT
    if scenario.expect == "exact":
        assert outcome.error is None, f"{type(outcome.error).__name__}: {outcome.error}"
        assert outcome.kind == "exact", outcome.detail
        return
    expected = getattr(mcugen.errors, scenario.expect)
    assert issubclass(expected, LinkError)
    assert isinstance(outcome.error, expected), f"{type(outcome.error).__name__}: {outcome.error}"
    text = str(outcome.error)  # message and hint, as the CLI prints them
    assert re.search(scenario.match, text), text
    if scenario.name != "silence":
        assert "sent nothing" not in text, text
