"""Private complex benchmarks: publish a statistic over companies only when it hides them.

A complex-wide figure (OEE, energy per good unit, data-quality score) by industry or zone
is released only when

1. at least ``k`` companies contribute (several rows of one company are one contributor);
2. no company makes up more than ``dominance_share`` of the total weight, where the weight
   is the company's part of the aggregate (planned busy hours for a time-weighted OEE,
   produced units for energy per unit, 1 for a plain mean);
3. with differential privacy switched on, the statistic's epsilon budget still covers it.

Each company may also learn its own percentile rank, under the same gate, and nothing
about any other single company. The module is pure (numpy only); the service persists
budgets and decides who may ask.

Differential privacy, precisely (see :func:`publish`): the unit protected is one company
(all its rows), under *bounded* DP -- neighbouring inputs have the same companies and
differ in one company's rows. The contributor count and the k / dominance decisions are
disclosure control, published exactly, and are not covered by epsilon unless the weights
are declared public (``Rules.weights_public``), in which case the gate depends only on
public data and the whole release is epsilon-DP with respect to the values.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from sandan.core.errors import FieldProblem, ValidationFailed

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ReasonCode = Literal["too_few", "dominance", "budget_exhausted"]

# Budgets are sums of floats (0.1 * 10 != 1.0 exactly); without a little slack the last
# legitimate charge of a budget would be refused.
_BUDGET_SLACK = 1e-9


@dataclass(frozen=True, kw_only=True)
class Rules:
    """When a statistic may be published, and how its values are bounded.

    ``lower``/``upper`` clamp every value (OEE in [0, 1]); DP noise is scaled to that range,
    so they are part of the statistic's definition, not a display hint. ``weights_public``
    says the weights (busy hours, produced units) are not secret: the mean's DP noise may
    then be scaled to the largest actual share instead of the worst share the dominance rule
    allows, which is what makes an unweighted mean of n companies cost (upper - lower) / n.
    """

    k: int = 5
    dominance_share: float = 0.6
    epsilon: float | None = None
    lower: float
    upper: float
    weights_public: bool = False

    def __post_init__(self) -> None:
        problems: list[FieldProblem] = []
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            problems.append(FieldProblem("k", "must be a whole number of at least 1"))
        if not 0.0 < self.dominance_share <= 1.0:
            problems.append(FieldProblem("dominance_share", "must be in (0, 1]"))
        if self.epsilon is not None and not (math.isfinite(self.epsilon) and self.epsilon > 0):
            problems.append(FieldProblem("epsilon", "must be a finite number above 0"))
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
            problems.append(FieldProblem("lower", "lower and upper must be finite"))
        elif self.lower >= self.upper:
            problems.append(FieldProblem("upper", "must be greater than lower"))
        if problems:
            raise ValidationFailed(problems)


@dataclass(frozen=True, eq=False)
class Contribution:
    """Rows of (company, value, weight); a company may have many rows (one per line).

    The arrays are copied and made read-only so that a published figure cannot be changed
    behind the caller's back.
    """

    company_ids: IntArray
    values: FloatArray
    weights: FloatArray

    def __post_init__(self) -> None:
        ids = np.array(self.company_ids)
        values = np.array(self.values, dtype=np.float64)
        weights = np.array(self.weights, dtype=np.float64)
        problems: list[FieldProblem] = []
        if ids.ndim != 1 or values.ndim != 1 or weights.ndim != 1:
            problems.append(FieldProblem("company_ids", "all three columns must be 1-D"))
        elif not (len(ids) == len(values) == len(weights)):
            problems.append(FieldProblem("values", "all three columns must have one length"))
        if len(ids) and not np.issubdtype(ids.dtype, np.integer):
            problems.append(FieldProblem("company_ids", "must be integers"))
        if not np.isfinite(values).all():
            problems.append(FieldProblem("values", "must be finite"))
        if not np.isfinite(weights).all() or (weights < 0).any():
            problems.append(FieldProblem("weights", "must be finite and not negative"))
        if problems:
            raise ValidationFailed(problems)
        for name, array in (
            ("company_ids", ids.astype(np.int64)),
            ("values", values),
            ("weights", weights),
        ):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        return len(self.company_ids)


@dataclass(frozen=True)
class Withheld:
    """The statistic is not published; the messages name no company and no company's value."""

    reason_code: ReasonCode
    message: str
    message_ko: str
    contributors: int


@dataclass(frozen=True)
class Published:
    """A released statistic over ``contributors`` companies.

    Quartiles are of the per-company values (each company counts once). Under DP only the
    mean is released and the quartiles are None (see :func:`publish`).
    """

    contributors: int
    mean: float
    median: float | None
    p25: float | None
    p75: float | None
    noisy: bool
    epsilon_spent: float


