"""The SFTP operations the connector needs, over one asyncssh connection.

Every asyncssh or OS error is translated here into :mod:`centrasync.errors`: a refused
login is an :class:`AuthenticationError`, an unknown host key a :class:`ConfigError`
(nothing works until a person fixes it), a denied path a :class:`PermissionDeniedError`
and a dropped connection a :class:`NetworkError`, after which the next call reconnects.
Writes are atomic on the server: the bytes go to a temporary name in the same folder,
which is renamed to the final name only once complete, so the warehouse never imports
half a file.
"""

from __future__ import annotations

import asyncio
import posixpath
import uuid
import warnings
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from centrasync.errors import (
    AuthenticationError,
    ConfigError,
    NetworkError,
    PermissionDeniedError,
)
from centrasync.http import AsyncClosing

with warnings.catch_warnings():
    # asyncssh imports cryptography's DSA support, which warns about its deprecation.
    warnings.simplefilter("ignore")
    import asyncssh

__all__ = [
    "TEMP_SUFFIXES",
    "HostKey",
    "RemoteFile",
    "SftpLogin",
    "SftpSession",
    "host_key",
    "is_known_host",
]

SYSTEM = "sftp"
TEMP_SUFFIXES = (".tmp", ".part", ".filepart")
T = TypeVar("T")


@dataclass(frozen=True)
class HostKey:
    """A server's host key as a known_hosts line, and its fingerprint to show a person."""

    line: str
    fingerprint: str


def _host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


async def host_key(host: str, port: int, *, timeout: float = 10.0) -> HostKey:
    """Ask the server for its host key, trusting nothing: for a person to confirm."""
    where = f"{host}:{port}"
    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(host, port), timeout)
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise NetworkError(
            f"SFTP server {where} unreachable: {type(exc).__name__}", system=SYSTEM
        ) from None
    if key is None:
        raise NetworkError(f"SFTP server {where} offered no host key", system=SYSTEM)
    public = key.export_public_key("openssh").decode().split()
    line = f"{_host_pattern(host, port)} {public[0]} {public[1]}\n"
    return HostKey(line=line, fingerprint=key.get_fingerprint("sha256"))


def is_known_host(known_hosts: Path, host: str, port: int) -> bool:
    """Whether ``known_hosts`` holds a key for the server (any key: the login checks it)."""
    if not known_hosts.is_file():
        return False
    pattern = _host_pattern(host, port)
    for line in known_hosts.read_text(encoding="utf-8").splitlines():
        hosts = line.split(" ", 1)[0].split(",")
        if pattern in hosts:
            return True
    return False


@dataclass(frozen=True)
class SftpLogin:
    """Where and how to log in; ``known_hosts`` None turns host-key checking off."""

    host: str
    port: int
    user: str
    password: str | None = None
    private_key: str | None = None
    known_hosts: str | None = "~/.ssh/known_hosts"
    timeout: float = 30.0

    def __repr__(self) -> str:
        return f"SftpLogin({self.user}@{self.host}:{self.port})"


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: int


