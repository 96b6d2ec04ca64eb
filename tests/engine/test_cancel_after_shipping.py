"""A shipment cancelled in Centra while the warehouse ships it: too late, told as such.

The cancellation pass usually sees the cancellation first and parks the shipment as too
late. When the confirmation pass gets there first, every Centra write on the shipment is
refused ("shipment does not exist"); that must still end as a late cancellation a person
is told about, never as a plain refusal, and nothing may be captured or completed.
"""

from __future__ import annotations

from pathlib import Path

from centrasync.sync.shipments import ShipmentState
from centrasync.sync.worker import SHIPMENTS

from .helpers import SE, US, StoreSetup
from .shop import Shop, open_shop


async def test_confirmation_that_finds_the_shipment_cancelled_parks_it_too_late(
    tmp_path: Path,
) -> None:
    async with open_shop(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}") as shop:
        await shop.run_pass()
        declined = shop.centra.seed_summary["capture_declines"]["shipment"]
        short_pick = shop.centra.seed_summary["short_pick"]["shipment"]
        chosen = {}
        for worker in shop.engine.workers:
            store = SE if worker.flows.store_name == SE.name else US
            ledger = await shop.ledger(store)
            number = min(
                n
                for n, state in ledger.items()
                if state == ShipmentState.SENT and n not in (declined, short_pick)
            )
            floor = shop.warehouses[store.name].state
            floor.allocate(number)
            floor.pick(number, None)
            floor.ship(number, None)
            await shop.cancel_in_centra(number)

            # Confirmation before the cancellation pass: the order in which they race.
            await worker.run_under_lease(SHIPMENTS, worker.flows.confirm_shipped)
            chosen[store.name] = number

        writes = (await shop.control.get("/_emulator/writes")).json()
        for store in (SE, US):
            await assert_parked_once_too_late(shop, store, chosen[store.name])
            assert chosen[store.name] not in {w["shipment"] for w in writes["completions"]}

        # Later passes leave it parked and tell nobody twice.
        await shop.run_pass()
        for store in (SE, US):
            await assert_parked_once_too_late(shop, store, chosen[store.name])


async def assert_parked_once_too_late(shop: Shop, store: StoreSetup, number: str) -> None:
    assert (await shop.ledger(store))[number] == ShipmentState.CANCEL_TOO_LATE
    dead = [d for d in await shop.state.list_dead(store.name) if d.record.key == number]
    assert len(dead) == 1
    assert dead[0].reason.startswith("cancelled in Centra after picking began")
