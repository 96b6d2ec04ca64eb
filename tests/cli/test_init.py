"""``centrasync init`` against the emulators: the files it writes are the ones check accepts."""

from __future__ import annotations

import stat
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from centrasync.cli import app
from centrasync.config import load_settings
from centrasync.emulators.centra.graphql.schema import permissions
from centrasync.errors import ConfigError
from centrasync.ops.init import split_plugin_url
from processes import free_port, start, stop

from .conftest import CENTRA_SECRET, WMS_PASSWORD
from .test_check_integration_api import token

runner = CliRunner()


def init(config: Path, *args: str, input: str | None = None) -> Result:
    return runner.invoke(
        app, ["init", "--config", str(config), *args], input=input, env={"COLUMNS": "250"}
    )


def scripted(centra_url: str, ongoing_url: str, store: str = "se") -> list[str]:
    return [
        "--no-input",
        "--store",
        store,
        "--centra-url",
        f"{centra_url}/api/wms",
        "--timezone",
        "Europe/Stockholm",
        "--centra-secret",
        CENTRA_SECRET,
        "--webhook-secret",
        "hook-secret-value",
        "--ongoing-url",
        f"{ongoing_url}/demo/api/v1/",
        "--wms-user",
        "centrasync",
        "--wms-password",
        WMS_PASSWORD,
        "--goods-owner-id",
        "1",
        "--capture-policy",
        "on_import",
        "--flows",
        "shipments,articles",
    ]


def test_scripted_init_writes_what_check_then_accepts(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    config = tmp_path / "centrasync.toml"

    result = init(config, *scripted(centra_url, ongoing_url))

    assert result.exit_code == 0, result.output
    assert f"centrasync check --config {config}" in result.stdout
    text = config.read_text()
    for secret in (CENTRA_SECRET, WMS_PASSWORD, "hook-secret-value"):
        assert secret not in text
        assert secret not in result.output
    document = tomllib.loads(text)
    store = document["stores"]["se"]
    assert store["capture_policy"] == "on_import"
    assert store["centra"] == {"host": centra_url, "uri": "wms", "timezone": "Europe/Stockholm"}
    assert store["schedule"] == {"in_deliveries": 0, "returns": 0, "stock": 0, "stock_full": 0}
    assert "# When to capture shipments" in text
    env_file = tmp_path / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert f"CENTRASYNC_SE_CENTRA_SECRET='{CENTRA_SECRET}'" in env_file.read_text()

    checked = runner.invoke(app, ["check", "--config", str(config)], env={"COLUMNS": "250"})

    assert checked.exit_code == 0, checked.output
    assert f"centrasync serve --config {config}" in checked.stdout
    settings = load_settings(config)
    assert settings.store("se").webhook_secret is not None


def test_a_second_run_adds_a_store_and_keeps_the_first(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    config = tmp_path / "centrasync.toml"
    assert init(config, *scripted(centra_url, ongoing_url)).exit_code == 0
    first = config.read_text()

    result = init(config, *scripted(centra_url, ongoing_url, store="us"))

    assert result.exit_code == 0, result.output
    assert config.read_text().startswith(first.rstrip("\n"))
    assert [store.name for store in load_settings(config).stores] == ["se", "us"]
    again = init(config, *scripted(centra_url, ongoing_url, store="us"))
    assert again.exit_code == 1
    assert "store 'us' is already configured" in again.stderr
    assert [store.name for store in load_settings(config).stores] == ["se", "us"]


def test_a_refused_secret_writes_nothing_and_says_why(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    config = tmp_path / "centrasync.toml"
    args = scripted(centra_url, ongoing_url)
    wrong = "not-the-secret-at-all"
    args[args.index(CENTRA_SECRET)] = wrong

    result = init(config, *args)

    assert result.exit_code == 1
    assert "authentication failed for store 'se'" in result.stderr
    assert wrong not in result.output
    assert not config.exists()
    assert not (tmp_path / ".env").exists()


def test_a_missing_answer_without_input_names_its_option(tmp_path: Path) -> None:
    result = init(tmp_path / "centrasync.toml", "--no-input", "--store", "se")

    assert result.exit_code == 1
    assert "--centra-url is required with --no-input" in result.stderr


def test_questions_are_asked_again_until_the_system_accepts_them(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    config = tmp_path / "centrasync.toml"
    answers = [
        "",  # store name: the offered "shop"
        f"{centra_url}/api/wms",
        "Europe/Stockholm",
        "a-wrong-secret",
        "",  # no webhook secret
        # refused: the section again, earlier answers offered
        "",
        "",
        "",
        CENTRA_SECRET,
        "",
        "",  # no Integration API
        "",  # warehouse: the offered ongoing
        f"{ongoing_url}/demo/api/v1/",
        "centrasync",
        WMS_PASSWORD,
        "1",
        "",  # flows: all
        "",  # capture: never
        "",  # article number: default
    ]

    result = init(config, input="\n".join(answers) + "\n")

    assert result.exit_code == 0, result.output
    assert "FAIL" in result.stdout and "authentication failed" in result.stdout
    assert "a-wrong-secret" not in result.stdout
    settings = load_settings(config)
    shop = settings.store("shop")
    assert shop.centra_secret.get_secret_value() == CENTRA_SECRET
    assert shop.webhook_secret is None
    assert shop.schedule.in_deliveries > 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.centra.com/api/wms", ("https://shop.centra.com", "wms")),
        ("https://shop.centra.com/api/wms/", ("https://shop.centra.com", "wms")),
        ("https://shop.centra.com", ("https://shop.centra.com", None)),
        ("http://127.0.0.1:7801/prefix/api/x", ("http://127.0.0.1:7801/prefix", "x")),
    ],
)
def test_a_plugin_url_splits_into_host_and_uri(url: str, expected: tuple[str, str | None]) -> None:
    assert split_plugin_url(url) == expected


def test_a_url_without_scheme_is_refused() -> None:
    with pytest.raises(ConfigError, match="expected http"):
        split_plugin_url("shop.centra.com/api/wms")


_LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)


@given(
    host=_LABEL,
    port=st.integers(1, 65535),
    uri=st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True),
)
def test_any_plugin_url_gives_back_its_host_and_uri(host: str, port: int, uri: str) -> None:
    base = f"https://{host}.example:{port}"
    assert split_plugin_url(f"{base}/api/{uri}") == (base, uri)


