"""Acceptance: the engine is SIGKILLed over and over during a run and still does it right.

Everything runs as real processes: the Centra emulator (demo seed plus orders added while
the run goes on), one Ongoing emulator per store with its auto-operator picking and
shipping by itself, and ``centrasync serve`` on a SQLite file. The engine is killed at
random moments (seeded, printed) after it comes up, and started again each time; then
it is left to finish. The emulators' control APIs must then show that no shipment is
missing, no WMS order exists twice, no shipment was completed twice and no capture was
made twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from centrasync.store.base import RecordKind, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.shipments import CAPTURE_DECLINED_REASON, ShipmentState

from .helpers import (
    CENTRA_SECRET,
    SE,
    STORES,
    US,
    WEBHOOK_SECRET,
    WMS_PASSWORD,
    StoreSetup,
    add_shipments,
    orderable_eans,
    secrets_env,
    settings_document,
    settings_toml,
)

SEED = 20261129
KILLS = 20
# Orders added per store at each of the first restarts: 15 x 5 x 2 = 150 on top of the
# demo seed's 50, arriving while the engine is being killed.
BATCHES = 15
BATCH = 5
AUTO_OPERATOR_INTERVAL = 0.05
CANCEL_AT_KILL = 4
FINISH_WITHIN = 45.0

_FINAL = {
    ShipmentState.COMPLETED,
    ShipmentState.CAPTURE_DECLINED,
    ShipmentState.CANCELLED,
    ShipmentState.CANCEL_TOO_LATE,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Processes:
    """Every process the test starts, each with its own log file; all killed at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []
        self.env = {**os.environ, **secrets_env()}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "centrasync", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@contextmanager
def processes(logs: Path) -> Iterator[Processes]:
    running = Processes(logs)
    try:
        yield running
    finally:
        running.kill_all()


