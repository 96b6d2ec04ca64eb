"""Conformance suites for connectors, shipped in the package like the emulators.

``WarehouseContract`` is the suite every WMS connector passes; ``OngoingOperator`` and
``ongoing_harness`` bind it to the Ongoing emulator, ``files_harness`` to the file-exchange
(SFTP) emulator, whose control API the same operator drives. It needs pytest and pytest-asyncio,
which the ``testing`` extra installs: ``pip install centrasync[testing]``.
"""

from __future__ import annotations

from .files import files_harness
from .ongoing import OngoingOperator, ongoing_harness
from .operator import PickLine, ReceiptLine, ReturnLine, WarehouseOperator
from .warehouse_contract import WarehouseContract, WarehouseHarness

__all__ = [
    "OngoingOperator",
    "PickLine",
    "ReceiptLine",
    "ReturnLine",
    "WarehouseContract",
    "WarehouseHarness",
    "WarehouseOperator",
    "files_harness",
    "ongoing_harness",
]
