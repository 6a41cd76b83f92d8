"""Analytics: downtime events found in machine states, with the reasons operators give them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_downtime_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ongoing", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("reason_by", sa.String(length=120), nullable=False),
        sa.Column("reason_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_analytics_downtime_events_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["assets.id"],
            name=op.f("fk_analytics_downtime_events_machine_id_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_downtime_events")),
        sa.UniqueConstraint(
            "machine_id", "started_at", name=op.f("uq_analytics_downtime_events_machine_id")
        ),
    )
    with op.batch_alter_table("analytics_downtime_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_downtime_company_started", ["company_id", "started_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_downtime_events", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_downtime_company_started")

    op.drop_table("analytics_downtime_events")