async def wait_until_up(
    url: str, process: subprocess.Popen[bytes], procs: Processes, name: str
) -> float:
    """Poll ``url`` until it answers; returns the seconds it took."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=0.5) as client:
        while True:
            try:
                await client.get(url)
                return time.monotonic() - started
            except httpx.TransportError:
                assert process.poll() is None, f"{name} exited:\n{procs.log(name)[-3000:]}"
                assert time.monotonic() - started < 30, f"{name} did not start"
                await asyncio.sleep(0.05)


async def start_emulators(
    procs: Processes,
    centra_url: str,
    wms_urls: dict[str, str],
    wms: str = "ongoing",
    tmp: Path | None = None,
) -> None:
    """Centra (demo seed) and one warehouse emulator per store (Ongoing, or a files-wms
    emulator serving SFTP over a folder), as processes, once they answer."""
    port = centra_url.rsplit(":", 1)[1]
    centra = procs.start(
        "centra",
        *("emulate", "centra", "--port", port, "--secret", CENTRA_SECRET, "--seed", "demo"),
    )
    warehouses = {}
    for s in STORES:
        control_port = wms_urls[s.name].rsplit(":", 1)[1]
        if wms == "files":
            assert tmp is not None, "a files-wms emulator needs a folder"
            warehouses[s.name] = procs.start(
                f"ongoing-{s.name}",
                *("emulate", "files-wms", "--port", control_port),
                *("--sftp-port", str(free_port()), "--root", str(tmp / s.warehouse)),
                *("--password", WMS_PASSWORD),
            )
        else:
            warehouses[s.name] = procs.start(
                f"ongoing-{s.name}",
                *("emulate", "ongoing", "--port", control_port),
                *("--warehouse", s.warehouse, "--password", WMS_PASSWORD),
            )
    await wait_until_up(f"{centra_url}/_emulator/seed-summary", centra, procs, "centra")
    for store in STORES:
        await wait_until_up(
            f"{wms_urls[store.name]}/_emulator/state",
            warehouses[store.name],
            procs,
            f"ongoing-{store.name}",
        )


class Run:
    """The emulators' control APIs and the engine's process, for one crash run."""

    def __init__(self, procs: Processes, tmp: Path, wms: str = "ongoing") -> None:
        self.procs = procs
        self.tmp = tmp
        self.wms = wms
        self.centra_url = f"http://127.0.0.1:{free_port()}"
        self.wms_urls = {s.name: f"http://127.0.0.1:{free_port()}" for s in STORES}
        self.engine_port = free_port()
        self.database = tmp / "state.sqlite"
        self.config = tmp / "centrasync.toml"
        self.engine: subprocess.Popen[bytes] | None = None

    async def start_emulators(self) -> None:
        await start_emulators(self.procs, self.centra_url, self.wms_urls, self.wms, self.tmp)

    async def files_wms(self) -> dict[str, dict[str, Any]] | None:
        """Each store's ``wms`` table for its files-wms emulator (None with Ongoing)."""
        if self.wms != "files":
            return None
        tables = {}
        for store in STORES:
            async with client(self.wms_urls[store.name]) as wms:
                server = await get_json(wms, "/_emulator/files/server")
            known_hosts = self.tmp / f"{store.warehouse}.known_hosts"
            known_hosts.write_text(server["knownHosts"])
            tables[store.name] = {
                "kind": "files",
                "host": "127.0.0.1",
                "port": server["port"],
                "user": server["user"],
                "known_hosts": str(known_hosts),
                "poll_interval": 0.05,
                "answer_timeout": 5.0,
            }
        return tables

    async def write_config(self) -> None:
        document = settings_document(
            f"sqlite+aiosqlite:///{self.database}",
            centra_host=self.centra_url,
            wms_hosts=self.wms_urls,
            schedule={"shipments": 0.3, "confirmations": 0.3, "cancellations": 1.0, "sweep": 2.0},
            engine={"listen_port": self.engine_port},
            files_wms=await self.files_wms(),
        )
        self.config.write_text(settings_toml(document))

    async def start_engine(self) -> float:
        """Start ``centrasync serve``; returns how long it took to answer /healthz."""
        self.engine = self.procs.start(
            "engine", "serve", "--config", str(self.config), "--worker-id", "crash"
        )
        return await wait_until_up(
            f"http://127.0.0.1:{self.engine_port}/healthz", self.engine, self.procs, "engine"
        )

    def kill_engine(self) -> None:
        assert self.engine is not None
        assert self.engine.poll() is None, f"engine died:\n{self.procs.log('engine')[-3000:]}"
        self.engine.send_signal(signal.SIGKILL)
        self.engine.wait(timeout=10)


@asynccontextmanager
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as opened:
        yield opened


async def get_json(http: httpx.AsyncClient, path: str) -> Any:
    answer = await http.get(path)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def ledger(state: StateStore) -> dict[str, str]:
    states: dict[str, str] = {}
    for store in STORES:
        records = await state.list_records(store.name, kind=RecordKind.SHIPMENT, limit=1000)
        states |= {r.ref.key: r.state for r in records}
    return states


# Twenty restarts take most of the suite's default limit.
@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("wms", ["ongoing", "files"])
async def test_engine_survives_sigkill_at_random_moments(tmp_path: Path, wms: str) -> None:
    rng = random.Random(SEED)
    print(f"crash test: seed {SEED}, {KILLS} kills, {wms} warehouses")
    with processes(tmp_path) as procs:
        run = Run(procs, tmp_path, wms)
        await run.start_emulators()
        await run.write_config()
        async with client(run.centra_url) as centra:
            summary = await get_json(centra, "/_emulator/seed-summary")
            declined = summary["capture_declines"]["shipment"]
            short_pick = summary["short_pick"]["shipment"]
            await configure_world(run, centra, short_pick)
            eans = {s.name: await orderable_eans(centra, s, BATCHES * BATCH) for s in STORES}

            began = time.monotonic()
            batches: list[dict[str, list[str]]] = []
            for kill in range(KILLS):
                startup = await run.start_engine()
                if kill < BATCHES:
                    batches.append(await add_batch(centra, eans))
                if kill == CANCEL_AT_KILL:
                    # Staff cancel a shipment of the previous batch: by now the engine has
                    # most likely sent it, and the warehouse may or may not have started.
                    to_cancel = await cancel_latest_open(
                        centra, [*batches[-2][SE.name], *batches[-1][SE.name]]
                    )
                delay = rng.uniform(0.05, 1.5)
                print(f"kill {kill + 1:2d}: up after {startup:.2f}s, SIGKILL {delay:.2f}s later")
                await asyncio.sleep(delay)
                run.kill_engine()

            print(f"{KILLS} kills in {time.monotonic() - began:.1f}s")
            began = time.monotonic()
            await run.start_engine()
            state = await open_store(f"sqlite+aiosqlite:///{run.database}")
            try:
                await finish(state, centra, run)
                print(f"finished {time.monotonic() - began:.1f}s after the last restart")
                await assert_nothing_lost_or_doubled(
                    state, centra, run, declined=declined, cancelled=to_cancel
                )
                await assert_short_pick(centra, run, short_pick)
            finally:
                await state.close()
        run.kill_engine()
        for name in ("engine", "centra"):
            assert WEBHOOK_SECRET not in procs.log(name)


