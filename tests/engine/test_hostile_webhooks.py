"""Acceptance: forged, unsigned and replayed webhooks are refused and change nothing.

The engine runs with every poll switched off, so webhooks are the only thing that can
make it act, and every hostile call names a real, waiting Good-to-Go order: had one got
through, that order would have reached the WMS. After each refusal the engine gets a
pass, and then the inbox, the ledger, the warehouses and Centra's write log must all be
as they were. A genuine call, delivered twice, is the control: it does get through, and
is acted on once.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from centrasync.centra.webhooks import sign_payload
from centrasync.emulators.centra import WebhookSettings
from centrasync.emulators.centra.webhooks import DeliveryAttempt
from centrasync.emulators.faults import EmulatorTransport
from centrasync.store.base import RecordKind, RecordRef

from .helpers import SE, STORES, US, WEBHOOK_SECRET, add_shipments, orderable_eans
from .shop import Shop, open_shop

WEBHOOKS_ONLY = {"shipments": 0, "confirmations": 0, "cancellations": 0, "sweep": 0}
REPLAY_AFTER = 600.0


class AppClock:
    """The webhook app's "now" (unix seconds): real time plus a shift a test can add."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift


@pytest.fixture
def app_clock() -> AppClock:
    return AppClock()


@pytest.fixture
async def shop(tmp_path: Path, app_clock: AppClock) -> AsyncIterator[Shop]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}"
    async with open_shop(url, schedule=WEBHOOKS_ONLY, clock=app_clock) as opened:
        yield opened


@pytest.fixture
async def engine_http(shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    transport = EmulatorTransport(shop.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://engine.test") as client:
        yield client


def order_event_body(order: int | str) -> bytes:
    """An Integration-API ``order update`` call for ``order``, as Centra encodes it."""
    event = {"type": "order", "action": "update", "date": "2026-11-29 10:00:00.000001"}
    payload = json.dumps({"events": [{**event, "id": int(order)}]}, separators=(",", ":"))
    return ("payload=" + quote(payload, safe="")).encode()


def signed(body: bytes, secret: str, at: float) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Centra-Signature": f"t={int(at)},v1={sign_payload(body, secret, int(at))}",
    }


async def snapshot(shop: Shop) -> dict[str, object]:
    """Everything a webhook could change, in comparable form."""
    records = {}
    for store in STORES:
        for record in await shop.state.list_records(store.name, limit=1000):
            records[str(record.ref)] = (record.state, len(await shop.state.history(record.ref)))
    return {
        "inbox": {s.name: await shop.state.inbox_backlog(s.name) for s in STORES},
        "ledger": records,
        "dead": [d.id for s in STORES for d in await shop.state.list_dead(s.name)],
        "wms": {s.name: sorted(o.number for o in shop.wms_orders(s)) for s in STORES},
        "centra_writes": len(shop.centra.world.writes),
    }


async def waiting_order(shop: Shop) -> int:
    """A fresh Good-to-Go order in store se that no webhook has announced."""
    plugin = shop.centra.webhooks.settings
    shop.centra.webhooks.configure(WebhookSettings())
    (shipment,) = await add_shipments(shop.control, SE, await orderable_eans(shop.control, SE, 1))
    shop.centra.webhooks.configure(plugin)
    return int(shipment.split("-")[0])


async def new_shipment_announced(shop: Shop) -> tuple[str, list[DeliveryAttempt]]:
    """A fresh Good-to-Go shipment in store se, and the webhook calls that announced it."""
    (shipment,) = await add_shipments(shop.control, SE, await orderable_eans(shop.control, SE, 1))
    await shop.centra.webhooks.drain()
    calls = list(shop.centra.webhooks.deliveries)
    assert calls and all(c.outcome == "delivered" and c.signature for c in calls)
    return shipment, calls


def as_sent(call: DeliveryAttempt) -> dict[str, str]:
    """The headers of a delivered call, exactly as the emulator sent them."""
    assert call.signature is not None
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Centra-Signature": call.signature,
    }


