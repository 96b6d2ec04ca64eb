"""A back-fill SIGKILLed half-way resumes: ``centrasync analytics sync`` as a real process
against the served Centra emulator, killed once some loads are committed, then run again.
The tables then hold every order and line exactly once, equal to the emulator's world,
and the second run read on from the committed cursor instead of from the start."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
from pydantic import SecretStr

from centrasync.analytics.source import dataset_name
from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.emulators.centra.graphql.ratelimits import PLANS
from centrasync.emulators.centra.graphql.schema import permissions
from processes import free_port, start, wait_up

from .conftest import CENTRA_SECRET, WMS_PASSWORD
from .test_check import write_config

ORDERS = 3_000
OVERLAP = 600


def _committed_loads(log: Path) -> int:
    return log.read_text(encoding="utf-8", errors="replace").count("analytics load committed")


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql.replace("$s", dataset_name("se"))).fetchall()


async def _seed(centra: str, client: IntegrationApiClient) -> None:
    """``ORDERS`` orders of one or two lines, ten minutes apart, through the bulk route."""
    summary = httpx.get(f"{centra}/_emulator/seed-summary").json()
    store = summary["stores"][0]
    sizes = (await client.product_sizes_stock(limit=2))[:2]
    for size in sizes:
        httpx.post(
            f"{centra}/_emulator/stock",
            json={
                "ean": size.ean,
                "warehouse_id": store["primary_warehouse_id"],
                "physical": 10 * ORDERS,
            },
        ).raise_for_status()
    first = datetime.now(UTC) - timedelta(days=60)
    orders = [
        {
            "store": store["uri"],
            "lines": [{"ean": s.ean, "qty": 1} for s in sizes[: 1 + i % 2]],
            "created_at": (first + timedelta(minutes=10 * i)).isoformat(),
        }
        for i in range(ORDERS)
    ]
    httpx.post(
        f"{centra}/_emulator/orders/bulk", json={"orders": orders}, timeout=120
    ).raise_for_status()


async def test_a_killed_back_fill_resumes_without_gaps_or_duplicates(tmp_path: Path) -> None:
    port = free_port()
    centra = f"http://127.0.0.1:{port}"
    emulator = start(
        ["emulate", "centra", "--port", str(port), "--seed", "demo", "--secret", CENTRA_SECRET],
        tmp_path / "centra.log",
    )
    try:
        wait_up(f"{centra}/_emulator/seed-summary", emulator, tmp_path / "centra.log")
        made = httpx.post(f"{centra}/_emulator/tokens", json={"permissions": sorted(permissions())})
        bearer = made.json()["token"]
        async with IntegrationApiClient(f"{centra}/graphql", SecretStr(bearer)) as client:
            httpx.put(f"{centra}/_emulator/rate-limits", json={"plan": "enterprise"})
            await _seed(centra, client)
            # Slow enough to be killed half-way: two requests a second after a burst of 20.
            # Only the request count is tight: with Growth's complexity quota the stock
            # read (incoming goods are an expensive scalar) alone outlasts the test.
            quotas = PLANS["enterprise"].model_dump() | {"requests_10s": 20}
            httpx.put(f"{centra}/_emulator/rate-limits", json={"quotas": quotas})

            config = write_config(tmp_path, centra, "http://127.0.0.1:9")
            extra = (
                f'[stores.se.integration_api]\nurl = "{centra}/graphql"\n'
                f'[stores.se.analytics]\ndestination = "shop.duckdb"\n'
                f"overlap = {OVERLAP}\nbackfill_pages = 1\n"
            )
            config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
            env = dict(os.environ) | {
                "CENTRASYNC_SE_CENTRA_SECRET": CENTRA_SECRET,
                "CENTRASYNC_SE_WMS_PASSWORD": WMS_PASSWORD,
                "CENTRASYNC_SE_INTEGRATION_API_TOKEN": bearer,
                "COLUMNS": "200",
            }
            args = ["analytics", "sync", "se", "--config", str(config)]

            first_log = tmp_path / "first.log"
            first = start(args, first_log, env=env, cwd=tmp_path)
            deadline = time.monotonic() + 300
            while _committed_loads(first_log) < 3:
                assert first.poll() is None, first_log.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, "no loads committed"
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            assert first.wait(timeout=30) == -signal.SIGKILL

            db = tmp_path / "shop.duckdb"
            kept = _rows(db, "SELECT order_number, updated_at FROM $s.orders")
            assert 0 < len(kept) < ORDERS
            assert len({number for number, _ in kept}) == len(kept)
            cursor = max(at for _, at in kept)

            httpx.put(f"{centra}/_emulator/rate-limits", json={"plan": "enterprise"})
            again_log = tmp_path / "again.log"
            again = start(args, again_log, env=env, cwd=tmp_path)
            assert again.wait(timeout=300) == 0, again_log.read_text(encoding="utf-8")
            output = again_log.read_text(encoding="utf-8")

            # The rerun read orders from the committed cursor less the overlap, not from 2000.
            reads = [
                event
                for line in output.splitlines()
                if line.startswith("{")
                for event in [json.loads(line)]
                if event["event"] == "analytics read" and event["resource"] == "orders"
            ]
            assert reads, output
            resumed = datetime.fromisoformat(reads[0]["since"])
            assert resumed >= cursor - timedelta(seconds=OVERLAP)
            read_now = re.search(r"orders\s*│\s*([\d,]+)", output)
            assert read_now is not None, output
            assert int(read_now.group(1).replace(",", "")) <= ORDERS - len(kept) + 200

            orders = [o async for page in client.all_orders() for o in page]
        loaded = _rows(db, "SELECT order_number, status, updated_at, grand_total FROM $s.orders")
        assert sorted(loaded) == sorted(
            (o.number, o.status, o.updated_at, o.grand_total.value) for o in orders
        )
        lines = _rows(db, "SELECT line_id, quantity FROM $s.orders__lines")
        assert sorted(lines) == sorted((ln.id, ln.quantity) for o in orders for ln in o.lines)
    finally:
        emulator.terminate()
        emulator.wait(timeout=15)
