"""safety: alarm definitions, evaluator state, alarms and their journal

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 20:00:00

One open alarm per (source, condition) is a partial unique index (WHERE closed_at IS NULL),
which SQLite and PostgreSQL both enforce.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "safety_alarm_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("hh", sa.Float(), nullable=True),
        sa.Column("h", sa.Float(), nullable=True),
        sa.Column("l", sa.Float(), nullable=True),
        sa.Column("ll", sa.Float(), nullable=True),
        sa.Column("roc_per_min", sa.Float(), nullable=True),
        sa.Column("deadband", sa.Float(), nullable=False),
        sa.Column("on_delay_s", sa.Float(), nullable=False),
        sa.Column("off_delay_s", sa.Float(), nullable=False),
        sa.Column("latching", sa.Boolean(), nullable=False),
        sa.Column("escalate_after_s", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("in_service", sa.Boolean(), nullable=False),
        sa.Column("when", sa.JSON(), nullable=True),
        sa.Column("suppress_when", sa.JSON(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_safety_alarm_definitions_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"],
            ["tags.id"],
            name=op.f("fk_safety_alarm_definitions_tag_id_tags"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_alarm_definitions")),
    )
    with op.batch_alter_table("safety_alarm_definitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_alarm_definitions_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_safety_alarm_definitions_tag_id"), ["tag_id"], unique=False
        )

    op.create_table(
        "safety_alarm_eval_state",
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("last_ts_us", sa.BigInteger(), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["safety_alarm_definitions.id"],
            name="fk_safety_alarm_eval_state_definition_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("definition_id", name=op.f("pk_safety_alarm_eval_state")),
    )

    op.create_table(
        "safety_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("condition", sa.String(length=60), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("in_alarm", sa.Boolean(), nullable=False),
        sa.Column("acked", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("latching", sa.Boolean(), nullable=False),
        sa.Column("shelved", sa.Boolean(), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("out_of_service", sa.Boolean(), nullable=False),
        sa.Column("shelved_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shelve_reason", sa.String(length=300), nullable=False),
        sa.Column("escalate_after_s", sa.Integer(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["acked_by_user_id"],
            ["users.id"],
            name=op.f("fk_safety_alarms_acked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_safety_alarms_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["safety_alarm_definitions.id"],
            name=op.f("fk_safety_alarms_definition_id_safety_alarm_definitions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_alarms")),
    )
    with op.batch_alter_table("safety_alarms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_safety_alarms_company_raised", ["company_id", "raised_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_safety_alarms_definition_id"), ["definition_id"], unique=False
        )
        batch_op.create_index("ix_safety_alarms_state", ["state"], unique=False)
        batch_op.create_index(
            "uq_safety_alarms_open_source_condition",
            ["source", "condition"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )

    op.create_table(
        "safety_alarm_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=False),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["safety_alarms.id"],
            name=op.f("fk_safety_alarm_journal_alarm_id_safety_alarms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_user_id"],
            ["users.id"],
            name=op.f("fk_safety_alarm_journal_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_alarm_journal")),
    )
    with op.batch_alter_table("safety_alarm_journal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_alarm_journal_alarm_id"), ["alarm_id"], unique=False
        )
        batch_op.create_index("ix_safety_alarm_journal_at", ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("safety_alarm_journal")
    op.drop_table("safety_alarms")
    op.drop_table("safety_alarm_eval_state")
    op.drop_table("safety_alarm_definitions")