async def test_hostile_calls_are_refused_and_change_nothing(
    shop: Shop, engine_http: httpx.AsyncClient
) -> None:
    order = await waiting_order(shop)
    body = order_event_body(order)
    now = time.time()
    se_hook, us_hook = f"/webhooks/centra/{SE.name}", f"/webhooks/centra/{US.name}"
    other_order = order_event_body(order - 1)
    hostile = {
        "forged (wrong secret)": (se_hook, body, signed(body, "not-the-secret", now)),
        "unsigned": (se_hook, body, {"Content-Type": "application/x-www-form-urlencoded"}),
        "stale (t ten minutes old)": (se_hook, body, signed(body, WEBHOOK_SECRET, now - 600)),
        "from the future": (se_hook, body, signed(body, WEBHOOK_SECRET, now + 600)),
        "body changed after signing": (se_hook, other_order, signed(body, WEBHOOK_SECRET, now)),
        "signed for se, sent to us": (us_hook, body, signed(body, WEBHOOK_SECRET, now)),
    }
    before = await snapshot(shop)
    assert before["ledger"] == {}
    for name, (path, content, headers) in hostile.items():
        answer = await engine_http.post(path, content=content, headers=headers)
        assert answer.status_code == 401, f"{name}: {answer.status_code} {answer.text}"
        assert WEBHOOK_SECRET not in answer.text
        assert await snapshot(shop) == before, f"{name}: stored"
        await shop.run_pass()
        assert await snapshot(shop) == before, f"{name}: acted on"

    # The control: the same body, properly signed now, does make the engine act.
    answer = await engine_http.post(
        se_hook, content=body, headers=signed(body, WEBHOOK_SECRET, now)
    )
    assert answer.status_code == 200, answer.text
    await shop.run_pass()
    assert (await snapshot(shop))["wms"] == {SE.name: [f"{order}-1"], US.name: []}


async def test_a_genuine_call_delivered_twice_is_acted_on_once(
    shop: Shop, engine_http: httpx.AsyncClient
) -> None:
    shipment, calls = await new_shipment_announced(shop)
    backlog = await shop.state.inbox_backlog(SE.name)
    assert backlog == sum(len(c.events) for c in calls) > 0

    # Every call again, byte for byte (a copy on the wire), and re-signed a second later
    # (Centra signs each retry anew): accepted, and not one inbox row more.
    for call in calls:
        content = call.body.encode()
        for headers in (as_sent(call), signed(content, WEBHOOK_SECRET, time.time() + 1)):
            answer = await engine_http.post(
                f"/webhooks/centra/{SE.name}", content=content, headers=headers
            )
            assert answer.status_code == 200, answer.text
    assert await shop.state.inbox_backlog(SE.name) == backlog

    for _ in range(3):
        await shop.run_pass()
    assert (await snapshot(shop))["wms"] == {SE.name: [shipment], US.name: []}
    assert [r.ref.key for r in await shop.state.list_records(SE.name, limit=1000)] == [shipment]
    history = await shop.state.history(RecordRef(SE.name, RecordKind.SHIPMENT, shipment))
    assert [t.to_state for t in history].count("sent") == 1


async def test_a_genuine_call_replayed_later_is_refused(
    shop: Shop, engine_http: httpx.AsyncClient, app_clock: AppClock
) -> None:
    """Captured on the wire and sent again ten minutes later, after the engine acted on it."""
    shipment, calls = await new_shipment_announced(shop)
    await shop.run_pass()
    before = await snapshot(shop)
    assert before["wms"] == {SE.name: [shipment], US.name: []}

    app_clock.shift = REPLAY_AFTER
    for call in calls:
        answer = await engine_http.post(
            f"/webhooks/centra/{SE.name}", content=call.body.encode(), headers=as_sent(call)
        )
        assert answer.status_code == 401, answer.text
    assert await snapshot(shop) == before
    await shop.run_pass()
    assert await snapshot(shop) == before
