"""The articles flow on both emulators: deltas, de-duplication, refusals and the ledger."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from centrasync.centra.client import OrderApiClient
from centrasync.emulators.centra.seed import ean13
from centrasync.emulators.faults import EmulatorTransport, FaultKind, FaultRule
from centrasync.errors import ServerError
from centrasync.store.base import RecordKind, RecordRef
from centrasync.sync.articles import ARTICLES, ArticlesFlow

from .articles_helpers import CENTRA_URL, product, rig, size, store_settings


def ref(key: str) -> RecordRef:
    return RecordRef("se", RecordKind.ARTICLE, key)


async def test_unchanged_catalogue_is_never_written_again(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        flow = r.flow()
        assert await flow.run() == 3
        r.clock.advance(minutes=10)
        assert await flow.run() == 0
        assert await flow.full_resync() == 0
        assert sorted(r.recorder.puts) == ["TEEWHTM", "WJBLK38", "WJBLK40"]
        record = await r.state.get_record(ref("WJBLK38"))
        assert record is not None and record.state == "synced"
        assert record.centra_id is not None
        assert [t.to_state for t in await r.state.history(ref("WJBLK38"))] == ["writing", "synced"]


async def test_only_products_modified_since_the_last_good_pass_are_read(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        flow = r.flow(overlap=timedelta(0))
        await flow.run()
        first = await r.state.get_cursor("se", ARTICLES)
        assert first is not None and first.value == r.clock.now
        r.clock.advance(minutes=10)
        await r.edit("TEE", weight=0.25)
        r.clock.advance(minutes=10)
        result = await flow.sync(full=False)
        assert (result.full, result.read, result.written) == (False, 1, 1)
        assert r.recorder.puts[-1] == "TEEWHTM" and len(r.recorder.puts) == 4
        assert (await r.wms_articles())["TEEWHTM"]["weight"] == 0.25
        cursor = await r.state.get_cursor("se", ARTICLES)
        assert cursor is not None and cursor.value == r.clock.now


async def test_overlap_rereads_are_deduplicated_by_content(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        flow = r.flow(overlap=timedelta(minutes=10))
        await flow.run()
        r.clock.advance(minutes=30)
        await r.edit("WJ", harm_code="6201409001")
        r.clock.advance(minutes=5)
        assert await flow.run() == 2, "both jacket sizes changed"
        r.clock.advance(minutes=5)
        again = await flow.sync(full=False)
        assert again.read == 2, "the edit is still inside the overlap window"
        assert (again.written, again.unchanged) == (0, 2)
        assert r.recorder.puts.count("WJBLK38") == 2


async def test_a_reverted_edit_is_written_again(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        flow = r.flow()
        await flow.run()
        for weight in (0.3, 0.2):
            r.clock.advance(minutes=1)
            await r.edit("TEE", weight=weight)
            r.clock.advance(minutes=1)
            assert await flow.run() == 1
        assert r.recorder.puts.count("TEEWHTM") == 3
        assert (await r.wms_articles())["TEEWHTM"]["weight"] == 0.2


async def test_a_failing_wms_stops_the_pass_and_keeps_the_cursor(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        flow = r.flow()
        r.ongoing.plan.add(FaultRule(kind=FaultKind.SERVER_ERROR, method="PUT", path="*/articles"))
        with pytest.raises(ServerError):
            await flow.run()
        assert await r.state.get_cursor("se", ARTICLES) is None
        record = await r.state.get_record(ref("WJBLK38"))
        assert record is not None and record.last_error is not None
        r.ongoing.plan.clear()
        assert await flow.run() == 3
        assert await r.state.get_cursor("se", ARTICLES) is not None


async def test_a_refused_article_is_parked_and_not_retried_until_asked(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.recorder.refuse.add("WJBLK40")
        flow = r.flow()
        assert await flow.run() == 2, "the others carry on"
        record = await r.state.get_record(ref("WJBLK40"))
        assert record is not None and record.state == "refused"
        [dead] = await r.state.list_dead("se")
        assert dead.record == ref("WJBLK40") and "not allowed" in dead.reason
        assert await r.state.get_cursor("se", ARTICLES) is not None
        assert await flow.full_resync() == 0, "same content, still refused: no new attempt"
        r.recorder.refuse.clear()
        await r.state.transition(ref("WJBLK40"), "retry", note="retry requested")
        result = await flow.sync(full=False)
        assert result.full, "a retry re-reads the whole catalogue"
        assert result.written == 1 and "WJBLK40" in await r.wms_articles()


async def test_an_article_that_kept_failing_is_parked_and_a_retry_gets_fresh_attempts(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        r.recorder.unavailable.add("WJBLK40")
        flow = r.flow(max_attempts=1)
        with pytest.raises(ServerError):
            await flow.run()
        assert await r.state.get_cursor("se", ARTICLES) is None
        assert await flow.run() == 1, "the attempt limit parks it; the tee carries on"
        record = await r.state.get_record(ref("WJBLK40"))
        assert record is not None and record.state == "failed"
        assert await r.state.get_cursor("se", ARTICLES) is not None
        r.recorder.unavailable.clear()
        assert await flow.full_resync() == 0, "parked with the same content: left alone"
        await r.state.transition(ref("WJBLK40"), "retry", note="retry requested")
        assert await flow.run() == 1
        assert sorted(await r.wms_articles()) == ["TEEWHTM", "WJBLK38", "WJBLK40"]


async def test_a_number_already_owned_by_another_stock_item_is_refused(tmp_path: Path) -> None:
    custom = {"article_number": "custom", "article_number_fields": ["sku", "sizeSku"]}
    async with rig(tmp_path) as r:
        flow = r.flow(**custom)
        await flow.run()
        r.clock.advance(minutes=1)
        clash = product("WJ3", "Wool Jacket", {("Grey", "GRY"): [size("8", "8", 90)]})
        added = await r.control.post(
            "http://centra.test/_emulator/products", json={"products": [clash.model_dump()]}
        )
        assert added.status_code == 200, added.text
        r.clock.advance(minutes=1)
        assert await flow.run() == 0
        record = await r.state.get_record(ref("WJ38"))
        assert record is not None and record.state == "ambiguous"
        [dead] = await r.state.list_dead("se")
        assert "'Wool Jacket Grey 8'" in dead.reason
        assert "'WinterJacket Black 38'" in dead.reason and "in the WMS already" in dead.reason
        assert isinstance(dead.payload, dict)
        [refused] = dead.payload["products"]
        assert refused["article"]["name"] == "Wool Jacket Grey 8", "the article it would be"
        articles = await r.wms_articles()
        assert articles["WJ38"]["articleName"] == "WinterJacket Black 38", "left as it was"


async def test_a_strategy_change_supersedes_the_old_numbers(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.flow().run()
        assert await r.flow(article_number="ean").full_resync() == 3
        old = await r.state.get_record(ref("WJBLK38"))
        new = await r.state.get_record(ref(ean13(1)))
        assert old is not None and old.state == "superseded"
        assert new is not None and new.state == "synced" and new.centra_id == old.centra_id


async def test_a_row_without_a_number_is_parked_by_stock_item(tmp_path: Path) -> None:
    custom = {"article_number": "custom", "article_number_fields": ["sku", "upc"]}
    async with rig(tmp_path) as r:
        result = await r.flow(**custom).run()
        assert (result, await r.wms_articles()) == (0, {})
        dead = await r.state.list_dead("se")
        assert len(dead) == 3
        assert all(d.record.key.startswith("stock item ") for d in dead)
        assert all("'upc'" in d.reason for d in dead)


async def test_progress_counts_up_to_the_rows_read(tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    async with rig(tmp_path) as r:
        await r.flow(progress=lambda done, total: seen.append((done, total))).run()
    assert seen[0] == (0, None)
    assert seen[-1] == (5, 5)
    done = [d for d, _ in seen]
    assert done == sorted(done)


async def test_a_row_the_client_cannot_read_is_parked_and_the_rest_carry_on(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        emulator = EmulatorTransport(r.centra.app)

        async def spoil_first_row(request: httpx.Request) -> httpx.Response:
            response = await emulator.handle_async_request(request)
            body = json.loads(await response.aread())
            body["products"][0]["weight"] = "heavy"
            return httpx.Response(200, json=body)

        async with OrderApiClient(
            CENTRA_URL, "s3cret", "Europe/Stockholm", transport=httpx.MockTransport(spoil_first_row)
        ) as client:
            flow = ArticlesFlow(store_settings(), r.state, client, r.wms, now=r.clock)
            result = await flow.sync(full=False)
        assert (result.read, result.written, result.parked) == (5, 2, 1)
        [dead] = await r.state.list_dead("se")
        assert dead.record.key == "stock item 10000"
        assert "'weight'" in dead.reason
        assert sorted(await r.wms_articles()) == ["TEEWHTM", "WJBLK40"]
