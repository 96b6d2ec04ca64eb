"""The client's operation files against the SDL the Centra emulator serves."""

from __future__ import annotations

import re

import pytest
from graphql import build_schema, parse, validate

from centrasync.centra.integration import operation, operation_files
from centrasync.emulators.centra.graphql.schema import SDL

SCHEMA = build_schema(SDL)
FILES = [name.removesuffix(".graphql") for name in operation_files()]


@pytest.mark.parametrize("file", FILES)
def test_every_operation_validates_against_the_emulators_sdl(file: str) -> None:
    op = operation(file)
    errors = validate(SCHEMA, parse(op.text))
    assert errors == [], [e.message for e in errors]


def test_operation_names_are_unique_and_follow_their_files() -> None:
    names = [operation(file).name for file in FILES]
    assert len(names) == len(set(names))
    for file, name in zip(FILES, names, strict=True):
        assert re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() == file


def test_only_writes_that_cannot_happen_twice_are_marked_repeatable() -> None:
    once = {"CreateShipment", "CaptureShipment", "CompleteShipment", "CreateReturn", "ChangeStock"}
    for file in FILES:
        op = operation(file)
        if op.kind == "query":
            assert op.idempotent
        elif op.name in once:
            assert not op.idempotent, op.name
