"""The operator's web console, served by ``centrasync serve`` (roles web and all).

Server-rendered pages (Jinja2, htmx served from the package) behind a login, on the state
store and metrics the engine already keeps. See docs/console.md.
"""

from __future__ import annotations

from .app import Console, create_console
from .auth import hash_password

__all__ = ["Console", "create_console", "hash_password"]
