"""Working under a lease: the fence every write carries, and when to stop sending.

Every loop of the engine works while its process holds the loop's lease. A holder can
stall (SIGSTOP, a long pause of the host or VM) past the lease's time to live, and another
process then takes the lease over and does the same work. Two things stop the stalled one
when it resumes, before it changes or sends anything:

* its writes go through a view of the state store fenced with the lease's token
  (:meth:`~centrasync.store.base.StateStore.fenced`), which the store refuses once a newer
  holder exists;
* its requests are checked just before they go out (:func:`centrasync.http.guarding_sends`)
  against :meth:`LeaseHold.check`: by this host's monotonic clock, counted from before the
  last successful renewal was asked for, the lease may have run out. That costs no I/O,
  so a process resumed after a long pause sends nothing, not even the writes that were
  queued when it stopped.

Either refusal raises :class:`~centrasync.errors.LeaseLostError`, which ends the pass.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from centrasync.errors import LeaseLostError
from centrasync.http.guard import guarding_sends
from centrasync.store.base import Fence, Lease

__all__ = ["SAFE_SHARE", "LeaseHold", "while_holding"]

T = TypeVar("T")

SAFE_SHARE = 0.8
"""The share of the time to live a holder trusts itself with after each renewal: what is
left over covers a renewal answered late and clocks running at slightly different rates."""


@dataclass
class LeaseHold:
    """One loop's hold on its lease; a :class:`~centrasync.store.base.FenceHolder`."""

    name: str
    ttl: timedelta
    clock: Callable[[], float] = time.monotonic
    _fence: Fence | None = field(default=None, init=False)
    _trusted_until: float = field(default=-math.inf, init=False)
    _renewed_at: float = field(default=-math.inf, init=False)

    @property
    def token(self) -> int | None:
        """The token of the lease held now, for the store's lease calls."""
        return None if self._fence is None else self._fence.token

    @property
    def held(self) -> bool:
        return self._fence is not None

    def taken(self, lease: Lease, asked_at: float, ttl: timedelta) -> None:
        """The store gave the lease for ``ttl`` from a moment after ``asked_at``."""
        self._fence = lease.fence
        self.renewed(asked_at, ttl)

    def renewed(self, asked_at: float, ttl: timedelta) -> None:
        self.ttl = ttl
        self._renewed_at = asked_at
        self._trusted_until = asked_at + ttl.total_seconds() * SAFE_SHARE

    def renewed_within(self, seconds: float) -> bool:
        """Held, and renewed (asked for) less than ``seconds`` ago by this host's clock."""
        return self._fence is not None and self.clock() - self._renewed_at < seconds

    def let_go(self) -> None:
        """The lease was released, or could not be taken or renewed."""
        self._fence = None
        self._renewed_at = -math.inf
        self._trusted_until = -math.inf

    def current_fence(self) -> Fence:
        if self._fence is None:
            raise LeaseLostError(f"lease {self.name} is not held: stopping", system="engine")
        return self._fence

    def fence_refused(self, fence: Fence) -> None:
        if self._fence == fence:
            self.let_go()

    def check(self) -> None:
        """Refuse to send once the lease may have run out (see the module's docstring)."""
        if self._fence is None:
            raise LeaseLostError(f"lease {self.name} is not held: not sending", system="engine")
        if self.clock() > self._trusted_until:
            raise LeaseLostError(
                f"lease {self.name} may have run out (no renewal for "
                f"{self.ttl.total_seconds() * SAFE_SHARE:.0f}s): not sending",
                system="engine",
            )


async def while_holding(
    hold: LeaseHold, renew: Callable[[], Awaitable[bool]], work: Callable[[], Awaitable[T]]
) -> T:
    """Run ``work`` under ``hold``, renewing every third of the ttl; its result.

    A renewal that fails stops the work at once and raises :class:`LeaseLostError`, as
    does the work itself when one of its writes or sends is refused. The requests the work
    sends are checked against the hold (see the module's docstring).
    """
    with guarding_sends(hold.check):
        job = asyncio.ensure_future(work())
    try:
        while True:
            await asyncio.wait({job}, timeout=hold.ttl.total_seconds() / 3)
            if job.done():
                return job.result()
            if not await renew():
                hold.let_go()
                raise LeaseLostError(
                    f"lease {hold.name} could not be renewed mid-pass, so another process may "
                    "be doing this work now; the pass was stopped (recorded effects keep "
                    "finished steps from repeating)",
                    system="engine",
                )
    finally:
        if not job.done():
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
