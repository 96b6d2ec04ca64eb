"""docs/configuration.md is the configuration models, rendered; it cannot drift from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from centrasync.ops.reference import SEED_TERMS, TABLES, render_reference

PAGE = Path(__file__).parents[1] / "docs" / "configuration.md"


def test_the_page_is_what_the_models_render() -> None:
    assert PAGE.read_text(encoding="utf-8") == render_reference(), (
        "docs/configuration.md is out of date: run "
        "`.venv/bin/python -m centrasync.ops.reference docs/configuration.md`"
    )


@pytest.mark.parametrize(("table", "model", "skipped"), TABLES, ids=[t[0] for t in TABLES])
def test_every_setting_says_what_it_means(table: str, model: type, skipped: frozenset[str]) -> None:
    undocumented = [
        key
        for key, info in model.model_fields.items()
        if key not in skipped and not info.description
    ]
    assert undocumented == [], f"[{table}] keys without a description"


def test_every_seed_term_names_a_key_that_exists() -> None:
    keys = {f"{table}.{key}" for table, model, _ in TABLES for key in model.model_fields}
    for words, where in SEED_TERMS:
        first = where.split(",")[0].split(" + ")[0].strip()
        assert first in keys, f"{words!r} points at {where!r}, which is not a setting"
        assert words in PAGE.read_text(encoding="utf-8")
