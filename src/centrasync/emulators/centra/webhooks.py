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
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, Field

from .model import Event

__all__ = [
    "DEFAULT_PLUGIN",
    "DeliveryAttempt",
    "WebhookPlugin",
    "WebhookPluginSettings",
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


class WebhookPluginSettings(BaseModel):
    """One webhook plugin's settings, plus the emulator's unreliability switches."""

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
        default_factory=lambda: ["order", "shipment"],
        description="event types sent: order, shipment, return, check_first, "
        "allocation_request, and [I] stock_change, purchase_order, purchase_order_delivery",
    )
    field_names: dict[str, str] = Field(
        default_factory=lambda: {"order": "orders", "shipment": "shipments"},
        description="legacy version: payload key per event type [I]",
    )
    drop_rate: float = Field(0.0, ge=0, le=1, description="share of calls never sent")
    duplicate_rate: float = Field(0.0, ge=0, le=1, description="share of calls sent twice")
    shuffle: bool = Field(False, description="shuffle the events inside each call")
    max_delay: float = Field(0.0, ge=0, description="random delay per call; reorders calls")
    seed: int | None = Field(None, description="makes drop/duplicate/shuffle repeatable")


class WebhookSettings(WebhookPluginSettings):
    """The emulator-wide plugin (``PUT /_emulator/webhook``): one target for every store."""

    store: str | None = Field(None, description="only events of this store uri; None = all")


