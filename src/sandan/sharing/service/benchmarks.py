"""Private complex benchmarks: OEE, energy per good unit and data quality by industry and by
zone, published only when they hide every single company (see :mod:`sandan.sharing.privacy`).

Only the platform sees per-company values: it computes them here, as the system, and hands a
caller the group aggregates (or why a group is withheld) and, for the caller's own company,
its percentile -- never another company's id or value.

How it scales: OEE and energy come from one analytics report per company that has a machine
`state` tag (a few registry queries and one columnar aggregate over the rollups each), data
quality from one store query over every tag of the complex. That is fine for the tens to a
few hundred companies of a complex; beyond that the per-company reports would want one
report over all machines grouped by company.

Windows are whole UTC days (``first``..``last``), so that a differentially private statistic
is one of few keys: with DP on, every answer spends its statistic's persisted budget, and a
caller who shifted the window by a second would otherwise open a fresh budget each time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandan.analytics import service as analytics
from sandan.analytics.shifts import ShiftPlan
from sandan.core.clock import utcnow
from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource, Scope
from sandan.registry import service as registry
from sandan.registry.validators import ksic_division
from sandan.settings import Settings
from sandan.sharing.models import PrivacyBudget
from sandan.sharing.privacy import (
    Budget,
    Contribution,
    Published,
    Rules,
    Withheld,
    group_by,
    percentile_of,
    publish,
)
from sandan.telemetry import quality
from sandan.telemetry.store import TelemetryStore

Metric = Literal["oee", "kwh_per_good_unit", "data_quality"]
Grouping = Literal["industry", "zone"]
METRIC_CODES: tuple[Metric, ...] = get_args(Metric)
GROUPINGS: tuple[Grouping, ...] = get_args(Grouping)
MAX_DAYS = 93  # as long as the analytics report's longest window
DEFAULT_DAYS = 7
# Energy per good unit has no natural ceiling; DP noise and clamping need one. 50 kWh a unit
# is well above the complex's electronics and machinery lines: a tighter bound would mean
# less noise, a looser one more clamping of nothing.
KWH_PER_UNIT_CEILING = 50.0


@dataclass(frozen=True)
class MetricSpec:
    """How a metric is bounded and weighted (the weight is its part of the aggregate)."""

    lower: float
    upper: float
    # Busy hours and produced units are business figures (secret); a weight of 1 is not.
    weights_public: bool


METRICS: dict[Metric, MetricSpec] = {
    "oee": MetricSpec(0.0, 1.0, weights_public=False),  # weight: planned busy hours
    "kwh_per_good_unit": MetricSpec(0.0, KWH_PER_UNIT_CEILING, weights_public=False),  # good
    "data_quality": MetricSpec(0.0, 100.0, weights_public=True),  # weight 1: a plain mean
}


@dataclass(frozen=True)
class Policy:
    """The publication rules the platform applies to every benchmark (from the settings).

    ``epsilon`` is what one release spends (None: exact figures, no noise); ``epsilon_total``
    is the budget a statistic key gets when it is first released. A budget once opened
    keeps its total when the settings change later.
    """

    k: int = 5
    dominance_share: float = 0.6
    epsilon: float | None = None
    epsilon_total: float = 1.0

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(
            k=settings.benchmark_k,
            dominance_share=settings.benchmark_dominance_share,
            epsilon=settings.benchmark_epsilon,
            epsilon_total=settings.benchmark_epsilon_total,
        )

    def rules(self, metric: Metric) -> Rules:
        spec = METRICS[metric]
        return Rules(
            k=self.k,
            dominance_share=self.dominance_share,
            epsilon=self.epsilon,
            lower=spec.lower,
            upper=spec.upper,
            weights_public=spec.weights_public,
        )


@dataclass(frozen=True)
class Window:
    """Whole UTC days ``first``..``last`` (both included)."""

    first: date
    last: date

    @classmethod
    def of(cls, first: date | None, last: date | None, *, today: date | None = None) -> Window:
        """The days asked for, by default the last 7 whole days; today is the latest end."""
        today = today or utcnow().date()
        last = last or (today - timedelta(days=1) if first is None else today)
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise ValidationFailed.one("start", "must not be after end")
        if last > today:
            raise ValidationFailed.one("end", "must not be after today (UTC)")
        if (last - first).days >= MAX_DAYS:
            raise ValidationFailed.one("end", f"the window is at most {MAX_DAYS} days")
        return cls(first, last)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    @property
    def key(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


@dataclass(frozen=True)
class Reason:
    """Why a figure is withheld, in English and Korean; it names no company."""

    code: Literal["too_few", "dominance", "budget_exhausted"]
    message: str
    message_ko: str

    @classmethod
    def of(cls, withheld: Withheld) -> Reason:
        return cls(withheld.reason_code, withheld.message, withheld.message_ko)


@dataclass(frozen=True)
class Group:
    """One industry or zone: how many companies contribute, and the published figures (under
    DP only the noisy mean, the quartiles None) or the reason they are withheld."""

    metric: Metric
    by: Grouping
    key: str
    contributors: int
    figures: Published | None
    withheld: Reason | None


@dataclass(frozen=True)
class Place:
    """The company's percentile (0-100) in one of its groups; None while withheld or when it
    does not contribute (no data in the window)."""

    by: Grouping
    key: str
    contributing: bool
    contributors: int
    percentile: float | None
    withheld: Reason | None


@dataclass(frozen=True)
class Position:
    """Where a company stands in its own industry and zone for one metric."""

    company_id: int
    metric: Metric
    first: date
    last: date
    places: list[Place]


@dataclass(frozen=True)
class Board:
    """One metric by one grouping for a page: the groups and the viewer's own place."""

    metric: Metric
    by: Grouping
    groups: list[Group]
    place: Place | None


