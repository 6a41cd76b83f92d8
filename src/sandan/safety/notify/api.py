"""HTTP routes of notifications: channels (operator-managed) and the delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from sandan.core.http import DbSession, SafetyOperate
from sandan.core.pagination import Page, PageParams
from sandan.core.types import IdPath
from sandan.safety.notify import service
from sandan.safety.notify.schemas import ChannelIn, ChannelOut, ChannelPatch, DeliveryOut

router = APIRouter(prefix="/notifications")
Paging = Annotated[PageParams, Depends()]


@router.get("/channels", response_model=list[ChannelOut])
def list_channels(principal: SafetyOperate, session: DbSession) -> list[Any]:
    return service.list_channels(session)


@router.post("/channels", response_model=ChannelOut, status_code=201)
def create_channel(body: ChannelIn, principal: SafetyOperate, session: DbSession) -> Any:
    """An email address or a webhook (an SMS gateway) to tell about alarms and incidents."""
    return service.create_channel(session, {**body.model_dump(), "kinds": ",".join(body.kinds)})


@router.patch("/channels/{channel_id}", response_model=ChannelOut)
def update_channel(
    channel_id: IdPath, body: ChannelPatch, principal: SafetyOperate, session: DbSession
) -> Any:
    fields = body.model_dump(exclude_unset=True)
    if body.kinds is not None:
        fields["kinds"] = ",".join(body.kinds)
    return service.update_channel(session, channel_id, fields)


@router.get("/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    principal: SafetyOperate, session: DbSession, page: Paging, status: str | None = None
) -> Page[DeliveryOut]:
    """What was sent, is waiting, or failed (with the channel's last error)."""
    rows, total = service.list_deliveries(session, page, status)
    return Page(
        items=[DeliveryOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
