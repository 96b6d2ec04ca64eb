"""Operators: ``centrasync user add``, the ``[console]`` settings, login throttling, and the
console served by ``centrasync serve --role web`` (and not without operators)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from centrasync.cli import app
from centrasync.config import load_settings
from centrasync.console.auth import LoginThrottle, Operators
from centrasync.errors import ConfigError

from .conftest import SECRETS, console_settings

runner = CliRunner()
CONFIG = """# the operator's own comment stays
[engine]
database_url = "sqlite+aiosqlite:///{database}"
listen_port = {port}

[stores.se.centra]
host = "http://127.0.0.1:9"
uri = "wms"
timezone = "Europe/Stockholm"

[stores.se.wms]
base_url = "http://127.0.0.1:9/demo/api/v1"
user = "api"
goods_owner_id = 1
"""
ENV = {
    "CENTRASYNC_SE_CENTRA_SECRET": "centra-secret-Zk20",
    "CENTRASYNC_SE_WMS_PASSWORD": "wms-password-Qa19",
}


def _config(tmp_path: Path, port: int = 8080) -> Path:
    path = tmp_path / "centrasync.toml"
    path.write_text(CONFIG.format(database=tmp_path / "state.sqlite", port=port))
    return path


def test_user_add_writes_a_hash_that_logs_in(tmp_path: Path) -> None:
    path = _config(tmp_path)
    added = runner.invoke(
        app,
        ["user", "add", "alice", "--config", str(path)],
        input="a long passphrase\na long passphrase\n",
    )
    assert added.exit_code == 0, added.output
    text = path.read_text()
    assert text.startswith("# the operator's own comment stays")
    assert "a long passphrase" not in text
    again = runner.invoke(
        app,
        ["user", "add", "bob", "--config", str(path)],
        input="another passphrase\nanother passphrase\n",
    )
    assert again.exit_code == 0, again.output
    assert text.count("[console.users]") == 1
    settings = load_settings(path, ENV)
    operators = Operators(settings.console)
    assert operators.names == ["alice", "bob"]
    assert operators.verify("alice", "a long passphrase") == "alice"
    assert operators.verify("alice", "another passphrase") is None
    assert operators.verify("bob", "another passphrase") == "bob"


def test_user_add_refuses_a_short_password_and_a_taken_name(tmp_path: Path) -> None:
    path = _config(tmp_path)
    short = runner.invoke(
        app, ["user", "add", "alice", "--config", str(path)], input="short\nshort\n"
    )
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    runner.invoke(
        app,
        ["user", "add", "alice", "--config", str(path)],
        input="x" * 12 + "\n" + "x" * 12 + "\n",
    )
    taken = runner.invoke(
        app,
        ["user", "add", "alice", "--config", str(path)],
        input="y" * 12 + "\n" + "y" * 12 + "\n",
    )
    assert taken.exit_code == 1
    assert "exists already" in taken.output


def test_console_settings_refuse_secrets_in_the_file_and_weak_ones() -> None:
    with pytest.raises(ConfigError, match=r"console\.token is never kept in the file"):
        console_settings(token="in-the-file-is-wrong")
    with pytest.raises(ConfigError, match="not an argon2 hash"):
        console_settings(users={"alice": "plaintext"})
    from centrasync.config import parse_settings

    short = {**SECRETS, "CENTRASYNC_CONSOLE_TOKEN": "short"}
    document = {
        "stores": {
            "se": {
                "centra": {"host": "http://c", "uri": "w", "timezone": "Europe/Stockholm"},
                "wms": {"base_url": "http://w/api/v1/", "user": "u", "goods_owner_id": 1},
            }
        }
    }
    with pytest.raises(ConfigError, match="at least 16 characters"):
        parse_settings(document, short)
    assert not parse_settings(
        document, {k: v for k, v in SECRETS.items() if "CONSOLE" not in k}
    ).console.enabled
    settings = console_settings()
    assert settings.console.token is not None
    assert SECRETS["CENTRASYNC_CONSOLE_TOKEN"] not in repr(settings)


def test_throttle_counts_per_key_within_its_window() -> None:
    now = [0.0]
    throttle = LoginThrottle(limit=2, window=60, max_keys=3, clock=lambda: now[0])
    throttle.failed("addr:1", "name:a")
    throttle.failed("addr:1", "name:b")
    assert throttle.blocked("addr:1", "name:c")
    assert not throttle.blocked("addr:2", "name:a")
    now[0] = 61
    assert not throttle.blocked("addr:1")
    for index in range(10):
        throttle.failed(f"name:{index}")
    assert len(throttle._failures) <= 3


@pytest.mark.slow
def test_serve_serves_the_console_behind_its_login(tmp_path: Path) -> None:
    with socket_port() as port:
        pass
    path = _config(tmp_path, port)
    runner.invoke(
        app,
        ["user", "add", "alice", "--config", str(path)],
        input="a long passphrase\na long passphrase\n",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "centrasync", "serve", "--config", str(path), "--role", "web"],
            env={**os.environ, **ENV},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=0.5)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.05)
        with httpx.Client(base_url=url) as web:
            assert web.get("/records").headers["location"].startswith("/login")
            form = web.get("/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            answer = web.post(
                "/login",
                data={"csrf": csrf.group(1), "name": "alice", "password": "a long passphrase"},
            )
            assert answer.status_code == 303
            overview = web.get("/")
            assert overview.status_code == 200
            assert "Store se" in overview.text
            assert "runs no flows (role web)" in overview.text
    finally:
        process.terminate()
        process.wait(timeout=10)
    printed = log.read_text()
    assert "console:" in printed
    for secret in ENV.values():
        assert secret not in printed


class socket_port:
    """A free local port (the socket is closed before serve binds it)."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        port: int = self._sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
