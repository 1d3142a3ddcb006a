"""A board's place on the test farm, with fakes for the probe only.

What is real: the coordinator and exporter (tests/_farm.py), labgrid's OpenOCDDriver,
sshmanager and ManagedFile, pyserial's RFC 2217 client and server side, QEMU running the
firmware. What is fake, because no probe and no bench PC exist here:
- `ssh`: runs the remote command on this machine (the bench PC is this machine) and
  records its argv; it plays labgrid's ControlMaster dance (a master that "connects",
  `-O check/exit/cancel`); MCUGEN_FAKE_SSH_FAIL makes every connection fail as an
  unreachable host does.
- `openocd` / `pyocd`: check the argv the real tools would get on the bench PC and "flash"
  the board: the board is a QEMU (mps2-an500) started with the ELF, its UART on a TCP port,
  replacing the one a previous flash started (a board runs its last firmware until the next
  flash). MCUGEN_FAKE_FLASH_FAIL makes them fail as with no probe attached.
- the RFC 2217 server standing in for the exporter's ser2net: pyserial's
  `serial.rfc2217.PortManager` between the client's TCP connection and the board's UART
  (QEMU's TCP port); it logs the baud rate the client sets. `--silent` accepts connections
  and never answers.

Run as a program: `python _farm_board.py ssh|openocd|pyocd ARGS` (the fakes, through the
scripts write_fakes() puts first on PATH) or `python _farm_board.py bridge PORT UPSTREAM LOG
[--silent]`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WITH_ARG = set("BbcDEeFIiJLlmOoPpQRSWw")  # ssh's options that take a value


def write_fakes(directory: Path) -> Path:
    """ssh, openocd and pyocd scripts in `directory` (put it first on PATH)."""
    directory.mkdir(parents=True, exist_ok=True)
    for tool in ("ssh", "openocd", "pyocd"):
        script = directory / tool
        script.write_text(f"#!/bin/sh\nexec {sys.executable} {HERE / '_farm_board.py'} {tool} \"$@\"\n")
        script.chmod(0o755)
    return directory


def record(tool: str, argv: list[str]) -> None:
    log = os.environ.get("MCUGEN_FAKE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"tool": tool, "argv": argv}) + "\n")


def fake_ssh(args: list[str]) -> int:
    record("ssh", args)
    options: dict[str, str] = {}
    flags = ""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        word = args[i]
        for j, ch in enumerate(word[1:], start=1):
            if ch in WITH_ARG:
                value = word[j + 1:] or args[i + 1]
                i += 0 if word[j + 1:] else 1
                options[ch] = options.get(ch, "") + ("\n" if ch in options else "") + value
                break
            flags += ch
        i += 1
    host, rest = (args[i], args[i + 1:]) if i < len(args) else ("", [])
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if not host:
        print("usage: ssh destination [command]", file=sys.stderr)
        return 255
    if "O" in options:  # a control command
        if options["O"] == "check" and "ControlPath" not in options.get("o", ""):
            print('No ControlPath specified for "-O" command', file=sys.stderr)
            return 255
        return 0
    if os.environ.get("MCUGEN_FAKE_SSH_FAIL"):
        print(f"ssh: connect to host {host} port 22: Connection refused", file=sys.stderr)
        return 255
    if "M" in flags:  # the master: its control socket appears, then it "runs in the background"
        path = next(x.split("=", 1)[1] for x in options.get("o", "").splitlines() if x.startswith("ControlPath="))
        Path(path).touch()
        return 0
    if not rest:
        print("fake ssh: no command (an interactive login is not faked)", file=sys.stderr)
        return 255
    os.execvp("sh", ["sh", "-c", " ".join(rest)])
    return 255


def start_board(elf: str, probe_path: str) -> None:
    """The board of the probe at `probe_path` runs `elf` from now on: QEMU with its UART on
    the TCP port MCUGEN_FAKE_BOARDS ({USB path: port}) gives that probe."""
    from mcugen.boards import get_board
    from mcugen.runners.labgrid import qemu_place_command

    state = Path(os.environ["MCUGEN_FAKE_BOARD_DIR"])
    port = int(json.loads(os.environ["MCUGEN_FAKE_BOARDS"])[probe_path])
    pidfile = state / f"qemu-{probe_path}.pid"
    if pidfile.is_file():  # the previous firmware stops: a flash replaces it
        try:
            os.killpg(int(pidfile.read_text()), signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.2)
    argv = qemu_place_command("qemu-system-arm", get_board("qemu-m7"), elf, "127.0.0.1", port)
    with open(state / "qemu.log", "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    pidfile.write_text(str(proc.pid))
    deadline = time.monotonic() + 10
    while True:  # "Resetting target": the board runs when the tool returns
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                print(f"Error: the board did not start (QEMU status {proc.poll()})")
                sys.exit(1)
            time.sleep(0.05)


def fake_flasher(tool: str, args: list[str]) -> int:
    record(tool, args)
    if os.environ.get("MCUGEN_FAKE_FLASH_FAIL"):
        print("Error: open failed" if tool == "openocd" else "0000650 C No connected debug probes matching")
        return 1
    if tool == "openocd":
        path = args[1].removeprefix("adapter usb location ").strip('"') if len(args) > 1 else ""
        expected = ["--command", f'adapter usb location "{path}"', "--file", os.environ["MCUGEN_FAKE_OPENOCD_CONFIG"],
                    "--command"]
        ok = len(args) == 6 and args[:5] == expected and path in json.loads(os.environ["MCUGEN_FAKE_BOARDS"]) \
            and args[5].startswith("program ") and args[5].endswith(" verify reset exit")
        elf = args[5].split()[1] if ok else ""
    else:
        elf, path = (args[-1] if args else ""), os.environ["MCUGEN_FAKE_PROBE_PATH"]  # the probe with that uid
        ok = args[:-1] == ["flash", "--uid", os.environ["MCUGEN_FAKE_PROBE_UID"], "--target",
                           os.environ["MCUGEN_FAKE_PYOCD_TARGET"], "-M", "under-reset", "--format", "elf"]
    if not ok or not Path(elf).is_file() or Path(elf).read_bytes()[:4] != b"\x7fELF":
        print(f"Error: {tool} got arguments a real bench PC would not accept: {args}")
        return 1
    start_board(elf, path)
    print("** Programming Finished **\n** Verified OK **\n** Resetting Target **")
    return 0


# ---- the RFC 2217 server (the exporter's ser2net) ---------------------------------------------


def _upstream(port: int, timeout: float = 10.0):
    import serial

    deadline = time.monotonic() + timeout
    while True:
        try:
            return serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0.05)
        except serial.SerialException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def serve(client: socket.socket, upstream_port: int, log: Path) -> None:
    import serial.rfc2217

    lock = threading.Lock()

    class Connection:  # what PortManager writes its answers to
        @staticmethod
        def write(data: bytes) -> None:
            with lock:
                client.sendall(data)

    up = _upstream(upstream_port)
    manager = serial.rfc2217.PortManager(up, Connection())
    done = threading.Event()

    def board_to_client() -> None:
        while not done.is_set():
            try:
                data = up.read(4096)
            except Exception:
                break
            if data:
                Connection.write(b"".join(manager.escape(data)))
        done.set()

    threading.Thread(target=board_to_client, daemon=True).start()
    baud = None
    try:
        while not done.is_set():
            data = client.recv(4096)
            if not data:
                break
            up.write(b"".join(manager.filter(data)))
            if up.baudrate != baud:
                baud = up.baudrate
                with open(log, "a", encoding="utf-8") as f:
                    f.write(f"baud {baud}\n")
    except OSError:
        pass
    finally:
        done.set()
        client.close()
        up.close()


def bridge(port: int, upstream_port: int, log: Path, silent: bool) -> None:
    server = socket.create_server(("127.0.0.1", port))
    held = []
    while True:
        client, _ = server.accept()
        if silent:
            held.append(client)  # a server that accepts and never answers
            continue
        threading.Thread(target=serve, args=(client, upstream_port, log), daemon=True).start()


def main(argv: list[str]) -> int:
    tool, args = argv[0], argv[1:]
    if tool == "ssh":
        return fake_ssh(args)
    if tool in ("openocd", "pyocd"):
        return fake_flasher(tool, args)
    if tool == "bridge":
        bridge(int(args[0]), int(args[1]), Path(args[2]), "--silent" in args)
        return 0
    print(f"unknown fake {tool}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
