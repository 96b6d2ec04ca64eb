"""Run every benchmark of issue #6, print one table and write ``results.json``.

(a) outbound throughput on SQLite and PostgreSQL at the engine's default concurrency, at
Centra's default budget (10 calls per second) and at an unlimited one, and (b) the engine
against a bare httpx loop of the same calls (same transport, same budget), at concurrency 1
and as throughput at the default concurrency (``outbound.py``), (c) webhook to WMS order latency
(``webhook_latency.py``), (d) the incremental stock sync (``stock_sync.py``) and (e) the
initial article import (``articles_import.py``). (a)-(c) run in this process against
emulators in child processes, each API call taking ``outbound.LATENCY_MS``; (d) and (e)
run as child processes, so their peak memory is their own, and their printed summary is
read back.

    .venv/bin/python benchmarks/run_all.py [--quick] [--output benchmarks/results.json]
        [--skip outbound|stock|articles] [--article-sizes N] [--merge earlier.json]

The default sizes are the issue's (10,000 shipments, 100,000 SKUs and sizes; the floor and
the concurrency-1 run take the first 1,000 shipments, one call at a time at 20 ms each; at
the 10-per-second budget, whose pace is about 5 shipments per second, 1,000 shipments);
they take about an hour and a half. ``--quick`` takes a few minutes.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import outbound
import webhook_latency

from centrasync.config import EngineSettings
from centrasync.logs import configure_logging

HERE = Path(__file__).resolve().parent
SIZES = {
    "full": {
        "shipments": 10_000,
        "budgeted_shipments": 1000,
        "floor_shipments": 1000,
        "webhooks": 500,
        "skus": 100_000,
        "sizes": 100_000,
    },
    "quick": {
        "shipments": 200,
        "budgeted_shipments": 100,
        "floor_shipments": 200,
        "webhooks": 100,
        "skus": 10_000,
        "sizes": 10_000,
    },
}
# One order every 50 ms is 72,000 an hour, for one store: about half of what its goods
# owner's sequential WMS writes can take at 20 ms each (ongoing-api.md section 8), so the
# figure is the engine's latency, not a queue at the warehouse.
WEBHOOK_GAP = 0.05
DEFAULT_CONCURRENCY = EngineSettings.model_fields["concurrency"].default


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else model
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def child(script: str, *arguments: str) -> str:
    """Run one benchmark script as its own process and return what it printed."""
    done = subprocess.run(
        [sys.executable, script, *arguments],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{script} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def number(pattern: str, text: str, script: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise SystemExit(f"{script}: no line matching {pattern!r} in its output:\n{text}")
    return float(found.group(1))


def stock_sync(skus: int) -> dict[str, Any]:
    script = "stock_sync.py"
    text = child(script, "--skus", str(skus), "--page-size", "5000")
    runs = re.findall(
        r"^\s*\d+\s+\d+\s+\d+\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+\s+[\d.]+$", text, re.M
    )
    if not runs:
        raise SystemExit(f"{script}: no run rows in its output:\n{text}")
    return {
        "benchmark": "stock_sync",
        "skus": skus,
        "changed": 0.01,
        "incremental_s": number(
            r"median wall time of \d+ incremental passes: ([\d.]+) s", text, script
        ),
        "calls": sum(int(n) for n in runs[-1]),
        "peak_python_mib": number(r"during one incremental pass ([\d.]+) MiB", text, script),
        "max_rss_mib": number(r"process max RSS ([\d.]+) MiB", text, script),
        "output": text,
    }


def articles_import(sizes: int) -> dict[str, Any]:
    script = "articles_import.py"
    text = child(script, "--sizes", str(sizes), "--runs", "1")
    calls = re.search(r"^\s*1\s+engine\s.*?(\{.*\})$", text, re.M)
    if calls is None:
        raise SystemExit(f"{script}: no engine row in its output:\n{text}")
    return {
        "benchmark": "articles_import",
        "sizes": sizes,
        "seconds": number(r"engine ([\d.]+) s \(", text, script),
        "engine_over_bare": number(r"engine / bare ([\d.]+)", text, script),
        "calls": sum(ast.literal_eval(calls.group(1)).values()),
        "peak_python_mib": number(r"one engine pass: ([\d.]+) MiB", text, script),
        "max_rss_mib": number(r"process max RSS: ([\d.]+) MiB", text, script),
        "output": text,
    }


async def in_process(size: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for kind in ("sqlite", "postgresql"):
        for rate in (outbound.DEFAULT_RATE, outbound.UNLIMITED):
            count = size["shipments" if rate == outbound.UNLIMITED else "budgeted_shipments"]
            print(
                f"(a, b) outbound, {count} shipments on {kind}, Centra budget "
                f"{outbound.rate_name(rate)} ...",
                flush=True,
            )
            row = await outbound.measure(
                count,
                kind,
                concurrency=DEFAULT_CONCURRENCY,
                floor_count=size["floor_shipments"],
                centra_rate=rate,
            )
            outbound.report(row)
            rows.append(row)
    print(f"(c) webhook latency, {size['webhooks']} webhooks ...", flush=True)
    row = await webhook_latency.measure(size["webhooks"], WEBHOOK_GAP, "sqlite")
    webhook_latency.report(row)
    rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(benchmark, size, figures) per row, for the terminal and the README."""
    lines = []
    for row in rows:
        name = row["benchmark"]
        if name == "outbound":
            # Rows of a results.json from before the budget was measured ran unlimited.
            where = f"{row['database']}, Centra {row.get('centra_rate', 'unlimited')}"
            lines.append(
                (
                    f"(a) outbound, {where}",
                    f"{row['shipments']} shipments, concurrency {row['concurrency']}",
                    f"{row['shipments_per_s']:.1f} shipments/s ({row['seconds']:.0f} s); "
                    f"{row['centra_calls_per_shipment']:.2f} Centra + "
                    f"{row['wms_calls_per_shipment']:.2f} WMS calls per shipment",
                )
            )
            lines.append(
                (
                    f"(b) engine / bare loop, {where}",
                    f"{row['floor_shipments']} shipments, concurrency 1",
                    f"{row['engine_over_bare']:.2f} (bare {row['floor_seconds']:.1f} s, "
                    f"engine {row['concurrency_1_seconds']:.1f} s)",
                )
            )
            lines.append(
                (
                    f"(b) throughput over the floor, {where}",
                    f"concurrency {row['concurrency']}",
                    f"{row['throughput_over_floor']:.2f}x (engine {row['shipments_per_s']:.1f}, "
                    f"floor {row['floor_shipments_per_s']:.1f} shipments/s)",
                )
            )
        elif name == "webhook_latency":
            lines.append(
                (
                    "(c) webhook to WMS order",
                    f"{row['orders']} webhooks, one per {row['gap_s'] * 1000:.0f} ms",
                    f"p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms (floor, the "
                    f"three calls alone: p50 {row['floor_p50_ms']:.0f} ms, "
                    f"p99 {row['floor_p99_ms']:.0f} ms)",
                )
            )
        elif name == "stock_sync":
            lines.append(
                (
                    "(d) stock sync, 1 % changed",
                    f"{row['skus']} SKUs",
                    f"{row['incremental_s']:.2f} s, {row['calls']} calls, peak "
                    f"{row['peak_python_mib']:.0f} MiB Python / {row['max_rss_mib']:.0f} MiB RSS",
                )
            )
        else:
            lines.append(
                (
                    "(e) initial article import",
                    f"{row['sizes']} sizes",
                    f"{row['seconds']:.2f} s, {row['calls']} calls, engine / bare "
                    f"{row['engine_over_bare']:.2f}, peak {row['peak_python_mib']:.0f} MiB "
                    f"Python / {row['max_rss_mib']:.0f} MiB RSS",
                )
            )
    return lines


