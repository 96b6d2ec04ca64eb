"""One record at a time: run a flow's step, turn its failures into ledger entries.

The report flows (in-deliveries, returns) share this bookkeeping: a retryable error leaves
the record for the next pass with the error noted, a refusal or bad data parks it for a
person, and an effect that never confirms within the attempt limit parks it as failed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn

import structlog

from centrasync.errors import DataError, GiveUpError, RetryLaterError, redact
from centrasync.store.base import Json, RecordRef, StateStore

from .effects import EffectGaveUp, apply_once
from .ports import FlowEvents

__all__ = ["Parked", "RecordSteps"]

_log = structlog.get_logger(__name__)


class Parked(Exception):
    """The record was parked; stop working on it."""


@dataclass(frozen=True)
class RecordSteps:
    """Guards and parks records of one flow; the three names are the flow's parked states."""

    state: StateStore
    events: FlowEvents
    store: str
    flow: str
    invalid: str
    refused: str
    failed: str
    max_attempts: int = 8

    async def guarded(self, ref: RecordRef, step: Callable[[], Awaitable[bool]]) -> bool:
        """Run one record's step; failures are recorded on the record, never raised."""
        try:
            return await step()
        except Parked:
            return False
        except RetryLaterError as exc:
            self.events.failed(self.store, self.flow)
            record = await self.state.get_record(ref)
            if record is not None:
                await self.state.transition(ref, record.state, note="will retry", error=str(exc))
            _log.warning("will retry", store=self.store, record=str(ref), error=redact(str(exc)))
            return False
        except GiveUpError as exc:
            await self.park_quietly(ref, self.refused, str(exc), None)
            return False
        except DataError as exc:
            await self.park_quietly(ref, self.invalid, str(exc), None)
            return False

    async def effect(
        self,
        key: str,
        ref: RecordRef,
        intent: Json,
        call: Callable[[], Awaitable[Json]],
        *,
        look: Callable[[], Awaitable[Json | None]] | None = None,
    ) -> Json:
        """Apply ``call`` at most once per ``key``; parks the record when it never confirms."""
        try:
            return await apply_once(
                self.state, key, ref, intent, call, look=look, max_attempts=self.max_attempts
            )
        except EffectGaveUp as exc:
            await self.park(ref, self.failed, str(exc), intent)

    async def park(self, ref: RecordRef, to: str, reason: str, payload: Json) -> NoReturn:
        """Park the record for a person and stop this step (raises :class:`Parked`)."""
        await self.state.upsert_record(ref)
        await self.state.transition(ref, to, note=reason, error=reason)
        await self.state.park(ref, reason, payload)
        self.events.parked(self.store, self.flow, to)
        _log.error("alert: record parked", store=self.store, record=str(ref), reason=reason)
        raise Parked

    async def park_quietly(self, ref: RecordRef, to: str, reason: str, payload: Json) -> None:
        try:
            await self.park(ref, to, reason, payload)
        except Parked:
            return
