"""The article registry: Centra product rows become WMS articles, each change written once.

A Centra product row is one size (stock item) and becomes one warehouse article, mapped
and filtered by :mod:`centrasync.sync.article_mapping` (the field table of Ongoing's own
Centra connector). This module is the flow around it: reading, uniqueness, the ledger and
the effects.

**Written once per change.** The ledger keeps one record per article number holding the
hash of the content last written. A row whose mapped article hashes the same is not written
again, so an overlap re-read, a full re-sync of an unchanged catalogue and a pass restarted
after a crash write nothing twice. Each write is an effect keyed by the article, the write's
sequence number, the record's attempt count and the content hash; the sequence number keeps
A → B → A a real third write instead of a replay of the first.

**Unique numbers.** Before anything is written, rows sharing an article number are refused
together, naming every clashing product, and so is a row claiming a number the ledger
already gives another stock item. A number that was moved (SKU edit, strategy change) is
marked superseded, which frees it. Rows are handled page by page as they are read; until
every page is in, a pass keeps of each row only the article it maps to and how messages
name it, so an initial import of 100,000 sizes never holds 100,000 product rows.

**Incremental.** The Order API's product rows carry no modification time, only a
``modified`` filter, so the cursor is the start of the last fully successful pass and each
pass asks for products modified since then minus ``overlap``. Without a per-row time the
cursor's boundary ids cannot tell a re-read row from a changed one, so de-duplication is by
content hash instead. A pass that hits a retryable error stops there and leaves the cursor,
so the next one starts from the same point.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Protocol

import structlog

from centrasync.centra.models import ProductRow
from centrasync.centra.results import Page
from centrasync.centra.types import Moment
from centrasync.errors import (
    RecordValidationError,
    RemoteRefusedError,
    redact,
)
from centrasync.store.base import (
    EffectBegin,
    Json,
    LedgerRecord,
    Move,
    NewRecord,
    RecordKind,
    RecordRef,
    Step,
    records_in,
)
from centrasync.wms.models import Article

from .article_mapping import (
    ambiguous_numbers,
    article_to_json,
    content_hash,
    describe_product,
    filter_reason,
    product_to_article,
)
from .effects import Confirmations
from .flow import RecordFlow
from .mapping import article_number
from .policy import Outcome, Park, ParkedStates, Verdict

__all__ = ["ARTICLES", "ArticlePass", "ArticleState", "ArticlesFlow", "CentraProducts"]

ARTICLES = "articles"
"""The flow's name in events and metrics, and the name of its cursor."""

_HASH_IN_KEY = 20
_TURNS_TO_THE_WIRE = 4

_log = structlog.get_logger(__name__)


class ArticleState(StrEnum):
    """Where one article number stands in the engine's ledger."""

    NEW = "new"
    """Seen in Centra, nothing decided yet."""
    WRITING = "writing"
    """A write is on its way or was cut off; what the WMS holds is unknown until confirmed."""
    RETRY = "retry"
    """A person asked for another try; the next pass reads the whole catalogue."""
    SYNCED = "synced"
    """The WMS has the content whose hash the record holds."""
    FILTERED = "filtered"
    """Left out by the filters now (inactive, SKU part empty); the WMS keeps what it had."""
    SUPERSEDED = "superseded"
    """Its stock item has another number now; the WMS keeps the old article."""
    UNLISTED = "unlisted"
    """Asked to retry, but a full read of Centra no longer lists it under this key."""
    AMBIGUOUS = "ambiguous"
    """Parked: several products map to this number; the reason names them."""
    INVALID = "invalid"
    """Parked: the row cannot become an article (names the field)."""
    REFUSED = "refused"
    """Parked: the WMS refused the article."""
    FAILED = "failed"
    """Parked: kept failing with retryable errors until the attempt limit."""


# States in which a number no longer belongs to its stock item, so another may take it.
_RELEASED = frozenset({ArticleState.FILTERED, ArticleState.SUPERSEDED, ArticleState.UNLISTED})
_PARKED = ParkedStates(
    invalid=ArticleState.INVALID, refused=ArticleState.REFUSED, failed=ArticleState.FAILED
)


class CentraProducts(Protocol):
    """The Order API call the articles flow makes (see ``OrderApiClient.iter_products``)."""

    def iter_products(
        self,
        *,
        modified_since: Moment | None = None,
        created_since: Moment | None = None,
        limit: int = 100,
        sku: str | None = None,
        ean: str | None = None,
    ) -> AsyncIterator[Page[ProductRow]]: ...


