"""httpx's own transport on a network backend built on asyncio's transports and protocols.

httpcore reaches the network through anyio streams under asyncio, and every anyio send and
receive yields to the event loop once before it does anything (a "checkpoint"), on top of
a cancel scope and a timer per operation. On a quiet loop that costs microseconds; on the
engine's loop, busy with hundreds of records, each yield waits for everything else that is
ready, and a request passes several of them before its bytes leave. The outbound
benchmark measured 2.4 ms from handing a request to httpx to its arrival at the server
(0.7 ms on a quiet loop), against a 20 ms call, and the Ongoing write lane it holds is
the bottleneck. With every anyio checkpoint stubbed out (an experiment, not shipped) it
moved 13% more shipments per second; about a third of that is the streams', which this
backend removes; the rest is the checkpoints of httpcore's own locks and events, which
still run on anyio. (The same cost is reported upstream, httpx issue #3215.) This backend
reads and writes the socket directly:

* a read returns what is buffered at once, or waits on a future (with a timer only when
  a timeout is set);
* a write hands the bytes to the transport and waits only when the transport asks the
  protocol to pause (flow control);
* the protocol keeps reading while the connection is idle, up to a high-water mark, so
  httpcore's "is the idle connection readable" check (whether the server closed it) is
  mostly answered from state; a ``poll()`` of the socket covers a close the loop has not
  read yet.

Errors are httpcore's own (``ConnectError``, ``ReadTimeout`` …), which httpx maps to its
exceptions as for its default backend. Only the network backend is ours: connection
pooling, HTTP/1.1 parsing and TLS contexts stay httpcore's and httpx's.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import Coroutine, Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["AsyncioBackend", "WireTransport"]

# Stop reading from a socket holding this much unread; start again below the low mark.
_HIGH_WATER = 256 * 1024
_LOW_WATER = 64 * 1024


class WireTransport(httpx.AsyncHTTPTransport):
    """:class:`httpx.AsyncHTTPTransport` whose connection pool uses :class:`AsyncioBackend`.

    The pool is the one httpx would build (same TLS context, limits and HTTP/1.1 only);
    httpx offers no argument for a network backend, so the pool it made is replaced.
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
        retries: int = 0,
    ) -> None:
        super().__init__(verify=verify, limits=limits, retries=retries)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            retries=retries,
            network_backend=AsyncioBackend(),
        )


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections on the running loop's own transports."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = None if local_address is None else (local_address, 0)
        opening = asyncio.get_running_loop().create_connection(
            _Protocol, host, port, local_addr=local
        )
        return await _connected(opening, f"{host}:{port}", timeout, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        opening = asyncio.get_running_loop().create_unix_connection(_Protocol, path)
        return await _connected(opening, path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _connected(
    opening: Coroutine[Any, Any, tuple[asyncio.Transport, _Protocol]],
    where: str,
    timeout: float | None,
    socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
) -> httpcore.AsyncNetworkStream:
    try:
        async with asyncio.timeout(timeout):
            transport, protocol = await opening
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"connecting to {where} timed out") from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc
    sock: socket.socket | None = transport.get_extra_info("socket")
    for option in socket_options or ():
        if sock is not None:
            sock.setsockopt(*option)
    return _Stream(transport, protocol)


class _Protocol(asyncio.Protocol):
    """Buffers what arrives and wakes the one reader or writer waiting on it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: Exception | None = None
        self.reading_paused = False
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake_reader()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        if len(self.buffer) <= max_bytes:
            data = bytes(self.buffer)
            self.buffer.clear()
        else:
            data = bytes(self.buffer[:max_bytes])
            del self.buffer[:max_bytes]
        if self.reading_paused and len(self.buffer) < _LOW_WATER and self.transport is not None:
            self.transport.resume_reading()
            self.reading_paused = False
        return data

    def readable(self) -> asyncio.Future[None]:
        self._readable = asyncio.get_running_loop().create_future()
        return self._readable

    def writable(self) -> asyncio.Future[None] | None:
        """A future to wait on while the transport's buffer is full, else None."""
        if self._writable is None or self._writable.done():
            return None
        return self._writable

    def _wake_reader(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.eof:
            try:
                async with asyncio.timeout(timeout):
                    await protocol.readable()
            except TimeoutError as exc:
                raise httpcore.ReadTimeout("the server sent nothing in time") from exc
        if protocol.buffer:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error)) from protocol.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        waiting = self._protocol.writable()
        if waiting is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await waiting
        except TimeoutError as exc:
            raise httpcore.WriteTimeout("the server took nothing in time") from exc
        if self._protocol.error is not None:
            raise httpcore.WriteError(str(self._protocol.error)) from self._protocol.error

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout("the TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(transport, asyncio.Transport)
        self._protocol.transport = transport
        return _Stream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Idle and readable means the server closed it or sent what it should not. The
            # state answers at once; a close the loop has not yet read (it was busy) is
            # still in the kernel, so ask the socket too.
            protocol = self._protocol
            return bool(protocol.buffer) or protocol.eof or _socket_readable(self._transport)
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


def _socket_readable(transport: asyncio.Transport) -> bool:
    sock: socket.socket | None = transport.get_extra_info("socket")
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))
