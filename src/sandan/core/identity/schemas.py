"""API shapes for logins, users and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from sandan.core.types import DbId


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=500)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str
    company_id: int | None
    language: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class MeOut(UserOut):
    scopes: list[str]


class UserIn(BaseModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=500)
    role: str
    company_id: DbId | None = None
    language: str = "ko"


class UserPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=500)
    language: str | None = None
    current_password: str | None = Field(
        default=None, max_length=500, description="Needed to change one's own password."
    )


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1)
    days: int | None = Field(
        default=None, ge=1, le=366, description="Default: SANDAN_API_TOKEN_DAYS"
    )


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    company_id: int | None
    user_id: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; store it now.")
