"""``centrasync check``: is the configuration complete, and can every system be reached?

Everything here only reads. The state store is inspected without ``open_store``, which
would migrate (write) the schema, and a SQLite file that does not exist yet is reported
rather than created: ``serve`` creates it on first start.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from centrasync.analytics.mapping import unseen_attributes, validate_mapping
from centrasync.centra.integration import RateLimit
from centrasync.config import OngoingSettings, Settings, StoreSettings
from centrasync.errors import (
    AuthenticationError,
    CentrasyncError,
    ConfigError,
    PermissionDeniedError,
    TokenInvalidError,
    redact,
)
from centrasync.http import RetryPolicy
from centrasync.runtime import centra_client, integration_client, wms_client
from centrasync.store import migrate
from centrasync.store.engine import locate
from centrasync.sync import validate_field_mapping, validate_shipment_filters

__all__ = [
    "INTEGRATION_API_PROBES",
    "CheckResult",
    "Outcome",
    "check_analytics_attributes",
    "check_integration_api",
    "run_checks",
    "validate_store_rules",
]

# One attempt and a short timeout: an operator waiting at a prompt wants the failure now,
# not after the engine's backoff schedule.
_ONE_TRY = RetryPolicy(max_attempts=1)
_TIMEOUT = 10.0
ENGINE_ROW = "(engine)"


class Outcome(StrEnum):
    OK = "OK"
    WARN = "WARN"
    """Works, but something will behave differently from what the operator may expect."""
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class CheckResult:
    store: str
    system: str
    outcome: Outcome
    detail: str


def validate_store_rules(settings: Settings) -> None:
    """Validate every store's ``shipment_filters``, ``field_mapping`` and analytics
    mapping now.

    The flows only meet them when a shipment is mapped (or a load runs), which may be
    hours after start.
    """
    for store in settings.stores:
        try:
            validate_shipment_filters(store.shipment_filters)
            validate_field_mapping(store.field_mapping)
        except ConfigError as exc:
            raise ConfigError(f"stores.{store.name}.{exc.message}") from None
        if store.analytics is not None:
            validate_mapping(store.analytics, f"stores.{store.name}.analytics")


async def run_checks(settings: Settings, *, timeout: float = _TIMEOUT) -> list[CheckResult]:
    """Reach every configured system once, concurrently, and say how each answered."""
    probes = [check_state_store(settings.engine.database_url)]
    for store in settings.stores:
        probes.append(check_centra(store, timeout=timeout))
        probes.append(check_wms(store, timeout=timeout))
        if store.integration_api is not None:
            probes.append(check_integration_api(store, timeout=timeout))
        analytics = store.analytics
        if (
            analytics
            and analytics.enabled
            and (analytics.order_attributes or analytics.product_attributes)
        ):
            probes.append(check_analytics_attributes(store, timeout=timeout))
    results = list(await asyncio.gather(*probes))
    results.extend(_webhook_notes(settings))
    return results


async def check_state_store(url: str) -> CheckResult:
    system = "state store"
    try:
        where = locate(url)
    except ConfigError as exc:
        return CheckResult(ENGINE_ROW, system, Outcome.FAIL, exc.message)
    if where.missing_file is not None:
        detail = f"{where.missing_file} does not exist yet; serve creates it"
        return CheckResult(ENGINE_ROW, system, Outcome.OK, detail)
    try:
        schema = await migrate.schema_revision(url)
    except ConfigError as exc:
        return CheckResult(ENGINE_ROW, system, Outcome.FAIL, exc.message)
    except CentrasyncError as exc:
        return CheckResult(ENGINE_ROW, system, Outcome.FAIL, redact(str(exc), where.password))
    shown, revision, head = where.shown, schema.current, schema.head
    if revision == head:
        return CheckResult(ENGINE_ROW, system, Outcome.OK, f"{shown}: schema up to date")
    if revision is None:
        return CheckResult(
            ENGINE_ROW, system, Outcome.OK, f"{shown}: empty; serve creates the schema"
        )
    if not schema.known:
        return CheckResult(
            ENGINE_ROW,
            system,
            Outcome.FAIL,
            f"{shown}: schema revision {revision} is unknown to this version (newer centrasync?)",
        )
    return CheckResult(
        ENGINE_ROW, system, Outcome.OK, f"{shown}: schema {revision}; serve migrates it to {head}"
    )


def _refusal(store: StoreSettings, exc: CentrasyncError) -> str:
    if isinstance(exc, TokenInvalidError):
        return f"Integration API token invalid or expired for store {store.name!r}: {exc}"
    if isinstance(exc, AuthenticationError):
        return f"authentication failed for store {store.name!r}: {exc}"
    if isinstance(exc, PermissionDeniedError):
        return f"permission denied for store {store.name!r}: {exc}"
    return str(exc)


async def check_centra(store: StoreSettings, *, timeout: float = _TIMEOUT) -> CheckResult:
    """One Good-to-Go shipment read: proves the URL, the plugin URI and the secret."""
    secret = store.centra_secret.get_secret_value()
    try:
        async with centra_client(store, retry=_ONE_TRY, timeout=timeout) as client:
            await client.list_shipments("goodtogo", limit=1)
    except CentrasyncError as exc:
        detail = redact(_refusal(store, exc), secret)
        return CheckResult(store.name, "centra", Outcome.FAIL, detail)
    return CheckResult(store.name, "centra", Outcome.OK, f"{store.centra.base_url} answered")


async def check_wms(store: StoreSettings, *, timeout: float = _TIMEOUT) -> CheckResult:
    """Ongoing: one authenticated read. Files: the SFTP login, every folder, and write
    permission where the connector writes."""
    password = store.wms_password.get_secret_value() if store.wms_password else ""
    settings = store.wms
    try:
        async with wms_client(store, retry=_ONE_TRY, timeout=timeout) as wms:
            found = await wms.ping()
    except CentrasyncError as exc:
        return CheckResult(store.name, "wms", Outcome.FAIL, redact(_refusal(store, exc), password))
    if isinstance(settings, OngoingSettings):
        detail = f"{settings.api_url} answered for goods owner {settings.goods_owner_id}"
    else:
        detail = f"sftp://{settings.user}@{settings.host}:{settings.port} logged in; {found}"
    return CheckResult(store.name, "wms", Outcome.OK, detail)


def _webhook_notes(settings: Settings) -> list[CheckResult]:
    return [
        CheckResult(
            store.name,
            "webhooks",
            Outcome.WARN,
            "no webhook secret set (centra.webhook_secret_env): webhooks are refused, "
            "shipments are found by polling only",
        )
        for store in settings.stores
        if store.webhook_secret is None
    ]


# The Integration API operations each flow reads and writes through, probed with limit 1
# (reads) or on objects that do not exist (writes: they change nothing, and cost one
# mutation of the quota each).
INTEGRATION_API_PROBES: dict[str, tuple[str, ...]] = {
    "shipments": ("shipments", "probe_shipment_write"),
    "articles": ("products",),
    "in_deliveries": ("purchase_order_deliveries",),
    "returns": ("returns", "probe_return_write"),
    "stock": ("product_sizes_stock", "probe_stock_write"),
    "analytics": (
        "order_history",
        "shipments",
        "returns",
        "catalogue",
        "product_sizes_stock",
        "purchase_orders",
        "purchase_order_deliveries",
        "warehouses",
        "stores",
        "markets",
        "currencies",
    ),
}


def _configured_flows(store: StoreSettings) -> list[str]:
    schedule = store.schedule
    flows = [
        ("shipments", schedule.shipments > 0 or schedule.confirmations > 0),
        ("articles", schedule.articles > 0),
        ("in_deliveries", schedule.in_deliveries > 0),
        ("returns", schedule.returns > 0),
        ("stock", store.sync_stock and (schedule.stock > 0 or schedule.stock_full > 0)),
        ("analytics", store.analytics is not None and store.analytics.enabled),
    ]
    return [flow for flow, on in flows if on]


def _quota_left(limits: list[RateLimit]) -> str:
    names = {
        "REQUEST_COUNT": "requests",
        "QUERY_COMPLEXITY": "complexity",
        "MUTATION_COUNT": "mutations",
    }
    windows = {"TEN_SECONDS": "10 s", "ONE_HOUR": "1 h"}
    parts: dict[str, list[str]] = {}
    for limit in limits:
        parts.setdefault(names[limit.type], []).append(
            f"{limit.remaining_quota:,}/{limit.quota:,} per {windows[limit.interval_seconds]}"
        )
    return "; ".join(f"{kind} {', '.join(shown)}" for kind, shown in parts.items())


async def check_analytics_attributes(
    store: StoreSettings, *, timeout: float = _TIMEOUT
) -> CheckResult:
    """Do the latest orders and products carry the attributes the mapping names? A name
    none of them carries is most likely misspelt (or not used yet): a warning."""
    system = "analytics mapping"
    analytics = store.analytics
    client = integration_client(store, retry=_ONE_TRY, timeout=timeout)
    if analytics is None or client is None or store.integration_api_token is None:
        return CheckResult(store.name, system, Outcome.FAIL, "no Integration API token")
    try:
        async with client:
            unseen = await unseen_attributes(client, analytics)
    except CentrasyncError as exc:
        secret = store.integration_api_token.get_secret_value()
        return CheckResult(store.name, system, Outcome.FAIL, redact(_refusal(store, exc), secret))
    if unseen:
        listed = ", ".join(
            f"stores.{store.name}.analytics.{key} ({name!r})" for key, name in unseen.items()
        )
        detail = f"no recent order or product carries {listed}: check the attribute names"
        return CheckResult(store.name, system, Outcome.WARN, detail)
    return CheckResult(store.name, system, Outcome.OK, "every mapped attribute is in use")


async def check_integration_api(store: StoreSettings, *, timeout: float = _TIMEOUT) -> CheckResult:
    """Does the token answer, which permissions the configured flows need does it lack,
    and how much of the environment's quota is left?"""
    system = "integration api"
    token = store.integration_api_token
    client = integration_client(store, retry=_ONE_TRY, timeout=timeout)
    if client is None or token is None:
        return CheckResult(store.name, system, Outcome.FAIL, "no token configured")
    secret = token.get_secret_value()
    lacking: dict[str, list[str]] = {}
    try:
        async with client:
            await client.rate_limits()
            for flow in _configured_flows(store):
                for probe in INTEGRATION_API_PROBES[flow]:
                    variables = {} if probe.startswith("probe_") else {"limit": 1}
                    answer = await client.execute(probe, variables, raise_errors=False)
                    for permission in answer.missing_permissions:
                        lacking.setdefault(permission, []).append(flow)
            limits = await client.rate_limits()
    except CentrasyncError as exc:
        detail = redact(_refusal(store, exc), secret)
        return CheckResult(store.name, system, Outcome.FAIL, detail)
    url = client.url
    quota = f"quota left: {_quota_left(limits)}"
    if lacking:
        missing = ", ".join(
            f"{permission} ({', '.join(dict.fromkeys(flows))})"
            for permission, flows in lacking.items()
        )
        detail = f"{url} answered; the token lacks {missing}; {quota}"
        return CheckResult(store.name, system, Outcome.WARN, detail)
    detail = f"{url} answered; the token has what the configured flows use; {quota}"
    return CheckResult(store.name, system, Outcome.OK, detail)
