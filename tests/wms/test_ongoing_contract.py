"""The warehouse contract, bound to the Ongoing connector and the Ongoing emulator."""

from __future__ import annotations

import subprocess
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from centrasync.testing import WarehouseContract, WarehouseHarness, ongoing_harness


class TestOngoingWarehouseContract(WarehouseContract):
    def open_harness(self) -> AbstractAsyncContextManager[WarehouseHarness]:
        return ongoing_harness(page_size=3)


BOUND_ELSEWHERE = """
from centrasync.testing import WarehouseContract, ongoing_harness


class TestBoundInAnotherProject(WarehouseContract):
    def open_harness(self):
        return ongoing_harness(page_size=3)
"""


@pytest.mark.slow
def test_the_contract_runs_in_a_project_in_strict_asyncio_mode(tmp_path: Path) -> None:
    """pytest-asyncio's default is strict mode: a connector's own project may not set auto."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\n")
    (tmp_path / "test_bound.py").write_text(BOUND_ELSEWHERE)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_bound.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    tests = [name for name in dir(WarehouseContract) if name.startswith("test_")]
    assert f"{len(tests)} passed" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0
