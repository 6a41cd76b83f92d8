"""Analytics: state rules - the power thresholds that give a machine without a state tag its
states (running, idle, and planned stop or down below idle)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_state_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("idle_kw", sa.Float(), nullable=False),
        sa.Column("run_kw", sa.Float(), nullable=False),
        sa.Column("off_state", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "idle_kw >= 0 AND run_kw > idle_kw", name=op.f("ck_analytics_state_rules_thresholds")
        ),
        sa.CheckConstraint("off_state IN (0, 3)", name=op.f("ck_analytics_state_rules_off_state")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_analytics_state_rules_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["assets.id"],
            name=op.f("fk_analytics_state_rules_machine_id_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_state_rules")),
        sa.UniqueConstraint("machine_id", name=op.f("uq_analytics_state_rules_machine_id")),
    )
    with op.batch_alter_table("analytics_state_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analytics_state_rules_company_id"), ["company_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("analytics_state_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_state_rules_company_id"))

    op.drop_table("analytics_state_rules")