@dataclass
class Budget:
    """The epsilon a statistic may still spend; pure, the service persists ``spent``."""

    total: float
    spent: float = 0.0

    def __post_init__(self) -> None:
        problems: list[FieldProblem] = []
        if not (math.isfinite(self.total) and self.total >= 0):
            problems.append(FieldProblem("total", "must be a finite number of at least 0"))
        if not (math.isfinite(self.spent) and self.spent >= 0):
            problems.append(FieldProblem("spent", "must be a finite number of at least 0"))
        if problems:
            raise ValidationFailed(problems)

    @property
    def remaining(self) -> float:
        return max(self.total - self.spent, 0.0)

    def charge(self, epsilon: float) -> bool:
        """Spend ``epsilon`` if it fits and say so; when it does not, spend nothing."""
        if not (math.isfinite(epsilon) and epsilon > 0):
            raise ValidationFailed.one("epsilon", "must be a finite number above 0")
        if self.spent + epsilon > self.total + _BUDGET_SLACK * max(1.0, self.total):
            return False
        self.spent += epsilon
        return True


@dataclass(frozen=True)
class _Companies:
    """One row per contributing company: weight-averaged clamped value, summed weight."""

    ids: IntArray
    values: FloatArray
    weights: FloatArray

    @property
    def count(self) -> int:
        return len(self.ids)


def _per_company(contrib: Contribution, rules: Rules) -> _Companies:
    # Clamp rows, not companies: one bad row (OEE 1.4 from a wrong cycle time) should not
    # pull a company's value beyond what the DP sensitivity assumes.
    clamped = np.clip(contrib.values, rules.lower, rules.upper)
    ids, inverse = np.unique(contrib.company_ids, return_inverse=True)
    # bincount with weights returns floats; numpy's stubs say integers, hence the astype.
    weights = np.bincount(inverse, contrib.weights, len(ids)).astype(np.float64, copy=False)
    weighted = np.bincount(inverse, clamped * contrib.weights, len(ids)).astype(np.float64)
    # A company whose weight sums to 0 adds nothing to the aggregate; counting it towards k
    # would let four real companies hide behind an idle fifth.
    keep = weights > 0
    values = np.clip(weighted[keep] / weights[keep], rules.lower, rules.upper)
    return _Companies(ids=ids[keep].astype(np.int64), values=values, weights=weights[keep])


def _percent_text(share: float, limit: float) -> str:
    """The share as a percentage with just enough decimals to read as above the limit."""
    for decimals in range(4):
        text = f"{share * 100:.{decimals}f}"
        if float(text) > limit * 100:
            return text
    # A hair above the limit: "60.0000%" next to "at most 60%" would read as a bug.
    return f"more than {limit * 100:g}"


def _too_few(n: int, k: int) -> Withheld:
    verb = "company contributes" if n == 1 else "companies contribute"
    need = "is" if k == 1 else "are"
    return Withheld(
        "too_few",
        f"{n} {verb}; at least {k} {need} needed",
        f"참여 기업이 {n}곳입니다. 최소 {k}곳이 필요합니다.",
        n,
    )


def _dominance(n: int, share: float, limit: float) -> Withheld:
    shown = _percent_text(share, limit)
    allowed = f"{limit * 100:g}"
    return Withheld(
        "dominance",
        f"one company makes up {shown}% of the total; at most {allowed}% is allowed",
        f"한 기업이 전체의 {shown}%를 차지합니다. 최대 {allowed}%까지 허용됩니다.",
        n,
    )


def _budget_exhausted(n: int, budget: Budget) -> Withheld:
    return Withheld(
        "budget_exhausted",
        f"the privacy budget of this statistic (epsilon {budget.total:g}) is used up",
        f"이 통계의 프라이버시 예산(epsilon {budget.total:g})이 모두 사용되었습니다.",
        n,
    )


def _gate(firms: _Companies, rules: Rules) -> Withheld | None:
    """Withheld when too few companies contribute or one dominates; None when it may go."""
    if firms.count < rules.k:
        return _too_few(firms.count, rules.k)
    share = float(firms.weights.max() / firms.weights.sum())
    if share > rules.dominance_share:
        return _dominance(firms.count, share, rules.dominance_share)
    return None


def _mean_sensitivity(firms: _Companies, rules: Rules) -> float:
    spread = rules.upper - rules.lower
    if rules.weights_public:
        return spread * float(firms.weights.max() / firms.weights.sum())
    return spread * rules.dominance_share


def mean_sensitivity(contrib: Contribution, rules: Rules) -> float:
    """How far one company can move the published weighted mean (the DP sensitivity).

    The mean is ``sum(s_i * v_i)`` with shares ``s_i = w_i / W`` and clamped values ``v_i``.
    With public weights, changing company j's value moves it by ``s_j * (upper - lower)``,
    so the sensitivity is ``max(s) * (upper - lower)`` -- ``(upper - lower) / n`` for a plain
    mean of n companies. With secret weights, company j may change its weight as well;
    writing the mean as ``R + s_j * (v_j - R)`` (R the mean of the others, unchanged) and
    using ``s_j <= dominance_share`` on both sides (otherwise nothing is published) gives
    ``dominance_share * (upper - lower)``.
    """
    return _mean_sensitivity(_per_company(contrib, rules), rules)


