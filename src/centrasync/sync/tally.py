"""An in-memory :class:`~centrasync.sync.ports.FlowEvents`: counts to read back directly.

The demo's live view and the tests read these numbers; ``serve`` exports the same
events to Prometheus instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Tally"]


@dataclass
class Tally:
    """Counts per ``(store, flow)``; ``parked_reasons`` per ``(store, reason)``."""

    processed_count: Counter[tuple[str, str]] = field(default_factory=Counter)
    failed_count: Counter[tuple[str, str]] = field(default_factory=Counter)
    parked_count: Counter[tuple[str, str]] = field(default_factory=Counter)
    parked_reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    recovered_count: Counter[tuple[str, str]] = field(default_factory=Counter)
    last_lag: dict[tuple[str, str], float] = field(default_factory=dict)

    def processed(self, store: str, flow: str) -> None:
        self.processed_count[store, flow] += 1

    def failed(self, store: str, flow: str) -> None:
        self.failed_count[store, flow] += 1

    def parked(self, store: str, flow: str, reason: str) -> None:
        self.parked_count[store, flow] += 1
        self.parked_reasons[store, reason] += 1

    def recovered(self, store: str, flow: str) -> None:
        self.recovered_count[store, flow] += 1

    def lag(self, store: str, flow: str, seconds: float) -> None:
        self.last_lag[store, flow] = seconds
