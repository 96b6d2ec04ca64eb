"""The file-exchange WMS emulator: a real SFTP server over a local folder, plus the
warehouse-operator control API the Ongoing emulator has.

The SFTP server is asyncssh's, chrooted to the folder, with a host key generated at start
and password (and optionally key) login. A file renamed into an in-folder is imported at
once, unless a ``late`` fault holds intake, in which case the background tick imports it
later. Every control request, import and auto-operator step is followed by
:meth:`FileWarehouse.publish`, so the outbound files are on the server when the request
returns. Run it with ``centrasync emulate files-wms`` or in-process::

    emulator = FilesWmsEmulator(tmp_path)
    async with emulator.running(port=0):
        ...  # emulator.port, emulator.known_hosts_line(), EmulatorTransport(emulator.app)
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from centrasync.config import FileFolders
from centrasync.emulators.ongoing.control import control_router, snapshot
from centrasync.emulators.ongoing.floor import AutoOperatorSettings, OngoingState
from centrasync.emulators.ongoing.model import OngoingApiError
from centrasync.emulators.routing import resolve_routes
from centrasync.wms.files.formats import INBOUND, Codec

from .warehouse import FAULT_KINDS, FileWarehouse

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import asyncssh

__all__ = ["FilesWmsEmulator"]

_log = structlog.get_logger(__name__)


class FilesWmsEmulator:
    """One emulated file-exchange 3PL: an SFTP account over ``root`` and a warehouse."""

    def __init__(
        self,
        root: Path,
        *,
        user: str = "centrasync",
        password: str = "secret",
        authorized_keys: list[str] | None = None,
        codec: Codec | None = None,
        folders: FileFolders | None = None,
        stock_reports: str = "delta",
        auto_operator_interval: float | None = None,
        tick: float = 0.2,
        goods_owner_id: int = 1,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.root = root
        self.user = user
        self.password = password
        self.authorized_keys = authorized_keys
        self.tick = tick
        self.state = OngoingState(goods_owner_id, warehouse="files", clock=clock)
        self.state.auto_operator = AutoOperatorSettings(auto_operator_interval)
        self.files = FileWarehouse(
            root, self.state, codec=codec, folders=folders, stock_reports=stock_reports
        )
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.refuse_logins = False
        self._publish_pending = False
        self.stock_gap = 0.5
        self._last_stock = float("-inf")
        self.port: int | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._loop_time: Callable[[], float] = lambda: asyncio.get_running_loop().time()

        api = FastAPI(
            title="File-exchange WMS emulator",
            description="An SFTP 3PL's warehouse-operator control API (same routes as the "
            "Ongoing emulator's) plus file listing and file faults.",
        )
        api.add_exception_handler(OngoingApiError, _ongoing_error)
        api.include_router(control_router(self.state, lambda: None))
        api.include_router(self._files_router())

        @api.middleware("http")
        async def publish_after(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            # Files that arrived are imported before the operator acts, and what the act
            # changed is on the server before the answer goes back.
            self.step_intake()
            response = await call_next(request)
            self.files.publish()
            return response

        resolve_routes(api)
        self.app = api

    def __repr__(self) -> str:
        return f"FilesWmsEmulator(root={str(self.root)!r}, port={self.port})"

    # -- the SFTP server ----------------------------------------------------------------------

    def known_hosts_line(self, host: str = "127.0.0.1") -> str:
        """The line a client's known_hosts needs to trust this server."""
        key = self.host_key.export_public_key("openssh").decode().split()
        return f"[{host}]:{self.port} {key[0]} {key[1]}\n"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        emulator = self

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return (
                    not emulator.refuse_logins
                    and username == emulator.user
                    and password == emulator.password
                )

        class Sftp(asyncssh.SFTPServer):
            def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
                super().__init__(chan, chroot=str(emulator.root).encode())

            def rename(self, oldpath: bytes, newpath: bytes) -> None:
                super().rename(oldpath, newpath)
                emulator._arrived(newpath)

            def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
                super().posix_rename(oldpath, newpath)
                emulator._arrived(newpath)

        client_keys: Any = None
        if self.authorized_keys:
            client_keys = asyncssh.import_authorized_keys("\n".join(self.authorized_keys))
        self._acceptor = await asyncssh.listen(
            host,
            port,
            server_host_keys=[self.host_key],
            server_factory=Server,
            sftp_factory=Sftp,
            authorized_client_keys=client_keys,
            allow_scp=False,
        )
        self.port = self._acceptor.get_port()
        return self.port

    async def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None

    def _arrived(self, path: bytes) -> None:
        """A file was renamed into place: a file in an in-folder is imported now."""
        text = path.decode(errors="replace").lstrip("/")
        inbound = {str(getattr(self.files.folders, m.value)) for m in INBOUND}
        if any(text.startswith(folder.rstrip("/") + "/") for folder in inbound):
            self.step_intake()
            # What the import changed is written once the rename has been answered; a
            # burst of arrivals between two turns of the loop shares one publication.
            if not self._publish_pending:
                self._publish_pending = True
                asyncio.get_running_loop().call_soon(self._publish_now)

    def _publish_now(self) -> None:
        """After an import: confirmations now; a stock report unless one was written less
        than ``stock_gap`` seconds ago (the background tick writes it then), so a burst of
        item-master files does not become a stock report each."""
        self._publish_pending = False
        now = self._loop_time()
        stock = now - self._last_stock >= self.stock_gap
        if stock:
            self._last_stock = now
        self.files.publish(stock=stock)

    def step_intake(self) -> int:
        return self.files.intake(self._loop_time())

    @asynccontextmanager
    async def running(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[None]:
        """Serve SFTP and run the background tick (late intake, auto-operator) meanwhile."""
        await self.start(host, port)
        task = asyncio.create_task(self._ticking())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            await self.stop()

    async def _ticking(self) -> None:
        last_step = self._loop_time()
        while True:
            interval = self.state.auto_operator.interval
            await asyncio.sleep(min(self.tick, interval) if interval else self.tick)
            try:
                self.step_intake()
                interval = self.state.auto_operator.interval
                if interval is not None and self._loop_time() - last_step >= interval:
                    last_step = self._loop_time()
                    await self.state.operator_step()
                self.files.publish()
            except OngoingApiError as exc:
                _log.warning("files_emulator.step_failed", reason=exc.message)

    # -- the files part of the control API ----------------------------------------------------

    def _files_router(self) -> APIRouter:
        router = APIRouter(prefix="/_emulator/files", tags=["files"])
        root = self.root

        @router.get("")
        async def list_files() -> dict[str, list[str]]:
            """Every file under the SFTP root, by folder."""
            listing: dict[str, list[str]] = {}
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    folder = str(path.parent.relative_to(root))
                    listing.setdefault(folder, []).append(path.name)
            return listing

        @router.get("/server")
        async def server() -> dict[str, Any]:
            """Where the SFTP server listens and the known_hosts line that trusts it."""
            return {
                "port": self.port,
                "user": self.user,
                "knownHosts": self.known_hosts_line() if self.port else None,
            }

        @router.post("/faults")
        async def arm_fault(body: FaultBody) -> dict[str, Any]:
            if body.kind == "late":
                self.files.hold_intake(body.seconds, self._loop_time())
            else:
                self.files.faults.arm(body.kind, body.message, body.count)
            armed = {
                f"{kind} {message or 'any'}": n
                for (kind, message), n in self.files.faults.armed.items()
            }
            return {"armed": armed, "hit": self.files.faults.hit}

        @router.post("/refuse-logins")
        async def refuse_logins(body: SwitchBody) -> dict[str, bool]:
            self.refuse_logins = body.on
            return {"refuseLogins": self.refuse_logins}

        @router.post("/stock-report")
        async def full_stock_report() -> dict[str, int]:
            """Write a full stock snapshot now."""
            return {"written": self.files.publish(full_stock=True)}

        @router.get("/state")
        async def read_state() -> dict[str, Any]:
            return snapshot(self.state)

        return router


class FaultBody(BaseModel):
    kind: str = Field(description=f"one of {', '.join(FAULT_KINDS)}")
    count: int = Field(1, ge=1, description="how many of the next files it hits")
    message: str | None = Field(
        None,
        description="only files of this type (dispatches, receipts, returns, stock, "
        "cancel_results); null = the next files of any type",
    )
    seconds: float = Field(5.0, gt=0, description="for 'late': how long intake waits")

    def model_post_init(self, _: Any) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; choose from {FAULT_KINDS}")


class SwitchBody(BaseModel):
    on: bool


async def _ongoing_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OngoingApiError)
    return JSONResponse({"message": exc.message}, status_code=exc.status_code)
