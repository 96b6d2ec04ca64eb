"""The returns flow on both emulators: WMS returns become Centra returns, exactly once."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
import pytest

from centrasync.store.base import RecordKind, RecordRef
from centrasync.sync.returns import ReturnsFlow, ReturnState

from .report_world import Killed, KillSwitch, World, clients, open_world, store_settings
from .returns_helpers import (
    centra_returns,
    give_back,
    line_ids,
    plain_shipment,
    reported_returned,
    returned_totals,
    run,
    settle,
    ship,
)


def physical_stock(world: World, number: str, line_id: str) -> int:
    """Centra's physical stock of the size on a shipment line, in its warehouse."""
    centra = world.centra.world
    shipment = centra.store_shipment(centra.stores["wms"], number)
    assert shipment is not None
    order = centra.orders[shipment.order_number]
    line = next(ln for ln in order.lines if str(ln.id) == line_id)
    return centra.stock_level(line.warehouse_id, line.size_id).physical


@pytest.mark.parametrize("return_stock", [True, False])
async def test_the_return_stock_setting_decides_whether_centra_restocks(
    tmp_path: Path, return_stock: bool
) -> None:
    async with open_world(tmp_path) as world:
        number = plain_shipment(world, lines=1)
        await ship(world, number)
        line = line_ids(world, number)[0]
        before = physical_stock(world, number, line)
        give_back(world, number, {line: (1, None)})

        assert await run(world, return_stock=return_stock) == 1

        [made] = centra_returns(world)
        assert made["shipment"] == number
        assert made["products"] == {line: 1}
        assert made["returnStock"] is return_stock
        assert physical_stock(world, number, line) == before + (1 if return_stock else 0)
        assert reported_returned(world, number)[line] == 1.0
        record = await world.state.get_record(RecordRef("se", RecordKind.RETURN, number))
        assert record is not None and record.state == ReturnState.REPORTED
        assert record.last_response == {
            "returns": [str(made["returnId"])],
            "created": [
                {"return": str(made["returnId"]), "returned_items": [line], "found_by": "create"}
            ],
        }


@pytest.mark.parametrize("include_comment", [True, False])
async def test_the_comment_setting_gives_each_line_its_own_return_causes(
    tmp_path: Path, include_comment: bool
) -> None:
    async with open_world(tmp_path) as world:
        number = plain_shipment(world, lines=2)
        await ship(world, number)
        first, second = line_ids(world, number)[:2]
        give_back(world, number, {first: (1, "Too small")})
        give_back(world, number, {first: (1, "Defect"), second: (1, "Wrong colour")})

        assert await run(world, include_return_comment=include_comment) == 1

        made = sorted(
            ((r["products"], r["comment"]) for r in centra_returns(world)),
            key=lambda pair: sorted(pair[0]),
        )
        if include_comment:
            assert made == [
                ({first: 2}, "Too small, Defect"),
                ({second: 1}, "Wrong colour"),
            ]
        else:
            assert made == [({first: 2, second: 1}, None)]
        reported = reported_returned(world, number)
        assert (reported[first], reported[second]) == (2.0, 1.0)


async def test_later_returns_on_the_same_line_are_reported_as_new_returns_once(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        number = plain_shipment(world, lines=2)
        await ship(world, number)
        line = line_ids(world, number)[0]
        give_back(world, number, {line: (1, None)})
        assert await run(world) == 1
        assert await run(world) == 0
        give_back(world, number, {line: (1, None)})

        assert await run(world) == 1
        assert await run(world) == 0

        assert [r["products"] for r in centra_returns(world)] == [{line: 1}, {line: 1}]
        assert reported_returned(world, number)[line] == 2.0
        record = await world.state.get_record(RecordRef("se", RecordKind.RETURN, number))
        assert record is not None and isinstance(record.last_response, dict)
        assert record.last_response["returns"] == [
            str(r["returnId"]) for r in centra_returns(world)
        ]


def is_return(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/return")


async def test_a_return_in_doubt_is_looked_up_not_made_again(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        number = plain_shipment(world, lines=2)
        await ship(world, number)
        first, second = line_ids(world, number)[:2]
        give_back(world, number, {first: (1, "Defect"), second: (1, "Defect")})
        with pytest.raises(Killed):
            await run(world, KillSwitch(when=is_return), include_return_comment=True)
        assert len(centra_returns(world)) == 1
        # More comes back before the restart; the interrupted plan must not grow with it.
        give_back(world, number, {first: (1, "Too small")})

        assert await run(world, include_return_comment=True) == 1

        assert len(centra_returns(world)) == 1
        record = await world.state.get_record(RecordRef("se", RecordKind.RETURN, number))
        assert record is not None and isinstance(record.last_response, dict)
        assert record.last_response["created"][0]["found_by"] == "look"
        reported = reported_returned(world, number)
        assert (reported[first], reported[second]) == (1.0, 1.0)

        assert await run(world, include_return_comment=True) == 1

        # The line's comment holds every cause it has had: Ongoing keeps causes per item, not
        # which items were reported.
        assert [(r["products"], r["comment"]) for r in centra_returns(world)] == [
            ({first: 1, second: 1}, "Defect"),
            ({first: 1}, "Defect, Too small"),
        ]
        assert reported_returned(world, number)[first] == 2.0


@pytest.mark.slow
async def test_a_kill_at_any_request_returns_nothing_twice(tmp_path: Path) -> None:
    """Kill the pass after its n-th request, for every n it makes; restart; check.

    With comments on and two cause groups a pass makes six requests: list the orders (two
    pages), create two returns, mark two lines.
    """
    looked = 0
    for kill_at in range(1, 7):
        async with open_world(tmp_path / str(kill_at)) as world:
            number = plain_shipment(world, lines=2)
            await ship(world, number)
            first, second = line_ids(world, number)[:2]
            give_back(world, number, {first: (2, "Defect"), second: (1, "Too big")})
            with contextlib.suppress(Killed):
                await run(world, KillSwitch(after=kill_at), include_return_comment=True)
            await settle(world, include_return_comment=True)

            assert returned_totals(world) == {first: 2, second: 1}, kill_at
            assert len(centra_returns(world)) == 2, kill_at
            assert reported_returned(world, number)[first] == 2.0, kill_at
            assert reported_returned(world, number)[second] == 1.0, kill_at
            record = await world.state.get_record(RecordRef("se", RecordKind.RETURN, number))
            assert record is not None and record.state == ReturnState.REPORTED, kill_at
            assert isinstance(record.last_response, dict)
            assert sorted(record.last_response["returns"]) == sorted(
                str(r["returnId"]) for r in centra_returns(world)
            ), kill_at
            looked += sum(
                made.get("found_by") == "look" for made in record.last_response["created"]
            )
    assert looked >= 2, "some kills must land right after a return was made"


async def test_a_return_on_another_stores_shipment_is_left_to_that_store(tmp_path: Path) -> None:
    """Stores sharing one goods owner see each other's returns; each reports only its own."""
    async with open_world(tmp_path) as world:
        number = plain_shipment(world, lines=1)
        await ship(world, number)
        line = line_ids(world, number)[0]
        give_back(world, number, {line: (1, None)})
        other = store_settings().model_copy(update={"name": "other"})

        async with clients(world) as (centra, wms):
            assert await ReturnsFlow(other, world.state, centra, wms).run() == 0

        assert centra_returns(world) == []
        assert await world.state.list_records("other", kind=RecordKind.RETURN) == []
        assert await world.state.list_dead("other") == []
        # The owning store still reports it.
        assert await run(world) == 1
