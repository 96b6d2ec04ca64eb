"""A warning raised while a server thread serves a request fails the test that sent it."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parents[1]

SESSION = """
import warnings

import httpx
import pytest
from fastapi import FastAPI

from cli.conftest import serving

app = FastAPI()


@app.get("/stock")
async def stock() -> dict[str, int]:
    warnings.warn("stock figures are estimates", UserWarning)
    return {"on_hand": 5}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@pytest.fixture(scope="module")
def url():
    with serving(app) as url:
        yield url


def test_asks_for_stock_and_ignores_the_answer(url):
    httpx.get(f"{url}/stock")


def test_asks_for_health(url):
    assert httpx.get(f"{url}/health").status_code == 200
"""


def test_a_warning_in_a_server_thread_fails_the_test_whose_request_raised_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(test_session=SESSION)

    result = pytester.runpytest_subprocess(
        "-p", "cli.conftest", "-p", "no:asyncio", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_asks_for_stock_and_ignores_the_answer*",
            "raised in a server thread while serving:",
            "GET /stock",
            "*UserWarning: stock figures are estimates",
        ]
    )
