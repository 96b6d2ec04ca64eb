"""Apply a remote write at most once per idempotency key, across crashes.

The intent is committed before the call and the outcome after it, so a process killed at
any point finds the effect again on restart: confirmed (skip), failed for certain (call
again), or pending with an unknown outcome. Pending is where callers differ: an idempotent
call is simply repeated, a non-idempotent one passes ``look`` to read the remote side first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from centrasync.errors import ConfigError, DataError, GiveUpError
from centrasync.store.base import BeginOutcome, Effect, Json, Move, RecordRef, StateStore

__all__ = ["EffectGaveUp", "apply_once"]

# A call refused for our credentials or the plugin's allow list certainly did nothing, and
# no record is at fault: its effect fails with this mark, and while the mark stands the
# attempts do not count towards giving up, so a revoked secret pauses a flow, parking none.
_REFUSED_FOR_CONFIG = "refused before acting: "


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
    before: Sequence[Move] = (),
    after: Callable[[Json], Sequence[Move]] | None = None,
) -> Json:
    """Run ``call`` unless effect ``key`` already succeeded; returns the recorded outcome.

    A :class:`GiveUpError` or :class:`DataError` from ``call`` marks the effect failed and
    propagates; a retryable error leaves it pending, so the next attempt is in doubt. A
    :class:`ConfigError` (credentials refused) marks it failed too and propagates, so the
    pass stops until a person fixes the setting; while that refusal is the effect's last
    error, ``max_attempts`` does not apply.
    ``before`` commits with the intent and ``after(outcome)`` with the outcome (or on its
    own when the effect had succeeded already), which saves a flow the transactions of
    marking its record "on its way" and "done".
    """
    begun = await state.begin_effect(key, ref, intent, moves=before)
    if begun.outcome is BeginOutcome.SUCCEEDED:
        if after is not None:
            # Confirming again keeps the first outcome; it only carries the moves.
            await state.complete_effect(
                key, begun.effect.outcome, moves=after(begun.effect.outcome)
            )
        return begun.effect.outcome
    refused = (begun.effect.error or "").startswith(_REFUSED_FOR_CONFIG)
    if begun.effect.attempts > max_attempts and not refused:
        raise EffectGaveUp(begun.effect)
    if begun.outcome is BeginOutcome.IN_DOUBT and look is not None:
        found = await look()
        if found is not None:
            await state.complete_effect(key, found, moves=after(found) if after else ())
            return found
    try:
        outcome = await call()
    except (GiveUpError, DataError) as exc:
        await state.fail_effect(key, str(exc))
        raise
    except ConfigError as exc:
        await state.fail_effect(key, _REFUSED_FOR_CONFIG + str(exc))
        raise
    await state.complete_effect(key, outcome, moves=after(outcome) if after else ())
    return outcome
