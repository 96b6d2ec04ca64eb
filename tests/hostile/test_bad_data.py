"""Bad data: each bad record is parked with a reason naming it and the field; the rest goes on.

A transport between the engine and an emulator rewrites one record of an answer, so the
records reach the engine exactly as a real system might send them. Text neither API limits
(a 100 kB name, right-to-left script, emoji, combining marks, NUL) is not bad data: it must
arrive unchanged. A lone surrogate is not text at all and cannot be stored or sent on, so
its record is parked. A 10 MB webhook is refused before anything is stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from centrasync.centra.webhooks import sign_payload
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing.floor import AutoOperatorSettings
from centrasync.emulators.ongoing.payloads import ArticleIn
from centrasync.store.base import RecordKind

from .rig import STEPS_PER_PASS, STORE, URI, WEBHOOK_SECRET, RewriteTransport, Rig, open_rig
from .test_faults import Articles, InDeliveries, Returns

pytestmark = pytest.mark.slow

HUGE = "Å" * 100_000
UNUSUAL = "مرحبا بالعالم 👩‍👩‍👧 e\u0301 ‮reversed‬ a\u0000b"
LONE_SURROGATE = "Anna \ud800 Berg"


def wrap(method: str, path: str, edit: Callable[[Any], None]) -> Callable[..., Any]:
    return lambda inner: RewriteTransport(inner, method, path, edit)


def parked_for(dead: dict[str, str], kind: str, key: str) -> str:
    reason = dead.get(f"{kind}/{key}")
    assert reason is not None, f"{kind}/{key} not parked; dead letters: {sorted(dead)}"
    return reason


async def settle_twice(rig: Rig) -> None:
    """Two passes: the second must neither park again nor move anything further."""
    await rig.run_pass()
    first = (await rig.dead(), dict(rig.tally.parked_count))
    await rig.run_pass()
    assert (await rig.dead(), dict(rig.tally.parked_count)) == first, "parked again"


async def test_bad_shipments_are_parked_by_field_and_the_rest_reach_the_wms(
    tmp_path: Path,
) -> None:
    """Store se's first six seed shipments each carry one kind of trouble.

    A line without a SKU cannot become a WMS article number: that is how an unknown SKU
    reaches the engine from Centra. (A SKU Centra has and the WMS lacks is not bad data:
    the Ongoing emulator creates the article from the order line, as the vendor's example
    tenant does [I].)
    """
    bad: dict[str, Callable[[dict[str, Any]], None]] = {}

    def edit(body: dict[str, Any]) -> None:
        for row in body["shipments"]:
            change = bad.get(row["shipmentId"])
            if change is not None:
                change(row)

    async with open_rig(
        tmp_path, flows=("shipments",), wrap_centra=wrap("GET", "/api/*/shipments", edit)
    ) as rig:
        world = rig.centra.world
        mine = sorted(
            (s for s in world.shipments.values() if world.orders[s.order_number].store_uri == URI),
            key=lambda s: s.id,
        )
        no_sku, no_city, words, huge, unusual, surrogate = (s.number for s in mine[:6])
        bad[no_sku] = lambda row: row["products"][0].update(sku="")
        bad[no_city] = lambda row: row.pop("deliveryCity")
        bad[words] = lambda row: row["products"][0].update(qty="two")
        bad[huge] = lambda row: row.update(deliveryName=HUGE)
        bad[unusual] = lambda row: row.update(
            deliveryName=UNUSUAL, deliveryAddress=UNUSUAL, deliveryCoaddress=""
        )
        bad[surrogate] = lambda row: row.update(deliveryName=LONE_SURROGATE)

        await settle_twice(rig)

        ledger = await rig.ledger(RecordKind.SHIPMENT)
        dead = await rig.dead()
        reason = parked_for(dead, "shipment", no_sku)
        assert f"shipment {no_sku}" in reason and "products[0].sku" in reason
        reason = parked_for(dead, "shipment", no_city)
        assert f"shipment {no_city}" in reason and "deliveryCity" in reason
        reason = parked_for(dead, "shipment", words)
        assert f"shipment {words}" in reason and "qty" in reason
        reason = parked_for(dead, "shipment", surrogate)
        assert f"shipment {surrogate}" in reason and "delivery.name" in reason
        parked = {no_sku, no_city, words, surrogate}
        assert set(dead) == {f"shipment/{key}" for key in parked}
        assert {ledger[key] for key in parked} == {"invalid"}

        # Everything else reached the WMS, the odd text unchanged.
        assert {key: state for key, state in ledger.items() if key not in parked} == dict.fromkeys(
            (s.number for s in mine if s.number not in parked), "sent"
        )
        in_wms = {order.number for order in rig.ongoing.state.orders.values()}
        assert in_wms == {s.number for s in mine} - parked
        ship_to = {
            number: rig.ongoing.state.order_by_number(number).document.consignee
            for number in (huge, unusual)
        }
        assert ship_to[huge].name == HUGE
        assert ship_to[unusual].name == UNUSUAL
        assert ship_to[unusual].address1 == UNUSUAL


async def test_bad_product_rows_are_parked_by_field_and_the_rest_become_articles(
    tmp_path: Path,
) -> None:
    story = Articles()
    bad: dict[str, Callable[[dict[str, Any]], None]] = {}

    def edit(body: dict[str, Any]) -> None:
        for row in body["products"]:
            change = bad.get(f"{row['sku']}{row['variantSku']}{row['sizeSku']}")
            if change is not None:
                change(row)

    async with open_rig(
        tmp_path,
        flows=story.flows,
        catalogue=story.catalogue,
        wrap_centra=wrap("GET", "/api/*/products", edit),
    ) as rig:
        bad["P00BLKS"] = lambda row: row.update(weight="heavy")
        bad["P01BLKS"] = lambda row: row.update(product=HUGE)
        bad["P02BLKS"] = lambda row: row.update(product=UNUSUAL)
        bad["P03BLKS"] = lambda row: row.update(product=LONE_SURROGATE)

        await settle_twice(rig)

        dead = await rig.dead()
        items = {f"{ref.physical_sku}": ref.size.id for ref in rig.centra.world.sizes.values()}
        # A row that cannot be read has no article number yet: it is parked by stock item.
        reason = parked_for(dead, "article", f"stock item {items['P00BLKS']}")
        assert f"product row {items['P00BLKS']}" in reason and "'weight'" in reason
        reason = parked_for(dead, "article", f"stock item {items['P03BLKS']}")
        assert f"product row {items['P03BLKS']}" in reason and "'product'" in reason
        assert len(dead) == 2
        records = await rig.state.list_records(STORE, kind=RecordKind.ARTICLE, limit=1000)
        parked = {r.ref.key: r.state for r in records if r.state != "synced"}
        assert parked == {
            f"stock item {items['P00BLKS']}": "invalid",
            f"stock item {items['P03BLKS']}": "invalid",
        }
        articles = rig.ongoing.state.articles
        assert articles["P01BLKS"].document.article_name == f"{HUGE} Black S"
        assert articles["P02BLKS"].document.article_name == f"{UNUSUAL} Black S"
        synced = {r.ref.key for r in records if r.state == "synced"}
        assert (
            synced
            == set(articles)
            == {
                f"P{index:02d}{colour}{size}"
                for index in range(16)
                for colour in ("BLK", "WHT")
                for size in ("S", "M")
            }
            - {"P00BLKS", "P03BLKS"}
        )


# Per case: store options, and per SKU (by position) the figure sent instead and the field
# the reason must name. With a warehouse map the physical and locked counts come from the
# per-warehouse read and only the order-bound figures from the article's own row.
STOCK_CASES = {
    "whole warehouse": (
        {},
        {
            0: ({"numberOfItems": -4.0}, "numberOfItems"),
            1: ({"numberOfItems": "many"}, "numberOfItems"),
        },
    ),
    "mapped warehouse": (
        {"warehouse_map": {"demo": "Main"}},
        {1: ({"allocatedNumberOfItems": "many"}, "allocatedNumberOfItems")},
    ),
}


@pytest.mark.parametrize("case", list(STOCK_CASES))
async def test_bad_stock_figures_are_parked_by_field_and_the_rest_reach_centra(
    tmp_path: Path, case: str
) -> None:
    """Negative stock, a count in words and an article Centra does not know, among good ones."""
    options, figures = STOCK_CASES[case]
    bad: dict[str, dict[str, Any]] = {}

    def edit(body: list[dict[str, Any]]) -> None:
        for row in body:
            row["inventoryInfo"].update(bad.get(row["articleNumber"], {}))

    async with open_rig(
        tmp_path,
        flows=("stock",),
        options={"sync_stock": True, "stock_quiet_window": 0, **options},
        wrap_wms=wrap("GET", "/*/api/v1/articles", edit),
    ) as rig:
        world = rig.centra.world
        store = world.store(URI)
        sizes = sorted(world.sizes.values(), key=lambda ref: ref.size.id)
        usable = [r for r in sizes if not r.product.is_bundle and r.variant.sku and r.size.sku]
        targets = {
            ref.physical_sku: world.store_stock(store, ref.size.id)[0] + 3 for ref in usable[:6]
        }
        for sku, items in {**targets, "GHOST-0001": 7}.items():
            rig.ongoing.state.upsert_article(
                ArticleIn(goods_owner_id=1, article_number=sku, article_name=sku)
            )
            rig.ongoing.state.adjust_stock(sku, items)
        fields = {}
        for position, (figure, field) in figures.items():
            bad[usable[position].physical_sku] = figure
            fields[usable[position].physical_sku] = field

        await settle_twice(rig)

        dead = await rig.dead()
        for sku, field in fields.items():
            reason = parked_for(dead, "stock", sku)
            assert f"stock {sku}" in reason and f"'{field}'" in reason, reason
        assert "productsNotFound" in parked_for(dead, "stock", "GHOST-0001")
        assert len(dead) == len(fields) + 1
        ledger = await rig.ledger(RecordKind.STOCK)
        assert {sku: ledger[sku] for sku in fields} == dict.fromkeys(fields, "invalid")
        assert ledger["GHOST-0001"] == "not_found"
        good = {ref.physical_sku: ref for ref in usable[:6] if ref.physical_sku not in fields}
        assert {sku: world.store_stock(store, ref.size.id)[0] for sku, ref in good.items()} == {
            sku: targets[sku] for sku in good
        }
        assert {sku: ledger[sku] for sku in good} == dict.fromkeys(good, "written")


class Garbler:
    """Rewrites the WMS documents whose number is in ``numbers`` with ``edit``."""

    def __init__(self, info: str, number: str, edit: Callable[[dict[str, Any]], None]) -> None:
        self.numbers: set[str] = set()
        self._info, self._number, self._edit = info, number, edit

    def __call__(self, body: list[dict[str, Any]]) -> None:
        for row in body:
            if row[self._info][self._number] in self.numbers:
                self._edit(row)


def garbled_orders(edit: Callable[[dict[str, Any]], None]) -> Garbler:
    return Garbler("orderInfo", "orderNumber", edit)


def dead_payload(letters: list[Any], key: str) -> Any:
    [letter] = [d for d in letters if d.record.key == key]
    return letter.payload


async def test_a_shipped_order_the_wms_garbles_is_parked_and_the_others_confirmed(
    tmp_path: Path,
) -> None:
    """One shipped WMS order with a picked quantity in words: only its shipment waits.

    Captured on completion, so the seed's declining shipment is parked as well.
    """
    garbler = garbled_orders(lambda row: row["orderLines"][0].update(pickedNumberOfItems="two"))
    async with open_rig(
        tmp_path,
        flows=("shipments", "confirmations"),
        options={"capture_policy": "on_complete"},
        wrap_wms=wrap("GET", "/*/api/v1/orders", garbler),
    ) as rig:
        await rig.run_pass()
        while await rig.operate(STEPS_PER_PASS):
            pass
        declines = rig.centra.seed_summary["capture_declines"]["shipment"]
        shipped = sorted(order.number for order in rig.ongoing.state.orders.values())
        shipped.remove(declines)
        target = shipped[0]
        garbler.numbers.add(target)

        await settle_twice(rig)

        assert set(await rig.dead()) == {f"shipment/{target}", f"shipment/{declines}"}
        reason = parked_for(await rig.dead(), "shipment", target)
        assert f"order {target!r}" in reason and "orderLines.0.pickedNumberOfItems" in reason
        payload = dead_payload(await rig.state.list_dead(STORE), target)
        assert payload["orderInfo"]["orderNumber"] == target
        assert payload["orderLines"][0]["pickedNumberOfItems"] == "two"
        ledger = await rig.ledger(RecordKind.SHIPMENT)
        assert ledger[target] == "invalid"
        assert {ledger[number] for number in shipped[1:]} == {"completed"}
        completed = {w.data["shipment"] for w in rig.centra.world.written("completions")}
        assert completed == set(shipped[1:])


async def test_a_received_in_order_the_wms_garbles_is_parked_and_the_others_accepted(
    tmp_path: Path,
) -> None:
    story = InDeliveries()
    garbler = Garbler(
        "purchaseOrderInfo",
        "purchaseOrderNumber",
        lambda row: row["purchaseOrderLines"][0].update(receivedNumberOfItems="ten"),
    )
    async with open_rig(
        tmp_path, flows=story.flows, wrap_wms=wrap("GET", "/*/api/v1/purchaseOrders", garbler)
    ) as rig:
        await story.prepare(rig)
        rig.ongoing.state.auto_operator = AutoOperatorSettings(None)
        await rig.run_pass()
        numbers = sorted(po.number for po in rig.ongoing.state.purchase_orders.values())
        assert len(numbers) == 4
        while await rig.operate(STEPS_PER_PASS):
            pass
        target = numbers[0]
        garbler.numbers.add(target)

        await settle_twice(rig)

        reason = parked_for(await rig.dead(), "in_delivery", target)
        assert f"purchase order {target!r}" in reason
        assert "purchaseOrderLines.0.receivedNumberOfItems" in reason
        payload = dead_payload(await rig.state.list_dead(STORE), target)
        assert payload["purchaseOrderLines"][0]["receivedNumberOfItems"] == "ten"
        assert len(await rig.dead()) == 1
        ledger = await rig.ledger(RecordKind.IN_DELIVERY)
        assert ledger[target] == "invalid"
        assert {ledger[number] for number in numbers[1:]} == {"received"}
        reported = {
            po.number: {line.reported for line in po.lines}
            for po in rig.ongoing.state.purchase_orders.values()
        }
        assert reported[target] == {None}
        assert all(None not in reported[number] for number in numbers[1:])


async def test_a_returned_order_the_wms_garbles_is_parked_and_the_others_returned(
    tmp_path: Path,
) -> None:
    story = Returns()
    garbler = garbled_orders(lambda row: row["orderLines"][0].update(returnedNumberOfItems="one"))
    async with open_rig(
        tmp_path,
        flows=story.flows,
        options=story.options,
        wrap_wms=wrap("GET", "/*/api/v1/orders", garbler),
    ) as rig:
        await story.prepare(rig)
        target = story.shipments[0]
        garbler.numbers.add(target)

        await settle_twice(rig)

        reason = parked_for(await rig.dead(), "return", target)
        assert f"order {target!r}" in reason and "orderLines.0.returnedNumberOfItems" in reason
        payload = dead_payload(await rig.state.list_dead(STORE), target)
        assert payload["orderLines"][0]["returnedNumberOfItems"] == "one"
        assert len(await rig.dead()) == 1
        made = {w.data["shipment"] for w in rig.centra.world.written("returns")}
        assert made == set(story.shipments[1:])
        ledger = await rig.ledger(RecordKind.RETURN)
        assert ledger == {target: "invalid", **dict.fromkeys(story.shipments[1:], "reported")}


def webhook_body(orders: list[int], size: int) -> bytes:
    """An Integration-API call announcing ``orders``, repeated until it is ``size`` bytes."""
    date = "2026-11-29 10:00:00.000001"
    events = [{"type": "order", "action": "update", "date": date, "id": o} for o in orders]
    copies = max(1, size // len(json.dumps(events)))
    payload = json.dumps({"events": events * copies}, separators=(",", ":"))
    return ("payload=" + quote(payload, safe="")).encode()


def signed(body: bytes) -> dict[str, str]:
    now = int(time.time())
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Centra-Signature": f"t={now},v1={sign_payload(body, WEBHOOK_SECRET, now)}",
    }


async def test_a_10_mb_webhook_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    """Properly signed and naming real waiting orders, but 10 MB: refused unread (413).

    No poll runs, so webhooks are the only way in: the same events in a call of normal
    size are the control, and do bring the orders' shipments to the WMS.
    """
    async with open_rig(tmp_path, flows=()) as rig:
        world = rig.centra.world
        orders = sorted({s.order_number for s in world.shipments.values()})[:3]
        orders = [o for o in orders if world.orders[o].store_uri == URI]
        assert orders
        body = webhook_body(orders, 10 * 1024 * 1024)
        assert len(body) > 10_000_000
        hook = f"/webhooks/centra/{STORE}"
        async with httpx.AsyncClient(
            transport=EmulatorTransport(rig.app), base_url="http://engine.test"
        ) as engine:
            answer = await engine.post(hook, content=body, headers=signed(body))
            assert answer.status_code == 413, answer.text

            # Streamed without a declared length, the cap holds as well.
            async def stream() -> AsyncIterator[bytes]:
                for start in range(0, len(body), 65536):
                    yield body[start : start + 65536]

            streamed = await engine.post(hook, content=stream(), headers=signed(body))
            assert streamed.status_code == 413, streamed.text
            metrics = (await engine.get("/metrics")).text
            assert await rig.state.inbox_backlog(STORE) == 0
            await rig.run_pass()
            assert await rig.ledger(RecordKind.SHIPMENT) == {}
            assert rig.ongoing.state.orders == {}
            assert (
                'centrasync_webhooks_rejected_total{reason="too_large",store="se"} 2.0' in metrics
            )

            small = webhook_body(orders, 0)
            assert (
                await engine.post(hook, content=small, headers=signed(small))
            ).status_code == 200
            await rig.run_pass()
        in_wms = {order.number for order in rig.ongoing.state.orders.values()}
        assert in_wms == {s.number for s in world.shipments.values() if s.order_number in orders}
