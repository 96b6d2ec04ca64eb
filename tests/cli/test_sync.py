"""``centrasync sync <flow> <store>`` against both emulators served on real ports."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from centrasync.cli import app
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.errors import CentrasyncError, LeaseLostError
from centrasync.ops.sync import StoreBusyError, holding_lease, print_pass
from centrasync.store import RecordKind, RecordRef, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.stock import StockDrift, StockReport

from .conftest import CENTRA_SECRET, WMS_PASSWORD, serving

pytestmark = pytest.mark.slow

runner = CliRunner()

TEE_S, TEE_M, CAP = "7350000000017", "7350000000024", "7350000000031"
CATALOGUE: dict[str, Any] = {
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
                        {"name": "S", "sku": "S", "ean": TEE_S, "stock": {"1": 5}},
                        {"name": "M", "sku": "M", "ean": TEE_M, "stock": {"1": 3}},
                    ],
                }
            ],
        },
        {
            "sku": "CAP",
            "name": "Cap",
            "variants": [
                {
                    "name": "Blue",
                    "sku": "B",
                    "sizes": [{"name": "One size", "sku": "OS", "ean": CAP, "stock": {"1": 2}}],
                }
            ],
        },
    ],
}
# The default article number: sku + variantSku + sizeSku.
NUMBERS = {TEE_S: "TEERS", TEE_M: "TEERM", CAP: "CAPBOS"}
SECRETS = (CENTRA_SECRET, WMS_PASSWORD)


@dataclass(frozen=True)
class Urls:
    centra: str
    ongoing: str


@dataclass(frozen=True)
class Shop:
    """Both emulators (reset for this test), their control APIs and a configuration file."""

    centra: httpx.Client
    ongoing: httpx.Client
    urls: Urls
    tmp_path: Path

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.tmp_path / 'state.sqlite'}"

    def config(self, extra: str = "") -> Path:
        path = self.tmp_path / "centrasync.toml"
        path.write_text(
            f"""
[engine]
database_url = "{self.database_url}"

[stores.se]
capture_policy = "on_complete"
sync_stock = true
stock_quiet_window = 0
{extra}

[stores.se.centra]
host = "{self.urls.centra}"
uri = "wms"
timezone = "Europe/Stockholm"

