"""Returns that cannot be reported are parked with a reason; the other orders carry on."""

from __future__ import annotations

from pathlib import Path

from centrasync.store.base import RecordKind, RecordRef
from centrasync.sync.returns import ReturnState

from .report_world import World, open_world
from .returns_helpers import (
    centra_returns,
    give_back,
    line_ids,
    reported_returned,
    run,
    ship,
)


def two_plain_shipments(world: World) -> tuple[str, str]:
    summary = world.centra.seed_summary
    special = {summary[k]["shipment"] for k in ("capture_declines", "to_cancel", "short_pick")}
    centra = world.centra.world
    numbers = [
        s.number
        for s in sorted(centra.shipments.values(), key=lambda s: s.id)
        if centra.orders[s.order_number].store_uri == "wms" and s.number not in special
    ]
    return numbers[0], numbers[1]


async def test_half_an_item_returned_is_parked_naming_the_line(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        bad, good = two_plain_shipments(world)
        await ship(world, bad)
        await ship(world, good)
        give_back(world, bad, {line_ids(world, bad)[0]: (0.5, "Defect")})
        give_back(world, good, {line_ids(world, good)[0]: (1, None)})

        assert await run(world) == 1

        assert [r["shipment"] for r in centra_returns(world)] == [good]
        record = await world.state.get_record(RecordRef("se", RecordKind.RETURN, bad))
        assert record is not None and record.state == ReturnState.INVALID
        [dead] = await world.state.list_dead("se")
        assert f"returned order {bad!r}" in dead.reason and "lines[0].returned" in dead.reason
        assert isinstance(dead.payload, dict) and dead.payload["order_number"] == bad
        assert await run(world) == 0, "a parked record waits for a person"


async def test_a_return_centra_refuses_is_parked_and_not_marked(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        unshipped, good = two_plain_shipments(world)
        await ship(world, good)
        await ship(world, unshipped, confirm=False)
        give_back(world, unshipped, {line_ids(world, unshipped)[0]: (1, None)})
        give_back(world, good, {line_ids(world, good)[0]: (1, None)})

        assert await run(world) == 1

        assert [r["shipment"] for r in centra_returns(world)] == [good]
        assert set(reported_returned(world, unshipped).values()) == {None}
        record = await world.state.get_record(RecordRef("se", RecordKind.RETURN, unshipped))
        assert record is not None and record.state == ReturnState.REFUSED
        [dead] = await world.state.list_dead("se")
        assert "return could not be created" in dead.reason
