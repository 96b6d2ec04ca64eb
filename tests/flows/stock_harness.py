"""The stock flow wired to both emulators in-process, on one hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from centrasync.centra.client import OrderApiClient
from centrasync.config import StoreSettings, parse_settings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.model import SizeRef
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.emulators.ongoing.payloads import ArticleIn
from centrasync.http import RateBudget
from centrasync.store.base import StateStore
from centrasync.store.sql import open_store
from centrasync.sync.stock import StockFlow
from centrasync.wms.ongoing.client import OngoingWarehouse
from fake_clock import FakeClock

CENTRA_URL = "http://centra.test/api/wms/"
ONGOING_URL = "http://ongoing.test/demo/api/v1/"
START = datetime(2025, 3, 3, 8, 0, 0, tzinfo=UTC)


async def no_wait(seconds: float) -> None:
    """The client's back-off between retries, skipped: tests need the outcome, not the wait."""


class Killed(BaseException):
    """The process died: nothing catches this, as nothing survives a SIGKILL."""


@dataclass
class CentraTap(httpx.AsyncBaseTransport):
    """In front of the Centra emulator: counts calls and can kill the engine on a stock POST.

    ``kill_before`` kills the process as that POST (1-based) is about to be sent, so Centra
    never sees it; ``kill_after`` lets that POST through and kills the process as its reply
    arrives, so Centra has the values but the engine never heard.
    """

    inner: httpx.AsyncBaseTransport
    calls: list[str] = field(default_factory=list)
    kill_before: int | None = None
    kill_after: int | None = None

    @property
    def stock_posts(self) -> int:
        return self.calls.count("POST stock")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = f"{request.method} {request.url.path.rstrip('/').rsplit('/', 1)[-1]}"
        if name == "POST stock" and self.kill_before == self.stock_posts + 1:
            raise Killed("killed before a stock write")
        self.calls.append(name)
        response = await self.inner.handle_async_request(request)
        if name == "POST stock" and self.kill_after == self.stock_posts:
            raise Killed("killed as the stock write's reply came in")
        return response


@dataclass
class StockWorld:
    """Both emulators, their clients through counting transports, a state store, a clock."""

    centra: CentraEmulator
    ongoing: OngoingEmulator
    tap: CentraTap
    client: OrderApiClient
    wms: OngoingWarehouse
    state: StateStore
    clock: FakeClock

    def settings(self, **options: Any) -> StoreSettings:
        store = {
            "centra": {"host": "http://centra.test", "uri": "wms", "timezone": "Europe/Stockholm"},
            "wms": {"base_url": ONGOING_URL, "user": "centrasync", "goods_owner_id": 1},
            "sync_stock": True,
            **options,
        }
        env = {"CENTRASYNC_SE_CENTRA_SECRET": "s3cret", "CENTRASYNC_SE_WMS_PASSWORD": "secret"}
        return parse_settings({"stores": {"se": store}}, env).store("se")

    def flow(self, *, batch_size: int = 100, **options: Any) -> StockFlow:
        return StockFlow(
            self.settings(**options),
            self.state,
            self.client,
            self.wms,
            now=self.clock,
            sleep=self.clock.sleep,
            batch_size=batch_size,
        )

    def sizes(self, count: int) -> list[SizeRef]:
        """Sizes of the demo catalogue with all three SKU parts, so the default number works."""
        found = [
            ref
            for ref in sorted(self.centra.world.sizes.values(), key=lambda r: r.size.id)
            if not ref.product.is_bundle and ref.variant.sku and ref.size.sku
        ]
        return found[:count]

    def in_wms(self, sku: str, items: float, locked: float | None = None) -> None:
        """An article in the WMS with a stock-take count (as staff would enter it)."""
        if sku not in self.ongoing.state.articles:
            self.ongoing.state.upsert_article(
                ArticleIn(goods_owner_id=1, article_number=sku, article_name=sku)
            )
        self.ongoing.state.adjust_stock(sku, items, locked)

    def physical(self, sku: str) -> int:
        """Centra's physical stock of a size in the store's primary warehouse."""
        ref = self.centra.world.find_size(sku)
        assert ref is not None, sku
        store = self.centra.world.store("wms")
        return self.centra.world.store_stock(store, ref.size.id)[0]

    def set_physical(self, sku: str, value: int) -> None:
        ref = self.centra.world.find_size(sku)
        assert ref is not None, sku
        store = self.centra.world.store("wms")
        self.centra.world.set_physical(store.primary_warehouse_id, ref.size.id, value)

    def stock_writes(self) -> list[tuple[str, int]]:
        """Every (product, requested value) Centra received through ``POST /stock``."""
        return [
            (str(w.data["product"]), int(w.data["requested"]))
            for w in self.centra.world.written("stock_writes")
        ]

    def external(self, sku: str) -> float | None:
        return self.ongoing.state.articles[sku].document.external_number_of_items


@asynccontextmanager
async def stock_world(tmp_path: Path) -> AsyncIterator[StockWorld]:
    clock = FakeClock(START)
    centra = CentraEmulator(seed="demo", clock=clock)
    ongoing = OngoingEmulator(clock=clock)
    tap = CentraTap(EmulatorTransport(centra.app))
    client = OrderApiClient(
        CENTRA_URL,
        "s3cret",
        "Europe/Stockholm",
        transport=tap,
        budget=RateBudget(1000),
        sleep=no_wait,
    )
    wms = OngoingWarehouse(
        ONGOING_URL,
        "centrasync",
        "secret",
        1,
        transport=EmulatorTransport(ongoing.app),
        clock=clock,
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    state = await open_store(f"sqlite+aiosqlite:///{tmp_path}/s.sqlite")
    try:
        yield StockWorld(centra, ongoing, tap, client, wms, state, clock)
    finally:
        await state.close()
        await client.aclose()
        await wms.aclose()
