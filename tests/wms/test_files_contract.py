"""The warehouse contract against the file-exchange WMS emulator over real SFTP, in CSV and
in XML (with a decimal comma and Latin-1, so the format settings are exercised too)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from centrasync.testing import WarehouseContract, WarehouseHarness
from centrasync.testing.files import files_harness
from centrasync.wms.files import Codec, Format


class TestFilesWarehouseContract(WarehouseContract):
    def open_harness(self) -> AbstractAsyncContextManager[WarehouseHarness]:
        return files_harness()


class TestFilesWarehouseContractXml(WarehouseContract):
    def open_harness(self) -> AbstractAsyncContextManager[WarehouseHarness]:
        codec = Codec(format=Format.XML, encoding="latin-1", decimal_separator=",")
        return files_harness(codec=codec)
