"""Structured logs: JSON lines off a terminal, console columns on one, never a secret."""

from __future__ import annotations

import json
from typing import Any

import pytest
import structlog
from typer.testing import CliRunner

from centrasync.cli import app
from centrasync.errors import AuthenticationError
from centrasync.logs import configure_logging, register_secret

SECRET = "hunter2-registered-secret"


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def log_everything_secret() -> None:
    """Put the secret in a value, a nested value, a key, and an error's traceback."""
    log = structlog.get_logger("centrasync.test")
    log.info(
        "calling centra",
        header=f"API-Authorization: {SECRET}",
        nested={"attempts": [f"sent {SECRET} twice", 2], "raw": SECRET.encode()},
        **{f"key-{SECRET}": True},
    )
    try:
        raise AuthenticationError(f"refused {SECRET} at GET /shipments")
    except AuthenticationError:
        log.exception("check failed")


def test_json_lines_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    structlog.get_logger().info("shipment sent", store="se", shipment="1001-1")

    (event,) = json_lines(capsys.readouterr().err)
    assert event["event"] == "shipment sent"
    assert event["level"] == "info"
    assert event["store"] == "se"
    assert event["timestamp"].endswith("Z")


def test_registered_secrets_never_reach_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_output=True)
    register_secret(SECRET)
    log_everything_secret()

    err = capsys.readouterr().err
    assert SECRET not in err
    first, second = json_lines(err)
    assert first["nested"] == {"attempts": ["sent *** twice", 2], "raw": "***"}
    assert first["key-***"] is True
    assert "refused *** at GET /shipments" in second["exception"]


def test_registered_secrets_never_reach_console_output(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_output=False)
    register_secret(SECRET)
    log_everything_secret()

    err = capsys.readouterr().err
    assert SECRET not in err
    assert "calling centra" in err
    assert "refused *** at GET /shipments" in err


def test_credentials_nobody_registered_are_masked_by_pattern(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json_output=True)
    structlog.get_logger().warning(
        "retrying", url="https://api:pa55w0rd@wms.example/v1", detail="password=letmein"
    )

    err = capsys.readouterr().err
    assert "pa55w0rd" not in err
    assert "letmein" not in err


def test_levels_below_the_threshold_are_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_output=True, level="warning")
    log = structlog.get_logger()
    log.info("quiet")
    log.warning("loud")

    assert [e["event"] for e in json_lines(capsys.readouterr().err)] == ["loud"]


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level 'loud'"):
        configure_logging(level="loud")


def test_the_cli_refuses_an_unknown_level() -> None:
    result = CliRunner().invoke(app, ["--log-level", "loud", "dead", "--database", "x.sqlite"])

    assert result.exit_code == 2
    assert "unknown log level" in result.stderr
