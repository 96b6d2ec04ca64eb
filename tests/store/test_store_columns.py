"""The statements' column names and lengths come from ``schema.py``, the migrations' reference."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from centrasync.store.sqlcore import Columns

WIDGETS = Table(
    "widgets",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False),
    Column("note", Text),
)


def test_columns_are_read_off_the_table() -> None:
    widgets = Columns.of(WIDGETS)

    assert widgets.select == "SELECT id, name, note FROM widgets"
    assert widgets.row((7, "bolt", None)) == {"id": 7, "name": "bolt", "note": None}
    assert widgets.insert("name", "note") == (
        "INSERT INTO widgets (name, note) VALUES (:name, :note)"
    )
    assert widgets.length("name") == 40


def test_a_column_the_table_lacks_is_refused_at_import() -> None:
    widgets = Columns.of(WIDGETS)

    with pytest.raises(ValueError, match="table widgets has no column colour"):
        widgets.insert("name", "colour")
    with pytest.raises(ValueError, match="no column size"):
        widgets.length("size")
    with pytest.raises(ValueError, match=r"widgets\.note has no length"):
        widgets.length("note")
    with pytest.raises(ValueError, match="zip"):
        widgets.row((7, "bolt"))
