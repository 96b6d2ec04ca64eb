"""A pass killed half way and run again writes every article once (the PUT log proves it)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from centrasync.store.base import EffectStatus, RecordKind, StateStore

from .articles_helpers import Killed, catalogue, product, rig, size

pytestmark = pytest.mark.slow

# Thirteen articles: the three of the standard catalogue and ten tee sizes.
CATALOGUE = [
    *catalogue(),
    product(
        "LT", "Long Tee", {("Navy", "NVY"): [size(f"S{i}", f"{i:02d}", 20 + i) for i in range(10)]}
    ),
]
EXPECTED = 13


async def _ledger_states(state: StateStore) -> Counter[str]:
    records = await state.list_records("se", kind=RecordKind.ARTICLE, limit=100)
    return Counter(record.state for record in records)


@pytest.mark.parametrize("kill_after", [0, 6, 12])
async def test_killed_before_a_put_then_rerun_writes_each_article_once(
    tmp_path: Path, kill_after: int
) -> None:
    async with rig(tmp_path, CATALOGUE) as r:
        r.recorder.kill_after = kill_after
        with pytest.raises(Killed):
            await r.flow().run()
        assert await r.state.get_cursor("se", "articles") is None, "no good pass yet"
        r.recorder.heal()
        assert await r.flow().run() == EXPECTED - kill_after
        assert Counter(r.recorder.puts).most_common(1)[0][1] == 1, "nothing written twice"
        assert len(r.recorder.puts) == len(await r.wms_articles()) == EXPECTED
        assert await _ledger_states(r.state) == Counter({"synced": EXPECTED})
        assert await r.state.get_cursor("se", "articles") is not None


async def test_killed_after_an_outcome_was_stored_only_the_write_on_the_wire_is_repeated(
    tmp_path: Path,
) -> None:
    """A write's confirmation commits with the intent of the write after next.

    So when the process dies right after that commit, the write between them was on the
    wire (or had just landed, unconfirmed): only it may be sent again.
    """
    async with rig(tmp_path, CATALOGUE) as r:
        healthy = r.state
        r.state = cast(StateStore, _DiesBeforeLedger(healthy, after=7))
        with pytest.raises(Killed):
            await r.flow().run()
        on_the_wire = r.recorder.puts[-1]
        assert len(r.recorder.puts) in (7, 8), "the eighth is on the wire or about to be"
        r.state = healthy
        await r.flow().run()
        counts = Counter(r.recorder.puts)
        assert counts.pop(on_the_wire) in (1, 2)
        assert set(counts.values()) == {1} and len(counts) == EXPECTED - 1
        assert await _ledger_states(r.state) == Counter({"synced": EXPECTED})


async def test_the_next_intent_commits_while_a_write_is_on_the_wire(tmp_path: Path) -> None:
    """The store's work for one article overlaps the WMS's for the one before it.

    At most two writes are begun and unconfirmed at any time: the one on the wire and
    the next. Without the overlap every PUT would find only itself begun.
    """
    async with rig(tmp_path, CATALOGUE) as r:
        begun: list[int] = []
        r.recorder.inner = _SlowWms(r.recorder.inner, r.state, begun)
        assert await r.flow().run() == EXPECTED
        assert max(begun) == 2
        assert begun.count(2) >= EXPECTED - 2, begun
        assert await _ledger_states(r.state) == Counter({"synced": EXPECTED})


class _SlowWms(httpx.AsyncBaseTransport):
    """A WMS that takes a few milliseconds an article, noting how many writes are begun."""

    def __init__(self, inner: httpx.AsyncBaseTransport, state: StateStore, begun: list[int]):
        self.inner = inner
        self.state = state
        self.begun = begun

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.url.path.endswith("/articles"):
            await asyncio.sleep(0.005)
            writing = await self.state.count_records("se", RecordKind.ARTICLE, states={"writing"})
            self.begun.append(writing.get("writing", 0))
        return await self.inner.handle_async_request(request)


async def test_killed_as_the_wms_answered_only_that_article_is_sent_again(
    tmp_path: Path,
) -> None:
    """The one case the engine cannot know: the WMS applied the PUT, the reply was lost.

    The effect stays in doubt and the upsert is a full replace by article number, so the
    same content is sent once more for that article only; the WMS still holds one article
    per number with the same content.
    """
    async with rig(tmp_path, CATALOGUE) as r:
        r.recorder.kill_on_reply = 5
        with pytest.raises(Killed):
            await r.flow().run()
        in_doubt = r.recorder.puts[-1]
        before = (await r.wms_articles())[in_doubt]
        r.recorder.heal()
        await r.flow().run()
        counts = Counter(r.recorder.puts)
        assert counts.pop(in_doubt) == 2
        assert set(counts.values()) == {1} and len(counts) == EXPECTED - 1
        after = await r.wms_articles()
        assert len(after) == EXPECTED
        # The WMS's own figures and its last-changed time are not the article's content.
        kept = {"inventoryInfo", "articleDataLastUpdated"}
        assert {k: v for k, v in after[in_doubt].items() if k not in kept} == {
            k: v for k, v in before.items() if k not in kept
        }


class _DiesBeforeLedger:
    """A state store that dies once the ``after``-th outcome is stored: the effect is done.

    The move to synced commits with the outcome (and with the next write's intent, when
    the flow confirms in that transaction), so the process dies right after the commit.
    """

    def __init__(self, inner: StateStore, *, after: int) -> None:
        self.inner = inner
        self.after = after
        self.synced = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _confirmed(self, key: str) -> None:
        self.synced += 1
        if self.synced == self.after:
            raise Killed(f"killed after {key} was confirmed")

    async def complete_effect(self, key: str, outcome: Any, **kw: Any) -> Any:
        done = await self.inner.complete_effect(key, outcome, **kw)
        self._confirmed(key)
        return done

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[StateStore]:
        confirmed: list[str] = []
        async with self.inner.transaction() as tx:
            yield cast(StateStore, _Noting(tx, confirmed))
        for key in confirmed:
            self._confirmed(key)


class _Noting:
    """A transaction's store that notes which effects it confirms."""

    def __init__(self, inner: StateStore, confirmed: list[str]) -> None:
        self.inner = inner
        self.confirmed = confirmed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def complete_effect(self, key: str, outcome: Any, **kw: Any) -> Any:
        done = await self.inner.complete_effect(key, outcome, **kw)
        self.confirmed.append(key)
        return done


