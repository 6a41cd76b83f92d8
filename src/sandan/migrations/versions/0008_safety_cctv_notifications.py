"""safety: cameras, CCTV events, notification channels and deliveries

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "safety_cameras",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("alarm_labels", sa.String(length=200), nullable=False),
        sa.Column("min_score", sa.Float(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _fk("safety_cameras", "company_id", "companies", "CASCADE"),
        _fk("safety_cameras", "site_id", "sites", "SET NULL"),
        _fk("safety_cameras", "zone_id", "zones", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_cameras")),
        sa.UniqueConstraint("name", name=op.f("uq_safety_cameras_name")),
    )
    with op.batch_alter_table("safety_cameras", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_cameras_company_id"), ["company_id"], unique=False
        )
    op.create_table(
        "safety_cctv_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.String(length=80), nullable=False),
        sa.Column("camera_name", sa.String(length=100), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("sub_label", sa.String(length=80), nullable=True),
        sa.Column("top_score", sa.Float(), nullable=False),
        sa.Column("zones", sa.String(length=400), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=10), nullable=False),
        _fk("safety_cctv_events", "camera_id", "safety_cameras", "SET NULL"),
        _fk("safety_cctv_events", "company_id", "companies", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_cctv_events")),
        sa.UniqueConstraint(
            "camera_name", "object_id", name=op.f("uq_safety_cctv_events_camera_name")
        ),
    )
    with op.batch_alter_table("safety_cctv_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_cctv_events_alarm_id"), ["alarm_id"], unique=False
        )
        batch_op.create_index(
            "ix_safety_cctv_events_company_started", ["company_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_safety_cctv_events_open", ["camera_name", "label", "ended_at"], unique=False
        )
    op.create_table(
        "safety_notification_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("min_priority", sa.String(length=10), nullable=False),
        sa.Column("kinds", sa.String(length=200), nullable=False),
        sa.Column("on_raise", sa.Boolean(), nullable=False),
        sa.Column("on_escalation", sa.Boolean(), nullable=False),
        sa.Column("on_incident", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_notification_channels")),
    )
    op.create_table(
        "safety_notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        _fk(
            "safety_notification_deliveries",
            "channel_id",
            "safety_notification_channels",
            "CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_notification_deliveries")),
        sa.UniqueConstraint(
            "channel_id",
            "subject",
            "subject_id",
            "reason",
            name=op.f("uq_safety_notification_deliveries_channel_id"),
        ),
    )
    with op.batch_alter_table("safety_notification_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_safety_notification_deliveries_due", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("safety_notification_deliveries")
    op.drop_table("safety_notification_channels")
    op.drop_table("safety_cctv_events")
    op.drop_table("safety_cameras")
