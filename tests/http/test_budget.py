from __future__ import annotations

import asyncio

from centrasync.http import Priority, RateBudget


async def test_burst_is_granted_at_once() -> None:
    budget = RateBudget(rate=1000, burst=3, clock=lambda: 0.0)
    for _ in range(3):
        await asyncio.wait_for(budget.acquire(), 0.1)
    assert sum(budget.granted.values()) == 3


async def test_order_flow_served_before_catalogue_and_analytics() -> None:
    budget = RateBudget(rate=50, burst=1)
    await budget.acquire(Priority.ANALYTICS)
    served: list[str] = []

    async def take(name: str, priority: Priority) -> None:
        await budget.acquire(priority)
        served.append(name)

    tasks = [
        asyncio.create_task(take("analytics", Priority.ANALYTICS)),
        asyncio.create_task(take("catalogue", Priority.CATALOGUE)),
        asyncio.create_task(take("order-1", Priority.ORDER_FLOW)),
        asyncio.create_task(take("order-2", Priority.ORDER_FLOW)),
    ]
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert served == ["order-1", "order-2", "catalogue", "analytics"]


async def test_rate_is_respected_over_time() -> None:
    budget = RateBudget(rate=200, burst=1)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(21):
        await budget.acquire()
    elapsed = loop.time() - start
    assert elapsed >= 20 / 200 * 0.9


async def test_cancelled_waiter_does_not_consume_a_token() -> None:
    now = [0.0]
    budget = RateBudget(rate=10, burst=1, clock=lambda: now[0])
    await budget.acquire()
    waiter = asyncio.create_task(budget.acquire(Priority.ORDER_FLOW))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.sleep(0)
    now[0] += 0.1
    await asyncio.wait_for(budget.acquire(Priority.ANALYTICS), 1)
    assert budget.granted[Priority.ANALYTICS] == 1
