"""Mapping never loses, merges or invents a line, and follows the seed's header rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from centrasync.errors import RecordValidationError
from centrasync.sync import B2B, B2C, shipment_to_outbound_order

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


def written_forms(amount: Decimal) -> st.SearchStrategy[tuple[Decimal, Any]]:
    """The ways the Order API writes one amount: ``3978.75``, ``"3978.75"``, ``3978``."""
    forms: list[Any] = [str(amount), float(amount)]
    if amount == amount.to_integral_value():
        forms.append(int(amount))
    return st.sampled_from(forms).map(lambda form: (amount, form))


# Centra's wire forms of "no account" (consumer) and of a wholesale account id.
accounts = st.one_of(
    st.sampled_from([None, "", "0", 0]),
    st.integers(min_value=1, max_value=10**7),
    st.integers(min_value=1, max_value=10**7).map(str),
)
names = st.sampled_from(["", " ", "Ann Ship", "Bo Berg"])
companies = st.sampled_from(["", "Ann AB", "Berg & Co"])


def is_b2b(account: Any) -> bool:
    """The seed's "B2B or B2C, based on endpoint", read as: a wholesale account is set [I]."""
    return account is not None and str(account) not in ("", "0")


@given(
    total=st.decimals(min_value=-100, max_value=10**7, places=2).flatmap(written_forms),
    account=accounts,
    name=names,
    company=companies,
)
def test_customer_price_and_order_type_follow_the_seed(
    total: tuple[Decimal, Any], account: Any, name: str, company: str
) -> None:
    amount, written = total
    shipment = make_shipment(
        grandTotalValue=written, accountId=account, deliveryName=name, deliveryCompany=company
    )
    try:
        order = shipment_to_outbound_order(shipment, make_store()).order
    except RecordValidationError as exc:
        # The only ways this shipment can fail validation: a negative total, or no name at all.
        if exc.field == "grandTotalValue":
            assert amount < 0
        else:
            assert exc.field == "deliveryName"
            assert not name.strip() and not company.strip()
        return
    assert order.customer_price == amount
    assert order.order_type == (B2B if is_b2b(account) else B2C)
    first, second = (name, company) if is_b2b(account) else (company, name)
    assert order.ship_to.name == (first.strip() or second.strip())