def test_an_integration_api_token_is_tried_and_kept_in_env(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    config = tmp_path / "centrasync.toml"
    bearer = token(centra_url, sorted(permissions()))
    args = [
        *scripted(centra_url, ongoing_url),
        "--integration-api-url",
        f"{centra_url}/graphql",
        "--integration-api-token",
        bearer,
    ]

    result = init(config, *args)

    assert result.exit_code == 0, result.output
    assert "integration api" in result.stdout and bearer not in result.output
    assert bearer not in config.read_text()
    assert tomllib.loads(config.read_text())["stores"]["se"]["integration_api"] == {
        "url": f"{centra_url}/graphql"
    }
    store = load_settings(config).store("se")
    assert store.integration_api_token is not None
    assert store.integration_api_token.get_secret_value() == bearer


def test_a_rejected_integration_api_token_writes_nothing(
    tmp_path: Path, centra_url: str, ongoing_url: str
) -> None:
    config = tmp_path / "centrasync.toml"
    args = [
        *scripted(centra_url, ongoing_url),
        "--integration-api-url",
        f"{centra_url}/graphql",
        "--integration-api-token",
        "not-a-token-of-this-environment",
    ]

    result = init(config, *args)

    assert result.exit_code == 1
    assert "token invalid or expired" in result.stderr
    assert not config.exists()


@pytest.fixture
def files_wms(tmp_path: Path) -> Iterator[int]:
    """The files-wms emulator as a user starts it; its SFTP port."""
    sftp_port = free_port()
    emulator = start(
        [
            "emulate",
            "files-wms",
            "--port",
            str(free_port()),
            "--sftp-port",
            str(sftp_port),
            "--root",
            str(tmp_path / "sftp"),
            "--password",
            "sftp-pw",
        ],
        tmp_path / "files.log",
    )
    try:
        deadline = time.monotonic() + 30
        while "SFTP:" not in (tmp_path / "files.log").read_text():
            assert emulator.poll() is None, (tmp_path / "files.log").read_text()
            assert time.monotonic() < deadline, "the files-wms emulator did not start"
            time.sleep(0.05)
        yield sftp_port
    finally:
        stop([emulator])


def files_args(centra_url: str, sftp_port: int, known_hosts: Path) -> list[str]:
    args = scripted(centra_url, "unused")
    cut = args.index("--ongoing-url")
    return [
        *args[:cut],
        "--wms-kind",
        "files",
        "--sftp-host",
        "127.0.0.1",
        "--sftp-port",
        str(sftp_port),
        "--wms-user",
        "centrasync",
        "--wms-password",
        "sftp-pw",
        "--known-hosts",
        str(known_hosts),
        "--capture-policy",
        "on_import",
    ]


def test_a_files_warehouse_asks_before_trusting_its_host_key(
    tmp_path: Path, centra_url: str, files_wms: int
) -> None:
    config, known_hosts = tmp_path / "centrasync.toml", tmp_path / "known_hosts"

    refused = init(config, *files_args(centra_url, files_wms, known_hosts))

    assert refused.exit_code == 1
    assert "SHA256:" in refused.stderr and "--trust-host-key" in refused.stderr
    assert not config.exists() and not known_hosts.exists()

    trusted = init(config, *files_args(centra_url, files_wms, known_hosts), "--trust-host-key")

    assert trusted.exit_code == 0, trusted.output
    assert f"[127.0.0.1]:{files_wms} " in known_hosts.read_text()
    wms = tomllib.loads(config.read_text())["stores"]["se"]["wms"]
    assert wms["kind"] == "files" and wms["port"] == files_wms
    assert "sftp-pw" not in config.read_text()
    checked = runner.invoke(app, ["check", "--config", str(config)], env={"COLUMNS": "250"})
    assert checked.exit_code == 0, checked.output
    assert "logged in" in checked.stdout
