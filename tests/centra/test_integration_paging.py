"""Paging helpers: every row once, in order, and a page that does not advance is an error."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.centra.integration import Connection, connection_pages, list_pages
from centrasync.centra.integration.models import Edge, PageInfo
from centrasync.errors import MalformedResponseError, PageNotAdvancingError


def _cursor(value: int) -> str:
    return base64.b64encode(f"id:{value}".encode()).decode()


class Server:
    """A Relay connection over sorted ids: ``after`` names a place, not a row."""

    def __init__(self, ids: Sequence[int], first: int) -> None:
        self.ids = sorted(set(ids))
        self.first = first
        self.calls = 0

    async def page(self, after: str | None) -> Connection[int]:
        self.calls += 1
        start = 0
        if after is not None:
            place = int(base64.b64decode(after).decode().split(":")[1])
            start = sum(1 for i in self.ids if i <= place)
        rows = self.ids[start : start + self.first]
        return Connection[int](
            total_count=len(self.ids),
            page_info=PageInfo(
                has_next_page=start + self.first < len(self.ids),
                end_cursor=_cursor(rows[-1]) if rows else None,
            ),
            edges=tuple(Edge[int](cursor=_cursor(i), node=i) for i in rows),
        )


@given(st.lists(st.integers(0, 10_000), max_size=120), st.integers(1, 25))
async def test_a_connection_yields_every_row_once_in_order(ids: list[int], first: int) -> None:
    server = Server(ids, first)
    seen = [n async for page in connection_pages(server.page, what="t") for n in page.nodes]
    assert seen == sorted(set(ids))
    assert server.calls == max(1, -(-len(seen) // first))


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=80), st.integers(1, 9), st.data())
async def test_resuming_from_any_cursor_gives_the_rest(
    ids: list[int], first: int, data: st.DataObject
) -> None:
    server = Server(ids, first)
    ordered = sorted(set(ids))
    cut = data.draw(st.integers(0, len(ordered) - 1))
    rest = [
        n
        async for page in connection_pages(server.page, what="t", after=_cursor(ordered[cut]))
        for n in page.nodes
    ]
    assert rest == ordered[cut + 1 :]


@given(st.integers(1, 5), st.booleans())
async def test_a_cursor_that_does_not_advance_is_refused(pages_before: int, missing: bool) -> None:
    calls = 0

    async def stuck(after: str | None) -> Connection[int]:
        nonlocal calls
        calls += 1
        cursor = None if missing and calls > pages_before else _cursor(min(calls, pages_before))
        return Connection[int](
            total_count=100,
            page_info=PageInfo(has_next_page=True, end_cursor=cursor),
            edges=(Edge[int](cursor="x", node=calls),),
        )

    with pytest.raises(PageNotAdvancingError) as refused:
        async for _ in connection_pages(stuck, what="orderConnection"):
            pass
    assert isinstance(refused.value, MalformedResponseError)
    assert "orderConnection" in str(refused.value)
    assert calls == pages_before + 1


@given(st.lists(st.integers(), unique=True, max_size=90), st.integers(1, 20))
async def test_list_pages_stop_at_a_short_page(rows: list[int], limit: int) -> None:
    async def fetch(page: int) -> list[int]:
        return rows[(page - 1) * limit : page * limit]

    seen = [
        n async for page in list_pages(fetch, limit=limit, key=lambda n: n, what="t") for n in page
    ]
    assert seen == rows


@given(st.lists(st.integers(), unique=True, min_size=1, max_size=20))
async def test_a_server_ignoring_page_is_refused(rows: list[int]) -> None:
    async def ignores_page(page: int) -> list[int]:
        return rows

    with pytest.raises(PageNotAdvancingError, match="page 2 repeated page 1"):
        async for _ in list_pages(ignores_page, limit=len(rows), key=lambda n: n, what="orders"):
            pass
