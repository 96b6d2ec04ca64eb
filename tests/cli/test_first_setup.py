"""A new user's path after the demo: emulators started by hand, init, check, serve.

Each step is taken from what the one before printed, as the README's "Your own setup"
tells it; the journey ends with a Centra shipment turned into a warehouse order.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from processes import free_port, start, start_emulators, stop

pytestmark = pytest.mark.slow


def centrasync(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "centrasync", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_then_check_then_serve_moves_a_shipment(tmp_path: Path) -> None:
    centra_port, ongoing_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CENTRASYNC_")}
    env["COLUMNS"] = "200"
    processes = start_emulators(
        tmp_path, centra_port=centra_port, ongoing_port=ongoing_port, secret="s3cret", password="pw"
    )
    try:
        centra = f"http://127.0.0.1:{centra_port}"
        ongoing = f"http://127.0.0.1:{ongoing_port}"

        init = centrasync(
            "init",
            "--no-input",
            "--store",
            "shop",
            "--centra-url",
            f"{centra}/api/wms",
            "--timezone",
            "Europe/Stockholm",
            "--centra-secret",
            "s3cret",
            "--ongoing-url",
            f"{ongoing}/demo/api/v1/",
            "--wms-user",
            "centrasync",
            "--wms-password",
            "pw",
            "--goods-owner-id",
            "1",
            "--flows",
            "shipments",
            cwd=tmp_path,
            env=env,
        )
        assert init.returncode == 0, init.stderr
        told = re.search(r"Next: .*?centrasync (check .*)", init.stdout)
        assert told is not None, init.stdout

        check = centrasync(*told[1].split(), cwd=tmp_path, env=env)
        assert check.returncode == 0, check.stdout + check.stderr
        told = re.search(r"Next: .*?centrasync (serve .*)", check.stdout)
        assert told is not None, check.stdout

        serve = start(told[1].split(), tmp_path / "serve.log", env, cwd=tmp_path)
        processes.append(serve)
        deadline = time.monotonic() + 60
        while not httpx.get(f"{ongoing}/_emulator/state").json()["orders"]:
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve sent no shipment to the warehouse"
            time.sleep(0.2)
    finally:
        stop(processes)
