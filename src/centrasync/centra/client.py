"""Typed async methods for the Order API endpoints a warehouse integration uses.

Three layers (style.md §1): :class:`~centrasync.http.ResilientTransport` retries and rate
limits, :class:`~centrasync.centra.requestor.OrderApiRequestor` speaks the envelope and maps
errors, and :class:`OrderApiClient` turns endpoints into typed calls. Times go out as
merchant-local strings and come back as aware UTC (see :mod:`centrasync.centra.timezones`).

Priorities in the shared :class:`~centrasync.http.RateBudget`: the order flow (shipments,
orders, returns, captures) before the catalogue (products, stock, supplier deliveries).

Retries: reads and absolute writes (quantity updates, stock levels) are marked idempotent
and retried after 5xx or a dropped connection. Creating or completing a shipment, capturing,
deleting, creating a return and accepting a delivery are not: after an ambiguous failure
the error reaches the caller, who reads the state back before deciding to try again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

from centrasync.errors import MalformedResponseError, NotFoundError, RemoteRefusedError
from centrasync.http import Priority

from .base import OrderApiBase
from .models import Order, ProductRow, Return, Shipment, StockRow, SupplierDelivery, SupplierOrder
from .requestor import SYSTEM
from .results import (
    DeliveryAccepted,
    Page,
    ReturnCreated,
    SerialNumber,
    ShipmentCreated,
    ShipmentRef,
    StockUpdate,
    StockUpdateResult,
)
from .types import Moment, ShipmentStatus

__all__ = ["OrderApiClient"]


_FLOW = Priority.ORDER_FLOW
_CATALOGUE = Priority.CATALOGUE


def _order_number(order: str | int) -> int | str:
    """Centra documents ``order`` as an int; send one whenever the number is numeric."""
    text = str(order).strip()
    return int(text) if text.isdigit() else text


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _required(body: Mapping[str, Any], key: str, endpoint: str) -> str:
    """An id the caller must store (new shipment, new return); without it the write is lost."""
    value = body.get(key)
    if value in (None, "") or isinstance(value, bool | dict | list):
        raise MalformedResponseError(
            f"success envelope without {key!r}", system=SYSTEM, endpoint=endpoint
        )
    return str(value)


class OrderApiClient(OrderApiBase):
    """Typed calls for every Order API endpoint a warehouse integration needs.

    Build it with ``OrderApiClient(base_url, secret, timezone, transport=…, budget=…,
    retry=…, timeout=…, sleep=…)`` and use it as ``async with``; see :class:`OrderApiBase`.
    """

    # -- shipments -----------------------------------------------------------------------

    async def list_shipments(
        self,
        status: ShipmentStatus = "goodtogo",
        *,
        limit: int | None = None,
        offset: int | None = None,
        newer_than: Moment | None = None,
        older_than: Moment | None = None,
        order: str | int | None = None,
    ) -> Page[Shipment]:
        """Shipments in one state; the default is every Good-to-Go shipment not yet sent.

        Not an event queue: the same shipments come back on every call until completed.
        """
        # Centra bounds limit to 1-100 for inprogress/completed; goodtogo has no stated cap.
        if limit is not None and (limit < 1 or (status != "goodtogo" and limit > 100)):
            raise ValueError(f"limit must be between 1 and 100, got {limit}")
        params = self._params(
            status=status,
            limit=limit,
            offset=offset,
            newer_than=self._when(newer_than, "newer_than"),
            older_than=self._when(older_than, "older_than"),
            order=_opt(order),
        )
        body = await self._api.call(
            "GET", "shipments", params=params, idempotent=True, priority=_FLOW
        )
        return self._many(
            Shipment, body.get("shipments"), "shipment", "shipmentId", "GET /shipments"
        )

    async def create_shipment(
        self,
        order: str | int,
        quantities: Mapping[str, int],
        *,
        gtg: bool = False,
        capture: bool = True,
        shipped: bool = False,
    ) -> ShipmentCreated:
        """Create a shipment for ``{lineId: qty}``; a declined capture creates nothing.

        Not idempotent (a retry could make a second shipment), so never retried blindly.
        """
        payload = {
            "order": _order_number(order),
            "products": {str(line): qty for line, qty in quantities.items()},
            "gtg": gtg,
            "capture": capture,
            "shipped": shipped,
        }
        body = await self._api.call(
            "POST", "shipments", body=payload, idempotent=False, priority=_FLOW
        )
        return ShipmentCreated(
            order=str(body.get("order", order)),
            shipment=_required(body, "shipment", "POST /shipments"),
            delivery_note=str(body.get("deliveryNote") or ""),
            proforma=str(body.get("proforma") or ""),
            invoice=str(body.get("invoice") or ""),
        )

    async def update_shipment(
        self,
        shipment: str,
        *,
        quantities: Mapping[str, int] | None = None,
        serial_numbers: Mapping[str, SerialNumber] | None = None,
        gtg: bool | None = None,
    ) -> Shipment:
        """Set absolute line quantities and/or serial numbers; returns the updated node.

        Absolute values make a repeat harmless, so this call is retried like a read.
        """
        products: dict[str, Any] = {str(k): v for k, v in (quantities or {}).items()}
        for line, serial in (serial_numbers or {}).items():
            products[str(line)] = {"serialNumber": serial.serial_number, "qty": serial.qty}
        payload: dict[str, Any] = {}
        if products:
            payload["products"] = products
        if gtg is not None:
            payload["gtg"] = gtg
        endpoint = f"PUT /shipments/{shipment}"
        body = await self._api.call(
            "PUT", f"shipments/{shipment}", body=payload, idempotent=True, priority=_FLOW
        )
        return self._one(Shipment, body.get("shipment"), f"shipment {shipment}", endpoint)

    async def complete_shipment(
        self,
        order: str | int,
        shipment: str,
        *,
        carrier: str | None = None,
        service: str | None = None,
        packages: int | None = None,
        tracking: str | None = None,
        return_slip_tracking: str | None = None,
        send_email: bool | None = None,
        capture: bool | None = None,
        internal_comment: str | None = None,
    ) -> ShipmentRef:
        """Mark a paid, Good-to-Go shipment as sent, with carrier and tracking.

        Not idempotent: it emails the customer and may capture, so an ambiguous failure is
        reported to the caller, who reads the shipment back before trying again.
        """
        payload: dict[str, Any] = {"order": _order_number(order), "shipment": shipment}
        optional = {
            "carrier": carrier,
            "service": service,
            "packages": packages,
            "tracking": tracking,
            "returnSlipTracking": return_slip_tracking,
            "sendEmail": send_email,
            "capture": capture,
            "internalComment": internal_comment,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        body = await self._api.call(
            "PUT", "shipment", body=payload, idempotent=False, priority=_FLOW
        )
        return ShipmentRef(_opt(body.get("order", order)), str(body.get("shipment", shipment)))

    async def capture_shipment(self, shipment: str) -> ShipmentRef:
        """Capture the shipment's amount; a decline raises ``CaptureDeclinedError``: do not ship."""
        body = await self._api.call(
            "PUT", "capture", body={"shipment": shipment}, idempotent=False, priority=_FLOW
        )
        return ShipmentRef(_opt(body.get("order")), str(body.get("shipment", shipment)))

    async def delete_shipment(self, shipment: str) -> ShipmentRef:
        """Delete a shipment without invoices or credit notes.

        Marked non-idempotent although DELETE usually is: a repeat after an unseen success
        would report "does not exist" and hide that the first call worked.
        """
        body = await self._api.call(
            "DELETE", f"shipments/{shipment}", idempotent=False, priority=_FLOW
        )
        return ShipmentRef(_opt(body.get("order")), str(body.get("shipment", shipment)))

    # -- orders --------------------------------------------------------------------------

    async def list_orders(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        newer_than: Moment | None = None,
        older_than: Moment | None = None,
        customer_id: str | int | None = None,
        order: str | int | None = None,
    ) -> Page[Order]:
        """Orders in the statuses the plugin is configured to return (Centra's default limit 20)."""
        params = self._params(
            limit=limit,
            offset=offset,
            newer_than=self._when(newer_than, "newer_than"),
            older_than=self._when(older_than, "older_than"),
            customer_id=_opt(customer_id),
            order=_opt(order),
        )
        body = await self._api.call("GET", "orders", params=params, idempotent=True, priority=_FLOW)
        return self._many(Order, body.get("orders"), "order", "orderId", "GET /orders")

    async def get_order(self, order: str | int) -> Order:
        """One order by number; NotFoundError when the plugin cannot see it."""
        page = await self.list_orders(order=order, limit=1)
        if page.rejected:
            raise page.rejected[0]
        if not page.items:
            raise NotFoundError(
                f"order {order} is not visible to this plugin",
                system=SYSTEM,
                endpoint="GET /orders",
            )
        return page.items[0]

    # -- catalogue -----------------------------------------------------------------------

    def iter_products(
        self,
        *,
        modified_since: Moment | None = None,
        created_since: Moment | None = None,
        limit: int = 100,
        sku: str | None = None,
        ean: str | None = None,
    ) -> AsyncIterator[Page[ProductRow]]:
        """Product rows (one per size), page by page so a flow can checkpoint after each."""
        params = self._params(
            limit=limit,
            modified=self._when(modified_since, "modified_since"),
            created=self._when(created_since, "created_since"),
            sku=sku,
            ean=ean,
        )
        return self._follow("products", ProductRow, "product row", params)

    def iter_stock(
        self,
        *,
        modified_since: Moment | None = None,
        stock_modified_since: Moment | None = None,
        created_since: Moment | None = None,
        limit: int = 100,
        sku: str | None = None,
        ean: str | None = None,
    ) -> AsyncIterator[Page[StockRow]]:
        """Stock rows (primary + virtual warehouses summed), page by page."""
        params = self._params(
            limit=limit,
            modified=self._when(modified_since, "modified_since"),
            stock_modified=self._when(stock_modified_since, "stock_modified_since"),
            created=self._when(created_since, "created_since"),
            sku=sku,
            ean=ean,
        )
        return self._follow("stock", StockRow, "stock row", params)

    async def update_stock(
        self, items: Iterable[StockUpdate], *, batch_size: int = 100
    ) -> StockUpdateResult:
        """Set absolute physical stock in the plugin's primary warehouse, in batches.

        Absolute values make a repeated batch harmless, so batches are retried like reads.
        Unknown items and bundles are collected into the result, not raised.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        pending = list(items)
        not_found: list[str] = []
        bundles: list[str] = []
        batches = 0
        for start in range(0, len(pending), batch_size):
            rows = [self._stock_row(item) for item in pending[start : start + batch_size]]
            batches += 1
            body = await self._stock_batch(rows)
            errors = body.get("errors") or {}
            not_found.extend(str(p) for p in errors.get("productsNotFound") or ())
            bundles.extend(str(p) for p in errors.get("productsAreBundles") or ())
        return StockUpdateResult(len(pending), batches, tuple(not_found), tuple(bundles))

    @staticmethod
    def _stock_row(item: StockUpdate) -> dict[str, Any]:
        row: dict[str, Any] = {"product": item.product, "quantity": item.quantity}
        if item.cost_price is not None:
            row["costPrice"] = float(item.cost_price)
        if item.cost_price_currency is not None:
            row["costPriceCurrency"] = item.cost_price_currency
        return row

    async def _stock_batch(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        try:
            return await self._api.call(
                "POST", "stock", body={"products": rows}, idempotent=True, priority=_CATALOGUE
            )
        except RemoteRefusedError as exc:
            # Partial failure is a "no" that lists the items it skipped; keep going.
            errors = exc.details.get("errors")
            if isinstance(errors, dict) and (
                errors.get("productsNotFound") or errors.get("productsAreBundles")
            ):
                return {"errors": errors}
            raise

    # -- returns -------------------------------------------------------------------------

    async def create_return(
        self,
        shipment: str,
        quantities: Mapping[str, int],
        *,
        return_stock: bool | None = None,
        comment: str | None = None,
        created_at: Moment | None = None,
        return_cost: Decimal | None = None,
        refund_payment: bool | None = None,
        send_email: bool | None = None,
    ) -> ReturnCreated:
        """Return ``{lineId: qty}`` (order-line ids, as on the shipment) from a shipment.

        ``return_stock=None`` leaves the store's default stock action in charge. Centra
        creates the return even when some items cannot be returned; ``returned_items`` says
        which were. Not idempotent, so never retried blindly.
        """
        payload: dict[str, Any] = {
            "shipment": shipment,
            "products": {str(line): qty for line, qty in quantities.items()},
        }
        if return_stock is not None:
            payload["returnStock"] = return_stock
        if comment is not None:
            payload["comment"] = comment
        if created_at is not None:
            payload["createdAt"] = self._when(created_at, "created_at")
        if return_cost is not None:
            payload["returnCost"] = float(return_cost)
        if refund_payment is not None or send_email is not None:
            refund: dict[str, bool] = {}
            if refund_payment is not None:
                refund["refundPayment"] = refund_payment
            if send_email is not None:
                refund["sendEmail"] = send_email
            payload["refund"] = refund
        body = await self._api.call(
            "POST", "return", body=payload, idempotent=False, priority=_FLOW
        )
        refund_body = body.get("refund")
        return ReturnCreated(
            return_id=_required(body, "return", "POST /return"),
            completed=bool(body.get("returnCompleted", False)),
            returned_items=tuple(str(i) for i in body.get("returnedItems") or ()),
            refund_ok=(refund_body.get("status") == "ok")
            if isinstance(refund_body, dict)
            else None,
        )

    async def list_returns(
        self,
        *,
        limit: int | None = None,
        page: int | None = None,
        return_id: str | int | None = None,
        shipment: str | None = None,
        order: str | int | None = None,
        newer_than: Moment | None = None,
        older_than: Moment | None = None,
    ) -> Page[Return]:
        """Returns, newest first, ``page`` by ``page`` (``newer_than`` inclusive)."""
        params = self._params(
            limit=limit,
            page=page,
            newer_than=self._when(newer_than, "newer_than"),
            older_than=self._when(older_than, "older_than"),
            shipment=shipment,
            order=_opt(order),
            **{"return": _opt(return_id)},
        )
        body = await self._api.call(
            "GET", "returns", params=params, idempotent=True, priority=_FLOW
        )
        return self._many(Return, body.get("returns"), "return", "returnId", "GET /returns")

    # -- supplier orders and deliveries --------------------------------------------------

    async def list_supplier_orders(self) -> Page[SupplierOrder]:
        body = await self._api.call("GET", "supplier-orders", idempotent=True, priority=_CATALOGUE)
        return self._many(
            SupplierOrder, body.get("orders"), "supplier order", "orderId", "GET /supplier-orders"
        )

    async def get_supplier_order(self, order: str | int) -> SupplierOrder:
        path = f"supplier-orders/{order}"
        body = await self._api.call("GET", path, idempotent=True, priority=_CATALOGUE)
        return self._one(
            SupplierOrder, body.get("order"), f"supplier order {order}", f"GET /{path}"
        )

    async def list_supplier_deliveries(self) -> Page[SupplierDelivery]:
        """Deliveries not yet accepted, for the plugin's supplier-delivery warehouse."""
        body = await self._api.call(
            "GET", "supplier-deliveries", idempotent=True, priority=_CATALOGUE
        )
        return self._many(
            SupplierDelivery,
            body.get("deliveries"),
            "supplier delivery",
            "deliveryId",
            "GET /supplier-deliveries",
        )

    async def get_supplier_delivery(
        self, delivery: str | int, *, details: bool = False
    ) -> SupplierDelivery:
        """One delivery by ``id`` (``"364"``) or ``deliveryId`` (``"957-1"``).

        ``details=True`` adds the customer orders reserved against it.
        """
        path = f"supplier-deliveries/{delivery}" + ("/details" if details else "")
        body = await self._api.call("GET", path, idempotent=True, priority=_CATALOGUE)
        return self._one(
            SupplierDelivery, body.get("delivery"), f"supplier delivery {delivery}", f"GET /{path}"
        )

    async def accept_supplier_delivery(
        self,
        delivery: str | int,
        quantities: Mapping[str, int],
        *,
        by: Literal["ean", "sku"] = "ean",
        insert_stock: bool = True,
    ) -> DeliveryAccepted:
        """Accept a delivery with received ``{EAN: qty}`` (or ``{sku+variant+size: qty}``).

        A delivery can be accepted once; under-delivery leaves an additional delivery with
        the remainder. Not idempotent, so never retried blindly.
        """
        path = f"supplier-deliveries/{delivery}" + ("/sku" if by == "sku" else "")
        payload = {
            "products": {str(k): v for k, v in quantities.items()},
            "insertStock": insert_stock,
        }
        body = await self._api.call(
            "POST", path, body=payload, idempotent=False, priority=_CATALOGUE
        )
        extra = body.get("additionalDelivery")
        additional = (
            self._one(
                SupplierDelivery, extra, f"additional delivery of {delivery}", f"POST /{path}"
            )
            if extra
            else None
        )
        return DeliveryAccepted(str(delivery), additional)
