"""The movement ledger and the quants it derives.

Every change of stock is `post()`: lock the quants it touches (ordered by item, then id, so
two clerks never wait on each other in a circle), check, update the cached levels and append
the ledger rows in the same transaction. `reconcile()` recomputes every level from the
ledger and from the open reservations and lists any difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from sandan.core.clock import utcnow
from sandan.core.identity.principal import Principal
from sandan.logistics.errors import StockShort
from sandan.logistics.models import Movement, Quant, Reservation
from sandan.logistics.service.access import table, write_lock

Key = tuple[int, int, int, int]  # item, lot, bin, owner

_QUANTS, _MOVEMENTS = table(Quant), table(Movement)
_Q = _QUANTS.c
_KEY_COLUMNS = ("item_id", "lot_id", "bin_id", "owner_company_id")
# Built once, on the tables: the hot paths skip statement construction and the ORM.
_LOCK_BY_ID = (
    select(_Q.id, _Q.item_id, _Q.lot_id, _Q.bin_id, _Q.owner_company_id, _Q.on_hand, _Q.reserved)
    .where(_Q.id == bindparam("quant_id"))
    .with_for_update(key_share=True)
)
_LOCK_LEVELS = (
    select(_Q.id, _Q.item_id, _Q.lot_id, _Q.bin_id, _Q.owner_company_id, _Q.on_hand, _Q.reserved)
    .where(
        tuple_(_Q.item_id, _Q.lot_id, _Q.bin_id, _Q.owner_company_id).in_(
            bindparam("keys", expanding=True)
        )
    )
    .order_by(_Q.item_id, _Q.id)
    .with_for_update(key_share=True)
)
_SET_LEVEL = (
    update(_QUANTS)
    .where(_Q.id == bindparam("quant_id"))
    .values(on_hand=bindparam("on_hand"), reserved=bindparam("reserved"))
)
_APPEND = insert(_MOVEMENTS).returning(_MOVEMENTS.c.id, sort_by_parameter_order=True)
_ADD: dict[str, Any] = {}  # dialect name: the upsert that adds units to one quant


@dataclass(frozen=True)
class Leg:
    """One movement to post; `consume_reserved` takes units that were reserved (a pick)."""

    item_id: int
    lot_id: int
    owner_id: int
    from_bin: int | None
    to_bin: int | None
    qty: int
    kind: str
    ref: str = ""
    consume_reserved: bool = False


def _key_filter(keys: Sequence[Key]) -> Any:
    return or_(
        *(
            and_(
                Quant.item_id == i,
                Quant.lot_id == lot,
                Quant.bin_id == b,
                Quant.owner_company_id == o,
            )
            for i, lot, b, o in keys
        )
    )


def _select_locked(session: Session, keys: Sequence[Key]) -> list[Quant]:
    stmt = (
        select(Quant)
        .where(_key_filter(keys))
        .order_by(Quant.item_id, Quant.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def _create_missing(session: Session, missing: Sequence[Key]) -> None:
    """Empty quants for these keys; a row another clerk just made is kept."""
    values = [
        {
            "item_id": i,
            "lot_id": lot,
            "bin_id": b,
            "owner_company_id": o,
            "on_hand": 0,
            "reserved": 0,
        }
        for i, lot, b, o in missing
    ]
    maker = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        maker(_QUANTS).values(values).on_conflict_do_nothing(index_elements=_KEY_COLUMNS)
    )


def lock_quants(session: Session, keys: Iterable[Key]) -> dict[Key, Quant]:
    """The quants of these keys, created empty where missing, locked for this transaction."""
    wanted = sorted(set(keys))
    write_lock(session)
    rows = {
        (q.item_id, q.lot_id, q.bin_id, q.owner_company_id): q
        for q in _select_locked(session, wanted)
    }
    missing = [k for k in wanted if k not in rows]
    if missing:
        _create_missing(session, missing)
        for q in _select_locked(session, missing):
            rows[(q.item_id, q.lot_id, q.bin_id, q.owner_company_id)] = q
    return rows


def _select_levels(session: Session, keys: Sequence[Key]) -> dict[Key, list[int]]:
    rows = session.execute(_LOCK_LEVELS, {"keys": keys})
    levels = {(r[1], r[2], r[3], r[4]): [r[0], r[5], r[6]] for r in rows}
    _sync(session, levels.values())  # as populate_existing refreshed the locked entities
    return levels


def lock_levels(session: Session, keys: Iterable[Key]) -> dict[Key, list[int]]:
    """`lock_quants` as [id, on_hand, reserved] lists: the same locks in the same order."""
    wanted = sorted(set(keys))
    write_lock(session)
    levels = _select_levels(session, wanted)
    missing = [k for k in wanted if k not in levels]
    if missing:
        _create_missing(session, missing)
        levels.update(_select_levels(session, missing))
    return levels


def lock_by_id(session: Session, quant_ids: Iterable[int]) -> dict[int, Quant]:
    """Lock quants known by id, in (item, id) order."""
    write_lock(session)
    stmt = (
        select(Quant)
        .where(Quant.id.in_(sorted(set(quant_ids))))
        .order_by(Quant.item_id, Quant.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return {q.id: q for q in session.scalars(stmt)}


def lock_one(session: Session, quant_id: int) -> tuple[Key, list[int]] | None:
    """Lock one quant known by id: its key and [id, on_hand, reserved] (None: no such quant)."""
    write_lock(session)
    r = session.execute(_LOCK_BY_ID, {"quant_id": quant_id}).first()
    if r is None:
        return None
    _sync(session, [[r[0], r[5], r[6]]])  # as populate_existing refreshed the entity
    return (r[1], r[2], r[3], r[4]), [r[0], r[5], r[6]]


def post(
    session: Session,
    principal: Principal,
    legs: Sequence[Leg],
    *,
    locked: Mapping[Key, Quant | list[int]] | None = None,
) -> list[int]:
    """Apply movements to the quants and append them to the ledger; refuse any shortage.
    `locked`: quants the caller locked, as entities or `lock_levels` lists (which change in
    place)."""
    session.flush()  # the caller's own changes go first, as the lock query's autoflush did
    keys = [k for leg in legs for k in _leg_keys(leg)]
    if locked is not None and all(k in locked for k in keys):
        levels = {
            k: q if isinstance(q, list) else [q.id, q.on_hand, q.reserved]
            for k, q in locked.items()
        }
    elif len(legs) == 1 and legs[0].from_bin is None:
        _add_only(session, legs[0])  # units in, one quant: nothing to check, one lock
        return _append(session, principal, legs)
    else:
        levels = lock_levels(session, keys)
    before = {k: (v[1], v[2]) for k, v in levels.items()}
    for leg in legs:
        if leg.from_bin is not None:
            source = levels[(leg.item_id, leg.lot_id, leg.from_bin, leg.owner_id)]
            free = source[2] if leg.consume_reserved else source[1] - source[2]
            if leg.qty > free:
                what = "reserved" if leg.consume_reserved else "available"
                raise StockShort(
                    f"only {free} of item {leg.item_id} lot {leg.lot_id} {what} in bin "
                    f"{leg.from_bin}, {leg.qty} needed",
                    available=free,
                )
            source[1] -= leg.qty
            if leg.consume_reserved:
                source[2] -= leg.qty
        if leg.to_bin is not None:
            levels[(leg.item_id, leg.lot_id, leg.to_bin, leg.owner_id)][1] += leg.qty
    changed = [v for k, v in levels.items() if (v[1], v[2]) != before[k]]
    if changed:
        session.execute(
            _SET_LEVEL,
            [{"quant_id": q, "on_hand": h, "reserved": r} for q, h, r in changed],
        )
        _sync(session, changed)
    return _append(session, principal, legs)


def _add_only(session: Session, leg: Leg) -> None:
    """Add units to one quant, made if missing, in one upsert (it takes that row's lock)."""
    write_lock(session)
    dialect = session.get_bind().dialect.name
    stmt = _ADD.get(dialect)
    if stmt is None:
        maker = pg_insert if dialect == "postgresql" else sqlite_insert
        ins = maker(_QUANTS).values(
            item_id=bindparam("item_id"),
            lot_id=bindparam("lot_id"),
            bin_id=bindparam("bin_id"),
            owner_company_id=bindparam("owner_company_id"),
            on_hand=bindparam("qty"),
            reserved=0,
        )
        _ADD[dialect] = stmt = ins.on_conflict_do_update(
            index_elements=_KEY_COLUMNS, set_={"on_hand": _Q.on_hand + ins.excluded.on_hand}
        ).returning(_Q.id, _Q.on_hand, _Q.reserved)
    row = session.execute(
        stmt,
        {
            "item_id": leg.item_id,
            "lot_id": leg.lot_id,
            "bin_id": leg.to_bin,
            "owner_company_id": leg.owner_id,
            "qty": leg.qty,
        },
    ).one()
    _sync(session, [[row[0], row[1], row[2]]])


def _sync(session: Session, levels: Iterable[list[int]]) -> None:
    """Quants the session already holds take the levels just read or written (never stale)."""
    for quant_id, on_hand, reserved in levels:
        keep_in_step(session, Quant, quant_id, on_hand=on_hand, reserved=reserved)


def keep_in_step(session: Session, model: type[Any], row_id: int, **values: Any) -> None:
    """After a Core write: the session's object of that row, if it holds one, takes the
    written values as loaded ones, so callers that keep it never read a stale value."""
    held = session.identity_map
    if not len(held):
        return
    row = held.get(identity_key(model, row_id))
    if row is not None:
        for name, value in values.items():
            set_committed_value(row, name, value)


def _append(session: Session, principal: Principal, legs: Sequence[Leg]) -> list[int]:
    """The ledger rows of these legs; their ids in leg order."""
    now, actor = utcnow(), principal.actor[:60]
    rows = [
        {
            "item_id": leg.item_id,
            "lot_id": leg.lot_id,
            "owner_company_id": leg.owner_id,
            "from_bin_id": leg.from_bin,
            "to_bin_id": leg.to_bin,
            "qty": leg.qty,
            "kind": leg.kind,
            "ref": leg.ref[:60],
            "at": now,
            "by": actor,
        }
        for leg in legs
    ]
    return [int(r) for r in session.execute(_APPEND, rows).scalars()]


def _leg_keys(leg: Leg) -> list[Key]:
    return [
        (leg.item_id, leg.lot_id, b, leg.owner_id)
        for b in (leg.from_bin, leg.to_bin)
        if b is not None
    ]


@dataclass
class Reconciliation:
    """Quants against the ledger (on hand) and against the open reservations (reserved)."""

    quants: int = 0
    movements: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def reconcile(session: Session, owner_id: int | None = None) -> Reconciliation:
    """Recompute every stock level from the ledger and every reservation sum; compare."""
    into = select(
        Movement.item_id,
        Movement.lot_id,
        Movement.to_bin_id.label("bin_id"),
        Movement.owner_company_id,
        Movement.qty.label("delta"),
    ).where(Movement.to_bin_id.is_not(None))
    out = select(
        Movement.item_id,
        Movement.lot_id,
        Movement.from_bin_id.label("bin_id"),
        Movement.owner_company_id,
        (literal(0) - Movement.qty).label("delta"),
    ).where(Movement.from_bin_id.is_not(None))
    if owner_id is not None:
        into = into.where(Movement.owner_company_id == owner_id)
        out = out.where(Movement.owner_company_id == owner_id)
    legs = union_all(into, out).subquery()
    ledger: dict[Key, int] = {
        (r[0], r[1], r[2], r[3]): int(r[4])
        for r in session.execute(
            select(
                legs.c.item_id,
                legs.c.lot_id,
                legs.c.bin_id,
                legs.c.owner_company_id,
                func.sum(legs.c.delta),
            ).group_by(legs.c.item_id, legs.c.lot_id, legs.c.bin_id, legs.c.owner_company_id)
        )
    }
    held = dict(
        session.execute(
            select(Reservation.quant_id, func.sum(Reservation.qty)).group_by(Reservation.quant_id)
        ).all()
    )
    stmt = select(Quant)
    if owner_id is not None:
        stmt = stmt.where(Quant.owner_company_id == owner_id)
    report = Reconciliation()
    report.movements = int(
        session.scalar(
            select(func.count(Movement.id)).where(
                literal(True) if owner_id is None else Movement.owner_company_id == owner_id
            )
        )
        or 0
    )
    for q in session.scalars(stmt):
        report.quants += 1
        key = (q.item_id, q.lot_id, q.bin_id, q.owner_company_id)
        expected, reserved = ledger.pop(key, 0), int(held.get(q.id) or 0)
        if expected != q.on_hand or reserved != q.reserved or q.on_hand < 0:
            report.mismatches.append(
                {
                    "quant_id": q.id,
                    "on_hand": q.on_hand,
                    "ledger": expected,
                    "reserved": q.reserved,
                    "reservations": reserved,
                }
            )
    for key, qty in ledger.items():
        if qty != 0:
            report.mismatches.append({"key": list(key), "on_hand": 0, "ledger": qty})
    return report
