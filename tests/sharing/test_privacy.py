"""Private benchmarks: the k and dominance gate, exact figures, DP noise, budgets, percentiles."""

from __future__ import annotations

import math
import re
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandan.core.errors import ValidationFailed
from sandan.sharing.privacy import (
    Budget,
    Contribution,
    Published,
    Rules,
    Withheld,
    group_by,
    mean_sensitivity,
    percentile_of,
    publish,
)

OEE = Rules(lower=0.0, upper=1.0)


def rows(ids: list[int], values: list[float], weights: list[float] | None = None) -> Contribution:
    """A contribution from plain lists; weights default to 1 per row."""
    w = [1.0] * len(ids) if weights is None else weights
    return Contribution(np.array(ids, dtype=np.int64), np.array(values), np.array(w))


def published(result: Published | Withheld) -> Published:
    assert isinstance(result, Published), result
    return result


def withheld(result: Published | Withheld | float | None) -> Withheld:
    assert isinstance(result, Withheld), result
    return result


# --- the acceptance cases ---------------------------------------------------------------


def test_four_contributors_are_withheld_as_too_few() -> None:
    result = withheld(publish(rows([11, 12, 13, 14], [0.5, 0.6, 0.7, 0.8]), OEE))
    assert result.reason_code == "too_few"
    assert result.message == "4 companies contribute; at least 5 are needed"
    assert result.message_ko == "참여 기업이 4곳입니다. 최소 5곳이 필요합니다."
    assert result.contributors == 4


def test_five_contributors_where_one_dominates_are_withheld() -> None:
    # Weights 72 + 4 * 7 = 100, so the largest company holds 72 / 100 = 72% > 60%.
    contrib = rows([11, 12, 13, 14, 15], [0.5, 0.6, 0.7, 0.8, 0.9], [72, 7, 7, 7, 7])
    result = withheld(publish(contrib, OEE))
    assert result.reason_code == "dominance"
    assert result.message == "one company makes up 72% of the total; at most 60% is allowed"
    assert result.message_ko == "한 기업이 전체의 72%를 차지합니다. 최대 60%까지 허용됩니다."
    assert result.contributors == 5


def test_five_balanced_contributors_are_published_with_exact_figures() -> None:
    """Company 15 has two lines (0.85 and 0.95, 10 h each) -> value 0.90, weight 20.
    Per-company values 0.50, 0.60, 0.70, 0.80, 0.90 with busy hours 10, 20, 30, 20, 20.
    Weighted mean = (0.5*10 + 0.6*20 + 0.7*30 + 0.8*20 + 0.9*20) / 100
                  = (5 + 12 + 21 + 16 + 18) / 100 = 0.72.
    Quartiles of the five values (linear, positions (n-1)*q = 1, 2, 3): 0.60, 0.70, 0.80.
    Largest share 30 / 100 = 30% <= 60%."""
    contrib = rows(
        [11, 12, 13, 14, 15, 15],
        [0.50, 0.60, 0.70, 0.80, 0.85, 0.95],
        [10, 20, 30, 20, 10, 10],
    )
    result = published(publish(contrib, OEE))
    assert result.contributors == 5
    assert result.mean == pytest.approx(0.72)
    assert result.p25 == pytest.approx(0.60)
    assert result.median == pytest.approx(0.70)
    assert result.p75 == pytest.approx(0.80)
    assert result.noisy is False
    assert result.epsilon_spent == 0.0


def test_quartiles_interpolate_between_companies() -> None:
    """Six unweighted companies 0.40, 0.55, 0.60, 0.70, 0.85, 0.90 (given out of order).
    Mean = 4.00 / 6 = 0.666...; positions (n-1)*q = 1.25, 2.5, 3.75:
    p25 = 0.55 + 0.25*(0.60-0.55) = 0.5625; median = (0.60+0.70)/2 = 0.65;
    p75 = 0.70 + 0.75*(0.85-0.70) = 0.8125."""
    contrib = rows([6, 2, 5, 1, 4, 3], [0.90, 0.55, 0.85, 0.40, 0.70, 0.60])
    result = published(publish(contrib, OEE))
    assert result.mean == pytest.approx(4.0 / 6)
    assert result.p25 == pytest.approx(0.5625)
    assert result.median == pytest.approx(0.65)
    assert result.p75 == pytest.approx(0.8125)


# --- companies, not rows, are contributors ----------------------------------------------


