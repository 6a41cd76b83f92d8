"""The night-flow analysis on hand-made numbers: night means, runs, baselines, the per-factory
profiles against the textbook defaults."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sandan.safety.water import nightflow as nf


def test_night_means_take_the_02_to_04_hours_and_need_both() -> None:
    hour = np.tile(np.arange(24), 3)
    night = np.repeat(np.arange(3), 24)
    values = np.arange(72, dtype=float)[None, :]
    values[0, 24 + 3] = np.nan  # night 1 lacks its 03 h reading
    out = nf.night_means(values, hour, night, 3)
    assert out[0, 0] == 2.5  # mean of hours 2 and 3
    assert np.isnan(out[0, 1])
    assert out[0, 2] == 48 + 2.5


@given(st.lists(st.lists(st.booleans(), min_size=1, max_size=30), min_size=1, max_size=4))
def test_run_lengths_count_the_trues_ending_at_each_night(rows: list[list[bool]]) -> None:
    width = max(len(r) for r in rows)
    flags = np.array([r + [False] * (width - len(r)) for r in rows])
    out = nf.run_lengths(flags)
    for r in range(flags.shape[0]):
        count = 0
        for n in range(width):
            count = count + 1 if flags[r, n] else 0
            assert out[r, n] == count


def test_baseline_uses_only_previous_nights_and_needs_enough() -> None:
    values = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 100.0]])
    median, mad = nf.rolling_median_mad(values, window=4, min_nights=3)
    assert np.isnan(median[0, :3]).all()  # fewer than 3 nights before
    assert median[0, 3] == 2.0  # nights 0-2
    assert median[0, 6] == 4.5  # nights 2-5, not the 100 of the night itself
    assert mad[0, 6] == 1.0


def _complex(nights: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three DMAs of four 24-h factories whose night use swings ±20 % night to night."""
    rng = np.random.default_rng(seed)
    factory_dma = np.repeat(np.arange(3), 4)
    ami = 8.0 * rng.lognormal(0, 0.2, (12, nights))
    inlet = nf.membership(factory_dma, 3) @ ami + 0.3 + rng.normal(0, 0.05, (3, nights))
    return inlet, ami, factory_dma


def test_a_leak_is_suspected_in_its_dma_after_k_nights() -> None:
    inlet, ami, factory_dma = _complex(28)
    inlet[1, 20:] += 2.0  # a 2 m³/h leak from night 20 in DMA 1
    out = nf.analyse(inlet, ami, factory_dma)
    assert not out.suspect[:, :21].any()
    assert out.exceeds[1, 20] and not out.suspect[1, 20]  # one night is not yet a suspicion
    assert out.suspect[1, 21:].all()  # and the baseline does not swallow the leak
    assert not out.suspect[[0, 2]].any()


def test_a_missing_smart_meter_night_is_filled_from_its_profile() -> None:
    inlet, ami, factory_dma = _complex(28)
    ami[5, 25] = np.nan  # factory 5 (DMA 1) did not report night 25
    out = nf.analyse(inlet, ami, factory_dma)
    use, var, median = nf.factory_expectation(ami, nf.Params())
    assert use[5, 25] == median[5, 25] and var[5, 25] > 0
    assert np.isfinite(out.unexplained[1, 25])
    assert out.threshold[1, 25] > out.threshold[1, 24]  # less known, wider threshold
    assert not out.suspect.any()


def test_the_textbook_defaults_miss_what_factory_profiles_find() -> None:
    inlet, ami, factory_dma = _complex(28)
    inlet[1, 20:] += 2.0
    population = np.full(3, 400.0)
    properties = np.full(3, 4.0)
    ours = nf.analyse(inlet, ami, factory_dma)
    book = nf.textbook(inlet, population, properties)
    assert ours.suspect[1, 21:].all()
    assert not book.suspect[1].any()  # the plants' own night swings hide 2 m³/h
    # and read absolutely, the defaults call nearly all the plants' night use leakage
    excess = nf.absolute_textbook_excess(inlet, population, properties, np.ones(3))
    assert (excess > 20).all()
