"""A stock pass killed half way and run again writes every SKU exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from centrasync.emulators.faults import FaultKind, FaultRule
from centrasync.errors import RetryLaterError
from centrasync.store.base import EffectStatus
from centrasync.sync.stock import StockState, batch_digest
from centrasync.sync.tally import Tally

from .stock_harness import Killed, StockWorld, stock_world

pytestmark = pytest.mark.slow


def prepare(world: StockWorld, count: int) -> dict[str, int]:
    """``count`` SKUs whose WMS figure is three above Centra's; returns the targets."""
    targets = {}
    for ref in world.sizes(count):
        sku = ref.physical_sku
        targets[sku] = world.physical(sku) + 3
        world.in_wms(sku, targets[sku])
    return targets


async def written_states(world: StockWorld) -> Counter[str]:
    records = await world.state.list_records("se", limit=100)
    return Counter(record.state for record in records)


@pytest.mark.parametrize("moment", ["kill_before", "kill_after"])
async def test_a_pass_killed_at_the_second_batch_then_rerun_writes_each_sku_once(
    tmp_path: Path, moment: str
) -> None:
    """Killed before the POST left (Centra never saw it) or as its reply came back."""
    async with stock_world(tmp_path) as world:
        targets = prepare(world, 6)
        setattr(world.tap, moment, 2)
        with pytest.raises(Killed):
            await world.flow(batch_size=2).run()

        setattr(world.tap, moment, None)
        world.clock.advance(seconds=30)
        rerun = await world.flow(batch_size=2).run_incremental()

        writes = world.stock_writes()
        assert Counter(sku for sku, _ in writes) == Counter(dict.fromkeys(targets, 1))
        assert dict(writes) == targets
        assert {sku: world.physical(sku) for sku in targets} == targets
        assert rerun.written == (4 if moment == "kill_before" else 2)
        assert await written_states(world) == Counter({StockState.WRITTEN: 6})
        # The cut-off batch: sent again under its key, or settled from what Centra shows
        # and then left behind by the clean pass, never left looking as if on its way.
        second = dict(sorted(targets.items())[2:4])
        cut_off = await world.state.get_effect(f"stock/se/first/{batch_digest(second)}")
        assert cut_off is not None
        expected = EffectStatus.SUCCEEDED if moment == "kill_before" else EffectStatus.ABANDONED
        assert cut_off.status is expected


async def test_a_batch_sent_again_after_a_kill_reuses_its_effect(tmp_path: Path) -> None:
    """The unconfirmed batch keeps its key: found in doubt, sent once, then confirmed."""
    async with stock_world(tmp_path) as world:
        targets = prepare(world, 2)
        world.tap.kill_before = 1
        with pytest.raises(Killed):
            await world.flow().run()
        world.tap.kill_before = None

        await world.flow().run()

        assert world.tap.stock_posts == 1
        # No pass finished before, so both ran in the first generation.
        effect = await world.state.get_effect(f"stock/se/first/{batch_digest(targets)}")
        assert effect is not None and effect.status is EffectStatus.SUCCEEDED
        assert effect.attempts == 0, "the killed pass's attempt is no failed attempt"
        assert effect.intent == {"physical": targets}


async def test_a_centra_outage_leaves_the_skus_for_the_next_pass(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        targets = prepare(world, 3)
        outage = world.centra.plan.add(
            FaultRule(kind=FaultKind.SERVER_ERROR, method="POST", path="/api/wms/stock*")
        )
        with pytest.raises(RetryLaterError):
            await world.flow().run()
        assert await world.state.get_cursor("se", "stock") is None, "the cursor waits"
        assert await written_states(world) == Counter({StockState.SENDING: 3})

        world.centra.plan.remove(outage.id)
        world.clock.advance(seconds=300)
        await world.flow().run()

        assert dict(world.stock_writes()) == targets
        assert await written_states(world) == Counter({StockState.WRITTEN: 3})


async def test_a_batch_failing_past_the_attempt_limit_is_parked(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        targets = prepare(world, 2)
        world.centra.plan.add(
            FaultRule(kind=FaultKind.SERVER_ERROR, method="POST", path="/api/wms/stock*")
        )
        flow = world.flow()
        flow.max_attempts = 2
        tally = Tally()
        flow.events = tally
        for _ in range(2):
            with pytest.raises(RetryLaterError):
                await flow.run()

        report = await flow.run_incremental()

        assert report.parked == 2 and world.stock_writes() == []
        dead = await world.state.list_dead("se")
        assert {d.record.key for d in dead} == set(targets)
        assert all("gave up after 2 failed attempts" in d.reason for d in dead)
        assert await written_states(world) == Counter({StockState.FAILED: 2})
        assert await world.state.get_cursor("se", "stock") is not None, "parked: pass is clean"
        assert tally.failed_count == {("se", "stock"): 2}
        assert tally.parked_reasons == {("se", "failed"): 2}

        # A person fixes Centra and hands the SKUs back, as 'centrasync retry' does.
        world.centra.plan.clear()
        for entry in dead:
            await world.state.resolve_dead(entry.id)
            await world.state.transition(entry.record, StockState.RETRY, note="retry requested")
        world.clock.advance(seconds=300)
        await flow.run()

        assert dict(world.stock_writes()) == targets, "re-read although the WMS did not move"
        assert await written_states(world) == Counter({StockState.WRITTEN: 2})
