"""The store's schema mapping: personal data never in clear, exclusions, named columns."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.analytics.rows import PERSONAL_FIELDS, apply_mapping
from centrasync.config import AnalyticsSettings, PersonalData

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: "__" not in n)
values = st.one_of(st.none(), st.integers(), st.text(max_size=12))
rows = st.dictionaries(st.one_of(names, st.sampled_from(sorted(PERSONAL_FIELDS))), values)


@given(rows, st.lists(rows, max_size=3), st.sampled_from(list(PersonalData)))
def test_personal_data_is_never_loaded_in_clear(
    row: dict[str, Any], lines: list[dict[str, Any]], policy: PersonalData
) -> None:
    settings = AnalyticsSettings(personal_data=policy)
    out = apply_mapping({**row, "lines": lines}, settings)
    for mapped, given_row in [(out, row), *zip(out["lines"], lines, strict=True)]:
        for field in PERSONAL_FIELDS & set(given_row):
            if policy is PersonalData.EXCLUDE:
                assert field not in mapped
            elif given_row[field] is None:
                assert mapped[field] is None
            else:
                clear = str(given_row[field]).strip().lower()
                assert mapped[field] == hashlib.sha256(clear.encode()).hexdigest()


@given(rows, st.data())
def test_excluded_fields_go_and_named_columns_take_their_field(
    row: dict[str, Any], data: st.DataObject
) -> None:
    plain = sorted(set(row) - PERSONAL_FIELDS)
    excluded = data.draw(st.lists(st.sampled_from(plain), unique=True) if plain else st.just([]))
    kept = [name for name in plain if name not in excluded]
    renamed = data.draw(st.lists(st.sampled_from(kept), unique=True) if kept else st.just([]))
    columns = {f"col_{i}": source for i, source in enumerate(renamed)}
    settings = AnalyticsSettings(exclude=tuple(excluded), columns=columns)
    out = apply_mapping(row, settings)
    assert not set(excluded) & set(out)
    for column, source in columns.items():
        assert out[column] == row[source] and source not in out
    untouched = set(kept) - set(renamed)
    assert {k: out[k] for k in untouched} == {k: row[k] for k in untouched}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"destination": "mysql://x/y"}, "DuckDB file path or a postgresql"),
        ({"destination": "postgresql://u:pw@db/a"}, "password does not belong in the file"),
        ({"columns": {"Gift": "other_comment"}}, "snake_case"),
        ({"columns": {"a": "other_comment", "b": "other_comment"}}, "same field"),
        ({"exclude": ["Bad Name"]}, "not a loaded field"),
        ({"exclude": ["x"], "columns": {"y": "x"}}, "both excluded and mapped"),
    ],
)
def test_mapping_mistakes_are_refused_at_load(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnalyticsSettings.model_validate(values)
