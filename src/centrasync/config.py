"""Settings: one ``centrasync.toml`` plus environment variables for secrets.

Built once at the edge (the CLI or the server), validated before any work starts, and
passed down as frozen values; nothing else reads ``os.environ``. Secrets are never written
in the TOML file: each one names the environment variable that holds it (with a default
name derived from the store), and lives in a :class:`pydantic.SecretStr`, masked in
``repr``, ``str`` and dumps.

An error names the key and the store, e.g. ``stores.se.centra.timezone: unknown time zone
'Europe/Stokholm'``, because the person fixing it is looking at the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
)

from .errors import ConfigError

__all__ = [
    "ArticleNumberStrategy",
    "CapturePolicy",
    "CentraSettings",
    "EngineSettings",
    "FileFolders",
    "FilesSettings",
    "FlowSchedule",
    "OngoingSettings",
    "ReturnsSource",
    "Settings",
    "StoreSettings",
    "load_settings",
    "parse_settings",
]

_STORE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class CapturePolicy(StrEnum):
    """When the engine asks Centra to charge the customer (Ongoing's setting, default never)."""

    NEVER = "never"
    ON_IMPORT = "on_import"
    ON_COMPLETE = "on_complete"


class ReturnsSource(StrEnum):
    """Where the returns flow reads the goods that came back (default: the orders' lines)."""

    ORDERS = "orders"
    """The shipped order's own lines (returned vs reported returned), as Ongoing's own
    Centra connector reads them."""
    RETURN_ORDERS = "return_orders"
    """WMS return orders: for warehouses that register every return as one."""
    BOTH = "both"
    """Both; a return is booked on one or the other, never on both."""


class ArticleNumberStrategy(StrEnum):
    """How a Centra size becomes a WMS article number (default: all three SKU parts)."""

    EAN = "ean"
    SKU = "sku"
    SKU_VARIANT = "sku_variant"
    SKU_VARIANT_SIZE = "sku_variant_size"
    CUSTOM = "custom"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CentraSettings(_Strict):
    """One Order API plugin instance: its base URL is ``{host}/api/{uri}/``."""

    host: str
    uri: str
    timezone: str
    secret_env: str | None = None
    webhook_secret_env: str | None = None

    @field_validator("host")
    @classmethod
    def _host_is_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @property
    def base_url(self) -> str:
        return f"{self.host}/api/{self.uri.strip('/')}/"


class OngoingSettings(_Strict):
    """The Ongoing WMS connection a store feeds."""

    kind: Literal["ongoing"] = "ongoing"
    base_url: str | None = None
    warehouse: str | None = None
    user: str
    password_env: str | None = None
    goods_owner_id: int = Field(gt=0)

    @property
    def api_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/") + "/"
        return f"https://api.ongoingsystems.se/{self.warehouse}/api/v1/"


class FileFolders(_Strict):
    """Where each message type lives on the warehouse's SFTP server, relative to ``root``.

    The in-folders are the warehouse's (we write), the out-folders ours to read;
    ``consumed`` is the sub-folder of each in-folder the warehouse moves an imported file
    to (None if it deletes them), looked in before a file is written again.
    """

    items: str = "in/items"
    orders: str = "in/orders"
    cancellations: str = "in/cancellations"
    in_orders: str = "in/in-orders"
    external_stock: str = "in/external-stock"
    dispatches: str = "out/dispatches"
    cancel_results: str = "out/cancel-results"
    receipts: str = "out/receipts"
    returns: str = "out/returns"
    stock: str = "out/stock"
    consumed: str | None = "processed"
    archive: str = "archive"
    error: str = "error"
    state: str = "centrasync-state"


class FilesSettings(_Strict):
    """A warehouse reached by file exchange over SFTP (``kind = "files"``).

    Password (``password_env``, default ``CENTRASYNC_<STORE>_WMS_PASSWORD``) or key
    (``private_key``) login. The server's host key is checked against ``known_hosts``
    unless ``check_host_key`` is explicitly false, which is for tests only.
    """

    kind: Literal["files"]
    host: str
    port: int = Field(22, gt=0, lt=65536)
    user: str
    password_env: str | None = None
    private_key: str | None = Field(None, description="path of an OpenSSH private key")
    known_hosts: str = "~/.ssh/known_hosts"
    check_host_key: bool = True
    root: str = "."
    folders: FileFolders = FileFolders()
    format: Literal["csv", "xml"] = "csv"
    delimiter: str = Field(";", min_length=1, max_length=1)
    encoding: str = "utf-8"
    decimal_separator: Literal[".", ","] = "."
    headers: Mapping[str, Mapping[str, str]] = Field(
        default_factory=dict,
        description="renamed fields per message type, e.g. {orders = {ArticleNumber = 'sku'}}",
    )
    file_prefix: str = ""
    answer_timeout: float = Field(
        30.0, gt=0, description="seconds to wait for the warehouse's answer to a cancellation"
    )
    poll_interval: float = Field(0.5, gt=0)
    page_size: int = Field(100, ge=1)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value


class FlowSchedule(_Strict):
    """Seconds between polls per flow; 0 switches a flow off."""

    shipments: float = Field(60.0, ge=0)
    confirmations: float = Field(60.0, ge=0)
    cancellations: float = Field(300.0, ge=0)
    sweep: float = Field(900.0, ge=0)
    articles: float = Field(3600.0, ge=0)
    in_deliveries: float = Field(900.0, ge=0)
    returns: float = Field(900.0, ge=0)
    stock: float = Field(300.0, ge=0)
    stock_full: float = Field(86400.0, ge=0)


# Text fields of a Centra product size an article filter may require, by wire name.
ARTICLE_FILTER_FIELDS = frozenset(
    {
        "sku",
        "variantSku",
        "sizeSku",
        "ean",
        "upc",
        "brand",
        "collection",
        "product",
        "variant",
        "size",
        "name",
        "countryOfOrigin",
        "harmCode",
    }
)
ARTICLE_FILTER_DEFAULT = ("sku", "variantSku", "sizeSku")


def _wms_kind(value: Any) -> str:
    """``[stores.X.wms] kind``: "ongoing" (the default) or "files"."""
    if isinstance(value, Mapping):
        return str(value.get("kind", "ongoing"))
    return str(getattr(value, "kind", "ongoing"))


class StoreSettings(_Strict):
    """Everything one store needs; secrets are resolved into the ``*_secret`` fields."""

    name: str
    centra: CentraSettings
    wms: Annotated[
        Annotated[OngoingSettings, Tag("ongoing")] | Annotated[FilesSettings, Tag("files")],
        Discriminator(_wms_kind),
    ]
    capture_policy: CapturePolicy = CapturePolicy.NEVER
    article_number: ArticleNumberStrategy = ArticleNumberStrategy.SKU_VARIANT_SIZE
    article_number_fields: tuple[str, ...] = ()
    schedule: FlowSchedule = FlowSchedule()
    shipment_filters: Mapping[str, Any] = Field(default_factory=dict)
    field_mapping: Mapping[str, str] = Field(default_factory=dict)
    article_filters: tuple[str, ...] = Field(
        ARTICLE_FILTER_DEFAULT,
        description="Centra product fields (wire names) that must have a value for a size "
        "to become a WMS article; the default is Ongoing's own connector's.",
    )
    sync_article_price: bool = False
    sync_inactive_products: bool = False
    return_stock: bool = False
    include_return_comment: bool = False
    returns_from: ReturnsSource = Field(
        ReturnsSource.ORDERS,
        description="Where returns are read: 'orders' (the shipped order's lines, as "
        "Ongoing's own connector does), 'return_orders' (WMS return orders, for warehouses "
        "that register every return as one) or 'both'.",
    )
    sync_stock: bool = False
    import_available_stock: bool = False
    picked_not_collected_as_in_stock: bool = False
    stock_quiet_window: float = Field(120.0, ge=0)
    warehouse_map: Mapping[str, str] = Field(default_factory=dict)
    centra_secret: SecretStr
    webhook_secret: SecretStr | None = None
    wms_password: SecretStr | None

    @field_validator("article_filters")
    @classmethod
    def _known_product_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - ARTICLE_FILTER_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown product field(s) {', '.join(unknown)}; "
                f"choose from {', '.join(sorted(ARTICLE_FILTER_FIELDS))}"
            )
        return value