[stores.se.wms]
base_url = "{self.urls.ongoing}/demo/api/v1/"
user = "centrasync"
goods_owner_id = 1
""",
            encoding="utf-8",
        )
        return path

    def sync(self, *args: str, config: Path | None = None) -> Result:
        env = {
            "CENTRASYNC_SE_CENTRA_SECRET": CENTRA_SECRET,
            "CENTRASYNC_SE_WMS_PASSWORD": WMS_PASSWORD,
            "COLUMNS": "200",
        }
        path = config or self.config()
        result = runner.invoke(app, ["sync", *args, "--config", str(path)], env=env)
        for secret in SECRETS:
            assert secret not in result.output
        return result

    def wms_articles(self) -> set[str]:
        return {a["articleNumber"] for a in self.ongoing_state()["articles"]}

    def ongoing_state(self) -> dict[str, Any]:
        answer = self.ongoing.get("/_emulator/state")
        assert answer.status_code == 200, answer.text
        state: dict[str, Any] = answer.json()
        return state

    def control(self, client: httpx.Client, path: str, body: Any = None) -> Any:
        answer = client.post(path, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def urls() -> Iterator[Urls]:
    centra = CentraEmulator(uri="wms", secret=CENTRA_SECRET)
    ongoing = OngoingEmulator(warehouse="demo", user="centrasync", password=WMS_PASSWORD)
    with serving(centra.app) as centra_url, serving(ongoing.app) as ongoing_url:
        yield Urls(centra_url, ongoing_url)


@pytest.fixture
def shop(urls: Urls, tmp_path: Path) -> Iterator[Shop]:
    """A small catalogue in Centra (the demo seed's 1,600 sizes take seconds), an empty WMS."""
    with httpx.Client(base_url=urls.centra) as centra, httpx.Client(base_url=urls.ongoing) as wms:
        shop = Shop(centra, wms, urls, tmp_path)
        shop.control(centra, "/_emulator/seed", {"catalogue": CATALOGUE})
        shop.control(wms, "/_emulator/reset")
        yield shop


def rows(result: Result) -> list[list[str]]:
    """The cells of every table row printed on stdout."""
    found = []
    for line in result.stdout.splitlines():
        if "│" in line:
            found.append([cell.strip() for cell in line.strip().strip("│").split("│")])
    return found


def held_by(database_url: str, lease: str, owner: str) -> None:
    async def take() -> None:
        state = await open_store(database_url)
        try:
            assert await state.acquire_lease(lease, owner, timedelta(minutes=5))
        finally:
            await state.close()

    asyncio.run(take())


def free(database_url: str, lease: str) -> bool:
    async def probe() -> bool:
        state = await open_store(database_url)
        try:
            return await state.acquire_lease(lease, "probe", timedelta(seconds=5)) is not None
        finally:
            await state.close()

    return asyncio.run(probe())


def place_shipment(shop: Shop) -> str:
    """An order of one TEE S with a Good-to-Go, uncaptured shipment; its number."""
    order = shop.control(
        shop.centra,
        "/_emulator/orders",
        {
            "store": "wms",
            "lines": [{"ean": TEE_S, "qty": 1}],
            "billing": {
                "name": "Anna Berg",
                "address": "Storgatan 1",
                "zipcode": "111 22",
                "city": "Stockholm",
                "country": "SE",
                "email": "anna@example.com",
            },
        },
    )["number"]
    shipment = shop.control(
        shop.centra, f"/_emulator/orders/{order}/shipments", {"gtg": True, "capture": False}
    )
    return str(shipment["number"])


def ship_in_wms(shop: Shop, number: str) -> None:
    for step in ("allocate", "pick", "ship"):
        shop.control(shop.ongoing, f"/_emulator/orders/{number}/{step}")


# -- one pass per flow ----------------------------------------------------------------------


def test_articles_full_pass_writes_the_catalogue_and_a_second_pass_nothing(shop: Shop) -> None:
    full = shop.sync("articles", "se", "--full")

    assert full.exit_code == 0, full.output
    assert "articles: full" in full.stdout
    assert ["3", "3", "0", "0", "0"] in rows(full), "read, written, unchanged, filtered, parked"
    assert shop.wms_articles() == set(NUMBERS.values())
    assert "syncing articles" in full.stderr, "the progress bar"

    again = shop.sync("articles", "se")

    assert again.exit_code == 0, again.output
    assert "articles: incremental" in again.stdout
    assert ["3", "0", "3", "0", "0"] in rows(again)
    assert free(shop.database_url, "worker/se/articles"), "the pass let go of its lease"


def test_stock_pass_writes_the_wms_figures_to_centra(shop: Shop) -> None:
    assert shop.sync("articles", "se").exit_code == 0
    shop.control(
        shop.ongoing, "/_emulator/stock/adjust", {"article_number": "TEERS", "number_of_items": 9}
    )

    result = shop.sync("stock", "se")

    assert result.exit_code == 0, result.output
    assert "stock: incremental" in result.stdout
    assert ["3", "3", "0", "0", "1"] in rows(result), "seen, written, imported, parked, batches"
    assert "drift" not in result.stdout
    physical = shop.centra.get(f"/_emulator/stock/{TEE_S}").json()["warehouses"][0]["physical"]
    assert physical == 9


def test_full_stock_pass_prints_the_drift_per_sku(shop: Shop) -> None:
    assert shop.sync("articles", "se").exit_code == 0
    shop.control(
        shop.ongoing, "/_emulator/stock/adjust", {"article_number": "TEERS", "number_of_items": 9}
    )

    result = shop.sync("stock", "se", "--full")

    assert result.exit_code == 0, result.output
    assert "stock: full" in result.stdout
    table = rows(result)
    assert ["CAPBOS", "2", "0", "yes"] in table
    assert ["TEERM", "3", "0", "yes"] in table
    assert ["TEERS", "5", "9", "yes"] in table
    assert "3 SKU(s) drifted" in result.stdout


def test_a_long_drift_list_shows_fifty_rows_and_counts_the_rest() -> None:
    drift = tuple(StockDrift(f"SKU-{n:03}", n, 0, written=True) for n in range(1, 61))
    out = StringIO()

    print_pass(Console(file=out, width=120), StockReport("full", seen=60, drift=drift))

    text = out.getvalue()
    assert "SKU-050" in text
    assert "SKU-051" not in text
    assert "60 SKU(s) drifted (first 50 shown, 10 more)" in text


def test_in_deliveries_pass_sends_a_supplier_delivery_to_the_wms(shop: Shop) -> None:
    [warehouse] = shop.centra.get("/_emulator/warehouses").json()
    order = shop.control(
        shop.centra,
        "/_emulator/supplier-orders",
        {"warehouse_id": warehouse["id"], "lines": [{"ean": TEE_M, "qty": 12, "cost": 80}]},
    )
    shop.control(shop.centra, f"/_emulator/supplier-orders/{order['orderId']}/deliveries", {})

    result = shop.sync("in-deliveries", "se")

    assert result.exit_code == 0, result.output
    assert ["in_deliveries", "1", "0", "0"] in rows(result), "step, moved, failed, parked"
    assert "1 record(s) moved on" in result.stdout
    [purchase_order] = shop.ongoing_state()["purchaseOrders"]
    assert purchase_order["purchaseOrderLines"][0]["advisedNumberOfItems"] == 12


def test_shipments_pass_sends_then_confirms_a_shipment(shop: Shop) -> None:
    number = place_shipment(shop)

    sent = shop.sync("shipments", "se")

    assert sent.exit_code == 0, sent.output
    assert ["outbound", "1", "0", "0"] in rows(sent)
    assert ["confirmation", "0", "0", "0"] in rows(sent)
    assert "webhook events waiting: 0 before, 0 after" in sent.stdout
    ship_in_wms(shop, number)

    confirmed = shop.sync("shipments", "se")

    assert confirmed.exit_code == 0, confirmed.output
    assert ["outbound", "0", "0", "0"] in rows(confirmed)
    assert ["confirmation", "1", "0", "0"] in rows(confirmed)
    shipment = shop.centra.get(f"/_emulator/shipments/{number}").json()
    assert shipment["shipped"], shipment


def test_returns_pass_reports_a_wms_return_to_centra(shop: Shop) -> None:
    number = place_shipment(shop)
    assert shop.sync("shipments", "se").exit_code == 0
    ship_in_wms(shop, number)
    assert shop.sync("shipments", "se").exit_code == 0
    shop.control(
        shop.ongoing,
        f"/_emulator/orders/{number}/return",
        {"lines": [{"article_number": "TEERS", "quantity": 1, "cause": "Too small"}]},
    )

    result = shop.sync("returns", "se")

    assert result.exit_code == 0, result.output
    assert ["returns", "1", "0", "0"] in rows(result)
    [written] = shop.centra.get("/_emulator/writes/returns").json()
    assert written["shipment"] == number, written


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flow", "lease"),
    [
        ("articles", "worker/se/articles"),
        ("shipments", "worker/se"),
        # Both stock passes run in the stock loop (they update one stock mirror).
        ("stock", "worker/se/stock"),
    ],
)
def test_a_pass_the_engine_holds_the_lease_for_is_refused_naming_the_holder(
    shop: Shop, flow: str, lease: str
) -> None:
    config = shop.config()
    held_by(shop.database_url, lease, "prod-1:/etc/centrasync.toml")

    result = shop.sync(flow, "se", config=config)

    assert result.exit_code == 1
    assert f"lease {lease} is held by 'prod-1:/etc/centrasync.toml' until" in result.stderr
    assert "centrasync serve" in result.stderr
    assert shop.wms_articles() == set()
    assert not free(shop.database_url, lease), "the holder keeps its lease"


