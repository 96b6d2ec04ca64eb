"""Injected faults on the REST API, the example loader, and one real start of the CLI."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from ongoing_helpers import API, OWNER, put_article
from test_ongoing_vendor_examples import load_example


async def test_rate_limit_fault_answers_429_with_retry_after(client: httpx.AsyncClient) -> None:
    added = await client.post(
        "/_emulator/faults",
        json={"kind": "rate_limit", "path": f"{API}/orders*", "times": 1, "retry_after": "3"},
    )
    assert added.status_code == 200
    limited = await client.get(f"{API}/orders", params=OWNER)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert (await client.get(f"{API}/orders", params=OWNER)).status_code == 200


async def test_server_error_and_malformed_faults(client: httpx.AsyncClient) -> None:
    await client.post(
        "/_emulator/faults",
        json={"kind": "server_error", "method": "PUT", "status": 502, "times": 1},
    )
    failed = await client.put(
        f"{API}/articles", json={"goodsOwnerId": 1, "articleNumber": "A", "articleName": "A"}
    )
    assert failed.status_code == 502
    assert (await client.get("/_emulator/state")).json()["articles"] == [], "nothing was applied"
    await client.post("/_emulator/faults", json={"kind": "malformed", "times": 1})
    garbled = await client.get(f"{API}/articles", params=OWNER)
    with pytest.raises(ValueError):
        garbled.json()


async def test_truncated_and_dropped_responses(client: httpx.AsyncClient) -> None:
    await put_article(client, "A", stock=1)
    await client.post("/_emulator/faults", json={"kind": "truncated", "times": 1})
    truncated = await client.get(f"{API}/articles", params=OWNER)
    with pytest.raises(ValueError):
        truncated.json()
    await client.post("/_emulator/faults", json={"kind": "drop", "times": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(f"{API}/articles", params=OWNER)
    assert (await client.get(f"{API}/articles", params=OWNER)).status_code == 200


async def test_control_routes_are_never_faulted(client: httpx.AsyncClient) -> None:
    await client.post("/_emulator/faults", json={"kind": "server_error"})
    assert (await client.get("/_emulator/state")).status_code == 200
    assert (await client.get(f"{API}/orders", params=OWNER)).status_code == 503
    await client.delete("/_emulator/faults")
    assert (await client.get(f"{API}/orders", params=OWNER)).status_code == 200


def test_example_loader_handles_bom_and_js_flavoured_content(tmp_path: Path) -> None:
    example = tmp_path / "example.js"
    content = (
        '// a vendor comment\n{\n  "url": "https://x.example/a//b", /* inline */\n'
        '  "rows": [1, 2,],\n}\n'
    )
    example.write_bytes(b"\xef\xbb\xbf" + content.encode())
    assert load_example(example) == {"url": "https://x.example/a//b", "rows": [1, 2]}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_cli_starts_a_real_emulator() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "centrasync", "emulate", "ongoing", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--password", "pw"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(
                    f"{base}{API}/orders/statuses", auth=("centrasync", "pw"), timeout=1
                )
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert response is not None, "the emulator did not start within 20 s"
        assert response.status_code == 200
        assert response.json()["orderStatuses"]
        denied = httpx.get(f"{base}{API}/orders", params=OWNER, auth=("centrasync", "x"))
        assert denied.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
