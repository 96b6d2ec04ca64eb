"""The Ongoing WMS connector (REST API v1)."""

from __future__ import annotations

from .client import OngoingWarehouse
from .mapping import OngoingStatusCodes

__all__ = ["OngoingStatusCodes", "OngoingWarehouse"]
