"""Bindings of the warehouse contract to the Ongoing emulator.

:class:`OngoingOperator` plays the warehouse through the emulator's control API over HTTP,
so it works the same in-process (``EmulatorTransport``) and against ``centrasync emulate
ongoing`` on a port. :func:`ongoing_harness` builds a fresh emulator, a connector and an
operator bound to it, which is all a contract test class needs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx

from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.errors import NetworkError, RemoteRefusedError
from centrasync.http import AsyncClosing, RetryPolicy
from centrasync.wms.models import Parcel
from centrasync.wms.ongoing import OngoingWarehouse

from .operator import PickLine, ReceiptLine, ReturnLine
from .warehouse_contract import WarehouseHarness

__all__ = ["OngoingOperator", "ongoing_harness"]

_SYSTEM = "ongoing-emulator"


class OngoingOperator(AsyncClosing):
    """The emulator's ``/_emulator/`` routes behind the :class:`WarehouseOperator` protocol."""

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=30.0)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> None:
        endpoint = f"POST {path}"
        try:
            response = await self._client.post(path, json=body)
        except httpx.HTTPError as exc:
            raise NetworkError(f"control API unreachable: {exc}", system=_SYSTEM) from exc
        if response.status_code >= 400:
            raise RemoteRefusedError(
                "the emulated warehouse refused the operation",
                remote_message=response.text,
                system=_SYSTEM,
                endpoint=endpoint,
                status=response.status_code,
                body=response.text,
            )

    async def allocate(self, order_number: str) -> None:
        await self._post(f"/_emulator/orders/{order_number}/allocate")

    async def pick(self, order_number: str, lines: Sequence[PickLine] | None = None) -> None:
        picks = None
        if lines is not None:
            picks = [
                {
                    "article_number": line.sku,
                    "quantity": float(line.quantity),
                    "serial_numbers": list(line.serial_numbers),
                }
                for line in lines
            ]
        await self._post(f"/_emulator/orders/{order_number}/pick", {"lines": picks})

    async def ship(
        self,
        order_number: str,
        parcels: Sequence[Parcel],
        carrier: str | None = None,
        service: str | None = None,
    ) -> None:
        body = {
            "parcels": [
                {
                    "tracking_number": parcel.tracking_number,
                    "tracking_url": parcel.tracking_url,
                    "parcel_number": parcel.parcel_number,
                }
                for parcel in parcels
            ],
            "transporter_code": carrier,
            "service_code": service,
        }
        await self._post(f"/_emulator/orders/{order_number}/ship", body)

    async def receive(
        self, in_order_number: str, lines: Sequence[ReceiptLine] | None = None
    ) -> None:
        receipts = None
        if lines is not None:
            receipts = [
                {"article_number": line.sku, "quantity": float(line.quantity)} for line in lines
            ]
        await self._post(
            f"/_emulator/purchase-orders/{in_order_number}/receive", {"lines": receipts}
        )

    async def take_return(self, order_number: str, lines: Sequence[ReturnLine]) -> None:
        await self._post(f"/_emulator/orders/{order_number}/return", _returns(lines))

    async def take_return_order(self, order_number: str, lines: Sequence[ReturnLine]) -> None:
        await self._post(f"/_emulator/orders/{order_number}/return-order", _returns(lines))

    async def count_stock(self, sku: str, on_hand: Decimal) -> None:
        body = {"article_number": sku, "number_of_items": float(on_hand)}
        await self._post("/_emulator/stock/adjust", body)


def _returns(lines: Sequence[ReturnLine]) -> dict[str, Any]:
    return {
        "lines": [
            {"article_number": line.sku, "quantity": float(line.quantity), "cause": line.cause}
            for line in lines
        ]
    }


@asynccontextmanager
async def ongoing_harness(page_size: int = 3) -> AsyncIterator[WarehouseHarness]:
    """A fresh in-process emulator with a connector and an operator; tiny pages on purpose."""
    emulator = OngoingEmulator(warehouse="contract", user="centrasync", password="secret")
    root = "http://ongoing-emulator"
    warehouse = OngoingWarehouse(
        f"{root}/contract/api/v1/",
        "centrasync",
        "secret",
        emulator.state.goods_owner_id,
        transport=EmulatorTransport(emulator.app),
        retry=RetryPolicy(max_attempts=1),
        page_size=page_size,
    )
    operator = OngoingOperator(root, transport=EmulatorTransport(emulator.app))
    async with warehouse, operator:
        yield WarehouseHarness(warehouse=warehouse, operator=operator, page_size=page_size)
