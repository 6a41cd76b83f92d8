"""Passwords, logins with throttling, web sessions, API tokens and device credentials."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    SandanError,
    Throttled,
    ValidationFailed,
)
from sandan.core.identity.models import Credential, User, WebSession
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import COMPANY_ROLES, Resource, Role, Scope

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _check_role(role: str, company_id: int | None) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        raise ValidationFailed.one(
            "role", f"unknown role; one of {[r.value for r in Role]}"
        ) from None
    if parsed in COMPANY_ROLES and company_id is None:
        raise ValidationFailed.one("company_id", f"required for role {parsed.value}")
    if parsed not in COMPANY_ROLES and company_id is not None:
        raise ValidationFailed.one("company_id", f"must be empty for role {parsed.value}")
    return parsed


def users_readable(principal: Principal) -> Select[User]:
    """The users a principal may see: all for complex roles with that duty, else own company."""
    stmt = select(User)
    if principal.reads_all(Resource.users):
        return stmt
    if principal.company_id is None or not principal.has(Scope.users_read):
        return stmt.where(User.id == principal.user_id)
    return stmt.where(User.company_id == principal.company_id)


def create_user(
    session: Session,
    principal: Principal,
    *,
    email: str,
    name: str,
    password: str,
    role: str,
    company_id: int | None = None,
    language: str = "ko",
) -> User:
    """Create a user; company admins may only add people to their own company."""
    if not principal.has(Scope.users_write):
        raise PermissionDenied("creating users needs users:write")
    parsed = _check_role(role, company_id)
    if not principal.is_operator and (
        parsed not in COMPANY_ROLES or company_id != principal.company_id
    ):
        raise PermissionDenied("company admins may only add company roles to their own company")
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed.one("password", f"must be at least {MIN_PASSWORD} characters")
    if not name.strip():
        raise ValidationFailed.one("name", "must not be empty")
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed.one("email", str(exc)) from None
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email} exists", field="email")
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=parsed.value,
        company_id=company_id,
        language=language if language in ("ko", "en") else "ko",
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, principal: Principal, user_id: int) -> User:
    """One user the principal may see."""
    user = session.scalar(users_readable(principal).where(User.id == user_id))
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def update_user(
    session: Session,
    principal: Principal,
    user_id: int,
    *,
    name: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    language: str | None = None,
    current_password: str | None = None,
) -> User:
    """Change a user; the same company rules as creating one. Changing one's own password
    needs the current one."""
    user = get_user(session, principal, user_id)
    may_manage = principal.has(Scope.users_write) and principal.writes_company(user.company_id)
    # One's own name, language and password: only from a logged-in session, never a token.
    own_profile = (
        principal.kind == "user"
        and principal.user_id == user_id
        and role is None
        and active is None
    )
    if not (may_manage or own_profile):
        raise PermissionDenied("changing this user needs users:write in its company")
    if password is not None and principal.user_id == user_id:
        try:
            _hasher.verify(user.password_hash, current_password or "")
        except (VerificationError, InvalidHashError):
            raise ValidationFailed.one("current_password", "does not match") from None
    if user.company_id is None and not principal.is_operator and principal.user_id != user_id:
        raise PermissionDenied("only operators change complex-level users")
    if role is not None:
        parsed = _check_role(role, user.company_id)
        if not principal.is_operator and parsed not in COMPANY_ROLES:
            raise PermissionDenied("company admins may only grant company roles")
        user.role = parsed.value
    if name is not None:
        user.name = name
    if active is not None:
        user.active = active
    if language is not None:
        if language not in ("ko", "en"):
            raise ValidationFailed.one("language", "must be ko or en")
        user.language = language
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise ValidationFailed.one("password", f"must be at least {MIN_PASSWORD} characters")
        user.password_hash = hash_password(password)
    session.flush()
    return user


def principal_for(user: User, credential: Credential | None = None) -> Principal:
    """The principal a user (or one of their tokens) acts as."""
    scopes = None if credential is None else frozenset(Scope(s) for s in credential.scopes)
    return Principal.for_user(
        user.id,
        user.name or user.email,
        user.company_id,
        frozenset({Role(user.role)}),
        scopes,
        credential.id if credential else None,
    )


@dataclass
class LoginOutcome:
    """A login attempt's result; failures still commit their throttling counters."""

    user: User | None = None
    error: SandanError | None = None


def authenticate(
    session: Session, email: str, password: str, *, max_failures: int, lockout: timedelta
) -> LoginOutcome:
    """Check a password; after max_failures misses the account is throttled for `lockout`."""
    now = utcnow()
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        with contextlib.suppress(VerificationError):  # same cost whether or not the user exists
            _hasher.verify(_DUMMY_HASH, password)
        return LoginOutcome(error=NotAuthenticated("wrong email or password"))
    if user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        return LoginOutcome(
            error=Throttled(f"too many failed logins; try again in {wait} s", retry_after=wait)
        )
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
        session.flush()
        return LoginOutcome(error=NotAuthenticated("wrong email or password"))
    if not user.active:  # same answer as a wrong password: no hint that it was right
        return LoginOutcome(error=NotAuthenticated("wrong email or password"))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return LoginOutcome(user=user)