async def test_an_edit_reverted_while_a_write_was_in_doubt_is_written(tmp_path: Path) -> None:
    """Killed after the WMS took the edit, the engine cannot know which content it holds."""
    async with rig(tmp_path) as r:
        await r.flow().run()
        r.clock.advance(minutes=1)
        await r.edit("TEE", weight=0.3)
        r.clock.advance(minutes=1)
        r.recorder.kill_on_reply = len(r.recorder.puts) + 1
        with pytest.raises(Killed):
            await r.flow().run()
        assert (await r.wms_articles())["TEEWHTM"]["weight"] == 0.3
        r.recorder.heal()
        await r.edit("TEE", weight=0.2)
        r.clock.advance(minutes=1)
        assert await r.flow().run() == 1
        assert (await r.wms_articles())["TEEWHTM"]["weight"] == 0.2


class _GoneWith:
    """A state store that is gone once ``dead()``: a killed process writes nothing more."""

    def __init__(self, inner: StateStore, dead: Callable[[], bool]) -> None:
        self.inner = inner
        self.dead = dead

    def __getattr__(self, name: str) -> Any:
        if self.dead():
            raise Killed("the process is gone")
        return getattr(self.inner, name)


async def test_killed_as_a_reply_arrives_at_most_that_write_and_the_one_before_are_in_doubt(
    tmp_path: Path,
) -> None:
    """A write's confirmation may wait for a later write's intent, never for its answer."""
    async with rig(tmp_path, CATALOGUE) as r:
        healthy = r.state
        r.recorder.kill_on_reply = 5
        r.state = cast(StateStore, _GoneWith(healthy, lambda: len(r.recorder.puts) >= 5))
        with pytest.raises(Killed):
            await r.flow().run()
        records = await healthy.list_records("se", kind=RecordKind.ARTICLE, limit=100)
        effects = [effect for record in records for effect in await healthy.effects_of(record.ref)]
        pending = {e.record.key for e in effects if e.status is EffectStatus.PENDING}
        puts = r.recorder.puts
        assert len(puts) == len(effects) == 5
        assert puts[-1] in pending and pending <= {puts[-2], puts[-1]}
        assert Counter(record.state for record in records) == Counter(
            {"synced": 5 - len(pending), "writing": len(pending)}
        )
