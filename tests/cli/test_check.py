"""``centrasync check`` against the emulators served on real ports."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner, Result

from centrasync.cli import app
from centrasync.store.sql import open_store

from .conftest import CENTRA_SECRET, WMS_PASSWORD

runner = CliRunner()


def write_config(
    tmp_path: Path,
    centra_url: str,
    ongoing_url: str,
    *,
    extra: str = "",
    zone: str = "Europe/Stockholm",
    goods_owner: int = 1,
) -> Path:
    config = tmp_path / "centrasync.toml"
    config.write_text(
        f"""
[engine]
database_url = "sqlite+aiosqlite:///{tmp_path / "state.sqlite"}"

[stores.se]
{extra}

[stores.se.centra]
host = "{centra_url}"
uri = "wms"
timezone = "{zone}"

[stores.se.wms]
base_url = "{ongoing_url}/demo/api/v1/"
user = "centrasync"
goods_owner_id = {goods_owner}
""",
        encoding="utf-8",
    )
    return config


def check(
    config: Path,
    *,
    centra_secret: str = CENTRA_SECRET,
    wms_password: str = WMS_PASSWORD,
    webhook_secret: str | None = "hook-secret",
) -> Result:
    env = {
        "CENTRASYNC_SE_CENTRA_SECRET": centra_secret,
        "CENTRASYNC_SE_WMS_PASSWORD": wms_password,
        "COLUMNS": "250",
    }
    if webhook_secret is not None:
        env["CENTRASYNC_SE_WEBHOOK_SECRET"] = webhook_secret
    return runner.invoke(app, ["check", "--config", str(config)], env=env)


@contextmanager
def refusing_url() -> Iterator[str]:
    """A URL whose port is bound but never listens, so connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def rows(result: Result) -> dict[tuple[str, str], str]:
    """(store, system) → result column of the printed table."""
    found = {}
    for line in result.stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) == 6 and cells[3] in ("OK", "WARN", "FAIL"):
            found[(cells[1], cells[2])] = cells[3]
    return found


def test_everything_reachable_passes_and_creates_no_database(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    result = check(write_config(tmp_path, centra_url, ongoing_url))

    assert result.exit_code == 0, result.output
    assert rows(result) == {
        ("(engine)", "state store"): "OK",
        ("se", "centra"): "OK",
        ("se", "wms"): "OK",
    }
    assert "serve creates it" in result.stdout
    assert not (tmp_path / "state.sqlite").exists()


def test_an_existing_store_is_read_not_migrated(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    async def create() -> None:
        state = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}")
        await state.close()

    asyncio.run(create())
    result = check(write_config(tmp_path, centra_url, ongoing_url))

    assert result.exit_code == 0, result.output
    assert "schema up to date" in result.stdout


def test_a_wrong_centra_secret_fails_naming_the_store(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    wrong = "not-the-centra-secret"
    result = check(write_config(tmp_path, centra_url, ongoing_url), centra_secret=wrong)

    assert result.exit_code == 1
    assert rows(result)[("se", "centra")] == "FAIL"
    assert rows(result)[("se", "wms")] == "OK"
    assert "authentication failed for store 'se'" in result.stdout
    assert wrong not in result.output


def test_a_wrong_wms_password_fails(tmp_path: Path, centra_url: str, ongoing_url: str) -> None:
    wrong = "not-the-wms-password"
    result = check(write_config(tmp_path, centra_url, ongoing_url), wms_password=wrong)

    assert result.exit_code == 1
    assert rows(result)[("se", "wms")] == "FAIL"
    assert "authentication failed for store 'se'" in result.stdout
    assert wrong not in result.output


def test_an_unreachable_system_fails_without_waiting_for_retries(
    tmp_path: Path, ongoing_url: str
) -> None:
    with refusing_url() as dead_url:
        result = check(write_config(tmp_path, dead_url, ongoing_url))

    assert result.exit_code == 1
    assert rows(result)[("se", "centra")] == "FAIL"


def test_a_missing_webhook_secret_warns_but_passes(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    result = check(write_config(tmp_path, centra_url, ongoing_url), webhook_secret=None)

    assert result.exit_code == 0, result.output
    assert rows(result)[("se", "webhooks")] == "WARN"


def test_an_invalid_value_names_the_store_and_key(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    config = write_config(tmp_path, centra_url, ongoing_url, zone="Europe/Stokholm")
    result = check(config)

    assert result.exit_code == 1
    assert "stores.se.centra.timezone" in result.stderr
    assert result.stdout == ""


def test_an_unknown_shipment_filter_is_refused_up_front(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    extra = 'shipment_filters = { colour = "red" }'
    result = check(write_config(tmp_path, centra_url, ongoing_url, extra=extra))

    assert result.exit_code == 1
    assert "stores.se.shipment_filters.colour" in result.stderr


def test_an_unknown_field_mapping_target_is_refused_up_front(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    extra = 'field_mapping = { nonsense = "shipmentId" }'
    result = check(write_config(tmp_path, centra_url, ongoing_url, extra=extra))

    assert result.exit_code == 1
    assert "stores.se.field_mapping.nonsense" in result.stderr


def test_loading_the_settings_registers_their_secrets_with_the_log_scrubber(
    tmp_path: Path, centra_url: str, ongoing_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    only_here = "secret-seen-only-by-this-test"
    check(write_config(tmp_path, centra_url, ongoing_url), centra_secret=only_here)
    capsys.readouterr()

    structlog.get_logger().error("echoed by a remote system", body=f"bad key {only_here}")

    err = capsys.readouterr().err
    assert only_here not in err
    assert "bad key ***" in err


def test_a_goods_owner_the_user_may_not_read_fails(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    result = check(write_config(tmp_path, centra_url, ongoing_url, goods_owner=2))

    assert result.exit_code == 1
    assert rows(result)[("se", "wms")] == "FAIL"


def test_serve_refuses_an_unknown_shipment_filter_before_starting(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    config = write_config(tmp_path, centra_url, ongoing_url, extra="shipment_filters = { x = 1 }")
    env = {"CENTRASYNC_SE_CENTRA_SECRET": CENTRA_SECRET, "CENTRASYNC_SE_WMS_PASSWORD": WMS_PASSWORD}
    result = runner.invoke(app, ["serve", "--config", str(config)], env=env)

    assert result.exit_code == 1
    assert "stores.se.shipment_filters.x: unknown shipment field" in result.stderr
    assert not (tmp_path / "state.sqlite").exists()
