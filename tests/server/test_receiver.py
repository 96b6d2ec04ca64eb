from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from centrasync.server import create_app
from centrasync.store.base import StateStore

from .helpers import NOW, WEBHOOK_SECRET, encode, make_settings, signed

URL = "/webhooks/centra/se"
ORDER_EVENTS = {
    "events": [
        {"type": "order", "action": "insert", "date": "2026-05-28 12:00:00.000000", "id": "1001"},
        {"type": "shipment", "action": "update", "date": "2026-05-28 12:00:01.5", "id": "77"},
    ]
}


async def inbox(state: StateStore, store: str = "se") -> list[dict[str, Any]]:
    items = await state.claim_inbox(store, 100)
    return [json.loads(item.body) for item in items]


async def test_signed_webhook_is_written_per_event_and_answered_200(
    client: httpx.AsyncClient, state: StateStore
) -> None:
    body = encode(ORDER_EVENTS)
    response = await client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.json() == {}
    events = await inbox(state)
    assert events == [
        {
            "type": "order",
            "action": "insert",
            "id": "1001",
            "date": "2026-05-28T10:00:00+00:00",
            "data": None,
        },
        {
            "type": "shipment",
            "action": "update",
            "id": "77",
            "date": "2026-05-28T10:00:01.500000+00:00",
            "data": None,
        },
    ]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        pytest.param(lambda b: signed(b, secret="not-the-secret"), "mismatch", id="forged"),
        pytest.param(lambda b: {}, "missing", id="unsigned"),
        pytest.param(lambda b: {"X-Centra-Signature": "v1=abc;t=1"}, "malformed", id="header"),
        pytest.param(lambda b: signed(b, t=NOW - 301), "stale", id="replayed-stale"),
    ],
)
async def test_unprovable_webhooks_get_401_and_change_nothing(
    client: httpx.AsyncClient, state: StateStore, headers: Any, reason: str
) -> None:
    body = encode(ORDER_EVENTS)
    response = await client.post(URL, content=body, headers=headers(body))
    assert response.status_code == 401
    assert reason in response.json()["error"]
    assert await state.inbox_backlog("se") == 0
    metrics = (await client.get("/metrics")).text
    assert f'centrasync_webhooks_rejected_total{{reason="{reason}",store="se"}} 1.0' in metrics


async def test_a_store_without_webhook_secret_refuses_everything(
    state: StateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(make_settings(with_secret=False), state, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://engine.test") as client:
        body = encode(ORDER_EVENTS)
        unsigned = await client.post(URL, content=body)
        signed_anyway = await client.post(URL, content=body, headers=signed(body))
    assert unsigned.status_code == signed_anyway.status_code == 401
    assert "no_secret" in signed_anyway.json()["error"]
    assert await state.inbox_backlog("se") == 0
    assert "no webhook secret configured" in capsys.readouterr().out


async def test_the_same_webhook_twice_yields_one_row_per_event(
    client: httpx.AsyncClient, state: StateStore
) -> None:
    body = encode(ORDER_EVENTS)
    first = await client.post(URL, content=body, headers=signed(body))
    again = await client.post(URL, content=body, headers=signed(body, t=NOW - 2))
    assert first.status_code == again.status_code == 200
    assert len(await inbox(state)) == 2
    metrics = (await client.get("/metrics")).text
    assert 'centrasync_webhook_duplicates_total{store="se"} 2.0' in metrics


async def test_deeply_nested_json_gets_400_and_nothing_is_written(state: StateStore) -> None:
    """Signed, under the default 1 MiB cap, and 100,000 brackets deep."""
    app = create_app(make_settings(max_body=1_048_576), state, clock=lambda: NOW)
    body = b"payload=" + b"%5B" * 100_000
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://engine.test"
    ) as client:
        response = await client.post(URL, content=body, headers=signed(body))
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]
    assert 'centrasync_webhooks_rejected_total{reason="unparseable",store="se"} 1.0' in metrics
    assert await state.inbox_backlog("se") == 0


async def test_oversized_body_gets_413_and_nothing_is_written(
    client: httpx.AsyncClient, state: StateStore
) -> None:
    big = {"events": [{**ORDER_EVENTS["events"][0], "id": str(i)} for i in range(200)]}
    body = encode(big)
    assert len(body) > 4096
    response = await client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 413
    assert await state.inbox_backlog("se") == 0


async def test_oversized_stream_without_length_is_cut_off(
    client: httpx.AsyncClient, state: StateStore
) -> None:
    sent: list[int] = []

    async def chunks() -> Any:
        for _ in range(100):
            sent.append(1)
            yield b"x" * 1024

    response = await client.post(URL, content=chunks(), headers={"X-Centra-Signature": "t=1"})
    assert response.status_code == 413
    assert len(sent) < 100
    assert await state.inbox_backlog("se") == 0


async def test_verified_but_unparseable_body_gets_400(
    client: httpx.AsyncClient, state: StateStore
) -> None:
    body = encode({"events": [{"type": "order", "action": "insert"}]})
    response = await client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 400
    assert "id" in response.json()["error"]
    assert await state.inbox_backlog("se") == 0


async def test_unknown_store_is_404(client: httpx.AsyncClient) -> None:
    body = encode(ORDER_EVENTS)
    response = await client.post("/webhooks/centra/nope", content=body, headers=signed(body))
    assert response.status_code == 404


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200


async def test_metrics_expose_counters_and_backlog_per_store(
    client: httpx.AsyncClient, state: StateStore
) -> None:
    body = encode(ORDER_EVENTS)
    await client.post(URL, content=body, headers=signed(body))
    await client.post(URL, content=body)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'centrasync_webhooks_received_total{store="se"} 2.0' in text
    assert 'centrasync_webhook_events_total{store="se"} 2.0' in text
    assert 'centrasync_webhooks_rejected_total{reason="missing",store="se"} 1.0' in text
    assert 'centrasync_inbox_backlog{store="se"} 2.0' in text
    processed = (await state.claim_inbox("se", 1))[0]
    await state.mark_inbox_processed([processed.id])
    assert 'centrasync_inbox_backlog{store="se"} 1.0' in (await client.get("/metrics")).text


async def test_logs_hold_neither_secret_nor_signature(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    body = encode(ORDER_EVENTS)
    good, forged = signed(body), signed(body, secret="forged-secret")
    await client.post(URL, content=body, headers=good)
    await client.post(URL, content=body, headers=forged)
    output = capsys.readouterr()
    logged = output.out + output.err
    assert "webhook rejected" in logged
    assert "webhook accepted" in logged
    for secret in (WEBHOOK_SECRET, good["X-Centra-Signature"], forged["X-Centra-Signature"]):
        assert secret not in logged


async def test_dateless_legacy_events_are_keyed_by_the_signed_time(
    client: httpx.AsyncClient, state: StateStore
) -> None:
    body = encode({"orders": ["1001"]})
    for t in (NOW, NOW, NOW - 60):
        response = await client.post(URL, content=body, headers=signed(body, t=t))
        assert response.status_code == 200
    events = await inbox(state)
    assert [(e["type"], e["action"], e["id"], e["date"]) for e in events] == [
        ("orders", "changed", "1001", None),
        ("orders", "changed", "1001", None),
    ]
