"""What the shipment flows need from Centra and what they tell the outside world.

The flows see protocols, never the concrete client, so tests can drive them against the
emulator through the real client or against a fake, and ``cli``/``server`` do the wiring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from centrasync.centra.integration.models import Shipment as IntegrationShipment
from centrasync.centra.models import Order, Shipment
from centrasync.centra.results import Page, SerialNumber, ShipmentRef
from centrasync.centra.types import Moment, ShipmentStatus

__all__ = ["CentraShipments", "FlowEvents", "IntegrationShipment", "NullEvents", "ShipmentLookup"]


class CentraShipments(Protocol):
    """The Order API calls the outbound, confirmation and cancellation flows make."""

    async def list_shipments(
        self,
        status: ShipmentStatus = "goodtogo",
        *,
        limit: int | None = None,
        offset: int | None = None,
        newer_than: Moment | None = None,
        older_than: Moment | None = None,
        order: str | int | None = None,
    ) -> Page[Shipment]: ...

    async def get_order(self, order: str | int) -> Order: ...

    async def capture_shipment(self, shipment: str) -> ShipmentRef: ...

    async def update_shipment(
        self,
        shipment: str,
        *,
        quantities: Mapping[str, int] | None = None,
        serial_numbers: Mapping[str, SerialNumber] | None = None,
        gtg: bool | None = None,
    ) -> Shipment: ...

    async def complete_shipment(
        self,
        order: str | int,
        shipment: str,
        *,
        carrier: str | None = None,
        service: str | None = None,
        packages: int | None = None,
        tracking: str | None = None,
        return_slip_tracking: str | None = None,
        send_email: bool | None = None,
        capture: bool | None = None,
        internal_comment: str | None = None,
    ) -> ShipmentRef: ...


class ShipmentLookup(Protocol):
    """The Integration API query that names the shipment behind a webhook's internal id
    (the Order API knows shipments by number only)."""

    async def shipments(
        self,
        where: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[IntegrationShipment]: ...


class FlowEvents(Protocol):
    """Counts the flows report; Prometheus in ``server``, a tally in the demo and tests.

    ``flow`` is one of ``outbound``, ``confirmation``, ``cancellation``.
    """

    def processed(self, store: str, flow: str) -> None:
        """One record reached a new state in this flow."""
        ...

    def failed(self, store: str, flow: str) -> None:
        """One attempt failed and will be retried."""
        ...

    def parked(self, store: str, flow: str, reason: str) -> None:
        """A record went to dead letters; a person has to look."""
        ...

    def recovered(self, store: str, flow: str) -> None:
        """The reconciliation sweep found a record no webhook announced."""
        ...

    def lag(self, store: str, flow: str, seconds: float) -> None:
        """Age of the oldest record the flow just handled (source time to now)."""
        ...


class NullEvents:
    """Reports nowhere; for callers that only want the side effects."""

    def processed(self, store: str, flow: str) -> None:
        return None

    def failed(self, store: str, flow: str) -> None:
        return None

    def parked(self, store: str, flow: str, reason: str) -> None:
        return None

    def recovered(self, store: str, flow: str) -> None:
        return None

    def lag(self, store: str, flow: str, seconds: float) -> None:
        return None
