"""Misbehaving targets for the link fault suite (tests/test_link_faults.py): each scenario
is a fake target on a real pty that attacks the host in one way, and what the host must
make of it: the exact result, or a clear error of a given LinkError subclass.

Run as a script, it plays every scenario against whatever mcugen is on the path, each in
its own process with a hard time limit, and prints what happened; so the attacks can be
replayed on an older mcugen (the fake then speaks that mcugen's protocol version):

    PYTHONPATH=/path/to/old/mcugen python tests/_link_attacks.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from _fake_target import HASH, N, PROFILE_NODES, V2, FakeTarget, run_done_payload, status_payload, target_on_pty
from mcugen.link import SerialTransport, TargetLink
from mcugen.link import protocol as P
from mcugen.measure import measure_on_link

RUNS = 2                                        # per input set
INPUTS = [np.arange(N, dtype=np.int64).astype(np.int8).reshape(1, N),
          np.random.default_rng(1).integers(-128, 128, size=(1, N), dtype=np.int8)]
RETRIES = 2
TIME_LIMIT = 10.0                               # seconds any scenario may take


# ---- attacks --------------------------------------------------------------------


class LoseRuns(FakeTarget):
    """RUN requests after the first input set are lost on the way in (up to `lose` of them);
    GET_RESULT is answered, with the result of the last run that did happen (this target
    keeps it when inputs are written)."""

    lose = 10**9

    def __init__(self, fd: int) -> None:
        super().__init__(fd)
        self.lost = 0

    def receive(self, f: P.Frame) -> bool:
        if f.type == P.MSG_RUN and self.requests[P.MSG_RUN] > RUNS and self.lost < self.lose:
            self.lost += 1
            return False
        return True

    def handle(self, f: P.Frame) -> None:
        held = self.result_id
        super().handle(f)
        if f.type == P.MSG_WRITE_INPUT:
            self.result_id = held


class LoseOneRun(LoseRuns):
    lose = 1


class LoseRunDone(FakeTarget):
    """The last run of the first input set happens (and overwrites the input), but its
    RUN_DONE is lost."""

    def answer(self, request: P.Frame, msg_type: int, payload: bytes, flags: int = 0) -> None:
        if request.type == P.MSG_RUN and self.requests[P.MSG_RUN] == RUNS:
            return
        super().answer(request, msg_type, payload, flags)


class LoseRunDoneAndResults(LoseRunDone):
    """As LoseRunDone, and the answers to the GET_RESULTs that follow arrive corrupted:
    the host must run again, and write the overwritten input again first."""

    def send(self, data: bytes) -> None:
        if self.requests[P.MSG_RUN] == RUNS and data[2] == P.MSG_RUN_DONE:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        super().send(data)


class ZeroRuns(FakeTarget):
    """RUN_DONE says status 0 (ok) and 0 runs done."""

    def answer(self, request: P.Frame, msg_type: int, payload: bytes, flags: int = 0) -> None:
        if msg_type == P.MSG_RUN_DONE:
            payload = run_done_payload(self.result_id, 0, ())
        super().answer(request, msg_type, payload, flags)


class TooManyRuns(FakeTarget):
    """RUN_DONE reports 2 runs done where 1 was asked."""

    def answer(self, request: P.Frame, msg_type: int, payload: bytes, flags: int = 0) -> None:
        if msg_type == P.MSG_RUN_DONE:
            payload = run_done_payload(self.result_id, 0, (*self.counts, self.counts[-1] + 1))
        super().answer(request, msg_type, payload, flags)


def short(msg_type: int, size: int, instead_of: int | None = None) -> type[FakeTarget]:
    """The first answer of `msg_type` (or, with instead_of, of that type turned into
    msg_type) comes with a payload of `size` bytes and a valid CRC."""

    class Short(FakeTarget):
        def answer(self, request: P.Frame, msg_type_: int, payload: bytes, flags: int = 0) -> None:
            if msg_type_ == (instead_of or msg_type) and not getattr(self, "done", False):
                self.done = True
                msg_type_, payload = msg_type, (payload if instead_of is None else status_payload(3, request.type))
                payload = payload[:size]
            super().answer(request, msg_type_, payload, flags)

    return Short


class TruncateThenSilence(FakeTarget):
    """Half of the first RUN_DONE frame, then nothing ever again."""

    def send(self, data: bytes) -> None:
        if getattr(self, "silent", False):
            return
        if data[2] == P.MSG_RUN_DONE:
            self.silent = True
            data = data[:len(data) // 2]
        super().send(data)


def prefixed(prefix: bytes) -> type[FakeTarget]:
    """`prefix` on the wire before every frame."""

    class Prefixed(FakeTarget):
        def send(self, data: bytes) -> None:
            super().send(prefix + data)

    return Prefixed


# A header that looks like a RUN_DONE with a 64-byte payload: it waits for bytes that never come.
PLAUSIBLE_HEADER = bytes([0xA5, 0x5A, P.MSG_RUN_DONE, 0, 1, 0, 64, 0])
GARBAGE = bytes([0xA5, 0x00, 0x5A, 0xA5, 0x5A, 0x01, 0x02]) + b"noise\xa5"


class Silent(FakeTarget):
    def handle(self, f: P.Frame) -> None:
        pass


class NoiseOnly(FakeTarget):
    """Text instead of frames (a console log, another firmware, a wrong baud rate)."""

    def handle(self, f: P.Frame) -> None:
        self.send(b"hello world\r\n" * 4)


class CorruptEveryThird(FakeTarget):
    def send(self, data: bytes) -> None:
        self.sent = getattr(self, "sent", 0) + 1
        if self.sent % 3 == 0:
            data = data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0x40]) + data[len(data) // 2 + 1:]
        super().send(data)


class CorruptAfterAnnouncing(FakeTarget):
    def send(self, data: bytes) -> None:
        if data[2] != P.MSG_ANNOUNCE:
            data = data[:-1] + bytes([data[-1] ^ 0x01])
        super().send(data)


class ResetMidSession(FakeTarget):
    """Resets on the second RUN: the boot announcement instead of RUN_DONE."""

    def handle(self, f: P.Frame) -> None:
        if f.type == P.MSG_RUN and self.requests[P.MSG_RUN] == 2:
            self.reset_state()
            self.answers[P.MSG_ANNOUNCE] += 1
            self.send(P.encode_frame(P.MSG_ANNOUNCE, 0, P.encode_announcement(self.ann), P.FLAG_BOOT))
            return
        super().handle(f)


class SilentReset(FakeTarget):
    """Resets unseen (its boot announcement lost) just before the last RUN arrives:
    the inputs written for it are gone."""

    def handle(self, f: P.Frame) -> None:
        if f.type == P.MSG_RUN and self.requests[P.MSG_RUN] == 2 * RUNS:
            self.reset_state()
        super().handle(f)


class WrongHash(FakeTarget):
    def __init__(self, fd: int) -> None:
        super().__init__(fd, model_hash="cd" * 32)


class DuplicateEach(FakeTarget):
    """Before each answer, the previous answer again (a late duplicate, its old seq)."""

    def send(self, data: bytes) -> None:
        super().send(getattr(self, "previous", b"") + data)
        self.previous = data


class OneBehind(FakeTarget):
    """Sends each answer only after the next request arrives: always one answer behind."""

    def send(self, data: bytes) -> None:
        held, self.held = getattr(self, "held", b""), data
        if held:
            super().send(held)


class ByteByByte(FakeTarget):
    def send(self, data: bytes) -> None:
        for i in range(len(data)):
            super().send(data[i:i + 1])
            time.sleep(0.0002)


def fault(payload: bytes) -> type[FakeTarget]:
    class Fault(FakeTarget):
        """Crashes in the second run: a FAULT frame instead of RUN_DONE."""

        def handle(self, f: P.Frame) -> None:
            if f.type == P.MSG_RUN and self.requests[P.MSG_RUN] == 2:
                self.send(P.encode_frame(P.MSG_FAULT, 0, payload))
                return
            super().handle(f)

    return Fault


class StaleRunId(FakeTarget):
    """RUN_DONE names the run before the one asked for."""

    def answer(self, request: P.Frame, msg_type: int, payload: bytes, flags: int = 0) -> None:
        if msg_type == P.MSG_RUN_DONE and self.requests[P.MSG_RUN] == 2:
            payload = run_done_payload(self.result_id - 1, 0, self.counts)
        super().answer(request, msg_type, payload, flags)


class StaleOutput(FakeTarget):
    """OUTPUT_DATA names another run than the one asked for."""

    def answer(self, request: P.Frame, msg_type: int, payload: bytes, flags: int = 0) -> None:
        if msg_type == P.MSG_OUTPUT_DATA:
            payload = (self.result_id + 7).to_bytes(4, "little") + payload[4:]
        super().answer(request, msg_type, payload, flags)


# ---- scenarios --------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    make: Callable[[int], FakeTarget]
    expect: str                  # "exact", or the name of the mcugen.errors class to raise
    match: str = ""              # a regex the error's message and hint must match
    v2_only: bool = False        # the attack needs protocol version 2 to be told
    timeout: float = 0.25        # the host's answer timeout


SCENARIOS = [
    Scenario("ok", FakeTarget, "exact"),
    Scenario("run_lost_once", LoseOneRun, "exact"),
    Scenario("run_lost_get_result_answered", LoseRuns, "StaleResultError",
             r"3 RUN request\(s\).*the target holds run \d+"),
    Scenario("run_done_lost_input_in_arena", LoseRunDone, "exact"),
    Scenario("run_done_and_results_lost_input_in_arena", LoseRunDoneAndResults, "exact"),
    Scenario("run_done_zero_runs", ZeroRuns, "LinkFramingError", r"status 0 \(ok\) and 0 runs done"),
    Scenario("run_done_more_runs_than_asked", TooManyRuns, "LinkFramingError", r"2 runs done; 1 was asked"),
    Scenario("short_ack", short(P.MSG_ACK, 0), "LinkFramingError", r"malformed ACK .*0-byte payload, expected 4"),
    Scenario("short_nak", short(P.MSG_NAK, 1, instead_of=P.MSG_ACK), "LinkFramingError",
             r"malformed NAK .*1-byte payload, expected 4"),
    Scenario("short_run_done", short(P.MSG_RUN_DONE, 4), "LinkFramingError",
             r"malformed RUN_DONE .*4-byte payload, expected at least 12"),
    Scenario("short_output_data", short(P.MSG_OUTPUT_DATA, 6), "LinkFramingError",
             r"malformed OUTPUT_DATA .*6-byte payload, expected at least 16"),
    Scenario("short_profile_data", short(P.MSG_PROFILE_DATA, 3), "LinkFramingError",
             r"malformed PROFILE_DATA .*3-byte payload"),
    Scenario("truncated_frame_then_silence", TruncateThenSilence, "LinkTimeoutError",
             r"incomplete frame: its header says RUN_DONE .* but only \d+ of its \d+ bytes arrived"
             r"(?s:.*)frame started but never finished"),
    Scenario("plausible_length_before_each_frame", prefixed(PLAUSIBLE_HEADER), "exact"),
    Scenario("stray_a5_before_each_frame", prefixed(b"\xA5"), "exact"),
    Scenario("stray_sync_before_each_frame", prefixed(b"\xA5\x5A"), "exact"),
    Scenario("garbage_before_each_frame", prefixed(GARBAGE), "exact"),
    Scenario("silence", Silent, "LinkTimeoutError", r"did not announce(?s:.*)sent nothing"),
    Scenario("noise_only", NoiseOnly, "LinkTimeoutError", r"did not announce(?s:.*)no valid frame"),
    Scenario("bad_crc_every_third_answer", CorruptEveryThird, "exact"),
    Scenario("bad_crc_every_answer", CorruptAfterAnnouncing, "LinkCrcError", r"\d+ frame\(s\) with a bad CRC"),
    Scenario("reset_mid_session", ResetMidSession, "TargetResetError", r"reset during the session"),
    Scenario("reset_unannounced", SilentReset, "exact"),
    Scenario("wrong_model_hash", WrongHash, "TargetIdentityError", r"different model.*cdcdcdcd"),
    Scenario("late_duplicate_before_each_answer", DuplicateEach, "exact"),
    Scenario("answers_one_request_behind", OneBehind, "LinkTimeoutError",
             r"did not announce(?s:.*)not an answer to the request"),
    Scenario("slow_byte_by_byte", ByteByByte, "exact", timeout=2.0),
    Scenario("fault", fault(P.FAULT_PAYLOAD.pack(3, 0x08000123, 0x100, 0x40000000, 0, 0)), "TargetFaultError",
             r"HardFault at pc=0x08000123"),
    Scenario("fault_malformed", fault(b"\x03\x00\x00"), "TargetFaultError", r"malformed report: 3 bytes"),
    Scenario("run_done_of_another_run", StaleRunId, "StaleResultError", r"with the result of run", v2_only=True),
    Scenario("output_of_another_run", StaleOutput, "StaleResultError", r"output 0 of run", v2_only=True),
]
BY_NAME = {s.name: s for s in SCENARIOS}


@dataclass
class Outcome:
    kind: str                    # exact | wrong | error
    seconds: float
    error: BaseException | None = None
    detail: str = ""             # what was wrong with a wrong result


def check_result(outputs: list, counts: list, profile: list[int]) -> str:
    """'' when every output belongs to its input and every count and the profile to a real run."""
    for k, x in enumerate(INPUTS):
        if not np.array_equal(outputs[k][0], (x.astype(np.int16) + 1).astype(np.int8)):
            return f"the outputs of input set {k} are not those of its input"
    flat = [c for per_set in counts for c in per_set]
    if [len(c) for c in counts] != [RUNS] * len(INPUTS) or flat != sorted(set(flat)):
        return f"counts {counts} are not one per real run"
    if profile != [100 * (flat[-1] - 1000) + i for i in range(PROFILE_NODES)]:
        return f"the profile {profile} is not the last run's"
    return ""


def play(scenario: Scenario) -> Outcome:
    """One host session (two input sets, two runs each, the profile) against the attack."""
    with target_on_pty(scenario.make) as (_, port):
        transport = SerialTransport(port)
        transport.open()
        link = TargetLink(transport, timeout=scenario.timeout, retries=RETRIES)
        profile: list[int] = []
        t0 = time.monotonic()
        try:
            _, outputs, counts = measure_on_link(link, HASH, [[x] for x in INPUTS], runs=RUNS, run_timeout=0.2,
                                                 connect_timeout=2.0, profile=profile)
        except Exception as exc:  # the outcome to judge, whatever it is
            return Outcome("error", time.monotonic() - t0, exc)
        finally:
            transport.close()
        wrong = check_result(outputs, counts, profile)
        return Outcome("wrong" if wrong else "exact", time.monotonic() - t0, detail=wrong)


def _main() -> None:
    if len(sys.argv) == 2:  # one scenario, in this process: print its outcome as JSON
        out = play(BY_NAME[sys.argv[1]])
        err = out.error
        print(json.dumps({"kind": out.kind, "seconds": round(out.seconds, 2), "detail": out.detail,
                          "type": type(err).__name__ if err else "",
                          "message": (str(err) or repr(err))[:400] if err else ""}))
        return
    for sc in SCENARIOS:
        if sc.v2_only and not V2:
            print(f"{sc.name:45} n/a (protocol version 1 cannot express it)")
            continue
        t0 = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, __file__, sc.name], capture_output=True, text=True,
                                  timeout=3 * TIME_LIMIT, env=os.environ)
            got = json.loads(proc.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            print(f"{sc.name:45} HANG (killed after {3 * TIME_LIMIT:.0f} s)   expected {sc.expect}")
            continue
        except (json.JSONDecodeError, IndexError):
            print(f"{sc.name:45} CRASH {proc.stderr.strip().splitlines()[-1:]}")
            continue
        what = {"exact": "exact", "wrong": f"WRONG RESULT ({got['detail']})"}.get(
            got["kind"], f"{got['type']}: {' '.join(got['message'].split())[:150]}")
        print(f"{sc.name:45} {time.monotonic() - t0:5.1f} s  {what}   expected {sc.expect}")


if __name__ == "__main__":
    _main()
