"""centrasync commands as real processes on real ports, for the tests of whole journeys."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(
    args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """``centrasync *args`` in a new process, its output to ``log``."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "centrasync", *args],
            env=env or dict(os.environ),
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def wait_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``url`` answers; fail with the process's log if it exits or never does."""
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"{url} did not come up"
            time.sleep(0.05)


def start_emulators(
    folder: Path, *, centra_port: int, ongoing_port: int, secret: str, password: str
) -> list[subprocess.Popen[bytes]]:
    """The seeded Centra emulator and the Ongoing emulator, as a user starts them, once up."""
    centra = start(
        ["emulate", "centra", "--port", str(centra_port), "--seed", "demo", "--secret", secret],
        folder / "centra.log",
    )
    ongoing = start(
        ["emulate", "ongoing", "--port", str(ongoing_port), "--password", password],
        folder / "ongoing.log",
    )
    processes = [centra, ongoing]
    try:
        wait_up(
            f"http://127.0.0.1:{centra_port}/_emulator/seed-summary", centra, folder / "centra.log"
        )
        wait_up(f"http://127.0.0.1:{ongoing_port}/_emulator/state", ongoing, folder / "ongoing.log")
    except BaseException:
        stop(processes)
        raise
    return processes


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=15)
