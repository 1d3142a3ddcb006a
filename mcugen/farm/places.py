"""A place on a labgrid farm: found, acquired (or waited for), its resources read, released.

mcugen talks to the coordinator through `labgrid-client`, labgrid's own command-line client
(the one CI scripts use), each call a short child process run by mcugen.process. Not its
Python library in-process: gRPC's threads do not survive mcugen forking QEMU (the child
aborts in gRPC's fork handlers), and gRPC's asyncio channels do not take one event loop per
place thread. What mcugen reads back is labgrid's structured output: `env` (YAML of the
acquired place's resources), `show` (its tags and holder) and the acquire error naming the
holder.

A place this user already holds on this host (CI ran `labgrid-client acquire` first) is used
as it is and left acquired; a place mcugen acquired is released however the run ends.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from mcugen.errors import McugenError
from mcugen.process import require, run

DEFAULT_PORT = 20408           # labgrid's coordinator port
CLIENT_TIMEOUT = 60.0          # seconds for one labgrid-client call
WAIT_POLL = 1.0                # seconds between looks at a place held by someone else
INSTALL_HINT = "Install labgrid: pip install 'mcugen[farm]' (labgrid >= 24, the gRPC coordinator)."
_HELD_BY = re.compile(r"already acquired by (?P<holder>[^\s.]+(?:\.[^\s.]+)*)\.")


class FarmError(McugenError):
    """The labgrid coordinator cannot be reached, or a place cannot be found, acquired or used."""


class PlaceBusyError(FarmError):
    """The place is held by someone else (`holder`, as labgrid's host/user)."""

    def __init__(self, place: str, holder: str) -> None:
        super().__init__(f"Place '{place}' is acquired by {holder}.",
                         hint=f"Wait for it with --wait, or ask {holder} to release it "
                              f"(labgrid-client -p {place} release).")
        self.place = place
        self.holder = holder


@dataclass(frozen=True)
class PlaceResource:
    name: str            # the name in the place (labgrid's rename, else the resource class)
    cls: str             # NetworkSerialPort, NetworkUSBDebugger, MCUGenQEMU, ...
    params: dict[str, Any]


def coordinator_address(coordinator: str | None) -> str:
    """--coordinator, else $LG_COORDINATOR (labgrid's own variable), else a FarmError."""
    address = coordinator or os.environ.get("LG_COORDINATOR", "")
    if not address:
        raise FarmError("No labgrid coordinator given.",
                        hint="Pass --coordinator HOST:PORT or set LG_COORDINATOR (as for labgrid-client).")
    return address if ":" in address.rsplit("]", 1)[-1] else f"{address}:{DEFAULT_PORT}"


def labgrid_client() -> str:
    """labgrid-client's path: PATH, else beside this Python (a virtualenv not activated)."""
    return require("labgrid-client", search=[str(Path(sys.executable).parent / "labgrid-client")],
                   hint=INSTALL_HINT)


def client_call(address: str, *args: str, timeout: float = CLIENT_TIMEOUT) -> subprocess.CompletedProcess:
    """One labgrid-client call against `address` (text output; never raises on its exit status)."""
    argv = [labgrid_client(), "-x", address, *args]
    try:
        done = run(argv, timeout=timeout, text=True, errors="replace")
    except subprocess.TimeoutExpired:
        raise FarmError(f"labgrid-client {' '.join(args)} did not answer within {timeout:.0f} s.",
                        hint=f"Is the coordinator at {address} reachable?") from None
    if done.returncode != 0 and ("Could not connect to coordinator" in done.stderr or
                                 "coordinator is unavailable" in done.stderr):
        raise FarmError(f"Cannot reach the labgrid coordinator at {address}.",
                        hint="Start it (labgrid-coordinator -l HOST:PORT) or fix --coordinator / LG_COORDINATOR.")
    return done


def _error_line(done: subprocess.CompletedProcess) -> str:
    lines = [x for x in (done.stderr or "").splitlines() if x.strip()]
    text = lines[-1] if lines else f"exit status {done.returncode}"
    return text.removeprefix("labgrid-client: ").removeprefix("Error: ")


def place_names(coordinator: str | None = None) -> list[str]:
    """The names of the coordinator's places (for --place patterns such as qemu-*)."""
    address = coordinator_address(coordinator)
    done = client_call(address, "places")
    if done.returncode != 0:
        raise FarmError(f"Cannot list the places of {address}: {_error_line(done)}.")
    return sorted(x.strip() for x in done.stdout.splitlines() if x.strip())


class FarmPlace:
    """One place of a labgrid farm, held for the length of a `with` block."""

    def __init__(self, name: str, coordinator: str | None = None, *, wait: bool = False,
                 wait_timeout: float | None = None, say: Callable[[str], None] | None = None,
                 abort: threading.Event | None = None) -> None:
        self.name = name
        self.address = coordinator_address(coordinator)
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.say = say or (lambda _msg: None)
        self.abort = abort or threading.Event()  # set from another thread: stop waiting
        self.acquired_here = False  # mcugen acquired it (and so releases it)
        self._acquiring = False

    def _call(self, *args: str) -> subprocess.CompletedProcess:
        return client_call(self.address, "-p", self.name, *args)

    def show(self) -> dict[str, str]:
        """The place's `show` header as key -> text (tags, acquired, ...); FarmError if unknown."""
        done = self._call("show")
        if done.returncode != 0:
            raise FarmError(f"The labgrid coordinator at {self.address} has no place '{self.name}': "
                            f"{_error_line(done)}.",
                            hint="List them with labgrid-client places; create one as docs/farm.md shows.")
        fields: dict[str, str] = {}
        for line in done.stdout.splitlines():
            if line.startswith("  ") and not line.startswith("   ") and ":" in line:
                key, _, value = line.strip().partition(":")
                fields.setdefault(key, value.strip())
        return fields

    @property
    def tags(self) -> dict[str, str]:
        text = self.show().get("tags", "")  # labgrid-client show: "tags: a=1, b=2"
        return dict(item.split("=", 1) for item in text.replace(",", " ").split() if "=" in item)

    def me(self) -> str:
        """This client as labgrid names holders: LG_HOSTNAME/LG_USERNAME, else host and user names."""
        host = os.environ.get("LG_HOSTNAME") or socket.gethostname()
        return f"{host}/{os.environ.get('LG_USERNAME') or getpass.getuser()}"

    def acquire(self) -> None:
        """Acquires the place; waits while another holds it when `wait`, else PlaceBusyError."""
        deadline = None if self.wait_timeout is None else time.monotonic() + self.wait_timeout
        told = False
        if self.show().get("acquired") == self.me():
            return  # held already by this user on this host (CI acquired it): used, not released
        while True:
            self._acquiring = True  # from here an interrupted call may have acquired it: release() checks
            done = self._call("acquire")
            if done.returncode == 0:
                self.acquired_here = True
                self._acquiring = False
                return
            self._acquiring = False
            error = _error_line(done)
            held = _HELD_BY.search(error)
            if held is None:
                raise FarmError(f"The coordinator refused place '{self.name}': {error}.",
                                hint=f"labgrid-client -p {self.name} show says what it matches and holds.")
            holder = held.group("holder")
            if not self.wait:
                raise PlaceBusyError(self.name, holder)
            if not told:
                self.say(f"place {self.name} is acquired by {holder}: waiting")
                told = True
            if deadline is not None and time.monotonic() > deadline:
                raise FarmError(f"Place '{self.name}' is still acquired by {holder} after {self.wait_timeout:.0f} s.")
            if self.abort.wait(WAIT_POLL):
                raise FarmError(f"Stopped waiting for place '{self.name}' (held by {holder}).")

    def resources(self) -> list[PlaceResource]:
        """The resources the acquired place holds, with their exported parameters (labgrid's `env`)."""
        done = self._call("env")
        if done.returncode != 0:
            raise FarmError(f"Cannot read the resources of place '{self.name}': {_error_line(done)}.",
                            hint="Is its exporter still running? (labgrid-client -p NAME show)")
        try:
            env = yaml.safe_load(done.stdout) or {}
            listed = env["targets"][self.name]["resources"] or []
        except (yaml.YAMLError, KeyError, TypeError) as exc:
            raise FarmError(f"labgrid-client env gave no resources for place '{self.name}' ({exc}).") from None
        found = []
        for item in listed:
            for cls, params in dict(item).items():
                params = dict(params or {})
                found.append(PlaceResource(str(params.pop("name", cls)), str(cls), params))
        return found

    def release(self) -> None:
        """Releases the place if mcugen acquired it; safe to call more than once."""
        if self._acquiring:  # interrupted in the middle of acquiring: did the coordinator grant it?
            self._acquiring = False
            self.acquired_here = self.show().get("acquired") == self.me()
        if not self.acquired_here:
            return
        self.acquired_here = False
        done = self._call("release")
        if done.returncode != 0:
            raise FarmError(f"Could not release place '{self.name}': {_error_line(done)}.",
                            hint=f"Release it by hand: labgrid-client -p {self.name} release.")

    def __enter__(self) -> FarmPlace:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
