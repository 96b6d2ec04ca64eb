from __future__ import annotations

from collections import Counter

import httpx
from centra_helpers import AUTH

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.model import Order


def ean_valid(ean: str) -> bool:
    digits = [int(d) for d in ean]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:-1]))
    return (10 - total % 10) % 10 == digits[-1]


async def test_demo_summary_over_http(client: httpx.AsyncClient) -> None:
    summary = (await client.get("/_emulator/seed-summary")).json()
    assert summary["products"] >= 200
    assert summary["warehouses"] == 3
    assert summary["orders"] == 50 and summary["shipments"] == 50
    zones = {s["uri"]: s["timezone"] for s in summary["stores"]}
    assert zones == {"wms": "Europe/Stockholm", "wms-us": "America/New_York"}
    marked = [summary[k]["shipment"] for k in ("capture_declines", "to_cancel", "short_pick")]
    assert len(set(marked)) == 3
    stores = (await client.get("/_emulator/stores")).json()
    assert {s["primary_warehouse_id"] for s in stores} == {1, 2}


def test_demo_catalogue_invariants(emu: CentraEmulator) -> None:
    world = emu.world
    refs = list(world.sizes.values())
    assert len(world.products) >= 200
    assert any(len(p.variants) > 1 for p in world.products.values())
    assert any(len(v.sizes) > 1 for p in world.products.values() for v in p.variants)
    eans = [r.size.ean for r in refs]
    assert len(eans) == len(set(eans))
    assert all(len(e) == 13 and ean_valid(e) for e in eans)
    skus = [r.physical_sku for r in refs]
    assert len(skus) == len(set(skus))
    sized = [r for r in refs if r.product.sku != "M411-740" and not r.product.is_bundle]
    assert all(r.variant.sku and r.size.sku for r in sized)
    for level in world.stock.values():
        assert level.physical >= level.allocated >= 0


def test_demo_orders_cover_the_cases(emu: CentraEmulator) -> None:
    world = emu.world
    orders: list[Order] = list(world.orders.values())
    per_store = Counter(o.store_uri for o in orders)
    assert per_store["wms"] > 0 and per_store["wms-us"] > 0
    assert any(o.account_id != 0 for o in orders) and any(o.account_id == 0 for o in orders)
    assert any(o.shipwallet.get("shipwallet_method") for o in orders)
    assert any(len(o.lines) > 1 for o in orders)
    assert any(o.delivery.coaddress for o in orders)
    shipments = list(world.shipments.values())
    assert all(s.gtg and not s.shipped and not s.captured for s in shipments)
    assert [s.capture_declines for s in shipments].count(True) == 1
    decline = emu.seed_summary["capture_declines"]
    assert world.shipment(decline["shipment_id"]).capture_declines
    short = emu.seed_summary["short_pick"]
    assert world.shipment(short["shipment"]).lines[0].qty == short["ordered"] > short["pick"]


def test_demo_is_deterministic(emu: CentraEmulator) -> None:
    other = CentraEmulator(seed="demo")
    assert other.seed_summary == emu.seed_summary
    assert [r.size.ean for r in other.world.sizes.values()] == [
        r.size.ean for r in emu.world.sizes.values()
    ]
    assert [o.billing for o in other.world.orders.values()] == [
        o.billing for o in emu.world.orders.values()
    ]


async def test_demo_cancel_target_leaves_the_pick_list(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    target = emu.seed_summary["to_cancel"]["shipment"]
    cancelled = await client.post(f"/_emulator/shipments/{target}/cancel")
    assert cancelled.json()["cancelled"] is True
    listed = (await client.get("/api/wms/shipments", headers=AUTH)).json()["shipments"]
    assert target not in [s["shipmentId"] for s in listed]


async def test_reset_and_catalogue_seed(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    catalogue = {
        "catalogue": {
            "warehouses": [{"name": "Main"}],
            "products": [
                {
                    "sku": "TEE",
                    "name": "Tee",
                    "variants": [
                        {
                            "name": "Red",
                            "sku": "R",
                            "sizes": [
                                {"name": "M", "sku": "M", "ean": "7350000999996", "stock": {"1": 5}}
                            ],
                        }
                    ],
                }
            ],
        }
    }
    seeded = await client.post("/_emulator/seed", json=catalogue)
    assert seeded.json()["products"] == 1
    rows = (await client.get("/api/wms/stock", headers=AUTH)).json()["products"]
    assert [(r["sku"] + r["variantSku"] + r["sizeSku"], r["physicalStock"]) for r in rows] == [
        ("TEERM", 5)
    ]
    duplicate = await client.post(
        "/_emulator/products", json={"products": catalogue["catalogue"]["products"]}
    )
    assert duplicate.status_code == 422
    assert "product TEE" in duplicate.json()["detail"] and "ean" in duplicate.json()["detail"]
    await client.post("/_emulator/reset")
    assert len(emu.world.orders) == 50
