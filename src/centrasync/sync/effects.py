"""Apply a remote write at most once per idempotency key, across crashes.

The intent is committed before the call and the outcome after it, so a process killed at
any point finds the effect again on restart: confirmed (skip), failed for certain (call
again), or pending with an unknown outcome. Pending is where callers differ: an idempotent
call is simply repeated, a non-idempotent one passes ``look`` to read the remote side first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from centrasync.errors import DataError, GiveUpError
from centrasync.store.base import BeginOutcome, Effect, Json, RecordRef, StateStore

__all__ = ["EffectGaveUp", "apply_once"]


class EffectGaveUp(Exception):
    """The effect stayed unconfirmed through ``max_attempts`` tries; park its record."""

    def __init__(self, effect: Effect) -> None:
        super().__init__(
            f"{effect.key}: gave up after {effect.attempts - 1} attempts: "
            f"{effect.error or 'outcome never confirmed'}"
        )
        self.effect = effect


async def apply_once(
    state: StateStore,
    key: str,
    ref: RecordRef,
    intent: Json,
    call: Callable[[], Awaitable[Json]],
    *,
    look: Callable[[], Awaitable[Json | None]] | None = None,
    max_attempts: int = 8,
) -> Json:
    """Run ``call`` unless effect ``key`` already succeeded; returns the recorded outcome.

    A :class:`GiveUpError` or :class:`DataError` from ``call`` marks the effect failed and
    propagates; a retryable error leaves it pending, so the next attempt is in doubt.
    """
    begun = await state.begin_effect(key, ref, intent)
    if begun.outcome is BeginOutcome.SUCCEEDED:
        return begun.effect.outcome
    if begun.effect.attempts > max_attempts:
        raise EffectGaveUp(begun.effect)
    if begun.outcome is BeginOutcome.IN_DOUBT and look is not None:
        found = await look()
        if found is not None:
            await state.complete_effect(key, found)
            return found
    try:
        outcome = await call()
    except (GiveUpError, DataError) as exc:
        await state.fail_effect(key, str(exc))
        raise
    await state.complete_effect(key, outcome)
    return outcome
