"""Bindings of the warehouse contract to the file-exchange WMS emulator.

:func:`files_harness` starts a fresh emulator's SFTP server on a free local port with a
generated host key, writes a ``known_hosts`` that trusts it (host-key checking stays on),
and binds a :class:`~centrasync.wms.files.FilesWarehouse` and an operator to it. The
operator is :class:`~centrasync.testing.OngoingOperator`: the emulator serves the same
warehouse-operator control API as the Ongoing emulator.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.files import FilesWmsEmulator
from centrasync.wms.files import Codec, FilesWarehouse, SftpLogin

from .ongoing import OngoingOperator
from .warehouse_contract import WarehouseHarness

__all__ = ["files_harness", "running_files_emulator"]


@asynccontextmanager
async def running_files_emulator(
    root: Path, *, codec: Codec | None = None, **options: object
) -> AsyncIterator[tuple[FilesWmsEmulator, SftpLogin]]:
    """A files emulator serving SFTP over ``root`` and the login that trusts its host key."""
    emulator = FilesWmsEmulator(root / "sftp", codec=codec, **options)  # type: ignore[arg-type]
    async with emulator.running():
        known_hosts = root / "known_hosts"
        known_hosts.write_text(emulator.known_hosts_line(), encoding="utf-8")
        login = SftpLogin(
            "127.0.0.1",
            emulator.port or 0,
            emulator.user,
            password=emulator.password,
            known_hosts=str(known_hosts),
        )
        yield emulator, login


@asynccontextmanager
async def files_harness(
    page_size: int = 3, *, codec: Codec | None = None
) -> AsyncIterator[WarehouseHarness]:
    """A fresh emulator on a free port with a connector and an operator; tiny pages."""
    with tempfile.TemporaryDirectory(prefix="files-wms-") as folder:
        async with running_files_emulator(Path(folder), codec=codec) as (emulator, login):
            warehouse = FilesWarehouse(
                login, codec=codec, page_size=page_size, poll_interval=0.01, answer_timeout=5.0
            )
            operator = OngoingOperator(
                "http://files-wms-emulator", transport=EmulatorTransport(emulator.app)
            )
            async with warehouse, operator:
                yield WarehouseHarness(warehouse=warehouse, operator=operator, page_size=page_size)
