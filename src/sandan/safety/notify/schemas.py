"""API shapes of notification channels and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Priority = Literal["low", "medium", "high", "critical"]


class ChannelIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    kind: Literal["email", "webhook"]
    target: str = Field(min_length=3, max_length=500)
    min_priority: Priority = "high"
    kinds: list[str] = Field(default_factory=list, max_length=20)
    on_raise: bool = True
    on_escalation: bool = True
    on_incident: bool = True
    enabled: bool = True


class ChannelPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    target: str | None = Field(default=None, min_length=3, max_length=500)
    min_priority: Priority | None = None
    kinds: list[str] | None = Field(default=None, max_length=20)
    on_raise: bool | None = None
    on_escalation: bool | None = None
    on_incident: bool | None = None
    enabled: bool | None = None


class ChannelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    target: str
    min_priority: str
    kinds: str
    on_raise: bool
    on_escalation: bool
    on_incident: bool
    enabled: bool


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel_id: int
    subject: str
    subject_id: int
    reason: str
    title: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
