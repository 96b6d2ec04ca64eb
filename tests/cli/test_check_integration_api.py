"""``centrasync check`` on a store with an Integration API token, against the served emulator."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import Result

from centrasync.cli import app
from centrasync.emulators.centra.graphql.schema import permissions

from .conftest import CENTRA_SECRET, WMS_PASSWORD
from .test_check import rows, runner, write_config


def token(centra_url: str, granted: list[str]) -> str:
    made = httpx.post(f"{centra_url}/_emulator/tokens", json={"permissions": granted})
    made.raise_for_status()
    text: str = made.json()["token"]
    return text


def check_with_token(
    tmp_path: Path, centra_url: str, ongoing_url: str, bearer: str, more: str = ""
) -> Result:
    extra = f'[stores.se.integration_api]\nurl = "{centra_url}/graphql"\n{more}'
    config = write_config(tmp_path, centra_url, ongoing_url)
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    env = {
        "CENTRASYNC_SE_CENTRA_SECRET": CENTRA_SECRET,
        "CENTRASYNC_SE_WMS_PASSWORD": WMS_PASSWORD,
        "CENTRASYNC_SE_WEBHOOK_SECRET": "hook-secret",
        "CENTRASYNC_SE_INTEGRATION_API_TOKEN": bearer,
        "COLUMNS": "400",
    }
    return runner.invoke(app, ["check", "--config", str(config)], env=env)


def test_a_token_with_every_permission_passes_and_shows_the_quota_left(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    bearer = token(centra_url, sorted(permissions()))
    result = check_with_token(tmp_path, centra_url, ongoing_url, bearer)

    assert result.exit_code == 0, result.output
    assert rows(result)[("se", "integration api")] == "OK"
    assert "has what the configured flows use" in result.stdout
    assert "quota left: requests" in result.stdout and "/60 per 10 s" in result.stdout
    assert bearer not in result.output


def test_a_token_lacking_permissions_names_them_and_the_flows(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    granted = sorted(p for p in permissions() if p not in {"Shipment:write", "Return:read"})
    result = check_with_token(tmp_path, centra_url, ongoing_url, token(centra_url, granted))

    assert result.exit_code == 0, result.output
    assert rows(result)[("se", "integration api")] == "WARN"
    assert "lacks Shipment:write (shipments), Return:read (returns)" in result.stdout


def test_an_unknown_token_fails_as_invalid_or_expired(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    bearer = "made-up-token-value"
    result = check_with_token(tmp_path, centra_url, ongoing_url, bearer)

    assert result.exit_code == 1
    assert rows(result)[("se", "integration api")] == "FAIL"
    assert "token invalid or expired for store 'se'" in result.stdout
    assert bearer not in result.output


def test_a_mapped_attribute_no_recent_object_carries_is_a_warning(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    bearer = token(centra_url, sorted(permissions()))
    more = (
        '[stores.se.analytics]\ndestination = "a.duckdb"\n'
        '[stores.se.analytics.order_attributes]\ngift = "gift_wrp"\n'
    )
    result = check_with_token(tmp_path, centra_url, ongoing_url, bearer, more)

    assert result.exit_code == 0, result.output
    assert rows(result)[("se", "analytics mapping")] == "WARN"
    assert "stores.se.analytics.order_attributes.gift ('gift_wrp')" in result.stdout


def test_analytics_names_the_permissions_its_reads_lack(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    lacking = {"Order.attributes:read", "Product.attributes:read"}
    granted = sorted(p for p in permissions() if p not in lacking)
    more = '[stores.se.analytics]\ndestination = "a.duckdb"\n'
    result = check_with_token(tmp_path, centra_url, ongoing_url, token(centra_url, granted), more)

    assert result.exit_code == 0, result.output
    assert rows(result)[("se", "integration api")] == "WARN"
    assert "Order.attributes:read (analytics)" in result.stdout
    assert "Product.attributes:read (analytics)" in result.stdout
