"""Issue #19: 1,000 Integration API list queries under a plan's quotas, with no 429.

The Centra emulator runs in a child process (``remote.py``) with the demo seed and a
start-up token; the client reaches it over loopback with a :class:`QuotaBudget`, as the
engine would, and runs ``--queries`` list queries (``orders``, 20 a page, cycling over the
pages) one after the other. Printed: wall time, the time the quota allows for those
queries, their ratio, 429 answers, and the client's own ``rateLimits`` reads.

The time the quota allows: each of the six buckets starts full and refills evenly, so
``n`` requests costing ``c`` each need ``max(0, n * c - quota) / (quota / window)`` seconds
of it; the tightest bucket sets the bound (on Growth, requests over 10 s: 60 at once,
then 6 a second, some 157 s for 1,000). The complexity of a query is what the emulator
reported for it. The client's ``rateLimits`` reads come out of the same buckets and count
against its time, not the bound.

``--scale k`` multiplies every quota by ``k`` through ``PUT /_emulator/rate-limits``:
the same plan with its windows k times shorter, so the loop takes 1/k of the time.

    ../.venv/bin/python integration_api.py [--plan growth] [--queries 1000] [--scale 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from remote import child_apps

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.http.quota import QuotaBudget

TOKEN = "bench-token"
WINDOWS = {"10s": 10.0, "1h": 3600.0}


def build() -> dict[str, Any]:
    """The child's app: the seeded Centra emulator with a start-up token."""
    from centrasync.emulators.centra import CentraEmulator

    return {"centra": CentraEmulator(seed="demo", graphql_token=TOKEN).app}


def quota_bound(quotas: dict[str, int], queries: int, complexity: float) -> tuple[float, str]:
    """Seconds the quotas allow ``queries`` list queries, and the bucket that binds."""
    costs = {"requests": float(queries), "complexity": queries * complexity, "mutations": 0.0}
    bound, binding = 0.0, ""
    for key, quota in quotas.items():
        kind, _, window = key.rpartition("_")
        need = max(0.0, costs[kind] - quota) / (quota / WINDOWS[window])
        if need > bound:
            bound, binding = need, key
    return bound, binding


async def run(plan: str, queries: int, scale: float) -> dict[str, Any]:
    async with child_apps("integration_api:build") as urls:
        base = urls["centra"]
        async with httpx.AsyncClient(base_url=base) as control:
            chosen = await control.put("/_emulator/rate-limits", json={"plan": plan})
            chosen.raise_for_status()
            quotas = {k: int(v * scale) for k, v in chosen.json()["quotas"].items()}
            (
                await control.put("/_emulator/rate-limits", json={"quotas": quotas})
            ).raise_for_status()
        budget = QuotaBudget()
        complexity: list[int] = []
        async with IntegrationApiClient(
            f"{base}/graphql", SecretStr(TOKEN), budget=budget
        ) as client:
            began = time.perf_counter()
            for index in range(queries):
                answer = await client.execute(
                    "orders", {"limit": 20, "page": index % 3 + 1, "sort": ["number_ASC"]}
                )
                complexity.append(answer.complexity)
            seconds = time.perf_counter() - began
            stats = client.transport.stats
        per_query = sum(complexity) / len(complexity)
        bound, binding = quota_bound(quotas, queries, per_query)
        return {
            "plan": plan,
            "scale": scale,
            "queries": queries,
            "seconds": seconds,
            "quota_bound_seconds": bound,
            "binding_bucket": binding,
            "ratio": seconds / bound if bound else float("nan"),
            "rate_limited": stats.rate_limited,
            "requests": stats.attempts,
            "rate_limit_reads": stats.attempts - queries - stats.retries,
            "complexity_per_query": per_query,
            "budget_waited_seconds": budget.waited,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default="growth")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    result = asyncio.run(run(args.plan, args.queries, args.scale))
    print(f"plan {result['plan']} x{result['scale']:g}, {result['queries']} list queries")
    print(f"  time            {result['seconds']:.1f} s")
    print(
        f"  quota allows    {result['quota_bound_seconds']:.1f} s "
        f"(bound by {result['binding_bucket']})"
    )
    print(f"  ratio           {result['ratio']:.3f}")
    print(f"  429 answers     {result['rate_limited']}")
    print(
        f"  requests        {result['requests']} "
        f"({result['rate_limit_reads']} rateLimits reads by the client)"
    )
    print(f"  complexity      {result['complexity_per_query']:.0f} per query")
    print(f"  budget waited   {result['budget_waited_seconds']:.1f} s")


if __name__ == "__main__":
    main()