@dataclass(frozen=True)
class _Table:
    """Per-company values of one metric (platform-only), with each company's groups."""

    contrib: Contribution
    keys: dict[Grouping, list[str]]
    groups_of: dict[int, dict[Grouping, str]]


# --- per-company values (as the platform) ------------------------------------------------------

_PLATFORM = Principal.system("benchmarks")


def _groups_of(session: Session) -> dict[int, dict[Grouping, str]]:
    """Each active company's industry (KSIC division) and zone ("complex/zone", as zone codes
    repeat across complexes)."""
    ids = [c.id for c in session.scalars(registry.companies_readable(_PLATFORM))]
    profiles = registry.company_profiles(session, ids)
    return {
        p.id: {"industry": ksic_division(p.ksic), "zone": f"{p.complex_code}/{p.zone}"}
        for p in profiles.values()
        if p.active
    }


def _report_values(
    session: Session,
    store: TelemetryStore,
    plan: ShiftPlan,
    window: Window,
    companies: set[int],
) -> dict[Metric, dict[int, tuple[float, float]]]:
    """(value, weight) of OEE (busy hours) and kWh per good unit (good units) per company, one
    analytics report each for the companies that have a machine state tag."""
    with_state = sorted({c for _, c in registry.state_tags(session, _PLATFORM)} & companies)
    out: dict[Metric, dict[int, tuple[float, float]]] = {"oee": {}, "kwh_per_good_unit": {}}
    for company_id in with_state:
        total = analytics.oee_report(
            session,
            _PLATFORM,
            store,
            plan,
            company_id=company_id,
            start=window.start,
            end=window.end,
        )["total"]
        out["oee"][company_id] = (total["oee"], total["planned_busy_time"] / 3600.0)
        if total["kwh_per_good_unit"] is not None:
            out["kwh_per_good_unit"][company_id] = (total["kwh_per_good_unit"], total["good"])
    return out


