from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's proxies or centrasync settings."""
    import os

    for name in list(os.environ):
        if name.startswith(("CENTRASYNC_", "CENTRA_", "ONGOING_")) or name.lower().endswith(
            "_proxy"
        ):
            monkeypatch.delenv(name, raising=False)