def test_ten_rows_of_four_companies_are_four_contributors() -> None:
    contrib = rows(
        [21, 21, 21, 21, 22, 22, 22, 23, 23, 24],
        [0.5, 0.6, 0.7, 0.8, 0.5, 0.6, 0.7, 0.5, 0.6, 0.5],
    )
    assert len(contrib) == 10
    result = withheld(publish(contrib, OEE))
    assert result.reason_code == "too_few"
    assert result.contributors == 4
    assert result.message == "4 companies contribute; at least 5 are needed"


def test_a_company_value_is_its_weight_averaged_rows() -> None:
    """Company 31 runs (0.5, 1 h) and (0.8, 2 h): value (0.5 + 1.6) / 3 = 0.7, weight 3.
    With four others at 0.7 (weight 3 each) every company is 0.7: all figures are 0.7."""
    contrib = rows([31, 31, 32, 33, 34, 35], [0.5, 0.8, 0.7, 0.7, 0.7, 0.7], [1, 2, 3, 3, 3, 3])
    result = published(publish(contrib, OEE))
    assert result.contributors == 5
    for figure in (result.mean, result.p25, result.median, result.p75):
        assert figure == pytest.approx(0.7)


def test_a_company_with_no_weight_does_not_count() -> None:
    contrib = rows([41, 42, 43, 44, 45], [0.5, 0.6, 0.7, 0.8, 0.9], [5, 5, 5, 5, 0])
    result = withheld(publish(contrib, OEE))
    assert (result.reason_code, result.contributors) == ("too_few", 4)
    assert percentile_of(contrib, 45, OEE) is None


def test_values_are_clamped_into_the_bounds() -> None:
    # A wrong cycle time gives OEE 1.4 and a meter glitch -0.2: they count as 1.0 and 0.0.
    contrib = rows([51, 52, 53, 54, 55], [1.4, -0.2, 0.5, 0.5, 0.5])
    result = published(publish(contrib, OEE))
    assert result.mean == pytest.approx((1.0 + 0.0 + 1.5) / 5)
    assert result.p75 == pytest.approx(0.5)


@st.composite
def contributions(draw: st.DrawFn, max_companies: int = 12) -> Contribution:
    """1-3 rows per company, company ids of at least 4 digits, OEE values, busy hours."""
    n = draw(st.integers(0, max_companies))
    ids = draw(st.lists(st.integers(1000, 10**9), min_size=n, max_size=n, unique=True))
    per = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    company_ids = np.repeat(np.array(ids, dtype=np.int64), np.array(per, dtype=np.int64))
    m = len(company_ids)
    values = draw(st.lists(st.floats(0, 1), min_size=m, max_size=m))
    weights = draw(st.lists(st.floats(0.1, 100), min_size=m, max_size=m))
    return Contribution(company_ids, np.array(values, dtype=np.float64), np.array(weights))


def by_hand(contrib: Contribution) -> tuple[dict[int, float], dict[int, float]]:
    """Per-company value and weight with a plain Python loop, to check the numpy path."""
    total: defaultdict[int, float] = defaultdict(float)
    weighted: defaultdict[int, float] = defaultdict(float)
    for cid, v, w in zip(
        contrib.company_ids.tolist(),
        contrib.values.tolist(),
        contrib.weights.tolist(),
        strict=True,
    ):
        total[cid] += w
        weighted[cid] += v * w
    return {c: weighted[c] / total[c] for c in total}, dict(total)


@settings(deadline=None)
@given(contributions())
def test_the_published_mean_is_the_row_level_weighted_mean(contrib: Contribution) -> None:
    result = publish(contrib, Rules(lower=0.0, upper=1.0, dominance_share=1.0))
    values, weights = by_hand(contrib)
    if len(values) < 5:
        assert withheld(result).contributors == len(values)
        return
    figures = published(result)
    rollup = float(np.dot(contrib.values, contrib.weights) / contrib.weights.sum())
    assert figures.mean == pytest.approx(rollup, abs=1e-9)
    assert figures.median == pytest.approx(float(np.median(list(values.values()))), abs=1e-9)
    assert figures.contributors == len(weights)


# --- the messages tell nothing about a single company -----------------------------------


