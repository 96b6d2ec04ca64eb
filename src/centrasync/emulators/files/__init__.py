"""The file-exchange WMS emulator: an SFTP server (asyncssh) over a local folder playing a 3PL."""

from __future__ import annotations

from .emulator import FilesWmsEmulator
from .warehouse import FAULT_KINDS, FileWarehouse

__all__ = ["FAULT_KINDS", "FileWarehouse", "FilesWmsEmulator"]