@dataclass
class WebhookPlugin:
    """One plugin instance: the store it belongs to (None = every store) and its settings.

    Each has its own queue and random switches, so one plugin's drops never touch another.
    """

    id: int
    store: str | None
    settings: WebhookPluginSettings
    random: random.Random = field(default_factory=random.Random)
    pending: list[Event] = field(default_factory=list)

    def wants(self, event: Event) -> bool:
        s = self.settings
        return (
            s.url is not None and event.type in s.triggers and self.store in (None, event.store_uri)
        )


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST (or one call dropped on purpose), for ``GET /_emulator/webhook/deliveries``."""

    call: int
    copy: int
    attempt: int
    at: datetime
    plugin: int
    store: str | None
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


# The emulator-wide plugin of PUT /_emulator/webhook; store plugins are numbered from 1.
DEFAULT_PLUGIN = 0


class WebhookSender:
    """Webhook plugins: per store (Centra lets each integration have its own), plus one
    emulator-wide plugin for the simple case. Events emitted in one loop tick are
    collected into calls per plugin and delivered in tasks."""

    def __init__(
        self,
        zone_of: Callable[[str | None], ZoneInfo],
        clock: Callable[[], datetime],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._zone_of = zone_of
        self._clock = clock
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._calls = itertools.count(1)
        self._ids = itertools.count(DEFAULT_PLUGIN + 1)
        self._flush_scheduled = False
        self._default = WebhookPlugin(DEFAULT_PLUGIN, None, WebhookSettings())
        self._plugins: dict[int, WebhookPlugin] = {}
        self.deliveries: list[DeliveryAttempt] = []

    @property
    def settings(self) -> WebhookSettings:
        """The emulator-wide plugin's settings."""
        settings = self._default.settings
        assert isinstance(settings, WebhookSettings)
        return settings

    def configure(self, settings: WebhookSettings) -> None:
        """Set the emulator-wide plugin (``settings.store`` narrows it to one store)."""
        self._default.settings = settings
        self._default.store = settings.store
        self._default.random = random.Random(settings.seed)

    # -- plugins per store -------------------------------------------------------------

    def add_plugin(self, store: str, settings: WebhookPluginSettings) -> WebhookPlugin:
        plugin = WebhookPlugin(next(self._ids), store, settings, random.Random(settings.seed))
        self._plugins[plugin.id] = plugin
        return plugin

    def plugins(self, store: str) -> list[WebhookPlugin]:
        return [p for p in self._plugins.values() if p.store == store]

    def plugin(self, store: str, plugin_id: int) -> WebhookPlugin | None:
        found = self._plugins.get(plugin_id)
        return found if found is not None and found.store == store else None

    def update_plugin(self, plugin: WebhookPlugin, settings: WebhookPluginSettings) -> None:
        plugin.settings = settings
        plugin.random = random.Random(settings.seed)

    def remove_plugin(self, plugin: WebhookPlugin) -> None:
        del self._plugins[plugin.id]

    def reset(self) -> None:
        """Back to no plugins: queued events, the delivery log and every plugin gone."""
        self.forget()
        self._plugins.clear()
        self.configure(WebhookSettings())

    # -- sending -----------------------------------------------------------------------

    def _all(self) -> list[WebhookPlugin]:
        return [self._default, *self._plugins.values()]

    def enqueue(self, event: Event) -> None:
        """World listener: queue the event for every plugin that would send it."""
        takers = [plugin for plugin in self._all() if plugin.wants(event)]
        for plugin in takers:
            plugin.pending.append(event)
        if not takers or self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet (e.g. seeding at start-up): drain() sends them
        self._flush_scheduled = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        for plugin in self._all():
            events, plugin.pending = plugin.pending, []
            size = plugin.settings.max_events
            for start in range(0, len(events), size):
                task = asyncio.get_running_loop().create_task(
                    self._deliver(plugin, next(self._calls), events[start : start + size])
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every queued event has been delivered, retried out or dropped."""
        while True:
            if any(plugin.pending for plugin in self._all()):
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
        """Drop queued events and the delivery log."""
        for plugin in self._all():
            plugin.pending.clear()
        self.deliveries.clear()

    def payload(
        self, events: list[Event], settings: WebhookPluginSettings | None = None
    ) -> dict[str, Any]:
        s = settings or self.settings
        if s.version == "legacy":
            grouped: dict[str, list[str]] = {}
            for event in events:
                key = s.field_names.get(event.type, f"{event.type}s")
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

    async def _deliver(self, plugin: WebhookPlugin, call: int, events: list[Event]) -> None:
        s = plugin.settings
        if s.shuffle:
            events = list(events)
            plugin.random.shuffle(events)
        body = encode_body(self.payload(events, s))
        listed = [self._event_json(e) for e in events]
        if plugin.random.random() < s.drop_rate:
            self._log(plugin, _Call(call, 0, 0, body, listed), "dropped", None, None, None)
            return
        copies = 2 if plugin.random.random() < s.duplicate_rate else 1
        delay = plugin.random.uniform(0, s.max_delay) if s.max_delay else 0.0
        if delay:
            await asyncio.sleep(delay)
        for copy in range(copies):
            await self._send(plugin, call, copy, body, listed)

    async def _send(
        self, plugin: WebhookPlugin, call: int, copy: int, body: str, listed: list[dict[str, Any]]
    ) -> None:
        s = plugin.settings
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
                    s.url or "", content=body.encode(), headers=headers, timeout=s.timeout
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            sent = _Call(call, copy, attempt, body, listed)
            # [I] Any 2xx counts as delivered.
            if status is not None and 200 <= status < 300:
                self._log(plugin, sent, "delivered", status, None, header)
                return
            last = attempt == s.retries
            self._log(plugin, sent, "gave_up" if last else "failed", status, error, header)
            if not last:
                await asyncio.sleep(s.retry_delay * 2**attempt)

    def _log(
        self,
        plugin: WebhookPlugin,
        sent: _Call,
        outcome: Literal["delivered", "failed", "gave_up", "dropped"],
        status: int | None,
        error: str | None,
        signature: str | None,
    ) -> None:
        self.deliveries.append(
            DeliveryAttempt(
                call=sent.call,
                copy=sent.copy,
                attempt=sent.attempt,
                at=self._clock(),
                plugin=plugin.id,
                store=plugin.store,
                url=plugin.settings.url or "",
                outcome=outcome,
                status=status,
                error=error,
                events=sent.events,
                body=sent.body,
                signature=signature,
            )
        )


@dataclass(frozen=True)
class _Call:
    """Which call, copy and attempt a logged POST was, and what it carried."""

    call: int
    copy: int
    attempt: int
    body: str
    events: list[dict[str, Any]]
