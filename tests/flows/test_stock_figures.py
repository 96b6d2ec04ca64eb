"""The stock flow's pure parts: the physical figure, batch names, per-warehouse figures."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from centrasync.errors import RecordValidationError
from centrasync.sync.stock import batch_digest, centra_physical
from centrasync.wms.models import StockLevel
from centrasync.wms.ongoing.mapping import stock_level, stock_level_in
from centrasync.wms.ongoing.models import GetArticleModel, WarehouseStock

counts = st.integers(min_value=0, max_value=10_000)


@st.composite
def ongoing_figures(draw: st.DrawFn) -> tuple[StockLevel, int, int]:
    """Figures as Ongoing reports them, with the operator's own lock and the picked goods.

    Locked counts the operator's lock plus allocated and picked goods, all of which are
    physically in the warehouse (see docs/ongoing-emulator.md).
    """
    own_lock, allocated, picked, free = (draw(counts) for _ in range(4))
    on_hand = own_lock + allocated + picked + free
    level = StockLevel(
        sku="SKU-1",
        on_hand=Decimal(on_hand),
        available=Decimal(free),
        allocated=Decimal(allocated),
        locked=Decimal(own_lock + allocated + picked),
        picked_not_collected=Decimal(picked),
    )
    return level, own_lock, picked


@given(ongoing_figures())
def test_centra_gets_what_is_on_the_shelf_minus_the_truly_locked(
    figures: tuple[StockLevel, int, int],
) -> None:
    level, own_lock, picked = figures
    default = centra_physical(level, picked_as_in_stock=False)
    with_picked = centra_physical(level, picked_as_in_stock=True)
    assert default == int(level.on_hand) - own_lock - picked
    assert with_picked == int(level.on_hand) - own_lock
    assert with_picked - default == picked
    assert 0 <= default <= with_picked <= level.on_hand


@given(counts, counts)
def test_allocated_goods_stay_in_centras_physical_stock(on_hand: int, allocated: int) -> None:
    """Allocating moves items into the locked count and back out through allocated."""
    before = StockLevel("A", Decimal(on_hand + allocated), Decimal(on_hand + allocated))
    after = StockLevel(
        "A",
        Decimal(on_hand + allocated),
        Decimal(on_hand),
        allocated=Decimal(allocated),
        locked=Decimal(allocated),
    )
    assert centra_physical(before, picked_as_in_stock=False) == centra_physical(
        after, picked_as_in_stock=False
    )


@given(st.decimals(min_value=0, max_value=1000, places=2))
def test_a_fraction_of_an_item_names_the_record_and_field(on_hand: Decimal) -> None:
    assume(on_hand != on_hand.to_integral_value())
    with pytest.raises(RecordValidationError) as caught:
        centra_physical(StockLevel("KG-1", on_hand, on_hand), picked_as_in_stock=False)
    assert caught.value.record == "stock KG-1"
    assert caught.value.field == "numberOfItems"


def test_more_locked_than_in_the_warehouse_names_the_locked_field() -> None:
    level = StockLevel("A", Decimal(2), Decimal(0), locked=Decimal(5))
    with pytest.raises(RecordValidationError) as caught:
        centra_physical(level, picked_as_in_stock=False)
    assert (caught.value.record, caught.value.field) == ("stock A", "numberOfLockedItems")


def test_figures_that_are_not_numbers_are_refused() -> None:
    level = StockLevel("A", Decimal("NaN"), Decimal(0))
    with pytest.raises(RecordValidationError, match="finite"):
        centra_physical(level, picked_as_in_stock=True)


batches = st.dictionaries(st.text(min_size=1, max_size=12), counts, min_size=1, max_size=30)


@given(batches, st.randoms())
def test_a_batch_name_ignores_the_order_of_its_items(
    items: dict[str, int], rng: random.Random
) -> None:
    pairs = list(items.items())
    rng.shuffle(pairs)
    assert batch_digest(dict(pairs)) == batch_digest(items)


@given(batches, st.data())
def test_a_batch_name_changes_with_any_value(items: dict[str, int], data: st.DataObject) -> None:
    sku = data.draw(st.sampled_from(sorted(items)))
    changed = {**items, sku: items[sku] + data.draw(st.integers(min_value=1, max_value=5))}
    assert batch_digest(changed) != batch_digest(items)


# -- Ongoing: the figures of some warehouses only ------------------------------------------


@st.composite
def split_article(draw: st.DrawFn) -> tuple[GetArticleModel, list[WarehouseStock]]:
    """An article spread over up to three warehouses, allocated and picked goods locked."""
    parts = []
    for ident in range(1, draw(st.integers(min_value=1, max_value=3)) + 1):
        items, locked = draw(counts), draw(counts)
        parts.append(
            WarehouseStock(
                warehouse_id=ident,
                number_of_items=float(items + locked),
                number_of_locked_items=float(locked),
            )
        )
    total_locked = sum(int(p.number_of_locked_items) for p in parts)
    allocated = draw(st.integers(min_value=0, max_value=total_locked))
    picked = draw(st.integers(min_value=0, max_value=total_locked - allocated))
    article = GetArticleModel.model_validate(
        {
            "articleSystemId": 1,
            "articleNumber": "A",
            "externalNumberOfItems": 4.0,
            "inventoryInfo": {
                "numberOfItems": sum(p.number_of_items for p in parts),
                "numberOfLockedItems": float(total_locked),
                "allocatedNumberOfItems": float(allocated),
                "pickedToBeCollectedNumberOfItems": float(picked),
                "sellableNumberOfItems": 0.0,
            },
        }
    )
    return article, parts


@given(split_article(), st.data())
def test_goods_bound_to_orders_never_exceed_the_chosen_warehouses_locks(
    article: tuple[GetArticleModel, list[WarehouseStock]], data: st.DataObject
) -> None:
    model, parts = article
    chosen = data.draw(st.lists(st.sampled_from(parts), unique_by=lambda p: p.warehouse_id))
    level = stock_level_in(model, chosen)
    assert level.on_hand == sum(Decimal(repr(p.number_of_items)) for p in chosen)
    assert 0 <= level.allocated <= level.locked
    assert level.picked_not_collected is not None
    assert 0 <= level.picked_not_collected <= level.locked - level.allocated
    assert centra_physical(level, picked_as_in_stock=True) >= 0
    assert level.external == Decimal(4)


@given(split_article())
def test_all_warehouses_together_give_the_article_figures(
    article: tuple[GetArticleModel, list[WarehouseStock]],
) -> None:
    model, parts = article
    whole, summed = stock_level(model), stock_level_in(model, parts)
    assert (summed.on_hand, summed.locked) == (whole.on_hand, whole.locked)
    assert (summed.allocated, summed.picked_not_collected) == (
        whole.allocated,
        whole.picked_not_collected,
    )
