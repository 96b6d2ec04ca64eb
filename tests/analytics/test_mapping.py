"""The store's schema mapping: personal data never in clear, exclusions, named columns."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.analytics.mapping import unseen_attributes, validate_mapping
from centrasync.analytics.rows import ORDERS, PERSONAL_FIELDS, apply_mapping, is_personal
from centrasync.config import AnalyticsSettings, PersonalData
from centrasync.errors import ConfigError
from centrasync.testing.centra import CentraHarness

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: "__" not in n)
values = st.one_of(st.none(), st.integers(), st.text(max_size=12))
# Personal fields bare and as an address's copies (billing_email, shipping_last_name).
PERSONAL = sorted(
    {
        *PERSONAL_FIELDS,
        *(f"{side}_{name}" for side in ("billing", "shipping") for name in PERSONAL_FIELDS),
    }
)
rows = st.dictionaries(st.one_of(names, st.sampled_from(PERSONAL)), values)


@given(rows, st.lists(rows, max_size=3), st.sampled_from(list(PersonalData)))
def test_personal_data_is_never_loaded_in_clear(
    row: dict[str, Any], lines: list[dict[str, Any]], policy: PersonalData
) -> None:
    settings = AnalyticsSettings(personal_data=policy)
    out = apply_mapping({**row, "lines": lines}, settings)
    for mapped, given_row in [(out, row), *zip(out["lines"], lines, strict=True)]:
        for field in {name for name in given_row if is_personal(name)}:
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
    plain = sorted(name for name in row if not is_personal(name))
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


# -- the mapping against the tables (centrasync check) ------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"exclude": ["other_coment"]}, r"analytics\.exclude: 'other_coment' .*'other_comment'"),
        (
            {"columns": {"gift": "other_coment"}},
            r"analytics\.columns\.gift: 'other_coment' is not a field",
        ),
        ({"columns": {"mail": "billing_email"}}, r"columns\.mail: 'billing_email' is personal"),
        ({"columns": {"status": "other_comment"}}, r"columns\.status: orders already loads"),
        ({"order_attributes": {"currency": "x"}}, r"order_attributes\.currency: orders already"),
        (
            {"columns": {"gift": "other_comment"}, "order_attributes": {"gift": "gift_wrap"}},
            r"order_attributes\.gift: orders already has a column 'gift'",
        ),
        ({"product_attributes": {"brand": "pr_brand"}}, r"product_attributes\.brand: products"),
    ],
)
def test_mapping_mistakes_name_the_store_and_key(values: dict[str, Any], message: str) -> None:
    settings = AnalyticsSettings.model_validate(values)
    with pytest.raises(ConfigError, match=message):
        validate_mapping(settings, "stores.se.analytics")


def test_mapping_free_of_clashes_passes() -> None:
    settings = AnalyticsSettings(
        columns={"gift_message": "other_comment"},
        exclude=("attributes", "is_on_hold"),
        order_attributes={"is_on_hold": "hold_flag", "gift_wrap": "gift_wrap"},
        product_attributes={"material": "pr_material"},
        personal_data=PersonalData.HASH,
    )
    validate_mapping(settings, "stores.se.analytics")


fresh = st.from_regex(r"m_[a-z]{1,6}", fullmatch=True)
ORDER_FIELDS = sorted(set(ORDERS.columns) - {"attributes"})


@given(st.data())
def test_a_valid_mapping_gives_orders_exactly_the_columns_it_names(data: st.DataObject) -> None:
    excluded = data.draw(st.lists(st.sampled_from(ORDER_FIELDS), unique=True, max_size=6))
    kept = [name for name in ORDER_FIELDS if name not in excluded and not is_personal(name)]
    renamed = data.draw(st.lists(st.sampled_from(kept), unique=True, max_size=4)) if kept else []
    names = data.draw(st.lists(fresh, unique=True, min_size=len(renamed) + 3, max_size=9))
    columns = dict(zip(names, renamed, strict=False))
    attributes = {name: f"attr_{i}" for i, name in enumerate(names[len(renamed) :])}
    settings = AnalyticsSettings(
        exclude=tuple(excluded), columns=columns, order_attributes=attributes
    )
    validate_mapping(settings, "stores.se.analytics")
    present = {f"attr_{i}": f"value {i}" for i in range(0, len(attributes), 2)}
    row = {"store": "se", **{name: f"<{name}>" for name in ORDER_FIELDS}, "attributes": present}
    out = apply_mapping(row, settings, ORDERS)
    expected = {"store", "attributes", *kept} - set(renamed) | set(columns) | set(attributes)
    assert set(out) == expected
    for column, source in columns.items():
        assert out[column] == f"<{source}>"
    for column, name in attributes.items():
        assert out[column] == present.get(name)


async def test_unseen_attributes_names_the_misspelt_ones(centra: CentraHarness) -> None:
    (product, *_) = [p async for page in centra.client.all_catalogue() for p in page]
    changed = await centra.control.patch(
        f"/_emulator/products/{product.id}", json={"attributes": {"pr_material": "Wool"}}
    )
    changed.raise_for_status()
    settings = AnalyticsSettings(
        product_attributes={"material": "pr_material", "season": "pr_seasn"},
        order_attributes={"gift": "gift_wrap"},
    )
    unseen = await unseen_attributes(centra.client, settings)
    assert unseen == {
        "product_attributes.season": "pr_seasn",
        "order_attributes.gift": "gift_wrap",
    }