async def add_batch(centra: httpx.AsyncClient, eans: dict[str, list[str]]) -> dict[str, list[str]]:
    """The next batch of new shipments per store, from each store's unused EANs."""
    added = {}
    for store in STORES:
        added[store.name] = await add_shipments(centra, store, eans[store.name][:BATCH])
        del eans[store.name][:BATCH]
    return added


async def cancel_latest_open(centra: httpx.AsyncClient, shipments: list[str]) -> str:
    """Cancel the last of ``shipments`` Centra still lets go; returns its number.

    A shipment the warehouse already shipped and the engine completed can no longer be
    cancelled (409); how far the run has got by the time staff step in varies.
    """
    for number in reversed(shipments):
        answer = await centra.post(f"/_emulator/shipments/{number}/cancel")
        if answer.status_code == 200:
            return number
        assert answer.status_code == 409, answer.text
    raise AssertionError(f"none of {shipments} could be cancelled")


async def configure_world(run: Run, centra: httpx.AsyncClient, short_pick: str) -> None:
    """Webhooks for store se; both warehouses work by themselves, one short-picks."""
    answer = await centra.put(
        "/_emulator/webhook",
        json={
            "url": f"http://127.0.0.1:{run.engine_port}/webhooks/centra/{SE.name}",
            "secret": WEBHOOK_SECRET,
            "store": SE.uri,
            "timeout": 2,
        },
    )
    assert answer.status_code == 200, answer.text
    for store in STORES:
        async with client(run.wms_urls[store.name]) as wms:
            answer = await wms.put(
                "/_emulator/auto-operator",
                json={
                    "interval": AUTO_OPERATOR_INTERVAL,
                    "short_pick_order_numbers": [short_pick] if store is SE else [],
                },
            )
            assert answer.status_code == 200, answer.text


async def finish(state: StateStore, centra: httpx.AsyncClient, run: Run) -> None:
    """Wait until every shipment reached an end state in the ledger (or time is up)."""
    deadline = time.monotonic() + FINISH_WITHIN
    while True:
        shipments = await get_json(centra, "/_emulator/shipments")
        states = await ledger(state)
        open_ones = {n: s for n, s in states.items() if s not in _FINAL}
        if len(states) >= len(shipments) - 1 and not open_ones:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not finished after {FINISH_WITHIN}s: {len(states)} of {len(shipments)} "
                f"shipments in the ledger; still open: {open_ones}\n"
                f"{run.procs.log('engine')[-3000:]}"
            )
        await asyncio.sleep(0.5)


async def wms_orders(run: Run, store: StoreSetup) -> list[dict[str, Any]]:
    async with client(run.wms_urls[store.name]) as wms:
        snapshot = await get_json(wms, "/_emulator/state")
    orders: list[dict[str, Any]] = snapshot["orders"]
    return orders


