"""Properties of planning Centra returns from WMS figures (pure, no emulator)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.errors import RecordValidationError
from centrasync.sync.returns import plan_returns
from centrasync.wms.models import ReturnedLine, ReturnedOrder

_CAUSES = st.lists(st.sampled_from(["Too small", "Defect", "Wrong colour"]), unique=True)


@st.composite
def returned_line(draw: st.DrawFn, key: str) -> ReturnedLine:
    returned = draw(st.integers(min_value=0, max_value=12))
    reported = draw(st.integers(min_value=0, max_value=returned))
    return ReturnedLine(key, f"SKU{key}", Decimal(returned), Decimal(reported), draw(_CAUSES))


@st.composite
def returned_order(draw: st.DrawFn) -> ReturnedOrder:
    keys = draw(st.lists(st.integers(1, 99_999).map(str), min_size=1, max_size=6, unique=True))
    lines = tuple(draw(returned_line(key)) for key in keys)
    return ReturnedOrder("1234-1", "50001", lines)


@given(returned_order(), st.booleans())
def test_every_unreported_item_is_returned_exactly_once(
    order: ReturnedOrder, include_comment: bool
) -> None:
    plan = plan_returns(order, include_comment=include_comment)

    due = {line.line_key: int(line.unreported) for line in order.lines if line.unreported > 0}
    seen: dict[str, int] = {}
    for planned in plan.returns:
        assert planned.quantities, "no empty return"
        for line, qty in planned.quantities.items():
            assert line not in seen, "a line in two returns"
            seen[line] = qty
    assert seen == due
    assert plan.shipment == order.order_number
    assert plan.targets == {ln.line_key: ln.returned for ln in order.lines if ln.line_key in due}


@given(returned_order())
def test_without_comments_one_return_carries_every_line(order: ReturnedOrder) -> None:
    plan = plan_returns(order, include_comment=False)

    assert len(plan.returns) <= 1
    assert all(planned.comment is None for planned in plan.returns)


@given(returned_order())
def test_with_comments_each_line_gets_exactly_its_own_causes(order: ReturnedOrder) -> None:
    plan = plan_returns(order, include_comment=True)

    causes = {line.line_key: ", ".join(line.causes) or None for line in order.lines}
    for planned in plan.returns:
        assert {causes[line] for line in planned.quantities} == {planned.comment}
    comments = [planned.comment for planned in plan.returns]
    assert len(comments) == len(set(comments)), "lines with the same causes share a return"


@given(returned_order(), st.data())
def test_part_of_an_item_is_refused_naming_the_line(
    order: ReturnedOrder, data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(order.lines) - 1))
    line = order.lines[index]
    half = ReturnedLine(line.line_key, line.sku, line.reported + Decimal("0.5"), line.reported)
    lines = (*order.lines[:index], half, *order.lines[index + 1 :])

    with pytest.raises(RecordValidationError) as caught:
        plan_returns(ReturnedOrder("1234-1", "50001", lines), include_comment=False)

    assert caught.value.record == "returned order '1234-1'"
    assert caught.value.field == f"lines[{index}].returned"