def markdown(lines: list[tuple[str, str, str]]) -> str:
    out = ["| Benchmark | Size | Result |", "|---|---|---|"]
    out += [f"| {name} | {size} | {figures} |" for name, size, figures in lines]
    return "\n".join(out)


PARTS = ("outbound", "stock", "articles")


def main(
    quick: bool,
    output: Path,
    *,
    skip: frozenset[str] = frozenset(),
    article_sizes: int | None = None,
    merge: Path | None = None,
) -> None:
    """Run the parts not in ``skip``; rows of skipped parts come from ``merge`` if given.

    The full article import alone takes some twenty-five minutes (a bare loop included),
    so a run may measure it apart, or smaller (``article_sizes``), and say so.
    """
    size = dict(SIZES["quick" if quick else "full"])
    if article_sizes is not None:
        size["sizes"] = article_sizes
    rows: list[dict[str, Any]] = []
    if "outbound" not in skip:
        rows += asyncio.run(in_process(size))
    if "stock" not in skip:
        print(f"(d) stock sync, {size['skus']} SKUs ...", flush=True)
        rows.append(stock_sync(size["skus"]))
    if "articles" not in skip:
        print(f"(e) article import, {size['sizes']} sizes ...", flush=True)
        rows.append(articles_import(size["sizes"]))
    measured = {row["benchmark"] for row in rows}
    if merge is not None:
        earlier = json.loads(merge.read_text())
        rows += [row for row in earlier["results"] if row["benchmark"] not in measured]
    host = machine()
    print(
        f"\n{host['cpu']}, {host['cores']} cores, Python {host['python']}, {host['date']}"
        f"{' (quick sizes)' if quick else ''}\n"
    )
    print(markdown(table(rows)))
    print(
        f"\n(a)-(c): emulators in child processes (Centra, each warehouse) over loopback, "
        f"every API call taking {outbound.LATENCY_MS:g} ms (a WMS write inside its goods "
        "owner's write lane)."
    )
    results = {
        "machine": host,
        "quick": quick,
        "sizes": size,
        "merged_from": str(merge) if merge else None,
        "results": rows,
    }
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument("--skip", action="append", choices=PARTS, default=[])
    parser.add_argument("--article-sizes", type=int, help="sizes for (e) instead of the default")
    parser.add_argument("--merge", type=Path, help="results.json whose rows fill skipped parts")
    args = parser.parse_args()
    configure_logging(level="warning")
    main(
        args.quick,
        args.output,
        skip=frozenset(args.skip),
        article_sizes=args.article_sizes,
        merge=args.merge,
    )
