"""What the registry's modules share: applying a patch's fields to a row."""

from __future__ import annotations

from typing import Any


def apply_changes(obj: Any, changes: dict[str, Any]) -> None:
    """Set a patch's fields on a row (the caller has checked who may change them)."""
    for key, value in changes.items():
        setattr(obj, key, value)
