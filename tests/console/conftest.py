"""Fixtures of the console tests: settings with known secret values, a seeded state store,
the engine's app with the console mounted, and a client that can log in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from centrasync.config import Settings, parse_settings
from centrasync.console import create_console, hash_password
from centrasync.ops import CheckResult, Outcome
from centrasync.server import create_app
from centrasync.store import RecordKind, RecordRef, StateStore
from centrasync.store.sql import open_store

# Distinctive values, so a test can say none of them reaches a page.
SECRETS = {
    "CENTRASYNC_SE_CENTRA_SECRET": "centra-secret-Qx81vZ",
    "CENTRASYNC_SE_WEBHOOK_SECRET": "webhook-secret-Lp02kW",
    "CENTRASYNC_SE_WMS_PASSWORD": "wms-password-Tr44mN",
    "CENTRASYNC_CONSOLE_TOKEN": "console-token-Hh93sD-long-enough",
    "CENTRASYNC_CONSOLE_SESSION_SECRET": "session-secret-Vb55cX",
}
PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD)
DECLINED = RecordRef("se", RecordKind.SHIPMENT, "1001-1")


def console_settings(**console: Any) -> Settings:
    document = {
        "engine": {"database_url": "sqlite+aiosqlite:///:memory:"},
        "stores": {
            "se": {
                "centra": {
                    "host": "http://centra.test",
                    "uri": "wms",
                    "timezone": "Europe/Stockholm",
                },
                "wms": {"base_url": "http://wms.test/api/v1/", "user": "u", "goods_owner_id": 1},
            }
        },
        "console": {"users": {"alice": HASH}, **console},
    }
    return parse_settings(document, SECRETS)


async def seed(state: StateStore) -> None:
    """A declined capture, parked with its dead letter, effects and payloads that carry
    credentials (as a careless remote answer might), and a few ordinary records."""
    await state.upsert_record(DECLINED, centra_order="1001", initial_state="new")
    await state.begin_effect(f"capture/{DECLINED}", DECLINED, {"shipment": "1001-1"})
    await state.fail_effect(f"capture/{DECLINED}", "capture declined")
    await state.park(
        DECLINED,
        "capture declined: possible fraud",
        {"shipment": "1001-1", "password": SECRETS["CENTRASYNC_SE_WMS_PASSWORD"]},
        moves=[],
    )
    await state.transition(
        DECLINED,
        "capture_declined",
        note="capture declined: possible fraud",
        request={"capture": True, "note": f"sent with {SECRETS['CENTRASYNC_SE_CENTRA_SECRET']}"},
        response={"status": "no", "msg": "declined"},
        error="capture declined: possible fraud",
    )
    for number in range(1002, 1006):
        ref = RecordRef("se", RecordKind.SHIPMENT, f"{number}-1")
        await state.upsert_record(ref, centra_order=str(number), wms_id=f"W{number}")
        await state.transition(ref, "completed", note="done")
    await state.upsert_record(RecordRef("se", RecordKind.ARTICLE, "SKU-1"), initial_state="synced")


async def fake_checks(settings: Settings) -> list[CheckResult]:
    return [
        CheckResult("(engine)", "state store", Outcome.OK, "answered"),
        CheckResult("se", "centra", Outcome.OK, "http://centra.test/api/wms/ answered"),
        CheckResult(
            "se", "wms", Outcome.FAIL, "authentication failed for store 'se': password refused"
        ),
    ]


@pytest.fixture
async def state() -> AsyncIterator[StateStore]:
    store = await open_store("sqlite+aiosqlite:///:memory:")
    await seed(store)
    yield store
    await store.close()


@pytest.fixture
def settings() -> Settings:
    return console_settings()


@pytest.fixture
def app(settings: Settings, state: StateStore) -> FastAPI:
    engine_app = create_app(settings, state)
    engine_app.mount(
        "/",
        create_console(settings, state, metrics=engine_app.state.metrics, checks=fake_checks),
    )
    return engine_app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as c:
        yield c


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


async def log_in(
    client: httpx.AsyncClient, name: str = "alice", password: str = PASSWORD
) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "name": name, "password": password, "next": "/"},
    )


@pytest.fixture
async def logged_in(client: httpx.AsyncClient) -> httpx.AsyncClient:
    answer = await log_in(client)
    assert answer.status_code == 303, answer.text
    return client
