"""Emulators in a child process, reached over real sockets, as the engine reaches the real APIs.

A benchmark that runs the emulators in its own process charges their work (routing,
rendering, their catalogues in memory) to the engine's CPU and memory. :func:`child_apps`
starts this file as a child process instead: it calls a *builder* (``module:function`` in
``benchmarks/``, given string arguments; it may be a coroutine function) that returns named
ASGI apps, serves each with uvicorn on an ephemeral port of 127.0.0.1, and prints one JSON
line naming the ports. The child stops when its standard input closes, so it never
outlives the benchmark.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import inspect
import json
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

__all__ = ["child_apps"]

HERE = Path(__file__).resolve().parent
Builder = Callable[..., Mapping[str, Any] | Awaitable[Mapping[str, Any]]]


@asynccontextmanager
async def child_apps(
    builder: str, *args: object, apart: Sequence[str] = ()
) -> AsyncIterator[dict[str, str]]:
    """Serve ``builder(*args)``'s apps in a child; yields app name -> base URL.

    With ``apart``, each named app is served by a child of its own, built by
    ``builder(*args, name)``: services that are separate in the world (Centra, each
    warehouse) then do not queue behind each other's requests on one event loop.
    """
    if not apart:
        async with _child(builder, args) as urls:
            yield urls
        return
    async with AsyncExitStack() as children:
        urls: dict[str, str] = {}
        for name in apart:
            urls |= await children.enter_async_context(_child(builder, (*args, name)))
        yield urls


@asynccontextmanager
async def _child(builder: str, args: Sequence[object]) -> AsyncIterator[dict[str, str]]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "remote.py"),
        builder,
        *(str(arg) for arg in args),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=HERE,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        # Building a large world takes a while; the limit only catches a child that hangs.
        line = await asyncio.wait_for(child.stdout.readline(), 600)
        if not line:
            raise SystemExit(f"the emulator process for {builder} exited ({await child.wait()})")
        ports: dict[str, int] = json.loads(line)
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    finally:
        child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 30)
        except TimeoutError:
            child.kill()
            await child.wait()


async def _serve(builder: Builder, args: list[str]) -> None:
    import uvicorn

    built = builder(*args)
    apps = await built if inspect.isawaitable(built) else built
    # The seeded world is long-lived: frozen, the collector's full passes stop walking it.
    # Unfrozen, they paused the Centra emulator 140-190 ms at a time during a run, a stall
    # of our emulator that a real Centra does not have and the latency figures then carried.
    gc.freeze()
    # Port 0 lets the system choose. (Handing uvicorn pre-bound sockets instead left
    # Nagle's algorithm on, which added some 40 ms to every call.)
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=0,
                log_level="warning",
                lifespan="off",
                access_log=False,
                backlog=2048,
            )
        )
        for app in apps.values()
    ]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    while not all(server.started for server in servers):
        await asyncio.sleep(0.01)
    ports = {
        name: server.servers[0].sockets[0].getsockname()[1]
        for name, server in zip(apps, servers, strict=True)
    }
    print(json.dumps(ports), flush=True)
    closed = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(
        target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(closed.set)), daemon=True
    ).start()
    await closed.wait()
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    module, _, function = sys.argv[1].partition(":")
    sys.path.insert(0, str(HERE))
    asyncio.run(_serve(getattr(importlib.import_module(module), function), sys.argv[2:]))
