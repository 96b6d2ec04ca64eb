"""The hand-moved clock every test shares, so time rules are tested without waiting.

A top-level module of ``tests/`` (on ``sys.path`` through the root conftest), so test
packages and the emulator tests' plain folders import it alike: ``from fake_clock import``.
"""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """A settable aware "now"; its :meth:`sleep` moves it on instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move on by ``timedelta(**delta)``, e.g. ``advance(minutes=5)``."""
        self.now += timedelta(**delta)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds=seconds)
