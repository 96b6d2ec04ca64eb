"""The connector against the Ongoing emulator: the issue's acceptance check, faults, auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from centrasync.emulators.faults import EmulatorTransport, FaultKind, FaultRule
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.errors import (
    AuthenticationError,
    MalformedResponseError,
    NetworkError,
    RemoteRefusedError,
)
from centrasync.http import RetryPolicy
from centrasync.wms import Address, Article, OutboundOrder, OutboundOrderLine
from centrasync.wms.ongoing import OngoingWarehouse

API = "http://ongoing.test/demo/api/v1/"


@pytest.fixture
def emulator() -> OngoingEmulator:
    return OngoingEmulator(warehouse="demo", user="centrasync", password="secret")


@pytest.fixture
async def warehouse(emulator: OngoingEmulator) -> AsyncIterator[OngoingWarehouse]:
    async with OngoingWarehouse(
        API,
        "centrasync",
        "secret",
        emulator.state.goods_owner_id,
        transport=EmulatorTransport(emulator.app),
        retry=RetryPolicy(max_attempts=1),
    ) as connector:
        yield connector


def retrying(emulator: OngoingEmulator, slept: list[float]) -> OngoingWarehouse:
    """A connector that tries each call up to four times, noting the waits in ``slept``."""

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return OngoingWarehouse(
        API,
        "centrasync",
        "secret",
        emulator.state.goods_owner_id,
        transport=EmulatorTransport(emulator.app),
        retry=RetryPolicy(max_attempts=4),
        sleep=sleep,
    )


@pytest.fixture
async def control(emulator: OngoingEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url="http://ongoing.test", transport=EmulatorTransport(emulator.app)
    ) as client:
        yield client


def order(number: str) -> OutboundOrder:
    return OutboundOrder(
        order_number=number,
        ship_to=Address("Ada Lovelace", "Storgatan 1", "11122", "Stockholm", "SE"),
        lines=(
            OutboundOrderLine("line-1", "SHIRT-M", Decimal(2)),
            OutboundOrderLine("line-2", "CAP", Decimal(1)),
        ),
        reference=number.split("-")[0],
        carrier="PLAB",
        service="P18",
    )


async def test_shipped_order_is_reported_with_tracking_once(
    warehouse: OngoingWarehouse, control: httpx.AsyncClient
) -> None:
    """The issue's check: PUT, pick and ship by hand, report once, never again once marked."""
    await warehouse.upsert_articles([Article("SHIRT-M", "Shirt M"), Article("CAP", "Cap")])
    for sku in ("SHIRT-M", "CAP"):
        adjusted = await control.post(
            "/_emulator/stock/adjust", json={"article_number": sku, "number_of_items": 5}
        )
        assert adjusted.status_code == 200
    ref = await warehouse.upsert_outbound_order(order("83651-1"))

    assert (await control.post("/_emulator/orders/83651-1/allocate")).status_code == 200
    picked = await control.post(
        "/_emulator/orders/83651-1/pick",
        json={
            "lines": [
                {"article_number": "SHIRT-M", "quantity": 2, "serial_numbers": ["SN1", "SN2"]},
                {"article_number": "CAP", "quantity": 1, "serial_numbers": []},
            ]
        },
    )
    assert picked.status_code == 200
    shipped = await control.post(
        "/_emulator/orders/83651-1/ship",
        json={
            "parcels": [
                {
                    "tracking_number": "00370712345678901234",
                    "tracking_url": "https://tracking.postnord.com/?id=00370712345678901234",
                    "parcel_number": "P-1",
                    "weight": 1.2,
                }
            ],
            "transporter_code": "PLAB",
            "service_code": "P18",
        },
    )
    assert shipped.status_code == 200

    (report,) = await warehouse.list_shipped_unreported()
    assert (report.order_number, report.wms_id) == ("83651-1", ref.wms_id)
    assert report.tracking_numbers == ("00370712345678901234",)
    assert report.parcels[0].tracking_url == (
        "https://tracking.postnord.com/?id=00370712345678901234"
    )
    lines = {line.line_key: line for line in report.lines}
    assert lines["line-1"].unreported == Decimal(2)
    assert sorted(lines["line-1"].serial_numbers) == ["SN1", "SN2"]

    assert (await warehouse.list_shipped_unreported()).items  # still there until marked
    await warehouse.mark_lines_reported(report, {key: line.picked for key, line in lines.items()})
    assert (await warehouse.list_shipped_unreported()).items == ()


async def test_refused_update_after_picking_is_a_remote_refusal(
    warehouse: OngoingWarehouse, control: httpx.AsyncClient
) -> None:
    await warehouse.upsert_articles([Article("SHIRT-M", "Shirt M"), Article("CAP", "Cap")])
    await warehouse.upsert_outbound_order(order("900-1"))
    await control.post("/_emulator/orders/900-1/allocate")
    with pytest.raises(RemoteRefusedError) as caught:
        await warehouse.upsert_outbound_order(order("900-1"))
    assert caught.value.remote_message and "900-1" in caught.value.remote_message


async def test_wrong_password_is_an_authentication_error(emulator: OngoingEmulator) -> None:
    async with OngoingWarehouse(
        API, "centrasync", "wrong", 1, transport=EmulatorTransport(emulator.app)
    ) as connector:
        with pytest.raises(AuthenticationError):
            await connector.read_stock()


async def test_injected_server_errors_are_retried(
    emulator: OngoingEmulator, control: httpx.AsyncClient
) -> None:
    rule = FaultRule(kind=FaultKind.SERVER_ERROR, path="/demo/api/v1/articles", times=2)
    await control.post("/_emulator/faults", json=rule.model_dump())
    slept: list[float] = []
    async with retrying(emulator, slept) as connector:
        result = await connector.upsert_articles([Article("A", "a")])
    assert result.upserted == ("A",)
    assert len(slept) == 2


@pytest.mark.parametrize("kind", [FaultKind.MALFORMED, FaultKind.TRUNCATED])
async def test_a_garbled_answer_to_a_read_is_read_again(
    emulator: OngoingEmulator, control: httpx.AsyncClient, kind: FaultKind
) -> None:
    slept: list[float] = []
    async with retrying(emulator, slept) as connector:
        await connector.upsert_articles([Article("SHIRT-M", "Shirt M"), Article("CAP", "Cap")])
        ref = await connector.upsert_outbound_order(order("901-1"))
        rule = FaultRule(kind=kind, method="GET", path="/demo/api/v1/orders", times=2)
        await control.post("/_emulator/faults", json=rule.model_dump())
        assert await connector.find_outbound_order("901-1") == ref
    assert emulator.plan.injected == {kind.value: 2}
    assert len(slept) == 2


@pytest.mark.parametrize(
    ("kind", "error"),
    [(FaultKind.DROP, NetworkError), (FaultKind.MALFORMED, MalformedResponseError)],
)
async def test_injected_faults_surface_as_our_errors(
    warehouse: OngoingWarehouse,
    control: httpx.AsyncClient,
    kind: FaultKind,
    error: type[Exception],
) -> None:
    rule = FaultRule(kind=kind, path="/demo/api/v1/orders")
    await control.post("/_emulator/faults", json=rule.model_dump())
    with pytest.raises(error):
        await warehouse.list_shipped_unreported()
