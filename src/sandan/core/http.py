"""FastAPI glue: the unit of work per request, the caller's principal, scope checks, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandan.core.context import Context
from sandan.core.db import PRINCIPAL_KEY
from sandan.core.errors import NotAuthenticated, PermissionDenied, SandanError
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope

SESSION_COOKIE = "sandan_session"
log = structlog.get_logger(__name__)


def get_context(request: Request) -> Context:
    ctx: Context = request.app.state.sandan
    return ctx


def cookie_signer(ctx: Context) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.resolved_secret_key(), salt="sandan-session")


def db_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit before the response goes out, else roll back."""
    with get_context(request).db.unit() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def principal_from_request(ctx: Context, session: Session, request: Request) -> Principal | None:
    """The caller: a bearer token (API or device) first, else the session cookie."""
    return principal_from_credentials(
        ctx, session, request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
    )


def principal_from_credentials(
    ctx: Context, session: Session, authorization: str | None, cookie: str | None
) -> Principal | None:
    """Resolve what a request presented; also used by pages to re-check before acting."""
    header = authorization or ""
    if header.lower().startswith("bearer "):
        return identity.principal_for_bearer(session, header[7:].strip())
    if not cookie:
        return None
    try:
        raw = cookie_signer(ctx).loads(cookie, max_age=ctx.settings.session_hours * 3600)
    except BadSignature:
        return None
    user = identity.user_for_session(session, str(raw))
    return None if user is None else identity.principal_for(user)


def current_principal(request: Request, session: DbSession) -> Principal:
    """The authenticated principal, bound to the request's session for the audit log."""
    principal = principal_from_request(get_context(request), session, request)
    if principal is None:
        raise NotAuthenticated("log in or send Authorization: Bearer <token>")
    session.info[PRINCIPAL_KEY] = principal
    return principal


def require(*scopes: Scope) -> Callable[..., Principal]:
    """A dependency that authenticates and demands every listed scope."""

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        missing = [s.value for s in scopes if not principal.has(s)]
        if missing:
            raise PermissionDenied(f"missing scope {', '.join(missing)}")
        return principal

    return dependency


Authenticated = Annotated[Principal, Depends(current_principal)]
RegistryRead = Annotated[Principal, Depends(require(Scope.registry_read))]
RegistryWrite = Annotated[Principal, Depends(require(Scope.registry_write))]
ComplexAdmin = Annotated[Principal, Depends(require(Scope.complex_admin))]
UsersRead = Annotated[Principal, Depends(require(Scope.users_read))]
UsersWrite = Annotated[Principal, Depends(require(Scope.users_write))]
TokensManage = Annotated[Principal, Depends(require(Scope.tokens))]
AuditRead = Annotated[Principal, Depends(require(Scope.audit_read))]
ImportWrite = Annotated[Principal, Depends(require(Scope.import_write))]
SharingWrite = Annotated[Principal, Depends(require(Scope.sharing_write))]
HazardsWrite = Annotated[Principal, Depends(require(Scope.hazards_write))]
SafetyOperate = Annotated[Principal, Depends(require(Scope.safety_operate))]
WarehouseOrder = Annotated[Principal, Depends(require(Scope.warehouse_order))]
WarehouseOperate = Annotated[Principal, Depends(require(Scope.warehouse_operate))]


def _loc_field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Render every SandanError and request validation error as one JSON body."""

    async def sandan_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SandanError)
        headers = {}
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields = [
            {
                "field": _loc_field(tuple(err.get("loc", ()))),
                "reason": str(err.get("msg", "")).removeprefix("Value error, "),
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{f['field']}: {f['reason']}" for f in fields)
        return JSONResponse(
            {"error": "ValidationFailed", "detail": detail, "fields": fields}, status_code=422
        )

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        # Routing errors (unknown path, wrong method) get the same body as ours.
        assert isinstance(exc, StarletteHTTPException)
        try:
            name = HTTPStatus(exc.status_code).phrase.title().replace(" ", "").replace("-", "")
        except ValueError:
            name = "HTTPError"
        return JSONResponse(
            {"error": name, "detail": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    async def integrity_error(_request: Request, exc: Exception) -> JSONResponse:
        # A race the service checks could not see (two writers, same key): a conflict.
        log.warning("db.integrity_error", error=str(exc)[:300])
        return JSONResponse(
            {"error": "Conflict", "detail": "the write conflicts with existing data"},
            status_code=409,
        )

    app.add_exception_handler(SandanError, sandan_error)
    app.add_exception_handler(IntegrityError, integrity_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
