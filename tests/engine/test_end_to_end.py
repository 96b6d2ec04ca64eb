"""Acceptance: 200 shipments across two stores, from Good-to-Go to completed with tracking.

One Centra emulator serves both stores (its demo seed plus orders added through the
control API), each store has its own Ongoing emulator, and the engine's webhook app
receives the emulator's signed webhooks in-process. The warehouses are played step by
step and the engine is driven by ``Engine.run_once()``, so every run takes the same path
and nothing waits on a clock.

The unhappy paths ride along in the same run: a declined capture under each capture
policy, a cancellation before picking, a cancellation after picking began (and the
person's retry after stopping the parcel), and a short pick.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing.floor import AutoOperatorSettings
from centrasync.emulators.ongoing.model import OrderStatus
from centrasync.store.base import RecordKind, RecordRef
from centrasync.sync.shipments import CAPTURE_DECLINED_REASON, ShipmentState

from .helpers import SE, STORES, US, add_shipments, orderable_eans
from .shop import WMS_KINDS, Shop, open_shop

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Cast:
    """The shipments that play a special part, by shipment number."""

    declined_on_complete: str
    declined_on_import: str
    cancelled_early: str
    cancelled_too_late: str
    short_pick: str

    @property
    def not_completed(self) -> set[str]:
        return {
            self.declined_on_complete,
            self.declined_on_import,
            self.cancelled_early,
            self.cancelled_too_late,
        }


async def stage(shop: Shop, extra: dict[str, int]) -> tuple[dict[str, list[str]], Cast]:
    """Add ``extra`` shipments per store to the demo seed and mark the special ones.

    The demo seed brings a store-se shipment whose capture declines (se captures on
    completion), one to cancel and one to short-pick; the second store's capture decline
    and the late cancellation are made here from the added shipments.
    """
    summary = shop.centra.seed_summary
    shipments: dict[str, list[str]] = {store.name: [] for store in STORES}
    for shipment in shop.centra.world.shipments.values():
        uri = shop.centra.world.orders[shipment.order_number].store_uri
        store = SE if uri == SE.uri else US
        shipments[store.name].append(shipment.number)
    for store in STORES:
        eans = await orderable_eans(shop.control, store, extra[store.name])
        shipments[store.name] += await add_shipments(shop.control, store, eans)
    cast = Cast(
        declined_on_complete=summary["capture_declines"]["shipment"],
        declined_on_import=shipments[US.name][-1],
        cancelled_early=summary["to_cancel"]["shipment"],
        cancelled_too_late=shipments[US.name][-2],
        short_pick=summary["short_pick"]["shipment"],
    )
    assert {summary[k]["store"] for k in ("capture_declines", "to_cancel", "short_pick")} == {
        SE.uri
    }
    declined_order = cast.declined_on_import.split("-")[0]
    answer = await shop.control.put(
        f"/_emulator/orders/{declined_order}/capture", json={"declines": True}
    )
    assert answer.status_code == 200, answer.text
    shop.warehouses[SE.name].state.auto_operator = AutoOperatorSettings(
        None, frozenset({cast.short_pick})
    )
    return shipments, cast


async def play_the_whole_story(shop: Shop, extra: dict[str, int]) -> None:
    """Every shipment from Good-to-Go to its end, asserting each special case on the way."""
    shipments, cast = await stage(shop, extra)
    everything = {n for numbers in shipments.values() for n in numbers}
    await shop.run_pass()

    # Outbound: every shipment is in the ledger and every one the WMS should have, it has.
    for store in STORES:
        ledger = await shop.ledger(store)
        assert set(ledger) == set(shipments[store.name])
    us_ledger = await shop.ledger(US)
    assert us_ledger[cast.declined_on_import] == ShipmentState.CAPTURE_DECLINED
    in_wms = {o.number for s in STORES for o in shop.wms_orders(s)}
    assert in_wms == everything - {cast.declined_on_import}

    # Staff cancel two shipments in Centra: one the warehouse has not touched, and one
    # the warehouse has already picked.
    shop.warehouses[US.name].state.allocate(cast.cancelled_too_late)
    shop.warehouses[US.name].state.pick(cast.cancelled_too_late, None)
    await shop.cancel_in_centra(cast.cancelled_early)
    await shop.cancel_in_centra(cast.cancelled_too_late)
    await shop.run_pass()
    assert (await shop.ledger(SE))[cast.cancelled_early] == ShipmentState.CANCELLED
    assert shop.wms_order(SE, cast.cancelled_early).status == OrderStatus.CANCELLED
    await assert_parked_too_late(shop, cast.cancelled_too_late)

    # Not lost, not forgotten: another pass leaves it parked, the parcel still held.
    await shop.run_pass()
    await assert_parked_too_late(shop, cast.cancelled_too_late)

    # The person stops the parcel (back to Open in the WMS) and asks for a retry.
    await person_retries_after_stopping_the_parcel(shop, cast.cancelled_too_late)
    await shop.run_pass()
    assert (await shop.ledger(US))[cast.cancelled_too_late] == ShipmentState.CANCELLED
    assert shop.wms_order(US, cast.cancelled_too_late).status == OrderStatus.CANCELLED

    await shop.operate_until_idle()
    await shop.run_pass()
    await assert_the_end(shop, shipments, cast)


async def assert_parked_too_late(shop: Shop, shipment: str) -> None:
    assert (await shop.ledger(US))[shipment] == ShipmentState.CANCEL_TOO_LATE
    order = shop.wms_order(US, shipment)
    assert order.status == OrderStatus.PICKED
    dead = [d for d in await shop.state.list_dead(US.name) if d.record.key == shipment]
    assert len(dead) == 1
    assert "after picking began" in dead[0].reason


async def person_retries_after_stopping_the_parcel(shop: Shop, shipment: str) -> None:
    """What ``centrasync retry`` stands for: resolve the dead letter, hand the record back."""
    wms = EmulatorTransport(shop.warehouses[US.name].app)
    async with httpx.AsyncClient(transport=wms, base_url="http://wms.test") as control:
        reopened = await control.post(
            f"/_emulator/orders/{shipment}/status", json={"status": int(OrderStatus.OPEN)}
        )
    assert reopened.status_code == 200, reopened.text
    (dead,) = [d for d in await shop.state.list_dead(US.name) if d.record.key == shipment]
    assert await shop.state.resolve_dead(dead.id)
    await shop.state.transition(
        RecordRef(US.name, RecordKind.SHIPMENT, shipment),
        ShipmentState.RETRY,
        note="parcel stopped by hand; retry requested",
    )


async def assert_the_end(shop: Shop, shipments: dict[str, list[str]], cast: Cast) -> None:
    world = shop.centra.world
    everything = {n for numbers in shipments.values() for n in numbers}
    completed = everything - cast.not_completed

    # Ledger: every shipment ended where it should.
    expected_end = dict.fromkeys(completed, ShipmentState.COMPLETED) | {
        cast.declined_on_complete: ShipmentState.CAPTURE_DECLINED,
        cast.declined_on_import: ShipmentState.CAPTURE_DECLINED,
        cast.cancelled_early: ShipmentState.CANCELLED,
        cast.cancelled_too_late: ShipmentState.CANCELLED,
    }
    ledger = await shop.ledger(SE) | await shop.ledger(US)
    assert ledger == expected_end

    # WMS: exactly one order per shipment in its own store's warehouse, shipped unless
    # cancelled; the declined on-import capture never reached the warehouse.
    for store in STORES:
        numbers = Counter(o.number for o in shop.wms_orders(store))
        expected = set(shipments[store.name]) - {cast.declined_on_import}
        assert set(numbers) == expected, store.name
        assert max(numbers.values()) == 1, store.name
        for order in shop.wms_orders(store):
            cancelled = order.number in {cast.cancelled_early, cast.cancelled_too_late}
            wanted = OrderStatus.CANCELLED if cancelled else OrderStatus.COLLECTED
            assert order.status == wanted, order.number

    # Centra: completed once each, with the warehouse's tracking; nothing else completed.
    completions = Counter(w.data["shipment"] for w in world.written("completions"))
    assert set(completions) == completed
    assert max(completions.values()) == 1
    for write in world.written("completions"):
        shipment = world.shipment(write.data["shipment"])
        store = SE if world.orders[shipment.order_number].store_uri == SE.uri else US
        parcels = shop.wms_order(store, shipment.number).parcels
        assert shipment.shipped
        assert write.data["tracking"] == ", ".join(p.tracking_number for p in parcels) != ""
        assert shipment.tracking == write.data["tracking"]
        assert write.data["packages"] == len(parcels)

    # Captures: once per captured shipment, never on a decline, never twice.
    captures = [w.data for w in world.written("captures")]
    captured = Counter(c["shipment"] for c in captures if c["outcome"] == "captured")
    assert max(captured.values()) == 1
    assert set(captured) == completed | {cast.cancelled_too_late}
    declined = {c["shipment"] for c in captures if c["outcome"] == "declined"}
    assert declined == {cast.declined_on_complete, cast.declined_on_import}

    # The declines are parked for a person, with the reason, and nothing else is.
    dead = [d for s in STORES for d in await shop.state.list_dead(s.name)]
    assert {d.record.key: d.reason for d in dead} == {
        cast.declined_on_complete: CAPTURE_DECLINED_REASON,
        cast.declined_on_import: CAPTURE_DECLINED_REASON,
    }
    # Declined on completion: the goods left the warehouse, but Centra never heard.
    assert shop.wms_order(SE, cast.declined_on_complete).status == OrderStatus.COLLECTED
    assert not world.shipment(cast.declined_on_complete).shipped

    assert_short_pick(shop, cast.short_pick)
    # Store se's webhooks were all accepted and all acted on.
    deliveries = shop.centra.webhooks.deliveries
    assert deliveries and {(d.outcome, d.status) for d in deliveries} == {("delivered", 200)}
    assert await shop.state.inbox_backlog(SE.name) == 0
    assert shop.tally.failed_count == Counter()


def assert_short_pick(shop: Shop, shipment: str) -> None:
    """Centra's quantities were lowered to what was picked, before completion."""
    world = shop.centra.world
    kinds = [(w.kind, w.data.get("shipment")) for w in world.writes]
    update = kinds.index(("shipment_updates", shipment))
    assert update < kinds.index(("completions", shipment))
    picked = {
        int(line.row.row_number): int(line.picked) for line in shop.wms_order(SE, shipment).lines
    }
    in_centra = {line.order_line_id: line.qty for line in world.shipment(shipment).lines}
    assert in_centra == picked
    order = world.orders[world.shipment(shipment).order_number]
    assert sum(in_centra.values()) == sum(line.qty for line in order.lines) - 1


@pytest.mark.parametrize("wms", WMS_KINDS)
async def test_200_shipments_across_two_stores_on_sqlite(tmp_path: Any, wms: str) -> None:
    async with open_shop(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}", wms=wms) as shop:
        await play_the_whole_story(shop, extra={SE.name: 70, US.name: 80})


async def test_the_story_on_postgresql(pg_schema_url: Callable[[], str]) -> None:
    async with open_shop(pg_schema_url()) as shop:
        await play_the_whole_story(shop, extra={SE.name: 5, US.name: 5})
