"""Apply a remote write at most once per idempotency key, across crashes.

The intent is committed before the call and the outcome after it, so a process killed at
any point finds the effect again on restart: confirmed (skip), failed for certain (call
again), or pending with an unknown outcome. Pending is where callers differ: an idempotent
call is simply repeated, a non-idempotent one passes ``look`` to read the remote side first.

Only attempts known to have failed count towards giving up: a call cut short by the process
dying may well have landed, and an engine restarted over and over must go on looking for
it, not park a shipment the warehouse is about to ship.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from centrasync.errors import ConfigError, DataError, GiveUpError, RetryLaterError
from centrasync.store.base import (
    BeginOutcome,
    Effect,
    EffectBegin,
    EffectStatus,
    Json,
    Move,
    RecordRef,
    StateStore,
)

__all__ = ["Confirmations", "EffectGaveUp", "apply_once"]


class EffectGaveUp(Exception):
    """The effect failed ``max_attempts`` times without confirming; park its record."""

    def __init__(self, effect: Effect) -> None:
        super().__init__(
            f"{effect.key}: gave up after {effect.attempts} failed attempts: "
            f"{effect.error or 'outcome never confirmed'}"
        )
        self.effect = effect


@dataclass
class Confirmations:
    """Outcomes of calls that landed, held back to commit with the caller's next writes.

    For a flow writing many records one call each, where a commit costs more than its
    statements: the confirmation rides with the next effect's intent. Until committed an
    effect is pending, as if the process had died right after the call, so the holder
    commits what it holds with each effect it begins: then at most one effect is in doubt,
    or two if it begins the next while a call is on the wire.
    """

    held: list[tuple[str, Json, Sequence[Move]]] = field(default_factory=list)
    _confirming: int = field(default=0, init=False, repr=False)

    def add(self, key: str, outcome: Json, moves: Sequence[Move]) -> None:
        self.held.append((key, outcome, moves))

    async def confirm(self, tx: StateStore) -> None:
        """Confirm the outcomes held now with their moves in ``tx``; :meth:`clear` once it commits.

        One added meanwhile (a call landing while ``tx`` is open) stays held for the next.
        """
        self._confirming = len(self.held)
        for key, outcome, moves in self.held[: self._confirming]:
            await tx.complete_effect(key, outcome, moves=moves)

    def clear(self) -> None:
        """Drop the outcomes the last :meth:`confirm` committed."""
        del self.held[: self._confirming]
        self._confirming = 0

    async def commit(self, state: StateStore) -> None:
        """Confirm every held outcome with its moves in one transaction of its own."""
        if not self.held:
            return
        async with state.transaction() as tx:
            await self.confirm(tx)
        self.clear()


async def apply_once(
    state: StateStore,
    key: str,
    ref: RecordRef,
    intent: Json,
    call: Callable[[], Awaitable[Json]],
    *,
    look: Callable[[], Awaitable[Json | None]] | None = None,
    max_attempts: int = 8,
    before: Sequence[Move] = (),
    after: Callable[[Json], Sequence[Move]] | None = None,
    begun: EffectBegin | None = None,
    confirmations: Confirmations | None = None,
) -> Json:
    """Run ``call`` unless effect ``key`` already succeeded; returns the recorded outcome.

    A :class:`GiveUpError` or :class:`DataError` from ``call`` marks the effect failed and
    propagates, unless the effect was confirmed meanwhile by another holder of the work (a
    refusal of the repeat, then, not of the write): its outcome is returned. The same
    holds when a call in doubt is refused and ``look`` now finds what the earlier attempt
    did: it was still on its way when ``look`` first missed it. A retryable
    error leaves the effect pending, so the next attempt is in doubt. A
    :class:`ConfigError` (credentials refused) marks it failed without counting the
    attempt and propagates, so the pass stops until a person fixes the setting.
    ``before`` commits with the intent and ``after(outcome)`` with the outcome (or on its
    own when the effect had succeeded already), which saves a flow the transactions of
    marking its record "on its way" and "done".

    ``begun``: the caller began the effect already (its intent and ``before`` committed,
    with other records' in one transaction), and this is what the store answered.
    ``confirmations``: the confirmation of a call that landed is held there instead of
    committed at once (see :class:`Confirmations`).
    """
    if begun is None:
        begun = await state.begin_effect(key, ref, intent, moves=before)
    if begun.outcome is BeginOutcome.SUCCEEDED:
        return await _confirmed(state, key, begun.effect.outcome, after)
    if begun.effect.attempts >= max_attempts:
        raise EffectGaveUp(begun.effect)
    if begun.outcome is BeginOutcome.IN_DOUBT and look is not None:
        found = await look()
        if found is not None:
            return await _found(state, key, found, after)
    try:
        outcome = await call()
    except (GiveUpError, DataError) as exc:
        if begun.outcome is BeginOutcome.IN_DOUBT and look is not None:
            # The earlier attempt may have landed after the look (it was still on its
            # way), and the remote side refuses the repeat because of it.
            found = await look()
            if found is not None:
                return await _found(state, key, found, after)
        failed = await state.fail_effect(key, str(exc))
        if failed.status is EffectStatus.SUCCEEDED:
            return await _confirmed(state, key, failed.outcome, after)
        raise
    except ConfigError as exc:
        await state.fail_effect(key, f"refused before acting: {exc}", counted=False)
        raise
    except RetryLaterError as exc:
        await state.note_effect_error(key, str(exc))
        raise
    moves = after(outcome) if after else ()
    if confirmations is not None:
        confirmations.add(key, outcome, moves)
    else:
        await state.complete_effect(key, outcome, moves=moves)
    return outcome


async def _found(
    state: StateStore, key: str, found: Json, after: Callable[[Json], Sequence[Move]] | None
) -> Json:
    """Confirm the effect with what ``look`` found of it on the remote side."""
    await state.complete_effect(key, found, moves=after(found) if after else ())
    return found


async def _confirmed(
    state: StateStore, key: str, outcome: Json, after: Callable[[Json], Sequence[Move]] | None
) -> Json:
    if after is not None:
        # Confirming again keeps the first outcome; it only carries the moves.
        await state.complete_effect(key, outcome, moves=after(outcome))
    return outcome
