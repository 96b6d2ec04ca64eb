"""What each record flow of a store is built from, and how it names and guards its records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar

from centrasync.config import StoreSettings
from centrasync.store.base import RecordKind, RecordRef, StateStore
from centrasync.wms.base import Warehouse

from .policy import ParkedStates, RecordPolicy
from .ports import FlowEvents, NullEvents

__all__ = ["RecordFlow"]

C = TypeVar("C")


@dataclass
class RecordFlow(Generic[C]):
    """One store's flow over records of one kind; ``C`` is the Centra API it calls.

    A flow names its records with :meth:`ref` and runs them through :attr:`policy`, the one
    record-step policy, under its name (``FLOW``), its parked states and, where a retryable
    error must end the pass, ``STOP_ON_RETRY``.
    """

    FLOW: ClassVar[str]
    KIND: ClassVar[RecordKind]
    PARKED: ClassVar[ParkedStates]
    STOP_ON_RETRY: ClassVar[bool] = False

    settings: StoreSettings
    state: StateStore
    centra: C
    wms: Warehouse
    events: FlowEvents = field(default_factory=NullEvents)
    max_attempts: int = 8
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def store_name(self) -> str:
        return self.settings.name

    def ref(self, key: str) -> RecordRef:
        return RecordRef(self.store_name, self.KIND, key)

    @property
    def policy(self) -> RecordPolicy:
        """The policy on the flow as it is now (tests swap its store or events)."""
        return RecordPolicy(
            self.state,
            self.events,
            self.store_name,
            self.FLOW,
            self.PARKED,
            self.max_attempts,
            stop_on_retry=self.STOP_ON_RETRY,
        )
