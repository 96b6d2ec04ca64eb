"""Where an order's goods are allocated: at once, check-first, or direct-then-confirm.

Ship-from-store (Centra's POS guide): a "Check first, then allocate" warehouse is offered
the order and must accept it (``POST /check-first``) before anything is allocated; a
"Direct, then confirm" warehouse gets the goods allocated at once and must confirm the
allocation request (``PUT /allocation-request``). Each step is announced by a
``check_first`` or ``allocation_request`` webhook event with the documented ``data``.

[I] Offers and requests expire an hour after they are made (the docs' examples); the
emulator notices an expiry at the first Order API or control request after it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .model import AllocationRequest, AllocationRequestStatus, CheckFirstOffer, Order, Store
from .state import Refusal, WorldState

__all__ = ["CONFIRM_WITHIN", "OPEN_REQUEST", "AllocationOps"]

CONFIRM_WITHIN = timedelta(hours=1)
# [I] What GET /allocation-requests lists by default ("pending"): what a store can act on.
OPEN_REQUEST: frozenset[AllocationRequestStatus] = frozenset({"allocated", "sent", "timed-out"})
_FINAL: frozenset[AllocationRequestStatus] = frozenset({"confirmed", "rejected", "outdated"})


class AllocationOps(WorldState):
    """Allocation of placed orders, check-first offers and allocation requests."""

    def start_fulfilment(self, order: Order, ship_from: list[int]) -> None:
        """Announce the order, then allocate it or offer it to its ship-from warehouses."""
        self.emit("order", "create", order.number, order.store_uri)
        policies = {self.warehouses[w].allocation_policy for w in ship_from}
        if "check_first" in policies:
            self._offer(order, ship_from)
        elif "direct_then_confirm" in policies:
            self._request(order, ship_from)
        else:
            self.allocate_order(order, self.stores[order.store_uri].primary_warehouse_id)

    def close_allocation(self, order: Order) -> None:
        """A cancelled order: its open offers are rejected, its open requests outdated [I]."""
        for offer in self._offers(order):
            if offer.status == "pending":
                offer.status = "rejected"
        for request in self._requests(order):
            if request.status not in _FINAL:
                request.status = "outdated"

    def expire_due(self) -> None:
        """Time out every offer and request whose time is up."""
        now = self.now()
        for offer in list(self.check_first_offers.values()):
            if offer.status == "pending" and offer.expires_at <= now:
                offer.status = "timeout"
                order = self.orders[offer.order_number]
                self._announce_offer(order, "timeout", offer.warehouse_id)
                self._after_offers(order)
        for request in list(self.allocation_requests.values()):
            if request.status in ("allocated", "sent") and request.expires_at <= now:
                order = self.orders[request.order_number]
                if request.status == "allocated":
                    # "items are reallocated, request still could be accepted"
                    self.release_order(order)
                    self.fall_back(order)
                request.status = "timed-out"
                self._announce_request(request, "update")

    # -- check first, then allocate ------------------------------------------------------

    def _offers(self, order: Order) -> list[CheckFirstOffer]:
        return [o for o in self.check_first_offers.values() if o.order_number == order.number]

    def _offer(self, order: Order, warehouses: list[int]) -> None:
        expires = self.now() + CONFIRM_WITHIN
        for warehouse_id in warehouses:
            offer = CheckFirstOffer(order.number, warehouse_id, expires)
            self.check_first_offers[(order.number, warehouse_id)] = offer
        zone = self.stores[order.store_uri].zone
        data = {
            "warehouses": [
                {"warehouseId": w, "expirationAt": expires.astimezone(zone).isoformat()}
                for w in warehouses
            ]
        }
        self.emit("check_first", "create", order.number, order.store_uri, data)

    def _announce_offer(self, order: Order, action: str, warehouse_id: int) -> None:
        data = {"warehouseId": warehouse_id}
        self.emit("check_first", action, order.number, order.store_uri, data)

    def _after_offers(self, order: Order) -> None:
        """Once every warehouse said no (or timed out), the order goes the regular way."""
        if all(o.status in ("rejected", "timeout") for o in self._offers(order)):
            self.fall_back(order)

    def check_first(self, store: Store, number: int, warehouse_id: int, accepted: bool) -> None:
        """``POST /check-first``: a warehouse accepts or rejects an order; no way back."""
        order = self.orders.get(number)
        if order is None or order.store_uri != store.uri:
            raise Refusal("order does not exist")
        offer = self.check_first_offers.get((number, warehouse_id))
        if offer is None or offer.status != "pending":
            raise Refusal("the order is not waiting for this warehouse")  # [I]
        if accepted and not self.can_allocate(order, warehouse_id):
            raise Refusal("failed to allocate stock")
        self.record(
            "check_first",
            store.uri,
            orderNumber=number,
            warehouseId=warehouse_id,
            accepted=accepted,
        )
        if not accepted:
            offer.status = "rejected"
            self._announce_offer(order, "rejected", warehouse_id)
            self._after_offers(order)
            return
        offer.status = "accepted"
        self.allocate_order(order, warehouse_id)
        self._announce_offer(order, "accepted", warehouse_id)
        for other in self._offers(order):
            if other.status == "pending":
                other.status = "rejected"
                self._announce_offer(order, "rejected", other.warehouse_id)

    # -- direct, then confirm --------------------------------------------------------------

    def _requests(self, order: Order) -> list[AllocationRequest]:
        return [r for r in self.allocation_requests.values() if r.order_number == order.number]

    def _request(self, order: Order, warehouses: list[int]) -> None:
        """Allocate in the first warehouse with room (else the primary); request each one."""
        holder = next((w for w in warehouses if self.can_allocate(order, w)), None)
        if holder is None:
            self.fall_back(order)
        else:
            self.allocate_order(order, holder)
        lines = [
            (line.id, self.allocated_units(order, line), line.size_id)
            for line in self.physical_lines(order)
        ]
        now = self.now()
        for warehouse_id in warehouses:
            request = AllocationRequest(
                id=self.new_id("allocation_request"),
                order_number=order.number,
                warehouse_id=warehouse_id,
                created_at=now,
                expires_at=now + CONFIRM_WITHIN,
                lines=list(lines),
                status="allocated" if warehouse_id == holder else "sent",
            )
            self.allocation_requests[request.id] = request
            self._announce_request(request, "create")

    def _announce_request(self, request: AllocationRequest, action: str) -> None:
        order = self.orders[request.order_number]
        store = self.stores[order.store_uri]
        # The POS guide's event shows the expiry as PHP's DateTime dump.
        expires = request.expires_at.astimezone(store.zone)
        data: dict[str, Any] = {
            "status": request.status,
            "warehouseId": request.warehouse_id,
            "expirationDate": {
                "date": expires.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "timezone_type": 3,
                "timezone": store.timezone,
            },
            "order": {"id": order.selection_id, "number": order.number},
            "lines": {
                str(line_id): {"lineId": line_id, "quantity": qty, "stockItemId": size_id}
                for line_id, qty, size_id in request.lines
            },
        }
        self.emit("allocation_request", action, request.id, store.uri, data)

    def store_allocation_requests(self, store: Store) -> list[AllocationRequest]:
        return [
            r
            for r in self.allocation_requests.values()
            if self.orders[r.order_number].store_uri == store.uri
        ]

    def answer_allocation_request(
        self, store: Store, request_id: int, status: str
    ) -> list[str] | dict[str, str]:
        """``PUT /allocation-request``: the documented error messages, empty on success."""
        if status not in ("confirmed", "rejected"):
            return {"status": "invalid value, expected 'confirmed' or 'rejected'"}
        request = self.allocation_requests.get(request_id)
        if request is None or self.orders[request.order_number].store_uri != store.uri:
            return ["Allocation request not found"]
        if request.status in _FINAL:
            return [f"You can't update allocation request, which is in status {request.status}."]
        order = self.orders[request.order_number]
        if status == "confirmed" and request.status != "allocated":
            if not self.can_allocate(order, request.warehouse_id):
                return ["Warehouse doesn't have sufficient stock to allocate the request."]
            self.release_order(order)
            self.allocate_order(order, request.warehouse_id)
        if status == "rejected" and request.status == "allocated":
            self.release_order(order)
            self.fall_back(order)
        request.status = "confirmed" if status == "confirmed" else "rejected"
        self.record("allocation_requests", store.uri, id=request_id, status=status)
        self._announce_request(request, "update")
        if status == "confirmed":
            for other in self._requests(order):
                if other.id != request.id and other.status not in _FINAL:
                    other.status = "outdated"
                    self._announce_request(other, "update")
        return []
