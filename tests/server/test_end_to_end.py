"""The Centra emulator's webhook sender posting straight into the receiver app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from centrasync.emulators.centra import CentraEmulator, WebhookSettings
from centrasync.emulators.faults import EmulatorTransport
from centrasync.server import create_app
from centrasync.store.base import StateStore

from .helpers import WEBHOOK_SECRET, make_settings


@pytest.fixture
def live_app(state: StateStore) -> FastAPI:
    # Real clocks on both sides: the emulator signs with its own now, the app checks against it.
    return create_app(make_settings(max_body=1_048_576), state)


@pytest.fixture
async def emu(live_app: FastAPI) -> AsyncIterator[CentraEmulator]:
    emulator = CentraEmulator(seed="demo", webhook_transport=httpx.ASGITransport(app=live_app))
    yield emulator
    await emulator.webhooks.aclose()


def free_ean(emu: CentraEmulator) -> str:
    ordered = {line.size_id for order in emu.world.orders.values() for line in order.lines}
    return next(
        ref.size.ean
        for ref in emu.world.sizes.values()
        if ref.size.id not in ordered and not ref.product.is_bundle and ref.size.name
    )


async def order_and_ship(emu: CentraEmulator) -> tuple[int, int]:
    """Place an order and make its shipment good-to-go through the control API."""
    transport = EmulatorTransport(emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://centra.test") as control:
        placed = await control.post(
            "/_emulator/orders", json={"store": "wms", "lines": [{"ean": free_ean(emu), "qty": 1}]}
        )
        assert placed.status_code == 200, placed.text
        number = int(placed.json()["number"])
        shipped = await control.post(f"/_emulator/orders/{number}/shipments", json={"gtg": True})
        assert shipped.status_code == 200, shipped.text
        return number, int(shipped.json()["id"])


def configure(emu: CentraEmulator, **switches: Any) -> None:
    emu.webhooks.configure(
        WebhookSettings(
            url="http://engine.test/webhooks/centra/se",
            secret=WEBHOOK_SECRET,
            store="wms",
            **switches,
        )
    )


async def inbox_events(state: StateStore) -> list[tuple[str, str, str, str]]:
    items = await state.claim_inbox("se", 1000)
    bodies = [json.loads(item.body) for item in items]
    return [(b["type"], b["action"], b["id"], b["date"]) for b in bodies]


def sent_events(emu: CentraEmulator) -> set[tuple[str, str, str]]:
    return {
        (e["type"], e["action"], str(e["id"]))
        for attempt in emu.webhooks.deliveries
        if attempt.outcome == "delivered"
        for e in attempt.events
    }


async def test_sender_events_land_in_the_inbox(emu: CentraEmulator, state: StateStore) -> None:
    configure(emu)
    number, shipment = await order_and_ship(emu)
    await emu.webhooks.drain()
    assert all(a.outcome == "delivered" and a.status == 200 for a in emu.webhooks.deliveries)
    events = await inbox_events(state)
    kinds = {(t, a, i) for t, a, i, _ in events}
    assert ("order", "create", str(number)) in kinds
    assert ("shipment", "good_to_go", str(shipment)) in kinds
    assert kinds == sent_events(emu)
    assert len(events) == len(set(events))


async def test_duplicated_calls_leave_no_duplicates(
    emu: CentraEmulator, state: StateStore, live_app: FastAPI
) -> None:
    configure(emu, duplicate_rate=1.0, seed=7)
    await order_and_ship(emu)
    await emu.webhooks.drain()
    assert any(a.copy == 1 and a.outcome == "delivered" for a in emu.webhooks.deliveries)
    events = await inbox_events(state)
    assert len(events) == len(set(events))
    assert {(t, a, i) for t, a, i, _ in events} == sent_events(emu)
    transport = httpx.ASGITransport(app=live_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://engine.test") as client:
        metrics = (await client.get("/metrics")).text
    duplicates = f'centrasync_webhook_duplicates_total{{store="se"}} {float(len(events))}'
    assert duplicates in metrics
