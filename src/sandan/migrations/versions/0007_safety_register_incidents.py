"""safety: hazard register, shelters, evacuation routes and incidents

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 20:00:00

Facilities, hazardous materials (CAS numbers) and 24-hour emergency contacts per company; the
complex's shelters, assembly points and evacuation routes; incidents with their alarms,
append-only timeline and tasks.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_evacuation_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("zone", sa.String(length=20), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_evacuation_routes")),
    )
    op.create_table(
        "safety_shelters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_shelters")),
    )
    op.create_table(
        "safety_emergency_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("call_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_safety_emergency_contacts_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_emergency_contacts")),
    )
    with op.batch_alter_table("safety_emergency_contacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_emergency_contacts_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "safety_facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_safety_facilities_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_safety_facilities_site_id_sites"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_facilities")),
    )
    with op.batch_alter_table("safety_facilities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_facilities_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_safety_facilities_site_id"), ["site_id"], unique=False)

    op.create_table(
        "safety_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("commander_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["commander_id"],
            ["users.id"],
            name=op.f("fk_safety_incidents_commander_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_incidents")),
    )
    with op.batch_alter_table("safety_incidents", schema=None) as batch_op:
        batch_op.create_index("ix_safety_incidents_status", ["status", "opened_at"], unique=False)

    op.create_table(
        "safety_incident_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["safety_incidents.id"],
            name=op.f("fk_safety_incident_alarms_incident_id_safety_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_incident_alarms")),
        sa.UniqueConstraint(
            "incident_id", "alarm_id", name=op.f("uq_safety_incident_alarms_incident_id")
        ),
    )
    with op.batch_alter_table("safety_incident_alarms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_incident_alarms_alarm_id"), ["alarm_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_safety_incident_alarms_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "safety_incident_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["safety_incidents.id"],
            name=op.f("fk_safety_incident_tasks_incident_id_safety_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_incident_tasks")),
    )
    with op.batch_alter_table("safety_incident_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_incident_tasks_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "safety_incident_timeline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["safety_incidents.id"],
            name=op.f("fk_safety_incident_timeline_incident_id_safety_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_incident_timeline")),
    )
    with op.batch_alter_table("safety_incident_timeline", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_incident_timeline_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "safety_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("cas", sa.String(length=12), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("max_quantity", sa.Float(), nullable=True),
        sa.Column("hazard_classes", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_safety_materials_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["safety_facilities.id"],
            name=op.f("fk_safety_materials_facility_id_safety_facilities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_materials")),
    )
    with op.batch_alter_table("safety_materials", schema=None) as batch_op:
        batch_op.create_index(
            "ix_safety_materials_company_cas", ["company_id", "cas"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_safety_materials_facility_id"), ["facility_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("safety_materials")
    op.drop_table("safety_incident_timeline")
    op.drop_table("safety_incident_tasks")
    op.drop_table("safety_incident_alarms")
    op.drop_table("safety_incidents")
    op.drop_table("safety_facilities")
    op.drop_table("safety_emergency_contacts")
    op.drop_table("safety_shelters")
    op.drop_table("safety_evacuation_routes")
