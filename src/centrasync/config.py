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

from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError

__all__ = [
    "AnalyticsTrigger",
    "ArticleNumberStrategy",
    "CapturePolicy",
    "CentraSettings",
    "ConsoleSettings",
    "EngineSettings",
    "FileFolders",
    "FilesSettings",
    "FlowSchedule",
    "IntegrationApiSettings",
    "OngoingSettings",
    "ReturnsSource",
    "Settings",
    "StoreSettings",
    "env_file_for",
    "env_file_values",
    "load_settings",
    "parse_settings",
    "secret_env_name",
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

    host: str = Field(
        description="The Centra Base URL (the host part of the Orders API Plugin URL), "
        "http:// or https://.",
        examples=["https://shop.centra.com"],
    )
    uri: str = Field(
        description="The Order API plugin's URI as set in Centra (System > Stores > plugin "
        "Order API); the API lives at {host}/api/{uri}/.",
        examples=["wms"],
    )
    timezone: str = Field(
        description="The merchant's timezone as set in Centra (an IANA name): the Order "
        "API's times are naive and in this zone.",
        examples=["Europe/Stockholm"],
    )
    secret_env: str | None = Field(
        None,
        description="The environment variable holding the plugin's Secret API key (the "
        "Centra API Key). Default: CENTRASYNC_<STORE>_CENTRA_SECRET.",
        examples=["SHOP_CENTRA_SECRET"],
    )
    webhook_secret_env: str | None = Field(
        None,
        description="The environment variable holding the Centra Webhook plugin's endpoint "
        "secret; unset, webhooks are refused and shipments are found by polling. Default: "
        "CENTRASYNC_<STORE>_WEBHOOK_SECRET.",
        examples=["SHOP_WEBHOOK_SECRET"],
    )

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


class IntegrationApiSettings(_Strict):
    """Centra's Integration API (GraphQL) for a store: its endpoint and where its token is.

    The token is an environment's, so stores of one Centra environment may name the same
    variable; every client of one ``url`` shares one quota budget.
    """

    url: str = Field(
        description="The Integration API endpoint (the Endpoint Centra gives with the API Token).",
        examples=["https://shop.centra.com/graphql"],
    )
    token_env: str | None = Field(
        None,
        description="The environment variable holding the Integration API token. Default: "
        "CENTRASYNC_<STORE>_INTEGRATION_API_TOKEN.",
        examples=["SHOP_INTEGRATION_API_TOKEN"],
    )

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class AnalyticsTrigger(StrEnum):
    """What tells analytics that an order, shipment or return changed."""

    WEBHOOK = "webhook"
    EVENTS = "events"


class PersonalData(StrEnum):
    """What analytics does with personal data (e-mail, phone, names): drop it or hash it."""

    EXCLUDE = "exclude"
    HASH = "hash"


_COLUMN = re.compile(r"[a-z][a-z0-9_]{0,62}")
_FIELD = re.compile(r"[a-z][a-z0-9_]*(__[a-z][a-z0-9_]*)*")


class AnalyticsSettings(_Strict):
    """Analytics for a store (issue 20): Centra's orders, returns, stock and in-deliveries
    loaded by dlt into DuckDB or PostgreSQL through the store's Integration API.

    Field names are the loaded columns' (snake_case, nested ones joined by ``__``), as
    docs/analytics.md lists them per table.
    """

    enabled: bool = Field(True, description="Load this store's data when analytics runs.")
    destination: str = Field(
        "centrasync-analytics.duckdb",
        description="Where the tables go: a DuckDB file path, or a postgresql:// URL without "
        "its password (dlt reads it from DESTINATION__POSTGRES__CREDENTIALS__PASSWORD).",
        examples=["analytics.duckdb", "postgresql://analytics@127.0.0.1:5432/analytics"],
    )
    overlap: float = Field(
        600.0,
        ge=0,
        description="Seconds each incremental read steps back before the last updatedAt "
        "seen, so a row committed late in Centra is still caught (merged, never doubled).",
    )
    trigger: AnalyticsTrigger = Field(
        AnalyticsTrigger.WEBHOOK,
        description="What re-reads a changed order, shipment or return within seconds: "
        "webhook (the store's Integration API webhook events, received by serve) or events "
        "(Centra's events queue, polled every events_interval seconds; the integration "
        "must be allowed to use it).",
    )
    events_interval: float = Field(
        60.0,
        gt=0,
        description="Seconds between reads of the events queue (trigger = events); "
        "Centra asks for about once a minute.",
    )
    reconcile_interval: float = Field(
        900.0,
        ge=0,
        description="Seconds between reconciliation passes (0 = off): an incremental read "
        "with the overlap window plus returns, in-deliveries and stock read whole, which "
        "counts the rows neither trigger had brought.",
    )
    paused_retry: float = Field(
        300.0,
        gt=0,
        description="Seconds analytics waits before trying again once Centra refused the "
        "Integration API token (403); fulfilment carries on meanwhile.",
    )
    backfill_pages: int = Field(
        25,
        ge=1,
        description="Pages (of 200 rows) of orders and of shipments per committed load: a "
        "long back-fill commits its rows and cursor every so many pages, so a run killed "
        "half-way resumes there.",
    )
    columns: Mapping[str, str] = Field(
        {},
        description="Named columns: a new column name to the loaded field it takes "
        "(the field is renamed), on every table that has the field.",
        examples=[{"gift_message": "other_comment"}],
    )
    exclude: tuple[str, ...] = Field(
        (), description="Fields never loaded, on every table that has them."
    )
    personal_data: PersonalData = Field(
        PersonalData.EXCLUDE,
        description="E-mail, phone numbers and names: exclude (the default) or hash "
        "(SHA-256, so rows can still be counted per customer).",
    )
    order_attributes: Mapping[str, str] = Field(
        {},
        description="Custom order attributes as named columns on orders: a column name to "
        "the attribute's type name in Centra. Every attribute is also kept in the JSON "
        "column attributes.",
        examples=[{"gift_wrap": "gift_wrap", "sales_channel": "order_channel"}],
    )
    product_attributes: Mapping[str, str] = Field(
        {},
        description="Custom product and variant attributes as named columns on products "
        "and product_variants: a column name to the attribute's type name in Centra.",
        examples=[{"material": "pr_material"}],
    )

    @field_validator("destination")
    @classmethod
    def _known_destination(cls, value: str) -> str:
        if "://" in value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a DuckDB file path or a postgresql:// URL")
        if "://" in value and ":" in value.split("://", 1)[1].split("@", 1)[0]:
            raise ValueError(
                "a password does not belong in the file: set "
                "DESTINATION__POSTGRES__CREDENTIALS__PASSWORD in the environment"
            )
        return value

    @field_validator("columns")
    @classmethod
    def _named_columns(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        for column, source in value.items():
            if not _COLUMN.fullmatch(column):
                raise ValueError(f"column {column!r} must be a lower-case snake_case name")
            if not _FIELD.fullmatch(source):
                raise ValueError(f"field {source!r} (for {column!r}) is not a loaded field name")
        targets = list(value.values())
        if len(set(targets)) != len(targets):
            raise ValueError("two columns take the same field")
        return value

    @field_validator("order_attributes", "product_attributes")
    @classmethod
    def _attribute_columns(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        for column, attribute in value.items():
            if not _COLUMN.fullmatch(column):
                raise ValueError(f"column {column!r} must be a lower-case snake_case name")
            if not attribute.strip():
                raise ValueError(f"column {column!r} names no attribute")
        return value

    def attributes_of(self, kind: str) -> Mapping[str, str]:
        """The named attribute columns of ``kind`` ("order" or "product")."""
        return self.order_attributes if kind == "order" else self.product_attributes

    def loads_attributes(self, kind: str) -> bool:
        """Whether the custom attributes of ``kind`` are read at all: not when the JSON
        column is excluded and no attribute is mapped to a column."""
        return "attributes" not in self.exclude or bool(self.attributes_of(kind))

    @field_validator("exclude")
    @classmethod
    def _excluded_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _FIELD.fullmatch(name):
                raise ValueError(f"field {name!r} is not a loaded field name")
        return value

    @model_validator(mode="after")
    def _renamed_fields_are_kept(self) -> AnalyticsSettings:
        clash = sorted(set(self.columns.values()) & set(self.exclude))
        if clash:
            raise ValueError(f"fields both excluded and mapped to a column: {', '.join(clash)}")
        return self


class OngoingSettings(_Strict):
    """The Ongoing WMS connection a store feeds."""

    kind: Literal["ongoing"] = Field(
        "ongoing", description="Which warehouse system: Ongoing WMS's REST API."
    )
    base_url: str | None = Field(
        None,
        description="The REST API's URL, when it is not Ongoing's hosted one (an emulator, "
        "a test system). Set this or warehouse.",
        examples=["http://127.0.0.1:7802/demo/api/v1/"],
    )
    warehouse: str | None = Field(
        None,
        description="The warehouse's name in Ongoing's hosted API address "
        "https://api.ongoingsystems.se/{warehouse}/api/v1/. Set this or base_url.",
        examples=["acme"],
    )
    user: str = Field(description="The API user (HTTP Basic).", examples=["centrasync"])
    password_env: str | None = Field(
        None,
        description="The environment variable holding the API user's password. Default: "
        "CENTRASYNC_<STORE>_WMS_PASSWORD.",
        examples=["SHOP_WMS_PASSWORD"],
    )
    goods_owner_id: int = Field(
        gt=0, description="The goods owner (the merchant) in the WMS.", examples=[1]
    )

    @property
    def api_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/") + "/"
        return f"https://api.ongoingsystems.se/{self.warehouse}/api/v1/"


def _folder(default: str, what: str) -> Any:
    return Field(default, description=what, examples=[default])


class FileFolders(_Strict):
    """Where each message type lives on the warehouse's SFTP server, relative to ``root``.

    The in-folders are the warehouse's (we write), the out-folders ours to read;
    ``consumed`` is the sub-folder of each in-folder the warehouse moves an imported file
    to (None if it deletes them), looked in before a file is written again.
    """

    items: str = _folder("in/items", "Item master files we write (articles).")
    orders: str = _folder("in/orders", "Outbound order files we write (shipments).")
    cancellations: str = _folder("in/cancellations", "Cancellation requests we write.")
    in_orders: str = _folder("in/in-orders", "Receipt notices (ASN, in-deliveries) we write.")
    external_stock: str = _folder(
        "in/external-stock", "Centra's available stock we write for the warehouse."
    )
    dispatches: str = _folder("out/dispatches", "Dispatch confirmations we read.")
    cancel_results: str = _folder("out/cancel-results", "The warehouse's cancellation answers.")
    receipts: str = _folder("out/receipts", "Receipt confirmations we read.")
    returns: str = _folder("out/returns", "Return notices we read.")
    stock: str = _folder("out/stock", "Stock reports (snapshots or deltas) we read.")
    consumed: str | None = Field(
        "processed",
        description="The sub-folder of each in-folder the warehouse moves an imported file "
        "to; unset if it deletes them.",
    )
    archive: str = _folder("archive", "Where files we have read are moved, per message type.")
    error: str = _folder(
        "error", "Where files that cannot be read are moved, with a .reason.txt beside each."
    )
    state: str = _folder(
        "centrasync-state", "centrasync's own small state documents on the server."
    )


class FilesSettings(_Strict):
    """A warehouse reached by file exchange over SFTP (``kind = "files"``).

    Password (``password_env``, default ``CENTRASYNC_<STORE>_WMS_PASSWORD``) or key
    (``private_key``) login. The server's host key is checked against ``known_hosts``
    unless ``check_host_key`` is explicitly false, which is for tests only.
    """

    kind: Literal["files"] = Field(
        description="Which warehouse system: file exchange over SFTP.", examples=["files"]
    )
    host: str = Field(description="The SFTP server.", examples=["sftp.3pl.example"])
    port: int = Field(22, gt=0, lt=65536, description="The SFTP server's port.")
    user: str = Field(description="The SFTP account.", examples=["shop"])
    password_env: str | None = Field(
        None,
        description="The environment variable holding the SFTP password (not needed with "
        "private_key). Default: CENTRASYNC_<STORE>_WMS_PASSWORD.",
    )
    private_key: str | None = Field(
        None,
        description="Path of an OpenSSH private key to log in with, instead of a password.",
        examples=["/etc/centrasync/id_ed25519"],
    )
    known_hosts: str = Field(
        "~/.ssh/known_hosts",
        description="The known_hosts file the server's host key is checked against.",
    )
    check_host_key: bool = Field(
        True, description="Check the server's host key; false is for tests only."
    )
    root: str = Field(".", description="The folder the folders below are relative to.")
    folders: FileFolders = Field(
        FileFolders(), description="Where each message type lives ([stores.<name>.wms.folders])."
    )
    format: Literal["csv", "xml"] = Field("csv", description="The files' format.")
    delimiter: str = Field(";", min_length=1, max_length=1, description="The CSV delimiter.")
    encoding: str = Field("utf-8", description="The files' encoding (a Python codec name).")
    decimal_separator: Literal[".", ","] = Field(".", description="The decimal separator.")
    headers: Mapping[str, Mapping[str, str]] = Field(
        default_factory=dict,
        description="Renamed fields per message type (field mapping); the default names are "
        "seed 002's.",
        examples=[{"orders": {"ArticleNumber": "sku"}}],
    )
    file_prefix: str = Field("", description="A prefix for the names of the files we write.")
    answer_timeout: float = Field(
        30.0, gt=0, description="seconds to wait for the warehouse's answer to a cancellation"
    )
    poll_interval: float = Field(0.5, gt=0, description="Seconds between looks for that answer.")
    page_size: int = Field(100, ge=1, description="Files read per listing page.")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value


def _every(seconds: float, what: str) -> Any:
    return Field(seconds, ge=0, description=f"Seconds between {what}; 0 switches it off.")


class FlowSchedule(_Strict):
    """Seconds between polls per flow; 0 switches a flow off."""

    shipments: float = _every(60.0, "reads of Good-to-Go shipments (webhooks come sooner)")
    confirmations: float = _every(60.0, "reads of what the WMS shipped, completed in Centra")
    cancellations: float = _every(300.0, "checks for shipments cancelled in Centra")
    sweep: float = _every(900.0, "sweeps for shipments a webhook did not announce")
    articles: float = _every(3600.0, "article registry passes (Centra products to WMS articles)")
    in_deliveries: float = _every(900.0, "purchase order (in-delivery) passes")
    returns: float = _every(900.0, "passes reporting WMS returns to Centra")
    stock: float = _every(300.0, "incremental stock passes")
    stock_full: float = _every(86400.0, "full stock comparisons (Centra advises one a day)")


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

    name: str = Field(description="The store's name: the key of its [stores.<name>] table.")
    centra: CentraSettings
    integration_api: IntegrationApiSettings | None = Field(
        None,
        description="Centra's Integration API (GraphQL) for this store "
        "([stores.<name>.integration_api]); unset, the store has no Integration API client.",
    )
    analytics: AnalyticsSettings | None = Field(
        None,
        description="Analytics ([stores.<name>.analytics]); needs integration_api. Unset, "
        "the store's data is not loaded.",
    )
    wms: Annotated[
        Annotated[OngoingSettings, Tag("ongoing")] | Annotated[FilesSettings, Tag("files")],
        Discriminator(_wms_kind),
    ] = Field(description='The warehouse: Ongoing (kind "ongoing", the default) or files.')
    capture_policy: CapturePolicy = Field(
        CapturePolicy.NEVER,
        description="When to capture shipments (ask Centra to charge the customer): 'never', "
        "'on_import' (before the order goes to the warehouse; a declined capture stops the "
        "shipment, a sign of possible fraud) or 'on_complete' (when the warehouse shipped it). "
        "Ongoing's own connector offers the same three: Never / On Import / On Complete.",
        examples=["on_import"],
    )
    article_number: ArticleNumberStrategy = Field(
        ArticleNumberStrategy.SKU_VARIANT_SIZE,
        description="The article number strategy: how a Centra size becomes a WMS article "
        "number: 'ean', 'sku', 'sku_variant' (sku + variant SKU), 'sku_variant_size' (sku + "
        "variant SKU + size SKU) or 'custom' (article_number_fields). The variation chosen "
        "must be unique in Centra.",
        examples=["ean"],
    )
    article_number_fields: tuple[str, ...] = Field(
        (),
        description="With article_number = 'custom': the Centra product fields (wire names) "
        "joined into the article number, in order.",
        examples=[["sku", "sizeSku"]],
    )
    schedule: FlowSchedule = Field(
        FlowSchedule(), description="Seconds between passes, per flow ([stores.<name>.schedule])."
    )
    shipment_filters: Mapping[str, Any] = Field(
        default_factory=dict,
        description="Additional filters on shipments: only shipments whose fields match go "
        "to the warehouse (a value must equal the field; a list means any of them), e.g. "
        "only after a successful capture. Default: no filter.",
        examples=[{"deliveryCountry": ["SE", "NO"], "paid": True}],
    )
    field_mapping: Mapping[str, str] = Field(
        default_factory=dict,
        description="Field-mapping overrides: a WMS order field to take from another Centra "
        "shipment field than the default mapping does (`centrasync preview shipment` shows "
        "the result).",
        examples=[{"remark": "internalComment"}],
    )
    article_filters: tuple[str, ...] = Field(
        ARTICLE_FILTER_DEFAULT,
        description="Additional filters on articles: the Centra product fields (wire names) "
        "that must have a value for a size to become a WMS article. Default: SKU, variant "
        "SKU and size SKU must have values (Ongoing's own connector's default).",
        examples=[["sku", "variantSku", "sizeSku", "ean"]],
    )
    sync_article_price: bool = Field(
        False, description="Sync article price: send the product's price as the article's."
    )
    sync_inactive_products: bool = Field(
        False,
        description="Sync inactive products: also send inactive Centra products, marked "
        "obsolete in the WMS.",
    )
    return_stock: bool = Field(
        False,
        description="Return stock: returned items go back in stock in Centra when the "
        "return is created.",
    )
    include_return_comment: bool = Field(
        False,
        description="Include return comment to return cause: the WMS's return cause becomes "
        "the Centra return line's comment.",
    )
    returns_from: ReturnsSource = Field(
        ReturnsSource.ORDERS,
        description="Where returns are read: 'orders' (the shipped order's lines, as "
        "Ongoing's own connector does), 'return_orders' (WMS return orders, for warehouses "
        "that register every return as one) or 'both'.",
    )
    sync_stock: bool = Field(
        False,
        description="Synchronize stock to Centra: write the WMS's physical stock "
        "(numberOfItems - numberOfLockedItems + allocatedNumberOfItems, one of the stock "
        "formula options) to Centra's physical stock.",
    )
    import_available_stock: bool = Field(
        False,
        description='Import Centra\'s "available stock" to "external number of items" in the WMS.',
    )
    picked_not_collected_as_in_stock: bool = Field(
        False,
        description="Report picked, but not yet collected, items as in stock (a stock "
        "formula option: adds pickedToBeCollectedNumberOfItems).",
    )
    stock_quiet_window: float = Field(
        120.0,
        ge=0,
        description="Seconds the WMS stock must have been still before a full stock sync "
        "(Centra warns that a full sync while stock moves re-adds units just sold).",
    )
    warehouse_map: Mapping[str, str] = Field(
        default_factory=dict,
        description="WMS warehouse (Ongoing code, name or id) to Centra warehouse, for the "
        "stock flow: the keys choose which of the goods owner's warehouses feed this store "
        "(their figures are summed); every value must be the same Centra warehouse, since an "
        "Order API plugin writes only its primary one. Empty: all warehouses.",
        examples=[{"MAIN": "Main warehouse"}],
    )
    centra_secret: SecretStr = Field(
        description="Resolved from centra.secret_env; never written in the file."
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Resolved from centra.webhook_secret_env; never written in the file."
    )
    integration_api_token: SecretStr | None = Field(
        None, description="Resolved from integration_api.token_env; never written in the file."
    )
    wms_password: SecretStr | None = Field(
        description="Resolved from wms.password_env; never written in the file."
    )

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

    @model_validator(mode="after")
    def _analytics_reads_the_integration_api(self) -> StoreSettings:
        if self.analytics is not None and self.integration_api is None:
            raise ValueError(
                "analytics reads the Integration API: add [stores.<name>.integration_api]"
            )
        return self


class EngineSettings(_Strict):
    """Process-wide settings."""

    database_url: str = Field(
        "sqlite+aiosqlite:///centrasync.sqlite",
        description="The state store: SQLite (one process) or PostgreSQL (several, "
        "postgresql+psycopg://user@host/db); a password in it is masked in output.",
        examples=["postgresql+psycopg://centrasync@127.0.0.1:5432/centrasync"],
    )
    database_pool: int = Field(
        20,
        ge=1,
        le=200,
        description="PostgreSQL connections a process keeps open (as many again at a peak); "
        "size the server's max_connections for every process",
    )
    listen_host: str = Field(
        "127.0.0.1", description="Interface `centrasync serve` listens on.", examples=["0.0.0.0"]
    )
    listen_port: int = Field(
        8080, gt=0, lt=65536, description="Port `centrasync serve` listens on."
    )
    max_webhook_body: int = Field(
        1_048_576, gt=0, description="Largest webhook body accepted, in bytes; larger get 413."
    )
    webhook_body_timeout: float = Field(
        10.0, gt=0, description="seconds a webhook body may take to arrive; slower ones get 408"
    )
    centra_rate: float = Field(
        100.0,
        gt=0,
        description="Order API requests per second per Centra account, our own guard: Centra "
        "documents no limit for that API (docs/engine.md); a 429 pauses the budget as well",
    )
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


_OPERATOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
CONSOLE_TOKEN_ENV = "CENTRASYNC_CONSOLE_TOKEN"
CONSOLE_SESSION_SECRET_ENV = "CENTRASYNC_CONSOLE_SESSION_SECRET"
MIN_TOKEN_LENGTH = 16


class ConsoleSettings(_Strict):
    """The operator's console (``serve --role web|all``): who may log in, and how.

    ``users`` maps each operator's name to an argon2 hash (``centrasync user add`` writes
    it); ``token`` (from the environment) is a single shared login instead. With neither,
    the console is not served. ``session_secret`` signs the session cookies; without it a
    random one is made at start-up, so a restart logs everybody out, and several web
    processes must share one.
    """

    users: Mapping[str, str] = Field(
        default_factory=dict,
        description="Operator name to argon2 hash; `centrasync user add <name>` writes one.",
        examples=[{"ada": "$argon2id$v=19$m=65536,t=3,p=4$…"}],
    )
    session_hours: float = Field(8.0, gt=0, le=24 * 30, description="Hours a console login lasts.")
    login_attempts: int = Field(
        5, ge=1, description="failed logins per client address and per name in 5 minutes"
    )
    secure_cookies: bool = Field(
        False, description="send the session cookie over HTTPS only (set behind TLS)"
    )
    token_env: str = Field(
        CONSOLE_TOKEN_ENV,
        description="The environment variable holding a single shared console login token "
        f"(at least {MIN_TOKEN_LENGTH} characters), instead of or beside users.",
    )
    session_secret_env: str = Field(
        CONSOLE_SESSION_SECRET_ENV,
        description="The environment variable holding the key that signs session cookies; "
        "unset, a random one per start (a restart logs everybody out; several web processes "
        "must share one).",
    )
    token: SecretStr | None = Field(
        None, description="Resolved from token_env; never written in the file."
    )
    session_secret: SecretStr | None = Field(
        None, description="Resolved from session_secret_env; never written in the file."
    )

    @field_validator("users")
    @classmethod
    def _hashed(cls, value: Mapping[str, str]) -> Mapping[str, str]:
        for name, hashed in value.items():
            if not _OPERATOR.match(name):
                raise ValueError(f"{name!r}: operator names are letters, digits and . _ @ -")
            if not hashed.startswith("$argon2"):
                raise ValueError(
                    f"{name}: not an argon2 hash (make one with `centrasync user add {name}`)"
                )
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.users) or self.token is not None


class Settings(_Strict):
    engine: EngineSettings = Field(description="Process-wide settings ([engine]).")
    stores: tuple[StoreSettings, ...] = Field(description="One [stores.<name>] table per store.")
    console: ConsoleSettings = Field(
        ConsoleSettings(), description="The operator's web console ([console])."
    )

    def store(self, name: str) -> StoreSettings:
        for store in self.stores:
            if store.name == name:
                return store
        raise ConfigError(f"no store named {name!r} (configured: {[s.name for s in self.stores]})")


_SECRET_FIELDS = frozenset(
    {"centra_secret", "webhook_secret", "integration_api_token", "wms_password"}
)


def secret_env_name(store: str, suffix: str) -> str:
    """The default environment variable of a store's secret, e.g. CENTRASYNC_SE_WMS_PASSWORD."""
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
    unknown = set(document) - {"engine", "stores", "console"}
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
        secret_env = (centra or {}).get("secret_env") or secret_env_name(name, "CENTRA_SECRET")
        hook_env = (centra or {}).get("webhook_secret_env") or secret_env_name(
            name, "WEBHOOK_SECRET"
        )
        password_env = (wms or {}).get("password_env") or secret_env_name(name, "WMS_PASSWORD")
        written = sorted(_SECRET_FIELDS & set(raw))
        if written:
            raise ConfigError(
                f"{prefix}{written[0]} does not belong in the file: secrets come from "
                "the environment (name the variable with the section's *_env key)"
            )
        values = dict(raw)
        values["name"] = name
        values["centra_secret"] = _secret(env, secret_env, f"{prefix}centra.secret_env")
        values["webhook_secret"] = SecretStr(env[hook_env]) if env.get(hook_env) else None
        key_login = (wms or {}).get("kind") == "files" and (wms or {}).get("private_key")
        if key_login:
            values["wms_password"] = SecretStr(env[password_env]) if env.get(password_env) else None
        else:
            values["wms_password"] = _secret(env, password_env, f"{prefix}wms.password_env")
        graphql = raw.get("integration_api")
        if isinstance(graphql, Mapping):
            token_env = graphql.get("token_env") or secret_env_name(name, "INTEGRATION_API_TOKEN")
            values["integration_api_token"] = _secret(
                env, token_env, f"{prefix}integration_api.token_env"
            )
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
    return Settings(engine=engine, stores=tuple(stores), console=_console(document, env))


def _console(document: Mapping[str, Any], env: Mapping[str, str]) -> ConsoleSettings:
    raw = document.get("console", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("console: must be a table")
    values = dict(raw)
    for key in ("token", "session_secret"):
        if key in values:
            raise ConfigError(
                f"console.{key} is never kept in the file; name the environment variable "
                f"that holds it with console.{key}_env"
            )
    token_env = values.get("token_env", CONSOLE_TOKEN_ENV)
    session_env = values.get("session_secret_env", CONSOLE_SESSION_SECRET_ENV)
    if isinstance(token_env, str) and env.get(token_env):
        if len(env[token_env]) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"console.token_env: {token_env} must hold at least {MIN_TOKEN_LENGTH} "
                "characters (it is the whole login)"
            )
        values["token"] = SecretStr(env[token_env])
    if isinstance(session_env, str) and env.get(session_env):
        values["session_secret"] = SecretStr(env[session_env])
    try:
        return ConsoleSettings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "console.")) from None


def load_settings(path: str | Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate ``centrasync.toml``.

    Secrets come from ``env``; by default from the process environment over the ``.env``
    file next to the configuration file (where ``centrasync init`` writes them).
    """
    file = Path(path)
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {file} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    if env is None:
        env = {**env_file_values(env_file_for(file)), **os.environ}
    return parse_settings(document, env)


def env_file_for(config: Path) -> Path:
    """The ``.env`` file that belongs to a configuration file: the one beside it."""
    return config.with_name(".env")


def env_file_values(path: Path) -> dict[str, str]:
    """The variables a ``.env`` file sets (none when it does not exist)."""
    if not path.is_file():
        return {}
    return {name: value for name, value in dotenv_values(path).items() if value is not None}
