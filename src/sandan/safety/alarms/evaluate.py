"""The alarm evaluator on the ingest path: every committed telemetry batch passes through
`evaluate_batch` (registered as a telemetry batch observer at startup), inside the ingest's
own unit of work, so alarm transitions commit or roll back with the readings.

Per batch: one query for the enabled definitions of the batch's tags (locked FOR UPDATE on
PostgreSQL, so two ingest workers evaluate one definition in turn), one for their evaluator
state, one store read for the latest values the multi-tag conditions name, then the
vectorised engine; Python runs only per definition and per transition, never per reading."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.safety.alarms import engine, service
from sandan.safety.alarms.engine import CONDITIONS, NEVER, Definitions, EngineState
from sandan.safety.alarms.models import Alarm, AlarmDefinition, EvalState
from sandan.safety.alarms.states import Event

BAD_QUALITY = 2  # telemetry's BAD: stored for the record, never judged
CHUNK = 5000  # tag ids per IN (...) list
LABELS = {"HH": "high-high", "H": "high", "L": "low", "LL": "low-low", "ROC": "rate of change"}


class LatestValues(Protocol):
    """The one thing the evaluator asks of a telemetry store."""

    def latest(self, tag_ids: list[int]) -> pa.Table: ...


def source_of(definition: AlarmDefinition) -> str:
    return f"tag:{definition.tag_id}"


def condition_of(definition: AlarmDefinition, cond: str) -> str:
    """One alarm per limit of each definition: `HH#12`."""
    return f"{cond}#{definition.id}"


def _at(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, UTC)


def load_definitions(session: Session, tag_ids: list[int]) -> list[AlarmDefinition]:
    rows: list[AlarmDefinition] = []
    for i in range(0, len(tag_ids), CHUNK):
        stmt = (
            select(AlarmDefinition)
            .where(AlarmDefinition.tag_id.in_(tag_ids[i : i + CHUNK]), AlarmDefinition.enabled)
            .order_by(AlarmDefinition.id)
            .with_for_update()
        )
        rows.extend(session.scalars(stmt))
    return rows


def as_arrays(defs: list[AlarmDefinition]) -> Definitions:
    """The definitions as engine columns."""
    return Definitions(
        tag_id=np.array([d.tag_id for d in defs], np.int64),
        limits=np.array([[d.hh, d.h, d.l, d.ll, d.roc_per_min] for d in defs], np.float64).reshape(
            len(defs), 5
        ),
        deadband=np.array([d.deadband for d in defs], np.float64),
        on_delay_us=np.array([round(d.on_delay_s * 1e6) for d in defs], np.int64),
        off_delay_us=np.array([round(d.off_delay_s * 1e6) for d in defs], np.int64),
    )


def state_arrays(defs: list[AlarmDefinition], rows: dict[int, EvalState]) -> EngineState:
    """The saved evaluator state of each definition (fresh where none was saved)."""
    state = EngineState.fresh(len(defs))
    for i, d in enumerate(defs):
        row = rows.get(d.id)
        if row is None:
            continue
        for c, name in enumerate(CONDITIONS):
            saved = row.conditions.get(name)
            if saved:
                state.hyst[i, c], state.since[i, c], state.active[i, c] = saved
        state.last_ts[i] = NEVER if row.last_ts_us is None else row.last_ts_us
        state.last_value[i] = np.nan if row.last_value is None else row.last_value
    return state


def gates(store: LatestValues, defs: list[AlarmDefinition]) -> tuple[np.ndarray, np.ndarray]:
    """Per definition: its `when` condition (True without one) and whether it is suppressed
    by design now, from the latest values of the tags they name."""
    when = engine.compile_conditions([d.when for d in defs])
    supp = engine.compile_conditions([d.suppress_when for d in defs])
    ids = sorted(set(when.tag_ids) | set(supp.tag_ids))
    if ids:
        latest = store.latest(ids)
        latest_ids = latest.column("tag_id").to_numpy().astype(np.int64)
        values = latest.column("value").to_numpy(zero_copy_only=False).astype(np.float64)
        order = np.argsort(latest_ids)
        latest_ids, values = latest_ids[order], values[order]
    else:
        latest_ids, values = np.zeros(0, np.int64), np.zeros(0)
    return (
        engine.truth(when, latest_ids, values, default=True),
        engine.truth(supp, latest_ids, values, default=False),
    )


def evaluate_batch(session: Session, store: LatestValues, batch: pa.Table) -> int:
    """Evaluate a stored READINGS batch against the alarm definitions of its tags and write
    the alarm transitions; returns how many there were."""
    quality = batch.column("quality").to_numpy()
    value = batch.column("value").to_numpy(zero_copy_only=False).astype(np.float64)
    keep = (quality < BAD_QUALITY) & np.isfinite(value)
    if not keep.any():
        return 0
    tag = batch.column("tag_id").to_numpy()[keep].astype(np.int64)
    ts = batch.column("ts").cast(pa.int64()).to_numpy()[keep]
    value = value[keep]
    defs = load_definitions(session, np.unique(tag).tolist())
    if not defs:
        return 0
    saved = {
        r.definition_id: r
        for r in session.scalars(
            select(EvalState).where(EvalState.definition_id.in_([d.id for d in defs]))
        )
    }
    before = state_arrays(defs, saved)
    when, suppressed = gates(store, defs)
    after, moves = engine.evaluate(as_arrays(defs), before, tag, ts, value, when)
    _save_state(session, defs, saved, before, after)
    return _apply(session, defs, suppressed, moves, _at(int(ts.max())))


def _save_state(
    session: Session,
    defs: list[AlarmDefinition],
    saved: dict[int, EvalState],
    before: EngineState,
    after: EngineState,
) -> None:
    for i in np.flatnonzero(after.last_ts != before.last_ts).tolist():
        row = saved.get(defs[i].id)
        if row is None:
            row = EvalState(definition_id=defs[i].id)
            session.add(row)
        row.conditions = {
            name: [bool(after.hyst[i, c]), int(after.since[i, c]), bool(after.active[i, c])]
            for c, name in enumerate(CONDITIONS)
        }
        row.last_ts_us = int(after.last_ts[i])
        row.last_value = float(after.last_value[i])


def _apply(
    session: Session,
    defs: list[AlarmDefinition],
    suppressed: np.ndarray,
    moves: engine.Transitions,
    now: datetime,
) -> int:
    """Suppression first (as the logic says now), then the transitions in time order."""
    by_id = {d.id: i for i, d in enumerate(defs)}
    stmt = select(Alarm).where(Alarm.definition_id.in_(list(by_id)), Alarm.closed_at.is_(None))
    open_rows = {(a.definition_id, a.condition): a for a in session.scalars(stmt)}
    for (definition_id, _), alarm in open_rows.items():
        wanted = bool(suppressed[by_id[definition_id or 0]])
        if alarm.suppressed != wanted:
            logic = Event.suppress if wanted else Event.unsuppress
            service.transition(session, alarm, logic, now, note="suppressed by design")
    for d, c, us, raised, v in zip(
        moves.definition.tolist(),
        moves.condition.tolist(),
        moves.ts.tolist(),
        moves.raised.tolist(),
        moves.value.tolist(),
        strict=True,
    ):
        definition, cond = defs[d], CONDITIONS[c]
        condition = condition_of(definition, cond)
        key = (definition.id, condition)
        current, at = open_rows.get(key), _at(us)
        value = None if np.isnan(v) else v
        if current is not None:
            event = Event.alarm if raised else Event.clear
            service.transition(session, current, event, at, value=value)
            if current.closed_at is not None:
                del open_rows[key]
        elif raised:
            open_rows[key] = service.open_alarm(
                session,
                source=source_of(definition),
                condition=condition,
                kind=definition.kind,
                priority=definition.priority,
                message=_message(definition, cond, value),
                company_id=definition.company_id,
                lat=definition.lat,
                lon=definition.lon,
                at=at,
                value=value,
                definition_id=definition.id,
                latching=definition.latching,
                suppressed=bool(suppressed[d]),
                out_of_service=not definition.in_service,
                escalate_after_s=definition.escalate_after_s,
            )
    session.flush()
    return len(moves)


def _message(definition: AlarmDefinition, cond: str, value: float | None) -> str:
    limit = {
        "HH": definition.hh,
        "H": definition.h,
        "L": definition.l,
        "LL": definition.ll,
        "ROC": definition.roc_per_min,
    }[cond]
    shown = "?" if value is None else f"{value:.4g}"
    per = "/min" if cond == "ROC" else ""
    return f"{definition.name}: {LABELS[cond]} {shown}{per} (limit {limit:g}{per})"