@settings(deadline=None)
@given(contributions())
def test_messages_never_name_a_company_or_its_value(contrib: Contribution) -> None:
    result = publish(contrib, OEE)
    if isinstance(result, Published):
        return
    values, weights = by_hand(contrib)
    for text in (result.message, result.message_ko):
        for cid in weights:
            assert str(cid) not in text
        numbers = re.findall(r"\d+(?:\.\d+)?", text)
        # Every number in the message is a public one: the counts, or the largest share and
        # the limit; so no company's value (or id) can be among them.
        if result.reason_code == "too_few":
            assert numbers == [str(len(values)), "5"]
        else:
            assert result.reason_code == "dominance"
            share = 100 * max(weights.values()) / sum(weights.values())
            assert len(numbers) == 2
            assert numbers[1] == "60"
            assert float(numbers[0]) == pytest.approx(share, abs=0.5)
            assert float(numbers[0]) > 60


def test_a_share_just_above_the_limit_shows_enough_decimals() -> None:
    # 60.04 / (60.04 + 4 * 9.99) = 0.60040 -> "60.04%", never the confusing "60%".
    contrib = rows([61, 62, 63, 64, 65], [0.5] * 5, [60.04, 9.99, 9.99, 9.99, 9.99])
    result = withheld(publish(contrib, OEE))
    assert "60.04% of the total" in result.message


def test_a_share_a_hair_above_the_limit_reads_more_than() -> None:
    contrib = rows([61, 62, 63, 64, 65], [0.5] * 5, [0.6 + 1e-9, 0.1, 0.1, 0.1, 0.1 - 1e-9])
    result = withheld(publish(contrib, OEE))
    assert (
        result.message == "one company makes up more than 60% of the total; at most 60% is allowed"
    )


# --- differential privacy ---------------------------------------------------------------


HIGH_OEE = rows([71, 72, 73, 74, 75], [0.95, 0.97, 0.98, 0.99, 1.0])


def test_noise_changes_the_figure_but_keeps_it_within_the_bounds() -> None:
    rules = Rules(lower=0.0, upper=1.0, epsilon=0.5)
    exact = published(publish(HIGH_OEE, OEE)).mean
    first = published(publish(HIGH_OEE, rules, rng=np.random.default_rng(7), budget=Budget(1)))
    assert first.noisy is True
    assert first.mean != exact
    assert (first.median, first.p25, first.p75) == (None, None, None)
    assert first.epsilon_spent == 0.5
    means = [
        published(publish(HIGH_OEE, rules, rng=np.random.default_rng(seed), budget=Budget(1))).mean
        for seed in range(200)
    ]
    assert all(0.0 <= m <= 1.0 for m in means)
    # Near the top of the range much of the noise pushes past 1.0 and is clamped there.
    assert 1.0 in means


def test_the_sensitivity_of_the_mean() -> None:
    ten = rows(list(range(100, 110)), [0.5] * 10)  # ten unweighted companies
    public = Rules(lower=0.0, upper=1.0, weights_public=True)
    # A plain mean of n clamped values: (upper - lower) / n.
    assert mean_sensitivity(ten, public) == pytest.approx(1.0 / 10)
    # Secret weights: one company may hold up to the dominance share of the total.
    assert mean_sensitivity(ten, OEE) == pytest.approx(0.6)
    # Public weights 1, 1, 1, 1, 4: the largest share is 4 / 8.
    skewed = rows([1, 2, 3, 4, 5], [0.5] * 5, [1, 1, 1, 1, 4])
    energy = Rules(lower=0.0, upper=20.0, dominance_share=0.6, weights_public=True)
    assert mean_sensitivity(skewed, energy) == pytest.approx(20.0 * 4 / 8)


@pytest.mark.parametrize(
    ("weights_public", "epsilon", "scale"),
    [
        (True, 1.0, 1000.0 / 50 / 1.0),  # (upper - lower) / n / epsilon
        (False, 50.0, 1000.0 * 0.6 / 50.0),  # (upper - lower) * dominance_share / epsilon
    ],
)
def test_noise_is_laplace_with_the_documented_scale(
    weights_public: bool, epsilon: float, scale: float
) -> None:
    draws = 4000
    contrib = rows(list(range(1, 51)), np.linspace(400.0, 600.0, 50).tolist())
    rules = Rules(lower=0.0, upper=1000.0, epsilon=epsilon, weights_public=weights_public)
    exact = published(publish(contrib, Rules(lower=0.0, upper=1000.0))).mean
    budget = Budget(total=draws * epsilon)
    rng = np.random.default_rng(20240611)
    noise = (
        np.array(
            [published(publish(contrib, rules, rng=rng, budget=budget)).mean for _ in range(draws)]
        )
        - exact
    )
    # Laplace(0, b): mean 0, standard deviation b * sqrt(2), E|X| = b, P(|X| > b) = 1/e.
    standard_error = scale * math.sqrt(2) / math.sqrt(draws)
    assert abs(noise.mean()) < 5 * standard_error
    assert noise.std() == pytest.approx(scale * math.sqrt(2), rel=0.1)
    assert np.abs(noise).mean() == pytest.approx(scale, rel=0.1)
    assert np.mean(np.abs(noise) > scale) == pytest.approx(math.exp(-1), abs=0.04)
    assert budget.spent == pytest.approx(draws * epsilon)


