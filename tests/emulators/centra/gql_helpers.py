"""Plain-httpx helpers for the Integration API tests: tokens and one GraphQL request."""

from __future__ import annotations

from typing import Any

import httpx

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.graphql.schema import permissions

EVERYTHING = sorted(permissions())


async def token(
    client: httpx.AsyncClient,
    permissions: list[str] | None = None,
    **extra: Any,
) -> str:
    """A token made through the control API (every permission unless told)."""
    body = {"permissions": permissions or EVERYTHING, **extra}
    response = await client.post("/_emulator/tokens", json=body)
    assert response.status_code == 200, response.text
    made: str = response.json()["token"]
    return made


async def post(
    client: httpx.AsyncClient,
    bearer: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {bearer}"},
    )


async def gql(
    client: httpx.AsyncClient,
    bearer: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``data`` of a request that must succeed without errors."""
    response = await post(client, bearer, query, variables)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def unlimited(emu: CentraEmulator) -> None:
    """Quotas no test run reaches, for tests that make many requests."""
    from centrasync.emulators.centra.graphql import PLANS

    emu.integration_api.limiter.configure(
        PLANS["enterprise"].model_copy(update={"requests_10s": 100_000, "mutations_10s": 100_000})
    )
