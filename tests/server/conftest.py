"""Fixtures of the server tests: one configured store, an in-memory state store, the app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from centrasync.server import create_app
from centrasync.store.base import StateStore
from centrasync.store.sql import open_store

from .helpers import NOW, make_settings


@pytest.fixture
async def state() -> AsyncIterator[StateStore]:
    store = await open_store("sqlite+aiosqlite:///:memory:")
    yield store
    await store.close()


@pytest.fixture
def app(state: StateStore) -> FastAPI:
    return create_app(make_settings(), state, clock=lambda: NOW)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://engine.test") as c:
        yield c
