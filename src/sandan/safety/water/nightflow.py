"""Minimum night flow (MNF) analysis per DMA, vectorised over DMAs × nights. Pure numpy.

Leakage ≈ MNF(02-04 h) − legitimate night use. The textbook fills in the legitimate use from
population defaults (6 % of people active at night, a cistern flush each, plus a
non-household allowance), which fits homes, not Gumi's 24-h plants. Here each factory's
night use comes from its own smart meter: the measured night if it has arrived, otherwise its
night profile (median of its own 02-04 h use over the previous nights, with the MAD as its
spread). The DMA's unexplained flow (MNF − Σ factories) is then compared with its own robust
baseline (median and MAD of the previous `window` nights); a leak is suspected when it stays
above baseline + threshold for `consecutive` nights.

A second pass masks the nights the first pass found exceeding, so a persisting leak does not
become its own baseline after half a window.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

NIGHT_HOURS = (2, 3)  # local hours whose hourly means make up the 02-04 h window
MAD_SCALE = 1.4826  # MAD → standard deviation of a normal distribution


@dataclass(frozen=True)
class Params:
    window: int = 14  # nights of history for baselines and profiles
    min_nights: int = 5  # fewer valid nights than this: no baseline yet
    consecutive: int = 2  # k nights in a row above the threshold
    z: float = 4.0  # robust z of the threshold
    floor_m3h: float = 0.5  # never alarm on less than this excess
    rel_floor: float = 0.005  # ... nor on less than this share of the night inflow


@dataclass(frozen=True)
class NightFlow:
    """Per DMA × night, m³/h."""

    mnf: np.ndarray
    legitimate: np.ndarray
    unexplained: np.ndarray
    baseline: np.ndarray
    threshold: np.ndarray
    exceeds: np.ndarray  # bool
    suspect: np.ndarray  # bool: exceeded on `consecutive` nights in a row
    run: np.ndarray  # int: length of the run of exceedances ending at this night


def night_means(hourly: np.ndarray, hour: np.ndarray, night: np.ndarray, nights: int) -> np.ndarray:
    """Mean of the 02-04 h hourly values per row and night (rows × nights); NaN when a
    night lacks any of its hours. `night[h]` numbers each hour's night, 0..nights-1."""
    pick = np.isin(hour, NIGHT_HOURS) & (night >= 0) & (night < nights)
    total = np.zeros((hourly.shape[0], nights))
    count = np.zeros((hourly.shape[0], nights))
    values = hourly[:, pick]
    cols = night[pick]
    ok = np.isfinite(values)
    np.add.at(total.T, cols, np.where(ok, values, 0.0).T)
    np.add.at(count.T, cols, ok.T.astype(float))
    with np.errstate(invalid="ignore"):
        out = total / count
    out[count < len(NIGHT_HOURS)] = np.nan
    return out


def _trailing(values: np.ndarray, window: int) -> np.ndarray:
    """For each night, the previous `window` nights (rows × nights × window), NaN-padded."""
    padded = np.concatenate([np.full((values.shape[0], window), np.nan), values], axis=1)
    return sliding_window_view(padded, window, axis=1)[:, :-1]


def rolling_median_mad(
    values: np.ndarray, window: int, min_nights: int
) -> tuple[np.ndarray, np.ndarray]:
    """Median and MAD of the previous `window` nights (the night itself excluded)."""
    view = _trailing(values, window)
    enough = np.isfinite(view).sum(axis=-1) >= min_nights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        median = np.nanmedian(view, axis=-1)
        mad = np.nanmedian(np.abs(view - median[..., None]), axis=-1)
    median[~enough] = np.nan
    mad[~enough] = np.nan
    return median, mad


