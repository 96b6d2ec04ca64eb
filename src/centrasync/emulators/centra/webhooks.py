"""The Centra Webhook plugin: batches events, signs them and posts them, unreliably on demand.

Centra guarantees neither delivery nor order, and the same action may arrive twice; the
switches here (drop, duplicate, shuffle, delay, failing receiver + retries) let a test
prove that a receiver copes. Every attempt is recorded for read-back.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, Field

from .model import Event

__all__ = [
    "DeliveryAttempt",
    "WebhookSender",
    "WebhookSettings",
    "encode_body",
    "sign",
    "signature_header",
]


def sign(secret: str, body: str, timestamp: int) -> str:
    """Lowercase hex HMAC-SHA256 over ``"<t>.<raw body>"``, the raw body still url-encoded."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: str, timestamp: int) -> str:
    return f"t={timestamp},v1={sign(secret, body, timestamp)}"


def encode_body(payload: dict[str, Any]) -> str:
    """``payload=<url-encoded compact JSON>``, as PHP's ``json_encode`` would write it.

    [I] Spaces (only in event dates) become ``%20``, which PHP's ``rawurlencode`` and JS's
    ``encodeURIComponent`` agree on; the payload never holds ``!'()*~``, where they differ,
    so a receiver that re-encodes the decoded JSON computes the same signature.
    """
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return "payload=" + quote(text, safe="")


