"""The crash windows one by one: killed right after a remote write landed, then restarted.

The random SIGKILL test (``test_crash.py``) hits these moments only by chance; here each
one is hit on purpose. A tripwire lets the chosen write reach the emulator and then
"kills the process" before the engine hears the answer, so the write is applied but
its effect is still pending. The passes after it stand for the restarted process (the
engine object keeps nothing between passes that matters: its per-record locks are
released on the way out). Whatever the window, the shipment must end completed, once,
with one WMS order and one capture, and nobody must be asked to look at it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest

from centrasync.emulators.ongoing.model import OrderStatus
from centrasync.store.base import EffectStatus, RecordKind, RecordRef, StateStore
from centrasync.sync.shipments import (
    CAPTURE_DECLINED_REASON,
    ShipmentEffect,
    ShipmentState,
    effect_key,
)

from .helpers import SE, add_shipments, orderable_eans
from .shop import ProcessKilled, Shop, open_shop

pytestmark = pytest.mark.slow

WINDOWS = {
    # The WMS order was created; by the restart the warehouse has started on it, so a
    # blind re-send would be refused.
    "wms order created": ("PUT", f"/{SE.warehouse}/api/v1/orders"),
    "payment captured": ("PUT", f"/api/{SE.uri}/capture"),
    # Completing is not idempotent (Centra emails the customer): look, never repeat.
    "shipment completed in centra": ("PUT", f"/api/{SE.uri}/shipment"),
    # Centra knows; the WMS lines are marked reported, so the WMS never lists it again.
    "wms lines marked reported": (
        "PATCH",
        f"/{SE.warehouse}/api/v1/orders/*/lines/*/reportedNumberOfItems",
    ),
}


async def only_one_waiting_shipment(shop: Shop) -> str:
    """Cancel the demo seed's orders, then place one order in store se; its shipment."""
    for number in list(shop.centra.world.orders):
        shop.centra.world.cancel_order(number)
    (shipment,) = await add_shipments(shop.control, SE, await orderable_eans(shop.control, SE, 1))
    return shipment


@pytest.mark.parametrize("window", list(WINDOWS))
async def test_killed_right_after_a_write_then_restarted(tmp_path: Path, window: str) -> None:
    async with open_shop(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}") as shop:
        shipment = await only_one_waiting_shipment(shop)
        shop.tripwire.arm(*WINDOWS[window])
        # One warehouse step per pass: allocate, pick, ship; the kill falls somewhere in
        # between, and the warehouse goes on working while the engine is down.
        for _ in range(8):
            with suppress(ProcessKilled):
                await shop.run_pass()
            await shop.warehouses[SE.name].state.operator_step()
        assert len(shop.tripwire.fired) == 1, f"the tripwire never fired for {window}"

        assert await shop.ledger(SE) == {shipment: ShipmentState.COMPLETED}
        (order,) = shop.wms_orders(SE)
        assert order.number == shipment and order.shipped_time is not None
        world = shop.centra.world
        assert Counter(w.data["shipment"] for w in world.written("completions")) == {shipment: 1}
        captures = [(w.data["shipment"], w.data["outcome"]) for w in world.written("captures")]
        assert captures == [(shipment, "captured")]
        assert await shop.state.list_dead(SE.name) == []


async def test_killed_while_parking_a_declined_capture(
    tmp_path: Path, kill_at_first_park: Callable[[StateStore, type[BaseException]], StateStore]
) -> None:
    """A parked state is never retried, so it must not exist without its dead letter."""
    async with open_shop(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}") as shop:
        shipment = await only_one_waiting_shipment(shop)
        order = shipment.split("-")[0]
        answer = await shop.control.put(
            f"/_emulator/orders/{order}/capture", json={"declines": True}
        )
        assert answer.status_code == 200, answer.text
        (flows,) = [w.flows for w in shop.engine.workers if w.store == SE.name]
        flows.state = killing = kill_at_first_park(flows.state, ProcessKilled)
        for _ in range(8):
            with suppress(ProcessKilled):
                await shop.run_pass()
            await shop.warehouses[SE.name].state.operator_step()
        assert not killing.armed, "nothing was parked"

        assert await shop.ledger(SE) == {shipment: ShipmentState.CAPTURE_DECLINED}
        dead = await shop.state.list_dead(SE.name)
        assert [(d.record.key, d.reason) for d in dead] == [(shipment, CAPTURE_DECLINED_REASON)]
        assert shop.centra.world.written("completions") == []


async def test_an_effect_in_doubt_outlives_any_number_of_restarts(tmp_path: Path) -> None:
    """Killed again and again while looking for an order the WMS did accept.

    An attempt cut short by the process dying is no failure of the remote call: restarts
    never add up to "gave up", and the order the warehouse has goes on to be completed.
    """
    async with open_shop(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}") as shop:
        shipment = await only_one_waiting_shipment(shop)
        shop.tripwire.arm("PUT", f"/{SE.warehouse}/api/v1/orders")
        with suppress(ProcessKilled):
            await shop.run_pass()
        restarts = shop.engine.settings.engine.max_attempts + 2
        for _ in range(restarts):
            # Each restart finds the order in doubt and is killed as it looks it up.
            shop.tripwire.arm("GET", f"/{SE.warehouse}/api/v1/orders")
            with suppress(ProcessKilled):
                await shop.run_pass()
        assert len(shop.tripwire.fired) == 1 + restarts

        await shop.operate_until_idle()

        assert await shop.ledger(SE) == {shipment: ShipmentState.COMPLETED}
        assert [order.number for order in shop.wms_orders(SE)] == [shipment]
        assert await shop.state.list_dead(SE.name) == []


async def test_a_shipment_cancelled_while_its_wms_order_was_in_doubt_leaves_nothing_pending(
    tmp_path: Path,
) -> None:
    async with open_shop(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}") as shop:
        shipment = await only_one_waiting_shipment(shop)
        shop.tripwire.arm("PUT", f"/{SE.warehouse}/api/v1/orders")
        with suppress(ProcessKilled):
            await shop.run_pass()
        await shop.cancel_in_centra(shipment)
        await shop.run_pass()

        assert await shop.ledger(SE) == {shipment: ShipmentState.CANCELLED}
        ref = RecordRef(SE.name, RecordKind.SHIPMENT, shipment)
        order = await shop.state.get_effect(effect_key(ShipmentEffect.WMS_ORDER, ref))
        cancel = await shop.state.get_effect(effect_key(ShipmentEffect.CANCEL, ref))
        assert order is not None and order.status is EffectStatus.ABANDONED
        assert cancel is not None and cancel.status is EffectStatus.SUCCEEDED
        assert shop.wms_order(SE, shipment).status == OrderStatus.CANCELLED