def run_lengths(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True ending at each column (rows × nights)."""
    n = flags.shape[1]
    idx = np.arange(1, n + 1)
    last_false = np.maximum.accumulate(np.where(flags, 0, idx), axis=1)
    out: np.ndarray = np.where(flags, idx - last_false, 0)
    return out


def membership(factory_dma: np.ndarray, dmas: int) -> np.ndarray:
    """DMAs × factories 0/1 matrix."""
    m = np.zeros((dmas, factory_dma.size))
    m[factory_dma, np.arange(factory_dma.size)] = 1.0
    return m


def factory_expectation(
    ami_nights: np.ndarray,
    params: Params,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each factory's night use (factories × nights): measured where present, else its
    profile median; and the variance (σ², from the MAD) the filled-in nights add."""
    median, mad = rolling_median_mad(ami_nights, params.window, params.min_nights)
    measured = np.isfinite(ami_nights)
    use = np.where(measured, ami_nights, median)
    var = np.where(measured, 0.0, (MAD_SCALE * np.nan_to_num(mad)) ** 2)
    return use, var, median


def analyse(
    inlet_nights: np.ndarray,
    ami_nights: np.ndarray,
    factory_dma: np.ndarray,
    params: Params | None = None,
) -> NightFlow:
    """Night-flow analysis with per-factory night profiles (see the module docstring)."""
    p = params or Params()
    use, var, _ = factory_expectation(ami_nights, p)
    member = membership(factory_dma, inlet_nights.shape[0])
    legit = member @ np.nan_to_num(use)
    unknown = member @ (~np.isfinite(use)).astype(float) > 0  # a factory with no data at all
    legit[unknown] = np.nan
    spread = np.sqrt(member @ var)
    return _judge(inlet_nights, legit, spread, p)


def textbook(
    inlet_nights: np.ndarray,
    population: np.ndarray,
    properties: np.ndarray,
    params: Params | None = None,
) -> NightFlow:
    """The same judgement on the textbook estimate of legitimate night use: 6 % of the
    population flushing 10 L an hour, plus 8 L/h per non-household property (McKenzie,
    UKWIR defaults). It is a constant per DMA, so this is the MNF trend alone."""
    p = params or Params()
    legit = (population * 0.06 * 10 + properties * 8.0) / 1000.0  # m³/h
    legit_n = np.broadcast_to(legit[:, None], inlet_nights.shape).astype(float)
    return _judge(inlet_nights, legit_n, np.zeros_like(legit_n), p)


def _judge(mnf: np.ndarray, legit: np.ndarray, spread: np.ndarray, p: Params) -> NightFlow:
    unexplained = mnf - legit
    masked = unexplained
    for _ in range(2):  # pass 2 keeps pass-1 exceedances out of the baseline
        baseline, mad = rolling_median_mad(masked, p.window, p.min_nights)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            inflow = np.nanmedian(_trailing(mnf, p.window), axis=-1)
        noise = np.hypot(MAD_SCALE * mad, spread)
        threshold = np.fmax(p.z * noise, np.fmax(p.floor_m3h, p.rel_floor * inflow))
        threshold[~np.isfinite(baseline)] = np.nan
        with np.errstate(invalid="ignore"):
            exceeds = np.nan_to_num(unexplained - baseline - threshold, nan=-1.0) > 0
        masked = np.where(exceeds, np.nan, unexplained)
    runs = run_lengths(exceeds)
    return NightFlow(
        mnf, legit, unexplained, baseline, threshold, exceeds, runs >= p.consecutive, runs
    )


def absolute_textbook_excess(
    inlet_nights: np.ndarray, population: np.ndarray, properties: np.ndarray, mains_km: np.ndarray
) -> np.ndarray:
    """Textbook leakage estimate beyond the background allowance (40 L/km/h of main),
    m³/h per DMA × night: what a utility would read as 'leakage' with the defaults."""
    legit = (population * 0.06 * 10 + properties * 8.0) / 1000.0
    background = mains_km * 40.0 / 1000.0
    out: np.ndarray = inlet_nights - (legit + background)[:, None]
    return out
