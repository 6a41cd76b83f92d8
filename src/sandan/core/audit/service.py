"""Writing and verifying the hash-chained audit log.

Every flush of an `Audited` row appends entries in the same transaction, so a write and its
audit record commit or vanish together. Each entry hashes its content with the previous
entry's hash; `verify` recomputes the chain and names the first entry that does not match.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import event, insert, inspect, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE

from sandan.core.audit.mixins import Audited
from sandan.core.audit.models import AuditEntry, AuditHead
from sandan.core.clock import as_utc, utcnow
from sandan.core.db import PRINCIPAL_KEY
from sandan.core.identity.principal import Principal

GENESIS = "0" * 64
_HEAD_KEY = "sandan.audit_head"
_PG_LOCK_ID = 7_240_311  # serialises appends across PostgreSQL connections


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    return value


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an entry's content and its predecessor's hash."""
    canonical = orjson.dumps(_json_safe(fields), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _content(entry: AuditEntry | dict[str, Any]) -> dict[str, Any]:
    get = entry.get if isinstance(entry, dict) else lambda k: getattr(entry, k)
    return {
        "seq": get("seq"),
        "at": as_utc(get("at")).isoformat(timespec="microseconds"),  # type: ignore[arg-type]
        "actor": get("actor"),
        "actor_company_id": get("actor_company_id"),
        "company_id": get("company_id"),
        "action": get("action"),
        "entity": get("entity"),
        "entity_id": get("entity_id"),
        "before": get("before"),
        "after": get("after"),
        "prev_hash": get("prev_hash"),
    }


def _head(session: Session) -> tuple[int, str]:
    cached: tuple[int, str] | None = session.info.get(_HEAD_KEY)
    if cached is not None:
        return cached
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
    row = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def append_many(
    session: Session, principal: Principal | None, entries: list[dict[str, Any]]
) -> str | None:
    """Append entries (action, entity, entity_id, company_id, before, after) in one statement."""
    if not entries:
        return None
    seq, prev = _head(session)
    first = seq
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for item in entries:
        seq += 1
        row: dict[str, Any] = {
            "seq": seq,
            "at": now,
            "actor": principal.actor if principal else "system:unknown",
            "actor_company_id": principal.company_id if principal else None,
            "company_id": item.get("company_id"),
            "action": item["action"],
            "entity": item["entity"],
            "entity_id": None if item.get("entity_id") is None else str(item["entity_id"]),
            "before": _json_safe(item.get("before")),
            "after": _json_safe(item.get("after")),
            "prev_hash": prev,
        }
        row["hash"] = prev = entry_hash(_content(row))
        rows.append(row)
    conn = session.connection()
    conn.execute(insert(AuditEntry), rows)
    if first == 0 and conn.execute(select(AuditHead.id)).first() is None:
        conn.execute(insert(AuditHead), [{"id": 1, "seq": seq, "hash": prev}])
    else:
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))
    session.info[_HEAD_KEY] = (seq, prev)
    return prev


def append(
    session: Session,
    principal: Principal | None,
    *,
    action: str,
    entity: str,
    entity_id: Any = None,
    company_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> str:
    """Append one entry that no table write implies (a login, a data access, an export)."""
    digest = append_many(
        session,
        principal,
        [
            {
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "company_id": company_id,
                "before": before,
                "after": after,
            }
        ],
    )
    assert digest is not None
    return digest


def _columns(obj: Audited, *, committed: bool) -> dict[str, Any]:
    state = inspect(obj)
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in obj.__audit_exclude__:
            continue
        if committed:
            hist = state.attrs[attr.key].history
            if hist.deleted:
                values[attr.key] = hist.deleted[0]
            elif hist.unchanged:
                values[attr.key] = hist.unchanged[0]
            else:
                loaded = state.attrs[attr.key].loaded_value
                values[attr.key] = None if loaded is NO_VALUE else loaded
        else:
            values[attr.key] = getattr(obj, attr.key)
    return values


def _changes(obj: Audited) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in obj.__audit_exclude__:
            continue
        hist = state.attrs[attr.key].history
        if hist.added or hist.deleted:
            before[attr.key] = hist.deleted[0] if hist.deleted else None
            after[attr.key] = hist.added[0] if hist.added else None
    return before, after


def _identity(obj: Audited) -> Any:
    # New rows have no identity key yet in after_flush, but their primary key is set.
    state = inspect(obj)
    key = state.identity or state.mapper.primary_key_from_instance(obj)
    if key is None or all(k is None for k in key):
        return None
    return key[0] if len(key) == 1 else "/".join(str(k) for k in key)


def _after_flush(session: Session, _ctx: Any) -> None:
    entries: list[dict[str, Any]] = []

    def add(obj: Audited, action: str, before: Any, after: Any) -> None:
        entries.append(
            {
                "action": action,
                "entity": getattr(type(obj), "__tablename__", type(obj).__name__),
                "entity_id": _identity(obj),
                "company_id": getattr(obj, type(obj).__audit_company__, None),
                "before": before,
                "after": after,
            }
        )

    for obj in list(session.new):
        if isinstance(obj, Audited):
            add(obj, "create", None, _columns(obj, committed=False))
    for obj in list(session.dirty):
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if before or after:
                add(obj, "update", before, after)
    for obj in list(session.deleted):
        if isinstance(obj, Audited):
            add(obj, "delete", _columns(obj, committed=True), None)
    append_many(session, session.info.get(PRINCIPAL_KEY), entries)


def _forget_head(session: Session, *_args: Any) -> None:
    session.info.pop(_HEAD_KEY, None)


def install(session_factory: Any) -> None:
    """Attach the audit listener to a session factory (done once per Database)."""
    event.listen(session_factory, "after_flush", _after_flush)
    event.listen(session_factory, "after_commit", _forget_head)
    event.listen(session_factory, "after_rollback", _forget_head)


@dataclass
class VerifyReport:
    """The result of walking the chain."""

    checked: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def iter_entries(session: Session, batch: int = 2000) -> Iterator[AuditEntry]:
    """Every entry in sequence order, fetched in batches."""
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> VerifyReport:
    """Recompute every hash and link; report edited, inserted or deleted entries."""
    report = VerifyReport()
    expected_seq, prev = 1, GENESIS
    for entry in iter_entries(session):
        report.checked += 1
        if entry.seq != expected_seq:
            report.problems.append((entry.seq, f"entries {expected_seq}..{entry.seq - 1} missing"))
        if entry.prev_hash != prev:
            report.problems.append((entry.seq, "link to the previous entry is broken"))
        if entry_hash(_content(entry)) != entry.hash:
            report.problems.append((entry.seq, "content does not match its hash (edited)"))
        expected_seq, prev = entry.seq + 1, entry.hash
    head = session.execute(select(AuditHead.seq, AuditHead.hash)).first()
    if head is not None and (int(head[0]) != expected_seq - 1 or head[1] != prev):
        report.problems.append((int(head[0]), "newest entries were deleted (head mismatch)"))
    if head is None and report.checked:
        report.problems.append((0, "head pointer missing"))
    return report
