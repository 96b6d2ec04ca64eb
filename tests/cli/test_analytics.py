"""``centrasync analytics sync`` and ``report`` against the served Centra emulator."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import Result

from centrasync.cli import app
from centrasync.emulators.centra.graphql.schema import permissions

from .conftest import CENTRA_SECRET, WMS_PASSWORD
from .test_check import runner, write_config
from .test_check_integration_api import token


@pytest.fixture(scope="module", autouse=True)
def no_pacing(centra_url: str) -> None:
    """The quota is not under test here: the Growth plan would pace the stock read."""
    httpx.put(f"{centra_url}/_emulator/rate-limits", json={"plan": "enterprise"}).raise_for_status()


def run(
    tmp_path: Path,
    centra_url: str,
    ongoing_url: str,
    bearer: str,
    *args: str,
    mapping: str = "",
    destination: str = "shop.duckdb",
    env: dict[str, str] | None = None,
) -> Result:
    extra = (
        f'[stores.se.integration_api]\nurl = "{centra_url}/graphql"\n'
        f'[stores.se.analytics]\ndestination = "{destination}"\n{mapping}'
    )
    config = write_config(tmp_path, centra_url, ongoing_url)
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    variables = {
        "CENTRASYNC_SE_CENTRA_SECRET": CENTRA_SECRET,
        "CENTRASYNC_SE_WMS_PASSWORD": WMS_PASSWORD,
        "CENTRASYNC_SE_WEBHOOK_SECRET": "hook-secret",
        "CENTRASYNC_SE_INTEGRATION_API_TOKEN": bearer,
        "COLUMNS": "200",
        **(env or {}),
    }
    return runner.invoke(app, ["analytics", *args, "--config", str(config)], env=variables)


def test_sync_then_report(tmp_path: Path, centra_url: str, ongoing_url: str) -> None:
    bearer = token(centra_url, sorted(permissions()))
    synced = run(tmp_path, centra_url, ongoing_url, bearer, "sync", "se")
    assert synced.exit_code == 0, synced.output
    assert "orders__lines" in synced.stdout and "in_deliveries" in synced.stdout
    assert (tmp_path / "shop.duckdb").exists()

    output = tmp_path / "out.html"
    made = run(tmp_path, centra_url, ongoing_url, bearer, "report", "--output", str(output))
    assert made.exit_code == 0, made.output
    html = output.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "Sales per day in SEK" in html and "Sales per day in USD" in html
    assert "<polyline" in html and "<rect" in html
    # The demo world has no return yet: that chart says so instead of drawing nothing.
    assert html.count('class="empty"') == 1


def test_sync_draws_a_bar_per_resource_then_rows_per_table(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    bearer = token(centra_url, sorted(permissions()))
    synced = run(tmp_path, centra_url, ongoing_url, bearer, "sync", "se", "--full")
    assert synced.exit_code == 0, synced.output
    for table in ("products", "product_variants", "product_sizes", "purchase_orders", "markets"):
        assert f" {table} " in synced.stdout, table


def test_a_mapping_mistake_names_the_store_and_key(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    bearer = token(centra_url, sorted(permissions()))
    mapping = '[stores.se.analytics.order_attributes]\nstatus = "gift_wrap"\n'
    refused = run(tmp_path, centra_url, ongoing_url, bearer, "sync", "se", mapping=mapping)
    assert refused.exit_code == 1
    assert "stores.se.analytics.order_attributes.status: orders already has" in refused.output


def test_events_drains_the_queue(tmp_path: Path, centra_url: str, ongoing_url: str) -> None:
    made = httpx.post(
        f"{centra_url}/_emulator/tokens",
        json={"permissions": sorted(permissions()), "integration_name": "analytics-test"},
    )
    made.raise_for_status()
    bearer = made.json()["token"]
    first = run(tmp_path, centra_url, ongoing_url, bearer, "events", "se")
    assert first.exit_code == 0, first.output
    # 1001 is the demo seed's first order.
    httpx.patch(
        f"{centra_url}/_emulator/orders/1001", json={"other_comment": "x"}
    ).raise_for_status()
    again = run(tmp_path, centra_url, ongoing_url, bearer, "events", "se")
    assert again.exit_code == 0, again.output
    assert "rows re-read: orders 1" in again.stdout
    read, confirmed = (int(part.split()[-1]) for part in again.stdout.split(";")[0].split(","))
    assert read == confirmed > 0


def test_a_refused_token_stops_with_a_clear_error(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    bearer = "made-up-token-value"
    result = run(tmp_path, centra_url, ongoing_url, bearer, "sync", "se")
    assert result.exit_code == 1
    assert "token invalid or expired" in result.output
    assert bearer not in result.output


def test_reconcile_shows_what_the_triggers_missed(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    bearer = token(centra_url, sorted(permissions()))
    first = run(tmp_path, centra_url, ongoing_url, bearer, "reconcile", "se")
    assert first.exit_code == 0, first.output
    assert "baseline" in first.stdout and "missed by the triggers: 0 rows" in first.stdout
    # An edit no webhook announced (none is configured here): the next pass finds it.
    httpx.patch(
        f"{centra_url}/_emulator/orders/1002", json={"other_comment": "found by reconciling"}
    ).raise_for_status()
    again = run(tmp_path, centra_url, ongoing_url, bearer, "reconcile", "se")
    assert again.exit_code == 0, again.output
    assert "missed by the triggers: 1 rows" in again.stdout


def test_a_refused_postgres_connection_is_one_error_line_without_the_password(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    bearer = token(centra_url, sorted(permissions()))
    refused = "postgresql://analytics@127.0.0.1:1/test"
    password = {"DESTINATION__POSTGRES__CREDENTIALS__PASSWORD": "s3cret-pw"}
    failed = run(
        tmp_path, centra_url, ongoing_url, bearer, "sync", "se", destination=refused, env=password
    )
    assert failed.exit_code == 1
    # The progress bars drawn so far, then one line with the reason.
    (line,) = [text for text in failed.output.splitlines() if "error" in text.lower()]
    assert failed.output.strip().splitlines()[-1] == line
    assert line.startswith(f"error: analytics destination {refused} failed: "), failed.output
    assert "Connection refused" in line and "s3cret-pw" not in failed.output