# -- the flow ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticlePass:
    """What one completed pass did; ``read`` counts rows, the rest count articles."""

    full: bool
    read: int
    written: int
    unchanged: int
    filtered: int
    parked: int


@dataclass
class _Counts:
    written: int = 0
    unchanged: int = 0
    filtered: int = 0
    parked: int = 0


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A row that passed the filters and mapped to an article: all a pass keeps of it.

    An initial import holds one per size until every row is read (uniqueness is decided
    before anything is written), so it keeps the article and how messages name the
    product, never the row itself.
    """

    item: str
    article: Article
    digest: str
    product: str

    @property
    def number(self) -> str:
        return self.article.sku

    @property
    def request(self) -> dict[str, Json]:
        return {
            "product": self.product,
            "content_hash": self.digest,
            "article": article_to_json(self.article),
        }


@dataclass(frozen=True, slots=True)
class _Write:
    """One article write: its effect's key, what it sends and what it commits first."""

    ref: RecordRef
    candidate: _Candidate
    key: str
    writes: int
    request: dict[str, Json]
    before: list[Move]


@dataclass
class ArticlesFlow(RecordFlow[CentraProducts]):
    """The article registry of one store: incremental passes and a full re-sync.

    ``progress(done, total)`` is told how far a pass is, for a progress bar: ``total`` is
    None while rows are still being read, then the number of rows to handle.
    """

    progress: Callable[[int, int | None], None] | None = None
    overlap: timedelta = timedelta(minutes=5)
    page_size: int = 100

    FLOW = ARTICLES
    KIND = RecordKind.ARTICLE
    PARKED = _PARKED
    # A retryable error stops the pass: the cursor must stay behind the article.
    STOP_ON_RETRY = True

    async def run(self) -> int:
        """One scheduled pass over products changed since the last good one; returns writes."""
        return (await self.sync(full=False)).written

    async def full_resync(self) -> int:
        """Read the whole catalogue (unchanged articles are still not rewritten); returns writes.

        The way to apply changed settings (strategy, price, inactive products) to products
        Centra has not touched since.
        """
        return (await self.sync(full=True)).written

    async def _records(self, states: Iterable[str] = tuple(ArticleState)) -> list[LedgerRecord]:
        """The store's article records in ``states`` (every state by default)."""
        found = records_in(self.state, self.store_name, RecordKind.ARTICLE, set(states))
        return [record async for record in found]

    async def sync(self, *, full: bool) -> ArticlePass:
        """One pass; raises a :class:`RetryLaterError` (cursor unchanged) if one must wait."""
        started = self.now()
        retries = {record.ref.key for record in await self._records({ArticleState.RETRY})}
        cursor = await self.state.get_cursor(self.store_name, ARTICLES)
        full = full or bool(retries) or cursor is None
        since = None if full or cursor is None else cursor.value - self.overlap
        self._report(0, None)
        known = {record.ref.key: record for record in await self._records()}
        counts = _Counts()
        touched: set[str] = set()
        candidates, total = await self._read(since, known, counts, touched)
        done = total - len(candidates)
        self._report(done, total)
        ambiguous = await self._refuse_ambiguous(candidates, known, counts)
        owners = _by_item(known.values())
        held = Confirmations()
        ahead: asyncio.Task[None] | None = None
        try:
            for candidate in candidates:
                touched.add(candidate.number)
                if candidate.number not in ambiguous:
                    ahead = await self._sync_one(
                        candidate, known.get(candidate.number), owners, counts, held, ahead
                    )
                done += 1
                self._report(done, total)
            if ahead is not None:
                await ahead
        finally:
            if ahead is not None:
                # Done, or the pass stops and the write on its way stays in doubt.
                ahead.cancel()
                await asyncio.gather(ahead, return_exceptions=True)
            await held.commit(self.state)
        if full:
            await self._unlist(retries - touched)
        await self.state.advance_cursor(self.store_name, ARTICLES, started)
        result = ArticlePass(
            full, total, counts.written, counts.unchanged, counts.filtered, counts.parked
        )
        _log.info("articles pass done", store=self.store_name, **asdict(result))
        return result

    # -- reading -----------------------------------------------------------------------

    async def _read(
        self,
        since: datetime | None,
        known: Mapping[str, LedgerRecord],
        counts: _Counts,
        touched: set[str],
    ) -> tuple[list[_Candidate], int]:
        """The candidates among rows modified since ``since`` (all when None), one per stock item.

        Each page is handled as it comes: unreadable, filtered and unmappable rows are
        dealt with at once, and only the candidates are kept. Returns them and the number
        of rows read.
        """
        candidates: dict[str, _Candidate] = {}
        items: set[str] = set()
        rejected = 0
        async for page in self.centra.iter_products(modified_since=since, limit=self.page_size):
            rejected += len(page.rejected)
            for error in page.rejected:
                await self._park_unreadable(error, known, counts, touched)
            for row in page:
                # Page-numbered paging over a catalogue edited meanwhile can repeat a row;
                # the last one read stands.
                item = _item(row)
                items.add(item)
                candidates.pop(item, None)
                candidate = await self._candidate(row, known, counts, touched)
                if candidate is not None:
                    candidates[item] = candidate
        return list(candidates.values()), len(items) + rejected

    async def _candidate(
        self,
        row: ProductRow,
        known: Mapping[str, LedgerRecord],
        counts: _Counts,
        touched: set[str],
    ) -> _Candidate | None:
        """The row as a candidate; None when it is filtered out or parked."""
        reason = filter_reason(row, self.settings)
        if reason is not None:
            counts.filtered += 1
            await self._filtered(row, reason, known, touched)
            return None
        try:
            article = product_to_article(row, self.settings)
        except RecordValidationError as exc:
            ref = self.ref(self._key_of(row))
            touched.add(ref.key)
            record = known.get(ref.key)
            await self._park_counted(
                ref,
                ArticleState.INVALID,
                str(exc),
                _row_json(row),
                record,
                counts,
                # A bad row must not take a number away from the stock item owning it.
                centra_id=_item(row) if record is None else None,
            )
            return None
        return _Candidate(_item(row), article, content_hash(article), describe_product(row))

    def _key_of(self, row: ProductRow) -> str:
        """The row's article number, or its stock item when no number can be formed."""
        try:
            return article_number(
                row,
                self.settings.article_number,
                self.settings.article_number_fields,
                record=describe_product(row),
            )
        except RecordValidationError:
            return f"stock item {_item(row)}"

    async def _filtered(
        self, row: ProductRow, reason: str, known: Mapping[str, LedgerRecord], touched: set[str]
    ) -> None:
        """Note the filter on a record the WMS already has; unknown rows leave no trace.

        A row that never reaches the WMS has nothing to track, and keying it by a number
        formed from empty parts could land on another product's article.
        """
        key = self._key_of(row)
        record = known.get(key)
        if record is None or record.centra_id != _item(row):
            return
        touched.add(key)
        if record.state != ArticleState.FILTERED:
            await self.state.transition(self.ref(key), ArticleState.FILTERED, note=reason)

    # -- uniqueness ----------------------------------------------------------------------

    async def _refuse_ambiguous(
        self,
        candidates: Sequence[_Candidate],
        known: Mapping[str, LedgerRecord],
        counts: _Counts,
    ) -> set[str]:
        """Park every number two stock items claim, before anything is written; returns them."""
        strategy = self.settings.article_number.value
        in_pass = {c.item for c in candidates}
        by_number: dict[str, list[_Candidate]] = defaultdict(list)
        for candidate in candidates:
            by_number[candidate.number].append(candidate)
        clashes = ambiguous_numbers((c.number, c.item) for c in candidates)
        refused: set[str] = set()
        for number, group in by_number.items():
            owner = known.get(number)
            if number in clashes:
                products = "; ".join(c.product for c in group)
            elif (
                owner is not None
                and owner.centra_id not in (None, group[0].item)
                and owner.centra_id not in in_pass
                and owner.state not in _RELEASED
            ):
                products = f"{group[0].product}; {_owner_description(owner)}"
            else:
                continue
            reason = (
                f"article number {number!r} is ambiguous under the {strategy} strategy: "
                f"{products}. Make it unique in Centra or choose another article_number"
            )
            refused.add(number)
            payload: Json = {"number": number, "products": [c.request for c in group]}
            await self._park_counted(
                self.ref(number), ArticleState.AMBIGUOUS, reason, payload, owner, counts
            )
        return refused

    # -- writing -----------------------------------------------------------------------

    async def _sync_one(
        self,
        candidate: _Candidate,
        record: LedgerRecord | None,
        owners: Mapping[str, Sequence[LedgerRecord]],
        counts: _Counts,
        held: Confirmations,
        ahead: asyncio.Task[None] | None,
    ) -> asyncio.Task[None] | None:
        """Plan the candidate's write and start it; returns the write now on its way.

        The write ``ahead`` is on the wire meanwhile: this one's intent commits while the
        WMS answers that one, and its call goes to the WMS's write lane behind it. So the
        store's work overlaps the WMS's instead of following it, and at most two writes
        are in doubt if the process dies: the one on the wire and the one begun.
        """
        write = await self._plan(candidate, record, owners, counts)
        if write is None:
            return ahead
        if ahead is not None:
            await _on_the_wire()
        task = asyncio.create_task(self._write_one(write, owners, counts, held))
        if ahead is not None:
            try:
                await ahead
            except BaseException:
                # The pass stops with the write ahead; this one is begun at most.
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                raise
        if _supersedes(candidate, owners):
            # Its old numbers are released once it is written; nothing may overlap that.
            await task
            return None
        return task

    async def _write_one(
        self,
        write: _Write,
        owners: Mapping[str, Sequence[LedgerRecord]],
        counts: _Counts,
        held: Confirmations,
    ) -> None:
        outcome = await self.policy.run(
            write.ref,
            partial(self._write, write, held),
            payload=write.request,
            request=write.request,
        )
        if outcome is Outcome.PARKED:
            counts.parked += 1
            return
        counts.written += 1
        await self._supersede(write.candidate, owners, held)

    async def _plan(
        self,
        candidate: _Candidate,
        record: LedgerRecord | None,
        owners: Mapping[str, Sequence[LedgerRecord]],
        counts: _Counts,
    ) -> _Write | None:
        """The write the candidate needs; None when it needs none (settled here)."""
        ref = self.ref(candidate.number)
        if record is not None and _written_hash(record) == candidate.digest:
            counts.unchanged += 1
            if record.state != ArticleState.SYNCED:
                await self.state.upsert_record(ref, centra_id=candidate.item)
                await self.state.transition(
                    ref, ArticleState.SYNCED, note="unchanged since the last write"
                )
            await self._supersede(candidate, owners)
            return None
        if (
            record is not None
            and record.state in (ArticleState.REFUSED, ArticleState.FAILED)
            and _payload_hash(record.last_request) == candidate.digest
        ):
            return None  # Parked with this very content; a person says when to try again.
        writes = _writes(record) + 1
        # The record's attempts grow with every park, so a retry a person asks for after
        # the effect gave up gets a fresh key instead of the spent one.
        tried = record.attempts if record is not None else 0
        key = f"article/{ref}/{writes}.{tried}/{candidate.digest[:_HASH_IN_KEY]}"
        before = _writing(ref, candidate, record, writes)
        return _Write(ref, candidate, key, writes, candidate.request, before)

    async def _begin(self, write: _Write, held: Confirmations) -> EffectBegin:
        """Confirm the writes that landed since the last commit and begin this one's effect.

        One transaction where there were two (the last write's confirmation, this one's
        intent). The write ahead of this one may land meanwhile; its confirmation waits
        for the next transaction.
        """
        async with self.state.transaction() as tx:
            await held.confirm(tx)
            begun = await tx.begin_effect(write.key, write.ref, write.request, moves=write.before)
        held.clear()
        return begun

    async def _write(self, write: _Write, held: Confirmations) -> Verdict:
        ref, request, writes = write.ref, write.request, write.writes

        def synced(outcome: Json) -> list[Move]:
            response: Json = {
                "content_hash": write.candidate.digest,
                "writes": writes,
                "wms": outcome,
            }
            note = f"written to the WMS (write {writes})"
            return [Step(ref, ArticleState.SYNCED, note=note, request=request, response=response)]

        outcome = await self.policy.effect(
            write.key,
            ref,
            request,
            partial(self._upsert, write.candidate.article),
            before=write.before,
            after=synced,
            begun=await self._begin(write, held),
            confirmations=held,
        )
        if isinstance(outcome, Park):
            return replace(outcome, request=request)
        self.events.processed(self.store_name, ARTICLES)
        return Outcome.MOVED

    async def _upsert(self, article: Article) -> Json:
        result = await self.wms.upsert_articles([article])
        for failure in result.failed:
            raise RemoteRefusedError(
                f"the WMS refused article {failure.key}: {failure.reason}", system="wms"
            )
        return {"upserted": list(result.upserted)}

    async def _supersede(
        self,
        candidate: _Candidate,
        owners: Mapping[str, Sequence[LedgerRecord]],
        held: Confirmations | None = None,
    ) -> None:
        """Release the numbers this stock item had before (SKU edit or strategy change).

        Only once the new number's write is confirmed (``held`` is committed first).
        """
        for old in _released_by(candidate, owners):
            if held is not None:
                await held.commit(self.state)
            await self.state.transition(
                old.ref,
                ArticleState.SUPERSEDED,
                note=f"stock item {candidate.item} is article {candidate.number!r} now; "
                "the WMS keeps this one",
            )

    async def _unlist(self, keys: Iterable[str]) -> None:
        for key in keys:
            await self.state.transition(
                self.ref(key),
                ArticleState.UNLISTED,
                note="a full read of Centra's products no longer lists it under this key",
            )

    # -- parking -----------------------------------------------------------------------

    async def _park_unreadable(
        self,
        error: RecordValidationError,
        known: Mapping[str, LedgerRecord],
        counts: _Counts,
        touched: set[str],
    ) -> None:
        # The client names a row it could not parse "product row <stockItemId>".
        item = error.record.removeprefix("product row").strip() or "unknown"
        ref = self.ref(f"stock item {item}")
        touched.add(ref.key)
        payload: Json = {"record": error.record, "field": error.field, "error": str(error)}
        await self._park_counted(
            ref, ArticleState.INVALID, str(error), payload, known.get(ref.key), counts
        )

    async def _park_counted(
        self,
        ref: RecordRef,
        to: ArticleState,
        reason: str,
        payload: Json,
        record: LedgerRecord | None,
        counts: _Counts,
        *,
        centra_id: str | None = None,
    ) -> None:
        """Park unless the record is already parked for this very reason."""
        counts.parked += 1
        if record is not None and record.state == to and record.last_error == redact(reason):
            return
        await self.policy.park(ref, Park(to, reason, payload, centra_id=centra_id))

    def _report(self, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(done, total)


def _writing(
    ref: RecordRef, candidate: _Candidate, record: LedgerRecord | None, writes: int
) -> list[Move]:
    """Forget the written hash before the call: if it is cut off, the WMS may have either.

    Otherwise an edit reverted while a write was in doubt would look unchanged. These
    moves commit with the write's intent.
    """
    if record is None:
        return [NewRecord(ref, centra_id=candidate.item, initial_state=ArticleState.WRITING)]
    moves: list[Move] = []
    if record.centra_id != candidate.item:
        moves.append(NewRecord(ref, centra_id=candidate.item))
    if record.state != ArticleState.WRITING:
        moves.append(
            Step(
                ref,
                ArticleState.WRITING,
                note=f"write {writes} on its way to the WMS",
                response={"content_hash": None, "writes": writes - 1},
            )
        )
    return moves


async def _on_the_wire() -> None:
    """Let the write ahead, already handed to the lane, be sent before the loop is held.

    A SQLite store call runs on the loop's own thread: begun at once, it would run before
    the lane's task had sent the write ahead, and the two would follow each other again.
    A few turns of the loop take that write out onto the socket (lane, httpx, stream).
    """
    for _ in range(_TURNS_TO_THE_WIRE):
        await asyncio.sleep(0)


def _released_by(
    candidate: _Candidate, owners: Mapping[str, Sequence[LedgerRecord]]
) -> list[LedgerRecord]:
    """The other numbers of the candidate's stock item that writing it releases."""
    return [
        old
        for old in owners.get(candidate.item, ())
        if old.ref.key != candidate.number and old.state not in _RELEASED
    ]


def _supersedes(candidate: _Candidate, owners: Mapping[str, Sequence[LedgerRecord]]) -> bool:
    """Whether writing the candidate releases other numbers of its stock item."""
    return bool(_released_by(candidate, owners))


def _item(row: ProductRow) -> str:
    """The stock item a row describes; Centra's id, or the SKU parts and EAN without one."""
    return row.stock_item_id or f"{row.sku}/{row.variant_sku}/{row.size_sku}/{row.ean}"


def _by_item(records: Iterable[LedgerRecord]) -> dict[str, list[LedgerRecord]]:
    found: dict[str, list[LedgerRecord]] = defaultdict(list)
    for record in records:
        if record.centra_id is not None:
            found[record.centra_id].append(record)
    return found


def _row_json(row: ProductRow) -> Json:
    dumped: Json = row.model_dump(mode="json", by_alias=True)
    return dumped


def _payload_hash(payload: Json) -> str | None:
    value = payload.get("content_hash") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None


def _written_hash(record: LedgerRecord) -> str | None:
    """The hash of the content the WMS last accepted for this number."""
    return _payload_hash(record.last_response)


def _writes(record: LedgerRecord | None) -> int:
    response = record.last_response if record is not None else None
    value = response.get("writes") if isinstance(response, dict) else None
    return value if isinstance(value, int) else 0


def _owner_description(owner: LedgerRecord) -> str:
    request = owner.last_request
    described = request.get("product") if isinstance(request, dict) else None
    text = described if isinstance(described, str) else f"stock item {owner.centra_id}"
    return f"{text}, which has this number in the WMS already"
