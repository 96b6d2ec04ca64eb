"""The people in the demo: a customer who cancels and warehouse staff who do things by hand.

Each step waits for its moment in the run, then acts once: the customer cancels a shipment
the warehouse already holds (in the Centra emulator); staff receive the supplier delivery in
two parts, register returns on shipped orders and correct the stock of a few articles, all
through the Ongoing emulator's control API, as a person at a warehouse terminal would.
"""

from __future__ import annotations

from typing import Any

import httpx
from rich.console import Console

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.files import FilesWmsEmulator
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.errors import RemoteRefusedError
from centrasync.store import RecordKind
from centrasync.sync.shipments import ShipmentState

from .judge import Snapshot
from .plan import Plan, ReturnPlan

__all__ = ["Story"]


class Story:
    """Plays each step of the plan once, when the run has reached the point it needs."""

    def __init__(
        self,
        plan: Plan,
        centra: CentraEmulator,
        ongoing: OngoingEmulator | FilesWmsEmulator,
        control: httpx.AsyncClient,
        console: Console,
    ) -> None:
        self.plan = plan
        self.centra = centra
        self.ongoing = ongoing
        self.control = control
        self.console = console
        self.cancel_sent = False
        self.receipts = 0
        self.returned: set[str] = set()
        self.recounted = False

    async def stock_the_shelves(self) -> None:
        """Before the engine starts: the warehouse holds what Centra says the shop has.

        The WMS knows no articles yet, so each count waits for its article; once the
        catalogue import creates it, the WMS and Centra agree and the stock flow has
        nothing to write, except where the story changes a count.
        """
        opening = self.plan.opening_stock
        await self._call("PUT", "/_emulator/stock/opening", {"articles": opening})
        self._say(
            f"Ongoing WMS: {len(opening)} articles' stock is on the shelves before the "
            f"catalogue reaches the WMS ({self.plan.main}'s figures in Centra)"
        )

    async def act(self, snap: Snapshot) -> None:
        self._cancel_when_in_wms(snap)
        await self._receive()
        for plan in self.plan.returns:
            await self._return_when_completed(snap, plan)
        await self._recount_when_listed()

    def _cancel_when_in_wms(self, snap: Snapshot) -> None:
        """Cancel the seed's to-cancel shipment in Centra once the WMS has its order.

        The auto-operator holds that order, so the warehouse cannot start picking it
        before the engine passes the cancellation on.
        """
        number = self.plan.cancelled
        state = snap.states(self.plan.store_of[number], RecordKind.SHIPMENT).get(number)
        if self.cancel_sent or state != ShipmentState.SENT:
            return
        self.centra.world.cancel_shipment(number)
        self.cancel_sent = True
        self._say(f"{number}: cancelled in Centra while the warehouse holds its order")

    async def _receive(self) -> None:
        """Receive part of the held in-order, and the rest once Centra accepted the first part."""
        plan = self.plan.in_delivery
        path = f"/_emulator/purchase-orders/{plan.in_order}/receive"
        total = sum(plan.announced.values())
        if self.receipts == 0 and self._in_wms(plan.in_order):
            lines = [{"article_number": a, "quantity": q} for a, q in plan.first.items()]
            await self._call("POST", path, {"lines": lines})
            self.receipts = 1
            self._say(
                f"in-order {plan.in_order}: the warehouse received {sum(plan.first.values())} "
                f"of {total} units; the rest is still on the truck"
            )
        elif self.receipts == 1 and any(
            w.store_uri == plan.store for w in self.centra.world.written("supplier_acceptances")
        ):
            await self._call("POST", path, None)
            self.receipts = 2
            self._say(
                f"in-order {plan.in_order}: the other {sum(plan.rest.values())} units arrived "
                "and were received"
            )

    def _in_wms(self, in_order: str) -> bool:
        return any(p.number == in_order for p in self.ongoing.state.purchase_orders.values())

    async def _return_when_completed(self, snap: Snapshot, plan: ReturnPlan) -> None:
        state = snap.states(plan.store, RecordKind.SHIPMENT).get(plan.shipment)
        if plan.shipment in self.returned or state != ShipmentState.COMPLETED:
            return
        lines = [
            {"article_number": line.article, "quantity": line.quantity, "cause": line.cause}
            for line in plan.lines
        ]
        await self._call("POST", f"/_emulator/orders/{plan.shipment}/return", {"lines": lines})
        self.returned.add(plan.shipment)
        goods = ", ".join(
            f"{line.quantity} x {line.article}" + (f" ({line.cause})" if line.cause else "")
            for line in plan.lines
        )
        self._say(f"{plan.shipment}: the customer sent back {goods}")

    async def _recount_when_listed(self) -> None:
        """Correct the stock of the plan's articles once the catalogue import created them."""
        changes = self.plan.stock_changes
        if self.recounted or any(c.sku not in self.ongoing.state.articles for c in changes):
            return
        for change in changes:
            before = self.ongoing.state.articles[change.sku].number_of_items
            body = {
                "article_number": change.sku,
                "number_of_items": change.count,
                "locked_number_of_items": change.locked,
            }
            await self._call("POST", "/_emulator/stock/adjust", body)
            self._say(
                f"stock-take {change.sku}: {before:g} -> {change.count} in the WMS ({change.why})"
            )
        self.recounted = True

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> None:
        response = await self.control.request(method, path, json=body)
        if response.is_error:
            raise RemoteRefusedError(
                "the demo's warehouse step was refused",
                system="ongoing-emulator",
                endpoint=f"{method} {path}",
                status=response.status_code,
                body=response.text,
            )

    def _say(self, text: str) -> None:
        self.console.print(text, highlight=False, soft_wrap=True)
