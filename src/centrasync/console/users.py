"""``centrasync user add``: an operator's argon2 hash written into ``centrasync.toml``.

The file is the operator's own, with their comments and layout, so the hash is inserted
as one line under ``[console.users]`` (the table is added at the end when missing) rather
than the document being rewritten; the result is read back before it replaces the file.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from pathlib import Path

from centrasync.config import ConsoleSettings
from centrasync.errors import ConfigError

from .auth import hash_password

__all__ = ["MIN_PASSWORD_LENGTH", "add_user"]

MIN_PASSWORD_LENGTH = 12
_TABLE = re.compile(r"^\s*\[\s*console\.users\s*\]\s*(#.*)?$", re.MULTILINE)


def add_user(path: Path, name: str, password: str) -> None:
    """Add ``name`` with a hash of ``password``; an existing name or a weak password is
    refused, and so is a file that would not parse afterwards."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} not found") from None
    try:
        current = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    console = current.get("console", {})
    if name in console.get("users", {}):
        raise ConfigError(f"console.users: {name!r} exists already; choose another name")
    line = f'"{name}" = "{hash_password(password)}"\n'
    found = _TABLE.search(text)
    if found is not None:
        end = found.end() + 1
        updated = text[:end] + line + text[end:]
    else:
        separator = "" if text.endswith("\n") or not text else "\n"
        updated = f"{text}{separator}\n[console.users]\n{line}"
    try:
        after = tomllib.loads(updated)
        ConsoleSettings.model_validate(after.get("console", {}))
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: could not add the operator safely: {exc}") from None
    if name not in after.get("console", {}).get("users", {}):
        raise ConfigError(f"{path}: could not add the operator under [console.users]")
    _replace(path, updated)


def _replace(path: Path, text: str) -> None:
    """Write next to the file, then rename over it: never a half-written configuration."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
