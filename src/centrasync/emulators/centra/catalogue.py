"""Stores, warehouses, products and stock, with the Order API's stock-write rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from centrasync.errors import NotFoundError, RecordValidationError

from .model import (
    BundleMode,
    Product,
    Size,
    SizeRef,
    StockChange,
    StockChangeLine,
    Store,
    Variant,
    Warehouse,
)
from .specs import ProductChange, ProductSpec, StoreSpec, WarehouseSpec
from .state import Refusal, WorldState

__all__ = ["CatalogueOps", "StockMove", "StockWrite", "StockWriteResult"]


@dataclass(frozen=True)
class StockWrite:
    """One row of ``POST /stock``: the product key, absolute physical quantity, unit cost."""

    product: str
    quantity: int
    cost_price: float | None = None
    cost_currency: str | None = None


@dataclass(frozen=True)
class StockMove:
    """One size in a stock write of the Integration API: a quantity and an optional unit cost."""

    size_id: int
    quantity: int
    unit_cost: float | None = None
    cost_currency: str | None = None


@dataclass(frozen=True)
class StockWriteResult:
    """Outcome of one ``POST /stock``: keys that matched nothing, keys that were bundles."""

    not_found: list[str] = field(default_factory=list)
    bundles: list[str] = field(default_factory=list)


class CatalogueOps(WorldState):
    """Catalogue and stock operations."""

    def add_warehouse(self, spec: WarehouseSpec) -> Warehouse:
        warehouse = Warehouse(
            id=self.new_id("warehouse"), name=spec.name, allocation_policy=spec.allocation_policy
        )
        self.warehouses[warehouse.id] = warehouse
        return warehouse

    def add_store(self, spec: StoreSpec) -> Store:
        record = f"store {spec.uri}"
        if spec.uri in self.stores:
            raise RecordValidationError("a store with this uri exists", record=record, field="uri")
        try:
            ZoneInfo(spec.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise RecordValidationError(
                f"unknown IANA time zone {spec.timezone!r}", record=record, field="timezone"
            ) from None
        for name, value in (
            ("primary_warehouse_id", spec.primary_warehouse_id),
            ("supplier_delivery_warehouse_id", spec.supplier_delivery_warehouse_id),
        ):
            if value is not None and value not in self.warehouses:
                raise RecordValidationError(
                    f"warehouse {value} does not exist", record=record, field=name
                )
        store = Store(
            uri=spec.uri,
            secret=spec.secret,
            timezone=spec.timezone,
            name=spec.name,
            primary_warehouse_id=spec.primary_warehouse_id,
            supplier_delivery_warehouse_id=spec.supplier_delivery_warehouse_id,
            currency=spec.currency,
            bundles_in_shipments=spec.bundles_in_shipments,
            bundles_in_orders=spec.bundles_in_orders,
            pricelist_id=len(self.stores) + 1,
            market_id=len(self.stores) + 1,
            allowed_endpoints=(
                None if spec.allowed_endpoints is None else frozenset(spec.allowed_endpoints)
            ),
        )
        self.stores[store.uri] = store
        return store

    def set_allowed_endpoints(self, uri: str, endpoints: list[str] | None) -> Store:
        store = self.store(uri)
        store.allowed_endpoints = None if endpoints is None else frozenset(endpoints)
        return store

    def add_product(self, spec: ProductSpec) -> Product:
        record = f"product {spec.sku}"
        self._check_unique(spec, record)
        items = self._bundle_items(spec, record)
        now = self.now()
        initial: dict[int, list[StockChangeLine]] = {}
        product = Product(
            id=self.new_id("product"),
            sku=spec.sku,
            name=spec.name,
            brand=spec.brand,
            collection=spec.collection,
            folder=spec.folder,
            categories=list(spec.categories),
            weight=spec.weight,
            weight_unit=spec.weight_unit,
            harm_code=spec.harm_code,
            harm_description=spec.harm_description,
            country_of_origin=spec.country_of_origin,
            prices=dict(spec.prices),
            created_at=now,
            modified_at=now,
            active=spec.active,
            is_bundle=spec.is_bundle,
            description=spec.description,
            attributes=dict(spec.attributes),
            bundle_items=items,
        )
        for variant_spec in spec.variants:
            variant = Variant(
                id=self.new_id("variant"), name=variant_spec.name, sku=variant_spec.sku
            )
            product.variants.append(variant)
            for size_spec in variant_spec.sizes:
                size = Size(
                    id=self.new_id("size"),
                    name=size_spec.name,
                    sku=size_spec.sku,
                    ean=size_spec.ean,
                    upc=size_spec.upc,
                )
                variant.sizes.append(size)
                ref = SizeRef(product, variant, size)
                self.sizes[size.id] = ref
                for key in (size.ean, size.upc, ref.physical_sku):
                    if key:
                        self.size_keys.setdefault(key, size.id)
                for warehouse_id, qty in size_spec.stock.items():
                    _, moved = self._put_physical(warehouse_id, size.id, qty)
                    initial.setdefault(warehouse_id, []).append(
                        StockChangeLine(id=0, size_id=size.id, delivered=moved)
                    )
        self.products[product.id] = product
        for warehouse_id, lines in initial.items():
            self.add_stock_change(warehouse_id, "Initial stock", "MANUAL", lines)
        return product

    def update_product(self, product_id: int, change: ProductChange) -> Product:
        """Edit a product as staff would in the admin; its ``modified`` time becomes now.

        The ``modified`` filter of ``GET /products`` and ``GET /stock`` reads that time, so
        an edit makes every size of the product show up in an integration's next delta.
        """
        product = self.products.get(product_id)
        if product is None:
            raise NotFoundError(f"product {product_id} does not exist", system="centra-emulator")
        for name, value in change.model_dump(exclude_none=True).items():
            setattr(product, name, dict(value) if isinstance(value, dict) else value)
        product.modified_at = self.now()
        self.emit("product", "update", product.id, None)
        return product

    def _bundle_items(self, spec: ProductSpec, record: str) -> list[tuple[int, int]]:
        """A bundle's items, by size id: existing sizes of products that are no bundles."""
        if spec.bundle and not spec.is_bundle:
            raise RecordValidationError(
                "only a bundle (is_bundle) has items", record=record, field="bundle"
            )
        items: list[tuple[int, int]] = []
        for item in spec.bundle:
            ref = self.size_by_ean(item.ean, record=record)
            if ref.product.is_bundle:
                raise RecordValidationError(
                    f"{item.ean} is a bundle itself", record=record, field="bundle"
                )
            items.append((ref.size.id, item.qty))
        return items

    def set_bundle_modes(
        self, uri: str, *, shipments: BundleMode | None, orders: BundleMode | None
    ) -> Store:
        """The plugin's "Bundles in shipments" and "Bundles in orders" settings."""
        store = self.store(uri)
        if shipments is not None:
            store.bundles_in_shipments = shipments
        if orders is not None:
            store.bundles_in_orders = orders
        return store

    def _check_unique(self, spec: ProductSpec, record: str) -> None:
        seen: set[str] = set()
        for variant in spec.variants:
            for size in variant.sizes:
                if size.ean in self.size_keys or size.ean in seen:
                    raise RecordValidationError(
                        f"EAN {size.ean} is already used", record=record, field="ean"
                    )
                physical = f"{spec.sku}{variant.sku}{size.sku}"
                if physical in self.size_keys or physical in seen:
                    raise RecordValidationError(
                        f"SKU {physical} is already used", record=record, field="sku"
                    )
                seen.update((size.ean, physical))
                for warehouse_id in size.stock:
                    if warehouse_id not in self.warehouses:
                        raise RecordValidationError(
                            f"warehouse {warehouse_id} does not exist", record=record, field="stock"
                        )

    def _put_physical(self, warehouse_id: int, size_id: int, qty: int) -> tuple[int, int]:
        """Set physical stock, never below what orders allocated: (value set, units moved)."""
        self.warehouse(warehouse_id)
        level = self.stock_level(warehouse_id, size_id)
        before = level.physical
        level.physical = max(qty, level.allocated)
        level.modified_at = self.now()
        return level.physical, level.physical - before

    def set_physical(self, warehouse_id: int, size_id: int, qty: int) -> int:
        """Staff set physical stock (control API); returns the value set, a stock change made."""
        value, moved = self._put_physical(warehouse_id, size_id, qty)
        self.add_stock_change(
            warehouse_id,
            "Stock set in the admin",
            "MANUAL",
            [StockChangeLine(id=0, size_id=size_id, delivered=moved)],
        )
        return value

    def _keep_cost(
        self, warehouse_id: int, size_id: int, cost: float | None, currency: str | None
    ) -> None:
        if cost is not None and currency is not None:
            level = self.stock_level(warehouse_id, size_id)
            level.cost_price, level.cost_currency = cost, currency

    def set_stock_levels(
        self, warehouse_id: int, moves: list[StockMove], comment: str, *, free_to_allocate: bool
    ) -> tuple[StockChange | None, list[int]]:
        """``setStock``: absolute levels in one warehouse, in one stock change.

        A level is physical, or (``free_to_allocate``) free to allocate on top of what is
        allocated [I]. As with ``POST /stock``, physical stock is never set below the
        allocated units; the sizes that were raised come back so the caller can warn.
        """
        lines: list[StockChangeLine] = []
        clamped: list[int] = []
        for move in moves:
            level = self.stock_level(warehouse_id, move.size_id)
            wanted = move.quantity + (level.allocated if free_to_allocate else 0)
            value, moved = self._put_physical(warehouse_id, move.size_id, wanted)
            if value != wanted:
                clamped.append(move.size_id)
            self._keep_cost(warehouse_id, move.size_id, move.unit_cost, move.cost_currency)
            lines.append(
                StockChangeLine(
                    id=0,
                    size_id=move.size_id,
                    delivered=moved,
                    unit_cost=move.unit_cost,
                    cost_currency=move.cost_currency,
                )
            )
        return self.add_stock_change(warehouse_id, comment, "MANUAL", lines), clamped

    def change_stock(
        self, into: int | None, out: int | None, moves: list[StockMove], comment: str
    ) -> list[StockChange]:
        """``changeStock``: units into a warehouse, out of one, or from one to the other.

        Taking out more than is free to allocate is refused before anything moves.
        """
        if out is not None:
            for move in moves:
                level = self.stock_level(out, move.size_id)
                if move.quantity > level.physical - level.allocated:
                    raise Refusal(
                        f"only {level.physical - level.allocated} of product size "
                        f"{move.size_id} are free to allocate in warehouse {out}"
                    )
        made: list[StockChange] = []
        kind = "TRANSFER" if into is not None and out is not None else "MANUAL"
        for warehouse_id, sign in ((out, -1), (into, 1)):
            if warehouse_id is None:
                continue
            lines = []
            for move in moves:
                level = self.stock_level(warehouse_id, move.size_id)
                self._put_physical(
                    warehouse_id, move.size_id, level.physical + sign * move.quantity
                )
                self._keep_cost(warehouse_id, move.size_id, move.unit_cost, move.cost_currency)
                lines.append(
                    StockChangeLine(
                        id=0,
                        size_id=move.size_id,
                        delivered=sign * move.quantity,
                        unit_cost=move.unit_cost,
                        cost_currency=move.cost_currency,
                    )
                )
            change = self.add_stock_change(warehouse_id, comment, kind, lines)
            if change is not None:
                made.append(change)
        return made

    def store_stock(self, store: Store, size_id: int) -> tuple[int, int]:
        """(physical, allocated) summed over the plugin's warehouses (the primary only)."""
        level = self.stock.get((store.primary_warehouse_id, size_id))
        return (level.physical, level.allocated) if level else (0, 0)

    def stock_cost(self, store: Store, size_id: int) -> tuple[float, str] | None:
        """The unit cost last written for the size in the plugin's warehouse, if any."""
        level = self.stock.get((store.primary_warehouse_id, size_id))
        if level is None or level.cost_price is None or level.cost_currency is None:
            return None
        return level.cost_price, level.cost_currency

    def stock_modified(self, store: Store, size_id: int) -> datetime | None:
        level = self.stock.get((store.primary_warehouse_id, size_id))
        return level.modified_at if level else None

    def write_stock(self, store: Store, rows: list[StockWrite]) -> StockWriteResult:
        """``POST /stock``: absolute physical stock in the primary warehouse.

        A value below the allocated quantity is raised to it without an error, as Centra
        does (it may email an admin; the emulator records ``clamped`` instead). A cost
        price without a currency is in the store's currency [I].
        """
        result = StockWriteResult()
        lines: list[StockChangeLine] = []
        for row in rows:
            ref = self.find_size(row.product)
            if ref is None:
                result.not_found.append(row.product)
                continue
            if ref.product.is_bundle:
                result.bundles.append(row.product)
                continue
            value, moved = self._put_physical(store.primary_warehouse_id, ref.size.id, row.quantity)
            currency = row.cost_currency
            if row.cost_price is not None:
                currency = currency or store.currency
                self._keep_cost(store.primary_warehouse_id, ref.size.id, row.cost_price, currency)
            lines.append(
                StockChangeLine(
                    id=0,
                    size_id=ref.size.id,
                    delivered=moved,
                    unit_cost=row.cost_price,
                    cost_currency=currency if row.cost_price is not None else None,
                )
            )
            self.record(
                "stock_writes",
                store.uri,
                product=row.product,
                size_id=ref.size.id,
                warehouse_id=store.primary_warehouse_id,
                requested=row.quantity,
                physical=value,
                clamped=value != row.quantity,
                costPrice=row.cost_price,
                costPriceCurrency=currency,
            )
        # [I] One stock change per request, as the admin lists one per stock update.
        self.add_stock_change(store.primary_warehouse_id, "Order API stock update", "MANUAL", lines)
        return result