def test_the_budget_refuses_once_exhausted() -> None:
    rules = Rules(lower=0.0, upper=1.0, epsilon=0.4)
    budget = Budget(total=1.0)
    rng = np.random.default_rng(3)
    for _ in range(2):
        published(publish(HIGH_OEE, rules, rng=rng, budget=budget))
    assert budget.spent == pytest.approx(0.8)
    result = withheld(publish(HIGH_OEE, rules, rng=rng, budget=budget))
    assert result.reason_code == "budget_exhausted"
    assert result.contributors == 5
    assert "budget" in result.message
    assert "예산" in result.message_ko
    assert budget.spent == pytest.approx(0.8)  # a refusal spends nothing
    assert budget.remaining == pytest.approx(0.2)


def test_a_budget_can_be_spent_to_the_last_tenth() -> None:
    budget = Budget(total=1.0)
    assert all(budget.charge(0.1) for _ in range(10))  # 0.1 * 10 is not exactly 1.0
    assert budget.charge(0.1) is False
    assert budget.remaining == pytest.approx(0.0)


def test_a_withheld_statistic_costs_no_budget() -> None:
    rules = Rules(lower=0.0, upper=1.0, epsilon=0.5)
    budget = Budget(total=1.0)
    few = rows([1, 2, 3], [0.5, 0.6, 0.7])
    assert withheld(publish(few, rules, budget=budget)).reason_code == "too_few"
    assert budget.spent == 0.0


def test_a_private_statistic_needs_a_budget() -> None:
    with pytest.raises(ValidationFailed) as caught:
        publish(HIGH_OEE, Rules(lower=0.0, upper=1.0, epsilon=1.0))
    assert caught.value.problems[0].field == "budget"


def test_a_budget_charge_must_be_positive() -> None:
    with pytest.raises(ValidationFailed):
        Budget(total=1.0).charge(0.0)
    with pytest.raises(ValidationFailed):
        Budget(total=-1.0)


# --- percentiles ------------------------------------------------------------------------


SIX = rows([1001, 1002, 1003, 1004, 1005, 1006], [0.5, 0.6, 0.6, 0.7, 0.8, 0.9])


@pytest.mark.parametrize(
    ("company", "expected"),
    [
        (1001, 100 * (0 + 1 / 2) / 6),  # lowest: nobody below, itself level
        (1002, 100 * (1 + 2 / 2) / 6),  # tied with 1003: one below, two level -> mid-rank
        (1003, 100 * (1 + 2 / 2) / 6),
        (1004, 100 * (3 + 1 / 2) / 6),
        (1006, 100 * (5 + 1 / 2) / 6),  # highest
    ],
)
def test_percentile_by_hand_with_ties(company: int, expected: float) -> None:
    assert percentile_of(SIX, company, OEE) == pytest.approx(expected)


def test_the_tie_at_a_bound_after_clamping() -> None:
    # 1.2 and 1.0 both count as 1.0 and share the top mid-rank: (3 + 2/2) / 5.
    contrib = rows([1, 2, 3, 4, 5], [0.2, 0.4, 0.6, 1.0, 1.2])
    assert percentile_of(contrib, 5, OEE) == pytest.approx(80.0)
    assert percentile_of(contrib, 4, OEE) == pytest.approx(80.0)


def test_a_non_contributor_gets_no_percentile() -> None:
    assert percentile_of(SIX, 9999, OEE) is None


def test_no_position_from_a_group_of_two() -> None:
    pair = rows([1, 2], [0.3, 0.9])
    assert withheld(percentile_of(pair, 1, OEE)).reason_code == "too_few"


def test_no_position_when_one_company_dominates() -> None:
    contrib = rows([1, 2, 3, 4, 5], [0.3, 0.4, 0.5, 0.6, 0.9], [1, 1, 1, 1, 20])
    result = withheld(percentile_of(contrib, 1, OEE))
    assert result.reason_code == "dominance"


