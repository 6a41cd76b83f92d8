"""Errors of data sharing; each renders as the one JSON error body with its status."""

from __future__ import annotations

from typing import Any

from sandan.core.errors import Conflict, PermissionDenied


class AccessDenied(PermissionDenied):
    """The usage policy of an agreement refuses this access; `reasons` say why, readably."""

    def __init__(self, message: str, reasons: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.extra = {"reasons": reasons}


class AgreementNotActive(AccessDenied):
    """The agreement was terminated, has expired, or is not yet finalized."""


class WrongParty(Conflict):
    """The caller is a party of the negotiation, but not the one that may send this."""
