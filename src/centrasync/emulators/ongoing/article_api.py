"""Ongoing REST routes for articles and their stock: ``/articles``."""

from __future__ import annotations

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
from centrasync.emulators.ongoing.model import (
    STOCK_INFO_WINDOW,
    Article,
    Inventory,
    OngoingApiError,
)
from centrasync.emulators.ongoing.payloads import ArticleIn, parse_body
from centrasync.emulators.ongoing.render import (
    WAREHOUSE_ID,
    render_article,
    render_inventory_per_warehouse,
)

__all__ = ["add_article_routes"]


def select_articles(
    owner: GoodsOwner, request: Request, inventory: dict[str, Inventory]
) -> list[Article]:
    """The article filters and cursor shared by the article and stock reads."""
    state = owner.state
    owner.check_query(request)
    args = QueryArgs(request)
    numbers = set(args.texts("articleNumbers"))
    single = args.text("articleNumber")
    stock_from = args.time("stockInfoChangedFrom")
    if stock_from is not None and stock_from < state.now() - STOCK_INFO_WINDOW:
        raise OngoingApiError(
            400, "stockInfoChangedFrom must be within 24 hours of the current time"
        )
    data_from = args.time("articleDataLastUpdatedFrom")
    product_codes = set(args.texts("productCodes"))
    in_stock_only = args.flag("onlyArticlesInStock")
    selected = [
        article
        for article in state.articles.values()
        if (not numbers or article.number in numbers)
        and (single is None or article.number == single)
        and (not product_codes or article.document.product_code in product_codes)
        and within(article.stock_changed, stock_from, None)
        and within(article.data_updated, data_from, None)
        and (not in_stock_only or inventory[article.number].number_of_items > 0)
    ]
    return page(
        selected,
        lambda a: a.system_id,
        args.integer("articleSystemIdFrom"),
        args.integer("maxArticlesToGet"),
    )


def add_article_routes(router: APIRouter, owner: GoodsOwner) -> None:
    state = owner.state

    def article_json(article: Article, inventory: Inventory) -> dict[str, Any]:
        return render_article(article, inventory, state.goods_owner_id, state.goods_owner_name)

    @router.put("/articles")
    async def put_article(request: Request) -> dict[str, Any]:
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
        inventory = state.inventory()
        return [
            article_json(a, inventory[a.number]) for a in select_articles(owner, request, inventory)
        ]

    @router.get("/articles/inventoryPerWarehouse")
    async def get_inventory_per_warehouse(request: Request) -> list[dict[str, Any]]:
        inventory = state.inventory()
        articles = select_articles(owner, request, inventory)
        warehouse_ids = QueryArgs(request).texts("warehouseIds")
        if warehouse_ids and str(WAREHOUSE_ID) not in warehouse_ids:
            return []
        return [render_inventory_per_warehouse(a, inventory[a.number]) for a in articles]

    @router.get("/articles/{article_system_id}")
    async def get_article(request: Request, article_system_id: int) -> dict[str, Any]:
        owner.check_query(request, required=False)
        inventory = state.inventory()
        for article in state.articles.values():
            if article.system_id == article_system_id:
                return article_json(article, inventory[article.number])
        raise OngoingApiError(404, f"Article with ID {article_system_id} does not exist")
