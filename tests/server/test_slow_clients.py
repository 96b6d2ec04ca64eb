"""The receiver behind uvicorn on a real socket: bodies that trickle in, callers that leave.

An in-process transport hands the app a whole body at once; only a socket shows what a
slow or vanishing sender does to the server.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from centrasync.server import create_app
from centrasync.store.base import StateStore

from .helpers import NOW, encode, make_settings, signed
from .test_receiver import ORDER_EVENTS, URL

SLOW_SENDERS = 20


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[int]:
    """``app`` served by uvicorn on a free local port, as ``centrasync serve`` runs it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    # No logging config of uvicorn's own: its records reach pytest's capture.
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="info"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        await task
        sock.close()


def request_head(port: int, body: bytes) -> bytes:
    lines = [f"POST {URL} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in signed(body).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


DRIP = 0.3
"""Seconds between two bytes of a slow body. Longer than the 50 ms it was: a byte that
arrives while the server closes the connection makes the kernel reset it, which can discard
the 408 before the client reads it, and under load bytes 50 ms apart always met the close."""


async def trickle(port: int, body: bytes) -> tuple[bytes, float]:
    """Send the head, then the body a byte every ``DRIP`` seconds; the answer and when the
    server closed the connection (seconds after the head)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_head(port, body))
    started = time.monotonic()

    async def drip() -> None:
        for byte in body:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(DRIP)

    dripping = asyncio.create_task(drip())
    try:
        answer = await asyncio.wait_for(reader.read(), timeout=5)
        return answer, time.monotonic() - started
    finally:
        dripping.cancel()
        with suppress(asyncio.CancelledError, ConnectionError):
            await dripping
        writer.close()


async def test_bodies_that_trickle_in_are_cut_off_after_the_timeout(state: StateStore) -> None:
    """Twenty senders dripping a signed body (minutes each at that pace): each is answered 408
    and disconnected after the half second the setting allows, and nothing is written."""
    app = create_app(make_settings(body_timeout=0.5), state, clock=lambda: NOW)
    body = encode(ORDER_EVENTS)
    async with served(app) as port:
        results = await asyncio.gather(*(trickle(port, body) for _ in range(SLOW_SENDERS)))
    for answer, closed_after in results:
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
        assert b"longer than 0.5 s" in answer
        assert closed_after < 3
    assert await state.inbox_backlog("se") == 0


async def test_a_caller_that_leaves_mid_body_costs_one_short_line(
    state: StateStore, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three callers send the head and ten bytes of the body, then hang up."""
    app = create_app(make_settings(), state, clock=lambda: NOW)
    body = encode(ORDER_EVENTS)
    caplog.set_level(logging.INFO)
    counted = 'centrasync_webhooks_rejected_total{reason="disconnected",store="se"} 3.0'
    async with served(app) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as web:
        for _ in range(3):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request_head(port, body) + body[:10])
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        deadline = time.monotonic() + 5
        while counted not in (await web.get("/metrics")).text:
            assert time.monotonic() < deadline, "the server never noticed the callers leave"
            await asyncio.sleep(0.02)
    lines = [line for line in capsys.readouterr().out.splitlines() if "disconnected" in line]
    assert len(lines) == 3 and all("webhook rejected" in line for line in lines), lines
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r for r in caplog.records if r.exc_info] == []
    assert await state.inbox_backlog("se") == 0
