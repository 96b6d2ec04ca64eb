"""The scheduler of one store: webhook inbox, polls on their schedule, backoff on failure.

One worker per store runs at a time across every engine process: it holds the lease
``worker/<store>`` in the state store while it works. The owner name is stable per host
and configuration (see ``serve``), so a process restarted after a crash takes its lease
back at once instead of waiting for the old one to expire. Which process takes which
lease is evened out by :class:`~centrasync.sync.share.FairShare`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import structlog

from centrasync.centra.webhooks import decode_event
from centrasync.config import FlowSchedule
from centrasync.errors import (
    CentrasyncError,
    DataError,
    LeaseLostError,
    RecordValidationError,
    RetryLaterError,
    redact,
)
from centrasync.logs import handover
from centrasync.store.base import InboxItem, RecordKind, RecordRef, StateStore

from .coalesce import CoalescedLookup
from .leases import while_holding
from .ports import IntegrationShipment
from .share import LEASE_TTL, FairShare
from .shipments import CANCELLATION, CONFIRMATION, OUTBOUND, ShipmentFlows

__all__ = ["SHIPMENTS", "ScheduledFlow", "StoreWorker", "lease_name"]

_log = structlog.get_logger(__name__)

_MAX_BACKOFF = 60.0
SWEEP_NUDGE_GAP = 10.0
# Centra's list queries take at most 200 rows a page.
_LOOKUP_MOST = 200
_Groups = dict[tuple[str, str], list[InboxItem]]
"""A claim's events by what they are about: (type, order number or shipment id)."""
SHIPMENTS = "shipments"
SWEEP = "sweep"
# The kinds of lease shared out separately: the shipment loops, and every other flow's.
_OTHER_FLOWS = "other flows"


def lease_name(store: str, loop: str) -> str:
    """The lease a loop of ``store`` holds: the shipment passes and the inbox share the
    store's own (``loop`` :data:`SHIPMENTS`); every further flow has one per (store, flow),
    so several processes can divide a store's flows between them."""
    return f"worker/{store}" if loop == SHIPMENTS else f"worker/{store}/{loop}"


@dataclass
class _Due:
    """When a flow runs next and how many passes in a row failed."""

    interval: float
    at: float = 0.0
    failures: int = 0
    last_done: float | None = None

    def done(self, now: float) -> None:
        self.failures = 0
        self.last_done = now
        self.at = now + self.interval

    def bring_forward(self, now: float, gap: float) -> None:
        """Run as soon as possible, but not sooner than ``gap`` after the last success."""
        soonest = now if self.last_done is None else max(now, self.last_done + gap)
        self.at = min(self.at, soonest)

    def failed(self, now: float) -> float:
        """Back off exponentially (1, 2, 4 … s), never beyond the interval or a minute."""
        self.failures += 1
        delay = min(2.0 ** (self.failures - 1), max(self.interval, 1.0), _MAX_BACKOFF)
        self.at = now + delay
        return delay


@dataclass(frozen=True)
class ScheduledFlow:
    """A flow pass the worker runs every ``interval`` seconds (0 = off).

    ``loop``: the loop (and so the lease) the pass runs in, its own by default. Passes
    that share state, such as the stock flow's incremental and full passes (one mirror of
    Centra's stock), share a loop: they run one after the other under one lease.
    """

    name: str
    interval: float
    run: Callable[[], Awaitable[int]]
    loop: str | None = None

    @property
    def loop_name(self) -> str:
        return self.loop or self.name


