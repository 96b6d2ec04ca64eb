"""Fixtures of the CLI tests: emulators on real ports, and structlog reset after each test."""

from __future__ import annotations

import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import ConnectionDropped
from centrasync.emulators.ongoing import OngoingEmulator

CENTRA_SECRET = "centra-s3cret-value"
WMS_PASSWORD = "wms-pa55word-value"


@pytest.fixture(autouse=True)
def reset_logging() -> Iterator[None]:
    """The CLI configures structlog process-wide; later tests get the defaults back."""
    yield
    structlog.reset_defaults()


class ServedErrors:
    """Exceptions that escaped an app served in a thread, kept for the test that caused them.

    The suite makes every warning an error, but one raised in a server thread only turns
    the request into a 500 (which the client under test may well retry) and a log line;
    the test has to fail instead.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._in_flight = 0
        self._errors: list[str] = []

    def recording(self, app: ASGIApp) -> ASGIApp:
        async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                await app(scope, receive, send)
                return
            with self._changed:
                self._in_flight += 1
            try:
                await app(scope, receive, send)
            except ConnectionDropped:
                raise  # a fault the test asked for
            except Exception as exc:
                request = f"{scope.get('method', scope['type'])} {scope['path']}"
                with self._changed:
                    self._errors.append(f"{request}\n{''.join(traceback.format_exception(exc))}")
                raise
            finally:
                with self._changed:
                    self._in_flight -= 1
                    self._changed.notify_all()

        return recorded

    def take(self, timeout: float) -> list[str]:
        """The errors so far, once no request is in flight: the client may have its 500
        before the server thread is done raising."""
        with self._changed:
            self._changed.wait_for(lambda: self._in_flight == 0, timeout)
            errors, self._errors = self._errors, []
        return errors


SERVED_ERRORS = ServedErrors()


@pytest.fixture(autouse=True)
def served_errors_fail_the_test() -> Iterator[None]:
    yield
    errors = SERVED_ERRORS.take(timeout=10)
    if errors:
        pytest.fail("raised in a server thread while serving:\n" + "\n".join(errors), pytrace=False)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port in a thread; yields its base URL.

    The socket is bound here and handed over, so no other process can take the port
    between choosing and binding it. What escapes the app fails the test whose request
    raised it (``served_errors_fail_the_test``).
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(SERVED_ERRORS.recording(app), log_level="warning"))
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
