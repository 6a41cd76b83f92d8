"""The shared warehouse's tables, one module per topic, re-exported here."""

from sandan.logistics.models.billing import Tariff
from sandan.logistics.models.inbound import Appointment, Asn, AsnLine, ReceiptLine, YardVisit
from sandan.logistics.models.items import Item, Lot
from sandan.logistics.models.layout import (
    BIN_KINDS,
    CATEGORIES,
    Bin,
    Dock,
    Warehouse,
    WarehouseZone,
)
from sandan.logistics.models.outbound import ORDER_STATES, Order, OrderLine, Shipment, Wave
from sandan.logistics.models.stock import MOVE_KINDS, CountTask, Movement, Quant, Reservation

__all__ = [
    "BIN_KINDS",
    "CATEGORIES",
    "MOVE_KINDS",
    "ORDER_STATES",
    "Appointment",
    "Asn",
    "AsnLine",
    "Bin",
    "CountTask",
    "Dock",
    "Item",
    "Lot",
    "Movement",
    "Order",
    "OrderLine",
    "Quant",
    "ReceiptLine",
    "Reservation",
    "Shipment",
    "Tariff",
    "Warehouse",
    "WarehouseZone",
    "Wave",
    "YardVisit",
]
