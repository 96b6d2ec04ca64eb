"""``POST /graphql``: Centra's Integration API over the emulator's world.

One request goes: token (403 when missing, unknown, expired or revoked) → parse and
validate (400) → cost and permissions from the AST → the environment's rate-limit buckets
(429 with ``Retry-After``) → execution, with a middleware refusing fields the token lacks
the permission for. Every answer carries ``extensions.complexity`` and
``extensions.permissionsUsed``.
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from centrasync import __version__
from centrasync.emulators.centra.world import World

from .context import Context
from .cost import analyse
from .events import EventQueue
from .ids import IdConversions
from .ratelimits import RateLimiter
from .schema import executable_schema, guard_permissions, permission_of
from .tokens import AccessToken, TokenSpec, TokenStore

__all__ = ["IntegrationApi"]

_APP_VERSION = f"v{__version__}-centrasync-emulator"


class IntegrationApi:
    """The Integration API's state beside the world: tokens, buckets, events, ID conversion."""

    def __init__(self, world: World, zone: ZoneInfo) -> None:
        self.world = world
        self.zone = zone
        self.tokens = TokenStore(world.now)
        self.limiter = RateLimiter(world.now)
        self.events = EventQueue(world.now)
        self.conversions = IdConversions()
        self._payment_ids = itertools.count(1)
        self._kept_tokens: list[int] = []
        world.listeners.append(self.events.listen)

    def create_token(
        self, spec: TokenSpec, *, token: str | None = None, keep: bool = False
    ) -> AccessToken:
        """A token; ``keep`` makes it survive :meth:`reset` (the start-up token)."""
        if spec.store is not None:
            self.world.store(spec.store)
        made = self.tokens.create(spec, token=token)
        if keep:
            self._kept_tokens.append(made.id)
        return made

    def reset(self) -> None:
        """Back to the start: queues, listeners, conversions and made tokens gone, buckets full."""
        self.events.clear()
        self.conversions.clear()
        self.tokens.keep_only(self._kept_tokens)
        self.limiter.configure(self.limiter.quotas)

    def router(self) -> APIRouter:
        router = APIRouter(tags=["Integration API"])

        @router.post("/graphql")
        async def graphql(request: Request) -> Response:
            """Centra's Integration API (GraphQL); `Authorization: Bearer <token>`."""
            return self.answer(_token_of(request), await request.body())

        return router

    def answer(self, token_text: str | None, body: bytes) -> Response:
        self.world.expire_due()
        token = None if token_text is None else self.tokens.find(token_text)
        if token is None:
            # [I] Centra documents only the status: 403 for an invalid or expired token.
            return _errors(403, "The access token is invalid or has expired", "authentication")
        request = _request_of(body)
        if isinstance(request, Response):
            return request
        query, variables, operation_name = request
        schema = executable_schema()
        try:
            document = parse(query)
        except GraphQLSyntaxError as error:
            return _errors(400, error.message, "graphql", error=error)
        invalid = validate(schema, document)
        if invalid:
            return _answer(400, {"errors": [e.formatted for e in invalid]}, 0, [])
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return _errors(400, "Unknown or ambiguous operation name", "graphql")
        coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return _answer(400, {"errors": [e.formatted for e in coerced]}, 0, [])
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        cost = analyse(schema, operation, fragments, coerced, permission_of)
        wait = self.limiter.take(complexity=cost.complexity, mutations=cost.mutations)
        if wait is not None:
            return _rate_limited(self.world.now(), wait, cost.complexity, cost.permissions)
        context = Context(
            world=self.world,
            zone=self.zone,
            token=token,
            events=self.events,
            conversions=self.conversions,
            limiter=self.limiter,
            payment_ids=self._payment_ids,
        )
        result = execute_sync(
            schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            middleware=[guard_permissions],
        )
        body_out: dict[str, Any] = {"data": result.data}
        if result.errors:
            body_out["errors"] = [e.formatted for e in result.errors]
        return _answer(200, body_out, cost.complexity, cost.permissions)


def _token_of(request: Request) -> str | None:
    """``Authorization: Bearer <token>``, or the ``graphql-access`` cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get("graphql-access")


def _request_of(body: bytes) -> tuple[str, dict[str, Any], str | None] | Response:
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _errors(400, "The request body is not JSON", "graphql")
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        return _errors(400, "The request body must be a JSON object with a query", "graphql")
    variables = data.get("variables") or {}
    operation_name = data.get("operationName")
    if not isinstance(variables, dict) or not isinstance(operation_name, str | None):
        return _errors(400, "variables must be an object, operationName a string", "graphql")
    return data["query"], variables, operation_name


def _answer(status: int, body: dict[str, Any], complexity: int, used: list[str]) -> Response:
    body["extensions"] = {
        "complexity": complexity,
        "permissionsUsed": used,
        "appVersion": _APP_VERSION,
    }
    return JSONResponse(body, status_code=status)


def _errors(
    status: int, message: str, category: str, *, error: GraphQLError | None = None
) -> Response:
    formatted = error.formatted if error is not None else {"message": message}
    formatted = {**formatted, "extensions": {"category": category}}
    return _answer(status, {"errors": [formatted]}, 0, [])


def _rate_limited(now: datetime, wait: float, complexity: int, used: list[str]) -> Response:
    """429; ``Retry-After`` is the Unix time when the buckets hold enough again [I: format]."""
    response = _answer(
        429,
        {"errors": [{"message": "Too Many Requests", "extensions": {"category": "rate-limit"}}]},
        complexity,
        used,
    )
    response.headers["Retry-After"] = str(math.ceil(now.timestamp() + wait))
    return response
