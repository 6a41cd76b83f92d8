"""In-app live alerts: the safety events of this process's bus, kept in a short ring so a
page can show what happened since it last looked, and streamed to API clients as SSE."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandan.core.bus import Event
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource


@dataclass
class AlertHub:
    """The last `size` safety events, numbered, with a condition to wait on."""

    size: int = 500
    seq: int = 0
    events: deque[tuple[int, str, dict[str, Any]]] = field(default_factory=deque)
    _changed: asyncio.Condition | None = None

    async def on_event(self, event: Event) -> None:
        self.seq += 1
        self.events.append((self.seq, event.subject, event.payload))
        while len(self.events) > self.size:
            self.events.popleft()
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            self._changed.notify_all()

    def since(self, seq: int, principal: Principal) -> list[tuple[int, str, dict[str, Any]]]:
        """Events after `seq` the principal may see: the safety roles all; a company only
        those about itself."""
        return [e for e in self.events if e[0] > seq and visible(e[2], principal)]

    async def wait(self, seq: int, timeout: float) -> None:
        """Return when an event after `seq` arrives, or after `timeout` seconds."""
        if self.seq > seq:
            return
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                return


def visible(payload: dict[str, Any], principal: Principal) -> bool:
    if principal.reads_all(Resource.hazards):
        return True
    company = payload.get("company_id")
    return company is not None and company in principal.readable_company_ids(Resource.hazards)