def open_session(session: Session, user: User, hours: int) -> str:
    """Start a web session; returns the raw id that goes (signed) into the cookie."""
    raw = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_sha256(raw), user_id=user.id, expires_at=utcnow() + timedelta(hours=hours)
        )
    )
    session.flush()
    return raw


def close_session(session: Session, raw: str) -> None:
    """Log out: the session id stops working at once."""
    web = session.scalar(select(WebSession).where(WebSession.token_hash == _sha256(raw)))
    if web is not None and web.revoked_at is None:
        web.revoked_at = utcnow()
        session.flush()


def user_for_session(session: Session, raw: str) -> User | None:
    """The active user behind a session id, or None when expired, revoked or deactivated."""
    now = utcnow()
    row = session.execute(
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == _sha256(raw), WebSession.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    user, web = row
    if web.expires_at <= now or not user.active:
        return None
    return user


def _new_secret(kind: str) -> tuple[str, str, str]:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    label = "sdt" if kind == "api_token" else "sdd"
    return prefix, f"{label}_{prefix}_{secret}", _sha256(secret)


def issue_api_token(
    session: Session,
    principal: Principal,
    *,
    name: str,
    scopes: list[str],
    days: int,
) -> tuple[Credential, str]:
    """Issue an API token for the calling user, limited to scopes the user holds."""
    if principal.kind != "user" or principal.user_id is None:
        raise PermissionDenied("only a logged-in user can issue API tokens")
    requested: set[Scope] = set()
    for scope in scopes:
        try:
            requested.add(Scope(scope))
        except ValueError:
            raise ValidationFailed.one("scopes", f"unknown scope {scope!r}") from None
    if not requested:
        raise ValidationFailed.one("scopes", "name at least one scope")
    if not requested <= principal.scopes:
        extra = sorted(s.value for s in requested - principal.scopes)
        raise ValidationFailed.one("scopes", f"you do not hold {extra}")
    if not 1 <= days <= 366:
        raise ValidationFailed.one("days", "must be between 1 and 366")
    prefix, token, digest = _new_secret("api_token")
    cred = Credential(
        kind="api_token",
        name=name,
        prefix=prefix,
        secret_hash=digest,
        company_id=principal.company_id,
        user_id=principal.user_id,
        scopes=sorted(s.value for s in requested),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(cred)
    session.flush()
    return cred, token


def issue_device_secret(
    session: Session, *, device_id: int, company_id: int, name: str
) -> tuple[Credential, str]:
    """A fresh device key; earlier keys of the device are revoked (rotation)."""
    now = utcnow()
    for old in session.scalars(
        select(Credential).where(Credential.device_id == device_id, Credential.revoked_at.is_(None))
    ):
        old.revoked_at = now
    prefix, token, digest = _new_secret("device")
    cred = Credential(
        kind="device",
        name=name,
        prefix=prefix,
        secret_hash=digest,
        company_id=company_id,
        device_id=device_id,
        scopes=[Scope.telemetry_write.value],
    )
    session.add(cred)
    session.flush()
    return cred, token


def delete_device_credentials(session: Session, device_id: int) -> None:
    """Remove a device's keys when the device itself is removed."""
    for cred in session.scalars(select(Credential).where(Credential.device_id == device_id)):
        session.delete(cred)
    session.flush()


def tokens_readable(principal: Principal) -> Select[Credential]:
    """API tokens a principal may list: their own; operators see all."""
    stmt = select(Credential).where(Credential.kind == "api_token")
    if principal.is_operator:
        return stmt
    return stmt.where(Credential.user_id == principal.user_id)


def revoke_token(session: Session, principal: Principal, token_id: int) -> Credential:
    """Revoke an API token at once."""
    cred = session.scalar(tokens_readable(principal).where(Credential.id == token_id))
    if cred is None:
        raise NotFound(f"token {token_id} not found")
    if cred.revoked_at is None:
        cred.revoked_at = utcnow()
        session.flush()
    return cred


def principal_for_bearer(session: Session, token: str) -> Principal:
    """Resolve `Authorization: Bearer sdt_…` (API token) or `sdd_…` (device key)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] not in ("sdt", "sdd"):
        raise NotAuthenticated("malformed bearer token")
    cred = session.scalar(select(Credential).where(Credential.prefix == parts[1]))
    now = utcnow()
    if cred is None or not secrets.compare_digest(cred.secret_hash, _sha256(parts[2])):
        raise NotAuthenticated("unknown bearer token")
    if cred.revoked_at is not None:
        raise NotAuthenticated("token revoked")
    if cred.expires_at is not None and cred.expires_at <= now:
        raise NotAuthenticated("token expired")
    if cred.last_used_at is None or now - cred.last_used_at > timedelta(minutes=5):
        cred.last_used_at = now
    if cred.kind == "device":
        return Principal(
            kind="device",
            name=f"device {cred.device_id}",
            company_id=cred.company_id,
            scopes=frozenset({Scope.telemetry_write}),
            device_id=cred.device_id,
            credential_id=cred.id,
        )
    user = session.get(User, cred.user_id) if cred.user_id is not None else None
    if user is None or not user.active:
        raise NotAuthenticated("token owner is deactivated")
    return principal_for(user, cred)