def test_an_unknown_store_or_flow_exits_2_naming_the_choices(shop: Shop) -> None:
    store = shop.sync("articles", "no")
    flow = shop.sync("prices", "se")
    full = shop.sync("returns", "se", "--full")

    assert store.exit_code == 2
    assert "unknown store 'no' (one of se)" in store.stderr
    assert flow.exit_code == 2
    assert (
        "unknown flow 'prices' (one of articles, stock, in-deliveries, returns, shipments)"
        in flow.stderr
    )
    assert full.exit_code == 2
    assert "only articles and stock have a full pass" in full.stderr


def test_a_stock_pass_on_a_store_without_stock_sync_is_refused(shop: Shop) -> None:
    config = shop.config()
    config.write_text(
        config.read_text(encoding="utf-8").replace("sync_stock = true", "sync_stock = false"),
        encoding="utf-8",
    )

    result = shop.sync("stock", "se", config=config)

    assert result.exit_code == 1
    assert "stores.se: sync_stock and import_available_stock are both off" in result.stderr


# -- the lease, kept and lost -----------------------------------------------------------------


@pytest.fixture
async def state() -> Any:
    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        yield store
    finally:
        await store.close()


async def test_the_lease_is_renewed_through_a_pass_longer_than_its_lifetime(
    state: StateStore,
) -> None:
    ttl = timedelta(seconds=0.3)
    seen: list[bool] = []

    async def slow(fenced: StateStore) -> str:
        for _ in range(4):
            await asyncio.sleep(0.2)
            seen.append(await state.acquire_lease("worker/se", "serve", ttl) is not None)
            await fenced.upsert_record(RecordRef("se", RecordKind.SHIPMENT, "1-1"))
        return "done"

    assert await holding_lease(state, "worker/se", "sync", slow, ttl=ttl) == "done"
    assert seen == [False] * 4, "nobody else got the lease while the pass ran"
    assert await state.acquire_lease("worker/se", "serve", ttl), "released afterwards"


