"""Routes for logging in and out, users and API tokens."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from itsdangerous import BadSignature
from sqlalchemy import or_

from sandan.core.errors import PermissionDenied
from sandan.core.http import (
    SESSION_COOKIE,
    Authenticated,
    DbSession,
    TokensManage,
    UsersRead,
    UsersWrite,
    cookie_signer,
    get_context,
)
from sandan.core.identity import service
from sandan.core.identity.models import Credential, User
from sandan.core.identity.schemas import (
    LoginIn,
    MeOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from sandan.core.pagination import Page, PageParams, paginate
from sandan.core.types import IdPath, IdQuery

router = APIRouter(prefix="/api/v1", tags=["identity"])


def _me(user: User) -> MeOut:
    principal = service.principal_for(user)
    return MeOut(
        **UserOut.model_validate(user).model_dump(),
        scopes=sorted(s.value for s in principal.scopes),
    )


@router.post("/auth/login", response_model=MeOut)
def login(body: LoginIn, request: Request, response: Response) -> MeOut:
    """Log in with email and password; sets the session cookie. Throttled after repeated misses."""
    ctx = get_context(request)
    with ctx.db.unit() as session:
        outcome = service.authenticate(
            session,
            body.email,
            body.password,
            max_failures=ctx.settings.login_max_failures,
            lockout=timedelta(seconds=ctx.settings.login_lockout_seconds),
        )
        raw = (
            None
            if outcome.user is None
            else service.open_session(session, outcome.user, ctx.settings.session_hours)
        )
        me = None if outcome.user is None else _me(outcome.user)
    if outcome.error is not None or raw is None or me is None:
        ctx.metrics.logins.labels("failed").inc()
        raise outcome.error or AssertionError("login produced neither user nor error")
    ctx.metrics.logins.labels("ok").inc()
    response.set_cookie(
        SESSION_COOKIE,
        cookie_signer(ctx).dumps(raw),
        httponly=True,
        samesite="lax",
        max_age=ctx.settings.session_hours * 3600,
        secure=request.url.scheme == "https",
    )
    return me


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, session: DbSession) -> None:
    """End the browser session (the cookie stops working at once)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with contextlib.suppress(BadSignature):  # a bad cookie simply is not a session
            service.close_session(session, str(cookie_signer(get_context(request)).loads(cookie)))
    response.delete_cookie(SESSION_COOKIE)


@router.get("/auth/me", response_model=MeOut)
def me(principal: Authenticated, session: DbSession) -> MeOut:
    """Who the caller is, with the scopes they hold."""
    if principal.user_id is None:
        raise PermissionDenied("a device key is not a user")
    user = service.get_user(session, principal, principal.user_id)
    out = _me(user)
    out.scopes = sorted(s.value for s in principal.scopes)
    return out


@router.get("/users", response_model=Page[UserOut])
def list_users(
    principal: UsersRead,
    session: DbSession,
    page: Annotated[PageParams, Depends()],
    company_id: IdQuery = None,
    role: str | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[UserOut]:
    """Users the caller may see: their company's, or all for complex-level duties."""
    stmt = service.users_readable(principal).order_by(User.id)
    if company_id is not None:
        stmt = stmt.where(User.company_id == company_id)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if q:
        stmt = stmt.where(or_(User.email.ilike(f"%{q}%"), User.name.ilike(f"%{q}%")))
    rows, total = paginate(session, stmt, page)
    return Page[UserOut](
        items=[UserOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, principal: UsersWrite, session: DbSession) -> UserOut:
    """Create a user; company admins add people to their own company only."""
    user = service.create_user(session, principal, **body.model_dump())
    return UserOut.model_validate(user)


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: IdPath, principal: UsersRead, session: DbSession) -> UserOut:
    """One user."""
    return UserOut.model_validate(service.get_user(session, principal, user_id))


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: IdPath, body: UserPatch, principal: Authenticated, session: DbSession
) -> UserOut:
    """Change a user's name, role or status (admins), or one's own name, language, password."""
    user = service.update_user(session, principal, user_id, **body.model_dump(exclude_unset=True))
    return UserOut.model_validate(user)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(principal: TokensManage, session: DbSession) -> list[TokenOut]:
    """The caller's API tokens (operators see all)."""
    rows = session.scalars(service.tokens_readable(principal).order_by(Credential.id)).all()
    return [TokenOut.model_validate(r) for r in rows]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(
    body: TokenIn, principal: TokensManage, session: DbSession, request: Request
) -> TokenCreated:
    """Issue a scoped API token; the secret is shown only in this answer."""
    cred, token = service.issue_api_token(
        session,
        principal,
        name=body.name,
        scopes=body.scopes,
        days=body.days or get_context(request).settings.api_token_days,
    )
    return TokenCreated(**TokenOut.model_validate(cred).model_dump(), token=token)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: IdPath, principal: TokensManage, session: DbSession) -> TokenOut:
    """Revoke an API token; it stops working at once."""
    return TokenOut.model_validate(service.revoke_token(session, principal, token_id))
