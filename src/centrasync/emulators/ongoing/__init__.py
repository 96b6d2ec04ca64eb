"""A faithful local emulator of the Ongoing WMS REST API with a warehouse-operator API."""

from __future__ import annotations

from centrasync.emulators.ongoing.emulator import OngoingEmulator
from centrasync.emulators.ongoing.floor import OngoingState
from centrasync.emulators.ongoing.model import DEFAULT_STATUSES, OngoingApiError, StatusTable

__all__ = ["DEFAULT_STATUSES", "OngoingApiError", "OngoingEmulator", "OngoingState", "StatusTable"]