class SftpSession(AsyncClosing):
    """One lazily opened SFTP session, re-opened after it dropped."""

    def __init__(self, login: SftpLogin) -> None:
        self._login = login
        self._connection: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._opening = asyncio.Lock()

    async def aclose(self) -> None:
        self._drop()

    def _drop(self) -> None:
        if self._sftp is not None:
            self._sftp.exit()
        if self._connection is not None:
            self._connection.close()
        self._sftp = None
        self._connection = None

    async def _client(self) -> asyncssh.SFTPClient:
        async with self._opening:
            if self._sftp is not None:
                return self._sftp
            login = self._login
            known_hosts = None
            where = f"{login.host}:{login.port}"
            if login.known_hosts is not None:
                known_hosts = str(Path(login.known_hosts).expanduser())
                if not Path(known_hosts).is_file():
                    raise ConfigError(
                        f"known_hosts file {login.known_hosts} not found: it must hold the "
                        f"host key of {where} (check_host_key = false only in tests)",
                        system=SYSTEM,
                    )
            try:
                connection = await asyncio.wait_for(
                    asyncssh.connect(
                        login.host,
                        port=login.port,
                        username=login.user,
                        password=login.password,
                        client_keys=(
                            [str(Path(login.private_key).expanduser())]
                            if login.private_key
                            else None
                        ),
                        known_hosts=known_hosts,
                        agent_path=None,
                        preferred_auth=("publickey,password" if login.private_key else "password"),
                    ),
                    timeout=login.timeout,
                )
                sftp = await connection.start_sftp_client()
            except asyncssh.PermissionDenied:
                raise AuthenticationError(
                    f"SFTP login refused for user {login.user!r} at {where}", system=SYSTEM
                ) from None
            except asyncssh.HostKeyNotVerifiable as exc:
                raise ConfigError(
                    f"the host key of {where} is not in {login.known_hosts}: {exc.reason}",
                    system=SYSTEM,
                ) from None
            except (OSError, asyncssh.Error, TimeoutError) as exc:
                raise NetworkError(
                    f"SFTP server {where} unreachable: {type(exc).__name__}", system=SYSTEM
                ) from None
            self._connection, self._sftp = connection, sftp
            return sftp

    async def _run(self, what: str, call: Callable[[asyncssh.SFTPClient], Awaitable[T]]) -> T:
        sftp = await self._client()
        try:
            return await call(sftp)
        except asyncssh.SFTPPermissionDenied:
            raise PermissionDeniedError(
                f"SFTP permission denied: {what}", system=SYSTEM, endpoint=what
            ) from None
        except asyncssh.SFTPError as exc:
            raise NetworkError(
                f"SFTP {what} failed: {exc.reason}", system=SYSTEM, endpoint=what
            ) from None
        except (OSError, asyncssh.Error) as exc:
            self._drop()
            raise NetworkError(
                f"SFTP connection lost during {what}: {type(exc).__name__}",
                system=SYSTEM,
                endpoint=what,
            ) from None

    # -- reads ----------------------------------------------------------------------------

    async def list_files(self, folder: str) -> list[RemoteFile]:
        """Regular files in ``folder``, oldest first, without temporary names; a missing
        folder is empty."""

        async def call(sftp: asyncssh.SFTPClient) -> list[RemoteFile]:
            try:
                entries = await sftp.readdir(folder)
            except asyncssh.SFTPNoSuchFile:
                return []
            files = [
                RemoteFile(str(entry.filename), entry.attrs.size or 0, entry.attrs.mtime or 0)
                for entry in entries
                if entry.attrs.type == asyncssh.FILEXFER_TYPE_REGULAR
                and not str(entry.filename).endswith(TEMP_SUFFIXES)
            ]
            return sorted(files, key=lambda file: (file.mtime, file.name))

        return await self._run(f"list {folder}", call)

    async def read(self, path: str) -> bytes | None:
        """The file's bytes, or None if it is not there (any more)."""

        async def call(sftp: asyncssh.SFTPClient) -> bytes | None:
            try:
                async with sftp.open(path, "rb") as file:
                    data: bytes = await file.read()
                    return data
            except asyncssh.SFTPNoSuchFile:
                return None

        return await self._run(f"read {path}", call)

    async def exists(self, path: str) -> bool:
        return await self._run(f"stat {path}", lambda sftp: sftp.exists(path))

    # -- writes ---------------------------------------------------------------------------

    async def write_atomic(self, path: str, data: bytes, *, replace: bool = False) -> bool:
        """Upload to a temporary name beside ``path``, then rename it into place.

        Without ``replace`` the rename refuses an existing file (plain SFTP rename), and
        False says the file was already there; with it, the file is replaced atomically.
        """
        folder, name = posixpath.split(path)
        temp = posixpath.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")

        async def call(sftp: asyncssh.SFTPClient) -> bool:
            await self._put(sftp, folder, temp, data)
            try:
                if replace:
                    await sftp.posix_rename(temp, path)
                else:
                    await sftp.rename(temp, path)
            except asyncssh.SFTPError:
                await _remove_quietly(sftp, temp)
                if not replace and await sftp.exists(path):
                    return False
                raise
            return True

        return await self._run(f"write {path}", call)

    async def _put(self, sftp: asyncssh.SFTPClient, folder: str, path: str, data: bytes) -> None:
        try:
            file = await sftp.open(path, "wb")
        except asyncssh.SFTPNoSuchFile:
            await sftp.makedirs(folder, exist_ok=True)
            file = await sftp.open(path, "wb")
        async with file:
            await file.write(data)

    async def move(self, source: str, target: str) -> bool:
        """Move a file into another folder (created if needed); False if ``source`` is
        gone, i.e. someone else moved it first. An existing ``target`` is replaced."""

        async def call(sftp: asyncssh.SFTPClient) -> bool:
            try:
                await sftp.posix_rename(source, target)
            except asyncssh.SFTPNoSuchFile:
                if not await sftp.exists(source):
                    return False
                await sftp.makedirs(posixpath.dirname(target), exist_ok=True)
                try:
                    await sftp.posix_rename(source, target)
                except asyncssh.SFTPNoSuchFile:
                    return False
            return True

        return await self._run(f"move {source}", call)

    async def remove(self, path: str) -> None:
        async def call(sftp: asyncssh.SFTPClient) -> None:
            await _remove_quietly(sftp, path)

        await self._run(f"remove {path}", call)

    async def makedirs(self, path: str) -> None:
        await self._run(f"mkdir {path}", lambda sftp: sftp.makedirs(path, exist_ok=True))


async def _remove_quietly(sftp: asyncssh.SFTPClient, path: str) -> None:
    with suppress(asyncssh.SFTPNoSuchFile):
        await sftp.remove(path)
