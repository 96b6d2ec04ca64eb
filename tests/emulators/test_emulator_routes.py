"""The emulators build every route before they serve, whichever thread serves them."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator


async def first_answers(emulator: Any, paths: list[str], **client: Any) -> dict[str, int]:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url="http://emulator.test", **client
    ) as http:
        return {path: (await http.get(path)).status_code for path in paths}


@pytest.mark.parametrize(
    ("build", "paths", "client"),
    [
        (
            lambda: CentraEmulator(uri="wms", secret="s3cret", seed="demo"),
            ["/api/wms/shipments", "/api/wms/products", "/_emulator/stores", "/_emulator/faults"],
            {"headers": {"API-Authorization": "s3cret"}},
        ),
        (
            lambda: OngoingEmulator(warehouse="demo", password="pw"),
            ["/demo/api/v1/orders/statuses", "/_emulator/state", "/_emulator/faults"],
            {"auth": ("centrasync", "pw")},
        ),
    ],
    ids=["centra", "ongoing"],
)
async def test_first_requests_need_no_warning_filter_of_their_own(
    build: Any, paths: list[str], client: dict[str, Any]
) -> None:
    """FastAPI builds an included router's routes on the first request that reaches it,
    silencing pydantic's UnsupportedFieldAttributeWarning with ``warnings.simplefilter``. The
    filters are process-wide: served from a thread, another thread leaving its own
    ``catch_warnings()`` can undo that, and the suite's "error" filter makes the request a 500.
    Here the silencing never takes effect, as if the other thread always won the race.
    """
    emulator = build()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(warnings, "simplefilter", lambda *args, **kwargs: None)
        answers = await first_answers(emulator, paths, **client)

    assert answers == dict.fromkeys(paths, 200)
