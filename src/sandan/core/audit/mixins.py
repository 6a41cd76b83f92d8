"""Marks a table whose every insert, update and delete is written to the audit log."""

from __future__ import annotations

from typing import ClassVar


class Audited:
    """Mix into a model to audit its writes; list secret columns in __audit_exclude__."""

    __audit_exclude__: ClassVar[frozenset[str]] = frozenset()
    # The column naming the company whose audit trail the entry belongs to (a data access
    # belongs to the provider, who must see who used its data).
    __audit_company__: ClassVar[str] = "company_id"
