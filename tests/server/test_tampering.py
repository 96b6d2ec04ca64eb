"""Property: a body changed after signing is never accepted, whatever the change."""

from __future__ import annotations

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from centrasync.server import create_app
from centrasync.store.sql import open_store

from .helpers import NOW, encode, make_settings, signed

BODY = encode({"events": [{"type": "order", "action": "insert", "id": "1", "date": None}]})


@settings(max_examples=25, deadline=None)
@given(position=st.integers(0, len(BODY) - 1), replacement=st.integers(0, 255))
async def test_any_changed_byte_is_refused(position: int, replacement: int) -> None:
    tampered = bytearray(BODY)
    if tampered[position] == replacement:
        replacement = (replacement + 1) % 256
    tampered[position] = replacement
    state = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        app = create_app(make_settings(), state, clock=lambda: NOW)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://engine.test") as c:
            response = await c.post(
                "/webhooks/centra/se", content=bytes(tampered), headers=signed(BODY)
            )
        assert response.status_code == 401
        assert await state.inbox_backlog("se") == 0
    finally:
        await state.close()
