"""The Centra webhook receiver: verify the raw body, write the events to the inbox, answer.

The handler does nothing that can be slow or fail remotely: it never calls Centra or the
WMS. A webhook is only a hint (it carries ids, may arrive twice, late or never), so the
engine processes inbox rows later and re-reads current state through the API.

Inbox layout: **one row per event**, keyed by ``dedup_key(store, type, action, id, date)``.
A single row per raw body (keyed by its hash) would be simpler, but Centra re-signs every
retry with a new ``t`` and batches events differently from call to call, so identical
events would arrive inside different bodies; keying each event by its own identity makes a
redelivery a no-op whatever call carries it, and lets the engine mark events processed
one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from centrasync.centra.webhooks import (
    SIGNATURE_HEADER,
    WebhookEvent,
    WebhookSignatureError,
    encode_event,
    parse_webhook,
    verify_signature,
)
from centrasync.config import Settings, StoreSettings
from centrasync.errors import ConfigError, DataError
from centrasync.logs import handover
from centrasync.store.base import StateStore, dedup_key

from .metrics import ReceiverMetrics

__all__ = ["BodyTooLarge", "WebhookReceiver", "event_key", "read_capped"]

_log = structlog.get_logger()


class BodyTooLarge(Exception):
    """The body is over the cap; raised before the rest of it is read into memory."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"body exceeds {limit} bytes")
        self.limit = limit


async def read_capped(request: Request, limit: int) -> bytes:
    """Read the body, refusing as soon as the declared length or the bytes read pass ``limit``.

    A declared ``Content-Length`` that is not a number is ignored: the streamed count still
    enforces the cap, so a lying header cannot smuggle a large body through.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _Unverified(Exception):
    """The call is not provably from Centra; ``reason`` labels the rejection metric."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _signed_time(header: str) -> str:
    """The ``t`` of an already verified signature header, as an ISO UTC instant."""
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            return datetime.fromtimestamp(int(value), UTC).isoformat()
    raise ValueError("verified signature header without 't'")


def event_key(store: str, event: WebhookEvent, signed_at: str) -> str:
    """The event's identity in the inbox.

    [I] Checkout-API (legacy) payloads carry no date; keying those on type, action and id
    alone would swallow every later change of the same id forever. They use the signed
    ``t`` instead: copies of one call sent in the same second collapse, while a later
    change (a later call) gets a row of its own. Integration-API events use their date.
    """
    when = event.date.astimezone(UTC).isoformat() if event.date is not None else signed_at
    return dedup_key(store, event.type, event.action, event.id, when)


class WebhookReceiver:
    """Handles ``POST /webhooks/centra/{store}`` for every configured store."""

    def __init__(
        self,
        settings: Settings,
        state: StateStore,
        metrics: ReceiverMetrics,
        clock: Callable[[], float],
    ) -> None:
        self._stores = {store.name: store for store in settings.stores}
        self._limit = settings.engine.max_webhook_body
        self._body_timeout = settings.engine.webhook_body_timeout
        self._state = state
        self._metrics = metrics
        self._clock = clock

    def _reject(
        self, store: str, status: int, reason: str, message: str, *, unread: bool = False
    ) -> Response:
        """Count and log the refusal in one line; an unauthenticated caller learns only the
        reason code. With the body ``unread`` the connection is closed after the answer, so
        the rest of the body is never waited for."""
        self._metrics.rejected.labels(store=store, reason=reason).inc()
        _log.warning("webhook rejected", store=store, reason=reason, detail=message)
        answer = message if status != 401 else f"webhook not accepted: {reason}"
        headers = {"Connection": "close"} if unread else None
        return JSONResponse({"error": answer}, status_code=status, headers=headers)

    async def handle(self, request: Request, store: str) -> Response:
        config = self._stores.get(store)
        if config is None:
            # Unknown names are not metric labels: anyone could inflate the series count.
            _log.warning("webhook for unknown store", store=store)
            return JSONResponse({"error": f"no store named {store!r}"}, status_code=404)
        self._metrics.received.labels(store=store).inc()
        try:
            # A body that trickles in would hold the connection for as long as its sender
            # likes; so would a crowd of them.
            async with asyncio.timeout(self._body_timeout):
                raw = await read_capped(request, self._limit)
            signed_at = self._verify(config, raw, request.headers.get(SIGNATURE_HEADER))
        except BodyTooLarge as exc:
            return self._reject(store, 413, "too_large", str(exc), unread=True)
        except TimeoutError:
            message = f"the body took longer than {self._body_timeout:g} s to arrive"
            return self._reject(store, 408, "slow_body", message, unread=True)
        except ClientDisconnect:
            # Nobody is left to answer; one line, not a traceback per caller.
            return self._reject(store, 400, "disconnected", "the caller left before its body")
        except _Unverified as exc:
            return self._reject(store, 401, exc.reason, str(exc))
        try:
            events = parse_webhook(raw, config.centra.timezone)
        except DataError as exc:
            return self._reject(store, 400, "unparseable", f"webhook body: {exc}")
        subjects = [f"{event.type}:{event.id}" for event in events]
        handover("received", store=store, subjects=subjects)
        await self._write(store, events, signed_at)
        handover("inbox", store=store, subjects=subjects)
        return JSONResponse({})

    def _verify(self, config: StoreSettings, raw: bytes, header: str | None) -> str:
        """The signed time (ISO UTC) of a call provably from Centra; else :class:`_Unverified`."""
        if config.webhook_secret is None:
            raise _Unverified(
                "no_secret",
                f"stores.{config.name}: no webhook secret configured; unsigned webhooks "
                "are never accepted (set centra.webhook_secret_env)",
            )
        try:
            verify_signature(
                raw, header, config.webhook_secret.get_secret_value(), now=self._clock()
            )
        except WebhookSignatureError as exc:
            raise _Unverified(exc.reason, f"bad {SIGNATURE_HEADER}: {exc.reason}") from None
        except ConfigError:
            raise _Unverified(
                "no_secret", f"stores.{config.name}: the webhook secret is empty"
            ) from None
        return _signed_time(header or "")

    async def _write(self, store: str, events: list[WebhookEvent], signed_at: str) -> None:
        added = duplicates = 0
        async with self._state.transaction() as tx:
            for event in events:
                if await tx.add_to_inbox(
                    store, event_key(store, event, signed_at), encode_event(event)
                ):
                    added += 1
                else:
                    duplicates += 1
        self._metrics.events.labels(store=store).inc(added)
        self._metrics.duplicates.labels(store=store).inc(duplicates)
        _log.info("webhook accepted", store=store, events=added, duplicates=duplicates)
