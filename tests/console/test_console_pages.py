"""The console over ASGI: login, sessions, CSRF, throttling, every page, actions and audit."""

from __future__ import annotations

import re

import httpx
import pytest

from centrasync.store import StateStore

from .conftest import DECLINED, SECRETS, csrf_of, log_in

PAGES = [
    "/",
    "/overview/live",
    "/records",
    "/records?store=se&kind=shipment&state=capture_declined",
    "/records?number=1001",
    "/records?kind=shipment&parked=1",
    "/records/se/shipment/1001-1",
    "/records/se/shipment/1001-1/live",
    "/records/se/shipment/1001-1/retry",
    "/dead",
    "/audit",
    "/bulk",
    "/bulk?mode=parked&reason=shipment/capture_declined&preview=1",
    "/bulk?mode=rerun&kind=shipment&since=2000-01-01&until=2100-01-01&preview=1",
    "/mapping",
    "/config",
]


@pytest.mark.parametrize("path", PAGES)
async def test_nothing_is_readable_without_logging_in(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    followed = await client.get(answer.headers["location"])
    assert followed.status_code == 200
    assert "Log in" in followed.text
    assert "possible fraud" not in followed.text
    assert 'class="records"' not in followed.text


async def test_htmx_polls_without_a_session_are_sent_to_the_login(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/overview/live", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"].startswith("/login")


async def test_posts_without_a_session_change_nothing(
    client: httpx.AsyncClient, state: StateStore
) -> None:
    answer = await client.post(f"/records/{DECLINED.store}/shipment/1001-1/retry")
    assert answer.status_code == 303
    record = await state.get_record(DECLINED)
    assert record is not None and record.state == "capture_declined"


async def test_the_engine_endpoints_keep_their_own_rules(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    # A webhook without a signature is refused by the receiver, not sent to a login page.
    answer = await client.post("/webhooks/centra/se", content=b"{}")
    assert answer.status_code == 401


async def test_session_cookie_is_signed_http_only_and_same_site(
    client: httpx.AsyncClient,
) -> None:
    answer = await log_in(client)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    # A forged cookie is not a session.
    client.cookies.clear()
    client.cookies.set("centrasync_console", "eyJvcGVyYXRvciI6ICJhbGljZSJ9.forged.sig")
    assert (await client.get("/")).status_code == 303


async def test_wrong_passwords_are_refused_then_throttled(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        answer = await log_in(client, password="wrong password!")
        assert answer.status_code == 401
        assert "Wrong name or password" in answer.text
    # Even the right password waits out the window once the limit is reached.
    answer = await log_in(client)
    assert answer.status_code == 429


async def test_unknown_names_and_empty_passwords_do_not_log_in(client: httpx.AsyncClient) -> None:
    assert (await log_in(client, name="mallory")).status_code == 401
    assert (await log_in(client, password="")).status_code == 401


async def test_the_environment_token_logs_in(client: httpx.AsyncClient) -> None:
    answer = await log_in(client, name="", password=SECRETS["CENTRASYNC_CONSOLE_TOKEN"])
    assert answer.status_code == 303
    page = await client.get("/")
    assert page.status_code == 200 and "token" in page.text


async def test_login_posts_need_the_csrf_token(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    answer = await client.post("/login", data={"name": "alice", "password": "x"})
    assert answer.status_code == 403


async def test_next_never_leaves_the_site(client: httpx.AsyncClient) -> None:
    page = await client.get("/login?next=//evil.example/")
    answer = await client.post(
        "/login",
        data={
            "csrf": csrf_of(page.text),
            "name": "alice",
            "password": "correct horse battery",
            "next": "https://evil.example/",
        },
    )
    assert answer.headers["location"] == "/"


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_renders_and_no_secret_reaches_it(
    logged_in: httpx.AsyncClient, path: str
) -> None:
    answer = await logged_in.get(path)
    assert answer.status_code == 200, answer.text
    for secret in SECRETS.values():
        assert secret not in answer.text
    assert "$argon2" not in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_check_results_page_masks_and_alerts(logged_in: httpx.AsyncClient) -> None:
    page = await logged_in.get("/config")
    answer = await logged_in.post("/config/check", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 200
    assert "authentication failed" in answer.text
    overview = await logged_in.get("/")
    assert "wms: credentials rejected" in overview.text
    for secret in SECRETS.values():
        assert secret not in overview.text + answer.text


async def test_overview_alerts_link_to_the_records_behind_them(
    logged_in: httpx.AsyncClient,
) -> None:
    page = (await logged_in.get("/")).text
    assert "Capture declined" in page
    assert "/records?store=se&amp;kind=shipment&amp;state=capture_declined" in page
    assert "Dead letters" in page
    listed = await logged_in.get("/records?store=se&kind=shipment&state=capture_declined")
    assert "se/shipment/1001-1" in listed.text
    assert "se/shipment/1002-1" not in listed.text


async def test_records_page_in_keyset_pages(logged_in: httpx.AsyncClient) -> None:
    from centrasync.console import app as console_app

    original = console_app.PAGE_SIZE
    console_app.PAGE_SIZE = 2
    try:
        seen: list[str] = []
        url: str | None = "/records?kind=shipment"
        while url is not None:
            page = (await logged_in.get(url)).text
            seen.extend(re.findall(r'<td><a href="/records/se/shipment/([^"]+)"', page))
            found = re.search(r'<a href="([^"]+)" rel="next">', page)
            url = found.group(1).replace("&amp;", "&") if found else None
    finally:
        console_app.PAGE_SIZE = original
    assert len(seen) == len(set(seen)) == 5


async def test_retry_asks_first_then_acts_and_audits(
    logged_in: httpx.AsyncClient, state: StateStore
) -> None:
    record_url = "/records/se/shipment/1001-1"
    page = await logged_in.get(record_url)
    assert "capture declined: possible fraud" in page.text
    assert "capture/se/shipment/1001-1" in page.text  # the effect and its key
    confirm = await logged_in.get(f"{record_url}/retry")
    assert "Yes, retry" in confirm.text
    record = await state.get_record(DECLINED)
    assert record is not None and record.state == "capture_declined"  # asking changed nothing

    stale = await logged_in.post(f"{record_url}/retry", data={"csrf": "not-the-token"})
    assert stale.status_code == 403
    done = await logged_in.post(f"{record_url}/retry", data={"csrf": csrf_of(confirm.text)})
    assert done.status_code == 303 and done.headers["location"] == record_url

    record = await state.get_record(DECLINED)
    assert record is not None and record.state == "retry"
    assert await state.dead_letters_of(DECLINED) == []
    [entry] = await state.list_audit(target=str(DECLINED))
    assert (entry.who, entry.action) == ("alice", "retry")
    after = (await logged_in.get(record_url)).text
    assert "capture_declined -&gt; retry" in after
    assert "retry requested" in after


async def test_bulk_shows_what_it_would_touch_then_does_exactly_that(
    logged_in: httpx.AsyncClient, state: StateStore
) -> None:
    preview = await logged_in.get("/bulk?mode=parked&reason=shipment/capture_declined&preview=1")
    assert "Would retry: 1 record(s)" in preview.text
    assert "se/shipment/1001-1" in preview.text
    rerun = await logged_in.get(
        "/bulk?mode=rerun&kind=shipment&since=2000-01-01&until=2100-01-01&preview=1"
    )
    # Completed shipments are left alone, by the same rule the CLI's retry applies.
    assert "Would re-run: 1 record(s)" in rerun.text
    assert "4 matching record(s) would be left alone" in rerun.text

    wrong = await logged_in.post(
        "/bulk",
        data={
            "csrf": csrf_of(preview.text),
            "mode": "parked",
            "reason": "shipment/capture_declined",
            "expected": "7",
        },
    )
    assert wrong.headers["location"].startswith("/bulk?")
    record = await state.get_record(DECLINED)
    assert record is not None and record.state == "capture_declined"

    done = await logged_in.post(
        "/bulk",
        data={
            "csrf": csrf_of(preview.text),
            "mode": "parked",
            "reason": "shipment/capture_declined",
            "expected": "1",
        },
    )
    assert done.status_code == 303
    record = await state.get_record(DECLINED)
    assert record is not None and record.state == "retry"
    [entry] = await state.list_audit()
    assert entry.action == "bulk-retry"


async def test_logout_ends_the_session(logged_in: httpx.AsyncClient) -> None:
    page = await logged_in.get("/")
    await logged_in.post("/logout", data={"csrf": csrf_of(page.text)})
    assert (await logged_in.get("/")).status_code == 303


async def test_static_files_are_the_packaged_ones(client: httpx.AsyncClient) -> None:
    answer = await client.get("/static/htmx.min.js")
    assert answer.status_code == 200
    assert answer.text.startswith("var htmx=")
