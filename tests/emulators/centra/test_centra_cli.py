from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest
from gql_helpers import EXAMPLES, VARIABLES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_emulate_centra_serves_the_order_api_and_the_integration_api() -> None:
    port = free_port()
    command = [sys.executable, "-m", "centrasync", "emulate", "centra", "--port", str(port)]
    command += ["--uri", "wms", "--secret", "s3cret", "--seed", "demo", "--graphql-token", "tok"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base, timeout=2) as client:
            while True:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    client.get("/_emulator/stores")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the emulator did not start in 30 s"
                    time.sleep(0.05)
            served = client.get("/api/wms/shipments", headers={"API-Authorization": "s3cret"})
            assert served.status_code == 200
            body = served.json()
            assert body["status"] == "ok"
            assert len(body["shipments"]) == 30
            assert body["shipments"][0]["shipmentId"].endswith("-1")
            refused = client.get("/api/wms/shipments")
            assert refused.status_code == 401
            assert refused.json() == {"status": "no", "msg": "Unauthorized"}
            for name, query in EXAMPLES.items():
                answer = client.post(
                    "/graphql",
                    json={"query": query, "variables": VARIABLES.get(name, {})},
                    headers={"Authorization": "Bearer tok"},
                )
                assert answer.status_code == 200 and "errors" not in answer.json(), name
            pick_list = client.post(
                "/graphql",
                json={"query": EXAMPLES["pick list"]},
                headers={"Authorization": "Bearer tok"},
            )
            assert len(pick_list.json()["data"]["shipments"]) == 50
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
