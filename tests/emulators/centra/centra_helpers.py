"""Shared helpers of the Centra emulator tests."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx

from centrasync.emulators.centra import CentraEmulator

AUTH = {"API-Authorization": "s3cret"}


def free_eans(emu: CentraEmulator, count: int, offset: int = 0) -> list[str]:
    """EANs of ordinary sizes nobody in the demo ordered, so stock numbers are predictable."""
    ordered = {line.size_id for order in emu.world.orders.values() for line in order.lines}
    eans = [
        ref.size.ean
        for ref in emu.world.sizes.values()
        if ref.size.id not in ordered and not ref.product.is_bundle and ref.size.name
    ]
    return eans[offset : offset + count]


async def place_order(
    client: httpx.AsyncClient, lines: list[tuple[str, int]], store: str = "wms", **extra: Any
) -> dict[str, Any]:
    body = {"store": store, "lines": [{"ean": e, "qty": q} for e, q in lines], **extra}
    response = await client.post("/_emulator/orders", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def control_shipment(
    client: httpx.AsyncClient, order: int, *, gtg: bool = True, capture: bool = False
) -> dict[str, Any]:
    response = await client.post(
        f"/_emulator/orders/{order}/shipments", json={"gtg": gtg, "capture": capture}
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def verify(header: str, raw: str, secret: str) -> bool:
    """Written independently of the emulator: split on ',' then '=', HMAC over 't.' + raw."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.{raw}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])