@settings(deadline=None)
@given(
    others=st.lists(st.floats(-0.5, 1.5), min_size=5, max_size=15),
    a=st.floats(-0.5, 1.5),
    b=st.floats(-0.5, 1.5),
)
def test_percentile_is_monotone_in_the_own_value(others: list[float], a: float, b: float) -> None:
    low, high = sorted((a, b))
    ids = list(range(1, len(others) + 2))

    def rank(own: float) -> float:
        result = percentile_of(rows(ids, [*others, own]), ids[-1], OEE)
        assert isinstance(result, float)
        return result

    assert 0.0 < rank(low) <= rank(high) < 100.0


@settings(deadline=None)
@given(st.lists(st.floats(0, 1), min_size=5, max_size=20))
def test_mid_ranks_average_to_fifty(values: list[float]) -> None:
    contrib = rows(list(range(1, len(values) + 1)), values)
    ranks = [percentile_of(contrib, cid, OEE) for cid in range(1, len(values) + 1)]
    assert all(isinstance(r, float) for r in ranks)
    assert sum(r for r in ranks if isinstance(r, float)) / len(ranks) == pytest.approx(50.0)


# --- group_by ---------------------------------------------------------------------------


def test_group_by_splits_rows_by_zone() -> None:
    # Company 7 has a line in each zone and so contributes to both.
    contrib = rows([1, 2, 7, 3, 7, 4], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [1, 2, 3, 4, 5, 6])
    zones = np.array(["north", "south", "north", "south", "south", "north"])
    groups = group_by(contrib, zones)
    assert set(groups) == {"north", "south"}
    assert all(type(key) is str for key in groups)
    north, south = groups["north"], groups["south"]
    assert north.company_ids.tolist() == [1, 7, 4]
    assert north.values.tolist() == [0.1, 0.3, 0.6]
    assert north.weights.tolist() == [1.0, 3.0, 6.0]
    assert south.company_ids.tolist() == [2, 3, 7]
    assert south.values.tolist() == [0.2, 0.4, 0.5]


@settings(deadline=None)
@given(contributions(), st.data())
def test_group_by_keeps_every_row_once(contrib: Contribution, data: st.DataObject) -> None:
    keys = np.array(
        data.draw(st.lists(st.integers(1, 4), min_size=len(contrib), max_size=len(contrib))),
        dtype=np.int64,
    )
    groups = group_by(contrib, keys)
    assert set(groups) == set(keys.tolist())
    assert sum(len(g) for g in groups.values()) == len(contrib)
    for key, part in groups.items():
        mask = keys == key
        assert part.company_ids.tolist() == contrib.company_ids[mask].tolist()
        assert part.values.tolist() == contrib.values[mask].tolist()


def test_group_by_needs_one_key_per_row() -> None:
    with pytest.raises(ValidationFailed):
        group_by(SIX, np.array(["a", "b"]))


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"k": 0}, "k"),
        ({"dominance_share": 0.0}, "dominance_share"),
        ({"dominance_share": 1.5}, "dominance_share"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": math.inf}, "epsilon"),
        ({"lower": 1.0, "upper": 1.0}, "upper"),
        ({"lower": -math.inf}, "lower"),
    ],
)
def test_rules_reject_nonsense(kwargs: dict[str, float], field: str) -> None:
    settings_ = {"lower": 0.0, "upper": 1.0, **kwargs}
    with pytest.raises(ValidationFailed) as caught:
        Rules(**settings_)
    assert [p.field for p in caught.value.problems] == [field]


@pytest.mark.parametrize(
    ("ids", "values", "weights", "field"),
    [
        ([1, 2], [0.5], [1.0, 1.0], "values"),
        ([1.5, 2.5], [0.5, 0.5], [1.0, 1.0], "company_ids"),
        ([1, 2], [0.5, math.nan], [1.0, 1.0], "values"),
        ([1, 2], [0.5, 0.5], [1.0, -1.0], "weights"),
        ([1, 2], [0.5, 0.5], [1.0, math.inf], "weights"),
    ],
)
def test_contribution_rejects_bad_columns(
    ids: list[float], values: list[float], weights: list[float], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Contribution(np.array(ids), np.array(values), np.array(weights))
    assert field in [p.field for p in caught.value.problems]


def test_contribution_columns_cannot_be_changed_afterwards() -> None:
    values = np.array([0.5, 0.6])
    contrib = Contribution(np.array([1, 2]), values, np.ones(2))
    values[0] = 0.9  # the caller's array is copied
    assert contrib.values[0] == 0.5
    with pytest.raises(ValueError):
        contrib.values[0] = 0.9
