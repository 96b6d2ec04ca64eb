"""What the engine's acceptance tests share: the two-store configuration and order making.

Both the in-process tests and the crash test (emulators and engine as processes) build
the same shop: store ``se`` (Centra plugin ``wms``, captures on completion, fed by
webhooks and sweeps) and store ``us`` (plugin ``wms-us``, captures on import, sweeps
only), each with its own Ongoing warehouse. Orders are added through the Centra
emulator's control API, so the same helpers work in-process and over the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

CENTRA_SECRET = "s3cret"
WMS_USER = "centrasync"
WMS_PASSWORD = "secret"
WEBHOOK_SECRET = "whsec-acceptance"


@dataclass(frozen=True)
class StoreSetup:
    """One configured store and the Centra plugin and Ongoing warehouse behind it."""

    name: str
    uri: str
    timezone: str
    capture_policy: str
    warehouse: str


SE = StoreSetup("se", "wms", "Europe/Stockholm", "on_complete", "se-dc")
US = StoreSetup("us", "wms-us", "America/New_York", "on_import", "us-dc")
STORES = (SE, US)


def secrets_env() -> dict[str, str]:
    """The ``CENTRASYNC_<STORE>_*`` variables; only ``se`` gets a webhook secret."""
    env = {"CENTRASYNC_SE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    for store in STORES:
        prefix = f"CENTRASYNC_{store.name.upper()}"
        env[f"{prefix}_CENTRA_SECRET"] = CENTRA_SECRET
        env[f"{prefix}_WMS_PASSWORD"] = WMS_PASSWORD
    return env


def settings_document(
    database_url: str,
    *,
    centra_host: str,
    wms_hosts: dict[str, str],
    schedule: Mapping[str, float],
    engine: dict[str, Any] | None = None,
    files_wms: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The parsed form of ``centrasync.toml`` for both stores.

    ``files_wms`` gives each store a file-exchange warehouse's ``wms`` table instead of
    an Ongoing one. ``centra_rate`` is raised far above Centra's real budget: the emulator does not
    limit, and at 10 requests a second 200 shipments would spend most of the run waiting.
    """
    stores: dict[str, Any] = {}
    for store in STORES:
        stores[store.name] = {
            "centra": {"host": centra_host, "uri": store.uri, "timezone": store.timezone},
            "wms": (
                dict(files_wms[store.name])
                if files_wms is not None
                else {
                    "base_url": f"{wms_hosts[store.name]}/{store.warehouse}/api/v1/",
                    "user": WMS_USER,
                    "goods_owner_id": 1,
                }
            ),
            "capture_policy": store.capture_policy,
            "schedule": dict(schedule),
        }
    return {
        "engine": {"database_url": database_url, "centra_rate": 10_000.0, **(engine or {})},
        "stores": stores,
    }


def settings_toml(document: dict[str, Any]) -> str:
    """Write a settings document as TOML (flat tables of strings and numbers only)."""
    lines: list[str] = []

    def table(name: str, values: dict[str, Any]) -> None:
        lines.append(f"[{name}]")
        nested = {}
        for key, value in values.items():
            if isinstance(value, dict):
                nested[key] = value
            elif isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            else:
                lines.append(f"{key} = {value!r}")
        lines.append("")
        for key, value in nested.items():
            table(f"{name}.{key}", value)

    table("engine", document["engine"])
    for name, store in document["stores"].items():
        table(f"stores.{name}", store)
    return "\n".join(lines)


async def orderable_eans(centra: httpx.AsyncClient, store: StoreSetup, count: int) -> list[str]:
    """EANs of sizes with plenty of free stock in the store's primary warehouse."""
    answer = await centra.get(
        f"/api/{store.uri}/stock",
        params={"limit": 1000, "page": 1},
        headers={"API-Authorization": CENTRA_SECRET},
    )
    answer.raise_for_status()
    eans = [
        row["ean"]
        for row in answer.json()["products"]
        if row["size"] and int(row["availableStock"]) >= 10
    ]
    assert len(eans) >= count, f"store {store.uri}: only {len(eans)} sizes with free stock"
    return eans[:count]


async def add_shipments(centra: httpx.AsyncClient, store: StoreSetup, eans: list[str]) -> list[str]:
    """Place one order per EAN (two units) and make its uncaptured shipment Good-to-Go.

    Returns the shipment numbers, in creation order.
    """
    numbers = []
    for ean in eans:
        placed = await centra.post(
            "/_emulator/orders",
            json={
                "store": store.uri,
                "lines": [{"ean": ean, "qty": 2}],
                "billing": {
                    "name": "Anna Berg",
                    "address": "Storgatan 1",
                    "zipcode": "111 22",
                    "city": "Stockholm",
                    "country": "SE",
                    "email": "anna@example.com",
                },
            },
        )
        assert placed.status_code == 200, placed.text
        order = placed.json()["number"]
        shipped = await centra.post(
            f"/_emulator/orders/{order}/shipments", json={"gtg": True, "capture": False}
        )
        assert shipped.status_code == 200, shipped.text
        numbers.append(str(shipped.json()["number"]))
    return numbers
