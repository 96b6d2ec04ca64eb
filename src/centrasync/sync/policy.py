"""One way to run a record's step: guard it, apply its effects once, park it for a person.

Every flow moves its records through the same few motions, and they must behave alike:

* a step returns what became of the record, an :class:`Outcome`, or a :class:`Park`
  verdict when a person has to look;
* a retryable error notes the failure on the record and leaves it for the next pass (or,
  for flows whose cursor must not pass it, stops the pass);
* a refusal (:class:`~centrasync.errors.GiveUpError`) parks the record in the flow's refused
  state, bad data (:class:`~centrasync.errors.DataError`) in its invalid state, an effect
  that never confirmed in its failed state;
* parking moves the record and writes its dead letter in one store call: the engine never
  retries a parked state, so a parked record without its dead letter would be lost to
  every person;
* :class:`~centrasync.errors.LeaseLostError` passes through: the pass stops.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

import structlog

from centrasync.errors import DataError, GiveUpError, LeaseLostError, RetryLaterError, redact
from centrasync.store.base import (
    Abandon,
    EffectBegin,
    Json,
    Move,
    NewRecord,
    RecordRef,
    StateStore,
    Step,
)

from .effects import Confirmations, EffectGaveUp, apply_once
from .ports import FlowEvents

__all__ = ["Ladder", "Outcome", "Park", "ParkedStates", "RecordPolicy", "Verdict"]

_log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    """What a step did with its record."""

    MOVED = "moved"
    """The record reached a new state."""
    UNCHANGED = "unchanged"
    """Nothing to do (not ours, not due, done already)."""
    RETRY_LATER = "retry_later"
    """A retryable error; noted on the record, the next pass tries again."""
    PARKED = "parked"
    """Parked for a person, with a dead letter."""


@dataclass(frozen=True, slots=True)
class Park:
    """A step's verdict that a person must look: park the record in ``to``.

    ``payload`` goes to the dead letter; ``request`` (when given) replaces the record's
    last request, so the ledger shows what was refused; ``centra_id`` fills the record's
    Centra id if it is created by parking.
    """

    to: str
    reason: str
    payload: Json = None
    request: Json = None
    centra_id: str | None = None


Verdict: TypeAlias = Outcome | Park


@dataclass(frozen=True, slots=True)
class ParkedStates:
    """A flow's parked states for the three ways a record fails for good."""

    invalid: str
    """The record's data cannot be used (:class:`DataError`); names the field."""
    refused: str
    """A remote system refused the write (:class:`GiveUpError`)."""
    failed: str
    """An effect kept failing until the attempt limit."""


@dataclass(frozen=True)
class Ladder:
    """A flow's states in the order records climb them; an automated step never goes down.

    Each rung is a set of states of equal rank. A step to a state on rung *n* is taken
    only from a state on rungs 0 to *n*; from a higher one it is left out by the store
    (see ``Step.only_from``), so a late write of an earlier stage cannot undo a later one.
    States on no rung are not guarded.
    """

    rungs: tuple[frozenset[str], ...]

    @classmethod
    def of(cls, *rungs: Iterable[str]) -> Ladder:
        return cls(tuple(frozenset(rung) for rung in rungs))

    def only_from(self, to: str) -> frozenset[str] | None:
        for index, rung in enumerate(self.rungs):
            if to in rung:
                return frozenset().union(*self.rungs[: index + 1])
        return None