class EngineSettings(_Strict):
    """Process-wide settings."""

    database_url: str = "sqlite+aiosqlite:///centrasync.sqlite"
    database_pool: int = Field(
        20,
        ge=1,
        le=200,
        description="PostgreSQL connections a process keeps open (as many again at a peak); "
        "size the server's max_connections for every process",
    )
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8080, gt=0, lt=65536)
    max_webhook_body: int = Field(1_048_576, gt=0)
    webhook_body_timeout: float = Field(
        10.0, gt=0, description="seconds a webhook body may take to arrive; slower ones get 408"
    )
    centra_rate: float = Field(10.0, gt=0, description="requests per second per Centra account")
    max_attempts: int = Field(8, ge=1, description="failures before a record is parked")
    concurrency: int = Field(
        8, ge=1, le=64, description="shipments and webhook events each store works on at once"
    )
    lease_ttl: float = Field(
        15.0,
        ge=1.0,
        description="seconds a worker's lease on a store's loop lasts unless renewed; another "
        "process takes the work over this long after a worker stops",
    )


class Settings(_Strict):
    engine: EngineSettings
    stores: tuple[StoreSettings, ...]

    def store(self, name: str) -> StoreSettings:
        for store in self.stores:
            if store.name == name:
                return store
        raise ConfigError(f"no store named {name!r} (configured: {[s.name for s in self.stores]})")


