"""sharing: offers, negotiations, agreements, tokens, usage, ledger, privacy budgets, signing keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 18:15:54.677529
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sharing_privacy_budgets",
        sa.Column("statistic", sa.String(length=120), nullable=False),
        sa.Column("epsilon_total", sa.Float(), nullable=False),
        sa.Column("epsilon_spent", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("statistic", name=op.f("pk_sharing_privacy_budgets")),
    )
    op.create_table(
        "sharing_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("industry", sa.String(length=6), nullable=False),
        sa.Column("temporal_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("temporal_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("data_schema", sa.JSON(), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("access_policy", sa.JSON(), nullable=False),
        sa.Column("contract_policy", sa.JSON(), nullable=False),
        sa.Column("price_model", sa.String(length=16), nullable=False),
        sa.Column("price_krw", sa.BigInteger(), nullable=False),
        sa.Column("approval", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sharing_offers_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_offers")),
    )
    with op.batch_alter_table("sharing_offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sharing_offers_company_status", ["company_id", "status"], unique=False
        )

    op.create_table(
        "sharing_signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=80), nullable=False),
        sa.Column("private_pem", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sharing_signing_keys_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_signing_keys")),
        sa.UniqueConstraint("company_id", name=op.f("uq_sharing_signing_keys_company_id")),
        sa.UniqueConstraint("key_id", name=op.f("uq_sharing_signing_keys_key_id")),
    )
    op.create_table(
        "sharing_negotiations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("provider_company_id", sa.Integer(), nullable=True),
        sa.Column("consumer_company_id", sa.Integer(), nullable=True),
        sa.Column("provider_participant", sa.String(length=200), nullable=False),
        sa.Column("consumer_participant", sa.String(length=200), nullable=False),
        sa.Column("counterparty_url", sa.String(length=300), nullable=False),
        sa.Column("remote_id", sa.String(length=80), nullable=False),
        sa.Column("remote_offer_id", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_company_id"],
            ["companies.id"],
            name=op.f("fk_sharing_negotiations_consumer_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["sharing_offers.id"],
            name=op.f("fk_sharing_negotiations_offer_id_sharing_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_company_id"],
            ["companies.id"],
            name=op.f("fk_sharing_negotiations_provider_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_negotiations")),
    )
    with op.batch_alter_table("sharing_negotiations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sharing_negotiations_consumer", ["consumer_company_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_sharing_negotiations_provider", ["provider_company_id", "state"], unique=False
        )

    op.create_table(
        "sharing_offer_files",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["sharing_offers.id"],
            name=op.f("fk_sharing_offer_files_offer_id_sharing_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_sharing_offer_files")),
    )
    op.create_table(
        "sharing_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("negotiation_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("provider_company_id", sa.Integer(), nullable=True),
        sa.Column("consumer_company_id", sa.Integer(), nullable=True),
        sa.Column("provider_participant", sa.String(length=200), nullable=False),
        sa.Column("consumer_participant", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("provider_signature", sa.JSON(), nullable=False),
        sa.Column("consumer_signature", sa.JSON(), nullable=True),
        sa.Column("price_model", sa.String(length=16), nullable=False),
        sa.Column("price_krw", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("termination_reason", sa.String(length=300), nullable=False),
        sa.Column("pulls", sa.Integer(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_company_id"],
            ["companies.id"],
            name=op.f("fk_sharing_agreements_consumer_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["sharing_negotiations.id"],
            name=op.f("fk_sharing_agreements_negotiation_id_sharing_negotiations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["sharing_offers.id"],
            name=op.f("fk_sharing_agreements_offer_id_sharing_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_company_id"],
            ["companies.id"],
            name=op.f("fk_sharing_agreements_provider_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_agreements")),
        sa.UniqueConstraint("negotiation_id", name=op.f("uq_sharing_agreements_negotiation_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_sharing_agreements_uid")),
    )
    with op.batch_alter_table("sharing_agreements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sharing_agreements_consumer", ["consumer_company_id"], unique=False
        )
        batch_op.create_index(
            "ix_sharing_agreements_provider", ["provider_company_id"], unique=False
        )

    op.create_table(
        "sharing_negotiation_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("negotiation_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=8), nullable=False),
        sa.Column("message", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["sharing_negotiations.id"],
            name=op.f("fk_sharing_negotiation_messages_negotiation_id_sharing_negotiations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_negotiation_messages")),
    )
    with op.batch_alter_table("sharing_negotiation_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_negotiation_messages_negotiation_id"),
            ["negotiation_id"],
            unique=False,
        )

    op.create_table(
        "sharing_access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("refresh_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreements.id"],
            name=op.f("fk_sharing_access_tokens_agreement_id_sharing_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_access_tokens")),
        sa.UniqueConstraint("refresh_hash", name=op.f("uq_sharing_access_tokens_refresh_hash")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sharing_access_tokens_token_hash")),
    )
    with op.batch_alter_table("sharing_access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_access_tokens_agreement_id"), ["agreement_id"], unique=False
        )

    op.create_table(
        "sharing_ledger_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("memo", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreements.id"],
            name=op.f("fk_sharing_ledger_transactions_agreement_id_sharing_agreements"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_ledger_transactions")),
        sa.UniqueConstraint(
            "agreement_id",
            "kind",
            "period",
            name=op.f("uq_sharing_ledger_transactions_agreement_id"),
        ),
    )
    op.create_table(
        "sharing_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("provider_company_id", sa.Integer(), nullable=True),
        sa.Column("consumer_company_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreements.id"],
            name=op.f("fk_sharing_usage_agreement_id_sharing_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["consumer_company_id"],
            ["companies.id"],
            name=op.f("fk_sharing_usage_consumer_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_company_id"],
            ["companies.id"],
            name=op.f("fk_sharing_usage_provider_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_usage")),
    )
    with op.batch_alter_table("sharing_usage", schema=None) as batch_op:
        batch_op.create_index("ix_sharing_usage_agreement_at", ["agreement_id", "at"], unique=False)
        batch_op.create_index(
            "ix_sharing_usage_provider_at", ["provider_company_id", "at"], unique=False
        )

    op.create_table(
        "sharing_ledger_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("debit_krw", sa.BigInteger(), nullable=False),
        sa.Column("credit_krw", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "debit_krw >= 0 AND credit_krw >= 0",
            name=op.f("ck_sharing_ledger_entries_ledger_amounts_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sharing_ledger_entries_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["sharing_ledger_transactions.id"],
            name=op.f("fk_sharing_ledger_entries_transaction_id_sharing_ledger_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_ledger_entries")),
    )
    with op.batch_alter_table("sharing_ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_sharing_ledger_entries_company", ["company_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sharing_ledger_entries_transaction_id"), ["transaction_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sharing_ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_ledger_entries_transaction_id"))
        batch_op.drop_index("ix_sharing_ledger_entries_company")

    op.drop_table("sharing_ledger_entries")
    with op.batch_alter_table("sharing_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_usage_provider_at")
        batch_op.drop_index("ix_sharing_usage_agreement_at")

    op.drop_table("sharing_usage")
    op.drop_table("sharing_ledger_transactions")
    with op.batch_alter_table("sharing_access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_access_tokens_agreement_id"))

    op.drop_table("sharing_access_tokens")
    with op.batch_alter_table("sharing_negotiation_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_negotiation_messages_negotiation_id"))

    op.drop_table("sharing_negotiation_messages")
    with op.batch_alter_table("sharing_agreements", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_agreements_provider")
        batch_op.drop_index("ix_sharing_agreements_consumer")

    op.drop_table("sharing_agreements")
    op.drop_table("sharing_offer_files")
    with op.batch_alter_table("sharing_negotiations", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_negotiations_provider")
        batch_op.drop_index("ix_sharing_negotiations_consumer")

    op.drop_table("sharing_negotiations")
    op.drop_table("sharing_signing_keys")
    with op.batch_alter_table("sharing_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_offers_company_status")

    op.drop_table("sharing_offers")
    op.drop_table("sharing_privacy_budgets")
