"""Fixtures of the CLI tests: emulators on real ports, and structlog reset after each test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
import uvicorn

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.ongoing import OngoingEmulator

CENTRA_SECRET = "centra-s3cret-value"
WMS_PASSWORD = "wms-pa55word-value"


@pytest.fixture(autouse=True)
def reset_logging() -> Iterator[None]:
    """The CLI configures structlog process-wide; later tests get the defaults back."""
    yield
    structlog.reset_defaults()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port in a thread; yields its base URL.

    The socket is bound here and handed over, so no other process can take the port
    between choosing and binding it.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


@pytest.fixture(scope="module")
def centra_url() -> Iterator[str]:
    with serving(CentraEmulator(uri="wms", secret=CENTRA_SECRET, seed="demo").app) as url:
        yield url


@pytest.fixture(scope="module")
def ongoing_url() -> Iterator[str]:
    emulator = OngoingEmulator(warehouse="demo", user="centrasync", password=WMS_PASSWORD)
    with serving(emulator.app) as url:
        yield url
