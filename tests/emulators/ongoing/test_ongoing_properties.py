"""Property test: any sequence of client and floor actions keeps the stock books consistent."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ongoing_helpers import START

from centrasync.emulators.ongoing import OngoingApiError, OngoingState
from centrasync.emulators.ongoing.floor import LineQuantity, PickRequest, ReturnRequest
from centrasync.emulators.ongoing.payloads import (
    ArticleIn,
    ConsigneeIn,
    OrderIn,
    OrderLineIn,
    PurchaseOrderIn,
    PurchaseOrderLineIn,
)
from fake_clock import FakeClock

ARTICLES = ("A", "B")
DOCS = st.integers(0, 3)
QTY = st.integers(0, 5)

ACTIONS = st.one_of(
    st.tuples(st.just("put_order"), DOCS, QTY, QTY),
    st.tuples(st.just("cancel"), DOCS),
    st.tuples(st.just("allocate"), DOCS),
    st.tuples(st.just("pick"), DOCS, st.sampled_from(ARTICLES), QTY),
    st.tuples(st.just("pick_all"), DOCS),
    st.tuples(st.just("ship"), DOCS),
    st.tuples(st.just("return"), DOCS, st.sampled_from(ARTICLES), st.integers(1, 3)),
    st.tuples(st.just("reopen"), DOCS),
    st.tuples(st.just("put_po"), DOCS, QTY, QTY),
    st.tuples(st.just("receive"), DOCS, st.sampled_from(ARTICLES), st.integers(1, 4)),
    st.tuples(st.just("receive_all"), DOCS),
    st.tuples(st.just("adjust"), st.sampled_from(ARTICLES), st.integers(0, 30)),
)


def _apply(state: OngoingState, action: tuple[object, ...]) -> None:
    kind, *args = action
    number = f"D{args[0]}"
    if kind == "put_order":
        lines = [
            OrderLineIn(row_number=str(i), article_number=a, number_of_items=float(str(q)))
            for i, (a, q) in enumerate(zip(ARTICLES, args[1:], strict=True))
        ]
        state.upsert_order(
            OrderIn(
                goods_owner_id=1,
                order_number=number,
                delivery_date=date(2026, 1, 1),
                consignee=ConsigneeIn(name="x"),
                order_lines=lines,
            )
        )
    elif kind == "put_po":
        po_lines = [
            PurchaseOrderLineIn(row_number=str(i), article_number=a, number_of_items=float(str(q)))
            for i, (a, q) in enumerate(zip(ARTICLES, args[1:], strict=True))
        ]
        state.upsert_purchase_order(
            PurchaseOrderIn(
                goods_owner_id=1, purchase_order_number=number, purchase_order_lines=po_lines
            )
        )
    elif kind == "cancel":
        state.cancel_order(state.order_by_number(number).order_id)
    elif kind == "allocate":
        state.allocate(number)
    elif kind == "pick":
        state.pick(number, [PickRequest(str(args[1]), float(str(args[2])))])
    elif kind == "pick_all":
        state.pick(number, None)
    elif kind == "ship":
        state.ship(number, None)
    elif kind == "return":
        state.return_goods(number, [ReturnRequest(str(args[1]), float(str(args[2])), "cause")])
    elif kind == "reopen":
        state.set_order_status(number, 200)
    elif kind == "receive":
        state.receive(number, [LineQuantity(str(args[1]), float(str(args[2])))])
    elif kind == "receive_all":
        state.receive(number, None)
    else:
        state.adjust_stock(f"{args[0]}", float(str(args[1])))


def _books(state: OngoingState) -> tuple[dict[str, float], dict[str, float], set[int]]:
    received: dict[str, float] = defaultdict(float)
    returned: dict[str, float] = defaultdict(float)
    for purchase_order in state.purchase_orders.values():
        for po_line in purchase_order.lines:
            received[po_line.article.number] += po_line.received
    for order in state.orders.values():
        for line in order.lines:
            returned[line.article.number] += line.returned
    shipped = {o.order_id for o in state.orders.values() if o.shipped_time is not None}
    return received, returned, shipped


def _check_invariants(state: OngoingState) -> None:
    for number, figures in state.inventory().items():
        assert figures.number_of_items >= 0, number
        assert figures.allocated >= 0, number
        assert figures.picked_to_be_collected >= 0, number
        assert figures.sellable == figures.number_of_items - figures.locked - figures.booked
    for order in state.orders.values():
        for line in order.lines:
            assert 0 <= line.picked <= line.ordered
            assert 0 <= line.returned <= line.picked
            assert sum(i.number_of_items for i in line.picked_items) == line.picked
            returned_items = sum(i.number_of_items for i in line.picked_items if i.returned)
            assert returned_items == line.returned


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, max_size=30))
def test_stock_books_stay_consistent(actions: list[tuple[object, ...]]) -> None:
    state = OngoingState(1, clock=FakeClock(START))
    for sku in ARTICLES:
        state.upsert_article(ArticleIn(goods_owner_id=1, article_number=sku))
        state.adjust_stock(sku, 20)
    for action in actions:
        before_physical = {n: a.number_of_items for n, a in state.articles.items()}
        received_before, returned_before, shipped_before = _books(state)
        try:
            _apply(state, action)
        except OngoingApiError:
            assert {n: a.number_of_items for n, a in state.articles.items()} == before_physical
            continue
        _check_invariants(state)
        if action[0] == "adjust":
            continue
        received_after, returned_after, shipped_after = _books(state)
        for number, article in state.articles.items():
            newly_shipped = sum(
                line.picked
                for order_id in shipped_after - shipped_before
                for line in state.orders[order_id].lines
                if line.article.number == number
            )
            expected = (
                max(0.0, before_physical[number] - newly_shipped)
                + received_after[number]
                - received_before[number]
                + returned_after[number]
                - returned_before[number]
            )
            assert article.number_of_items == expected, (action, number)
