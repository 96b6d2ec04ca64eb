"""Mapping never loses, merges or invents a line."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from centrasync.sync import shipment_to_outbound_order

from .factories import make_shipment, make_store

sku_part = st.text(alphabet="ABCDEFGHJK0123456789-", min_size=1, max_size=6)
line = st.fixed_dictionaries(
    {
        "sku": sku_part,
        "variantSku": sku_part,
        "sizeSku": sku_part,
        "qty": st.integers(min_value=1, max_value=10_000),
        "price": st.decimals(min_value=0, max_value=10_000, places=2),
    }
)


@given(lines=st.lists(line, min_size=1, max_size=15))
def test_lines_out_equal_lines_in(lines: list[dict[str, Any]]) -> None:
    products = [{"lineId": str(70000 + n), **raw} for n, raw in enumerate(lines)]
    order = shipment_to_outbound_order(make_shipment(products=products), make_store()).order
    assert [(x.line_key, int(x.quantity)) for x in order.lines] == [
        (p["lineId"], p["qty"]) for p in products
    ]
    assert [x.sku for x in order.lines] == [
        p["sku"] + p["variantSku"] + p["sizeSku"] for p in products
    ]
