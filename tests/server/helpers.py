"""Settings and signed bodies for the server tests."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from centrasync.centra.webhooks import sign_payload
from centrasync.config import Settings, parse_settings

WEBHOOK_SECRET = "whsec-se"
NOW = 1_780_000_000.0


def make_settings(
    *, max_body: int = 4096, with_secret: bool = True, body_timeout: float = 10.0
) -> Settings:
    document: dict[str, Any] = {
        "engine": {"max_webhook_body": max_body, "webhook_body_timeout": body_timeout},
        "stores": {
            "se": {
                "centra": {
                    "host": "https://shop.centra.test",
                    "uri": "wms",
                    "timezone": "Europe/Stockholm",
                },
                "wms": {"warehouse": "acme", "user": "api", "goods_owner_id": 7},
            }
        },
    }
    env = {"CENTRASYNC_SE_CENTRA_SECRET": "api-secret", "CENTRASYNC_SE_WMS_PASSWORD": "pw"}
    if with_secret:
        env["CENTRASYNC_SE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return parse_settings(document, env)


def encode(payload: dict[str, Any]) -> bytes:
    """``payload=<url-encoded JSON>``, the form Centra posts."""
    return ("payload=" + quote(json.dumps(payload, separators=(",", ":")), safe="")).encode()


def signed(body: bytes, *, secret: str = WEBHOOK_SECRET, t: float = NOW) -> dict[str, str]:
    """Headers of a call signed at ``t``."""
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Centra-Signature": f"t={int(t)},v1={sign_payload(body, secret, int(t))}",
    }
