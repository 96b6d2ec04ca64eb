"""What every Order API route shares: auth, the allow list, loose input parsing, envelopes."""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from .model import Store
from .state import Refusal
from .wire import parse_local
from .world import World
from .xml_wire import xml_document

__all__ = [
    "ApiRejection",
    "OrderApiRoute",
    "StoreGuard",
    "api_router",
    "as_amount",
    "as_bool",
    "as_int",
    "in_window",
    "install_handlers",
    "json_body",
    "line_quantities",
    "ok",
    "query_int",
    "query_time",
]

# Singular and plural spellings of one endpoint share one allow-list entry.
_ALIASES = {"supplier-delivery": "supplier-deliveries"}


class ApiRejection(Exception):
    """Refused before the endpoint runs (auth, allow list): an HTTP status and a JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _refused(exc: Refusal) -> JSONResponse:
    # Business errors are HTTP 200 with status "no", as Centra documents.
    return JSONResponse({"status": "no", "msg": exc.msg, **exc.echo})


def install_handlers(app: FastAPI) -> None:
    """Order API paths answer in Centra's envelope even where no route of theirs runs."""

    async def unserved(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not request.url.path.startswith("/api/"):
            return await http_exception_handler(request, exc)
        # [I] Centra documents no answer for an unknown endpoint or method; the status
        # stays HTTP's, the body is the Order API's refusal.
        return JSONResponse(
            {"status": "no", "msg": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    async def refused(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        return _refused(exc)

    app.add_exception_handler(HTTPException, unserved)
    app.add_exception_handler(Refusal, refused)


async def _wants_xml(request: Request) -> bool:
    """``xml`` as a query parameter, or in the JSON body of a write."""
    if as_bool(request.query_params.get("xml"), False):
        return True
    if request.method in ("GET", "DELETE"):
        return False
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and as_bool(body.get("xml"), False)


class OrderApiRoute(APIRoute):
    """An Order API route: refusals as Centra's envelope, and XML when ``xml`` is set."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except ApiRejection as exc:
                response = JSONResponse(exc.body, status_code=exc.status)
            except Refusal as exc:
                response = _refused(exc)
            if not await _wants_xml(request):
                return response
            return Response(
                xml_document(json.loads(bytes(response.body))),
                status_code=response.status_code,
                media_type="application/xml",
            )

        return route


def api_router() -> APIRouter:
    """A router of Order API routes under ``/api/<uri>/``."""
    return APIRouter(prefix="/api/{uri}", tags=["Order API"], route_class=OrderApiRoute)


def endpoint_of(path: str, uri: str) -> str:
    """The allow-list key of a request: the first path segment after ``/api/<uri>/``."""
    rest = path.removeprefix(f"/api/{uri}").strip("/")
    segment = rest.split("/", 1)[0]
    return _ALIASES.get(segment, segment)


class StoreGuard:
    """FastAPI dependency: the plugin instance of ``uri``, after auth and the allow list."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def __call__(self, request: Request, uri: str) -> Store:
        self.world.expire_due()
        store = self.world.stores.get(uri)
        if store is None:
            # [I] An unknown plugin URI is not documented; it behaves like a missing page.
            raise ApiRejection(404, {"status": "no", "msg": "Not Found"})
        given = request.headers.get("api-authorization", "")
        if not hmac.compare_digest(given.encode(), store.secret.encode()):
            # [I] Centra does not document the answer to a wrong or missing secret.
            raise ApiRejection(401, {"status": "no", "msg": "Unauthorized"})
        allowed = store.allowed_endpoints
        if allowed is not None and endpoint_of(request.url.path, uri) not in allowed:
            raise ApiRejection(403, {"status": "Not Allowed"})
        return store


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Refusal("invalid JSON in request body") from None  # [I]
    if not isinstance(data, dict):
        raise Refusal("request body must be a JSON object")  # [I]
    return data


def as_bool(value: Any, default: bool) -> bool:
    """Centra accepts ``1``, ``true`` and ``"1"`` alike."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise Refusal(f"{name} must be a number")  # [I]
    try:
        return int(str(value).strip())
    except ValueError:
        raise Refusal(f"{name} must be a number") from None  # [I]


def as_amount(value: Any, name: str) -> float:
    """A money value: a JSON number or a numeric string, finite and not negative."""
    if isinstance(value, bool):
        raise Refusal(f"{name} must be a number")  # [I]
    try:
        amount = float(str(value).strip())
    except ValueError:
        raise Refusal(f"{name} must be a number") from None  # [I]
    if not math.isfinite(amount) or amount < 0:
        raise Refusal(f"{name} must be a positive number")  # [I]
    return amount


def query_int(request: Request, name: str, default: int | None) -> int | None:
    value = request.query_params.get(name)
    return default if value in (None, "") else as_int(value, name)


def query_time(request: Request, name: str, store: Store) -> datetime | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return parse_local(value, store.zone)
    except ValueError:
        # [I] Malformed dates are not documented; the expected formats are.
        raise Refusal(f"{name} must be YYYY-mm-dd or YYYY-mm-dd HH:MM:SS") from None


def in_window(moment: datetime, newer: datetime | None, older: datetime | None) -> bool:
    # [I] As documented for returns: newer_than inclusive, older_than exclusive.
    return (newer is None or moment >= newer) and (older is None or moment < older)


def line_quantities(raw: Any, name: str = "products") -> dict[int, int]:
    """A ``{lineId: quantity}`` object, as shipments and returns take their lines."""
    if not isinstance(raw, dict) or not raw:
        raise Refusal(f"{name} must be an object of lineId: quantity")  # [I]
    return {as_int(k, "lineId"): as_int(v, "quantity") for k, v in raw.items()}


def ok(**fields: Any) -> dict[str, Any]:
    return {"status": "ok", **fields}