async def assert_nothing_lost_or_doubled(
    state: StateStore, centra: httpx.AsyncClient, run: Run, *, declined: str, cancelled: str
) -> None:
    shipments = {s["number"]: s for s in await get_json(centra, "/_emulator/shipments")}
    assert len(shipments) == 50 + 2 * BATCHES * BATCH
    states = await ledger(state)
    dead = {d.record.key: d.reason for store in STORES for d in await state.list_dead(store.name)}
    store_of = {n: SE if s["store"] == SE.uri else US for n, s in shipments.items()}

    # No WMS order twice, and each in its own store's warehouse.
    in_wms: dict[str, dict[str, Any]] = {}
    for store in STORES:
        orders = await wms_orders(run, store)
        numbers = Counter(o["orderInfo"]["orderNumber"] for o in orders)
        doubled = {n: c for n, c in numbers.items() if c > 1}
        assert not doubled, f"WMS orders made twice in {store.name}: {doubled}"
        assert {store_of[n] for n in numbers} <= {store}
        in_wms |= {o["orderInfo"]["orderNumber"]: o for o in orders}

    # No shipment missing: each one completed, or where its special part leaves it.
    completed = set(shipments) - {declined, cancelled}
    assert {n for n in completed if states.get(n) != ShipmentState.COMPLETED} == set()
    assert all(shipments[n]["shipped"] and shipments[n]["tracking"] for n in completed)
    assert set(in_wms) >= completed | {declined}
    assert states[declined] == ShipmentState.CAPTURE_DECLINED
    assert dead.get(declined) == CAPTURE_DECLINED_REASON
    assert not shipments[declined]["shipped"]
    assert shipments[cancelled]["cancelled"]
    cancel_state = states.get(cancelled)
    wms_status = in_wms.get(cancelled, {}).get("orderInfo", {}).get("orderStatus", {})
    print(f"{cancelled}: ledger {cancel_state}, WMS order status {wms_status.get('number')}")
    if cancel_state == ShipmentState.CANCEL_TOO_LATE:
        assert dead.get(cancelled, "").startswith("cancelled in Centra after picking began")
    else:
        # Cancelled in time: the WMS order is cancelled, or the engine never sent one.
        assert cancel_state in (ShipmentState.CANCELLED, None), cancel_state
        assert wms_status.get("number", 1000) == 1000, wms_status
    assert set(dead) <= {declined, cancelled}, dead

    # No shipment completed twice.
    writes = await get_json(centra, "/_emulator/writes")
    completions = Counter(w["shipment"] for w in writes["completions"])
    assert {n: c for n, c in completions.items() if c > 1} == {}
    assert set(completions) == completed

    # No capture repeated, every completed shipment captured, the declined one never.
    captured = Counter(c["shipment"] for c in writes["captures"] if c["outcome"] == "captured")
    assert {n: c for n, c in captured.items() if c > 1} == {}
    assert declined not in captured
    assert {n for n in completed if n not in captured} == set()

    # For the record: how many writes a kill left unconfirmed, later settled by a look or
    # a repeat (the windows this test exists for).
    settled = []
    for number, store in store_of.items():
        for kind in ("wms-order", "capture", "complete"):
            effect = await state.get_effect(f"{kind}/{store.name}/shipment/{number}")
            if effect is not None and effect.attempts > 1:
                settled.append(effect.key)
    print(f"effects left in doubt by a kill, then settled: {len(settled)} {settled}")


async def assert_short_pick(centra: httpx.AsyncClient, run: Run, shipment: str) -> None:
    writes = await get_json(centra, "/_emulator/writes")
    order = [
        (w["kind"], w["shipment"])
        for kind in ("shipment_updates", "completions")
        for w in writes[kind]
    ]
    assert ("shipment_updates", shipment) in order
    updated_at = next(w["at"] for w in writes["shipment_updates"] if w["shipment"] == shipment)
    completed_at = next(w["at"] for w in writes["completions"] if w["shipment"] == shipment)
    assert updated_at <= completed_at
    in_centra = await get_json(centra, f"/_emulator/shipments/{shipment}")
    (wms_order,) = [
        o for o in await wms_orders(run, SE) if o["orderInfo"]["orderNumber"] == shipment
    ]
    picked = {}
    for line in wms_order["orderLines"]:
        picked[int(line["rowNumber"])] = int(line["pickedNumberOfItems"])
    assert {line["line_id"]: line["qty"] for line in in_centra["lines"]} == picked
