"""Killed while parking a record: no flow leaves a parked state without its dead letter.

The engine never retries a parked state, so a record moved to one in one store call and
given its dead letter in another is, killed in between, a record nobody ever hears of. Each
flow is run once with a store that "kills the process" as the dead letter is written, then
again as after a restart: the record must end parked *with* its dead letter.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest

from centrasync.store.base import RecordKind, RecordRef, StateStore
from centrasync.sync.articles import ArticleState
from centrasync.sync.indeliveries import InDeliveriesFlow, InDeliveryState
from centrasync.sync.returns import ReturnsFlow, ReturnState
from centrasync.sync.stock_figures import StockState

from .articles_helpers import rig
from .indeliveries_helpers import seed_delivery
from .report_world import clients, open_world, store_settings
from .returns_helpers import give_back, line_ids, ship
from .stock_harness import stock_world
from .test_indeliveries_parking import add_gift_card_delivery
from .test_returns_parking import two_plain_shipments

pytestmark = pytest.mark.slow

Wrap = Callable[[StateStore, type[BaseException]], StateStore]


class Killed(BaseException):
    """The process died while parking."""


async def assert_parked_with_dead_letter(state: StateStore, ref: RecordRef, to: str) -> None:
    record = await state.get_record(ref)
    assert record is not None and record.state == to
    dead = [d for d in await state.list_dead(ref.store) if d.record == ref]
    assert len(dead) == 1, f"{ref} is {to} but nobody was told"
    assert dead[0].reason == record.last_error


async def test_in_deliveries(tmp_path: Path, kill_at_first_park: Wrap) -> None:
    async with open_world(tmp_path) as world:
        seed_delivery(world)
        bad = add_gift_card_delivery(world)
        for state in (kill_at_first_park(world.state, Killed), world.state):
            async with clients(world) as (centra, wms):
                with suppress(Killed):
                    await InDeliveriesFlow(store_settings(), state, centra, wms).run()
        ref = RecordRef("se", RecordKind.IN_DELIVERY, bad)
        await assert_parked_with_dead_letter(world.state, ref, InDeliveryState.INVALID)


async def test_returns(tmp_path: Path, kill_at_first_park: Wrap) -> None:
    async with open_world(tmp_path) as world:
        bad, _ = two_plain_shipments(world)
        await ship(world, bad)
        give_back(world, bad, {line_ids(world, bad)[0]: (0.5, "Defect")})
        for state in (kill_at_first_park(world.state, Killed), world.state):
            async with clients(world) as (centra, wms):
                with suppress(Killed):
                    await ReturnsFlow(store_settings(), state, centra, wms).run()
        ref = RecordRef("se", RecordKind.RETURN, bad)
        await assert_parked_with_dead_letter(world.state, ref, ReturnState.INVALID)


async def test_articles(tmp_path: Path, kill_at_first_park: Wrap) -> None:
    async with rig(tmp_path) as r:
        r.recorder.refuse.add("WJBLK40")
        for state in (kill_at_first_park(r.state, Killed), r.state):
            flow = r.flow()
            flow.state = state
            with suppress(Killed):
                await flow.full_resync()
        ref = RecordRef("se", RecordKind.ARTICLE, "WJBLK40")
        await assert_parked_with_dead_letter(r.state, ref, ArticleState.REFUSED)


async def test_stock(tmp_path: Path, kill_at_first_park: Wrap) -> None:
    async with stock_world(tmp_path) as world:
        world.in_wms("GHOST123", 3)
        for state in (kill_at_first_park(world.state, Killed), world.state):
            flow = world.flow()
            flow.state = state
            with suppress(Killed):
                await flow.run_incremental()
        ref = RecordRef("se", RecordKind.STOCK, "GHOST123")
        await assert_parked_with_dead_letter(world.state, ref, StockState.NOT_FOUND)
