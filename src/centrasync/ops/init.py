"""``centrasync init``: from a merchant's answers to a checked ``centrasync.toml`` and ``.env``.

The answers go through the same validation as a loaded file (``parse_settings``) and the
same probes as ``centrasync check``, so a file init wrote is one check accepts. Secrets go
to the ``.env`` file only (mode 0600), never into the TOML.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit
from dotenv import set_key
from tomlkit.items import Table

from centrasync.config import (
    ArticleNumberStrategy,
    CapturePolicy,
    CentraSettings,
    EngineSettings,
    FilesSettings,
    FlowSchedule,
    IntegrationApiSettings,
    OngoingSettings,
    StoreSettings,
    env_file_for,
    parse_settings,
    secret_env_name,
)
from centrasync.errors import ConfigError

from .check import CheckResult, check_centra, check_integration_api, check_wms

__all__ = [
    "FLOWS",
    "CentraAnswers",
    "FilesAnswers",
    "IntegrationApiAnswers",
    "OngoingAnswers",
    "StoreAnswers",
    "existing_stores",
    "probe_centra",
    "probe_integration_api",
    "probe_wms",
    "split_plugin_url",
    "store_settings",
    "write_store",
]

# The flows init offers, and the schedule keys each one switches.
FLOWS: Mapping[str, tuple[str, ...]] = {
    "shipments": ("shipments", "confirmations", "cancellations", "sweep"),
    "articles": ("articles",),
    "in_deliveries": ("in_deliveries",),
    "returns": ("returns",),
    "stock": ("stock", "stock_full"),
}


@dataclass(frozen=True)
class CentraAnswers:
    host: str
    uri: str
    timezone: str
    secret: str = field(repr=False)
    webhook_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class IntegrationApiAnswers:
    url: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class OngoingAnswers:
    user: str
    password: str = field(repr=False)
    goods_owner_id: int
    base_url: str | None = None
    warehouse: str | None = None


@dataclass(frozen=True)
class FilesAnswers:
    """A warehouse reached by files over SFTP; ``password`` None: key login."""

    host: str
    user: str
    password: str | None = field(default=None, repr=False)
    port: int = 22
    private_key: str | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    root: str = "."


@dataclass(frozen=True)
class StoreAnswers:
    name: str
    centra: CentraAnswers
    wms: OngoingAnswers | FilesAnswers
    flows: frozenset[str] = frozenset(FLOWS)
    capture_policy: CapturePolicy = CapturePolicy.NEVER
    article_number: ArticleNumberStrategy = ArticleNumberStrategy.SKU_VARIANT_SIZE
    integration_api: IntegrationApiAnswers | None = None


def split_plugin_url(url: str) -> tuple[str, str | None]:
    """``https://shop.centra.com/api/wms`` → (``https://shop.centra.com``, ``wms``).

    Merchants are given the Order API plugin's whole URL (seed 000: "the Orders API Plugin
    URL"); a bare host leaves the plugin URI to be asked for.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"centra url: expected http(s)://host[/api/<uri>], got {url!r}")
    host = f"{parts.scheme}://{parts.netloc}"
    match = re.fullmatch(r"(?P<prefix>.*?)/api/(?P<uri>[^/]+)/?", parts.path)
    if match is None:
        return host + parts.path.rstrip("/"), None
    return host + match["prefix"], match["uri"]


def _secret_envs(answers: StoreAnswers) -> dict[str, str]:
    env = {
        secret_env_name(answers.name, "CENTRA_SECRET"): answers.centra.secret,
    }
    if answers.wms.password is not None:
        env[secret_env_name(answers.name, "WMS_PASSWORD")] = answers.wms.password
    if answers.centra.webhook_secret:
        env[secret_env_name(answers.name, "WEBHOOK_SECRET")] = answers.centra.webhook_secret
    if answers.integration_api is not None:
        env[secret_env_name(answers.name, "INTEGRATION_API_TOKEN")] = answers.integration_api.token
    return env


def _wms_table(wms: OngoingAnswers | FilesAnswers) -> dict[str, Any]:
    if isinstance(wms, FilesAnswers):
        table: dict[str, Any] = {"kind": "files", "host": wms.host}
        if wms.port != 22:
            table["port"] = wms.port
        table["user"] = wms.user
        if wms.private_key:
            table["private_key"] = wms.private_key
        table["known_hosts"] = wms.known_hosts
        table["root"] = wms.root
        return table
    table = {"user": wms.user, "goods_owner_id": wms.goods_owner_id}
    if wms.base_url:
        table["base_url"] = wms.base_url
    if wms.warehouse:
        table["warehouse"] = wms.warehouse
    return table


