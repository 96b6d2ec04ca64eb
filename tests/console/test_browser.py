"""The console in a real browser: Debian's chromium driven by Playwright, on the demo.

An operator opens the console of ``centrasync demo --dashboard``, is sent to the login,
logs in with the run's login, follows the overview's "Capture declined" alert to the
parked shipment, retries it behind the confirmation, and watches the engine take it up
and park it again (the payment provider still declines). Every page is opened with the
browser's console watched for errors, and a screenshot of each is written under
``build/console-screenshots/``.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright
from rich.console import Console

from centrasync.demo import Dashboard, run_demo
from centrasync.demo.plan import Plan
from centrasync.emulators.centra import CentraEmulator

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "console-screenshots"
DECLINED = Plan.of(CentraEmulator(seed="demo")).declined


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests drive Debian's chromium "
            "(`apt-get install -y chromium`; .ci/run installs it when absent)",
            pytrace=False,
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def dashboard(tmp_path: Path) -> AsyncIterator[Dashboard]:
    board = Dashboard()
    demo = asyncio.create_task(
        run_demo(tmp_path / "state.sqlite", Console(file=io.StringIO()), dashboard=board)
    )
    ready = asyncio.create_task(board.ready.wait())
    try:
        await asyncio.wait({demo, ready}, timeout=150, return_when=asyncio.FIRST_COMPLETED)
        if demo.done():
            demo.result()  # the demo failed before its console was up: show why
        assert board.ready.is_set(), "the demo's console did not come up in 150 s"
        yield board
    finally:
        ready.cancel()
        board.stop.set()
        await demo


class Watched:
    """A page whose browser console errors (and uncaught exceptions) are collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")

    async def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_an_operator_finds_the_declined_capture_and_retries_it(
    browser: Browser, dashboard: Dashboard
) -> None:
    watched = Watched(await browser.new_page())
    page = watched.page
    base = dashboard.url

    # Unauthenticated: the login page, for any page asked for.
    await page.goto(f"{base}/records")
    assert "/login" in page.url
    await watched.shot("login")
    await page.fill("input[name=name]", dashboard.operator)
    await page.fill("input[name=password]", "not the password")
    await page.click("button[type=submit]")
    assert "Wrong name or password" in await page.inner_text("main")
    # The refused login answers 401, which the browser reports; nothing else may appear.
    assert [error.endswith("status of 401 (Unauthorized)") for error in watched.errors] == [True]
    watched.errors.clear()
    await page.fill("input[name=name]", dashboard.operator)
    await page.fill("input[name=password]", dashboard.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/records")

    # The overview's alert leads to the parked shipment.
    await page.goto(f"{base}/")
    await page.wait_for_selector("text=Capture declined")
    await watched.shot("overview")
    await page.click("a:has-text('Capture declined')")
    await page.wait_for_url("**/records?*state=capture_declined*")
    await watched.shot("records")
    await page.click(f"a:has-text('/shipment/{DECLINED}')")
    await page.wait_for_selector("#record-state")
    assert await page.inner_text("#record-state") == "capture_declined"
    assert "possible fraud" in await page.inner_text("#last-error")
    await watched.shot("record")

    # Retry behind its confirmation; the engine takes it up and the payment provider
    # declines again, so the record is parked again with a second entry in its history.
    await page.click("#action")
    await page.wait_for_selector("#confirm")
    await watched.shot("confirm-retry")
    await page.click("#confirm")
    await page.wait_for_selector("text=capture_declined → retry")
    # The page's own poll (htmx, every 3 s) brings the engine's work in; the console's
    # CSP forbids evaluating script text, so the test reads the page instead.
    for _ in range(120):
        history = await page.inner_text(".history")
        if "retry requested" in history and history.count("capture declined") >= 2:
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail(f"the retried shipment was not parked again; history:\n{history}")
    assert await page.inner_text("#record-state") == "capture_declined"
    assert "retry" in await page.inner_text(".audit")
    await watched.shot("record-after-retry")

    # Every other page renders, live parts included, without a browser console error.
    await page.goto(f"{base}/mapping")
    await page.fill("input[name=number]", DECLINED)
    await page.click("button:has-text('Preview')")
    await page.wait_for_selector("#mapped")
    await watched.shot("mapping")
    await page.goto(f"{base}/config")
    await page.click("#run-check")
    await page.wait_for_selector(".checks")
    await watched.shot("config")
    for name, path in (
        ("dead-letters", "/dead"),
        ("audit", "/audit"),
        ("bulk", "/bulk?mode=parked&reason=shipment/capture_declined&preview=1"),
        ("records-all", "/records"),
    ):
        await page.goto(f"{base}{path}")
        await page.wait_for_load_state("networkidle")
        await watched.shot(name)
    # Long enough for the overview's poll to replace its content at least once.
    await page.goto(f"{base}/")
    async with page.expect_response("**/overview/live"):
        pass
    assert watched.errors == []