class WebhookSettings(BaseModel):
    """The plugin's settings, plus the emulator's unreliability switches."""

    url: str | None = Field(None, description="receiver URL; None = webhooks off")
    secret: str | None = Field(None, repr=False, description="endpoint secret; None = unsigned")
    version: Literal["integration", "legacy"] = Field(
        "integration", description="integration = Integration API events; legacy = Checkout API"
    )
    max_events: int = Field(100, ge=1, description="max number of events per webhook call")
    timeout: float = Field(5.0, gt=0, description="seconds before a call counts as failed")
    retries: int = Field(0, ge=0, le=3, description="retries after a failure; then dropped")
    retry_delay: float = Field(1.0, ge=0, description="first retry delay; doubles each retry")
    triggers: list[str] = Field(
        default_factory=lambda: ["order", "shipment"], description="event types sent"
    )
    field_names: dict[str, str] = Field(
        default_factory=lambda: {"order": "orders", "shipment": "shipments"},
        description="legacy version: payload key per event type [I]",
    )
    store: str | None = Field(None, description="only events of this store uri; None = all")
    drop_rate: float = Field(0.0, ge=0, le=1, description="share of calls never sent")
    duplicate_rate: float = Field(0.0, ge=0, le=1, description="share of calls sent twice")
    shuffle: bool = Field(False, description="shuffle the events inside each call")
    max_delay: float = Field(0.0, ge=0, description="random delay per call; reorders calls")
    seed: int | None = Field(None, description="makes drop/duplicate/shuffle repeatable")


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST (or one call dropped on purpose), for ``GET /_emulator/webhook/deliveries``."""

    call: int
    copy: int
    attempt: int
    at: datetime
    url: str
    outcome: Literal["delivered", "failed", "gave_up", "dropped"]
    status: int | None
    error: str | None
    events: list[dict[str, Any]]
    body: str
    signature: str | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


class WebhookSender:
    """Collects events emitted in one loop tick into calls and delivers them in tasks."""

    def __init__(
        self,
        zone_of: Callable[[str], ZoneInfo],
        clock: Callable[[], datetime],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._zone_of = zone_of
        self._clock = clock
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._pending: list[Event] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._calls = itertools.count(1)
        self._flush_scheduled = False
        self.settings = WebhookSettings()
        self._random = random.Random()
        self.deliveries: list[DeliveryAttempt] = []

    def configure(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self._random = random.Random(settings.seed)

    def enqueue(self, event: Event) -> None:
        """World listener: queue the event if the plugin would send it."""
        s = self.settings
        if s.url is None or event.type not in s.triggers:
            return
        if s.store is not None and event.store_uri != s.store:
            return
        self._pending.append(event)
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet (e.g. seeding at start-up): drain() sends them
        self._flush_scheduled = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        events, self._pending = self._pending, []
        size = self.settings.max_events
        for start in range(0, len(events), size):
            task = asyncio.get_running_loop().create_task(
                self._deliver(next(self._calls), events[start : start + size])
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every queued event has been delivered, retried out or dropped."""
        while True:
            if self._pending:
                self._flush()
            if not self._tasks:
                return
            await asyncio.gather(*list(self._tasks))

    async def aclose(self) -> None:
        await self.drain()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def forget(self) -> None:
        """Drop queued events and the delivery log (control API reset)."""
        self._pending.clear()
        self.deliveries.clear()

    def payload(self, events: list[Event]) -> dict[str, Any]:
        if self.settings.version == "legacy":
            grouped: dict[str, list[str]] = {}
            for event in events:
                key = self.settings.field_names.get(event.type, f"{event.type}s")
                ids = grouped.setdefault(key, [])
                if str(event.id) not in ids:
                    ids.append(str(event.id))
            return grouped
        return {"events": [self._event_json(e) for e in events]}

    def _event_json(self, event: Event) -> dict[str, Any]:
        # [I] "date" is merchant-local without offset: the event's store zone.
        local = event.at.astimezone(self._zone_of(event.store_uri))
        body: dict[str, Any] = {
            "type": event.type,
            "action": event.action,
            "date": local.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "id": event.id,
        }
        if event.data is not None:
            body["data"] = event.data
        return body

    async def _deliver(self, call: int, events: list[Event]) -> None:
        s = self.settings
        url = s.url or ""
        if s.shuffle:
            events = list(events)
            self._random.shuffle(events)
        payload = self.payload(events)
        body = encode_body(payload)
        listed = [self._event_json(e) for e in events]
        if self._random.random() < s.drop_rate:
            self._log(call, 0, 0, url, "dropped", None, None, listed, body, None)
            return
        copies = 2 if self._random.random() < s.duplicate_rate else 1
        delay = self._random.uniform(0, s.max_delay) if s.max_delay else 0.0
        if delay:
            await asyncio.sleep(delay)
        for copy in range(copies):
            await self._send(call, copy, url, body, listed)

    async def _send(
        self, call: int, copy: int, url: str, body: str, listed: list[dict[str, Any]]
    ) -> None:
        s = self.settings
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport or httpx.AsyncHTTPTransport()
            )
        for attempt in range(s.retries + 1):
            timestamp = int(self._clock().timestamp())
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "*/*"}
            header = signature_header(s.secret, body, timestamp) if s.secret else None
            if header:
                headers["X-Centra-Signature"] = header
            status: int | None = None
            error: str | None = None
            try:
                response = await self._client.post(
                    url, content=body.encode(), headers=headers, timeout=s.timeout
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            # [I] Any 2xx counts as delivered.
            if status is not None and 200 <= status < 300:
                self._log(call, copy, attempt, url, "delivered", status, None, listed, body, header)
                return
            last = attempt == s.retries
            outcome: Literal["failed", "gave_up"] = "gave_up" if last else "failed"
            self._log(call, copy, attempt, url, outcome, status, error, listed, body, header)
            if not last:
                await asyncio.sleep(s.retry_delay * 2**attempt)

    def _log(
        self,
        call: int,
        copy: int,
        attempt: int,
        url: str,
        outcome: Literal["delivered", "failed", "gave_up", "dropped"],
        status: int | None,
        error: str | None,
        events: list[dict[str, Any]],
        body: str,
        signature: str | None,
    ) -> None:
        self.deliveries.append(
            DeliveryAttempt(
                call=call,
                copy=copy,
                attempt=attempt,
                at=self._clock(),
                url=url,
                outcome=outcome,
                status=status,
                error=error,
                events=events,
                body=body,
                signature=signature,
            )
        )
