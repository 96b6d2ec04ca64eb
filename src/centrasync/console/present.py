"""Turning store values into what a page shows, with every secret masked on the way.

Payloads were scrubbed when the store wrote them; this masks again with the configured
secrets themselves, because a page is the last place one could leak from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SecretStr

from centrasync.config import Settings
from centrasync.errors import redact
from centrasync.store import Json

__all__ = [
    "MASK",
    "ago",
    "configured_secrets",
    "duration",
    "effective_config",
    "masked_json",
    "when",
]

MASK = "***"
_SECRET_KEY = re.compile(r"(?i)password|secret|token|authorization|api[-_]?key|hash")


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret value the settings hold (stores' and the console's own)."""
    found: list[str] = []
    for value in _walk_secrets(settings):
        secret = value.get_secret_value()
        if secret:
            found.append(secret)
    found.extend(settings.console.users.values())
    return found


def _walk_secrets(model: BaseModel) -> Iterable[SecretStr]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            yield value
        elif isinstance(value, BaseModel):
            yield from _walk_secrets(value)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, BaseModel):
                    yield from _walk_secrets(item)


def _masked(value: Json) -> Json:
    if isinstance(value, dict):
        return {
            key: MASK if _SECRET_KEY.search(key) and item is not None else _masked(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def masked_json(value: Json, secrets: Iterable[str]) -> str:
    """Pretty JSON with credential-looking keys and every known secret masked."""
    return redact(
        json.dumps(_masked(value), indent=2, sort_keys=True, ensure_ascii=False), *secrets
    )


def effective_config(settings: Settings) -> dict[str, Any]:
    """The settings as the engine runs them, per store, with every secret and hash masked.

    Secrets show only whether they are set: even their length is nobody's business.
    """

    def dump(model: BaseModel) -> dict[str, Any]:
        data = model.model_dump(mode="json")
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, SecretStr) or (
                name in data and value is None and _SECRET_KEY.search(name)
            ):
                data[name] = "(set)" if value is not None else "(not set)"
        return data

    stores = {store.name: dump(store) for store in settings.stores}
    for store in settings.stores:
        stores[store.name]["centra"] = dump(store.centra)
        stores[store.name]["wms"] = dump(store.wms)
    console = dump(settings.console)
    console["users"] = {name: "(argon2 hash)" for name in settings.console.users}
    return {"engine": dump(settings.engine), "stores": stores, "console": console}


def when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'12 s ago', '3 min ago', '2 h ago', '4 d ago'."""
    if moment is None:
        return "never"
    seconds = max(0.0, ((now or datetime.now(UTC)) - moment).total_seconds())
    return f"{duration(seconds)} ago"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"
