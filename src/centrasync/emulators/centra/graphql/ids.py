"""ID conversion: an integration's own ids for Centra objects, per integration name.

Batch and idempotent; a collision (the same object type with the same internal or the same
external id) overwrites the older entry, as Centra documents.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

__all__ = ["IdConversion", "IdConversions"]


@dataclass
class IdConversion:
    id: int
    integration_name: str
    object_type: str
    internal_id: int
    external_id: str


class IdConversions:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.clear()

    def clear(self) -> None:
        self._entries: dict[int, IdConversion] = {}

    def of(self, integration: str) -> list[IdConversion]:
        return [e for e in self._entries.values() if e.integration_name == integration]

    def set(
        self, integration: str, object_type: str, internal_id: int, external_id: str
    ) -> IdConversion:
        clashes = [
            entry
            for entry in self.of(integration)
            if entry.object_type == object_type
            and (entry.internal_id == internal_id or entry.external_id == external_id)
        ]
        for entry in clashes[1:]:
            del self._entries[entry.id]
        if clashes:
            entry = clashes[0]
            entry.internal_id, entry.external_id = internal_id, external_id
            return entry
        made = IdConversion(next(self._ids), integration, object_type, internal_id, external_id)
        self._entries[made.id] = made
        return made

    def external_id(
        self, integration: str | None, object_type: str, internal_id: int
    ) -> str | None:
        if integration is None:
            return None
        for entry in self.of(integration):
            if entry.object_type == object_type and entry.internal_id == internal_id:
                return entry.external_id
        return None

    def remove(self, entry: IdConversion) -> None:
        self._entries.pop(entry.id, None)
