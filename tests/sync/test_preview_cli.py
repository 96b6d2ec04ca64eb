"""``centrasync preview shipment`` end to end, against the Centra emulator on a real port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

SECRET = "s3cret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def centra_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "centrasync", "emulate", "centra"),
            *("--port", str(port), "--uri", "wms", "--secret", SECRET, "--seed", "demo"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/_emulator/faults", timeout=0.5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the Centra emulator did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def config(tmp_path: Path, centra_url: str) -> Path:
    path = tmp_path / "centrasync.toml"
    path.write_text(
        f"""
[stores.se.centra]
host = "{centra_url}"
uri = "wms"
timezone = "Europe/Stockholm"

[stores.se.wms]
base_url = "http://127.0.0.1:9/demo/api/v1"
user = "api"
goods_owner_id = 1
"""
    )
    return path


def preview(
    config: Path, store: str, number: str, secret: str = SECRET
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CENTRASYNC_SE_CENTRA_SECRET": secret,
        "CENTRASYNC_SE_WMS_PASSWORD": "wms-pw",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [
            *(sys.executable, "-m", "centrasync", "preview", "shipment"),
            *(store, number, "--config", str(config)),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_prints_the_mapped_order_as_json(config: Path) -> None:
    result = preview(config, "se", "1001-1")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    order = printed["order"]
    assert order["order_number"] == "1001-1"
    assert [(x["line_key"], x["sku"], x["quantity"]) for x in order["lines"]] == [
        ("43001", "JKT1192SNDXS", "2"),
        ("43002", "JNS1170BLK32", "1"),
        ("43003", "SNK1019NVY42", "1"),
    ]
    assert order["ship_to"]["address1"] == "c/o Berg"
    assert order["ship_to"]["address2"] == "Storgatan 31"
    assert order["order_type"] == "B2C"
    assert Decimal(order["customer_price"]) > 0
    assert order["delivery_note"].endswith("/delnote?shipment=1001-1")
    assert "extras" not in printed
    assert printed["passes_filters"] is True


@pytest.mark.parametrize(
    ("store", "number", "message"),
    [
        ("se", "9999-1", "shipment '9999-1' not found in store 'se'"),
        ("dk", "1001-1", "no store named 'dk'"),
    ],
)
def test_unknown_store_or_shipment_is_one_clear_line(
    config: Path, store: str, number: str, message: str
) -> None:
    result = preview(config, store, number)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr


def test_wrong_secret_fails_cleanly_without_echoing_it(config: Path) -> None:
    result = preview(config, "se", "1001-1", secret="not-the-secret")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not-the-secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_configuration_file(tmp_path: Path) -> None:
    result = preview(tmp_path / "absent.toml", "se", "1001-1")
    assert result.returncode == 1
    assert "absent.toml not found" in result.stderr
