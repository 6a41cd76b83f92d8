"""The warehouse's own refusals; each names what was asked and what there is."""

from __future__ import annotations

from sandan.core.errors import Conflict


class StockShort(Conflict):
    """Fewer units are available (on hand minus reserved) than the movement needs."""


class OverCapacity(Conflict):
    """The bin has no room for this: volume, weight, pallets, category or owner."""


class DockClash(Conflict):
    """The dock is full for that time: another truck is booked there."""


class WrongState(Conflict):
    """The document is not in a state that allows this step."""
