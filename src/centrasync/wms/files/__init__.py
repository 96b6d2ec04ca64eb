"""The file-exchange warehouse connector: CSV or XML files over SFTP (asyncssh)."""

from __future__ import annotations

from .client import FilesWarehouse, codec_for
from .formats import Codec, Format, Message
from .sftp import SftpLogin

__all__ = ["Codec", "FilesWarehouse", "Format", "Message", "SftpLogin", "codec_for"]