def _quality_values(
    session: Session, store: TelemetryStore, window: Window, companies: set[int]
) -> dict[int, tuple[float, float]]:
    """(mean daily score of its tags, 1) per company, from one store query over every tag.

    A tag counts from the first day of the window it was heard from (a reading, kept or
    refused): the days before a plant was connected are not bad data, and a tag silent all
    window (not installed yet, or retired) says nothing. A tag that falls silent later in the
    window keeps scoring its silent days, which is what the score is for."""
    owner = {row[0]: row[2] for row in registry.ingest_tag_rows(session) if row[2] in companies}
    rows = quality.quality_daily(
        session, _PLATFORM, store, sorted(owner), window.first, window.last
    )
    heard: set[int] = set()
    scores: dict[int, list[float]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["tag_id"], r["day"])):
        if row["received"] + row["rejected"] > 0:
            heard.add(row["tag_id"])
        if row["tag_id"] in heard:
            scores[owner[row["tag_id"]]].append(float(row["score"]))
    return {c: (float(np.mean(s)), 1.0) for c, s in scores.items()}


def _tables(
    session: Session,
    store: TelemetryStore,
    plan: ShiftPlan,
    metrics: tuple[Metric, ...],
    window: Window,
) -> dict[Metric, _Table]:
    groups_of = _groups_of(session)
    companies = set(groups_of)
    values: dict[Metric, dict[int, tuple[float, float]]] = {}
    if {"oee", "kwh_per_good_unit"} & set(metrics):
        values.update(_report_values(session, store, plan, window, companies))
    if "data_quality" in metrics:
        values["data_quality"] = _quality_values(session, store, window, companies)
    tables = {}
    for metric in metrics:
        rows = sorted((c, v, w) for c, (v, w) in values[metric].items() if np.isfinite(v) and w > 0)
        ids = np.array([c for c, _, _ in rows], np.int64)
        contrib = Contribution(
            ids, np.array([v for _, v, _ in rows], float), np.array([w for *_, w in rows], float)
        )
        keys: dict[Grouping, list[str]] = {
            by: [groups_of[c][by] for c, _, _ in rows] for by in GROUPINGS
        }
        tables[metric] = _Table(contrib, keys, groups_of)
    return tables


# --- releasing figures -------------------------------------------------------------------------


def statistic_key(metric: Metric, by: Grouping, key: str, window: Window) -> str:
    """The name a group's privacy budget is kept under."""
    return f"benchmark:{metric}:{by}:{key}:{window.key}"


