"""The clients' default transport (httpx's own, inside the retry wrapper) on real sockets.

A small HTTP/1.1 server on 127.0.0.1 answers each request as the test asks, and each test
runs through both clients built without a transport, as the engine builds them: calls
share a kept-alive connection, an idle connection the server closed is replaced without a
retry, and a silent server, a closed port and an answer cut short are each a
:class:`~centrasync.errors.NetworkError` naming the endpoint.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from centrasync.centra.client import OrderApiClient
from centrasync.errors import NetworkError
from centrasync.http import AsyncClosing, RetryPolicy
from centrasync.wms.ongoing import OngoingWarehouse

# Answers one request; False closes the connection after it.
Handler = Callable[[asyncio.StreamWriter], Awaitable[bool]]


@dataclass(frozen=True)
class Caller:
    """One client, built the engine's way (allowed one attempt), and one cheap read."""

    name: str
    build: Callable[[str, float], AsyncClosing]
    call: Callable[[AsyncClosing], Awaitable[object]]
    body: bytes


def centra(url: str, timeout: float) -> AsyncClosing:
    return OrderApiClient(
        f"{url}/api/wms/",
        "s3cret",
        "Europe/Stockholm",
        retry=RetryPolicy(max_attempts=1),
        timeout=timeout,
    )


def ongoing(url: str, timeout: float) -> AsyncClosing:
    return OngoingWarehouse(
        f"{url}/dc/api/v1/",
        "centrasync",
        "pw",
        1,
        retry=RetryPolicy(max_attempts=1),
        timeout=timeout,
    )


async def list_supplier_orders(client: AsyncClosing) -> object:
    assert isinstance(client, OrderApiClient)
    return await client.list_supplier_orders()


async def ping(client: AsyncClosing) -> object:
    assert isinstance(client, OngoingWarehouse)
    await client.ping()
    return None


CALLERS = [
    Caller(
        "centra",
        centra,
        list_supplier_orders,
        json.dumps({"status": "ok", "orders": []}).encode(),
    ),
    Caller("ongoing", ongoing, ping, b"[]"),
]


@pytest.fixture(params=CALLERS, ids=lambda caller: caller.name)
def caller(request: pytest.FixtureRequest) -> Caller:
    result: Caller = request.param
    return result


async def read_request(reader: asyncio.StreamReader) -> bool:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and int(value):
            await reader.readexactly(int(value))
    return True


def answer(writer: asyncio.StreamWriter, body: bytes) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"\r\n" + body)


@dataclass
class Server:
    url: str
    connections: int = 0


@asynccontextmanager
async def server(handle: Handler) -> AsyncIterator[Server]:
    """Serves ``handle`` until it returns False for a connection; counts connections."""
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.connections += 1
        writers.append(writer)
        try:
            while await read_request(reader):
                if not await handle(writer):
                    break
                await writer.drain()
        finally:
            writer.close()

    listening = await asyncio.start_server(serve, "127.0.0.1", 0)
    served = Server(f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}")
    try:
        yield served
    finally:
        listening.close()
        for writer in writers:
            writer.close()
        await listening.wait_closed()


async def test_calls_share_one_kept_alive_connection(caller: Caller) -> None:
    async def keep(writer: asyncio.StreamWriter) -> bool:
        answer(writer, caller.body)
        return True

    async with server(keep) as served, caller.build(served.url, 5.0) as client:
        for _ in range(3):
            await caller.call(client)
    assert served.connections == 1


async def test_an_idle_connection_the_server_closed_is_replaced_without_a_retry(
    caller: Caller,
) -> None:
    async def once(writer: asyncio.StreamWriter) -> bool:
        answer(writer, caller.body)
        return False  # closes the connection after answering, without saying so

    async with server(once) as served, caller.build(served.url, 5.0) as client:
        await caller.call(client)
        await asyncio.sleep(0.05)
        await caller.call(client)  # one attempt only: sent on the closed one, it would fail
    assert served.connections == 2


async def test_a_silent_server_times_out_and_a_closed_port_fails_to_connect(
    caller: Caller,
) -> None:
    async def silent(writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    async with server(silent) as served, caller.build(served.url, 0.2) as client:
        with pytest.raises(NetworkError) as timed_out:
            await caller.call(client)
        assert isinstance(timed_out.value.__cause__, httpx.ReadTimeout)
    async with caller.build(served.url, 5.0) as client:
        with pytest.raises(NetworkError):
            await caller.call(client)


async def test_an_answer_cut_short_is_a_network_error(caller: Caller) -> None:
    async def half(writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[only part")
        await writer.drain()
        return False

    async with server(half) as served, caller.build(served.url, 5.0) as client:
        with pytest.raises(NetworkError):
            await caller.call(client)
