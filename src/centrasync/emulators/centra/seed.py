"""Data sets: the empty default, a posted catalogue, and the deterministic ``demo`` shop.

The demo is what ``centrasync emulate centra --seed demo`` serves and what later flows of
the engine are tested on: 200+ products, 3 warehouses, 2 stores in different zones and 50
orders with good-to-go shipments, three of which are marked for the demo's unhappy paths.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from .model import Shipment
from .specs import (
    AddressSpec,
    BundleItemSpec,
    CatalogueSpec,
    OrderLineSpec,
    OrderSpec,
    ProductSpec,
    SizeSpec,
    StoreSpec,
    SupplierDeliverySpec,
    SupplierOrderLineSpec,
    SupplierOrderSpec,
    TermsSpec,
    VariantSpec,
    WarehouseSpec,
)
from .world import World

__all__ = ["DEFAULT_WAREHOUSE", "ean13", "seed_catalogue", "seed_default", "seed_demo"]

DEFAULT_WAREHOUSE = "Default warehouse"

_KINDS = [
    ("JKT", "Jacket", "Outerwear", "6201409000", ["XS", "S", "M", "L", "XL"], 1.2),
    ("TSH", "T-shirt", "Tops", "6109100010", ["XS", "S", "M", "L", "XL"], 0.2),
    ("JNS", "Jeans", "Bottoms", "6203423100", ["28", "30", "32", "34", "36"], 0.7),
    ("SNK", "Sneaker", "Shoes", "6404110000", ["38", "39", "40", "41", "42", "43", "44"], 0.9),
    ("KNT", "Sweater", "Knitwear", "6110113000", ["S", "M", "L"], 0.6),
    ("BAG", "Tote", "Accessories", "4202221000", ["One size"], 0.4),
    ("CAP", "Cap", "Accessories", "6505003000", ["One size"], 0.1),
    ("DRS", "Dress", "Dresses", "6204440000", ["34", "36", "38", "40"], 0.5),
]
_WORDS = [
    "Arctic", "Nordic", "Harbor", "Linnea", "Sola", "Fjord", "Birch", "Moss", "Granite",
    "Vinter", "Sommar", "Klara", "Oskar", "Storm", "Delta", "Lumen", "Kelp", "Ember",
    "Alva", "Tundra", "Sage", "Coast", "Meadow", "Pine", "Rune",
]  # fmt: skip
_COLOURS = [
    ("BLK", "Black"), ("WHT", "White"), ("NVY", "Navy"), ("OLV", "Olive"),
    ("SND", "Sand"), ("RST", "Rust"), ("GRY", "Grey"),
]  # fmt: skip
_SE_CITIES = [("Stockholm", "111 22"), ("Göteborg", "411 03"), ("Malmö", "211 19")]
_US_CITIES = [("Brooklyn", "NY", "11201"), ("Austin", "TX", "78701"), ("Portland", "OR", "97205")]
_SHIPPING_TERMS = TermsSpec(id=5, name="DAP", description="Delivered at place")
_PAYMENT_TERMS = TermsSpec(id=10, name="Net 30", description="30 days net")
_FIRST = ["Anna", "Erik", "Maja", "Johan", "Sara", "Lars", "Emma", "Noah", "Olivia", "Liam"]
_LAST = ["Andersson", "Berg", "Lind", "Nilsson", "Smith", "Johnson", "Garcia", "Miller"]


def ean13(counter: int, prefix: str = "735") -> str:
    """A valid EAN-13 (GS1 check digit) from a running number; 735 is a Swedish prefix."""
    body = f"{prefix}{counter:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def seed_default(world: World, uri: str, secret: str, timezone: str) -> dict[str, Any]:
    """An empty shop: one warehouse (named as in Centra's examples) and one store."""
    world.clear()
    warehouse = world.add_warehouse(WarehouseSpec(name=DEFAULT_WAREHOUSE))
    world.add_store(
        StoreSpec(
            uri=uri,
            secret=secret,
            timezone=timezone,
            primary_warehouse_id=warehouse.id,
            supplier_delivery_warehouse_id=warehouse.id,
        )
    )
    return {"seed": "default", "stores": [uri], "warehouses": 1, "products": 0, "orders": 0}


def seed_catalogue(
    world: World, spec: CatalogueSpec, uri: str, secret: str, timezone: str
) -> dict[str, Any]:
    """Replace everything by a posted catalogue; without stores, the default store is made."""
    world.clear()
    warehouses = [world.add_warehouse(w) for w in spec.warehouses]
    stores = spec.stores or [
        StoreSpec(
            uri=uri,
            secret=secret,
            timezone=timezone,
            primary_warehouse_id=warehouses[0].id,
            supplier_delivery_warehouse_id=warehouses[0].id,
        )
    ]
    for store in stores:
        world.add_store(store)
    for product in spec.products:
        world.add_product(product)
    return {
        "seed": "catalogue",
        "stores": [s.uri for s in stores],
        "warehouses": len(warehouses),
        "products": len(spec.products),
        "sizes": len(world.sizes),
        "orders": 0,
    }


def _products(rng: random.Random, warehouse_ids: list[int]) -> list[ProductSpec]:
    specs: list[ProductSpec] = []
    eans = iter(range(1, 1_000_000))
    for index in range(204):
        code, kind, category, harm, sizes, weight = _KINDS[index % len(_KINDS)]
        word = _WORDS[(index // len(_KINDS)) % len(_WORDS)]
        colours = rng.sample(_COLOURS, k=rng.randint(1, 3))
        base_price = rng.choice([199, 299, 399, 499, 799, 1299, 1999])
        variants = [
            VariantSpec(
                name=colour,
                sku=colour_code,
                sizes=[
                    SizeSpec(
                        name=size,
                        sku=size if size != "One size" else "OS",
                        ean=ean13(next(eans)),
                        stock={w: rng.randint(20, 80) for w in warehouse_ids},
                    )
                    for size in sizes
                ],
            )
            for colour_code, colour in colours
        ]
        specs.append(
            ProductSpec(
                sku=f"{code}{1000 + index}",
                name=f"{word} {kind}",
                brand="Nordvik",
                collection=rng.choice(["SS25", "AW25", "Core"]),
                folder=f"Apparel / {category}",
                categories=[f"Shop / {category}"],
                weight=weight,
                harm_code=harm,
                harm_description=kind,
                country_of_origin=rng.choice(["PT", "CN", "BD", "SE", "IT", "TR"]),
                prices={"SEK": float(base_price), "USD": round(base_price / 10 - 0.01, 2)},
                variants=variants,
            )
        )
    # The WMS guide's case: SKU parts empty below product level, matched on EAN.
    specs.append(
        ProductSpec(
            sku="M411-740",
            name="Gift Card Box",
            folder="Accessories",
            prices={"SEK": 99.0, "USD": 9.99},
            variants=[
                VariantSpec(
                    name="Default",
                    sizes=[SizeSpec(name="", ean=ean13(next(eans)), stock={warehouse_ids[0]: 50})],
                )
            ],
        )
    )
    specs.append(
        ProductSpec(
            sku="BND2001",
            name="Weekend Bundle",
            is_bundle=True,
            bundle=[
                BundleItemSpec(ean=specs[1].variants[0].sizes[2].ean),
                BundleItemSpec(ean=specs[6].variants[0].sizes[0].ean, qty=2),
            ],
            prices={"SEK": 1499.0, "USD": 149.0},
            variants=[VariantSpec(name="Mixed", sizes=[SizeSpec(name="", ean=ean13(next(eans)))])],
        )
    )
    return specs


def _address(rng: random.Random, us: bool, company: str = "") -> AddressSpec:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    name = f"{first} {last}"
    email = f"{first}.{last}@example.com".lower()
    if us:
        city, state, zipcode = rng.choice(_US_CITIES)
        return AddressSpec(
            name=name,
            company=company,
            address=f"{rng.randint(1, 999)} Main Street",
            coaddress=rng.choice(["", f"Apt {rng.randint(1, 40)}"]),
            city=city,
            state=state,
            zipcode=zipcode,
            country="US",
            email=email,
            tele=f"+1 555 {rng.randint(1000000, 9999999)}",
            cell=f"+1 555 {rng.randint(1000000, 9999999)}",
        )
    city, zipcode = rng.choice(_SE_CITIES)
    return AddressSpec(
        name=name,
        company=company,
        address=f"Storgatan {rng.randint(1, 99)}",
        coaddress=rng.choice(["", f"c/o {rng.choice(_LAST)}"]),
        city=city,
        zipcode=zipcode,
        country="SE",
        email=email,
        tele=rng.choice(["", f"+46 8 {rng.randint(100000, 999999)}"]),
        cell=f"+46 70 {rng.randint(1000000, 9999999)}",
    )


def seed_demo(world: World, uri: str, secret: str, timezone: str) -> dict[str, Any]:
    """The demo shop. Deterministic: the same ids and data on every run."""
    rng = random.Random("centrasync-demo")
    world.clear()
    names = ["Stockholm Central", "New Jersey DC", "Göteborg Retail"]
    wh = [world.add_warehouse(WarehouseSpec(name=n)).id for n in names]
    world.add_store(
        StoreSpec(
            uri=uri,
            secret=secret,
            timezone=timezone,
            name="retail",
            primary_warehouse_id=wh[0],
            supplier_delivery_warehouse_id=wh[0],
            currency="SEK",
        )
    )
    us_uri = f"{uri}-us"
    world.add_store(
        StoreSpec(
            uri=us_uri,
            secret=secret,
            timezone="America/New_York",
            name="us",
            primary_warehouse_id=wh[1],
            supplier_delivery_warehouse_id=wh[1],
            currency="USD",
        )
    )
    for product in _products(rng, wh):
        world.add_product(product)
    orderable = [ref for ref in world.sizes.values() if not ref.product.is_bundle and ref.size.name]
    start = world.now() - timedelta(days=14)
    shipments = []
    for index in range(50):
        us = index % 5 in (1, 3)  # 20 of 50 in the US store
        b2b = index % 7 == 3
        lines = rng.randint(2, 4) if (b2b or index % 5 in (0, 2)) else 1
        if index == 20:  # the short-pick order: one store-1 B2C order, 2 lines of 3 units
            us, b2b, lines = False, False, 2
        picked = rng.sample(orderable, k=lines)
        created = start + timedelta(hours=6 * index + rng.randint(0, 5))
        spec = OrderSpec(
            store=us_uri if us else uri,
            lines=[
                OrderLineSpec(
                    ean=ref.size.ean,
                    qty=(rng.randint(4, 10) if b2b else (3 if index == 20 else rng.randint(1, 2))),
                )
                for ref in picked
            ],
            customer_id=3000 + index,
            account_id=(700 + index) if b2b else 0,
            account_name=f"Boutique {rng.choice(_WORDS)} AB" if b2b else "",
            billing=_address(rng, us, company=f"Boutique {index}" if b2b else ""),
            shipping_list="b2b-pallet" if b2b else rng.choice(["standard", "express"]),
            shipping_value=0.0 if b2b else (49.0 if not us else 5.0),
            other_comment=rng.choice(["", "", "Leave at the door please"]),
            po_number=f"PO-{9000 + index}" if b2b else "",
            shipping_terms=_SHIPPING_TERMS if b2b else None,
            payment_terms=_PAYMENT_TERMS if b2b else None,
            shipwallet=_ingrid(rng, created) if (not us and not b2b and index % 3 == 0) else {},
            created_at=created,
        )
        order = world.place_order(spec)
        store = world.stores[order.store_uri]
        shipment = world.create_shipment(
            store,
            order.number,
            {line.id: line.qty for line in order.lines},
            gtg=True,
            capture=False,
            via="seed",
        )
        shipment.created_at = order.created_at + timedelta(minutes=30)
        shipments.append(shipment)
    decline, cancel, short = shipments[7], shipments[12], shipments[20]
    decline.capture_declines = True
    supplier = world.add_supplier_order(
        SupplierOrderSpec(
            warehouse_id=wh[0],
            lines=[
                SupplierOrderLineSpec(ean=ref.size.ean, qty=24, cost=120.0) for ref in orderable[:5]
            ],
            message="Spring restock",
            eta=world.now() + timedelta(days=3),
        )
    )
    delivery = world.add_supplier_delivery(supplier.id, SupplierDeliverySpec())
    world.writes.clear()
    return {
        "seed": "demo",
        "stores": [
            {"uri": s.uri, "timezone": s.timezone, "primary_warehouse_id": s.primary_warehouse_id}
            for s in world.stores.values()
        ],
        "warehouses": len(world.warehouses),
        "products": len(world.products),
        "sizes": len(world.sizes),
        "orders": len(world.orders),
        "shipments": len(shipments),
        "capture_declines": _mark(world, decline),
        "to_cancel": _mark(world, cancel),
        "short_pick": _mark(world, short)
        | {"lineId": short.lines[0].order_line_id, "ordered": short.lines[0].qty, "pick": 1},
        "supplier_delivery": {"id": delivery.id, "deliveryId": delivery.number},
    }


def _ingrid(rng: random.Random, ordered: datetime) -> dict[str, str]:
    return {
        "method": rng.choice(["pnl-mpc", "dhl-sp", "bring-home"]),
        "pickup": rng.choice(["", f"{rng.randint(100000, 999999)}"]),
        "deliverytime": (ordered + timedelta(days=3)).strftime("%Y-%m-%d"),
        "doorcode": rng.choice(["", "1234"]),
        "courier_instructions": rng.choice(["", "Ring the bell"]),
        "id": f"{rng.getrandbits(128):032x}",
    }


def _mark(world: World, shipment: Shipment) -> dict[str, Any]:
    order = world.orders[shipment.order_number]
    return {
        "store": order.store_uri,
        "order": order.number,
        "shipment": shipment.number,
        "shipment_id": shipment.id,
    }
