"""The engine's HTTP side: webhook receiver, ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