@dataclass
class StoreWorker:
    """Drives one store's :class:`ShipmentFlows` until ``stop`` is set.

    ``share`` is the process's :class:`FairShare`, common to all its stores' workers; a
    worker without one takes every lease it can get.
    """

    flows: ShipmentFlows
    schedule: FlowSchedule
    owner: str
    tick: float = 0.2
    inbox_batch: int = 100
    lease_ttl: timedelta = LEASE_TTL
    stop_grace: float = 5.0
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    more_flows: Sequence[ScheduledFlow] = ()
    share: FairShare | None = None
    _leases: FairShare = field(init=False)
    _due: dict[str, _Due] = field(init=False)
    _passes: tuple[ScheduledFlow, ...] = field(init=False)
    _lookups: CoalescedLookup[IntegrationShipment] = field(init=False)

    def __post_init__(self) -> None:
        self._lookups = CoalescedLookup(self.flows.resolve_shipments, _LOOKUP_MOST)
        self._passes = (
            ScheduledFlow(OUTBOUND, self.schedule.shipments, self.flows.poll_outbound),
            ScheduledFlow(CANCELLATION, self.schedule.cancellations, self.flows.cancellations),
            ScheduledFlow(CONFIRMATION, self.schedule.confirmations, self.flows.confirm_shipped),
            ScheduledFlow(SWEEP, self.schedule.sweep, self.flows.sweep),
            *self.more_flows,
        )
        self._due = {flow.name: _Due(flow.interval) for flow in self._passes}
        self._leases = self.share or FairShare(self.state, self.owner, ttl=self.lease_ttl)
        self._leases.add(self.lease_for(SHIPMENTS), SHIPMENTS)
        for loop in self._side_loops:
            self._leases.add(self.lease_for(loop), _OTHER_FLOWS)

    @property
    def _side_loops(self) -> dict[str, list[ScheduledFlow]]:
        """The further flows by the loop they run in, in the order given."""
        loops: dict[str, list[ScheduledFlow]] = {}
        for flow in self.more_flows:
            loops.setdefault(flow.loop_name, []).append(flow)
        return loops

    @property
    def state(self) -> StateStore:
        return self.flows.state

    @property
    def store(self) -> str:
        return self.flows.store_name

    @property
    def lease(self) -> str:
        return lease_name(self.store, SHIPMENTS)

    def lease_for(self, flow: str) -> str:
        return lease_name(self.store, flow)

    async def run(self, stop: asyncio.Event) -> None:
        """Run every loop of this store, each while holding its lease, until ``stop``.

        The shipment passes and the inbox share one loop; every further flow (articles,
        stock …) gets a loop of its own, so a long catalogue import never delays an order.
        """
        loops = [
            asyncio.create_task(
                self._leased(SHIPMENTS, partial(self._shipment_round, stop), stop, pause=0.0)
            )
        ]
        loops += [
            asyncio.create_task(self._leased(loop, partial(self._side_round, flows), stop))
            for loop, flows in self._side_loops.items()
        ]
        await stop.wait()
        # A pass still running after the grace period is cancelled: to the effects that is
        # no different from a crash, which they are built to survive.
        _, running = await asyncio.wait(loops, timeout=self.stop_grace)
        for loop in running:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)

    async def _shipment_round(self, stop: asyncio.Event) -> None:
        """The inbox, then the due passes; the inbox claimed as events arrive meanwhile.

        A sweep over a long Good-to-Go list takes seconds; webhook events must not wait
        for it, nor for the events claimed before them: each claim's events are handled
        beside the others (at most ``concurrency`` at once) while the next arrival is
        claimed. The passes and the events may meet on one shipment, which its lock and
        the re-read under it make safe, as between the lanes of one pass. A round lasts
        at least ``tick``, waiting for the inbox to get an event (its loop does not pause
        between rounds); it claims every ``tick`` as well, in case an arrival went
        unnoticed, and ends once every event it claimed is handled. While the last ones
        are handled it goes on claiming arrivals, so that no event waits for another's
        WMS write or lookup: the round ends when nothing is in flight, or at the latest a
        third of the lease's ttl later (the passes and the lease's fair share need rounds
        to end under a steady stream).
        """
        ends = self.clock() + self.tick
        lanes = asyncio.Semaphore(self.flows.concurrency)
        handling: set[asyncio.Task[bool]] = set()
        await self._claim_and_start(handling, lanes)
        passes = asyncio.create_task(self._passes_after_inbox())
        try:
            while not (passes.done() and (stop.is_set() or self.clock() >= ends)):
                timeout = self.tick if not passes.done() else ends - self.clock()
                arrived = await self._arrival({passes}, stop, timeout)
                _raise_failures(handling)
                if arrived or not passes.done():
                    await self._claim_and_start(handling, lanes)
            latest = ends + self.lease_ttl.total_seconds() / 3
            while handling:
                lingering = latest - self.clock()
                if stop.is_set() or lingering <= 0:
                    await asyncio.wait(handling, return_when=asyncio.FIRST_COMPLETED)
                    arrived = False
                else:
                    arrived = await self._arrival(handling, stop, lingering)
                _raise_failures(handling)
                if arrived:
                    await self._claim_and_start(handling, lanes)
        finally:
            for task in (passes, *handling):
                if not task.done():
                    task.cancel()
            await asyncio.gather(passes, *handling, return_exceptions=True)
        passes.result()

    async def _claim_and_start(
        self, handling: set[asyncio.Task[bool]], lanes: asyncio.Semaphore
    ) -> None:
        """Claim what waits in the inbox and start handling it; a full batch is followed by
        the next at once."""
        while True:
            claimed, groups = await self._claim()
            if groups:
                handling.add(asyncio.create_task(self._in_lanes(lanes, groups)))
            if claimed < self.inbox_batch:
                return

    async def _in_lanes(self, lanes: asyncio.Semaphore, groups: _Groups) -> bool:
        """Handle one claim's groups, each in a lane as one frees up; then mark the
        handled events processed together and raise the first group's error, if any.

        The shipment events wait for their Integration API lookup (one query for the
        claim, or shared with other claims' while one is out: see :meth:`_shipment_events`);
        the other groups do not. A shipment event
        whose order has an event in the same claim is that order's: Centra sends both
        for one change, and the order's handler reads every shipment of it.
        """
        handled: list[InboxItem] = []
        shipment_groups = {key: items for key, items in groups.items() if key[0] == "shipment"}

        async def in_lane(
            group: tuple[tuple[str, str], list[InboxItem]],
            shipments: Mapping[str, IntegrationShipment] | None = None,
        ) -> bool:
            async with lanes:
                return await self._handle(group, shipments=shipments, handled=handled)

        async def looked_up() -> list[bool | BaseException]:
            found = await self._shipment_events(shipment_groups)
            for subject, shipment in (found or {}).items():
                if ("order", str(shipment.order.number)) in groups:
                    handled.extend(shipment_groups.pop(("shipment", subject)))
            return await asyncio.gather(
                *(in_lane(group, found) for group in shipment_groups.items()),
                return_exceptions=True,
            )

        others = [group for group in groups.items() if group[0][0] != "shipment"]
        results = await asyncio.gather(
            looked_up(), *(in_lane(group) for group in others), return_exceptions=True
        )
        await self._processed(handled)
        lookup, *rest = results
        for result in [*(lookup if isinstance(lookup, list) else [lookup]), *rest]:
            if isinstance(result, BaseException):
                raise result
        return True

    async def _arrival(
        self, work: Collection[asyncio.Future[Any]], stop: asyncio.Event, timeout: float
    ) -> bool:
        """Wait up to ``timeout`` for an inbox event, a piece of ``work`` to end or
        ``stop``; True for an event."""
        arrival = asyncio.ensure_future(self.state.wait_for_inbox(self.store, timeout))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            waiters: set[asyncio.Future[Any]] = {arrival, stopping}
            waiters.update(future for future in work if not future.done())
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (arrival, stopping):
                if not waiter.done():
                    waiter.cancel()
            await asyncio.gather(arrival, stopping, return_exceptions=True)
        return arrival.done() and not arrival.cancelled() and arrival.result() is True

    async def _side_round(self, flows: Sequence[ScheduledFlow]) -> None:
        for flow in flows:
            await self._maybe(flow.name, flow.run)

    async def _passes_after_inbox(self) -> None:
        if await self.flows.redrive_retries():
            self._due[CONFIRMATION].at = 0.0
        for flow in self._shipment_passes:
            await self._maybe(flow.name, flow.run)

    async def _leased(
        self,
        flow: str,
        body: Callable[[], Awaitable[None]],
        stop: asyncio.Event,
        *,
        pause: float | None = None,
    ) -> None:
        """Run ``body`` round after round while holding ``flow``'s lease, ``pause``
        seconds apart (default: ``tick``)."""
        lease = self.lease_for(flow)
        log = _log.bind(store=self.store, lease=lease)
        holding = False
        try:
            while not stop.is_set():
                if await self._leases.take(lease, self.lease_ttl):
                    if not holding:
                        log.info("lease taken", owner=self.owner)
                    holding = True
                    wait = self.tick if pause is None else pause
                    try:
                        await while_holding(
                            self._leases.hold(lease),
                            partial(self._leases.renew, lease, self.lease_ttl),
                            body,
                        )
                    except LeaseLostError as exc:
                        log.warning("lease lost during a pass; pass stopped", reason=str(exc))
                        holding = False
                        wait = self.lease_ttl.total_seconds() / 3
                    if holding and await self._leases.give_back_if_over(lease):
                        log.info(
                            "lease given back to share the work",
                            owner=self.owner,
                            members=self._leases.members,
                        )
                        holding = False
                        wait = self.lease_ttl.total_seconds() / 3
                else:
                    if holding:
                        log.warning("lease lost to another process")
                    holding = False
                    wait = self.lease_ttl.total_seconds() / 3
                await _wait(stop, wait)
        finally:
            if holding:
                await self._leases.release(lease)

    async def step(self) -> None:
        """The inbox, then every shipment pass that is due, one after the other (tests).

        Like every pass, under the store's lease: raises :class:`LeaseLostError` when
        another process holds it.
        """
        await self.run_under_lease(SHIPMENTS, self._step)

    async def _step(self) -> None:
        await self.drain_inbox()
        await self._passes_after_inbox()

    async def run_side_flows(self) -> None:
        """Every further flow once, now, whatever its schedule says, each under its lease."""
        for loop, flows in self._side_loops.items():
            for flow in flows:
                self._due[flow.name].at = 0.0
            await self.run_under_lease(loop, partial(self._side_round, flows))

    async def run_under_lease(self, loop: str, body: Callable[[], Awaitable[object]]) -> None:
        """Run ``body`` once while holding ``loop``'s lease (kept afterwards, as a loop would).

        Raises :class:`LeaseLostError` when another process holds it.
        """
        lease = self.lease_for(loop)
        if not await self._leases.take(lease, self.lease_ttl):
            raise LeaseLostError(f"lease {lease} is held by another process", system="engine")
        await while_holding(
            self._leases.hold(lease), partial(self._leases.renew, lease, self.lease_ttl), body
        )

    @property
    def _shipment_passes(self) -> tuple[ScheduledFlow, ...]:
        return self._passes[: len(self._passes) - len(self.more_flows)]

    async def run_once(self) -> None:
        """Every shipment pass now, whatever the schedule says (tests, the demo)."""
        await self.run_under_lease(SHIPMENTS, self.run_held_once)

    async def run_held_once(self) -> None:
        """:meth:`run_once` for a caller that holds the store's lease itself."""
        for due in self._due.values():
            due.at = 0.0
        await self._step()

    async def _maybe(self, flow: str, run: Callable[[], Awaitable[int]]) -> None:
        due = self._due[flow]
        now = self.clock()
        if due.interval <= 0 or now < due.at:
            return
        try:
            await run()
        except LeaseLostError:
            raise
        except CentrasyncError as exc:
            delay = due.failed(self.clock())
            self.flows.events.failed(self.store, flow)
            level = "warning" if isinstance(exc, RetryLaterError) else "error"
            getattr(_log, level)(
                "flow pass failed",
                store=self.store,
                flow=flow,
                error=redact(str(exc)),
                retry_in=delay,
            )
            return
        due.done(self.clock())

    # -- the webhook inbox -----------------------------------------------------------------

    async def drain_inbox(self) -> int:
        """Act on every waiting webhook event (one batch); returns how many were handled.

        Events about the same order or shipment in one batch (its creation, the
        Good-to-Go flag, a duplicate delivery) are acted on once: the handler reads the
        current state, so one read answers them all. The shipment events' ids are
        resolved in one Integration API query per batch (see :meth:`_shipment_events`).
        """
        claimed, groups = await self._claim()
        await self._in_lanes(asyncio.Semaphore(self.flows.concurrency), groups)
        return claimed

    async def _processed(self, handled: Sequence[InboxItem]) -> None:
        """Mark a claim's handled events processed, in one statement.

        Should the worker stop before it (a lost lease, a kill), they are claimed and acted
        on again: the handlers read the current state and every effect is keyed, so that
        repeats no effect.
        """
        await self.state.mark_inbox_processed([item.id for item in handled])
        now = self.now()
        for item in handled:
            self.flows.events.lag(self.store, "webhooks", (now - item.received_at).total_seconds())

    async def _claim(self) -> tuple[int, _Groups]:
        """Claim a batch: how many events, grouped by what they are about."""
        # Only the holder of the store's lease claims, so the claim need not outlast a long
        # batch; it must lapse with the lease, or the events a killed process had claimed
        # would wait out the default claim (minutes) after another process took over.
        items = await self.state.claim_inbox(self.store, self.inbox_batch, claim_for=self.lease_ttl)
        groups: _Groups = {}
        for item in items:
            try:
                event = decode_event(item.body)
            except CentrasyncError as exc:
                await self._inbox_failure(item, exc)
                continue
            subject = event.id if event.type in ("order", "shipment") else ""
            groups.setdefault((event.type, subject), []).append(item)
        if groups:
            handover("worker", store=self.store, subjects=[f"{k}:{s}" for k, s in groups])
        return len(items), groups

    async def _shipment_events(self, groups: _Groups) -> Mapping[str, IntegrationShipment] | None:
        """The shipments the batch's shipment events name, by their internal id, through
        the Integration API; None without one configured.

        The events of an id that is no whole number (so not Centra's) are parked; a failed
        lookup fails the others (claimed again later). Either way they leave ``groups``.
        """
        ids = [subject for kind, subject in groups if kind == "shipment"]
        if not ids or self.flows.integration is None:
            return None
        for subject in [i for i in ids if not i.isdigit()]:
            ids.remove(subject)
            bad = RecordValidationError(
                f"shipment id {subject!r} is not a whole number",
                record=f"shipment event {subject}",
                field="id",
                system="centra",
                endpoint="webhook",
            )
            for item in groups.pop(("shipment", subject)):
                await self._inbox_failure(item, bad)
        if not ids:
            return {}
        try:
            found = await self._lookups([int(i) for i in ids])
        except LeaseLostError:
            raise
        except CentrasyncError as exc:
            for subject in ids:
                for item in groups.pop(("shipment", subject)):
                    await self._inbox_failure(item, exc)
            return {}
        return {str(key): shipment for key, shipment in found.items()}

    async def _handle(
        self,
        group: tuple[tuple[str, str], list[InboxItem]],
        *,
        shipments: Mapping[str, IntegrationShipment] | None,
        handled: list[InboxItem],
    ) -> bool:
        (kind, subject), items = group
        try:
            if kind == "order":
                await self.flows.on_order_event(subject)
            elif kind == "shipment":
                found = None if shipments is None else shipments.get(subject)
                if found is not None:
                    await self.flows.on_shipment_event(found)
                else:
                    # No Integration API, or it does not know the id (a deleted shipment):
                    # the sweep finds what changed, including a late Good-to-Go or a
                    # shipment gone. A stream of such events brings it forward once per
                    # SWEEP_NUDGE_GAP, not once per event: each sweep re-reads the whole
                    # Good-to-Go list.
                    self._due[SWEEP].bring_forward(self.clock(), SWEEP_NUDGE_GAP)
        except LeaseLostError:
            raise
        except CentrasyncError as exc:
            for item in items:
                await self._inbox_failure(item, exc)
            return False
        handled += items
        return True

    async def _inbox_failure(self, item: InboxItem, exc: CentrasyncError) -> None:
        message = redact(str(exc))
        # Bad data stays bad: trying again cannot help, so it is parked at once.
        bad = isinstance(exc, DataError)
        if bad or item.attempts >= self.flows.max_attempts:
            ref = RecordRef(self.store, RecordKind.ORDER, f"webhook-{item.id}")
            why = "cannot be acted on" if bad else f"kept failing after {item.attempts} attempts"
            await self.state.upsert_record(ref, initial_state="parked")
            await self.state.park(
                ref,
                f"webhook event {why}: {message}",
                {"inbox_id": item.id, "body": item.body.decode("utf-8", "replace")},
            )
            await self.state.mark_inbox_processed([item.id])
            self.flows.events.parked(self.store, "webhooks", "invalid" if bad else "failed")
            return
        await self.state.mark_inbox_failed(item.id, message)
        self.flows.events.failed(self.store, "webhooks")
        _log.warning("webhook event failed", store=self.store, inbox_id=item.id, error=message)


def _raise_failures(tasks: set[asyncio.Task[bool]]) -> None:
    """Forget the finished tasks; raise the first one's error, if one failed."""
    for task in [task for task in tasks if task.done()]:
        tasks.discard(task)
        task.result()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
