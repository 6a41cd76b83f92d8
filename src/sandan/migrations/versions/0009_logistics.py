"""logistics: the shared warehouse - layout, items and lots, the movement ledger and quants,
reservations, counts, ASNs, receipts, dock appointments, the yard, orders, waves, shipments
and tariffs

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "wms_warehouses",
    "wms_counts",
    "wms_docks",
    "wms_waves",
    "wms_asns",
    "wms_items",
    "wms_orders",
    "wms_tariffs",
    "wms_zones",
    "wms_appointments",
    "wms_asn_lines",
    "wms_bins",
    "wms_lots",
    "wms_order_lines",
    "wms_shipments",
    "wms_movements",
    "wms_quants",
    "wms_receipt_lines",
    "wms_yard_visits",
    "wms_reservations",
)


def upgrade() -> None:
    op.create_table(
        "wms_warehouses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_warehouses")),
        sa.UniqueConstraint("code", name=op.f("uq_wms_warehouses_code")),
    )
    op.create_table(
        "wms_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("bin_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("by", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_counts_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_counts")),
    )
    op.create_table(
        "wms_docks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("max_trucks", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("opens", sa.String(length=5), nullable=False),
        sa.Column("closes", sa.String(length=5), nullable=False),
        sa.Column("truck_classes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_docks_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_docks")),
        sa.UniqueConstraint("warehouse_id", "code", name=op.f("uq_wms_docks_warehouse_id")),
    )
    op.create_table(
        "wms_waves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_waves_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_waves")),
    )
    op.create_table(
        "wms_asns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("supplier", sa.String(length=120), nullable=False),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_asns_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_asns_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_asns")),
    )
    op.create_index(
        op.f("ix_wms_asns_owner_company_id"), "wms_asns", ["owner_company_id"], unique=False
    )
    op.create_table(
        "wms_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("length_mm", sa.Integer(), nullable=False),
        sa.Column("width_mm", sa.Integer(), nullable=False),
        sa.Column("height_mm", sa.Integer(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("units_per_pallet", sa.Integer(), nullable=False),
        sa.Column("tracking", sa.String(length=6), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.CheckConstraint("units_per_pallet >= 1", name=op.f("ck_wms_items_per_pallet")),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_items_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_items")),
        sa.UniqueConstraint("owner_company_id", "sku", name=op.f("uq_wms_items_owner_company_id")),
    )
    op.create_index(
        op.f("ix_wms_items_owner_company_id"), "wms_items", ["owner_company_id"], unique=False
    )
    op.create_table(
        "wms_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("ship_to", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("ship_date", sa.Date(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=True),
        sa.Column("backorder_of_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["backorder_of_id"],
            ["wms_orders.id"],
            name=op.f("fk_wms_orders_backorder_of_id_wms_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_orders_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_orders_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["wms_waves.id"],
            name=op.f("fk_wms_orders_wave_id_wms_waves"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_orders")),
    )
    op.create_index(
        "ix_wms_orders_owner_status", "wms_orders", ["owner_company_id", "status"], unique=False
    )
    op.create_table(
        "wms_tariffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=True),
        sa.Column("basis", sa.String(length=6), nullable=False),
        sa.Column("pallet_day_krw", sa.BigInteger(), nullable=False),
        sa.Column("m3_day_krw", sa.BigInteger(), nullable=False),
        sa.Column("inbound_line_krw", sa.BigInteger(), nullable=False),
        sa.Column("outbound_line_krw", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "pallet_day_krw >= 0 AND m3_day_krw >= 0 AND inbound_line_krw >= 0 "
            "AND outbound_line_krw >= 0",
            name=op.f("ck_wms_tariffs_rates"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_tariffs_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_tariffs")),
        sa.UniqueConstraint("owner_company_id", name=op.f("uq_wms_tariffs_owner_company_id")),
    )
    op.create_table(
        "wms_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_zones_owner_company_id_companies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_zones_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_zones")),
        sa.UniqueConstraint("warehouse_id", "code", name=op.f("uq_wms_zones_warehouse_id")),
    )
    op.create_table(
        "wms_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("dock_id", sa.Integer(), nullable=False),
        sa.Column("asn_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("truck_plate", sa.String(length=16), nullable=False),
        sa.Column("truck_class", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_wms_appointments_span")),
        sa.ForeignKeyConstraint(
            ["asn_id"],
            ["wms_asns.id"],
            name=op.f("fk_wms_appointments_asn_id_wms_asns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dock_id"],
            ["wms_docks.id"],
            name=op.f("fk_wms_appointments_dock_id_wms_docks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_appointments_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_appointments")),
    )
    op.create_index(
        "ix_wms_appointments_dock_start", "wms_appointments", ["dock_id", "starts_at"], unique=False
    )
    op.create_index(
        op.f("ix_wms_appointments_owner_company_id"),
        "wms_appointments",
        ["owner_company_id"],
        unique=False,
    )
    op.create_table(
        "wms_asn_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asn_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_code", sa.String(length=40), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("qty_expected", sa.Integer(), nullable=False),
        sa.Column("qty_received", sa.Integer(), nullable=False),
        sa.Column("qty_damaged", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "qty_expected >= 0 AND qty_received >= 0 AND qty_damaged >= 0",
            name=op.f("ck_wms_asn_lines_qty"),
        ),
        sa.ForeignKeyConstraint(
            ["asn_id"],
            ["wms_asns.id"],
            name=op.f("fk_wms_asn_lines_asn_id_wms_asns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["wms_items.id"],
            name=op.f("fk_wms_asn_lines_item_id_wms_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_asn_lines")),
    )
    op.create_index(op.f("ix_wms_asn_lines_asn_id"), "wms_asn_lines", ["asn_id"], unique=False)
    op.create_table(
        "wms_bins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("aisle", sa.Integer(), nullable=False),
        sa.Column("rack", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("max_volume_m3", sa.Float(), nullable=False),
        sa.Column("max_weight_kg", sa.Float(), nullable=False),
        sa.Column("max_pallets", sa.Integer(), nullable=False),
        sa.Column("fixed_item_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "max_volume_m3 >= 0 AND max_weight_kg >= 0 AND max_pallets >= 0",
            name=op.f("ck_wms_bins_cap"),
        ),
        sa.ForeignKeyConstraint(
            ["fixed_item_id"],
            ["wms_items.id"],
            name=op.f("fk_wms_bins_fixed_item_id_wms_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_bins_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["wms_zones.id"],
            name=op.f("fk_wms_bins_zone_id_wms_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_bins")),
        sa.UniqueConstraint("warehouse_id", "code", name=op.f("uq_wms_bins_warehouse_id")),
    )
    op.create_index(
        "ix_wms_bins_walk",
        "wms_bins",
        ["warehouse_id", "kind", "zone_id", "aisle", "rack", "level"],
        unique=False,
    )
    op.create_table(
        "wms_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["wms_items.id"],
            name=op.f("fk_wms_lots_item_id_wms_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_lots_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_lots")),
        sa.UniqueConstraint("item_id", "code", name=op.f("uq_wms_lots_item_id")),
    )
    op.create_table(
        "wms_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("qty_picked", sa.Integer(), nullable=False),
        sa.Column("qty_shipped", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_wms_order_lines_qty")),
        sa.CheckConstraint(
            "qty_picked >= 0 AND qty_shipped >= 0 AND qty_shipped <= qty_picked "
            "AND qty_picked <= qty",
            name=op.f("ck_wms_order_lines_progress"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["wms_items.id"],
            name=op.f("fk_wms_order_lines_item_id_wms_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["wms_orders.id"],
            name=op.f("fk_wms_order_lines_order_id_wms_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_order_lines")),
    )
    op.create_index(
        op.f("ix_wms_order_lines_order_id"), "wms_order_lines", ["order_id"], unique=False
    )
    op.create_table(
        "wms_shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("ship_to", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("ship_date", sa.Date(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("volume_m3", sa.Float(), nullable=False),
        sa.Column("packages", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["wms_orders.id"],
            name=op.f("fk_wms_shipments_order_id_wms_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_shipments_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_shipments_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_shipments")),
    )
    op.create_index(
        "ix_wms_shipments_date_status", "wms_shipments", ["ship_date", "status"], unique=False
    )
    op.create_index(
        op.f("ix_wms_shipments_owner_company_id"),
        "wms_shipments",
        ["owner_company_id"],
        unique=False,
    )
    op.create_table(
        "wms_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("from_bin_id", sa.Integer(), nullable=True),
        sa.Column("to_bin_id", sa.Integer(), nullable=True),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=60), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=60), nullable=False),
        sa.CheckConstraint(
            "from_bin_id IS NOT NULL OR to_bin_id IS NOT NULL", name=op.f("ck_wms_movements_ends")
        ),
        sa.CheckConstraint("qty > 0", name=op.f("ck_wms_movements_qty")),
        sa.ForeignKeyConstraint(
            ["from_bin_id"], ["wms_bins.id"], name=op.f("fk_wms_movements_from_bin_id_wms_bins")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["wms_items.id"],
            name=op.f("fk_wms_movements_item_id_wms_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["wms_lots.id"],
            name=op.f("fk_wms_movements_lot_id_wms_lots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_movements_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_bin_id"], ["wms_bins.id"], name=op.f("fk_wms_movements_to_bin_id_wms_bins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_movements")),
    )
    op.create_index(
        "ix_wms_movements_owner_at", "wms_movements", ["owner_company_id", "at"], unique=False
    )
    op.create_table(
        "wms_quants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("bin_id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_wms_quants_on_hand")),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= on_hand", name=op.f("ck_wms_quants_reserved")
        ),
        sa.ForeignKeyConstraint(
            ["bin_id"],
            ["wms_bins.id"],
            name=op.f("fk_wms_quants_bin_id_wms_bins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["wms_items.id"],
            name=op.f("fk_wms_quants_item_id_wms_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["wms_lots.id"],
            name=op.f("fk_wms_quants_lot_id_wms_lots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_quants_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_quants")),
        sa.UniqueConstraint(
            "item_id", "lot_id", "bin_id", "owner_company_id", name=op.f("uq_wms_quants_item_id")
        ),
    )
    op.create_index("ix_wms_quants_bin", "wms_quants", ["bin_id"], unique=False)
    op.create_index(
        "ix_wms_quants_owner_item", "wms_quants", ["owner_company_id", "item_id"], unique=False
    )
    op.create_table(
        "wms_receipt_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("asn_line_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("qty_good", sa.Integer(), nullable=False),
        sa.Column("qty_damaged", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=60), nullable=False),
        sa.CheckConstraint(
            "qty_good >= 0 AND qty_damaged >= 0", name=op.f("ck_wms_receipt_lines_qty")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["wms_appointments.id"],
            name=op.f("fk_wms_receipt_lines_appointment_id_wms_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["asn_line_id"],
            ["wms_asn_lines.id"],
            name=op.f("fk_wms_receipt_lines_asn_line_id_wms_asn_lines"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["wms_items.id"],
            name=op.f("fk_wms_receipt_lines_item_id_wms_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["wms_lots.id"],
            name=op.f("fk_wms_receipt_lines_lot_id_wms_lots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_receipt_lines_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_receipt_lines_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_receipt_lines")),
    )
    op.create_index(
        "ix_wms_receipt_lines_owner_at",
        "wms_receipt_lines",
        ["owner_company_id", "received_at"],
        unique=False,
    )
    op.create_table(
        "wms_yard_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("truck_plate", sa.String(length=16), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("owner_company_id", sa.Integer(), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["wms_appointments.id"],
            name=op.f("fk_wms_yard_visits_appointment_id_wms_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_yard_visits_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_wms_yard_visits_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_yard_visits")),
    )
    op.create_index(
        "ix_wms_yard_visits_plate",
        "wms_yard_visits",
        ["truck_plate", "checked_out_at"],
        unique=False,
    )
    op.create_table(
        "wms_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quant_id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("picked", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty >= 0 AND picked >= 0", name=op.f("ck_wms_reservations_qty")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["wms_order_lines.id"],
            name=op.f("fk_wms_reservations_order_line_id_wms_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_wms_reservations_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quant_id"],
            ["wms_quants.id"],
            name=op.f("fk_wms_reservations_quant_id_wms_quants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wms_reservations")),
        sa.UniqueConstraint(
            "order_line_id", "quant_id", name=op.f("uq_wms_reservations_order_line_id")
        ),
    )
    op.create_index("ix_wms_reservations_quant", "wms_reservations", ["quant_id"], unique=False)
    _ledger_append_only()


def _ledger_append_only() -> None:
    """The movement ledger refuses UPDATE and DELETE at the database level."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION wms_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'wms_movements is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER wms_movements_append_only BEFORE UPDATE OR DELETE ON wms_movements "
            "FOR EACH ROW EXECUTE FUNCTION wms_movements_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER wms_movements_no_{verb.lower()} BEFORE {verb} ON wms_movements "
                "BEGIN SELECT RAISE(ABORT, 'wms_movements is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS wms_movements_append_only ON wms_movements")
        op.execute("DROP FUNCTION IF EXISTS wms_movements_append_only()")
    for table in reversed(TABLES):
        op.drop_table(table)
