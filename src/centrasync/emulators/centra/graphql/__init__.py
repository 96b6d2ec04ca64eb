"""Centra's Integration API (GraphQL) on the emulator's world: ``POST /graphql``.

The SDL is ``schema.graphql`` in this package; ariadne binds the resolvers and
graphql-core parses, validates and executes.
"""

from __future__ import annotations

from .control import integration_api_control
from .ratelimits import PLANS, Quotas
from .schema import SDL, executable_schema
from .service import IntegrationApi
from .tokens import AccessToken, TokenSpec

__all__ = [
    "PLANS",
    "SDL",
    "AccessToken",
    "IntegrationApi",
    "Quotas",
    "TokenSpec",
    "executable_schema",
    "integration_api_control",
]
