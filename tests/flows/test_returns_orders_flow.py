"""Returns registered as WMS return orders become Centra returns, exactly once (#18, item 6).

The WMS keeps no reported figure for return orders, so the ledger keeps it; the store's
``returns_from`` setting decides which of the two roads the flow reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from centrasync.emulators.ongoing.floor import ReturnRequest
from centrasync.emulators.ongoing.payloads import (
    CustomerOrderLineRefIn,
    CustomerOrderRefIn,
    ReturnOrderIn,
    ReturnOrderLineIn,
)
from centrasync.store.base import RecordKind, RecordRef
from centrasync.sync.returns import RETURN_ORDERS, ReturnsFlow, ReturnState

from .report_world import Killed, KillSwitch, World, clients, open_world, store_settings
from .returns_helpers import (
    centra_returns,
    give_back,
    line_ids,
    plain_shipment,
    reported_returned,
    returned_totals,
    run,
    ship,
)

FROM_RETURN_ORDERS = {"returns_from": "return_orders"}


async def shipped(world: World, lines: int = 2) -> tuple[str, list[str]]:
    """A plain demo shipment, shipped and completed; its number and Centra lineIds."""
    number = plain_shipment(world, lines=lines)
    await ship(world, number)
    return number, line_ids(world, number)


def requests(world: World, number: str, returns: Mapping[str, float]) -> list[ReturnRequest]:
    order = world.ongoing.state.order_by_number(number)
    articles = {str(line.row.external_id): line.article.number for line in order.lines}
    return [ReturnRequest(articles[line], qty, "Defect") for line, qty in returns.items()]


def return_order(world: World, number: str, returns: Mapping[str, float]) -> str:
    """The warehouse registers goods back on shipment ``number`` as a return order."""
    made = world.ongoing.state.open_return_order(number, None, requests(world, number, returns))
    return made.number


def announce(world: World, number: str, ro_number: str, returns: Mapping[str, float]) -> None:
    """A return order announced to the WMS (as a client's PUT would), nothing back yet."""
    order = world.ongoing.state.order_by_number(number)
    ids = {str(line.row.external_id): line.line_id for line in order.lines}
    world.ongoing.state.upsert_return_order(
        ReturnOrderIn(
            goods_owner_id=1,
            return_order_number=ro_number,
            customer_order=CustomerOrderRefIn(order_id=order.order_id),
            return_order_lines=[
                ReturnOrderLineIn(
                    return_order_row_number=str(index),
                    customer_order_line=CustomerOrderLineRefIn(order_line_id=ids[line]),
                    to_be_returned_number_of_items=qty,
                )
                for index, (line, qty) in enumerate(returns.items(), start=1)
            ],
        )
    )


async def record_of(world: World, key: str) -> dict[str, object]:
    record = await world.state.get_record(RecordRef("se", RecordKind.RETURN, key))
    assert record is not None and isinstance(record.last_response, dict)
    assert record.state == ReturnState.REPORTED
    return record.last_response


async def test_a_return_order_becomes_one_centra_return_and_the_ledger_keeps_it(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        number, (first, *_) = await shipped(world)
        ro = return_order(world, number, {first: 1})

        assert await run(world, **FROM_RETURN_ORDERS) == 1
        assert await run(world, **FROM_RETURN_ORDERS) == 0

        [made] = centra_returns(world)
        assert (made["shipment"], made["products"]) == (number, {first: 1})
        response = await record_of(world, f"{number}/{ro}")
        assert response["reported"] == {first: "1.0"}
        assert reported_returned(world, number)[first] is None, "the order's lines are not marked"
        assert await world.state.get_cursor("se", RETURN_ORDERS) is not None


async def test_more_goods_on_an_announced_return_order_are_a_new_return_once(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        number, (first, *_) = await shipped(world)
        announce(world, number, "RO-7", {first: 2})
        assert await run(world, **FROM_RETURN_ORDERS) == 0, "announced is not returned"

        world.ongoing.state.take_back("RO-7", requests(world, number, {first: 1}))
        assert await run(world, **FROM_RETURN_ORDERS) == 1
        world.ongoing.state.take_back("RO-7", requests(world, number, {first: 1}))
        assert await run(world, **FROM_RETURN_ORDERS) == 1
        assert await run(world, **FROM_RETURN_ORDERS) == 0

        assert [r["products"] for r in centra_returns(world)] == [{first: 1}, {first: 1}]
        response = await record_of(world, f"{number}/RO-7")
        assert response["reported"] == {first: "2.0"}


async def test_the_setting_decides_which_road_the_flow_reads(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        number, (first, second, *_) = await shipped(world)
        give_back(world, number, {first: (1, None)})
        ro = return_order(world, number, {second: 1})

        assert await run(world) == 1, "the default reads the order's own lines only"
        assert [r["products"] for r in centra_returns(world)] == [{first: 1}]
        assert await run(world, returns_from="both") == 1
        assert returned_totals(world) == {first: 1, second: 1}
        assert await run(world, returns_from="both") == 0
        await record_of(world, number)
        await record_of(world, f"{number}/{ro}")


def is_return(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/return")


async def test_a_return_order_return_in_doubt_is_looked_up_not_made_again(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        number, (first, *_) = await shipped(world)
        ro = return_order(world, number, {first: 1})
        with pytest.raises(Killed):
            await run(world, KillSwitch(when=is_return), **FROM_RETURN_ORDERS)
        assert len(centra_returns(world)) == 1
        assert await world.state.get_cursor("se", RETURN_ORDERS) is None

        assert await run(world, **FROM_RETURN_ORDERS) == 1
        assert await run(world, **FROM_RETURN_ORDERS) == 0

        assert len(centra_returns(world)) == 1
        response = await record_of(world, f"{number}/{ro}")
        assert response["reported"] == {first: "1.0"}


async def test_the_cursor_stays_behind_a_return_order_that_must_be_retried(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        number, (first, *_) = await shipped(world, lines=1)
        return_order(world, number, {first: 1})
        settings = store_settings(**FROM_RETURN_ORDERS)

        async with clients(world, centra_fails_first=is_return) as (centra, wms):
            assert await ReturnsFlow(settings, world.state, centra, wms).run() == 0
        assert await world.state.get_cursor("se", RETURN_ORDERS) is None

        assert await run(world, **FROM_RETURN_ORDERS) == 1
        assert len(centra_returns(world)) == 1
        assert await world.state.get_cursor("se", RETURN_ORDERS) is not None
