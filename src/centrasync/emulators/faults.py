"""Switchable faults for every emulator: 429 with Retry-After, 5xx, latency, bad bodies, drops.

A :class:`FaultPlan` holds rules matched by method and path glob; :class:`FaultMiddleware`
applies them in front of any ASGI app (control routes under ``/_emulator/`` are exempt, so
a test can always reach the control API). :func:`faults_router` exposes the plan over HTTP,
and :class:`EmulatorTransport` runs an emulator in-process for httpx, turning a simulated
connection drop into the same ``httpx.RemoteProtocolError`` a real socket would give.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
import random
from enum import StrEnum
from typing import Any

import httpx
from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ConnectionDropped",
    "EmulatorTransport",
    "FaultKind",
    "FaultMiddleware",
    "FaultPlan",
    "FaultRule",
    "faults_router",
]


class FaultKind(StrEnum):
    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    LATENCY = "latency"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    DROP = "drop"


class FaultRule(BaseModel):
    """One fault: which requests it hits, how often, and what it does."""

    kind: FaultKind
    method: str = Field("*", description="HTTP method, or * for any")
    path: str = Field("*", description="fnmatch glob on the request path, e.g. /api/wms/shipments*")
    rate: float = Field(1.0, ge=0.0, le=1.0, description="probability per matching request")
    times: int | None = Field(None, ge=1, description="stop after this many hits; None = forever")
    status: int = Field(503, ge=500, le=599, description="status for server_error")
    retry_after: str = Field("1", description="Retry-After value for rate_limit")
    latency: float = Field(0.5, ge=0.0, description="seconds of delay for latency")


class StoredRule(FaultRule):
    id: int
    hits: int = 0


class FaultPlan:
    """The active rules; ``seed`` makes the random choices repeatable."""

    def __init__(self, seed: int | None = None) -> None:
        self._rules: list[StoredRule] = []
        self._ids = itertools.count(1)
        self._random = random.Random(seed)
        self.injected: dict[str, int] = {}

    @property
    def rules(self) -> list[StoredRule]:
        return list(self._rules)

    def add(self, rule: FaultRule) -> StoredRule:
        stored = StoredRule(id=next(self._ids), **rule.model_dump())
        self._rules.append(stored)
        return stored

    def remove(self, rule_id: int) -> bool:
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) != before

    def clear(self) -> None:
        self._rules.clear()

    def choose(self, method: str, path: str) -> StoredRule | None:
        for rule in self._rules:
            if rule.method not in ("*", method.upper()):
                continue
            if not fnmatch.fnmatchcase(path, rule.path):
                continue
            if rule.times is not None and rule.hits >= rule.times:
                continue
            if self._random.random() >= rule.rate:
                continue
            rule.hits += 1
            self.injected[rule.kind.value] = self.injected.get(rule.kind.value, 0) + 1
            return rule
        return None


class ConnectionDropped(Exception):
    """Raised inside the app to simulate the server closing the connection mid-response."""


async def _send_plain(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    all_headers = [(b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


class FaultMiddleware:
    """Apply the plan's faults to every request outside the exempt prefixes."""

    def __init__(
        self, app: ASGIApp, plan: FaultPlan, exempt_prefixes: tuple[str, ...] = ("/_emulator",)
    ) -> None:
        self.app = app
        self.plan = plan
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        rule = self.plan.choose(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        json_type = [(b"content-type", b"application/json")]
        if rule.kind is FaultKind.RATE_LIMIT:
            body = json.dumps({"status": "no", "msg": "Too Many Requests"}).encode()
            await _send_plain(
                send, 429, body, [*json_type, (b"retry-after", rule.retry_after.encode())]
            )
        elif rule.kind is FaultKind.SERVER_ERROR:
            await _send_plain(
                send, rule.status, b"Internal Server Error", [(b"content-type", b"text/plain")]
            )
        elif rule.kind is FaultKind.LATENCY:
            await asyncio.sleep(rule.latency)
            await self.app(scope, receive, send)
        elif rule.kind is FaultKind.MALFORMED:
            await _send_plain(send, 200, b"<html><body>Gateway hiccup</body></html>", json_type)
        elif rule.kind is FaultKind.TRUNCATED:
            await self._truncated(scope, receive, send)
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"4096"), *json_type],
                }
            )
            await send(
                {"type": "http.response.body", "body": b'{"status": "ok", ', "more_body": True}
            )
            raise ConnectionDropped(scope["path"])

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        cut = body[: max(1, len(body) // 2)]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await _send_plain(send, int(start.get("status", 200)), cut, headers)


def faults_router(plan: FaultPlan) -> APIRouter:
    """Control routes: list, add, remove and clear fault rules."""
    router = APIRouter(prefix="/_emulator/faults", tags=["faults"])

    @router.get("")
    async def list_faults() -> dict[str, Any]:
        return {"rules": [r.model_dump() for r in plan.rules], "injected": plan.injected}

    @router.post("")
    async def add_fault(rule: FaultRule) -> dict[str, Any]:
        return plan.add(rule).model_dump()

    @router.delete("")
    async def clear_faults() -> dict[str, Any]:
        plan.clear()
        return {"rules": []}

    @router.delete("/{rule_id}")
    async def remove_fault(rule_id: int) -> dict[str, Any]:
        return {"removed": plan.remove(rule_id)}

    return router


class EmulatorTransport(httpx.AsyncBaseTransport):
    """Serve an emulator app in-process; a simulated drop becomes ``RemoteProtocolError``."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from exc
