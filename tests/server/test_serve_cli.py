"""``centrasync serve`` end to end: a real process, a real port, a file-backed SQLite store."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from processes import free_port, start, start_emulators, stop, wait_up

pytestmark = pytest.mark.slow

HOOK_SECRET = "hook-secret-1"


def signed(body: str, secret: str) -> dict[str, str]:
    t = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Centra-Signature": f"t={t},v1={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_serve_receives_signed_webhooks_into_the_inbox(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "centrasync.toml"
    config.write_text(
        f"""
[engine]
database_url = "sqlite+aiosqlite:///{tmp_path / "state.sqlite"}"
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
    )
    env = {
        **os.environ,
        "CENTRASYNC_SE_CENTRA_SECRET": "centra-secret",
        "CENTRASYNC_SE_WMS_PASSWORD": "wms-password",
        "CENTRASYNC_SE_WEBHOOK_SECRET": HOOK_SECRET,
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "centrasync", "serve", "--config", str(config), "--role", "web"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                assert httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "centrasync serve did not start"
                time.sleep(0.05)
        event = {"type": "order", "action": "create", "date": "2026-11-22 09:00:00.000001", "id": 7}
        body = "payload=" + quote(json.dumps({"events": [event]}), safe="")
        hook = f"{url}/webhooks/centra/se"
        assert httpx.post(hook, content=body, headers=signed(body, HOOK_SECRET)).status_code == 200
        assert httpx.post(hook, content=body, headers=signed(body, "forged")).status_code == 401
        assert httpx.post(hook, content=body).status_code == 401
        metrics = httpx.get(f"{url}/metrics").text
        assert 'centrasync_inbox_backlog{store="se"} 1.0' in metrics
        # The shared store's backlog shows in a web process too; it has no engine, so no
        # clients whose 429s it could count.
        assert 'centrasync_flow_backlog{flow="outbound",store="se"} 0.0' in metrics
        assert 'centrasync_centra_rate_limited{store="se"}' not in metrics
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "state.sqlite").exists()
    assert HOOK_SECRET not in log.read_text()


def test_serve_reports_a_bad_configuration_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "centrasync", "serve", "--config", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: configuration file")
    assert "Traceback" not in result.stderr


def test_web_and_worker_processes_share_the_inbox(tmp_path: Path) -> None:
    """A web-only process takes the webhook; a separate worker-only process acts on it."""
    centra_port, ongoing_port, web_port = free_port(), free_port(), free_port()
    database = tmp_path / "state.sqlite"
    config = tmp_path / "centrasync.toml"
    # Every poll off: only the webhook can make the worker fetch order 1001's shipment.
    config.write_text(
        f"""
[engine]
database_url = "sqlite+aiosqlite:///{database}"
listen_port = {web_port}

[stores.se.centra]
host = "http://127.0.0.1:{centra_port}"
uri = "wms"
timezone = "Europe/Stockholm"

[stores.se.wms]
base_url = "http://127.0.0.1:{ongoing_port}/demo/api/v1"
user = "centrasync"
goods_owner_id = 1

[stores.se.schedule]
shipments = 0
confirmations = 0
cancellations = 0
sweep = 0
articles = 0
in_deliveries = 0
returns = 0
stock = 0
stock_full = 0
"""
    )
    env = {
        **os.environ,
        "CENTRASYNC_SE_CENTRA_SECRET": "s3cret",
        "CENTRASYNC_SE_WMS_PASSWORD": "secret",
        "CENTRASYNC_SE_WEBHOOK_SECRET": HOOK_SECRET,
    }
    processes = start_emulators(
        tmp_path,
        centra_port=centra_port,
        ongoing_port=ongoing_port,
        secret="s3cret",
        password="secret",
    )
    try:
        web = start(["serve", "--config", str(config), "--role", "web"], tmp_path / "web.log", env)
        processes.append(web)
        wait_up(f"http://127.0.0.1:{web_port}/healthz", web, tmp_path / "web.log")
        worker = start(
            ["serve", "--config", str(config), "--role", "worker", "--worker-id", "w1"],
            tmp_path / "worker.log",
            env,
        )
        processes.append(worker)
        event = {
            "type": "order",
            "action": "update",
            "date": "2026-11-22 09:00:00.000001",
            "id": 1001,
        }
        body = "payload=" + quote(json.dumps({"events": [event]}), safe="")
        hook = f"http://127.0.0.1:{web_port}/webhooks/centra/se"
        assert httpx.post(hook, content=body, headers=signed(body, HOOK_SECRET)).status_code == 200
        orders_url = f"http://127.0.0.1:{ongoing_port}/_emulator/state"
        deadline = time.monotonic() + 30
        while True:
            state = httpx.get(orders_url).json()
            numbers = [order["orderInfo"]["orderNumber"] for order in state["orders"]]
            if numbers:
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker never acted on the webhook"
            time.sleep(0.1)
        assert numbers == ["1001-1"]
        assert "centrasync_inbox_backlog" in httpx.get(f"http://127.0.0.1:{web_port}/metrics").text
    finally:
        stop(processes)
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
