"""A faithful local Centra: Order API, signed webhooks, control API and fault injection.

Run it with ``centrasync emulate centra``, or in-process in tests::

    emulator = CentraEmulator(seed="demo")
    client = httpx.AsyncClient(transport=EmulatorTransport(emulator.app), base_url="http://c")
"""

from __future__ import annotations

from .app import SEEDS, CentraEmulator
from .webhooks import WebhookPluginSettings, WebhookSettings, sign, signature_header
from .world import World

__all__ = [
    "SEEDS",
    "CentraEmulator",
    "WebhookPluginSettings",
    "WebhookSettings",
    "World",
    "sign",
    "signature_header",
]
