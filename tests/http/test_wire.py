"""The engine's wire: httpx over our asyncio network backend, against real sockets.

A small HTTP/1.1 server on 127.0.0.1 answers each request with what the test asks for, so
every path the backend owns is crossed: keep-alive reuse, bodies far beyond the read
buffer's high-water mark, a server that closes an idle connection, timeouts, a refused
connection and TLS.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from centrasync.http.wire import AsyncioBackend, WireTransport

Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return head.split(b"\r\n", 1)[0] + b"\n" + body


def answer(writer: asyncio.StreamWriter, body: bytes, *, close: bool = False) -> None:
    headers = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n"
    if close:
        headers += "Connection: close\r\n"
    writer.write(headers.encode() + b"\r\n" + body)


@asynccontextmanager
async def server(handle: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    connections: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        try:
            while (request := await read_request(reader)) is not None:
                if not await handle(request, writer):
                    break
                await writer.drain()
        finally:
            writer.close()

    listening = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    port = listening.sockets[0].getsockname()[1]
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        listening.close()
        for writer in connections:
            writer.close()
        await listening.wait_closed()


async def echo(request: bytes, writer: asyncio.StreamWriter) -> bool:
    answer(writer, request)
    return True


async def test_requests_and_bodies_go_both_ways_on_one_kept_alive_connection() -> None:
    async with server(echo) as url, httpx.AsyncClient(transport=WireTransport()) as client:
        streams = set()
        for number in range(3):
            response = await client.put(f"{url}/orders/{number}", content=b"x" * 10)
            assert response.content == f"PUT /orders/{number} HTTP/1.1\n".encode() + b"x" * 10
            streams.add(id(response.extensions["network_stream"]))
        assert len(streams) == 1


async def test_a_body_far_beyond_the_read_buffer_arrives_whole() -> None:
    big = bytes(range(256)) * 20_000  # 5 MB: reading pauses and resumes many times

    async def large(request: bytes, writer: asyncio.StreamWriter) -> bool:
        answer(writer, big)
        return True

    async with server(large) as url, httpx.AsyncClient(transport=WireTransport()) as client:
        response = await client.put(f"{url}/upload", content=big)
        assert response.content == big


async def test_an_idle_connection_the_server_closed_is_replaced() -> None:
    async def once(request: bytes, writer: asyncio.StreamWriter) -> bool:
        answer(writer, b"done")
        return False  # closes the connection after answering, without saying so

    async with server(once) as url, httpx.AsyncClient(transport=WireTransport()) as client:
        first = await client.get(f"{url}/a")
        await asyncio.sleep(0.05)
        second = await client.get(f"{url}/b")
        assert first.content == second.content == b"done"
        assert first.extensions["network_stream"] is not second.extensions["network_stream"]


async def test_a_silent_server_is_a_read_timeout_and_a_closed_port_a_connect_error() -> None:
    async def silent(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    quick = httpx.AsyncClient(transport=WireTransport(), timeout=0.2)
    async with server(silent) as url, quick as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"{url}/slow")
    async with httpx.AsyncClient(transport=WireTransport(), timeout=2) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url)


async def test_a_connection_dropped_mid_answer_is_a_read_error() -> None:
    async def half(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        await writer.drain()
        return False

    async with server(half) as url, httpx.AsyncClient(transport=WireTransport()) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"{url}/cut")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_with_a_trusted_certificate_and_refused_with_an_unknown_one(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    async with server(echo, tls=serving) as url:
        async with httpx.AsyncClient(transport=WireTransport(verify=trusting)) as client:
            response = await client.put(f"{url}/secure", content=b"paid")
            assert response.content == b"PUT /secure HTTP/1.1\npaid"
            assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None
        async with httpx.AsyncClient(transport=WireTransport()) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"{url}/secure")


async def test_the_backend_connects_over_a_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "wire.sock")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        answer(writer, b"local", close=True)
        await writer.drain()
        writer.close()

    listening = await asyncio.start_unix_server(serve, path)
    try:
        stream = await AsyncioBackend().connect_unix_socket(path, timeout=2)
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while chunk := await stream.read(65536, timeout=2):
            received += chunk
        await stream.aclose()
        assert received.endswith(b"\r\n\r\nlocal")
    finally:
        listening.close()
        await listening.wait_closed()


async def test_a_close_the_busy_loop_has_not_read_yet_still_marks_the_connection_readable() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def accept_and_close() -> None:
        accepted, _ = listener.accept()
        accepted.close()

    closer = threading.Thread(target=accept_and_close)
    closer.start()
    try:
        port = listener.getsockname()[1]
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=2)
        # The loop stalls while the server closes: the close is only in the kernel.
        closer.join(2)
        time.sleep(0.05)
        assert stream.get_extra_info("is_readable")
        await stream.aclose()
    finally:
        listener.close()
