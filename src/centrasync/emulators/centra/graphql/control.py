"""Control routes of the Integration API: tokens and the rate-limit plan.

Centra makes tokens in its admin; here a test (or a person) makes them with the
permissions, store restriction, integration name and time to live it needs.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from centrasync.errors import NotFoundError

from .ratelimits import PLANS, Quotas
from .service import IntegrationApi
from .tokens import AccessToken, TokenSpec

__all__ = ["integration_api_control"]

_PERMISSION = re.compile(r"^[A-Z][A-Za-z]*(\.[A-Za-z]+)?:(read|write)$")


class RateLimitRequest(BaseModel):
    plan: Literal["growth", "enhanced", "high_volume", "enterprise"] | None = Field(
        None, description="one of Centra's plans ..."
    )
    quotas: Quotas | None = Field(None, description="... or quotas of your own")


def _token_view(token: AccessToken, *, secret: bool = False) -> dict[str, Any]:
    return {
        "id": token.id,
        "token": token.token if secret else "***",
        "name": token.name,
        "permissions": sorted(token.permissions),
        "integration_name": token.integration_name,
        "store": token.store_uri,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat(),
        "revoked_at": None if token.revoked_at is None else token.revoked_at.isoformat(),
    }


def integration_api_control(api: IntegrationApi) -> APIRouter:
    router = APIRouter(prefix="/_emulator", tags=["control"])

    @router.post("/tokens")
    async def create_token(body: TokenSpec) -> dict[str, Any]:
        """An Integration API token; the answer is the only place its secret is shown."""
        bad = [p for p in body.permissions if not _PERMISSION.match(p)]
        if bad:
            raise HTTPException(422, f"permissions look like Order:read, not {bad}")
        try:
            made = api.create_token(body)
        except NotFoundError as exc:
            raise HTTPException(422, f"store: {exc}") from None
        return _token_view(made, secret=True)

    @router.get("/tokens")
    async def tokens() -> list[dict[str, Any]]:
        return [_token_view(t) for t in api.tokens.all()]

    @router.delete("/tokens/{token_id}")
    async def revoke_token(token_id: int) -> dict[str, Any]:
        """Revoke a token: from now on it answers HTTP 403."""
        revoked = api.tokens.revoke(token_id)
        if revoked is None:
            raise HTTPException(404, f"no token {token_id}")
        return _token_view(revoked)

    @router.get("/rate-limits")
    async def rate_limits() -> dict[str, Any]:
        """The plan, each bucket now, and what the requests let through since the plan was
        set were charged (a benchmark's bound on the time its quota allows)."""
        return {
            "quotas": api.limiter.quotas.model_dump(),
            "charged": dict(api.limiter.charged),
            "buckets": [
                {"type": b.type, "interval": b.interval, "quota": b.quota, "used": b.used}
                for b in api.limiter.buckets
            ],
        }

    @router.put("/rate-limits")
    async def set_rate_limits(body: RateLimitRequest) -> dict[str, Any]:
        """Switch the plan (Growth by default) or set quotas; every bucket starts full."""
        if (body.plan is None) == (body.quotas is None):
            raise HTTPException(422, "give a plan or quotas")
        api.limiter.configure(PLANS[body.plan] if body.plan else body.quotas or Quotas())
        return await rate_limits()

    return router
