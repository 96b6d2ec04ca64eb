"""Ground truth: every response example Ongoing publishes parses with the connector's models.

The examples live in the project's shared folder (``<repo>/../shared/fixtures/ongoing``),
not in the repository; the files are discovered at test time, so a new example file gets
a test without touching this module. CI fails if these tests skip (``.ci/run``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from centrasync.wms.models import Parcel
from centrasync.wms.ongoing import OngoingStatusCodes
from centrasync.wms.ongoing.mapping import received_in_order, shipped_order, stock_level
from centrasync.wms.ongoing.models import (
    GetArticleModel,
    GetOrderModel,
    GetPurchaseOrderModel,
    InventoryAdjustmentGroup,
    PostArticleResponse,
    PostFileResponse,
    PostOrderResponse,
    PostPurchaseOrderResponse,
    StatusList,
    TransporterContract,
)

pytestmark = pytest.mark.vendor_fixture

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "ongoing"
EXAMPLES = FIXTURES / "examples"
SKIP_REASON = (
    f"vendor examples not found at {FIXTURES}: they live in the project's shared folder, "
    "not in the repo"
)

# (top folder, start of the example's folder name) → the model its response parses into.
MODELS: list[tuple[str, str, Any]] = [
    ("Order", "Get an order", GetOrderModel),
    ("Order", "Create or update an order", PostOrderResponse),
    ("Order", "Get all possible order statuses", StatusList),
    ("Order", "Attach a file", PostFileResponse),
    ("Article", "Get an article", GetArticleModel),
    ("Article", "Create or update article", PostArticleResponse),
    ("Article", "Attach a file", PostFileResponse),
    ("Purchase order", "Get a purchase order", GetPurchaseOrderModel),
    ("Purchase order", "Create or update", PostPurchaseOrderResponse),
    ("Purchase order", "Get all possible purchase order statuses", StatusList),
    ("Transporter contracts", "", list[TransporterContract]),
    ("Inventory adjustments", "", list[InventoryAdjustmentGroup]),
]


def response_files() -> list[Path | None]:
    if not EXAMPLES.is_dir():
        return [None]
    found: list[Path | None] = []
    found.extend(
        sorted(p for p in EXAMPLES.rglob("*") if p.is_file() and "response" in p.name.lower())
    )
    return found


def model_for(path: Path) -> Any:
    parts = path.relative_to(EXAMPLES).parts
    top, folder = parts[0], (parts[1] if len(parts) > 2 else "")
    for model_top, prefix, model in MODELS:
        if top == model_top and folder.startswith(prefix):
            return model
    raise AssertionError(f"no model is mapped for vendor example {path.relative_to(EXAMPLES)}")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def example(relative: str) -> Any:
    path = EXAMPLES / relative
    if not path.is_file():
        pytest.skip(SKIP_REASON)
    return load(path)


@pytest.mark.parametrize(
    "path",
    response_files(),
    ids=lambda p: "absent" if p is None else str(p.relative_to(EXAMPLES)),
)
def test_vendor_example_response_parses(path: Path | None) -> None:
    if path is None:
        pytest.skip(SKIP_REASON)
    parsed = TypeAdapter(model_for(path)).validate_python(load(path))
    assert parsed


def test_vendor_example_shipped_order_maps_to_our_terms() -> None:
    data = example("Order/Get an order (GET request)/GET response - order with many fields.js")
    order = shipped_order(GetOrderModel.model_validate(data), OngoingStatusCodes())
    assert order.order_number == "O1231234"
    assert order.wms_id == "50163"
    assert order.shipped_at is not None and order.shipped_at.utcoffset() is not None
    (line,) = order.lines
    assert (line.line_key, line.sku) == ("1", "1009")
    assert (line.ordered, line.picked, line.reported) == (Decimal(2), Decimal(2), Decimal(0))
    assert sorted(line.serial_numbers) == ["SSN1", "SSN2"]
    # Only the outgoing parcel counts; the consignment number is its tracking number.
    assert order.parcels == (Parcel("00376546546", "UA65456546", None),)
    assert (order.carrier, order.service) == ("PLAB", "P18")


def test_vendor_example_purchase_order_maps_partial_receipt() -> None:
    data = example(
        "Purchase order/Get a purchase order (GET request)/"
        "GET response - purchase order with many fields.js"
    )
    in_order = received_in_order(GetPurchaseOrderModel.model_validate(data))
    assert in_order.in_order_number == "PO1213534"
    figures = [
        (ln.line_key, ln.sku, ln.advised, ln.received, ln.unreported) for ln in in_order.lines
    ]
    assert figures == [
        ("1", "CK2", Decimal(2), Decimal(2), Decimal(2)),
        ("2", "CK5", Decimal(10), Decimal(7), Decimal(7)),
    ]


def test_vendor_example_article_stock_without_sellable_figure() -> None:
    data = example(
        "Article/Get an article (GET request)/GET response - example article with many fields.js"
    )
    level = stock_level(GetArticleModel.model_validate(data))
    assert level.sku == "TestArticleNumber_ManyFields1"
    assert (level.on_hand, level.available, level.allocated) == (
        Decimal(11),
        Decimal(11),
        Decimal(0),
    )
    assert level.picked_not_collected == Decimal(0)


def test_vendor_example_statuses_are_the_default_code_sets() -> None:
    data = example("Order/Get all possible order statuses (GET request)/Response.json")
    codes = {status.number for status in StatusList.model_validate(data).order_statuses}
    defaults = OngoingStatusCodes()
    assert defaults.shipped | defaults.cancelled | defaults.started <= codes
