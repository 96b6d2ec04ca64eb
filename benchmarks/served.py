"""Both emulators in a child process, so a benchmark's memory figures are the engine's own.

In-process emulators hold their whole catalogue and render every page in the benchmark's
own process, so its max RSS says little about the engine. :func:`served` has ``remote.py``
start a child process instead, which builds the real Centra and Ongoing emulators on one
hand-moved :class:`~harness.Clock`, seeds them, and serves them with uvicorn on ephemeral
ports of 127.0.0.1; the engine reaches them over real sockets, as in production.

The emulators have no control route for time, so the child serves a third, tiny app for
what a benchmark does between passes: move the clock, move the WMS stock of some SKUs (as
a stock-take on the Ongoing emulator does), and read back small summaries, so the engine's
process never holds a catalogue-sized answer it would not get in production. The
benchmark keeps a twin clock started at the same instant and moved by the same amounts.

"""

from __future__ import annotations

import random
import resource
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from harness import Clock
from pydantic import BaseModel
from remote import child_apps

__all__ = ["Served", "served"]

Kind = Literal["stock", "articles"]


@dataclass
class Served:
    """The running child: base URLs of both emulators and the twin of its clock."""

    centra: str
    ongoing: str
    control: httpx.AsyncClient
    built_s: float
    clock: Clock = field(default_factory=Clock)

    async def advance(self, seconds: float) -> None:
        """Move both clocks, the emulators' and the engine's, by ``seconds``."""
        await self._post("/clock/advance", {"seconds": seconds})
        self.clock.advance(seconds)

    async def move_stock(self, share: float) -> dict[str, float]:
        """A stock-take of ``share`` of the SKUs in the WMS; returns number -> new count."""
        moved: dict[str, float] = await self._post("/stock/move", {"share": share})
        return moved

    async def stock_writes(self, since: int) -> list[tuple[str, float]]:
        """(product, requested) of Centra's stock writes from number ``since`` on."""
        response = await self.control.get("/stock-writes", params={"since": since})
        response.raise_for_status()
        return [(str(p), float(q)) for p, q in response.json()]

    async def summary(self) -> dict[str, Any]:
        """Counts of what the emulators hold, and the child's own max RSS in MiB."""
        response = await self.control.get("/summary")
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.control.post(path, json=body)
        response.raise_for_status()
        return response.json()


@asynccontextmanager
async def served(kind: Kind, size: int) -> AsyncIterator[Served]:
    """Start the child with ``size`` SKUs (``stock``: in both systems; ``articles``: in Centra)."""
    async with (
        child_apps("served:build", kind, size) as urls,
        httpx.AsyncClient(base_url=urls["control"]) as control,
    ):
        answer = await control.get("/built")
        answer.raise_for_status()
        yield Served(urls["centra"], urls["ongoing"], control, answer.json()["seconds"])


# -- the child ------------------------------------------------------------------------------


class Advance(BaseModel):
    seconds: float


class Move(BaseModel):
    share: float


def _build(kind: Kind, size: int, clock: Clock) -> tuple[Any, Any, Any]:
    """The two emulators seeded for ``kind``, and the benchmark's control app over them."""
    from fastapi import FastAPI
    from harness import catalogue

    from centrasync.emulators.centra import CentraEmulator
    from centrasync.emulators.ongoing import OngoingEmulator
    from centrasync.emulators.ongoing.payloads import ArticleIn

    centra = CentraEmulator(seed=None, clock=clock)
    centra.load_catalogue(catalogue(size))
    ongoing = OngoingEmulator(clock=clock)
    numbers: list[str] = []
    if kind == "stock":
        store = centra.world.store("wms")
        for ref in centra.world.sizes.values():
            number = ref.physical_sku
            numbers.append(number)
            ongoing.state.upsert_article(
                ArticleIn(goods_owner_id=1, article_number=number, article_name=number)
            )
            ongoing.state.adjust_stock(number, centra.world.store_stock(store, ref.size.id)[0])
    rng = random.Random(5)
    control = FastAPI()

    @control.post("/clock/advance")
    async def advance(body: Advance) -> dict[str, str]:
        clock.advance(body.seconds)
        return {"now": clock().isoformat()}

    @control.post("/stock/move")
    async def move(body: Move) -> dict[str, float]:
        moved = {}
        for number in rng.sample(numbers, int(len(numbers) * body.share)):
            value = ongoing.state.articles[number].number_of_items + rng.randint(1, 5)
            ongoing.state.adjust_stock(number, value)
            moved[number] = value
        return moved

    @control.get("/stock-writes")
    async def stock_writes(since: int) -> list[tuple[str, float]]:
        writes = centra.world.written("stock_writes")[since:]
        return [(str(w.data["product"]), float(w.data["requested"])) for w in writes]

    @control.get("/summary")
    async def summary() -> dict[str, Any]:
        return {
            "centra_stock_writes": len(centra.world.written("stock_writes")),
            "ongoing_articles": len(ongoing.state.articles),
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }

    return centra.app, ongoing.app, control


def build(kind: str, size: str) -> dict[str, Any]:
    """The child's apps (built by ``remote.py``); the control app also says how long it took."""
    began = time.perf_counter()
    centra, ongoing, control = _build(
        "stock" if kind == "stock" else "articles", int(size), Clock()
    )
    built = time.perf_counter() - began

    @control.get("/built")
    async def built_seconds() -> dict[str, float]:
        return {"seconds": built}

    return {"centra": centra, "ongoing": ongoing, "control": control}
