"""Dividing the engine's leases evenly between the worker processes that share a store.

Every loop of every store runs while its process holds the loop's lease (see
``StoreWorker.lease_for``). First come, first served, the process that starts first takes
every lease and the others only stand by until it dies. So each engine process also holds
a membership lease ``member/<digest of its owner name>`` while it runs, and takes a loop's
lease only while it holds fewer than its share of that kind of lease, ``ceil(leases of the
kind / members)``. A process holding more than its share (it started first, or others
joined since) gives leases back between passes, and processes below their share take them.
A process that dies stops renewing its membership with its leases, so once they expire the
survivors' shares grow and they take its work over.

The shipment loops carry nearly all the work, so they are shared out on their own: with two
stores and three processes, two different processes run the two stores' shipments, and the
lighter flows are spread over all three.

The share assumes every worker process runs the same configuration, so each counts the same
leases. If one does not, a lease could be left to nobody, each process willing to run it
being at its share; a lease seen free for a whole time to live is therefore taken whatever
the share, and kept until the number of members changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from centrasync.errors import CentrasyncError, redact
from centrasync.store.base import StateStore

from .leases import LeaseHold

__all__ = ["LEASE_TTL", "MEMBER_PREFIX", "FairShare"]

_log = structlog.get_logger(__name__)

LEASE_TTL = timedelta(seconds=15)
MEMBER_PREFIX = "member/"
# Members change only when a process starts or stops, so a count a second old is as good
# as a fresh one, and it spares the store a read on every tick of every loop.
_RECOUNT_AFTER = 1.0


@dataclass
class FairShare:
    """One process's side of the division: the leases it holds, and how many it may hold.

    Each loop registers its lease with :meth:`add` under a kind and gets the
    :class:`~centrasync.sync.leases.LeaseHold` its writes are fenced with; :meth:`take`,
    :meth:`renew`, :meth:`give_back_if_over` and :meth:`release` then stand in for the
    store's own lease calls and keep the hold up to date. Decisions are made one at a time,
    so the loops of one process never overshoot its share together.
    """

    state: StateStore
    owner: str
    ttl: timedelta = LEASE_TTL
    clock: Callable[[], float] = time.monotonic
    _kinds: dict[str, str] = field(default_factory=dict, init=False)
    _holds: dict[str, LeaseHold] = field(default_factory=dict, init=False)
    _held: set[str] = field(default_factory=set, init=False)
    _kept: set[str] = field(default_factory=set, init=False)
    _free_since: dict[str, float] = field(default_factory=dict, init=False)
    _holders: dict[str, str] = field(default_factory=dict, init=False)
    _members: int = field(default=1, init=False)
    _counted_at: float = field(default=-math.inf, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    @property
    def membership(self) -> str:
        """This process's membership lease; a digest, as owner names may be long."""
        digest = hashlib.sha256(self.owner.encode("utf-8")).hexdigest()[:16]
        return f"{MEMBER_PREFIX}{digest}"

    @property
    def members(self) -> int:
        """Live worker processes as last counted, this one included."""
        return self._members

    def add(self, lease: str, kind: str) -> LeaseHold:
        """Count ``lease`` among this process's leases of ``kind``; its hold."""
        self._kinds[lease] = kind
        return self.hold(lease)

    def hold(self, lease: str) -> LeaseHold:
        """The hold on ``lease`` (one per lease and process), whether held now or not."""
        return self._holds.setdefault(lease, LeaseHold(lease, self.ttl, clock=self.clock))

    def share(self, kind: str) -> int:
        """How many leases of ``kind`` this process may hold."""
        leases = sum(1 for k in self._kinds.values() if k == kind)
        return math.ceil(leases / self._members)

    def held(self, kind: str) -> int:
        return sum(1 for lease in self._held if self._kinds[lease] == kind)

    async def take(self, lease: str, ttl: timedelta) -> bool:
        """Acquire or extend ``lease``, unless it is not ours and we hold our share.

        Extending a lease held already changes no count, so it skips the queue that new
        acquisitions wait in; one extended less than a third of its time to live ago is
        left as it is. A loop takes its lease before every round, a round every tick, and
        asking the store each time cost a store call per loop per tick while idle; a third
        is also how often :func:`~.leases.while_holding` renews during a pass.
        """
        if lease in self._held:
            if self.hold(lease).renewed_within(ttl.total_seconds() / 3):
                return True
            return await self._acquire(lease, ttl)
        async with self._lock:
            return await self._may_take(lease) and await self._acquire(lease, ttl)

    async def give_back_if_over(self, lease: str) -> bool:
        """Release ``lease`` if this process holds more than its share of its kind."""
        async with self._lock:
            await self._recount()
            kind = self._kinds[lease]
            if lease not in self._held or lease in self._kept:
                return False
            if self.held(kind) <= self.share(kind):
                return False
            await self._release(lease)
            return True

    async def release(self, lease: str) -> None:
        async with self._lock:
            await self._release(lease)

    async def renew(self, lease: str, ttl: timedelta) -> bool:
        """Extend ``lease`` under the token it was taken with; False if that is over."""
        hold = self.hold(lease)
        asked_at = self.clock()
        token = hold.token
        if token is not None and await self.state.renew_lease(lease, self.owner, ttl, token=token):
            hold.renewed(asked_at, ttl)
            return True
        self._forget(lease)
        return False

    async def _release(self, lease: str) -> None:
        token = self.hold(lease).token
        self._forget(lease)
        await self.state.release_lease(lease, self.owner, token=token)

    @asynccontextmanager
    async def membership_held(self) -> AsyncIterator[None]:
        """Count this process as a member while the block runs."""
        await self.state.acquire_lease(self.membership, self.owner, self.ttl)
        keeper = asyncio.create_task(self._keep_membership())
        try:
            yield
        finally:
            keeper.cancel()
            with suppress(asyncio.CancelledError):
                await keeper
            await self.state.release_lease(self.membership, self.owner)

    async def _keep_membership(self) -> None:
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            try:
                # Acquire rather than renew: after a stall past the ttl the membership has
                # lapsed, and only this process ever holds its name.
                await self.state.acquire_lease(self.membership, self.owner, self.ttl)
            except CentrasyncError as exc:
                _log.warning("membership not renewed", owner=self.owner, error=redact(str(exc)))

    async def _may_take(self, lease: str) -> bool:
        await self._recount()
        kind = self._kinds[lease]
        if self.held(kind) < self.share(kind):
            return True
        if lease in self._holders:
            self._free_since.pop(lease, None)
            return False
        now = self.clock()
        if now - self._free_since.setdefault(lease, now) < self.ttl.total_seconds():
            return False
        self._kept.add(lease)
        return True

    async def _recount(self) -> None:
        now = self.clock()
        if now - self._counted_at < _RECOUNT_AFTER:
            return
        live = await self.state.list_leases()
        members = max(1, sum(1 for lease in live if lease.name.startswith(MEMBER_PREFIX)))
        if members != self._members:
            self._kept.clear()
        self._members = members
        self._holders = {lease.name: lease.owner for lease in live}
        self._counted_at = now

    async def _acquire(self, lease: str, ttl: timedelta) -> bool:
        hold = self.hold(lease)
        asked_at = self.clock()
        taken = await self.state.acquire_lease(lease, self.owner, ttl, token=hold.token)
        if taken is not None:
            hold.taken(taken, asked_at, ttl)
            self._held.add(lease)
            self._free_since.pop(lease, None)
            return True
        self._forget(lease)
        return False

    def _forget(self, lease: str) -> None:
        self.hold(lease).let_go()
        self._held.discard(lease)
        self._kept.discard(lease)
        self._free_since.pop(lease, None)
