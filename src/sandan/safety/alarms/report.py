"""The alarm KPI report of a time window, from the journal, scoped to what the caller sees."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc, utcnow
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.safety.alarms import kpi
from sandan.safety.alarms.models import Alarm, AlarmJournal
from sandan.safety.alarms.schemas import BadActorOut, FloodOut, KpiOut
from sandan.safety.alarms.service import scoped
from sandan.safety.alarms.states import Event, State

MAX_WINDOW = timedelta(days=92)


def _s(at: datetime) -> float:
    return as_utc(at).timestamp()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def kpi_report(
    session: Session,
    principal: Principal,
    start: datetime | None = None,
    end: datetime | None = None,
    operators: int = 1,
) -> KpiOut:
    """Rate per operator, floods, chattering, stale alarms, bad actors and priorities over
    [start, end) (default: the last 24 hours)."""
    end = as_utc(end) if end else utcnow()
    start = as_utc(start) if start else end - timedelta(days=1)
    if start >= end:
        raise ValidationFailed.one("start", "must be before end")
    if end - start > MAX_WINDOW:
        raise ValidationFailed.one("start", "the window is at most 92 days")
    if not 1 <= operators <= 1000:
        raise ValidationFailed.one("operators", "between 1 and 1000")
    announced = session.execute(
        scoped(
            select(AlarmJournal.at, Alarm.source, Alarm.priority)
            .join(Alarm, Alarm.id == AlarmJournal.alarm_id)
            .where(
                AlarmJournal.at >= start,
                AlarmJournal.at < end,
                AlarmJournal.to_state == State.unacknowledged.value,
                AlarmJournal.from_state != State.unacknowledged.value,
            ),
            principal,
        ).order_by(AlarmJournal.at)
    ).all()
    raised = np.array([_s(a) for a, _, _ in announced], np.float64)
    sources = [s for _, s, _ in announced]
    moves = session.execute(
        scoped(
            select(AlarmJournal.alarm_id, AlarmJournal.at, Alarm.source, Alarm.condition)
            .join(Alarm, Alarm.id == AlarmJournal.alarm_id)
            .where(
                AlarmJournal.at >= start,
                AlarmJournal.at < end,
                AlarmJournal.event.in_([Event.alarm.value, Event.clear.value]),
            ),
            principal,
        )
    ).all()
    names = {m[0]: (m[2], m[3]) for m in moves}
    chatter_ids = kpi.chattering(
        np.array([m[0] for m in moves], np.int64), np.array([_s(m[1]) for m in moves])
    )
    counts = np.bincount(np.array([m[0] for m in moves], np.int64)) if moves else np.zeros(0)
    total_moves = max(len(moves), 1)
    now = min(end, utcnow())
    open_rows = session.execute(
        scoped(
            select(Alarm.id, Alarm.first_raised_at).where(
                Alarm.closed_at.is_(None),
                Alarm.first_raised_at < now - timedelta(seconds=kpi.STALE_S),
            ),
            principal,
        ).order_by(Alarm.id)
    ).all()
    rate = kpi.rate(raised, _s(start), _s(end), operators)
    periods = kpi.floods(raised)
    actors, top_share = kpi.bad_actors(sources)
    return KpiOut(
        start=start,
        end=end,
        operators=operators,
        alarms=len(raised),
        per_operator_per_10min_avg=rate.average,
        per_operator_per_10min_peak=rate.peak,
        share_of_10min_over_target=rate.share_over_target,
        target_per_operator_per_10min=kpi.TARGET_PER_OPERATOR,
        floods=[FloodOut(start=_at(p.start), end=_at(p.end), alarms=p.alarms) for p in periods],
        time_in_flood_share=kpi.time_in_flood(periods, _s(start), _s(end)),
        chattering=[
            BadActorOut(
                source=names[i][0],
                condition=names[i][1],
                alarms=int(counts[i]),
                share=float(counts[i] / total_moves),
            )
            for i in chatter_ids.tolist()
        ],
        stale=[row[0] for row in open_rows],
        bad_actors=[
            BadActorOut(source=a.key, condition="", alarms=a.alarms, share=a.share) for a in actors
        ],
        top10_share=top_share,
        priority_distribution=kpi.priority_distribution([p for _, _, p in announced]),
    )


def kpi_csv(report: KpiOut) -> str:
    """The report as CSV rows: section, key, value (one file for a spreadsheet)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "key", "value"])
    w.writerow(["window", "start", report.start.isoformat()])
    w.writerow(["window", "end", report.end.isoformat()])
    w.writerow(["window", "operators", report.operators])
    w.writerow(["rate", "alarms", report.alarms])
    w.writerow(["rate", "per_operator_per_10min_avg", f"{report.per_operator_per_10min_avg:.3f}"])
    w.writerow(["rate", "per_operator_per_10min_peak", f"{report.per_operator_per_10min_peak:.3f}"])
    w.writerow(["rate", "share_of_10min_over_target", f"{report.share_of_10min_over_target:.3f}"])
    w.writerow(["flood", "time_in_flood_share", f"{report.time_in_flood_share:.3f}"])
    for f in report.floods:
        w.writerow(["flood", f"{f.start.isoformat()}/{f.end.isoformat()}", f.alarms])
    for c in report.chattering:
        w.writerow(["chattering", f"{c.source} {c.condition}", c.alarms])
    for alarm_id in report.stale:
        w.writerow(["stale", "alarm_id", alarm_id])
    for a in report.bad_actors:
        w.writerow(["bad_actor", a.source, f"{a.alarms} ({a.share:.1%})"])
    w.writerow(["bad_actor", "top10_share", f"{report.top10_share:.3f}"])
    for name, share in report.priority_distribution.items():
        w.writerow(["priority", name, f"{share:.3f}"])
    return out.getvalue()
