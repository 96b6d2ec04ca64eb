"""The Integration API operations, loaded by name from the ``.graphql`` files beside this.

GraphQL is not Python (style.md §6): each operation lives in ``operations/<name>.graphql``,
shared selections in ``operations/fragments.graphql``. :func:`operation` returns the text
sent (the operation plus every fragment it spreads, transitively), its name and its kind.
A test validates every file against the SDL the Centra emulator serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

__all__ = ["Operation", "operation", "operation_files"]

_FRAGMENTS_FILE = "fragments.graphql"
_HEAD = re.compile(r"^\s*(query|mutation)\s+([A-Za-z_]\w*)", re.M)
_FRAGMENT = re.compile(r"^fragment\s+([A-Za-z_]\w*)\s+on\s", re.M)
_SPREAD = re.compile(r"\.\.\.\s*(?!on\b)([A-Za-z_]\w*)")

# Writes that may be sent again after an ambiguous failure (a dropped connection, a 5xx):
# absolute values, or documented as idempotent (listeners, confirmations, ID conversions).
# A new shipment, a capture, a completion, a new return or a relative stock change could
# happen twice, so those surface the failure instead.
_REPEATABLE_MUTATIONS = frozenset(
    {
        "UpdateShipment",
        "SetStock",
        "ConfirmOrder",
        "SetEventListeners",
        "UnsetEventListeners",
        "ConfirmEvents",
        "SetIdConversions",
    }
)


@dataclass(frozen=True)
class Operation:
    """One named operation as sent: ``text`` holds the fragments it uses."""

    name: str
    kind: Literal["query", "mutation"]
    text: str

    @property
    def idempotent(self) -> bool:
        return self.kind == "query" or self.name in _REPEATABLE_MUTATIONS


def _read(file: str) -> str:
    return resources.files(__package__).joinpath("operations", file).read_text(encoding="utf-8")


def operation_files() -> list[str]:
    """Every operation file's name (the fragments file aside), sorted."""
    folder = resources.files(__package__).joinpath("operations")
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name.endswith(".graphql") and entry.name != _FRAGMENTS_FILE
    )


@cache
def _fragments() -> dict[str, str]:
    text = _read(_FRAGMENTS_FILE)
    starts = [(m.start(), m.group(1)) for m in _FRAGMENT.finditer(text)]
    bodies = {}
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
        bodies[name] = text[start:end].strip()
    return bodies


def _with_fragments(text: str) -> str:
    fragments = _fragments()
    wanted: list[str] = []
    pending = list(_SPREAD.findall(text))
    while pending:
        name = pending.pop()
        if name in wanted:
            continue
        if name not in fragments:
            raise LookupError(f"fragment {name!r} is not in {_FRAGMENTS_FILE}")
        wanted.append(name)
        pending.extend(_SPREAD.findall(fragments[name]))
    return "\n\n".join([text.strip(), *(fragments[name] for name in sorted(wanted))]) + "\n"


@cache
def operation(file: str) -> Operation:
    """The operation in ``operations/<file>.graphql`` (``file`` without the suffix)."""
    text = _read(f"{file}.graphql")
    head = _HEAD.search(text)
    if head is None:
        raise LookupError(f"{file}.graphql holds no named query or mutation")
    kind: Literal["query", "mutation"] = "query" if head.group(1) == "query" else "mutation"
    return Operation(head.group(2), kind, _with_fragments(text))
