"""The operator's console: server-rendered pages behind a login, mounted on the engine's app.

Like ``ops``, this is a composition root for the operator: its actions are the CLI's own
functions (``ops.retry_record``, ``ops.preview``, ``ops.run_checks``), so a retry from a
page and one from the shell cannot differ. Every page goes through :meth:`Console.page`,
which masks the configured secrets in the finished HTML: a secret cannot reach a page, an
attribute or a fragment even by a template's mistake.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from centrasync.config import Settings
from centrasync.errors import CentrasyncError, RecordValidationError, redact
from centrasync.ops import CheckResult, parse_ref, retry_records, retry_refusal, run_checks
from centrasync.ops.preview import preview_shipment
from centrasync.ops.records import RetryDone, retry_record
from centrasync.server.metrics import ReceiverMetrics
from centrasync.store import (
    LedgerRecord,
    RecordKind,
    RecordQuery,
    RecordRef,
    StateStore,
)

from .auth import LoginThrottle, Operators, new_csrf_token, same_token
from .overview import FLOWS, PARKED_BY_KIND, HourWindow, gather_overview
from .present import ago, configured_secrets, duration, effective_config, masked_json, when

__all__ = ["Console", "create_console"]

_log = structlog.get_logger(__name__)
_HERE = Path(__file__).parent
PAGE_SIZE = 50
BULK_LIMIT = 5000
"""The most records one bulk action touches; its preview says when there are more."""
_SESSION_COOKIE = "centrasync_console"
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class _LoginRequired(Exception):
    """Raised by :meth:`Console.operator` when the session holds no operator."""


@dataclass(frozen=True)
class Action:
    """A record action as the record page offers it: retry, or re-send to a system."""

    name: str
    label: str
    explains: str


def _action_for(record: LedgerRecord) -> Action:
    """What re-driving ``record`` means for its kind: the engine decides from its effects."""
    if record.ref.kind is RecordKind.ARTICLE:
        # The articles flow writes an article again only when its content changed since
        # the last write (its content hash), so this is a retry, not a forced re-send.
        return Action(
            "retry",
            "Retry",
            "the articles flow reads it from Centra again on its next pass and writes it to "
            "the WMS if its content changed since the last write",
        )
    if record.ref.kind is RecordKind.STOCK:
        return Action(
            "resend-centra",
            "Re-send to Centra",
            "the SKU's stock is written to Centra again, even if Centra agrees",
        )
    return Action(
        "retry",
        "Retry",
        "the engine picks it up in state retry and goes on from what its effects say is "
        "done: a step that succeeded is not repeated",
    )


class Console:
    """The console's pages on one state store; ``metrics``: the app's, when it has one."""

    def __init__(
        self,
        settings: Settings,
        state: StateStore,
        *,
        metrics: ReceiverMetrics | None = None,
        checks: Callable[[Settings], Awaitable[list[CheckResult]]] = run_checks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.state = state
        self.metrics = metrics
        self.stores = [store.name for store in settings.stores]
        self.operators = Operators(settings.console)
        self.throttle = LoginThrottle(settings.console.login_attempts, clock=clock)
        self.window = HourWindow(clock=clock)
        self.secrets = configured_secrets(settings)
        self._checks = checks
        self.last_checks: list[CheckResult] | None = None
        self.checked_at: datetime | None = None
        self._checking = asyncio.Lock()
        self.templates = Jinja2Templates(directory=_HERE / "templates")
        self.templates.env.globals.update(
            when=when, ago=ago, duration=duration, flows=FLOWS, kinds=list(RecordKind)
        )

    # -- rendering ------------------------------------------------------------------------

    def page(
        self, request: Request, template: str, context: Mapping[str, Any], *, status: int = 200
    ) -> HTMLResponse:
        """Render, then mask every configured secret in the finished HTML."""
        session = request.session
        body = self.templates.get_template(template).render(
            {
                "request": request,
                "operator": session.get("operator"),
                "csrf": session.get("csrf", ""),
                "notice": session.pop("notice", None),
                **context,
            }
        )
        return HTMLResponse(redact(body, *self.secrets), status_code=status)

    # -- sessions -------------------------------------------------------------------------

    def operator(self, request: Request) -> str:
        name = request.session.get("operator")
        if not isinstance(name, str) or not name:
            raise _LoginRequired
        return name

    def csrf(self, request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = new_csrf_token()
            request.session["csrf"] = token
        return token

    async def checked_form(self, request: Request) -> Mapping[str, str]:
        """The posted form, once its CSRF token matches the session's; else 403."""
        form = await request.form()
        given = form.get("csrf")
        if not isinstance(given, str) or not same_token(given, request.session.get("csrf")):
            raise _CsrfRefused
        return {key: value for key, value in form.items() if isinstance(value, str)}

    # -- check results --------------------------------------------------------------------

    async def run_checks(self) -> list[CheckResult]:
        async with self._checking:
            self.last_checks = await self._checks(self.settings)
            self.checked_at = datetime.now(UTC)
            return self.last_checks


