"""Per-store shipment filters."""

from __future__ import annotations

from typing import Any

import pytest

from centrasync.errors import ConfigError
from centrasync.sync import shipment_passes_filters

from .factories import make_shipment


@pytest.mark.parametrize(
    ("changes", "filters", "expected"),
    [
        ({}, {}, True),
        ({"paid": 1}, {"paid": True}, True),
        ({"paid": 0}, {"paid": True}, False),
        ({"deliveryCountry": "NO"}, {"deliveryCountry": ["SE", "NO"]}, True),
        ({"deliveryCountry": "DK"}, {"deliveryCountry": ["SE", "NO"]}, False),
        ({"accountId": "0"}, {"accountId": "0"}, True),
        ({"accountId": 710}, {"accountId": [0]}, False),
        ({"grandTotalValue": "100.00"}, {"grandTotalValue": 100}, True),
        ({"shipwallet_method": "pnl"}, {"shipwallet_method": "pnl", "paid": True}, True),
        ({"shipwallet_method": "dhl"}, {"shipwallet_method": "pnl", "paid": True}, False),
    ],
)
def test_filters(changes: dict[str, Any], filters: dict[str, Any], expected: bool) -> None:
    assert shipment_passes_filters(make_shipment(**changes), filters) is expected


def test_unknown_filter_key_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"shipment_filters\.colour"):
        shipment_passes_filters(make_shipment(), {"colour": "red"})


def test_nested_filter_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"shipment_filters\.paid"):
        shipment_passes_filters(make_shipment(), {"paid": {"is": True}})