def _env_name(store: str, suffix: str) -> str:
    return f"CENTRASYNC_{re.sub(r'[^A-Z0-9]', '_', store.upper())}_{suffix}"


def _secret(env: Mapping[str, str], name: str, key: str) -> SecretStr:
    value = env.get(name)
    if not value:
        raise ConfigError(f"{key}: environment variable {name} is not set")
    return SecretStr(value)


def _describe(exc: ValidationError, prefix: str) -> str:
    problems = []
    for error in exc.errors():
        loc = error["loc"]
        # The wms table's kind tag is not a key of the file.
        parts = [
            part
            for index, part in enumerate(loc)
            if not (index and loc[index - 1] == "wms" and part in ("ongoing", "files"))
        ]
        location = ".".join(str(part) for part in parts)
        problems.append(f"{prefix}{location}: {error['msg']}")
    return "; ".join(problems)


def parse_settings(document: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    """Validate a parsed TOML document and resolve secrets from ``env``."""
    unknown = set(document) - {"engine", "stores"}
    if unknown:
        raise ConfigError(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
    try:
        engine = EngineSettings.model_validate(document.get("engine", {}))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "engine.")) from None
    raw_stores = document.get("stores")
    if not isinstance(raw_stores, Mapping) or not raw_stores:
        raise ConfigError("stores: at least one [stores.<name>] table is required")
    stores = []
    for name, raw in raw_stores.items():
        prefix = f"stores.{name}."
        if not _STORE_NAME.match(name):
            raise ConfigError(f"stores.{name}: store names are lower-case letters, digits, - and _")
        if not isinstance(raw, Mapping):
            raise ConfigError(f"stores.{name}: must be a table")
        centra = raw.get("centra", {})
        wms = raw.get("wms", {})
        secret_env = (centra or {}).get("secret_env") or _env_name(name, "CENTRA_SECRET")
        hook_env = (centra or {}).get("webhook_secret_env") or _env_name(name, "WEBHOOK_SECRET")
        password_env = (wms or {}).get("password_env") or _env_name(name, "WMS_PASSWORD")
        values = dict(raw)
        values["name"] = name
        values["centra_secret"] = _secret(env, secret_env, f"{prefix}centra.secret_env")
        values["webhook_secret"] = SecretStr(env[hook_env]) if env.get(hook_env) else None
        key_login = (wms or {}).get("kind") == "files" and (wms or {}).get("private_key")
        if key_login:
            values["wms_password"] = SecretStr(env[password_env]) if env.get(password_env) else None
        else:
            values["wms_password"] = _secret(env, password_env, f"{prefix}wms.password_env")
        try:
            store = StoreSettings.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, prefix)) from None
        if store.article_number is ArticleNumberStrategy.CUSTOM and not store.article_number_fields:
            raise ConfigError(
                f"{prefix}article_number_fields: required when article_number = 'custom'"
            )
        if (
            isinstance(store.wms, OngoingSettings)
            and store.wms.base_url is None
            and store.wms.warehouse is None
        ):
            raise ConfigError(f"{prefix}wms: set base_url or warehouse")
        stores.append(store)
    return Settings(engine=engine, stores=tuple(stores))


def load_settings(path: str | Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate ``centrasync.toml``; secrets come from ``env`` (default: os.environ)."""
    file = Path(path)
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {file} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse_settings(document, os.environ if env is None else env)
