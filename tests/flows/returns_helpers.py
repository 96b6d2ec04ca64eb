"""Small steps the returns tests share: a shipped shipment, goods coming back, read-backs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from centrasync.emulators.ongoing.floor import ReturnRequest
from centrasync.sync.returns import ReturnsFlow
from centrasync.sync.shipments import ShipmentFlows

from .report_world import KillSwitch, World, clients, store_settings


def plain_shipment(world: World, *, lines: int) -> str:
    """A Stockholm demo shipment with at least ``lines`` lines and no special role."""
    summary = world.centra.seed_summary
    special = {summary[k]["shipment"] for k in ("capture_declines", "to_cancel", "short_pick")}
    centra = world.centra.world
    for shipment in sorted(centra.shipments.values(), key=lambda s: s.id):
        order = centra.orders[shipment.order_number]
        plain = shipment.number not in special and len(shipment.lines) >= lines
        if plain and order.store_uri == "wms":
            return shipment.number
    raise AssertionError(f"the demo seed has no plain shipment with {lines} lines")


async def ship(world: World, number: str, *, confirm: bool = True) -> None:
    """The shipment goes to the WMS, is picked and shipped, and Centra completes it.

    ``confirm=False`` stops before Centra hears of it: shipped in the WMS only.
    """
    async with clients(world) as (centra, wms):
        flows = ShipmentFlows(store_settings(), world.state, centra, wms)
        order = number.rsplit("-", 1)[0]
        [shipment] = [
            s for s in await centra.list_shipments(order=order) if s.shipment_id == number
        ]
        assert await flows.outbound.take(shipment, source="webhook")
        world.ongoing.state.pick(number, None)
        world.ongoing.state.ship(number, None)
        if confirm:
            assert await flows.confirm_shipped() == 1


def line_ids(world: World, number: str) -> list[str]:
    """The Centra lineIds of a WMS order, in line order."""
    order = world.ongoing.state.order_by_number(number)
    return [str(line.row.external_id) for line in order.lines]


def give_back(world: World, number: str, returns: Mapping[str, tuple[float, str | None]]) -> None:
    """The warehouse takes back ``{lineId: (quantity, cause)}`` on order ``number``."""
    order = world.ongoing.state.order_by_number(number)
    articles = {str(line.row.external_id): line.article.number for line in order.lines}
    world.ongoing.state.return_goods(
        number,
        [ReturnRequest(articles[line], qty, cause) for line, (qty, cause) in returns.items()],
    )


def centra_returns(world: World) -> list[dict[str, Any]]:
    return [w.data for w in world.centra.world.written("returns")]


def returned_totals(world: World) -> Counter[str]:
    totals: Counter[str] = Counter()
    for made in centra_returns(world):
        totals.update(made["products"])
    return totals


def reported_returned(world: World, number: str) -> dict[str, float | None]:
    order = world.ongoing.state.order_by_number(number)
    return {str(line.row.external_id): line.reported_returned for line in order.lines}


async def run(world: World, switch: KillSwitch | None = None, **options: Any) -> int:
    async with clients(world, switch) as (centra, wms):
        flow = ReturnsFlow(store_settings(**options), world.state, centra, wms)
        return await flow.run()


async def settle(world: World, **options: Any) -> None:
    """Run clean passes until nothing moves, as the worker would after a restart."""
    for _ in range(5):
        if await run(world, **options) == 0:
            return
    raise AssertionError("the flow did not settle")