def publish(
    contrib: Contribution,
    rules: Rules,
    *,
    rng: np.random.Generator | None = None,
    budget: Budget | None = None,
) -> Published | Withheld:
    """The statistic, or why it is withheld (too few companies, one dominant, no budget).

    Without ``rules.epsilon`` the figures are exact: the weighted mean of the clamped
    values, and the quartiles (numpy's default linear interpolation, Hyndman-Fan type 7)
    of the per-company values.

    With ``rules.epsilon`` the whole epsilon goes to the mean, which gets Laplace noise of
    scale ``mean_sensitivity / epsilon`` (see :func:`mean_sensitivity`) and is then clamped
    into [lower, upper]; clamping is post-processing and costs no privacy. The quartiles are
    not released: replacing one company can move an empirical quartile across the whole
    range (values 0, 0, 0, 1, 1: the median jumps from 0 to 1), so Laplace noise would need
    sensitivity ``upper - lower`` per quartile and would drown them; a useful DP quantile
    needs another mechanism (the exponential mechanism), not built here. The budget is
    charged ``epsilon`` before any noise is drawn, and only for a release: a statistic
    withheld for k or dominance has revealed no value. A DP statistic needs a budget
    (fail closed); ``rng`` defaults to a freshly seeded generator. numpy's floating-point
    Laplace sampler has the known low-bit leak (Mironov 2012); acceptable for benchmarks,
    not for adversarial settings.
    """
    if rules.epsilon is not None and budget is None:
        raise ValidationFailed.one("budget", "a differentially private statistic needs a budget")
    firms = _per_company(contrib, rules)
    withheld = _gate(firms, rules)
    if withheld is not None:
        return withheld
    mean = float(np.dot(firms.values, firms.weights) / firms.weights.sum())
    if rules.epsilon is None:
        p25, median, p75 = (float(q) for q in np.quantile(firms.values, [0.25, 0.5, 0.75]))
        return Published(firms.count, mean, median, p25, p75, noisy=False, epsilon_spent=0.0)
    assert budget is not None  # checked above, before any work
    if not budget.charge(rules.epsilon):
        return _budget_exhausted(firms.count, budget)
    generator = rng if rng is not None else np.random.default_rng()
    scale = _mean_sensitivity(firms, rules) / rules.epsilon
    noisy = float(np.clip(mean + generator.laplace(0.0, scale), rules.lower, rules.upper))
    return Published(firms.count, noisy, None, None, None, noisy=True, epsilon_spent=rules.epsilon)


def percentile_of(contrib: Contribution, company_id: int, rules: Rules) -> float | Withheld | None:
    """The caller's own percentile rank (0-100, mid-rank for ties) among the contributors.

    None when the company does not contribute (a weight of 0 is not contributing). When the
    statistic itself is withheld for k or dominance the same :class:`Withheld` is returned,
    so a company never learns its position in a group of two. The rank is
    ``100 * (below + equal / 2) / n`` over per-company clamped values (each company counts
    once, whatever its weight), as scipy's ``percentileofscore(kind="mean")``; the caller is
    one of the ``equal``. It is exact, not DP-noised, and needs no budget: it tells the
    caller only how many companies are below and level with it.
    """
    firms = _per_company(contrib, rules)
    mine = firms.values[firms.ids == company_id]
    if mine.size == 0:
        return None
    withheld = _gate(firms, rules)
    if withheld is not None:
        return withheld
    own = mine[0]
    below = int(np.count_nonzero(firms.values < own))
    equal = int(np.count_nonzero(firms.values == own))
    return 100.0 * (below + equal / 2) / firms.count


def group_by(contrib: Contribution, keys: npt.ArrayLike) -> dict[Hashable, Contribution]:
    """Split the rows by a key per row (industry, zone); each part is gated on its own.

    A company with lines in two zones contributes to both. Keys come back as Python
    scalars (``str``, ``int``) so they can be used as dict keys and in JSON.
    """
    labels = np.asarray(keys)
    if labels.shape != (len(contrib),):
        raise ValidationFailed.one("keys", "needs exactly one key per row")
    if labels.size == 0:
        return {}  # np.split would hand back one empty part with no key
    unique, inverse = np.unique(labels, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    rows = np.split(order, np.cumsum(np.bincount(inverse, minlength=len(unique)))[:-1])
    return {
        key: Contribution(contrib.company_ids[idx], contrib.values[idx], contrib.weights[idx])
        for key, idx in zip(unique.tolist(), rows, strict=True)
    }
