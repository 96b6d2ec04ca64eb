"""Control-API conveniences the demo uses: held in-orders and stock counted before articles."""

from __future__ import annotations

import httpx
from ongoing_helpers import API, inventory, order_body, purchase_order_body, put_article, put_order

from centrasync.emulators.ongoing import OngoingEmulator


async def test_auto_operator_leaves_held_in_orders_to_be_received_by_hand(
    client: httpx.AsyncClient, emu: OngoingEmulator
) -> None:
    await client.put(f"{API}/purchaseOrders", json=purchase_order_body("PO-held", [("A", 5)]))
    await client.put(f"{API}/purchaseOrders", json=purchase_order_body("PO-2", [("B", 1)]))
    held = await client.put(
        "/_emulator/auto-operator",
        json={"interval": None, "held_purchase_order_numbers": ["PO-held"]},
    )
    assert held.json()["heldPurchaseOrderNumbers"] == ["PO-held"]

    done = []
    while (step := await emu.state.operator_step()) is not None:
        done.append(step)

    assert done == ["received purchase order PO-2"]
    state = (await client.get("/_emulator/state")).json()
    assert state["autoOperator"]["heldPurchaseOrderNumbers"] == ["PO-held"]
    part = await client.post(
        "/_emulator/purchase-orders/PO-held/receive",
        json={"lines": [{"article_number": "A", "quantity": 2}]},
    )
    assert part.status_code == 200, part.text
    assert (await inventory(client, "A"))["numberOfItems"] == 2.0


async def test_opening_stock_counts_existing_articles_now_and_new_ones_on_creation(
    client: httpx.AsyncClient,
) -> None:
    await put_article(client, "A", stock=1)

    opened = await client.put(
        "/_emulator/stock/opening", json={"articles": {"A": 7, "B": 12, "C": 3}}
    )

    assert opened.json() == {"counted": 1, "waiting": 2}
    assert (await inventory(client, "A"))["numberOfItems"] == 7.0
    state = (await client.get("/_emulator/state")).json()
    assert state["openingStockWaiting"] == {"B": 12.0, "C": 3.0}
    await put_article(client, "B")
    await put_order(client, order_body("O-1", [("C", 1)]))
    assert (await inventory(client, "B"))["numberOfItems"] == 12.0
    assert (await inventory(client, "C"))["numberOfItems"] == 3.0, "created bare by the order"
    assert (await client.get("/_emulator/state")).json()["openingStockWaiting"] == {}


async def test_opening_stock_refuses_a_negative_count_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    await put_article(client, "A", stock=4)

    refused = await client.put("/_emulator/stock/opening", json={"articles": {"A": 1, "B": -1}})

    assert refused.status_code == 400
    assert "Article B" in refused.json()["message"]
    assert (await inventory(client, "A"))["numberOfItems"] == 4.0
