"""JSON shapes of the read side, with the vendor's field names, nesting and order.

Built from the vendor's GET examples (reference §4.2, §4.4, §4.5): quantities are floats,
never-reported numbers are ``null``, dates are ``YYYY-MM-DD`` and times UTC with ``Z``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from centrasync.emulators.ongoing.model import (
    Article,
    Inventory,
    Order,
    OrderLine,
    PickedItem,
    PurchaseOrder,
    PurchaseOrderLine,
    ReturnCause,
    ReturnedArticleItem,
    ReturnOrder,
    ReturnOrderLine,
    Site,
    StatusTable,
    format_time,
)
from centrasync.emulators.ongoing.payloads import (
    ConsigneeIn,
    NotificationIn,
    TransporterIn,
    VendorModel,
)

__all__ = [
    "TRANSPORTER_CONTRACTS",
    "render_article",
    "render_inventory",
    "render_inventory_per_warehouse",
    "render_order",
    "render_purchase_order",
    "render_return_causes",
    "render_return_order",
    "render_transporter_contracts",
    "render_warehouse",
]

JSON = dict[str, Any]

# A small built-in transporter table: carrier code → (carrier name, {service code: name}).
TRANSPORTER_CONTRACTS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "PLAB": (
        "PostNord Sweden AB",
        {
            "P18": "PostNord Parcel (Nordic)",
            "P19": "PostNord MyPack Collect",
            "P24": "PostNord Return Drop Off (within Sweden)",
        },
    ),
    "DHLSE": ("DHL Freight Sweden", {"DHLSP": "DHL Service Point", "DHLPA": "DHL Parcel"}),
    "BRING": ("Bring", {"BPH": "Bring Home Delivery", "BSP": "Bring Pickup Point"}),
}


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def _dump(model: VendorModel | None) -> JSON | None:
    return None if model is None else model.model_dump(by_alias=True)


def _goods_owner(site: Site) -> JSON:
    return {"id": site.goods_owner_id, "name": site.goods_owner_name}


def _warehouse(site: Site) -> JSON:
    """The warehouse as documents name it (GetOrderWarehouse, GetPurchaseOrderWarehouse)."""
    return {"id": site.warehouse_id, "code": site.warehouse_code, "name": site.warehouse_code}


def _notification(model: NotificationIn | None) -> JSON | None:
    """``{toBeNotified, value}``; ``toBeNotified`` is a boolean, never null, when read."""
    if model is None:
        return None
    return {"toBeNotified": bool(model.to_be_notified), "value": model.value}


def render_warehouse(site: Site) -> JSON:
    """One row of ``GET /warehouses`` (WarehouseModel), with a built-in address [I]."""
    return {
        **_warehouse(site),
        "address": {
            "name": site.warehouse_code,
            "address1": "Lagervägen 1",
            "address2": None,
            "address3": None,
            "postCode": "50630",
            "city": "Borås",
            "countryCode": "SE",
            "countryStateCode": None,
            "deliveryInstruction": None,
            "addressFreeText1": None,
            "addressFreeText2": None,
            "telephoneNotification": None,
            "emailNotification": None,
            "smsNotification": None,
        },
    }


def _cause(cause: ReturnCause | None) -> JSON | None:
    return None if cause is None else {"code": cause.code, "name": cause.name}


def _article_ref(article: Article) -> JSON:
    return {
        "articleSystemId": article.system_id,
        "articleNumber": article.number,
        "articleName": article.document.article_name or "",
        "productCode": article.document.product_code or "",
    }


def render_inventory(article: Article, figures: Inventory) -> JSON:
    price = article.document.stock_valuation_price or article.document.purchase_price or 0.0
    return {
        "numberOfItems": figures.number_of_items,
        "numberOfBookedItems": figures.booked,
        "numberOfLockedItems": figures.number_of_locked_items,
        "toReceiveNumberOfItems": figures.to_receive,
        "allocatedNumberOfItems": figures.allocated,
        "lockedForSaleNumberOfItems": 0.0,
        "pickedToBeCollectedNumberOfItems": figures.picked_to_be_collected,
        "receivedToBeFinishedNumberOfItems": 0.0,
        "lastInDate": _time(article.last_in_date),
        "sellableNumberOfItems": figures.sellable,
        "totalStockValue": figures.number_of_items * price,
    }


def render_inventory_per_warehouse(article: Article, figures: Inventory, site: Site) -> JSON:
    """One row of ``GET /articles/inventoryPerWarehouse`` (shape from the generated models).

    With one warehouse, available-for-sale equals sellable [I].
    """
    return {
        "articleSystemId": article.system_id,
        "articleNumber": article.number,
        "inventoryPerWarehouse": [
            {
                "warehouseId": site.warehouse_id,
                "numberOfItems": figures.number_of_items,
                "sellableNumberOfItems": figures.sellable,
                "availableForSaleNumberOfItems": figures.sellable,
                "numberOfLockedItems": figures.number_of_locked_items,
                "reported": None,
            }
        ],
    }


def render_article(article: Article, figures: Inventory, site: Site) -> JSON:
    doc = article.document
    return {
        "goodsOwner": _goods_owner(site),
        "articleSystemId": article.system_id,
        "articleNumber": doc.article_number,
        "articleName": doc.article_name or "",
        "productCode": doc.product_code or "",
        "unitCode": doc.unit_code or "",
        "description": doc.description or "",
        "isStockArticle": True if doc.is_stock_article is None else doc.is_stock_article,
        "isActive": True if doc.is_active is None else doc.is_active,
        "isObsolete": bool(doc.is_obsolete),
        "supplierInfo": _dump(doc.supplier_info),
        "barCodeInfo": _dump(doc.bar_code_info),
        "quantityPerPackage": doc.quantity_per_package,
        "quantityPerPallet": doc.quantity_per_pallet,
        "weight": doc.weight,
        "netWeight": doc.net_weight,
        "length": doc.length,
        "width": doc.width,
        "height": doc.height,
        "volume": doc.volume,
        "purchasePrice": doc.purchase_price,
        "stockValuationPrice": doc.stock_valuation_price,
        "customerPrice": doc.customer_price,
        "purcaseCurrencyCode": doc.purcase_currency_code,
        "countryOfOriginCode": doc.country_of_origin_code,
        "statisticsNumber": doc.statistics_number,
        "customsDescription": doc.customs_description,
        "stockLimit": doc.stock_limit,
        "linkToPicture": doc.link_to_picture,
        "externalNumberOfItems": doc.external_number_of_items,
        "articleGroup": _dump(doc.article_group),
        "articleCategory": _dump(doc.article_category),
        "articleColor": _dump(doc.article_color),
        "articleSize": _dump(doc.article_size),
        "inventoryInfo": render_inventory(article, figures),
        "articleDataLastUpdated": format_time(article.data_updated),
    }


def _picked_item(item: PickedItem) -> JSON:
    return {
        "articleItemId": item.item_id,
        "numberOfItems": item.number_of_items,
        "inDate": format_time(item.in_date),
        "serial": item.serial,
        "caseNumber": "",
        "batchNumber": "",
        "container": "",
        "comment": "",
        "weight": None,
        "volume": None,
        "isPicked": True,
        "isReturned": item.returned,
        "expiryDate": None,
        "returnDate": _time(item.return_date),
        "pickedTime": _time(item.picked_time),
        "returnCause": _cause(item.return_cause),
        "location": item.location,
        "locationTypeCode": "",
        "articleItemStatus": None,
        "freeText1": "",
    }


def _order_line(line: OrderLine) -> JSON:
    row = line.row
    return {
        "id": line.line_id,
        "rowNumber": row.row_number,
        "article": _article_ref(line.article),
        "comment": row.comment,
        "orderedNumberOfItems": line.ordered,
        "allocatedNumberOfItems": line.allocated,
        "pickedNumberOfItems": line.picked,
        "packedNumberOfItems": line.picked,
        "reportedNumberOfItems": line.reported,
        "returnedNumberOfItems": line.returned,
        "reportedReturnedNumberOfItems": line.reported_returned,
        "shouldBePicked": row.should_be_picked is not False,
        "pickedArticleItems": [_picked_item(item) for item in line.picked_items],
        "subOrderLines": None,
        "serialNumber": row.serial_number,
        "batchNumber": row.batch_number,
        "lineTotalCustomsValue": row.line_total_customs_value,
        "customerArticleNumber": row.customer_article_number,
        "externalId": row.external_id,
        "lineType": _dump(row.line_type),
        "prices": _dump(row.prices),
    }


def _transporter(code: str | None, service_code: str | None) -> JSON | None:
    if code is None:
        return None
    carrier_name, services = TRANSPORTER_CONTRACTS.get(code, (code, {}))
    return {
        "transporterName": carrier_name,
        "name": services.get(service_code or "", service_code or ""),
        "code": code,
        "serviceCode": service_code,
    }


def _code(transporter: TransporterIn | None) -> str | None:
    return None if transporter is None else transporter.transporter_code


def _service(transporter: TransporterIn | None) -> str | None:
    return None if transporter is None else transporter.transporter_service_code


def _consignee(consignee: ConsigneeIn, customer_id: int) -> JSON:
    """The consignee as sent, with its customer id; notifications say true or false."""
    shown: JSON = consignee.model_dump(by_alias=True)
    advanced = consignee.advanced
    if advanced is not None:
        shown["advanced"] = {
            **advanced.model_dump(by_alias=True),
            "telephoneNotification": _notification(advanced.telephone_notification),
            "emailNotification": _notification(advanced.email_notification),
            "smsNotification": _notification(advanced.sms_notification),
        }
    shown["id"] = customer_id
    return shown


def render_order(order: Order, statuses: StatusTable, site: Site) -> JSON:
    doc = order.document
    waybill = order.parcels[0].tracking_number if order.parcels else None
    return {
        "goodsOwner": _goods_owner(site),
        "orderInfo": {
            "orderId": order.order_id,
            "orderNumber": doc.order_number,
            "goodsOwnerOrderId": doc.goods_owner_order_id,
            "referenceNumber": doc.reference_number,
            "salesCode": doc.sales_code,
            "orderRemark": doc.order_remark,
            "deliveryInstruction": doc.delivery_instruction,
            "servicePointCode": doc.service_point_code,
            "freeText1": doc.free_text1,
            "freeText2": doc.free_text2,
            "freeText3": doc.free_text3,
            "orderType": _dump(doc.order_type),
            "wayOfDelivery": _dump(doc.way_of_delivery),
            "deliveryDate": format_time(doc.delivery_date),
            "createdDate": format_time(order.created),
            "shippedTime": _time(order.shipped_time),
            "wayBill": waybill,
            "returnWayBill": None,
            "orderStatus": {"number": order.status, "text": statuses.order_text(order.status)},
            "emailNotification": _notification(doc.email_notification),
            "smsNotification": _notification(doc.sms_notification),
            "telephoneNotification": _notification(doc.telephone_notification),
            "orderedNumberOfItems": sum(line.ordered for line in order.lines),
            "allocatedNumberOfItems": sum(line.allocated for line in order.lines),
            "pickedNumberOfItems": sum(line.picked for line in order.lines),
            "customsInfo": _dump(doc.customs_info),
            # The rest in the generated GetOrderInfo's order; not in the vendor's example.
            "preparedTransportDocumentId": doc.prepared_transport_document_id,
            "warehouse": _warehouse(site),
            "termsOfDeliveryType": _dump(doc.terms_of_delivery_type),
            "customerPrice": doc.customer_price,
            "consigneeOrderNumber": doc.consignee_order_number,
            "warehouseInstruction": doc.warehouse_instruction,
            "marketPlace": _dump(doc.market_place),
            "pickingPriority": doc.picking_priority,
            "productionCode": doc.production_code,
            "advanced": _dump(doc.advanced),
            "freightPrice": doc.freight_price,
            "invoiceUrl": doc.invoice_url,
        },
        "consignee": _consignee(doc.consignee, order.consignee_id),
        "parcels": [
            {
                "id": parcel.parcel_id,
                "parcelNumber": parcel.parcel_number,
                "isReturnParcel": parcel.is_return,
                "weight": parcel.weight,
                "tracking": {"trackingUrl": parcel.tracking_url, "freightPrice": None},
            }
            for parcel in order.parcels
        ],
        "orderLines": [_order_line(line) for line in order.lines],
        "transporter": _transporter(
            order.transporter_code or _code(doc.transporter),
            order.service_code or _service(doc.transporter),
        ),
        "returnTransporter": _transporter(
            _code(doc.return_transporter), _service(doc.return_transporter)
        ),
        # Shipment (consignment) numbers go to tracking[].waybill [I, reference §4.2].
        "tracking": [
            {
                "waybill": parcel.tracking_number,
                "trackingUrl": parcel.tracking_url,
                "created": format_time(parcel.created),
                "freightPrice": None,
            }
            for parcel in order.parcels
        ],
        "returnTracking": [],
        "classes": [_dump(order_class) for order_class in doc.classes or ()],
        # The transport booking the order went out on, once shipped [I].
        "shipmentInfo": None if order.shipment_id is None else {"shipmentId": order.shipment_id},
    }


def _purchase_order_line(line: PurchaseOrderLine) -> JSON:
    return {
        "id": line.line_id,
        "rowNumber": line.row.row_number,
        "article": _article_ref(line.article),
        "comment": line.row.comment,
        "advisedNumberOfItems": line.advised,
        "receivedNumberOfItems": line.received,
        "reportedNumberOfItems": line.reported,
        "rowPrice": line.row.row_price,
        "externalOrderLineId": line.row.external_order_line_id,
        "articleItems": [
            {
                "originalArticleItemId": item.item_id,
                "numberOfItems": item.number_of_items,
                "inDate": format_time(item.in_date),
                "serial": "",
                "caseNumber": "",
                "batchNumber": "",
                "container": "",
                "comment": "",
                "weight": None,
                "expiryDate": None,
                "location": item.location,
                "articleItemStatus": None,
            }
            for item in line.items
        ],
        "subPurchaseOrderLines": None,
    }


def render_purchase_order(purchase_order: PurchaseOrder, statuses: StatusTable, site: Site) -> JSON:
    doc = purchase_order.document
    status = purchase_order.status
    return {
        "goodsOwner": _goods_owner(site),
        "supplierInfo": _dump(doc.supplier_info),
        "purchaseOrderInfo": {
            "purchaseOrderId": purchase_order.purchase_order_id,
            "purchaseOrderNumber": doc.purchase_order_number,
            "supplierOrderNumber": doc.supplier_order_number,
            "goodsOwnerReference": doc.goods_owner_reference,
            "referenceNumber": doc.reference_number,
            "purchaseOrderStatus": {
                "number": status,
                "text": statuses.purchase_order_text(status),
            },
            "purchaseOrderType": _dump(doc.purchase_order_type),
            "inDate": _time(doc.in_date),
            "purchaseOrderRemark": doc.purchase_order_remark,
            "lastReceiveTime": _time(purchase_order.last_receive_time),
            "warehouse": _warehouse(site),
            "createdDate": format_time(purchase_order.created),
        },
        "purchaseOrderLines": [_purchase_order_line(line) for line in purchase_order.lines],
    }


def render_transporter_contracts() -> list[JSON]:
    return [
        {
            "ediCode": "",
            "transporterName": carrier_name,
            "transporterCode": code,
            "transporterServiceCode": "",
            "transporterServices": [
                {"transporterServiceName": name, "transporterServiceCode": service}
                for service, name in services.items()
            ],
        }
        for code, (carrier_name, services) in TRANSPORTER_CONTRACTS.items()
    ]


def _returned_item(item: ReturnedArticleItem) -> JSON:
    return {
        "numberOfItems": item.number_of_items,
        "batch": None,
        "serial": item.serial,
        "expiryDate": None,
        "container": None,
        "weight": None,
        "volume": None,
        "comment": None,
        "returnTime": format_time(item.return_time),
        "returnComment": None,
        "isReturnRemovedByInventory": False,
        "returnCause": _cause(item.cause),
        "articleItemStatus": None,
        "articleItemCategory": None,
    }


def _return_order_line(line: ReturnOrderLine) -> JSON:
    article = line.order_line.article
    return {
        "returnOrderLineId": line.line_id,
        "returnOrderRowNumber": line.row_number,
        "customerOrderLine": {
            "orderLineId": line.order_line.line_id,
            "customerOrderRowNumber": line.order_line.row.row_number,
        },
        "article": {
            "articleSystemId": article.system_id,
            "articleNumber": article.number,
            "articleName": article.document.article_name or "",
        },
        "returnCause": _cause(line.cause),
        "returnedNumberOfItems": line.returned,
        "pickedNumberOfItems": line.order_line.picked,
        "toBeReturnedNumberOfItems": line.to_be_returned,
        "returnedRemovedByInventoryNumberOfItems": 0.0,
        "returnedArticleItems": [_returned_item(item) for item in line.items],
    }


def render_return_order(return_order: ReturnOrder, statuses: StatusTable, site: Site) -> JSON:
    """``GET /returnOrders`` row and ``GET /returnOrders/{id}`` (GetReturnOrderModel)."""
    doc = return_order.document
    status = return_order.status
    return {
        "returnOrderInfo": {
            "returnOrderId": return_order.return_order_id,
            "returnOrderNumber": doc.return_order_number,
            "comment": doc.comment,
            "inDate": _time(doc.in_date),
            "returnOrderStatus": {"number": status, "text": statuses.return_order_text(status)},
            "warehouse": _warehouse(site),
            "returnOrderHandlingComment": doc.return_order_handling_comment,
        },
        "customerOrderInfo": {
            "orderId": return_order.order.order_id,
            "orderNumber": return_order.order.number,
        },
        "returnOrderLines": [_return_order_line(line) for line in return_order.lines],
    }


def render_return_causes(causes: Iterable[ReturnCause]) -> JSON:
    """``GET /returnOrders/returnCauses`` (GetReturnCausesModel)."""
    return {
        "returnCauses": [
            {
                "code": cause.code,
                "name": cause.name,
                "isRemoveCause": False,
                "isChangeCause": False,
                "isReturnCommentMandatory": False,
                "id": cause.cause_id,
            }
            for cause in sorted(causes, key=lambda c: c.cause_id)
        ]
    }
