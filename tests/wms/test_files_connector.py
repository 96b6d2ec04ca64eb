"""The file-exchange connector's own behaviour over real SFTP, beyond the shared contract:
idempotent files, unreadable files parked with file, line and field, the emulator's
faults, host-key checking, login failures and ``centrasync check``'s probe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from centrasync.config import parse_settings
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.files import FilesWmsEmulator
from centrasync.errors import AuthenticationError, ConfigError
from centrasync.ops.check import Outcome, check_wms
from centrasync.testing import OngoingOperator, PickLine
from centrasync.testing.files import running_files_emulator
from centrasync.wms.files import FilesWarehouse, SftpLogin
from centrasync.wms.models import Address, Article, CancelOutcome, OutboundOrder, OutboundOrderLine

SHIP_TO = Address("Åsa Öberg", "Storgatan 1", "11122", "Stockholm", "SE")


def order(number: str, sku: str = "SKU-1", quantity: int = 2) -> OutboundOrder:
    return OutboundOrder(number, SHIP_TO, (OutboundOrderLine("L1", sku, Decimal(quantity)),))


@asynccontextmanager
async def rig(
    tmp_path: Path, **options: object
) -> AsyncIterator[tuple[FilesWmsEmulator, FilesWarehouse, OngoingOperator]]:
    async with running_files_emulator(tmp_path, **options) as (emulator, login):
        warehouse = FilesWarehouse(login, poll_interval=0.01, answer_timeout=5.0)
        operator = OngoingOperator("http://files.test", transport=EmulatorTransport(emulator.app))
        async with warehouse, operator:
            yield emulator, warehouse, operator


def files_in(emulator: FilesWmsEmulator, folder: str) -> list[str]:
    path = emulator.root / folder
    return sorted(p.name for p in path.iterdir() if p.is_file()) if path.exists() else []


async def test_an_order_is_one_file_written_once_even_after_the_warehouse_took_it(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as (emulator, warehouse, _):
        await warehouse.upsert_articles([Article("SKU-1", "Shirt")])
        await warehouse.upsert_outbound_order(order("100-1"))
        await warehouse.upsert_outbound_order(order("100-1"))
        (name,) = files_in(emulator, "in/orders/processed")
        assert name.startswith("DO_100-1_") and name.endswith(".csv")
        assert "Åsa Öberg" in (emulator.root / "in/orders/processed" / name).read_text("utf-8")

        # Another process without this one's memory, and without the state document: the
        # file in the warehouse's processed folder is enough to know it was delivered.
        (emulator.root / "centrasync-state/orders/100-1.json").unlink()
        async with FilesWarehouse(warehouse.sftp._login) as other:
            await other.upsert_outbound_order(order("100-1"))
        assert files_in(emulator, "in/orders/processed") == [name]
        assert files_in(emulator, "in/orders") == []

        # Changed content is a new file: the warehouse replaces the open order.
        await warehouse.upsert_outbound_order(order("100-1", quantity=3))
        assert len(files_in(emulator, "in/orders/processed")) == 2
        assert emulator.state.order_by_number("100-1").lines[0].ordered == 3


async def test_an_unreadable_confirmation_is_parked_naming_file_line_and_field(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as (emulator, warehouse, operator):
        await warehouse.upsert_articles([Article("SKU-1", "Shirt")])
        await warehouse.upsert_outbound_order(order("101-1"))
        await operator.allocate("101-1")
        await operator.pick("101-1")
        bad = (
            "GoodsOwnerOrderNumber;Status;ExternalOrderLineCode;ArticleNumber;PickedNumberOfItems\r\n"
            "102-1;PICKED;L1;SKU-1;1\r\n"
            "102-1;PICKED;L2;SKU-1;two\r\n"
        )
        (emulator.root / "out/dispatches/DC_102-1_bad.csv").write_text(bad, encoding="utf-8")

        listing = await warehouse.list_shipped_unreported()

        assert [o.order_number for o in listing] == ["101-1"]
        (unreadable,) = listing.rejected
        assert unreadable.number == "102-1"
        message = str(unreadable.error)
        assert "DC_102-1_bad.csv" in message and "line 3" in message
        assert "PickedNumberOfItems" in message and "'two' is not a number" in message
        assert files_in(emulator, "error/dispatches") == [
            "DC_102-1_bad.csv",
            "DC_102-1_bad.csv.reason.txt",
        ]
        reason = (emulator.root / "error/dispatches/DC_102-1_bad.csv.reason.txt").read_text()
        assert "line 3" in reason
        # Read once: parked, then gone from the out-folder; the good one is archived.
        assert files_in(emulator, "out/dispatches") == []
        assert len(files_in(emulator, "archive/dispatches")) == 1
        assert (await warehouse.list_shipped_unreported()).rejected == ()


async def test_a_duplicated_confirmation_counts_once(tmp_path: Path) -> None:
    async with rig(tmp_path) as (emulator, warehouse, operator):
        await warehouse.upsert_articles([Article("SKU-1", "Shirt")])
        await warehouse.upsert_outbound_order(order("103-1", quantity=3))
        await operator.allocate("103-1")
        await emulator_fault(operator, "duplicate")
        await operator.pick("103-1", [PickLine("SKU-1", Decimal(2), ("SN-1", "SN-2"))])
        assert len(files_in(emulator, "out/dispatches")) == 2

        (shipped,) = await warehouse.list_shipped_unreported()
        (line,) = shipped.lines
        assert (line.picked, line.serial_numbers) == (Decimal(2), ("SN-1", "SN-2"))
        await warehouse.mark_lines_reported(shipped, {"L1": Decimal(2)})
        assert len(await warehouse.list_shipped_unreported()) == 0


async def test_a_partial_upload_is_never_read(tmp_path: Path) -> None:
    async with rig(tmp_path) as (emulator, warehouse, operator):
        await warehouse.upsert_articles([Article("SKU-1", "Shirt")])
        await warehouse.upsert_outbound_order(order("104-1"))
        await emulator_fault(operator, "partial")
        await operator.allocate("104-1")
        await operator.pick("104-1")
        (part,) = [n for n in files_in(emulator, "out/dispatches") if n.endswith(".part")]

        listing = await warehouse.list_shipped_unreported()

        assert [o.order_number for o in listing] == ["104-1"] and listing.rejected == ()
        assert files_in(emulator, "out/dispatches") == [part]


async def test_a_file_in_the_wrong_encoding_is_parked_and_the_next_one_read(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as (_, warehouse, operator):
        await warehouse.upsert_articles([Article("TRÖJA-1", "Tröja"), Article("SKU-2", "Cap")])
        await warehouse.upsert_outbound_order(order("105-1", sku="TRÖJA-1"))
        await warehouse.upsert_outbound_order(order("106-1", sku="SKU-2"))
        for number in ("105-1", "106-1"):
            await operator.allocate(number)
        await emulator_fault(operator, "wrong_encoding")
        await operator.pick("105-1")
        await operator.pick("106-1")

        listing = await warehouse.list_shipped_unreported()

        assert [o.order_number for o in listing] == ["106-1"]
        (unreadable,) = listing.rejected
        assert "not valid utf-8" in str(unreadable.error)


async def test_a_late_answer_to_a_cancellation_is_waited_for(tmp_path: Path) -> None:
    async with rig(tmp_path) as (_, warehouse, operator):
        await warehouse.upsert_articles([Article("SKU-1", "Shirt")])
        await warehouse.upsert_outbound_order(order("107-1"))
        await emulator_fault(operator, "late", seconds=0.5)
        began = asyncio.get_running_loop().time()
        assert await warehouse.cancel_outbound_order("107-1") is CancelOutcome.CANCELLED
        assert asyncio.get_running_loop().time() - began >= 0.4
        assert await warehouse.cancel_outbound_order("107-1") is CancelOutcome.CANCELLED


async def test_full_stock_snapshots_replace_and_deltas_add(tmp_path: Path) -> None:
    async with rig(tmp_path, stock_reports="full") as (emulator, warehouse, operator):
        await warehouse.upsert_articles([Article("SKU-1", "Shirt"), Article("SKU-2", "Cap")])
        await operator.count_stock("SKU-1", Decimal(7))
        levels = {level.sku: level.on_hand for level in await warehouse.read_stock()}
        assert levels == {"SKU-1": Decimal(7), "SKU-2": Decimal(0)}
        stock_files = files_in(emulator, "archive/stock")
        assert stock_files and all(
            ";FULL;" in (emulator.root / "archive/stock" / name).read_text() for name in stock_files
        )


async def test_host_key_checking_refuses_an_unknown_server(tmp_path: Path) -> None:
    async with running_files_emulator(tmp_path) as (emulator, login):
        stranger = FilesWmsEmulator(tmp_path / "other")
        other_key = stranger.host_key.export_public_key("openssh").decode().split()
        known_hosts = tmp_path / "pinned"
        known_hosts.write_text(f"[127.0.0.1]:{emulator.port} {other_key[0]} {other_key[1]}\n")
        pinned = SftpLogin(
            login.host, login.port, login.user, login.password, None, str(known_hosts)
        )
        async with FilesWarehouse(pinned) as warehouse:
            with pytest.raises(ConfigError, match="host key"):
                await warehouse.read_stock()
        missing = SftpLogin(login.host, login.port, login.user, login.password, None, "/nowhere")
        async with FilesWarehouse(missing) as warehouse:
            with pytest.raises(ConfigError, match="known_hosts file /nowhere not found"):
                await warehouse.read_stock()
        # Switched off explicitly, it logs in.
        unchecked = SftpLogin(login.host, login.port, login.user, login.password, None, None)
        async with FilesWarehouse(unchecked) as warehouse:
            assert await warehouse.read_stock() == []


async def test_a_wrong_password_is_an_authentication_error(tmp_path: Path) -> None:
    async with running_files_emulator(tmp_path) as (_, login):
        wrong = SftpLogin(login.host, login.port, login.user, "nope", None, login.known_hosts)
        async with FilesWarehouse(wrong) as warehouse:
            with pytest.raises(AuthenticationError, match="login refused"):
                await warehouse.find_outbound_order("1-1")


def store(login: SftpLogin, **wms: object) -> object:
    document = {
        "stores": {
            "se": {
                "centra": {"host": "http://c.test", "uri": "wms", "timezone": "UTC"},
                "wms": {
                    "kind": "files",
                    "host": login.host,
                    "port": login.port,
                    "user": login.user,
                    "known_hosts": login.known_hosts,
                    **wms,
                },
            }
        }
    }
    env = {"CENTRASYNC_SE_CENTRA_SECRET": "x", "CENTRASYNC_SE_WMS_PASSWORD": login.password or ""}
    return parse_settings(document, env).store("se")


async def test_check_logs_in_finds_the_folders_and_writes(tmp_path: Path) -> None:
    async with running_files_emulator(tmp_path) as (emulator, login):
        result = await check_wms(store(login))  # type: ignore[arg-type]
        assert result.outcome is Outcome.OK, result.detail
        assert "logged in" in result.detail and "writable" in result.detail
        assert not any(".centrasync-check" in n for n in files_in(emulator, "in/orders"))

        missing = await check_wms(store(login, folders={"orders": "in/nowhere"}))  # type: ignore[arg-type]
        assert missing.outcome is Outcome.FAIL and "in/nowhere" in missing.detail

        emulator.password = "changed"
        refused = await check_wms(store(login))  # type: ignore[arg-type]
        assert refused.outcome is Outcome.FAIL and "authentication failed" in refused.detail
        assert "secret" not in refused.detail


async def emulator_fault(
    operator: OngoingOperator, kind: str, seconds: float = 5.0, message: str | None = "dispatches"
) -> None:
    body = {"kind": kind, "seconds": seconds, "message": message}
    await operator._post("/_emulator/files/faults", body)


async def test_key_login(tmp_path: Path) -> None:
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "id_ed25519"
    key.write_private_key(str(key_file))
    public = key.export_public_key("openssh").decode().strip()
    async with running_files_emulator(tmp_path, authorized_keys=[public]) as (emulator, login):
        emulator.password = "no password login today"
        by_key = SftpLogin(
            login.host, login.port, login.user, None, str(key_file), login.known_hosts
        )
        async with FilesWarehouse(by_key) as warehouse:
            assert await warehouse.find_outbound_order("1-1") is None
