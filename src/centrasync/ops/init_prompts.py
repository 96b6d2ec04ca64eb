"""The questions of ``centrasync init``, asked in order and tried as they are answered.

An answer given as an option is taken as it is; a missing one is asked for, or with
``--no-input`` is an error naming the option. When a section fails (the answers do not
validate, or the live system refuses them) the operator sees why and answers that section
again, the earlier answers offered as defaults (secrets excepted); without input the
command stops and writes nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.markup import escape

from centrasync.config import ArticleNumberStrategy, CapturePolicy
from centrasync.errors import CentrasyncError, ConfigError
from centrasync.wms.files.sftp import host_key, is_known_host

from .check import CheckResult, Outcome
from .init import (
    FLOWS,
    CentraAnswers,
    FilesAnswers,
    IntegrationApiAnswers,
    OngoingAnswers,
    StoreAnswers,
    existing_stores,
    probe_centra,
    probe_integration_api,
    probe_wms,
    split_plugin_url,
    store_settings,
    write_store,
)

__all__ = ["Answers", "InitAborted", "Prompt", "Written", "ask_store"]

Prompt = Callable[[str, str | None, bool], str]
"""Ask for ``label`` offering a default (or none), hiding the typing when the flag is set."""

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

_STORE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Stands in for the warehouse while only Centra is tried: check_centra reads no WMS setting.
_NO_WMS = OngoingAnswers(user="-", password="-", goods_owner_id=1, base_url="http://127.0.0.1:9")


class InitAborted(CentrasyncError):
    """An answer is missing (with --no-input), or it was refused."""


@dataclass(frozen=True)
class Answers:
    """What the options gave; None where the operator is to be asked."""

    store: str | None = None
    centra_url: str | None = None
    centra_uri: str | None = None
    timezone: str | None = None
    centra_secret: str | None = None
    webhook_secret: str | None = None
    integration_api_url: str | None = None
    integration_api_token: str | None = None
    ongoing_url: str | None = None
    ongoing_warehouse: str | None = None
    wms_kind: str | None = None
    sftp_host: str | None = None
    sftp_port: int | None = None
    sftp_key: str | None = None
    known_hosts: str | None = None
    sftp_root: str | None = None
    trust_host_key: bool = False
    wms_user: str | None = None
    wms_password: str | None = None
    goods_owner_id: int | None = None
    flows: str | None = None
    capture_policy: str | None = None
    article_number: str | None = None


@dataclass(frozen=True)
class Written:
    store: str
    env_file: Path


class _Asker:
    def __init__(self, prompt: Prompt | None) -> None:
        self.prompt = prompt
        self.again = False
        """Answering a section again: what was given becomes a default to confirm."""
        self._answered: dict[str, str] = {}

    def __call__(
        self,
        label: str,
        given: str | None,
        option: str,
        *,
        default: str | None = None,
        secret: bool = False,
        optional: bool = False,
    ) -> str | None:
        if given is not None and not (self.again and self.prompt is not None):
            return given
        if self.prompt is None:
            if default is not None or optional:
                return default
            raise InitAborted(f"{option} is required with --no-input")
        earlier = self._answered.get(option, given)
        offered = default if secret or earlier is None else earlier
        if optional:
            label += " (empty: none)"
            offered = offered or ""
        answer = self.prompt(label, offered, secret)
        if not secret:
            self._answered[option] = answer
        return answer or (None if optional else "")


def ask_store(
    config: Path, given: Answers, console: Console, *, prompt: Prompt | None, probe: bool
) -> Written:
    """Ask for one store (``prompt`` None: the options only), try it, then write it."""
    ask = _Asker(prompt)
    name = _store_name(console, ask, given, existing_stores(config))

    async def centra_ok(centra: CentraAnswers) -> CheckResult | None:
        answers = StoreAnswers(name=name, centra=centra, wms=_NO_WMS)
        store_settings(answers)
        return await probe_centra(answers) if probe else None

    centra = _accepted(console, ask, lambda: _centra(ask, given), centra_ok)

    async def graphql_ok(graphql: IntegrationApiAnswers | None) -> CheckResult | None:
        if graphql is None:
            return None
        answers = StoreAnswers(name=name, centra=centra, wms=_NO_WMS, integration_api=graphql)
        store_settings(answers)
        return await probe_integration_api(answers) if probe else None

    graphql = _accepted(console, ask, lambda: _integration_api(ask, given), graphql_ok)

    async def wms_ok(wms: OngoingAnswers | FilesAnswers) -> CheckResult | None:
        answers = StoreAnswers(name=name, centra=centra, wms=wms)
        store_settings(answers)
        if not probe:
            return None
        if isinstance(wms, FilesAnswers):
            await _known_host(console, ask, given, wms)
        return await probe_wms(answers)

    wms = _accepted(console, ask, lambda: _warehouse(ask, given), wms_ok)

    def choices() -> StoreAnswers:
        flows = ask("Flows to switch on", given.flows, "--flows", default=",".join(FLOWS))
        policy = ask(
            "When to capture shipments (never, on_import, on_complete)",
            given.capture_policy,
            "--capture-policy",
            default=CapturePolicy.NEVER.value,
        )
        number = ask(
            "Article number (ean, sku, sku_variant, sku_variant_size)",
            given.article_number,
            "--article-number",
            default=ArticleNumberStrategy.SKU_VARIANT_SIZE.value,
        )
        return StoreAnswers(
            name=name,
            centra=centra,
            wms=wms,
            flows=frozenset(part.strip() for part in (flows or "").split(",") if part.strip()),
            capture_policy=_choice(CapturePolicy, policy, "--capture-policy"),
            article_number=_choice(ArticleNumberStrategy, number, "--article-number"),
            integration_api=graphql,
        )

    async def valid(answers: StoreAnswers) -> None:
        store_settings(answers)

    answers = _accepted(console, ask, choices, valid)
    return Written(store=name, env_file=write_store(config, answers))


def _accepted(
    console: Console,
    ask: _Asker,
    answer: Callable[[], T],
    check: Callable[[T], Coroutine[None, None, CheckResult | None]],
) -> T:
    """Answers of one section that validate and that the live system accepts."""
    ask.again = False
    try:
        while True:
            try:
                value = answer()
                result: CheckResult | None = asyncio.run(check(value))
            except (ConfigError, InitAborted) as exc:
                if isinstance(exc, InitAborted) and ask.prompt is None:
                    raise
                detail = exc.message
            else:
                if result is None or result.outcome is not Outcome.FAIL:
                    if result is not None:
                        console.print(f"[green]OK[/] {result.system}: {escape(result.detail)}")
                    return value
                detail = result.detail
            if ask.prompt is None:
                raise InitAborted(detail)
            console.print(f"[red]FAIL[/] {escape(detail)}; answer again.")
            ask.again = True
    finally:
        ask.again = False


def _store_name(console: Console, ask: _Asker, given: Answers, existing: list[str]) -> str:
    async def fits(name: str) -> None:
        if not _STORE_NAME.match(name):
            raise ConfigError("store names are lower-case letters, digits, - and _")
        if name in existing:
            raise ConfigError(f"store {name!r} is already configured (choose another name)")

    default = None if existing else "shop"
    return _accepted(
        console,
        ask,
        lambda: ask("Store name", given.store, "--store", default=default) or "",
        fits,
    )


def _centra(ask: _Asker, given: Answers) -> CentraAnswers:
    url = ask(
        "Centra Base URL or Order API plugin URL (https://shop.centra.com/api/wms)",
        given.centra_url,
        "--centra-url",
    )
    host, uri = split_plugin_url(url or "")
    uri = ask("Order API plugin URI", given.centra_uri or uri, "--centra-uri")
    zone = ask("The merchant's timezone as set in Centra (IANA name)", given.timezone, "--timezone")
    secret = ask("Order API Secret API key", given.centra_secret, "--centra-secret", secret=True)
    hook = ask(
        "Webhook plugin endpoint secret",
        given.webhook_secret,
        "--webhook-secret",
        secret=True,
        optional=True,
    )
    return CentraAnswers(
        host=host, uri=uri or "", timezone=zone or "", secret=secret or "", webhook_secret=hook
    )


def _integration_api(ask: _Asker, given: Answers) -> IntegrationApiAnswers | None:
    url = ask(
        "Integration API endpoint (https://shop.centra.com/graphql)",
        given.integration_api_url,
        "--integration-api-url",
        optional=True,
    )
    if url is None:
        return None
    token = ask(
        "Integration API token", given.integration_api_token, "--integration-api-token", secret=True
    )
    return IntegrationApiAnswers(url=url, token=token or "")


def _warehouse(ask: _Asker, given: Answers) -> OngoingAnswers | FilesAnswers:
    kind = ask(
        "Warehouse: ongoing or files (SFTP)", given.wms_kind, "--wms-kind", default="ongoing"
    )
    if kind == "files":
        return _files(ask, given)
    if kind != "ongoing":
        raise ConfigError(f"--wms-kind: {kind!r} is not one of ongoing, files")
    return _ongoing(ask, given)


def _files(ask: _Asker, given: Answers) -> FilesAnswers:
    host = ask("SFTP host", given.sftp_host, "--sftp-host") or ""
    port = ask(
        "SFTP port",
        None if given.sftp_port is None else str(given.sftp_port),
        "--sftp-port",
        default="22",
    )
    user = ask("SFTP user", given.wms_user, "--wms-user") or ""
    key = ask("Private key file for the login", given.sftp_key, "--sftp-key", optional=True)
    password = None
    if key is None:
        password = ask("SFTP password", given.wms_password, "--wms-password", secret=True)
    known_hosts = ask(
        "known_hosts file holding the server's host key",
        given.known_hosts,
        "--known-hosts",
        default="~/.ssh/known_hosts",
    )
    root = ask(
        "Folder on the server the exchange folders are in",
        given.sftp_root,
        "--sftp-root",
        default=".",
    )
    try:
        port_number = int(port or "")
    except ValueError:
        raise ConfigError(f"--sftp-port: expected a number, got {port!r}") from None
    return FilesAnswers(
        host=host,
        user=user,
        password=password,
        port=port_number,
        private_key=key,
        known_hosts=known_hosts or "~/.ssh/known_hosts",
        root=root or ".",
    )


async def _known_host(console: Console, ask: _Asker, given: Answers, wms: FilesAnswers) -> None:
    """An unknown server's host key, shown and added to known_hosts once a person (or
    ``--trust-host-key``) says so: what ssh asks on a first login."""
    path = Path(wms.known_hosts).expanduser()
    if is_known_host(path, wms.host, wms.port):
        return
    key = await host_key(wms.host, wms.port)
    where = f"{wms.host}:{wms.port}"
    if not given.trust_host_key:
        if ask.prompt is None:
            raise InitAborted(
                f"the host key of {where} ({key.fingerprint}) is not in {wms.known_hosts}: "
                "check it with the warehouse, then pass --trust-host-key to add it"
            )
        console.print(f"The SFTP server {where} presents host key {key.fingerprint}.")
        answer = ask.prompt(f"Trust it and add it to {wms.known_hosts}? (yes/no)", "no", False)
        if answer.strip().lower() not in ("y", "yes"):
            raise ConfigError(f"the host key of {where} was not trusted")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as known:
        known.write(key.line)
    console.print(f"Added the host key of {where} to {wms.known_hosts}.")


def _ongoing(ask: _Asker, given: Answers) -> OngoingAnswers:
    where = ask(
        "Ongoing warehouse name, or the API's whole URL",
        given.ongoing_url or given.ongoing_warehouse,
        "--ongoing-warehouse or --ongoing-url",
    )
    is_url = (where or "").startswith(("http://", "https://"))
    user = ask("Ongoing API user", given.wms_user, "--wms-user")
    password = ask("Ongoing API password", given.wms_password, "--wms-password", secret=True)
    owner = ask(
        "Goods owner id",
        None if given.goods_owner_id is None else str(given.goods_owner_id),
        "--goods-owner-id",
    )
    try:
        goods_owner = int(owner or "")
    except ValueError:
        raise ConfigError(f"--goods-owner-id: expected a number, got {owner!r}") from None
    return OngoingAnswers(
        user=user or "",
        password=password or "",
        goods_owner_id=goods_owner,
        base_url=where if is_url else None,
        warehouse=None if is_url else where,
    )


def _choice(kind: type[E], value: str | None, option: str) -> E:
    try:
        return kind(value or "")
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise ConfigError(f"{option}: {value!r} is not one of {known}") from None
