"""Webhook plugins per store: each integration has its own URL, secret, version, triggers."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qs

import httpx
from centra_helpers import free_eans, verify

from centrasync.emulators.centra import CentraEmulator, WebhookPluginSettings, WebhookSettings
from centrasync.emulators.centra.specs import OrderLineSpec, OrderSpec
from centrasync.emulators.faults import EmulatorTransport
from fake_clock import FakeClock


class Receivers:
    """Every URL's calls: the raw body and the signature header."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[str, str | None]]] = defaultdict(list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        signature = request.headers.get("X-Centra-Signature")
        self.calls[str(request.url)].append((request.content.decode(), signature))
        return httpx.Response(200, json={})

    def payloads(self, url: str) -> list[dict[str, Any]]:
        return [json.loads(parse_qs(raw)["payload"][0]) for raw, _ in self.calls[url]]


def build(clock: FakeClock, receivers: Receivers) -> CentraEmulator:
    return CentraEmulator(
        seed="demo", clock=clock, webhook_transport=httpx.MockTransport(receivers)
    )


def order(emu: CentraEmulator, store: str, index: int) -> int:
    spec = OrderSpec(store=store, lines=[OrderLineSpec(ean=free_eans(emu, 1, index)[0])])
    return emu.world.place_order(spec).number


async def test_each_store_has_its_own_plugin_url_and_secret(clock: FakeClock) -> None:
    receivers = Receivers()
    emu = build(clock, receivers)
    se, us = "https://se.example.com/hook", "https://us.example.com/hook"
    emu.webhooks.add_plugin("wms", WebhookPluginSettings(url=se, secret="se-secret"))
    emu.webhooks.add_plugin("wms-us", WebhookPluginSettings(url=us, secret="us-secret"))
    se_order, us_order = order(emu, "wms", 0), order(emu, "wms-us", 1)
    await emu.webhooks.drain()
    assert [e["id"] for p in receivers.payloads(se) for e in p["events"]] == [se_order]
    assert [e["id"] for p in receivers.payloads(us) for e in p["events"]] == [us_order]
    ((raw, signature),) = receivers.calls[us]
    assert signature is not None and verify(signature, raw, "us-secret")
    assert not verify(signature, raw, "se-secret")
    assert {(d.store, d.plugin) for d in emu.webhooks.deliveries} == {
        ("wms", 1),
        ("wms-us", 2),
    }
    await emu.aclose()


async def test_plugins_of_one_store_have_their_own_version_triggers_and_switches(
    clock: FakeClock,
) -> None:
    receivers = Receivers()
    emu = build(clock, receivers)
    erp, legacy, lossy = (f"https://{n}.example.com/hook" for n in ("erp", "legacy", "lossy"))
    emu.webhooks.add_plugin("wms", WebhookPluginSettings(url=erp, triggers=["order"]))
    emu.webhooks.add_plugin("wms", WebhookPluginSettings(url=legacy, version="legacy"))
    emu.webhooks.add_plugin("wms", WebhookPluginSettings(url=lossy, drop_rate=1.0))
    number = order(emu, "wms", 0)
    await emu.webhooks.drain()
    assert receivers.payloads(erp) == [
        {"events": [{"type": "order", "action": "create", "date": "2025-01-15 11:00:00.000000",
                     "id": number}]}
    ]  # fmt: skip
    assert receivers.payloads(legacy) == [{"orders": [str(number)]}]
    assert receivers.calls[lossy] == [], "one plugin's drops touch no other"
    await emu.aclose()


async def test_store_plugins_over_the_control_api(clock: FakeClock) -> None:
    receivers = Receivers()
    emu = build(clock, receivers)
    url = "https://us.example.com/hook"
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://centra.test"
    ) as client:
        added = await client.post(
            "/_emulator/stores/wms-us/webhooks", json={"url": url, "secret": "us-secret"}
        )
        assert added.status_code == 200, added.text
        plugin = added.json()
        assert plugin["store"] == "wms-us" and plugin["secret"] == "***"
        listed = (await client.get("/_emulator/stores/wms-us/webhooks")).json()
        assert [p["id"] for p in listed] == [plugin["id"]]
        assert (await client.get("/_emulator/stores/wms/webhooks")).json() == []
        changed = await client.put(
            f"/_emulator/stores/wms-us/webhooks/{plugin['id']}",
            json={"url": url, "secret": "us-secret", "triggers": ["shipment"]},
        )
        assert changed.json()["triggers"] == ["shipment"]
        assert (await client.get("/_emulator/stores/nowhere/webhooks")).status_code == 404
        assert (
            await client.put(f"/_emulator/stores/wms/webhooks/{plugin['id']}", json={})
        ).status_code == 404, "a plugin belongs to its store"
        await client.post(
            "/_emulator/orders",
            json={"store": "wms-us", "lines": [{"ean": free_eans(emu, 1)[0]}]},
        )
        await client.post("/_emulator/webhook/drain")
        assert receivers.calls[url] == [], "an order event is no shipment trigger"
        removed = await client.delete(f"/_emulator/stores/wms-us/webhooks/{plugin['id']}")
        assert removed.status_code == 200
        assert (await client.get("/_emulator/stores/wms-us/webhooks")).json() == []
        await client.post("/_emulator/stores/wms-us/webhooks", json={"url": url, "secret": "again"})
        await client.post("/_emulator/reset")
        assert (await client.get("/_emulator/stores/wms-us/webhooks")).json() == []
    await emu.aclose()


async def test_the_emulator_wide_plugin_and_store_plugins_both_send(clock: FakeClock) -> None:
    receivers = Receivers()
    emu = build(clock, receivers)
    everything, us = "https://all.example.com/hook", "https://us.example.com/hook"
    emu.webhooks.configure(WebhookSettings(url=everything))
    emu.webhooks.add_plugin("wms-us", WebhookPluginSettings(url=us))
    se_order, us_order = order(emu, "wms", 0), order(emu, "wms-us", 1)
    await emu.webhooks.drain()
    assert sorted(e["id"] for p in receivers.payloads(everything) for e in p["events"]) == [
        se_order,
        us_order,
    ]
    assert [e["id"] for p in receivers.payloads(us) for e in p["events"]] == [us_order]
    await emu.aclose()
