"""Conformance suites for connectors, shipped in the package like the emulators.

``WarehouseContract`` is the suite every WMS connector passes; ``OngoingOperator`` and
``ongoing_harness`` bind it to the Ongoing emulator, ``files_harness`` to the file-exchange
(SFTP) emulator, whose control API the same operator drives. ``IntegrationApiContract`` runs
the Integration API client against a Centra serving it; ``centra_harness`` binds it to the
Centra emulator. It needs pytest and pytest-asyncio,
which the ``testing`` extra installs: ``pip install centrasync[testing]``.

``centrasync.testing.conformance`` (imported on its own, it needs jsonschema from the same
extra) checks the emulators' answers against OpenAPI documents written from the vendors'
documentation.
"""

from __future__ import annotations

from .centra import CentraHarness, centra_harness
from .files import files_harness
from .integration_contract import IntegrationApiContract, exercises
from .ongoing import OngoingOperator, ongoing_harness
from .operator import PickLine, ReceiptLine, ReturnLine, WarehouseOperator
from .warehouse_contract import WarehouseContract, WarehouseHarness

__all__ = [
    "CentraHarness",
    "IntegrationApiContract",
    "OngoingOperator",
    "PickLine",
    "ReceiptLine",
    "ReturnLine",
    "WarehouseContract",
    "WarehouseHarness",
    "WarehouseOperator",
    "centra_harness",
    "exercises",
    "files_harness",
    "ongoing_harness",
]
