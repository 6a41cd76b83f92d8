"""Live alerts for consoles outside the web pages: the recent safety events the caller may
see, and a server-sent event stream of new ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from sandan.core.http import RegistryRead
from sandan.safety.live import AlertHub

router = APIRouter(prefix="/alerts")


def _hub(request: Request) -> AlertHub:
    hub: AlertHub = request.app.state.safety_alerts
    return hub


@router.get("/recent")
def recent(
    request: Request, principal: RegistryRead, after: Annotated[int, Query(ge=0)] = 0
) -> dict[str, Any]:
    """Events after sequence number `after` (0: all kept), and the newest number."""
    hub = _hub(request)
    events = hub.since(after, principal)
    return {
        "seq": hub.seq,
        "events": [{"seq": s, "subject": subject, **p} for s, subject, p in events],
    }


@router.get("/stream")
async def stream(
    request: Request,
    principal: RegistryRead,
    seconds: Annotated[float, Query(gt=0, le=3600)] = 300,
) -> StreamingResponse:
    """SSE: one `alert` frame per new safety event the caller may see, for `seconds`."""
    hub = _hub(request)

    async def frames() -> AsyncIterator[str]:
        seq = hub.seq
        deadline = asyncio.get_running_loop().time() + seconds
        yield ": connected\n\n"
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            await hub.wait(seq, min(left, 15.0))
            for number, subject, payload in hub.since(seq, principal):
                body = json.dumps({"seq": number, "subject": subject, **payload}, default=str)
                yield f"event: alert\nid: {number}\ndata: {body}\n\n"
            seq = hub.seq
            if await request.is_disconnected():
                return
        yield "event: end\ndata: {}\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream")
