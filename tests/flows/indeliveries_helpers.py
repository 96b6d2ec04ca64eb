"""Small steps the in-deliveries tests share: the seed's delivery, receiving, read-backs."""

from __future__ import annotations

from collections import Counter
from typing import Any

from centrasync.emulators.ongoing.floor import LineQuantity
from centrasync.sync.indeliveries import InDeliveriesFlow

from .report_world import KillSwitch, World, clients, store_settings


def seed_delivery(world: World) -> tuple[str, str]:
    """The demo seed's open supplier delivery: its ``id`` and ``deliveryId``."""
    delivery = world.centra.seed_summary["supplier_delivery"]
    return str(delivery["id"]), str(delivery["deliveryId"])


def receive(world: World, number: str, quantity: float) -> None:
    """The warehouse receives ``quantity`` of every line of in-order ``number``."""
    po = world.ongoing.state.purchase_order_by_number(number)
    world.ongoing.state.receive(
        number, [LineQuantity(line.article.number, quantity) for line in po.lines]
    )


def acceptances(world: World) -> list[dict[str, Any]]:
    return [w.data for w in world.centra.world.written("supplier_acceptances")]


def accepted_totals(world: World) -> Counter[str]:
    totals: Counter[str] = Counter()
    for accepted in acceptances(world):
        totals.update({size: int(qty) for size, qty in accepted["received"].items()})
    return totals


async def run(world: World, switch: KillSwitch | None = None, **options: Any) -> int:
    async with clients(world, switch) as (centra, wms):
        flow = InDeliveriesFlow(store_settings(**options), world.state, centra, wms)
        return await flow.run()


async def settle(world: World) -> None:
    """Run clean passes until nothing moves, as the worker would after a restart."""
    for _ in range(5):
        if await run(world) == 0:
            return
    raise AssertionError("the flow did not settle")
