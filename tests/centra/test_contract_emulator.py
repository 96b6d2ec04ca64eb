"""The Order API client against the Centra emulator: every endpoint, faults included.

The emulator serves the documented wire format, so these tests pin the client and the
emulator to the same reading of centra-api.md. Nothing sleeps: the client's retry loop
waits through an injected recorder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from centrasync.centra import StockUpdate, parse_webhook, verify_signature
from centrasync.centra.client import OrderApiClient
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.errors import (
    AuthenticationError,
    CaptureDeclinedError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RemoteRefusedError,
    ServerError,
)
from centrasync.http import RetryPolicy

NOW = datetime(2025, 5, 20, 10, 0, tzinfo=UTC)
SECRET = "s3cret"
BASE = "http://centra.test"


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
async def emu() -> AsyncIterator[CentraEmulator]:
    emulator = CentraEmulator(seed="demo", clock=lambda: NOW, fault_seed=1)
    yield emulator
    await emulator.aclose()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(emu: CentraEmulator, sleeps: Sleeps) -> AsyncIterator[OrderApiClient]:
    async with OrderApiClient(
        f"{BASE}/api/wms",
        SECRET,
        "Europe/Stockholm",
        transport=EmulatorTransport(emu.app),
        retry=RetryPolicy(max_attempts=4, base_delay=0.01),
        sleep=sleeps,
    ) as api:
        yield api


@pytest.fixture
async def control(emu: CentraEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=EmulatorTransport(emu.app), base_url=BASE) as http:
        yield http


async def add_fault(control: httpx.AsyncClient, **rule: Any) -> None:
    response = await control.post("/_emulator/faults", json=rule)
    assert response.status_code == 200, response.text


async def emulator_shipment(control: httpx.AsyncClient, number: str) -> dict[str, Any]:
    response = await control.get(f"/_emulator/shipments/{number}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def marked(emu: CentraEmulator, key: str) -> dict[str, Any]:
    value: dict[str, Any] = emu.seed_summary[key]
    return value


# -- shipments ------------------------------------------------------------------------


async def test_good_to_go_shipments_oldest_first_on_every_call(client: OrderApiClient) -> None:
    first = await client.list_shipments()
    again = await client.list_shipments()
    assert first.rejected == () and len(first) > 0
    assert [s.shipment_id for s in first] == [s.shipment_id for s in again]
    dates = [s.shipment_date or s.order_date for s in first]
    assert all(d is not None and d.tzinfo is UTC for d in dates)
    assert all(s.gtg for s in first)
    line = first.items[0].products[0]
    assert line.line_id and line.qty and line.physical_sku and line.ean


async def test_shipment_filters_are_understood(client: OrderApiClient) -> None:
    everything = await client.list_shipments()
    one = everything.items[3]
    only = await client.list_shipments(order=one.order_id)
    assert [s.shipment_id for s in only] == [one.shipment_id]
    newest = await client.list_shipments(newer_than=NOW - timedelta(days=3))
    assert 0 < len(newest) < len(everything)
    assert (await client.list_shipments("completed", limit=10)).items == ()


async def test_end_to_end_capture_and_complete(
    client: OrderApiClient, control: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    declined = marked(emu, "capture_declines")["shipment"]
    target = next(s for s in await client.list_shipments() if s.shipment_id != declined)

    captured = await client.capture_shipment(target.shipment_id)
    assert captured.shipment == target.shipment_id
    done = await client.complete_shipment(
        target.order_id,
        target.shipment_id,
        carrier="PostNord",
        service="MyPack",
        packages=1,
        tracking="TRK123",
        return_slip_tracking="RET456",
        send_email=False,
    )
    assert (done.order, done.shipment) == (target.order_id, target.shipment_id)

    state = await emulator_shipment(control, target.shipment_id)
    assert state["shipped"] is True and state["captured"] is True
    assert (state["carrier"], state["tracking"], state["packages"]) == ("PostNord", "TRK123", 1)
    assert target.shipment_id not in {s.shipment_id for s in await client.list_shipments()}
    (completed,) = [
        s
        for s in await client.list_shipments("completed", limit=100)
        if s.shipment_id == target.shipment_id
    ]
    assert completed.tracking_number == "TRK123"
    order = await client.get_order(target.order_id)
    summary = next(s for s in order.shipments if s.shipment_id == target.shipment_id)
    assert summary.shipped_date == NOW and summary.tracking_id == "TRK123"

    with pytest.raises(RemoteRefusedError):
        await client.complete_shipment(target.order_id, target.shipment_id, tracking="again")


async def test_declined_capture_is_capture_declined(
    client: OrderApiClient, control: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    declined = marked(emu, "capture_declines")
    with pytest.raises(CaptureDeclinedError) as caught:
        await client.capture_shipment(declined["shipment"])
    assert caught.value.endpoint == "PUT /capture"
    with pytest.raises(CaptureDeclinedError):
        await client.complete_shipment(declined["order"], declined["shipment"], tracking="T")
    state = await emulator_shipment(control, declined["shipment"])
    assert state["shipped"] is False and state["captured"] is False


async def test_short_pick_update_then_follow_up_shipment_then_delete(
    client: OrderApiClient, emu: CentraEmulator
) -> None:
    short = marked(emu, "short_pick")
    line = str(short["lineId"])
    updated = await client.update_shipment(short["shipment"], quantities={line: short["pick"]})
    assert next(p for p in updated.products if p.line_id == line).qty == short["pick"]

    rest = short["ordered"] - short["pick"]
    created = await client.create_shipment(short["order"], {line: rest}, gtg=True, capture=False)
    assert created.shipment.startswith(f"{short['order']}-") and created.delivery_note
    (follow_up,) = await client.list_shipments(order=short["order"], newer_than=NOW - timedelta(1))
    assert follow_up.shipment_id == created.shipment

    removed = await client.delete_shipment(created.shipment)
    assert removed.shipment == created.shipment
    with pytest.raises(RemoteRefusedError):
        await client.delete_shipment(created.shipment)


# -- orders ---------------------------------------------------------------------------


async def test_orders_list_and_get(client: OrderApiClient) -> None:
    page = await client.list_orders(limit=100)
    assert page.rejected == () and len(page) > 20
    first = page.items[0]
    fetched = await client.get_order(first.order_id)
    assert fetched.order_id == first.order_id and fetched.products
    assert fetched.order_date is not None and fetched.order_date.tzinfo is UTC
    assert len(await client.list_orders()) == 20  # Centra's default limit
    with pytest.raises(NotFoundError):
        await client.get_order(999_999)


# -- catalogue ------------------------------------------------------------------------


async def test_products_and_stock_page_through_next(
    client: OrderApiClient, emu: CentraEmulator
) -> None:
    pages = [page async for page in client.iter_products(limit=500)]
    rows = [row for page in pages for row in page]
    assert len(pages) == 4 and pages[-1].next is None
    assert len(rows) == len({r.stock_item_id for r in rows}) == emu.seed_summary["sizes"]
    assert all(page.rejected == () for page in pages)
    stock = [row async for page in client.iter_stock(limit=1000) for row in page]
    assert len(stock) == len(rows)
    assert all(
        r.physical_stock == (r.allocated_stock or 0) + (r.available_stock or 0) for r in stock
    )


async def test_stock_update_writes_primary_and_reports_unknown_and_bundles(
    client: OrderApiClient, control: httpx.AsyncClient
) -> None:
    rows = [row async for page in client.iter_stock(limit=2000) for row in page]
    plain = next(r for r in rows if r.ean and r.product != "Weekend Bundle" and r.size)
    bundle = next(r for r in rows if r.sku == "BND2001")
    result = await client.update_stock(
        [
            StockUpdate(plain.ean, (plain.allocated_stock or 0) + 40),
            StockUpdate("0000000000000", 5),
            StockUpdate(bundle.ean, 5),
        ],
        batch_size=2,
    )
    assert result.batches == 2
    assert result.products_not_found == ("0000000000000",)
    assert result.products_are_bundles == (bundle.ean,)
    (after,) = [r async for page in client.iter_stock(ean=plain.ean) for r in page]
    assert after.physical_stock == (plain.allocated_stock or 0) + 40


# -- returns --------------------------------------------------------------------------


async def test_return_on_a_completed_shipment_lists_newest_first(
    client: OrderApiClient, emu: CentraEmulator
) -> None:
    declined = marked(emu, "capture_declines")["shipment"]
    targets = [s for s in await client.list_shipments() if s.shipment_id != declined][:2]
    for shipment in targets:
        await client.complete_shipment(shipment.order_id, shipment.shipment_id, tracking="T")
    created = []
    for shipment in targets:
        line = shipment.products[0]
        created.append(
            await client.create_return(
                shipment.shipment_id, {line.line_id: 1}, return_stock=True, comment="too big"
            )
        )
        assert created[-1].returned_items
    listed = await client.list_returns(limit=10, page=1)
    assert [r.return_id for r in listed][:2] == [created[1].return_id, created[0].return_id]
    mine = await client.list_returns(shipment=targets[0].shipment_id)
    assert [r.return_id for r in mine] == [created[0].return_id]
    assert mine.items[0].products[0].order_line_id == targets[0].products[0].line_id


# -- supplier orders and deliveries ---------------------------------------------------


async def test_supplier_orders_and_delivery_acceptance(
    client: OrderApiClient, emu: CentraEmulator
) -> None:
    ref = marked(emu, "supplier_delivery")
    (order,) = await client.list_supplier_orders()
    full = await client.get_supplier_order(order.order_id)
    assert full.products and full.eta is not None
    (listed,) = await client.list_supplier_deliveries()
    by_id = await client.get_supplier_delivery(ref["id"])
    by_number = await client.get_supplier_delivery(ref["deliveryId"])
    assert listed.id == by_id.id == by_number.id == str(ref["id"])
    detailed = await client.get_supplier_delivery(ref["id"], details=True)
    assert detailed.products

    received = {line.ean: (line.quantity or 0) for line in detailed.products}
    short_ean = next(iter(received))
    received[short_ean] -= 4
    accepted = await client.accept_supplier_delivery(ref["id"], received)
    assert accepted.additional_delivery is not None
    (remainder,) = accepted.additional_delivery.products
    assert (remainder.ean, remainder.quantity) == (short_ean, 4)
    with pytest.raises(RemoteRefusedError):
        await client.accept_supplier_delivery(ref["id"], received)

    extra = accepted.additional_delivery
    by_sku = {line.physical_sku: line.quantity or 0 for line in extra.products}
    done = await client.accept_supplier_delivery(extra.id, by_sku, by="sku")
    assert done.additional_delivery is None


# -- auth and permissions -------------------------------------------------------------


async def test_wrong_secret_is_authentication_error(emu: CentraEmulator) -> None:
    async with OrderApiClient(
        f"{BASE}/api/wms", "wrong-secret", "Europe/Stockholm", transport=EmulatorTransport(emu.app)
    ) as bad:
        with pytest.raises(AuthenticationError) as caught:
            await bad.list_shipments()
    assert "wrong-secret" not in str(caught.value)


async def test_endpoint_outside_allow_list_is_permission_denied(
    client: OrderApiClient, control: httpx.AsyncClient
) -> None:
    response = await control.put(
        "/_emulator/stores/wms/allowed-endpoints", json={"endpoints": ["shipments"]}
    )
    assert response.status_code == 200
    await client.list_shipments()
    with pytest.raises(PermissionDeniedError, match="GET /returns"):
        await client.list_returns()


# -- faults ---------------------------------------------------------------------------


async def test_429_waits_for_retry_after_through_the_injected_sleep(
    client: OrderApiClient, control: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    await add_fault(control, kind="rate_limit", path="/api/wms/shipments", times=1, retry_after="3")
    assert len(await client.list_shipments()) > 0
    assert sleeps.calls == [3.0]


async def test_5xx_is_retried_for_reads(
    client: OrderApiClient, control: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    await add_fault(control, kind="server_error", method="GET", path="/api/wms/orders", times=2)
    assert len(await client.list_orders()) == 20
    assert len(sleeps.calls) == 2


async def test_5xx_on_complete_is_not_retried(
    client: OrderApiClient, control: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    target = (await client.list_shipments()).items[0]
    await add_fault(control, kind="server_error", method="PUT", path="/api/wms/shipment", times=5)
    with pytest.raises(ServerError):
        await client.complete_shipment(target.order_id, target.shipment_id, tracking="T")
    assert emu.plan.injected == {"server_error": 1}


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
async def test_a_garbled_answer_to_a_read_is_read_again(
    client: OrderApiClient,
    control: httpx.AsyncClient,
    emu: CentraEmulator,
    sleeps: Sleeps,
    kind: str,
) -> None:
    await add_fault(control, kind=kind, method="GET", path="/api/wms/orders", times=2)
    assert len(await client.list_orders()) == 20
    assert emu.plan.injected == {kind: 2}
    assert len(sleeps.calls) == 2


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
async def test_bad_bodies_name_the_endpoint(
    client: OrderApiClient, control: httpx.AsyncClient, emu: CentraEmulator, kind: str
) -> None:
    """Garbled on every read: given up after the policy's four attempts."""
    await add_fault(control, kind=kind, path="/api/wms/returns")
    with pytest.raises(MalformedResponseError) as caught:
        await client.list_returns()
    assert caught.value.endpoint == "GET /returns"
    assert "GET /returns" in str(caught.value)
    assert emu.plan.injected == {kind: 4}