class _CsrfRefused(Exception):
    pass


def _parse_day(value: str | None, *, end: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` (a whole day, UTC; ``end``: the day after) or ``YYYY-MM-DDTHH:MM``."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, day_time(), UTC)
            return moment + timedelta(days=1) if end else moment
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RecordValidationError(
            "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM", record=f"date {value[:30]!r}", field="date"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_FILTERS = ("store", "kind", "state", "parked", "number", "wms", "sku", "since", "until")


def _record_query(params: Mapping[str, str]) -> RecordQuery:
    def text(name: str) -> str | None:
        value = params.get(name, "").strip()
        return value or None

    kind = text("kind")
    try:
        parsed_kind = RecordKind(kind) if kind else None
    except ValueError:
        raise RecordValidationError(
            f"unknown kind (one of {', '.join(k.value for k in RecordKind)})",
            record=f"kind {kind[:30]!r}" if kind else "kind",
            field="kind",
        ) from None
    parked = PARKED_BY_KIND[parsed_kind] if parsed_kind and text("parked") else ()
    return RecordQuery(
        store=text("store"),
        kind=parsed_kind,
        state=text("state"),
        states=tuple(sorted(parked)),
        number=text("number"),
        wms_id=text("wms"),
        sku=text("sku"),
        since=_parse_day(text("since")),
        until=_parse_day(text("until"), end=True),
    )


def _record_url(ref: RecordRef) -> str:
    return f"/records/{quote(ref.store)}/{ref.kind.value}/{quote(ref.key, safe='')}"


def _ref(store: str, kind: str, key: str) -> RecordRef:
    return parse_ref(f"{store}/{kind}/{key}")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//host`` or ``https://host`` (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def create_console(
    settings: Settings,
    state: StateStore,
    *,
    metrics: ReceiverMetrics | None = None,
    checks: Callable[[Settings], Awaitable[list[CheckResult]]] = run_checks,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The console as an ASGI app, to mount at ``/`` after the engine's own routes.

    ``settings.console`` says who may log in; with ``session_secret`` unset, the cookies
    are signed with a key made now (a restart logs everybody out).
    """
    console = Console(settings, state, metrics=metrics, checks=checks, clock=clock)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    secret = settings.console.session_secret
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret.get_secret_value() if secret else secrets.token_urlsafe(32),
        session_cookie=_SESSION_COOKIE,
        max_age=int(settings.console.session_hours * 3600),
        same_site="strict",
        https_only=settings.console.secure_cookies,
    )

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(_LoginRequired)
    async def login_required(request: Request, exc: _LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = f"/login?{urlencode({'next': target})}"
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": login})
        if request.method == "GET":
            return RedirectResponse(login, status_code=303)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(_CsrfRefused)
    async def csrf_refused(request: Request, exc: _CsrfRefused) -> Response:
        _log.warning("console: form without a valid CSRF token refused", path=request.url.path)
        return console.page(
            request,
            "error.html",
            {
                "title": "Refused",
                "message": "The form was stale or not from this console. "
                "Reload the page and try again.",
            },
            status=403,
        )

    @app.exception_handler(CentrasyncError)
    async def failed(request: Request, exc: CentrasyncError) -> Response:
        status = 400 if isinstance(exc, RecordValidationError) else 502
        return console.page(
            request,
            "error.html",
            {"title": "Could not do that", "message": str(exc)},
            status=status,
        )

    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")

    # -- login ----------------------------------------------------------------------------

    @app.get("/login")
    async def login_page(request: Request, next: str = "/") -> Response:
        console.csrf(request)
        return console.page(request, "login.html", {"next": _safe_next(next), "error": None})

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await console.checked_form(request)
        name = form.get("name", "").strip()[:64]
        password = form.get("password", "")
        target = _safe_next(form.get("next"))
        address = request.client.host if request.client else "unknown"
        keys = (f"addr:{address}", f"name:{name.lower()}")
        if console.throttle.blocked(*keys):
            _log.warning("console: login refused, too many failures", operator=name, client=address)
            return console.page(
                request,
                "login.html",
                {"next": target, "error": "Too many failed logins. Wait a few minutes."},
                status=429,
            )
        who = console.operators.verify(name, password) if password else None
        if who is None:
            console.throttle.failed(*keys)
            _log.warning("console: login failed", operator=name, client=address)
            return console.page(
                request,
                "login.html",
                {"next": target, "error": "Wrong name or password."},
                status=401,
            )
        console.throttle.succeeded(*keys)
        # A new session on login: a token planted before it (session fixation) is gone.
        request.session.clear()
        request.session["operator"] = who
        request.session["csrf"] = new_csrf_token()
        _log.info("console: login", operator=who, client=address)
        return RedirectResponse(target, status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await console.checked_form(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- overview -------------------------------------------------------------------------

    async def overview_context() -> dict[str, Any]:
        stores = await gather_overview(
            console.state, console.stores, console.metrics, console.window, console.last_checks
        )
        return {"stores": stores, "now": datetime.now(UTC), "checked_at": console.checked_at}

    @app.get("/")
    async def overview(request: Request) -> Response:
        console.operator(request)
        return console.page(
            request, "overview.html", {"title": "Overview", **await overview_context()}
        )

    @app.get("/overview/live")
    async def overview_live(request: Request) -> Response:
        console.operator(request)
        return console.page(request, "overview_live.html", await overview_context())

    # -- records --------------------------------------------------------------------------

    @app.get("/records")
    async def records(request: Request) -> Response:
        console.operator(request)
        params = dict(request.query_params)
        query = replace(_record_query(params), stores=tuple(console.stores))
        page = await console.state.search_records(
            query, after=params.get("after") or None, limit=PAGE_SIZE
        )
        kept = {name: params[name] for name in _FILTERS if params.get(name)}
        next_url = f"/records?{urlencode({**kept, 'after': page.after})}" if page.after else None
        states = sorted(
            {state for kind_states in PARKED_BY_KIND.values() for state in kind_states}
            | {"new", "retry", "sent", "completed", "cancelled", "written", "synced"}
        )
        return console.page(
            request,
            "records.html",
            {
                "title": "Records",
                "filters": kept,
                "records": page.records,
                "next_url": next_url,
                "first_url": f"/records?{urlencode(kept)}" if params.get("after") else None,
                "record_url": _record_url,
                "stores": console.stores,
                "states": states,
            },
        )

    async def record_context(ref: RecordRef) -> dict[str, Any]:
        record = await console.state.get_record(ref)
        if record is None:
            raise RecordValidationError(
                "no such record in the state store", record=str(ref), field="key"
            )
        masked = console.secrets
        effects = await console.state.effects_of(ref)
        dead = await console.state.dead_letters_of(ref, include_resolved=True)
        return {
            "record": record,
            "ref": ref,
            "url": _record_url(ref),
            "history": await console.state.history(ref),
            "effects": [
                (effect, masked_json(effect.intent, masked), masked_json(effect.outcome, masked))
                for effect in effects
            ],
            "dead_letters": [(entry, masked_json(entry.payload, masked)) for entry in dead],
            "request_json": masked_json(record.last_request, masked),
            "response_json": masked_json(record.last_response, masked),
            "audit": await console.state.list_audit(target=str(ref), limit=20),
            "action": _action_for(record),
            "refusal": retry_refusal(record),
        }

    @app.get("/records/{store}/{kind}/{key:path}/live")
    async def record_live(request: Request, store: str, kind: str, key: str) -> Response:
        console.operator(request)
        context = await record_context(_ref(store, kind, key))
        return console.page(request, "record_live.html", context)

    @app.get("/records/{store}/{kind}/{key:path}/retry")
    async def confirm_retry(request: Request, store: str, kind: str, key: str) -> Response:
        console.operator(request)
        context = await record_context(_ref(store, kind, key))
        return console.page(request, "confirm_retry.html", {"title": "Confirm", **context})

    @app.post("/records/{store}/{kind}/{key:path}/retry")
    async def do_retry(request: Request, store: str, kind: str, key: str) -> Response:
        who = console.operator(request)
        await console.checked_form(request)
        ref = _ref(store, kind, key)
        record = await console.state.get_record(ref)
        action = _action_for(record).name if record is not None else "retry"
        done: RetryDone = await retry_record(console.state, ref, by=who, action=action)
        request.session["notice"] = (
            f"{done.ref}: already waiting for retry"
            if done.already_waiting
            else f"{done.ref}: {done.from_state} → retry; the engine takes it from here"
        )
        return RedirectResponse(_record_url(ref), status_code=303)

    @app.get("/records/{store}/{kind}/{key:path}")
    async def record_page(request: Request, store: str, kind: str, key: str) -> Response:
        console.operator(request)
        context = await record_context(_ref(store, kind, key))
        return console.page(request, "record.html", {"title": str(context["ref"]), **context})

    # -- dead letters and audit -------------------------------------------------------------

    @app.get("/dead")
    async def dead(request: Request, store: str = "") -> Response:
        console.operator(request)
        names = [store] if store in console.stores else console.stores
        entries = []
        for name in names:
            entries.extend(await console.state.list_dead(name, limit=200))
        entries.sort(key=lambda entry: (entry.parked_at, entry.id), reverse=True)
        return console.page(
            request,
            "dead.html",
            {
                "title": "Dead letters",
                "entries": entries,
                "record_url": _record_url,
                "store": store,
            },
        )

    @app.get("/audit")
    async def audit(request: Request) -> Response:
        console.operator(request)
        entries = await console.state.list_audit(limit=200)
        return console.page(request, "audit.html", {"title": "Audit log", "entries": entries})

    # -- bulk -----------------------------------------------------------------------------

    async def bulk_selection(
        params: Mapping[str, str],
    ) -> tuple[str, RecordQuery, list[LedgerRecord], bool]:
        """The records a bulk action would touch: parked ones of a reason, or a flow's
        records changed in a date range. At most :data:`BULK_LIMIT`; ``True``: more exist."""
        mode = params.get("mode", "parked")
        if mode == "parked":
            kind, _, state = params.get("reason", "").partition("/")
            query = _record_query({"store": params.get("store", ""), "kind": kind, "state": state})
            if query.kind is None or query.state is None:
                raise RecordValidationError(
                    "choose a kind and the parked state (the reason)", record="bulk", field="state"
                )
            if query.state not in PARKED_BY_KIND[query.kind]:
                raise RecordValidationError(
                    f"{query.state} is not a parked state of {query.kind.value} records",
                    record="bulk",
                    field="state",
                )
        else:
            query = _record_query(
                {k: v for k, v in params.items() if k in ("store", "kind", "since", "until")}
            )
            if query.kind is None or query.since is None or query.until is None:
                raise RecordValidationError(
                    "choose a flow and both dates", record="bulk", field="since"
                )
        query = replace(query, stores=tuple(console.stores))
        found: list[LedgerRecord] = []
        after: str | None = None
        while len(found) < BULK_LIMIT:
            page = await console.state.search_records(query, after=after, limit=500)
            found.extend(page.records)
            after = page.after
            if after is None:
                break
        more = after is not None or len(found) > BULK_LIMIT
        return mode, query, found[:BULK_LIMIT], more

    @app.get("/bulk")
    async def bulk(request: Request) -> Response:
        console.operator(request)
        params = dict(request.query_params)
        context: dict[str, Any] = {
            "title": "Bulk",
            "stores": console.stores,
            "parked_by_kind": {
                kind.value: sorted(states) for kind, states in PARKED_BY_KIND.items()
            },
            "params": params,
            "preview": None,
        }
        if params.get("preview"):
            mode, _query, found, more = await bulk_selection(params)
            touched = [record for record in found if retry_refusal(record) is None]
            skipped = [(record, retry_refusal(record)) for record in found if retry_refusal(record)]
            context["preview"] = {
                "mode": mode,
                "touched": touched,
                "skipped": skipped,
                "more": more,
                "hidden": {k: v for k, v in params.items() if k != "preview"},
            }
            context["record_url"] = _record_url
        return console.page(request, "bulk.html", context)

    @app.post("/bulk")
    async def do_bulk(request: Request) -> Response:
        who = console.operator(request)
        form = await console.checked_form(request)
        mode, _query, found, _more = await bulk_selection(form)
        refs = [record.ref for record in found if retry_refusal(record) is None]
        expected = form.get("expected", "")
        if expected != str(len(refs)):
            request.session["notice"] = (
                f"The selection changed since the preview ({expected} then, {len(refs)} now); "
                "nothing was done. Check the new preview."
            )
            again = {k: v for k, v in form.items() if k not in ("csrf", "expected")}
            return RedirectResponse(
                f"/bulk?{urlencode({**again, 'preview': '1'})}", status_code=303
            )
        action = "bulk-retry" if mode == "parked" else "bulk-rerun"
        done, skipped = await retry_records(console.state, refs, by=who, action=action)
        request.session["notice"] = (
            f"{len(done)} record(s) handed back to the engine in state retry"
            + (f"; {len(skipped)} skipped" if skipped else "")
        )
        return RedirectResponse("/audit", status_code=303)

    # -- mapping preview ------------------------------------------------------------------

    @app.get("/mapping")
    async def mapping(request: Request, store: str = "", number: str = "") -> Response:
        console.operator(request)
        context: dict[str, Any] = {
            "title": "Mapping preview",
            "stores": console.stores,
            "store": store,
            "number": number,
            "result": None,
            "error": None,
        }
        if store and number:
            try:
                mapped = await preview_shipment(console.settings.store(store), number.strip())
            except CentrasyncError as exc:
                context["error"] = str(exc)
            else:
                context["result"] = masked_json(mapped, console.secrets)
                context["passes"] = mapped.get("passes_filters")
        return console.page(request, "mapping.html", context)

    # -- configuration --------------------------------------------------------------------

    @app.get("/config")
    async def config(request: Request) -> Response:
        console.operator(request)
        shown = effective_config(console.settings)
        return console.page(
            request,
            "config.html",
            {
                "title": "Configuration",
                "config": {
                    "engine": masked_json(shown["engine"], console.secrets),
                    "console": masked_json(shown["console"], console.secrets),
                    "stores": {
                        name: masked_json(values, console.secrets)
                        for name, values in shown["stores"].items()
                    },
                },
                "checks": console.last_checks,
                "checked_at": console.checked_at,
            },
        )

    @app.post("/config/check")
    async def config_check(request: Request) -> Response:
        console.operator(request)
        await console.checked_form(request)
        results = await console.run_checks()
        return console.page(
            request, "checks.html", {"checks": results, "checked_at": console.checked_at}
        )

    app.state.console = console
    return app
