"""logistics: joint delivery - the shared fleet, the stops of a day (a tenant's own or a
warehouse shipment's), and the plans made for them: routes and each stop's place and times,
or why it was dropped

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "delivery_vehicles",
    "delivery_plans",
    "delivery_routes",
    "delivery_stops",
    "delivery_plan_stops",
)


def upgrade() -> None:
    op.create_table(
        "delivery_vehicles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("capacity_kg", sa.Float(), nullable=False),
        sa.Column("capacity_m3", sa.Float(), nullable=True),
        sa.Column("shift_start_min", sa.Integer(), nullable=False),
        sa.Column("shift_end_min", sa.Integer(), nullable=False),
        sa.Column("cost_per_km", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity_kg > 0", name=op.f("ck_delivery_vehicles_capacity_kg")),
        sa.CheckConstraint(
            "shift_end_min > shift_start_min", name=op.f("ck_delivery_vehicles_shift")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_vehicles")),
        sa.UniqueConstraint("plate", name=op.f("uq_delivery_vehicles_plate")),
    )
    op.create_table(
        "delivery_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opens_min", sa.Integer(), nullable=False),
        sa.Column("closes_min", sa.Integer(), nullable=False),
        sa.Column("road_factor", sa.Float(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=False),
        sa.Column("time_limit_s", sa.Float(), nullable=False),
        sa.Column("quick", sa.Boolean(), nullable=False),
        sa.Column("warm_started", sa.Boolean(), nullable=False),
        sa.Column("solver_status", sa.String(length=48), nullable=False),
        sa.Column("solve_seconds", sa.Float(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("distance_m", sa.BigInteger(), nullable=False),
        sa.Column("objective", sa.BigInteger(), nullable=False),
        sa.Column("start_objective", sa.BigInteger(), nullable=True),
        sa.Column("stops_total", sa.Integer(), nullable=False),
        sa.Column("stops_dropped", sa.Integer(), nullable=False),
        sa.Column("vehicles_used", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_delivery_plans_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_plans")),
        sa.UniqueConstraint(
            "warehouse_id", "day", "version", name=op.f("uq_delivery_plans_warehouse_id")
        ),
    )
    op.create_table(
        "delivery_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("depart_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("return_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("volume_m3", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["delivery_plans.id"],
            name=op.f("fk_delivery_routes_plan_id_delivery_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["delivery_vehicles.id"],
            name=op.f("fk_delivery_routes_vehicle_id_delivery_vehicles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_routes")),
    )
    op.create_index(
        op.f("ix_delivery_routes_plan_id"), "delivery_routes", ["plan_id"], unique=False
    )
    op.create_table(
        "delivery_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("ship_to", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_min", sa.Integer(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("volume_m3", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "weight_kg >= 0 AND volume_m3 >= 0", name=op.f("ck_delivery_stops_load")
        ),
        sa.CheckConstraint("window_end > window_start", name=op.f("ck_delivery_stops_window")),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_delivery_stops_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["wms_shipments.id"],
            name=op.f("fk_delivery_stops_shipment_id_wms_shipments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["wms_warehouses.id"],
            name=op.f("fk_delivery_stops_warehouse_id_wms_warehouses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_stops")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_delivery_stops_shipment_id")),
    )
    op.create_index(
        "ix_delivery_stops_day", "delivery_stops", ["warehouse_id", "day", "status"], unique=False
    )
    op.create_index(
        op.f("ix_delivery_stops_owner_company_id"),
        "delivery_stops",
        ["owner_company_id"],
        unique=False,
    )
    op.create_table(
        "delivery_plan_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("stop_id", sa.Integer(), nullable=False),
        sa.Column("owner_company_id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("arrival_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("departure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dropped_reason", sa.String(length=24), nullable=True),
        sa.Column("dropped_detail", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_company_id"],
            ["companies.id"],
            name=op.f("fk_delivery_plan_stops_owner_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["delivery_plans.id"],
            name=op.f("fk_delivery_plan_stops_plan_id_delivery_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["route_id"],
            ["delivery_routes.id"],
            name=op.f("fk_delivery_plan_stops_route_id_delivery_routes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stop_id"],
            ["delivery_stops.id"],
            name=op.f("fk_delivery_plan_stops_stop_id_delivery_stops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_plan_stops")),
        sa.UniqueConstraint("plan_id", "stop_id", name=op.f("uq_delivery_plan_stops_plan_id")),
    )
    op.create_index(
        "ix_delivery_plan_stops_owner",
        "delivery_plan_stops",
        ["plan_id", "owner_company_id"],
        unique=False,
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
