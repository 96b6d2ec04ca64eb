"""Small types the Order API client shares with its callers, free of the HTTP stack."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, TypeAlias

__all__ = ["Moment", "ShipmentStatus"]

Moment: TypeAlias = datetime | date
"""A filter time: an aware datetime (rendered in the merchant's zone) or a calendar day."""

ShipmentStatus: TypeAlias = Literal["goodtogo", "inprogress", "completed"]
"""The lists ``GET /shipments`` serves."""