async def test_a_lost_lease_stops_the_pass(state: StateStore) -> None:
    ttl = timedelta(seconds=0.3)
    finished = asyncio.Event()

    async def robbed(fenced: StateStore) -> None:
        await state.release_lease("worker/se", "sync")
        assert await state.acquire_lease("worker/se", "serve", ttl)
        await asyncio.sleep(5)
        finished.set()

    with pytest.raises(LeaseLostError, match="could not be renewed mid-pass"):
        await holding_lease(state, "worker/se", "sync", robbed, ttl=ttl)
    assert not finished.is_set()
    assert not await state.acquire_lease("worker/se", "third", ttl), "the new holder keeps it"


async def test_a_write_after_another_process_took_the_lease_stops_the_pass(
    state: StateStore,
) -> None:
    ttl = timedelta(seconds=30)
    record = RecordRef("se", RecordKind.SHIPMENT, "1-1")

    async def overtaken(fenced: StateStore) -> None:
        await fenced.upsert_record(record)
        # Another process takes the lease over (as after this one stalled past its ttl).
        assert await state.acquire_lease("worker/se", "sync", ttl)
        await fenced.transition(record, "sent")

    with pytest.raises(LeaseLostError, match="was now under token 2"):
        await holding_lease(state, "worker/se", "sync", overtaken, ttl=ttl)
    written = await state.get_record(record)
    assert written is not None and written.state == "new"
    assert not await state.acquire_lease("worker/se", "third", ttl), "the new holder keeps it"


async def test_a_refusal_names_the_holder(state: StateStore) -> None:
    ttl = timedelta(seconds=30)
    assert await state.acquire_lease("worker/se/stock", "serve", ttl)

    async def never(fenced: StateStore) -> None:
        raise AssertionError("must not run")

    with pytest.raises(StoreBusyError) as refused:
        await holding_lease(state, "worker/se/stock", "sync", never, ttl=ttl)
    assert isinstance(refused.value, CentrasyncError)
    assert "'serve'" in str(refused.value)