@dataclass(frozen=True)
class RecordPolicy:
    """How one flow guards its records' steps, applies their effects and parks them.

    ``stop_on_retry``: a retryable error ends the pass (after it is noted on the record)
    instead of leaving only that record for the next pass: for flows whose cursor must
    stay behind the record.
    """

    state: StateStore
    events: FlowEvents
    store: str
    flow: str
    parked: ParkedStates
    max_attempts: int = 8
    ladder: Ladder | None = None
    stop_on_retry: bool = False

    def step(
        self,
        ref: RecordRef,
        to: str,
        *,
        note: str | None = None,
        request: Json = None,
        response: Json = None,
        error: str | None = None,
    ) -> Step:
        """A move to ``to`` that the store leaves out if it would climb down the ladder."""
        only_from = None if self.ladder is None else self.ladder.only_from(to)
        return Step(ref, to, note, request, response, error, only_from)

    async def move(
        self,
        ref: RecordRef,
        to: str,
        *,
        note: str,
        response: Json = None,
        finished: bool = False,
    ) -> None:
        """Move one record on, guarded by the ladder.

        ``finished``: the record is done; any effect of it still pending is settled as
        abandoned in the same transaction (see ``EffectStatus.ABANDONED``).
        """
        step = self.step(ref, to, note=note, response=response)
        await self.state.transition_records(
            [step, *self.finishing(ref, to)] if finished else [step]
        )

    @staticmethod
    def finishing(ref: RecordRef, to: str) -> list[Abandon]:
        """The move that settles a finishing record's pending effects."""
        return [Abandon(ref, f"the record was {to} meanwhile")]

    async def run(
        self,
        ref: RecordRef,
        step: Callable[[], Awaitable[Verdict]],
        *,
        payload: Json = None,
        request: Json = None,
    ) -> Outcome:
        """Run one record's step; what it raises becomes an outcome, never an exception.

        Except :class:`LeaseLostError`, and a retryable error when ``stop_on_retry``. A
        record parked for what the step raised gets ``payload`` and ``request`` (see
        :class:`Park`).
        """
        try:
            verdict = await step()
        except LeaseLostError:
            raise
        except RetryLaterError as exc:
            await self.note_retry(ref, exc)
            if self.stop_on_retry:
                raise
            return Outcome.RETRY_LATER
        except GiveUpError as exc:
            verdict = Park(self.parked.refused, str(exc), payload, request)
        except DataError as exc:
            verdict = Park(self.parked.invalid, str(exc), payload, request)
        if isinstance(verdict, Park):
            await self.park(ref, verdict)
            return Outcome.PARKED
        return verdict

    async def effect(
        self,
        key: str,
        ref: RecordRef,
        intent: Json,
        call: Callable[[], Awaitable[Json]],
        *,
        look: Callable[[], Awaitable[Json | None]] | None = None,
        before: Sequence[Move] = (),
        after: Callable[[Json], Sequence[Move]] | None = None,
        begun: EffectBegin | None = None,
        confirmations: Confirmations | None = None,
    ) -> Json | Park:
        """Apply ``call`` at most once per ``key`` (see :func:`.effects.apply_once`).

        Returns the outcome, or a :class:`Park` verdict in the failed state once the effect
        failed ``max_attempts`` times; errors of the call propagate to :meth:`run`.
        """
        try:
            return await apply_once(
                self.state,
                key,
                ref,
                intent,
                call,
                look=look,
                max_attempts=self.max_attempts,
                before=before,
                after=after,
                begun=begun,
                confirmations=confirmations,
            )
        except EffectGaveUp as exc:
            return Park(self.parked.failed, str(exc), intent)

    async def park(self, ref: RecordRef, verdict: Park) -> None:
        """Park the record: its parked state and its dead letter in one store call."""
        moves: list[Move] = [
            NewRecord(ref, centra_id=verdict.centra_id),
            Step(
                ref,
                verdict.to,
                note=verdict.reason,
                request=verdict.request,
                error=verdict.reason,
            ),
        ]
        await self.state.park(ref, verdict.reason, verdict.payload, moves=moves)
        self.events.parked(self.store, self.flow, verdict.to)
        _log.error("alert: record parked", store=self.store, record=str(ref), reason=verdict.reason)

    async def note_retry(self, ref: RecordRef, exc: Exception) -> None:
        """Count the failure and note it on the record, if it has one yet."""
        self.events.failed(self.store, self.flow)
        await self.state.note(ref, "will retry", error=str(exc))
        _log.warning("will retry", store=self.store, record=str(ref), error=redact(str(exc)))