def _locked_budget(session: Session, statistic: str, total: float) -> PrivacyBudget:
    """The statistic's budget row, locked until the transaction ends (opened when new)."""
    stmt = (
        select(PrivacyBudget)
        .where(PrivacyBudget.statistic == statistic)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.scalar(stmt)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(PrivacyBudget(statistic=statistic, epsilon_total=total, epsilon_spent=0.0))
    except IntegrityError:
        pass  # another request opened it first; its row is what we lock below
    row = session.scalar(stmt)
    assert row is not None
    return row


def _release(
    session: Session,
    contrib: Contribution,
    rules: Rules,
    statistic: str,
    policy: Policy,
    rng: np.random.Generator | None,
) -> Published | Withheld:
    """The figures, charging the persisted budget when DP is on. The k and dominance gate is
    tried first without noise, so a withheld group opens and locks no budget row."""
    exact = publish(contrib, replace(rules, epsilon=None))
    if rules.epsilon is None or isinstance(exact, Withheld):
        return exact
    row = _locked_budget(session, statistic, policy.epsilon_total)
    budget = Budget(row.epsilon_total, row.epsilon_spent)
    result = publish(contrib, rules, rng=rng, budget=budget)
    row.epsilon_spent = budget.spent
    session.flush()
    return result


def _group(
    session: Session,
    metric: Metric,
    by: Grouping,
    key: str,
    part: Contribution,
    window: Window,
    policy: Policy,
    rng: np.random.Generator | None,
) -> Group:
    statistic = statistic_key(metric, by, key, window)
    result = _release(session, part, policy.rules(metric), statistic, policy, rng)
    if isinstance(result, Withheld):
        return Group(metric, by, key, result.contributors, None, Reason.of(result))
    return Group(metric, by, key, result.contributors, result, None)


def _groups(
    session: Session,
    table: _Table,
    metric: Metric,
    by: Grouping,
    window: Window,
    policy: Policy,
    rng: np.random.Generator | None,
) -> list[Group]:
    parts = group_by(table.contrib, table.keys[by])
    return [
        _group(session, metric, by, str(key), part, window, policy, rng)
        for key, part in sorted(parts.items(), key=lambda kv: str(kv[0]))
    ]


def _place(
    table: _Table, metric: Metric, by: Grouping, company_id: int, policy: Policy
) -> Place | None:
    mine = table.groups_of.get(company_id)
    if mine is None:
        return None  # an inactive company is in no group
    key = mine[by]
    rows = np.array([k == key for k in table.keys[by]], bool)
    part = Contribution(
        table.contrib.company_ids[rows], table.contrib.values[rows], table.contrib.weights[rows]
    )
    contributors = len(np.unique(part.company_ids))
    found = percentile_of(part, company_id, policy.rules(metric))
    if isinstance(found, Withheld):
        return Place(by, key, True, found.contributors, None, Reason.of(found))
    return Place(by, key, found is not None, contributors, found, None)


# --- what callers get --------------------------------------------------------------------------


def _require_read(principal: Principal) -> None:
    if not principal.has(Scope.registry_read):
        raise PermissionDenied("benchmarks need registry:read")


def benchmarks(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    plan: ShiftPlan,
    metric: Metric,
    by: Grouping,
    window: Window,
    policy: Policy,
    *,
    rng: np.random.Generator | None = None,
) -> list[Group]:
    """Every industry (or zone) with contributors: its published figures or why withheld."""
    _require_read(principal)
    table = _tables(session, store, plan, (metric,), window)[metric]
    return _groups(session, table, metric, by, window, policy, rng)


def _whose(session: Session, principal: Principal, company_id: int | None) -> int:
    """The company a position is asked for: the caller's own; people who read every company's
    assets anyway (operators, auditors) may name one, and must when they have none."""
    if company_id is None:
        if principal.company_id is None:
            raise ValidationFailed.one(
                "company_id", "you act for the complex, not a company: name the company"
            )
        return principal.company_id
    if company_id != principal.company_id and not principal.reads_all(Resource.assets):
        raise NotFound(f"company {company_id} not found")
    return registry.get_company(session, principal, company_id).id


def position(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    plan: ShiftPlan,
    metric: Metric,
    window: Window,
    policy: Policy,
    *,
    company_id: int | None = None,
) -> Position:
    """A company's percentile in its own industry and zone (no other company's value)."""
    _require_read(principal)
    whose = _whose(session, principal, company_id)
    table = _tables(session, store, plan, (metric,), window)[metric]
    places = [_place(table, metric, by, whose, policy) for by in GROUPINGS]
    return Position(whose, metric, window.first, window.last, [p for p in places if p is not None])


def dashboard(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    plan: ShiftPlan,
    window: Window,
    policy: Policy,
    *,
    rng: np.random.Generator | None = None,
) -> list[Board]:
    """Every metric by industry and by zone, with the viewer's own place when it has a
    company; the per-company values are computed once for all of them (the page's view)."""
    _require_read(principal)
    tables = _tables(session, store, plan, METRIC_CODES, window)
    own = principal.company_id
    return [
        Board(
            metric,
            by,
            _groups(session, tables[metric], metric, by, window, policy, rng),
            None if own is None else _place(tables[metric], metric, by, own, policy),
        )
        for metric in METRIC_CODES
        for by in GROUPINGS
    ]
