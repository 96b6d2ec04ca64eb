"""The articles flow wired to both emulators in-process, with a log of every article PUT."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from centrasync.centra.client import OrderApiClient
from centrasync.config import StoreSettings, parse_settings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.seed import ean13
from centrasync.emulators.centra.specs import (
    CatalogueSpec,
    ProductSpec,
    SizeSpec,
    VariantSpec,
    WarehouseSpec,
)
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.http import RateBudget
from centrasync.store.base import StateStore
from centrasync.store.sql import open_store
from centrasync.sync.articles import ArticlesFlow
from centrasync.wms.ongoing.client import OngoingWarehouse
from fake_clock import FakeClock

CENTRA_URL = "http://centra.test/api/wms/"
ONGOING_URL = "http://ongoing.test/demo/api/v1/"
START = datetime(2025, 1, 15, 10, 0, 0, tzinfo=UTC)


class Killed(BaseException):
    """The process died: nothing catches this, as nothing survives a SIGKILL."""


@dataclass
class RecordingTransport(httpx.AsyncBaseTransport):
    """In front of the Ongoing emulator: logs each article PUT and can play a few failures.

    ``kill_after`` lets that many PUTs through and kills the next one before it is sent;
    ``kill_on_reply`` kills the process as the reply to that PUT (1-based) arrives, so the
    WMS has the article but the engine never heard; ``refuse`` answers 400 for those
    article numbers, as Ongoing answers a bad article, and ``unavailable`` 503.
    """

    inner: httpx.AsyncBaseTransport
    puts: list[str] = field(default_factory=list)
    kill_after: int | None = None
    kill_on_reply: int | None = None
    refuse: set[str] = field(default_factory=set)
    unavailable: set[str] = field(default_factory=set)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not (request.method == "PUT" and request.url.path.endswith("/articles")):
            return await self.inner.handle_async_request(request)
        number = json.loads(request.content)["articleNumber"]
        if self.kill_after is not None and len(self.puts) >= self.kill_after:
            raise Killed(f"killed before PUT {number}")
        if number in self.refuse:
            return httpx.Response(400, json={"message": f"Article {number}: not allowed"})
        if number in self.unavailable:
            return httpx.Response(503, json={"message": "Service unavailable"})
        self.puts.append(number)
        response = await self.inner.handle_async_request(request)
        if self.kill_on_reply == len(self.puts):
            raise Killed(f"killed as PUT {number} was answered")
        return response

    def heal(self) -> None:
        self.kill_after = self.kill_on_reply = None


def size(name: str, sku: str, counter: int) -> SizeSpec:
    return SizeSpec(name=name, sku=sku, ean=ean13(counter), stock={1: 5})


def product(
    sku: str, name: str, variants: dict[tuple[str, str], list[SizeSpec]], **kw: Any
) -> ProductSpec:
    return ProductSpec(
        sku=sku,
        name=name,
        variants=[VariantSpec(name=v, sku=vs, sizes=s) for (v, vs), s in variants.items()],
        **kw,
    )


def catalogue() -> list[ProductSpec]:
    """Two jacket sizes in grams with a price, a tee, an inactive cap, an EAN-only gift box."""
    return [
        product(
            "WJ",
            "WinterJacket",
            {("Black", "BLK"): [size("38", "38", 1), size("40", "40", 2)]},
            weight=1200,
            weight_unit="g",
            harm_code="6201409000",
            country_of_origin="PT",
            prices={"SEK": 1299.0},
        ),
        product(
            "TEE",
            "Tee",
            {("White", "WHT"): [size("M", "M", 3)]},
            weight=0.2,
            harm_code="6109100010",
            prices={"SEK": 199.0},
        ),
        product("CAP", "Old Cap", {("Red", "RED"): [size("One size", "OS", 4)]}, active=False),
        product("GIFT", "Gift Card Box", {("Default", ""): [size("", "", 5)]}),
    ]


def store_settings(**options: Any) -> StoreSettings:
    store = {
        "centra": {"host": "http://centra.test", "uri": "wms", "timezone": "Europe/Stockholm"},
        "wms": {"base_url": ONGOING_URL, "user": "centrasync", "goods_owner_id": 1},
        **options,
    }
    env = {"CENTRASYNC_SE_CENTRA_SECRET": "s3cret", "CENTRASYNC_SE_WMS_PASSWORD": "secret"}
    return parse_settings({"stores": {"se": store}}, env).stores[0]


async def _no_sleep(_: float) -> None:
    return None


@dataclass
class Rig:
    centra: CentraEmulator
    ongoing: OngoingEmulator
    state: StateStore
    client: OrderApiClient
    wms: OngoingWarehouse
    recorder: RecordingTransport
    clock: FakeClock
    control: httpx.AsyncClient

    def flow(self, **options: Any) -> ArticlesFlow:
        """A flow under store settings ``options``; the flow's own options pass through."""
        own = ("overlap", "progress", "max_attempts", "page_size")
        extra = {k: options.pop(k) for k in own if k in options}
        return ArticlesFlow(
            store_settings(**options), self.state, self.client, self.wms, now=self.clock, **extra
        )

    async def wms_articles(self) -> dict[str, dict[str, Any]]:
        """The Ongoing emulator's articles as its control API shows them, by number."""
        snapshot = (await self.control.get("http://ongoing.test/_emulator/state")).json()
        return {a["articleNumber"]: a for a in snapshot["articles"]}

    async def edit(self, sku: str, **change: Any) -> None:
        """Edit a product in Centra's admin (its ``modified`` time becomes now)."""
        product_id = next(p.id for p in self.centra.world.products.values() if p.sku == sku)
        response = await self.control.patch(
            f"http://centra.test/_emulator/products/{product_id}", json=change
        )
        assert response.status_code == 200, response.text


@asynccontextmanager
async def rig(tmp_path: Path, products: Sequence[ProductSpec] | None = None) -> AsyncIterator[Rig]:
    clock = FakeClock(START)
    centra = CentraEmulator(clock=clock)
    centra.load_catalogue(
        CatalogueSpec(
            warehouses=[WarehouseSpec(name="Main")],
            products=list(catalogue() if products is None else products),
        )
    )
    clock.advance(hours=1)  # the catalogue exists well before the first sync
    ongoing = OngoingEmulator()
    recorder = RecordingTransport(EmulatorTransport(ongoing.app))
    state = await open_store(f"sqlite+aiosqlite:///{tmp_path}/s.sqlite")
    client = OrderApiClient(
        CENTRA_URL,
        "s3cret",
        "Europe/Stockholm",
        transport=EmulatorTransport(centra.app),
        budget=RateBudget(1000),
        sleep=_no_sleep,
    )
    wms = OngoingWarehouse(
        ONGOING_URL, "centrasync", "secret", 1, transport=recorder, sleep=_no_sleep
    )
    routes = {
        "centra.test": EmulatorTransport(centra.app),
        "ongoing.test": EmulatorTransport(ongoing.app),
    }
    control = httpx.AsyncClient(transport=_ByHost(routes))
    try:
        yield Rig(centra, ongoing, state, client, wms, recorder, clock, control)
    finally:
        await control.aclose()
        await client.aclose()
        await wms.aclose()
        await state.close()


@dataclass
class _ByHost(httpx.AsyncBaseTransport):
    routes: dict[str, httpx.AsyncBaseTransport]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[request.url.host].handle_async_request(request)