def _store_table(answers: StoreAnswers) -> dict[str, Any]:
    wms = _wms_table(answers.wms)
    table: dict[str, Any] = {
        "capture_policy": answers.capture_policy.value,
        "article_number": answers.article_number.value,
    }
    if "stock" in answers.flows:
        table["sync_stock"] = True
    off = {key: 0 for flow, keys in FLOWS.items() if flow not in answers.flows for key in keys}
    if off:
        table["schedule"] = off
    table["centra"] = {
        "host": answers.centra.host,
        "uri": answers.centra.uri,
        "timezone": answers.centra.timezone,
    }
    if answers.integration_api is not None:
        table["integration_api"] = {"url": answers.integration_api.url}
    table["wms"] = wms
    return table


def store_settings(answers: StoreAnswers) -> StoreSettings:
    """The store as ``load_settings`` would read it back: the same validation, same errors."""
    unknown = sorted(answers.flows - set(FLOWS))
    if unknown:
        raise ConfigError(f"flows: unknown {', '.join(unknown)}; choose from {', '.join(FLOWS)}")
    document = {"stores": {answers.name: _store_table(answers)}}
    return parse_settings(document, _secret_envs(answers)).stores[0]


async def probe_centra(answers: StoreAnswers) -> CheckResult:
    return await check_centra(store_settings(answers))


async def probe_wms(answers: StoreAnswers) -> CheckResult:
    return await check_wms(store_settings(answers))


async def probe_integration_api(answers: StoreAnswers) -> CheckResult:
    return await check_integration_api(store_settings(answers))


def existing_stores(config: Path) -> list[str]:
    """The stores a configuration file already has (none when it does not exist)."""
    if not config.exists():
        return []
    try:
        document = tomlkit.parse(config.read_text(encoding="utf-8"))
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{config}: not valid TOML: {exc}") from None
    stores = document.get("stores", {})
    return list(stores) if isinstance(stores, Mapping) else []


def _described(table: Table, key: str, value: Any, model: type[Any]) -> None:
    """Add ``key = value`` under a comment: the first sentence of the setting's description."""
    info = model.model_fields.get(key)
    if info is not None and info.description:
        first = re.split(r"(?<=[.:;])\s", info.description, maxsplit=1)[0].rstrip(".:;")
        table.add(tomlkit.comment(first))
    table.add(key, value)


def _filled(items: Iterable[tuple[str, Any]], model: type[Any]) -> Table:
    table = tomlkit.table()
    for key, value in items:
        _described(table, key, value, model)
    return table


def _new_document(config: Path) -> tomlkit.TOMLDocument:
    document = tomlkit.document()
    document.add(tomlkit.comment("centrasync configuration, written by `centrasync init`."))
    document.add(
        tomlkit.comment("Every key: docs/configuration.md. Secrets are in .env, never here.")
    )
    document.add(tomlkit.nl())
    state = (config.parent.resolve() / "centrasync.sqlite").as_posix()
    document.add(
        "engine", _filled([("database_url", f"sqlite+aiosqlite:///{state}")], EngineSettings)
    )
    document.add("stores", tomlkit.table(is_super_table=True))
    return document


def write_store(config: Path, answers: StoreAnswers) -> Path:
    """Add the store to ``config`` (created if missing) and its secrets to the ``.env`` beside it.

    Refuses a store name the file already has, and writes nothing then. Returns the
    ``.env`` path.
    """
    store_settings(answers)  # refuse what load_settings would refuse, before writing
    if answers.name in existing_stores(config):
        raise ConfigError(f"{config}: store {answers.name!r} is already configured")
    if config.exists():
        document = tomlkit.parse(config.read_text(encoding="utf-8"))
        if "stores" not in document:
            document.add("stores", tomlkit.table(is_super_table=True))
    else:
        document = _new_document(config)
    values = _store_table(answers)
    store = _filled(
        [
            (key, value)
            for key, value in values.items()
            if key not in ("centra", "integration_api", "wms", "schedule")
        ],
        StoreSettings,
    )
    if "schedule" in values:
        store.add(tomlkit.comment("Flows switched off (0); see docs/flows.md for each flow."))
        store.add("schedule", _filled(values["schedule"].items(), FlowSchedule))
    store.add("centra", _filled(values["centra"].items(), CentraSettings))
    if "integration_api" in values:
        store.add(
            "integration_api",
            _filled(values["integration_api"].items(), IntegrationApiSettings),
        )
    wms_model = FilesSettings if isinstance(answers.wms, FilesAnswers) else OngoingSettings
    store.add("wms", _filled(values["wms"].items(), wms_model))
    stores = document["stores"]
    assert isinstance(stores, Table)
    stores.add(answers.name, store)
    env_file = env_file_for(config)
    _write_env(env_file, _secret_envs(answers))
    config.write_text(tomlkit.dumps(document), encoding="utf-8")
    return env_file


def _write_env(path: Path, values: Mapping[str, str]) -> None:
    """Set each variable in ``path``, created readable by its owner only."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(path, 0o600)
    for name, value in values.items():
        set_key(path, name, value, quote_mode="always")
    os.chmod(path, 0o600)  # set_key may have replaced the file
