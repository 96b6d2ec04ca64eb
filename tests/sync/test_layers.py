"""The flows see protocols and models only; importing them loads no HTTP or SQL library."""

from __future__ import annotations

import json
import subprocess
import sys

FLOWS = (
    "centrasync.sync.shipments",
    "centrasync.sync.articles",
    "centrasync.sync.indeliveries",
    "centrasync.sync.returns",
    "centrasync.sync.stock",
    "centrasync.sync.worker",
    "centrasync.centra",
    "centrasync.store",
    "centrasync.wms",
    "centrasync.http",
)
HEAVY = ("httpx", "httpcore", "sqlalchemy", "alembic", "psycopg", "fastapi", "uvicorn")


def test_importing_the_flows_loads_no_http_or_database_library() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {FLOWS!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(loaded) == []