async def test_a_garbled_answer_to_a_write_is_not_sent_again(
    client: OrderApiClient, control: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    target = (await client.list_shipments()).items[0]
    await add_fault(control, kind="malformed", method="PUT", path="/api/wms/shipment", times=5)
    with pytest.raises(MalformedResponseError):
        await client.complete_shipment(target.order_id, target.shipment_id, tracking="T")
    assert emu.plan.injected == {"malformed": 1}


async def test_dropped_connection_retries_reads_but_not_captures(
    client: OrderApiClient, control: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    await add_fault(control, kind="drop", method="GET", path="/api/wms/shipments", times=1)
    target = (await client.list_shipments()).items[0]
    await add_fault(control, kind="drop", method="PUT", path="/api/wms/capture", times=3)
    with pytest.raises(NetworkError):
        await client.capture_shipment(target.shipment_id)
    assert emu.plan.injected == {"drop": 2}


# -- webhooks -------------------------------------------------------------------------


async def test_emulator_webhooks_verify_and_parse() -> None:
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, json={})

    emulator = CentraEmulator(
        seed="demo", clock=lambda: NOW, webhook_transport=httpx.MockTransport(receiver)
    )
    try:
        async with (
            httpx.AsyncClient(transport=EmulatorTransport(emulator.app), base_url=BASE) as ctl,
            OrderApiClient(
                f"{BASE}/api/wms",
                SECRET,
                "Europe/Stockholm",
                transport=EmulatorTransport(emulator.app),
            ) as api,
        ):
            settings = {"url": "http://receiver.test/hook", "secret": "whsec"}
            assert (await ctl.put("/_emulator/webhook", json=settings)).status_code == 200
            target = (await api.list_shipments()).items[0]
            await api.update_shipment(target.shipment_id, gtg=True)
            await api.capture_shipment(target.shipment_id)
            await ctl.post("/_emulator/webhook/drain")
    finally:
        await emulator.aclose()
    assert received
    events = []
    for request in received:
        header = request.headers.get("X-Centra-Signature")
        t = int(header.split(",")[0].removeprefix("t=")) if header else 0
        verify_signature(request.content, header, "whsec", now=t)
        events.extend(parse_webhook(request.content, "Europe/Stockholm"))
    assert any(e.type in ("order", "shipment") for e in events)
    # The emulator's clock is fixed, so every event date read in the merchant zone is NOW.
    assert {e.date for e in events} == {NOW}
