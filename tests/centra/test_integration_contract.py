"""The Integration API client's contract suite against the Centra emulator: in-process, and
served by ``centrasync emulate centra --seed demo --graphql-token …`` as a CI job would."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from centrasync.testing import CentraHarness, IntegrationApiContract, centra_harness

SERVED_TOKEN = "served-contract-token"
SERVED_SECRET = "served-s3cret"


class TestIntegrationApiOnTheEmulator(IntegrationApiContract):
    def open_harness(self) -> AbstractAsyncContextManager[CentraHarness]:
        return centra_harness()


@pytest.fixture(scope="module")
def served_emulator() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "centrasync", "emulate", "centra", "--port", str(port)]
    command += ["--uri", "wms", "--secret", SERVED_SECRET, "--seed", "demo"]
    command += ["--graphql-token", SERVED_TOKEN]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                httpx.get(f"{base}/_emulator/stores", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator did not start in 30 s"
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


@pytest.mark.slow
class TestIntegrationApiOnTheServedEmulator(IntegrationApiContract):
    url = ""

    @pytest.fixture(autouse=True)
    def _served(self, served_emulator: str) -> None:
        self.url = served_emulator

    def open_harness(self) -> AbstractAsyncContextManager[CentraHarness]:
        return centra_harness(url=self.url, token=SERVED_TOKEN, secret=SERVED_SECRET)
