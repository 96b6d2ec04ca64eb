"""Integration API access tokens: permissions, a store restriction, an integration name, a TTL.

Centra's tokens are made in the admin (System → API Tokens) or by an admin token; in the
emulator the control API makes them. An expired or revoked token answers HTTP 403.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

__all__ = ["DEFAULT_TTL", "AccessToken", "TokenSpec", "TokenStore"]

# Centra's default expiry for a new token.
DEFAULT_TTL = int(timedelta(days=30).total_seconds())


class TokenSpec(BaseModel):
    """A new token, as the admin's "+ Integration API TOKEN" form asks for it."""

    name: str = Field("integration", min_length=1, description="the token's description")
    permissions: list[str] = Field(
        min_length=1, description='at least one, e.g. ["Order:read", "Shipment:write"]'
    )
    integration_name: str | None = Field(
        None, description="needed for the events queue and ID conversion; tokens share by it"
    )
    store: str | None = Field(None, description="restrict the token to this store's uri")
    ttl: int = Field(DEFAULT_TTL, ge=1, description="seconds until it expires (default 30 days)")


@dataclass
class AccessToken:
    id: int
    token: str = field(repr=False)
    name: str
    permissions: frozenset[str]
    integration_name: str | None
    store_uri: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class TokenStore:
    """Every token of the environment; ``find`` answers only for a usable one."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._ids = itertools.count(1)
        self._tokens: dict[int, AccessToken] = {}

    def create(self, spec: TokenSpec, *, token: str | None = None) -> AccessToken:
        now = self._clock()
        made = AccessToken(
            id=next(self._ids),
            token=token or secrets.token_hex(32),
            name=spec.name,
            permissions=frozenset(spec.permissions),
            integration_name=spec.integration_name,
            store_uri=spec.store,
            created_at=now,
            expires_at=now + timedelta(seconds=spec.ttl),
        )
        self._tokens[made.id] = made
        return made

    def find(self, text: str) -> AccessToken | None:
        now = self._clock()
        for candidate in self._tokens.values():
            if secrets.compare_digest(candidate.token.encode(), text.encode()):
                return candidate if candidate.usable(now) else None
        return None

    def get(self, token_id: int) -> AccessToken | None:
        return self._tokens.get(token_id)

    def revoke(self, token_id: int) -> AccessToken | None:
        found = self._tokens.get(token_id)
        if found is not None and found.revoked_at is None:
            found.revoked_at = self._clock()
        return found

    def all(self) -> list[AccessToken]:
        return list(self._tokens.values())

    def keep_only(self, token_ids: Iterable[int]) -> None:
        kept = set(token_ids)
        self._tokens = {k: v for k, v in self._tokens.items() if k in kept}
