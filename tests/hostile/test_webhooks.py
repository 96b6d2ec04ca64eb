"""Webhooks lost, doubled and reordered while orders keep coming: the sweep finds the rest.

Centra's webhook plugin (the emulator's sender) drops half its calls, sends a third of
them twice, shuffles the events inside each call and delays calls at random so they
overtake each other. Only the sweep polls (no incremental poll), so every shipment whose
webhooks all went missing must reach the WMS through the sweep.

How much the sweep recovered, by the engine's rule (docs/engine.md, "Webhooks and the
sweep"): a shipment *first* found by a poll or the sweep, created after the engine began
receiving webhooks and older than the 30-second grace when found, is a webhook miss and
counts once in ``centrasync_sweep_recoveries``. Here every pass runs after the sender has
delivered or dropped every call, and a pass drains the inbox before it sweeps; an order
event that arrived in any copy makes the engine fetch that order's Good-to-Go shipments
first. So the recoveries are exactly the shipments of orders none of whose ``order``
events arrived. Centra's clock runs two minutes behind the engine's for the new orders,
so each shipment is past the grace when a pass finds it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from centrasync.emulators.faults import EmulatorTransport
from centrasync.store.base import RecordKind, RecordRef

from .rig import STORE, URI, Rig, open_rig

pytestmark = pytest.mark.slow

ROUNDS = 4
ORDERS_PER_ROUND = 6
SENDER_SEED = 5


def delivered_orders(rig: Rig) -> set[int]:
    """Order numbers named by an ``order`` event in a call that reached the engine."""
    return {
        int(event["id"])
        for call in rig.centra.webhooks.deliveries
        if call.outcome == "delivered"
        for event in call.events
        if event["type"] == "order"
    }


async def scrape(rig: Rig) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The engine's ``/metrics``, by sample name and sorted labels."""
    async with httpx.AsyncClient(
        transport=EmulatorTransport(rig.app), base_url="http://engine.test"
    ) as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


async def test_the_sweep_recovers_every_shipment_whose_webhooks_were_lost(
    tmp_path: Path,
) -> None:
    receiving_since = datetime.now(UTC) - timedelta(minutes=10)
    async with open_rig(tmp_path, flows=("sweep",), webhooks_since=receiving_since) as rig:
        # The seed's shipments predate the webhooks: the first sweep takes them, no misses.
        await rig.run_pass()
        seeded = set(await rig.ledger(RecordKind.SHIPMENT))
        world = rig.centra.world
        assert seeded == {
            s.number
            for s in world.shipments.values()
            if world.orders[s.order_number].store_uri == URI
        }
        assert rig.tally.recovered_count == Counter()

        rig.hook_webhooks(
            max_events=3,
            drop_rate=0.5,
            duplicate_rate=0.3,
            shuffle=True,
            max_delay=0.02,
            seed=SENDER_SEED,
        )
        rig.centra_clock.shift = -timedelta(minutes=2)
        placed: list[str] = []
        missed: set[str] = set()
        for round_number in range(ROUNDS):
            new = await rig.new_shipments(ORDERS_PER_ROUND, ean_offset=len(placed))
            placed += new
            await rig.centra.webhooks.drain()
            announced = delivered_orders(rig)
            missed |= {n for n in new if world.shipment(n).order_number not in announced}

            await rig.run_pass()

            ledger = await rig.ledger(RecordKind.SHIPMENT)
            assert {n: ledger.get(n) for n in placed} == dict.fromkeys(placed, "sent"), round_number
            recovered = rig.tally.recovered_count[STORE, "outbound"]
            assert recovered == len(missed), f"round {round_number}: missed {sorted(missed)}"

        # The sender was as unreliable as asked: calls dropped, copies sent, so both ways in
        # (webhook and sweep) were taken.
        calls = rig.centra.webhooks.deliveries
        assert any(c.outcome == "dropped" for c in calls)
        assert any(c.copy == 1 and c.outcome == "delivered" for c in calls)
        assert 0 < len(missed) < len(placed)

        # Exactly one WMS order per shipment, each sent once; no event left behind.
        wms = Counter(order.number for order in rig.ongoing.state.orders.values())
        assert set(wms) == seeded | set(placed)
        assert set(wms.values()) == {1}
        for number in placed:
            history = await rig.state.history(RecordRef(STORE, RecordKind.SHIPMENT, number))
            assert [t.to_state for t in history].count("sent") == 1, number
        assert await rig.state.inbox_backlog(STORE) == 0
        assert await rig.dead() == {}

        # The scrape says how much the sweep recovered, and how many copies were dropped.
        metrics = await scrape(rig)
        store = (("store", STORE),)
        recovered_series = (
            "centrasync_sweep_recoveries_total",
            (("flow", "outbound"), ("store", STORE)),
        )
        assert metrics[recovered_series] == len(missed)
        copies = sum(len(c.events) for c in calls if c.outcome == "delivered")
        stored = metrics["centrasync_webhook_events_total", store]
        assert metrics["centrasync_webhook_duplicates_total", store] == copies - stored > 0
