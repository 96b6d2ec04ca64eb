"""A Centra secret or the WMS password revoked mid-run: clear errors, a pause, then recovery.

While the credential is refused, every pass that needs that system fails with an
:class:`~centrasync.errors.AuthenticationError`, logged at error level with the store and
the flow, counted as failed, and backed off (1, 2, 4 … seconds, on the worker's own clock);
no record is parked for it, however long it lasts, because no record is at fault. Once the
credential works again the flows pick up where they stopped, without anyone touching the
engine, and converge: every shipment in the WMS once, every shipped one completed once.

The revocation is real on the Centra side (the emulator's plugin gets a new secret). The
Ongoing emulator's password is fixed when it starts, so the transport in front of it sends
a wrong password while "revoked": Ongoing then refuses the engine exactly as it would after
a password change.
"""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from centrasync.store.base import RecordKind
from centrasync.sync.shipments import CAPTURE_DECLINED_REASON, PARKED_STATES

from .rig import (
    CENTRA_SECRET,
    SHIPMENT_FLOWS,
    STORE,
    URI,
    WMS_PASSWORD,
    WMS_USER,
    Rig,
    open_rig,
    settle,
)

pytestmark = pytest.mark.slow

REVOKED = "revoked-credential-xyz"
# More failed passes than the engine's max_attempts (8): long enough that a record would
# have been parked as "failed" if an auth error counted against it.
FAILED_PASSES = 11


class Monotonic:
    """The worker's clock (seconds), moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class PasswordSwitch(httpx.AsyncBaseTransport):
    """In front of the Ongoing emulator: while ``revoked``, the password sent is the old one."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.revoked = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.revoked:
            stale = base64.b64encode(f"{WMS_USER}:{REVOKED}".encode()).decode()
            request.headers["Authorization"] = f"Basic {stale}"
        return await self._inner.handle_async_request(request)


class Revocation:
    """Revokes and restores one system's credential."""

    def __init__(self, system: str) -> None:
        self.system = system
        self.switch: PasswordSwitch | None = None

    def wrap_wms(self, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        self.switch = PasswordSwitch(inner)
        return self.switch

    def set(self, rig: Rig, revoked: bool) -> None:
        if self.system == "centra":
            rig.centra.world.stores[URI].secret = REVOKED if revoked else CENTRA_SECRET
        else:
            assert self.switch is not None
            self.switch.revoked = revoked


# What each system's refusal says, and which shipment passes need that system first.
REFUSALS = {
    "centra": "Centra refused the API-Authorization secret",
    "ongoing": "the API user name or password was refused",
}


def failed_passes(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == "flow pass failed"]


async def nothing_parked_but_the_decline(rig: Rig, decline: str) -> None:
    assert await rig.dead() == {f"shipment/{decline}": CAPTURE_DECLINED_REASON}
    ledger = await rig.ledger(RecordKind.SHIPMENT)
    assert {k for k, state in ledger.items() if state in PARKED_STATES} == {decline}


@pytest.mark.parametrize("system", ["centra", "ongoing"])
async def test_flows_pause_on_a_revoked_credential_and_resume_once_it_works(
    tmp_path: Path, system: str
) -> None:
    revocation = Revocation(system)
    async with open_rig(
        tmp_path,
        flows=SHIPMENT_FLOWS,
        options={"capture_policy": "on_complete"},
        wrap_wms=revocation.wrap_wms,
    ) as rig:
        clock = Monotonic()
        rig.worker.clock = clock
        decline = rig.centra.seed_summary["capture_declines"]["shipment"]
        await rig.run_pass()
        await rig.operate(30)
        await rig.run_pass()
        before = await rig.ledger(RecordKind.SHIPMENT)
        assert Counter(before.values()) == Counter(
            {"sent": len(before) - 10, "completed": 9, "capture_declined": 1}
        )

        revocation.set(rig, revoked=True)
        waiting = await rig.new_shipments(3)
        await rig.operate(30)
        delays: dict[str, list[float]] = {}
        with capture_logs() as logs:
            for _ in range(FAILED_PASSES):
                clock.now += 61.0
                start = len(logs)
                await rig.worker.step()
                for entry in failed_passes(logs[start:]):
                    delays.setdefault(entry["flow"], []).append(entry["retry_in"])
                # Not due again before its back-off is over: a step now tries nothing.
                start = len(logs)
                await rig.worker.step()
                assert failed_passes(logs[start:]) == [], "a backed-off pass ran again"
        failures = failed_passes(logs)
        backoff = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0] + [60.0] * (FAILED_PASSES - 6)
        assert delays and all(d == backoff for d in delays.values()), delays
        for entry in failures:
            assert entry["store"] == STORE and entry["log_level"] == "error"
            assert REFUSALS[system] in entry["error"], entry
        text = repr(logs)
        assert CENTRA_SECRET not in text and WMS_PASSWORD not in text and REVOKED not in text
        assert rig.tally.failed_count, "the failed passes were not counted"
        await nothing_parked_but_the_decline(rig, decline)
        ledger = await rig.ledger(RecordKind.SHIPMENT)
        assert {k: v for k, v in ledger.items() if k in before} == before, "moved while refused"

        revocation.set(rig, revoked=False)
        clock.now += 61.0
        with capture_logs() as logs:
            await rig.worker.step()
        assert failed_passes(logs) == [], "the flows did not resume by themselves"

        async def done() -> bool:
            ledger = await rig.ledger(RecordKind.SHIPMENT)
            return set(waiting) <= set(ledger) and set(ledger.values()) <= {
                "completed",
                "capture_declined",
            }

        await settle(rig, done)
        await nothing_parked_but_the_decline(rig, decline)
        wms = Counter(order.number for order in rig.ongoing.state.orders.values())
        assert set(wms.values()) == {1} and set(waiting) <= set(wms)
        completions = Counter(w.data["shipment"] for w in rig.centra.world.written("completions"))
        assert set(completions.values()) == {1}
        assert set(completions) == set(wms) - {decline}
