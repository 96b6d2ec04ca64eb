"""Ongoing REST routes for articles and their stock: ``/articles``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from centrasync.emulators.ongoing.api_common import (
    GoodsOwner,
    QueryArgs,
    json_body,
    page,
    record_label,
    within,
)
from centrasync.emulators.ongoing.floor import OngoingState
from centrasync.emulators.ongoing.model import (
    STOCK_INFO_WINDOW,
    Article,
    Inventory,
    OngoingApiError,
)
from centrasync.emulators.ongoing.payloads import ArticleIn, parse_body
from centrasync.emulators.ongoing.render import (
    render_article,
    render_inventory_per_warehouse,
)

__all__ = ["add_article_routes"]


# Query parameters the spec lists for each article read (besides goodsOwnerId).
_ARTICLE_PARAMS = frozenset(
    {
        "articleNumber",
        "articleSystemIdFrom",
        "maxArticlesToGet",
        "stockInfoChangedFrom",
        "articleNumbers",
        "articleDataLastUpdatedFrom",
        "onlyArticlesInStock",
        "productCode",
        "productCodes",
        "articleNameContains",
        "articleClassIds",
        "barCodes",
        "onlyArticlesBelowStockLimit",
        "onlyArticlesBelowStockLimitConsideringNumberOfBookedItems",
    }
)
_STOCK_PARAMS = frozenset(
    {
        "articleSystemIdFrom",
        "maxArticlesToGet",
        "articleNumbers",
        "warehouseIds",
        "onlyArticlesInStock",
        "stockInfoChangedFrom",
    }
)

ArticleTest = Callable[[Article], bool]


def _common_tests(
    state: OngoingState, args: QueryArgs, inventory: dict[str, Inventory]
) -> list[ArticleTest]:
    """The filters both article reads take: article numbers, stock changes, in stock."""
    tests: list[ArticleTest] = []
    numbers = set(args.texts("articleNumbers"))
    if numbers:
        tests.append(lambda a: a.number in numbers)
    stock_from = args.time("stockInfoChangedFrom")
    if stock_from is not None:
        if stock_from < state.now() - STOCK_INFO_WINDOW:
            raise OngoingApiError(
                400, "stockInfoChangedFrom must be within 24 hours of the current time"
            )
        tests.append(lambda a: within(a.stock_changed, stock_from, None))
    if args.flag("onlyArticlesInStock"):
        tests.append(lambda a: inventory[a.number].number_of_items > 0)
    return tests


def _article_tests(args: QueryArgs, inventory: dict[str, Inventory]) -> list[ArticleTest]:
    """The filters only ``GET /articles`` takes."""
    tests: list[ArticleTest] = []
    single = args.text("articleNumber")
    if single is not None:
        tests.append(lambda a: a.number == single)
    data_from = args.time("articleDataLastUpdatedFrom")
    if data_from is not None:
        tests.append(lambda a: within(a.data_updated, data_from, None))
    code = args.text("productCode")
    if code is not None:
        tests.append(lambda a: a.document.product_code == code)
    codes = set(args.texts("productCodes"))
    if codes:
        tests.append(lambda a: a.document.product_code in codes)
    # A name matches when it contains one of the given texts, in any case [I].
    name_parts = [part.casefold() for part in args.texts("articleNameContains")]
    if name_parts:
        tests.append(
            lambda a: any(p in (a.document.article_name or "").casefold() for p in name_parts)
        )
    if args.integers("articleClassIds"):
        # The emulator keeps no article classes, so no article is in any [I].
        tests.append(lambda a: False)
    bar_codes = set(args.texts("barCodes"))
    if bar_codes:
        tests.append(lambda a: bool(_bar_codes(a) & bar_codes))
    # "Below stock limit": an article with a stock limit and fewer items than it, counting
    # booked items as gone for the second flag [I: the spec names them, without rules].
    if args.flag("onlyArticlesBelowStockLimit"):
        tests.append(lambda a: _below_limit(a, inventory[a.number].number_of_items))
    if args.flag("onlyArticlesBelowStockLimitConsideringNumberOfBookedItems"):
        tests.append(
            lambda a: _below_limit(
                a, inventory[a.number].number_of_items - inventory[a.number].booked
            )
        )
    return tests


def _bar_codes(article: Article) -> set[str]:
    info = article.document.bar_code_info
    return set() if info is None else info.codes()


def _below_limit(article: Article, items: float) -> bool:
    limit = article.document.stock_limit
    return limit is not None and items < limit


def _selected(state: OngoingState, args: QueryArgs, tests: list[ArticleTest]) -> list[Article]:
    return page(
        (a for a in state.articles.values() if all(test(a) for test in tests)),
        lambda a: a.system_id,
        args.integer("articleSystemIdFrom"),
        args.integer("maxArticlesToGet"),
    )


def add_article_routes(router: APIRouter, owner: GoodsOwner) -> None:
    state = owner.state

    def article_json(article: Article, inventory: Inventory) -> dict[str, Any]:
        return render_article(article, inventory, state.site)

    @router.put("/articles")
    async def put_article(request: Request) -> dict[str, Any]:
        owner.query(request)
        body = await json_body(request)
        document = parse_body(ArticleIn, body, record_label("Article", body, "articleNumber"))
        owner.check(document.goods_owner_id)
        async with owner.write_turn():
            article, _ = state.upsert_article(document)
        message = f"Article {article.number} {document.article_name or ''} Updated/Created"
        # The spec lists only 200 for PUT /articles, created or updated.
        return {"articleSystemId": article.system_id, "message": message}

    @router.get("/articles")
    async def get_articles(request: Request) -> list[dict[str, Any]]:
        args = owner.query(request, _ARTICLE_PARAMS, owner_required=True)
        inventory = state.inventory()
        tests = [*_common_tests(state, args, inventory), *_article_tests(args, inventory)]
        return [article_json(a, inventory[a.number]) for a in _selected(state, args, tests)]

    @router.get("/articles/inventoryPerWarehouse")
    async def get_inventory_per_warehouse(request: Request) -> list[dict[str, Any]]:
        args = owner.query(request, _STOCK_PARAMS, owner_required=True)
        inventory = state.inventory()
        articles = _selected(state, args, _common_tests(state, args, inventory))
        warehouse_ids = args.integers("warehouseIds")
        if warehouse_ids and state.site.warehouse_id not in warehouse_ids:
            return []
        return [
            render_inventory_per_warehouse(a, inventory[a.number], state.site) for a in articles
        ]

    @router.get("/articles/classes")
    async def article_classes(request: Request) -> dict[str, Any]:
        """No article classes: the emulator keeps none [I]."""
        owner.query(request, owner_required=True)
        return {"articleClasses": []}

    @router.get("/articles/{article_system_id:int}")
    async def get_article(request: Request, article_system_id: int) -> dict[str, Any]:
        owner.query(request)
        inventory = state.inventory()
        for article in state.articles.values():
            if article.system_id == article_system_id:
                return article_json(article, inventory[article.number])
        raise OngoingApiError(404, f"Article with ID {article_system_id} does not exist")
