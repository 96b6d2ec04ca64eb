"""Paging for both forms the Integration API offers, refusing pages that do not advance.

List queries take ``limit`` and ``page`` (from 1) and end with a page shorter than
``limit``; Relay connections take ``first`` and ``after`` and end when ``pageInfo`` says
there is no next page. A server (or a proxy) that answers the same page again would make
either loop for ever, so each helper raises :class:`~centrasync.errors.PageNotAdvancingError`
instead: a list page whose rows are exactly the previous page's, a connection whose
``endCursor`` is missing, is the cursor just sent, or was seen before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from typing import TypeVar

from centrasync.errors import PageNotAdvancingError

from .models import Connection

__all__ = ["connection_pages", "list_pages"]

T = TypeVar("T")


async def list_pages(
    fetch: Callable[[int], Awaitable[Sequence[T]]],
    *,
    limit: int,
    key: Callable[[T], Hashable],
    what: str,
    first_page: int = 1,
) -> AsyncIterator[Sequence[T]]:
    """Yield ``fetch(page)`` for page 1, 2, … until a page holds fewer than ``limit`` rows.

    ``key`` identifies a row (its id); ``what`` names the query in the error.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    page = first_page
    previous: list[Hashable] | None = None
    while True:
        rows = await fetch(page)
        keys = [key(row) for row in rows]
        if keys and keys == previous:
            raise PageNotAdvancingError(
                f"{what}: page {page} repeated page {page - 1} ({len(keys)} rows); "
                "the server ignores 'page'",
                endpoint=what,
            )
        if rows:
            yield rows
        if len(rows) < limit:
            return
        previous = keys
        page += 1


async def connection_pages(
    fetch: Callable[[str | None], Awaitable[Connection[T]]],
    *,
    what: str,
    after: str | None = None,
) -> AsyncIterator[Connection[T]]:
    """Yield ``fetch(after)`` from ``after`` on, following ``pageInfo.endCursor``."""
    seen: set[str] = set() if after is None else {after}
    while True:
        page = await fetch(after)
        yield page
        if not page.page_info.has_next_page:
            return
        cursor = page.page_info.end_cursor
        if cursor is None:
            raise PageNotAdvancingError(f"{what}: hasNextPage without an endCursor", endpoint=what)
        if cursor == after or cursor in seen:
            raise PageNotAdvancingError(
                f"{what}: endCursor {cursor!r} was already followed; the page does not advance",
                endpoint=what,
            )
        seen.add(cursor)
        after = cursor
