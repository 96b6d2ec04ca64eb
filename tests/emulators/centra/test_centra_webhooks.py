from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote
from zoneinfo import ZoneInfo

import httpx
from centra_helpers import free_eans, verify
from hypothesis import given
from hypothesis import strategies as st

from centrasync.emulators.centra import CentraEmulator, WebhookSettings, sign, signature_header
from centrasync.emulators.centra.model import Event
from centrasync.emulators.centra.specs import OrderLineSpec, OrderSpec
from centrasync.emulators.centra.webhooks import WebhookSender, encode_body
from centrasync.emulators.faults import EmulatorTransport
from fake_clock import FakeClock

SECRET = "whsec-test"
URL = "https://receiver.example.com/centra"


class Receiver:
    """A webhook endpoint that verifies like Centra's own receiver and records what came."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.raw: list[str] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.raw.append(request.content.decode())
        self.headers.append(request.headers)
        status = self.answers.pop(0) if self.answers else 200
        return httpx.Response(status, json={})

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(parse_qs(raw)["payload"][0]) for raw in self.raw]

    def events(self) -> list[dict[str, Any]]:
        return [e for p in self.payloads() for e in p["events"]]


def emulator(
    clock: FakeClock, receiver: Callable[[httpx.Request], httpx.Response]
) -> CentraEmulator:
    return CentraEmulator(seed="demo", clock=clock, webhook_transport=httpx.MockTransport(receiver))


def order_spec(emu: CentraEmulator, index: int = 0, store: str = "wms") -> OrderSpec:
    return OrderSpec(store=store, lines=[OrderLineSpec(ean=free_eans(emu, 1, index)[0])])


def test_signer_matches_documented_vector() -> None:
    body = "payload=%7B%22x%22%3A%22test%22%7D"
    expected = "0b9cd84f5d583e5e1aadfb9f160aa8080b51d5b85ff85808d6b75bdac356c549"
    assert sign("test123", body, 12345678) == expected
    header = signature_header("test123", body, 12345678)
    assert header == f"t=12345678,v1={expected}"
    assert verify(header, body, "test123")
    assert encode_body({"x": "test"}) == body


async def test_signed_integration_events(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    emu.webhooks.configure(WebhookSettings(url=URL, secret=SECRET))
    order = emu.world.place_order(order_spec(emu))
    await emu.webhooks.drain()
    assert len(receiver.raw) == 1
    headers = receiver.headers[0]
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert verify(headers["x-centra-signature"], receiver.raw[0], SECRET)
    assert not verify(headers["x-centra-signature"], receiver.raw[0], "other")
    assert headers["x-centra-signature"].startswith(f"t={int(clock.now.timestamp())},")
    assert receiver.events() == [
        {
            "type": "order",
            "action": "create",
            "date": "2025-01-15 11:00:00.000000",
            "id": order.number,
        }
    ]
    assert re.fullmatch(r"payload=[A-Za-z0-9%._-]+", receiver.raw[0])
    log = emu.webhooks.deliveries
    assert [(d.outcome, d.status) for d in log] == [("delivered", 200)]


async def test_shipment_events_use_the_internal_id(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    emu.webhooks.configure(WebhookSettings(url=URL, secret=SECRET))
    order = emu.world.place_order(order_spec(emu))
    await emu.webhooks.drain()
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://centra.test"
    ) as client:
        made = await client.post(f"/_emulator/orders/{order.number}/shipments", json={"gtg": False})
        await client.post(f"/_emulator/shipments/{made.json()['number']}/good-to-go")
        await client.post(f"/_emulator/orders/{order.number}/cancel")
        await client.post("/_emulator/webhook/drain")
        shipments = (await client.get("/_emulator/shipments")).json()
        deliveries = (await client.get("/_emulator/webhook/deliveries")).json()
    mapping = {s["id"]: s["number"] for s in shipments}
    actions = [(e["type"], e["action"], e["id"]) for e in receiver.events()]
    shipment_id = made.json()["id"]
    assert mapping[shipment_id] == f"{order.number}-1"
    assert ("shipment", "create", shipment_id) in actions
    assert ("shipment", "good_to_go", shipment_id) in actions
    assert actions[-1] == ("order", "update", order.number), "a cancel is an order update"
    assert all(d["outcome"] == "delivered" for d in deliveries)


async def test_legacy_version_and_unsigned_without_secret(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    emu.webhooks.configure(WebhookSettings(url=URL, version="legacy"))
    first = emu.world.place_order(order_spec(emu, 0))
    second = emu.world.place_order(order_spec(emu, 1))
    await emu.webhooks.drain()
    assert receiver.payloads() == [{"orders": [str(first.number), str(second.number)]}]
    assert "x-centra-signature" not in receiver.headers[0]


async def test_batches_respect_max_events(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    emu.webhooks.configure(WebhookSettings(url=URL, secret=SECRET, max_events=2))
    for index in range(5):
        emu.world.place_order(order_spec(emu, index))
    await emu.webhooks.drain()
    assert [len(p["events"]) for p in receiver.payloads()] == [2, 2, 1]


async def test_drop_and_duplicate_switches(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    emu.webhooks.configure(WebhookSettings(url=URL, secret=SECRET, drop_rate=1.0))
    emu.world.place_order(order_spec(emu, 0))
    await emu.webhooks.drain()
    assert receiver.raw == []
    assert [d.outcome for d in emu.webhooks.deliveries] == ["dropped"]
    emu.webhooks.configure(WebhookSettings(url=URL, secret=SECRET, duplicate_rate=1.0))
    emu.world.place_order(order_spec(emu, 1))
    await emu.webhooks.drain()
    assert len(receiver.raw) == 2
    assert receiver.raw[0] == receiver.raw[1], "the same call arrives twice"


async def test_shuffle_reorders_events_in_a_call(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    emu.webhooks.configure(WebhookSettings(url=URL, shuffle=True, seed=7))
    numbers = [emu.world.place_order(order_spec(emu, i)).number for i in range(12)]
    await emu.webhooks.drain()
    received = [e["id"] for e in receiver.events()]
    assert sorted(received) == numbers
    assert received != numbers


async def test_delay_reorders_calls(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    emu.webhooks.configure(WebhookSettings(url=URL, max_events=1, max_delay=0.02, seed=3))
    numbers = [emu.world.place_order(order_spec(emu, i)).number for i in range(8)]
    await emu.webhooks.drain()
    received = [e["id"] for e in receiver.events()]
    assert sorted(received) == numbers
    assert received != numbers


async def test_retries_with_growing_delay_then_delivered(clock: FakeClock) -> None:
    receiver = Receiver(answers=[500, 503])
    emu = emulator(clock, receiver)
    emu.webhooks.configure(WebhookSettings(url=URL, secret=SECRET, retries=3, retry_delay=0.001))
    emu.world.place_order(order_spec(emu))
    await emu.webhooks.drain()
    log = [(d.attempt, d.outcome, d.status) for d in emu.webhooks.deliveries]
    assert log == [(0, "failed", 500), (1, "failed", 503), (2, "delivered", 200)]
    assert len(set(receiver.raw)) == 1, "retries resend the same body"


async def test_gives_up_after_retries(clock: FakeClock) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("receiver too slow", request=request)

    emu = emulator(clock, broken)
    emu.webhooks.configure(WebhookSettings(url=URL, retries=1, retry_delay=0.001))
    emu.world.place_order(order_spec(emu))
    await emu.webhooks.drain()
    log = emu.webhooks.deliveries
    assert [d.outcome for d in log] == ["failed", "gave_up"]
    assert log[-1].error is not None and "ReadTimeout" in log[-1].error


async def test_off_by_default_and_store_filter(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    emu.world.place_order(order_spec(emu, 0))
    await emu.webhooks.drain()
    assert receiver.raw == []
    emu.webhooks.configure(WebhookSettings(url=URL, store="wms-us"))
    emu.world.place_order(order_spec(emu, 1, store="wms"))
    us = emu.world.place_order(order_spec(emu, 2, store="wms-us"))
    await emu.webhooks.drain()
    assert receiver.events() == [
        {"type": "order", "action": "create", "date": "2025-01-15 05:00:00.000000", "id": us.number}
    ]


async def test_webhook_settings_over_control_api(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://centra.test"
    ) as client:
        put = await client.put("/_emulator/webhook", json={"url": URL, "secret": SECRET})
        assert put.json()["secret"] == "***"
        assert put.json()["max_events"] == 100 and put.json()["timeout"] == 5.0
        assert put.json()["retries"] == 0
        bad = await client.put("/_emulator/webhook", json={"url": URL, "retries": 4})
        assert bad.status_code == 422
        order = {"store": "wms", "lines": [{"ean": free_eans(emu, 1)[0]}]}
        await client.post("/_emulator/orders", json=order)
        await client.post("/_emulator/webhook/drain")
        deliveries = (await client.get("/_emulator/webhook/deliveries")).json()
    assert deliveries[0]["events"][0]["action"] == "create"
    assert verify(deliveries[0]["signature"], deliveries[0]["body"], SECRET)
    assert SECRET not in repr(emu.webhooks.settings)


events = st.lists(
    st.builds(
        Event,
        type=st.sampled_from(["order", "shipment"]),
        action=st.sampled_from(["create", "update", "good_to_go"]),
        id=st.integers(min_value=1, max_value=10**9),
        at=st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        ),
        store_uri=st.just("wms"),
    ),
    min_size=1,
    max_size=20,
)


@given(events)
def test_body_survives_php_and_js_style_reencoding(batch: list[Event]) -> None:
    sender = WebhookSender(lambda _: ZoneInfo("Europe/Stockholm"), lambda: datetime.now(UTC))
    payload = sender.payload(batch)
    body = encode_body(payload)
    decoded = unquote(body.removeprefix("payload="))
    assert json.loads(decoded) == payload
    js_style = "payload=" + quote(decoded, safe="-_.!~*'()")  # encodeURIComponent
    assert js_style == body, "a receiver that re-encodes like JS computes the same signature"
    assert "+" not in body


async def test_staff_edit_is_an_order_update(clock: FakeClock) -> None:
    receiver = Receiver()
    emu = emulator(clock, receiver)
    emu.webhooks.configure(WebhookSettings(url=URL))
    number = next(iter(emu.world.orders))
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://centra.test"
    ) as client:
        edited = await client.patch(
            f"/_emulator/orders/{number}",
            json={"delivery": {"name": "New Name", "country": "SE"}, "hold": True},
        )
        assert edited.json()["delivery"]["name"] == "New Name"
        await client.post("/_emulator/webhook/drain")
    assert [(e["type"], e["action"], e["id"]) for e in receiver.events()] == [
        ("order", "update", number)
    ]
