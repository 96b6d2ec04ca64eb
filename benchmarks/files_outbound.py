"""Benchmark: outbound throughput through the file-exchange connector, beside Ongoing's.

The same run as ``outbound.py`` (two stores, N Good-to-Go shipments placed before the
clock starts, ``Engine.run_once()`` passes, the warehouses shipping every open order
between passes, untimed), with each store's warehouse a files-wms emulator: an SFTP
server in a child process of its own, as Centra is, reached over loopback with host-key
checking on. Each shipment is an order file written to the warehouse, a dispatch
confirmation read back and archived, and the connector's state documents on the same
server; Centra calls take ``--latency-ms`` as in ``outbound.py``; SFTP calls take what
loopback takes (no latency is added: the connector's own cost is what is measured).

    .venv/bin/python benchmarks/files_outbound.py [--shipments 10000] [--database sqlite]
        [--concurrency 8] [--latency-ms 20] [--ongoing-shipments 10000] [--centra-rate R]

Printed: shipments per second for the file connector and, with ``--ongoing-shipments``
(0 to skip), for the Ongoing connector on the same Centra (``outbound.measure``, no floor);
files per shipment: exchanged with the warehouse (written to its in-folders, read from its
out-folders) and the connector's state writes, counted on the server afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import outbound
from remote import child_apps

from centrasync.config import parse_settings
from centrasync.logs import configure_logging
from centrasync.runtime import Engine
from centrasync.store.base import RecordKind
from centrasync.store.sql import open_store
from centrasync.sync.shipments import ShipmentState
from centrasync.sync.tally import Tally

WMS_PASSWORD = outbound.WMS_PASSWORD


async def build(count: str, latency_ms: str, part: str) -> dict[str, Any]:
    """Centra as in ``outbound.py``, or store ``part``'s files-wms emulator serving SFTP."""
    if part == "centra":
        return await outbound.build_shop(count, latency_ms, part)
    from centrasync.emulators.files import FilesWmsEmulator

    root = Path(tempfile.mkdtemp(prefix=f"files-bench-{part}-"))
    emulator = FilesWmsEmulator(root, password=WMS_PASSWORD)
    await emulator.start()
    return {part: emulator.app}


def settings_document(
    url: str, urls: dict[str, str], servers: dict[str, dict[str, Any]], folder: Path, **engine: Any
) -> dict[str, Any]:
    document = outbound.settings_document(url, urls, **engine)
    for name, server in servers.items():
        known_hosts = folder / f"{name}.known_hosts"
        known_hosts.write_text(server["knownHosts"], encoding="utf-8")
        document["stores"][name]["wms"] = {
            "kind": "files",
            "host": "127.0.0.1",
            "port": server["port"],
            "user": server["user"],
            "known_hosts": str(known_hosts),
        }
    return document


async def files_run(
    count: int, kind: str, concurrency: int, latency_ms: float, centra_rate: float
) -> dict[str, Any]:
    names = ("centra", *outbound.STORES)
    async with (
        child_apps("files_outbound:build", count, latency_ms, apart=names) as urls,
        outbound.database(kind) as url,
        httpx.AsyncClient(timeout=600) as control,
    ):
        servers = {
            name: (await control.get(f"{urls[name]}/_emulator/files/server")).json()
            for name in outbound.STORES
        }
        with tempfile.TemporaryDirectory() as folder:
            document = settings_document(
                url,
                urls,
                servers,
                Path(folder),
                concurrency=concurrency,
                centra_rate=centra_rate,
            )
            settings = parse_settings(document, outbound.secrets_env())
            state = await open_store(url)
            engine = Engine(settings, state, events=Tally(), owner="bench")
            took, passes, completed = 0.0, 0, 0
            try:
                async with engine:
                    while completed < count and passes < 20:
                        began = time.perf_counter()
                        await engine.run_once()
                        took += time.perf_counter() - began
                        passes += 1
                        for name in outbound.STORES:
                            answer = await control.post(f"{urls[name]}/_emulator/orders/ship-open")
                            answer.raise_for_status()
                        completed = 0
                        for name in outbound.STORES:
                            records = await state.list_records(
                                name, kind=RecordKind.SHIPMENT, limit=count + 1
                            )
                            completed += sum(r.state == ShipmentState.COMPLETED for r in records)
                    written = sum(getattr(wms, "files_written", 0) for wms in engine.wms.values())
                    read = sum(getattr(wms, "files_read", 0) for wms in engine.wms.values())
            finally:
                await state.close()
        folders: Counter[str] = Counter()
        for name in outbound.STORES:
            listing = (await control.get(f"{urls[name]}/_emulator/files")).json()
            for folder_name, files in listing.items():
                top = "/".join(folder_name.split("/")[:2])
                folders[top] += len(files)
    if completed != count:
        raise SystemExit(f"only {completed} of {count} shipments completed after {passes} passes")
    state_files = sum(n for folder, n in folders.items() if folder.startswith("centrasync-state"))
    return {
        "benchmark": "files_outbound",
        "database": kind,
        "concurrency": concurrency,
        "latency_ms": latency_ms,
        "centra_rate": outbound.rate_name(centra_rate),
        "shipments": count,
        "passes": passes,
        "seconds": round(took, 2),
        "shipments_per_s": round(count / took, 1),
        "files_written_per_shipment": round(written / count, 2),
        "files_read_per_shipment": round(read / count, 2),
        "state_documents_per_shipment": round(state_files / count, 2),
        "files_on_server": dict(sorted(folders.items())),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shipments", type=int, default=10_000)
    parser.add_argument("--ongoing-shipments", type=int, default=10_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=outbound.LATENCY_MS)
    parser.add_argument("--centra-rate", default="unlimited")
    args = parser.parse_args()
    configure_logging(level="warning")
    rate = outbound.UNLIMITED if args.centra_rate == "unlimited" else float(args.centra_rate)
    rows = [await files_run(args.shipments, args.database, args.concurrency, args.latency_ms, rate)]
    print(json.dumps(rows[0], indent=2), flush=True)
    if args.ongoing_shipments:
        ongoing = await outbound.measure(
            args.ongoing_shipments,
            args.database,
            concurrency=args.concurrency,
            floor_count=None,
            latency_ms=args.latency_ms,
            centra_rate=rate,
        )
        rows.append(ongoing)
        print(json.dumps({k: v for k, v in ongoing.items() if k != "calls"}, indent=2))
    print()
    print("connector  shipments  seconds  shipments/s")
    for row in rows:
        name = "files" if row["benchmark"] == "files_outbound" else "ongoing"
        print(f"{name:<10} {row['shipments']:>9} {row['seconds']:>8} {row['shipments_per_s']:>12}")


if __name__ == "__main__":
    asyncio.run(main())
