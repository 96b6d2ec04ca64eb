"""What every resolver of one request sees: the world, the caller's token, the services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from graphql import GraphQLResolveInfo

from centrasync.emulators.centra.model import Store
from centrasync.emulators.centra.world import World

from .events import EventQueue
from .ids import IdConversions
from .phpdate import TimeInput
from .ratelimits import RateLimiter
from .tokens import AccessToken

__all__ = ["Context", "Info", "context_of"]

Info: TypeAlias = "GraphQLResolveInfo[Any]"


@dataclass
class Context:
    world: World
    zone: ZoneInfo
    token: AccessToken
    events: EventQueue
    conversions: IdConversions
    limiter: RateLimiter
    payment_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def now(self) -> datetime:
        return self.world.now()

    def moment(self, value: TimeInput) -> datetime:
        """An input date read as Centra reads it: naive text in the merchant zone."""
        return value.resolve(self.zone, self.now())

    def sees(self, store_uri: str | None) -> bool:
        """Whether the token's store restriction lets it see an object of this store."""
        return self.token.store_uri is None or store_uri in (None, self.token.store_uri)

    def stores(self) -> list[Store]:
        return [s for s in self.world.stores.values() if self.sees(s.uri)]

    def store_by_id(self, store_id: int) -> Store | None:
        return next((s for s in self.world.stores.values() if s.market_id == store_id), None)


def context_of(info: Info) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context
