"""Unit normalisation: a reading may say its unit; the tag's registry unit is canonical.

Every conversion Sandan meets is affine (value × factor + offset: degF → degC has an offset,
bar → kPa none), so pint is asked once per distinct (given, canonical) pair for its factor and
offset, and numpy applies them to the whole column. A unit pint does not know, a pair of
different dimensions, or a non-linear unit (dB) is a reason to reject the reading. Converted
values are rounded to 12 significant digits.

Industrial spellings pint does not read as they are: `m3/h` and `cm2` (a power written as a
trailing digit), `℃`/`℉`, `Nm` (newton metre, not pint's "number metre"), `kvar`, `pcs`
(pieces, not parsecs), and a few capitalisations (`KW`, `KWh`).
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

import numpy as np
import pint
import pyarrow as pa
import pyarrow.compute as pc

_DEFINITIONS = (
    "newton_meter = newton * meter = Nm",
    "volt_ampere_reactive = volt * ampere = var = VAr",
    "piece = [piece] = pcs",
)
_ALIASES = {
    "℃": "degC",
    "℉": "degF",
    "KW": "kW",
    "KWh": "kWh",
    "KWH": "kWh",
    "kWH": "kWh",
    "MWH": "MWh",
    "KPa": "kPa",
    "Kpa": "kPa",
    "kpa": "kPa",
    "MPA": "MPa",
    "Mpa": "MPa",
    "KVA": "kVA",
    "RPM": "rpm",
    "LPM": "L/min",
    "l/m": "L/min",
    "deg C": "degC",
    "deg F": "degF",
}
_TRAILING_POWER = re.compile(r"(?<=[A-Za-z])([23])(?![0-9])")
_lock = threading.Lock()

Conversion = tuple[float, float]


@functools.cache
def unit_registry() -> pint.UnitRegistry[Any]:
    """One registry per process (building it takes a quarter of a second)."""
    ureg: pint.UnitRegistry[Any] = pint.UnitRegistry()
    for definition in _DEFINITIONS:
        ureg.define(definition)
    return ureg


def parse(text: str) -> pint.Unit:
    """A unit from its usual spellings; raises pint's errors (or ValueError) when unknown."""
    ureg = unit_registry()
    text = text.strip()
    text = _ALIASES.get(text, text)
    try:
        return ureg.Unit(text)
    except Exception:  # pint raises several kinds (UndefinedUnitError, AssertionError, …)
        powered = _TRAILING_POWER.sub(r"**\1", text)
        if powered == text:
            raise ValueError(text) from None
        return ureg.Unit(powered)


@functools.lru_cache(maxsize=4096)
def conversion(given: str, canonical: str) -> Conversion | str:
    """(factor, offset) turning a value in `given` into `canonical`, or why it cannot."""
    if not canonical.strip():
        return f"the tag has no unit to convert {given!r} to"
    with _lock:
        try:
            source = parse(given)
        except Exception:  # pint raises many kinds; all mean the same here
            return f"unknown unit {given!r}"
        try:
            target = parse(canonical)
        except Exception:
            return f"the tag's unit {canonical!r} is not a unit Sandan can convert to"
        ureg = unit_registry()
        try:
            zero, ten, thousand = (
                float(ureg.Quantity(x, source).to(target).magnitude) for x in (0.0, 10.0, 1000.0)
            )
        except Exception:  # DimensionalityError, or an offset unit inside a compound
            return f"{given!r} cannot be converted to {canonical!r}"
    factor, offset = (thousand - zero) / 1000.0, zero
    if not np.isfinite([factor, offset]).all() or not np.isclose(
        ten, 10.0 * factor + offset, rtol=1e-9, atol=1e-12
    ):
        return f"{given!r} is not a linear unit"
    return factor, offset


def normalise(
    values: np.ndarray, given: pa.Array, canonical: pa.Array, rows: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, str]]]:
    """Convert `values[rows]` from the units `given` per reading (null or "": already the
    tag's) to the `canonical` unit of each reading's tag, in place of a copy of `values`.

    `given` and `canonical` are aligned with `values`. Returns the converted values and, per
    reason, a boolean mask over `values` of the readings whose unit could not be converted.
    """
    out = values.copy()
    failures: list[tuple[np.ndarray, str]] = []
    if not len(rows):
        return out, failures
    take = pa.array(rows, pa.int64())
    src, dst = given.take(take), canonical.take(take)
    differ = pc.fill_null(pc.and_(pc.not_equal(src, ""), pc.not_equal(src, dst)), False)
    picked = rows[differ.to_numpy(zero_copy_only=False)]
    if not len(picked):
        return out, failures
    keys = pc.binary_join_element_wise(
        given.take(pa.array(picked, pa.int64())),
        canonical.take(pa.array(picked, pa.int64())),
        "\x00",
    ).dictionary_encode()
    pairs = keys.dictionary.to_pylist()
    factors = np.ones(len(pairs))
    offsets = np.zeros(len(pairs))
    failed = np.zeros(len(pairs), dtype=bool)
    which = keys.indices.to_numpy(zero_copy_only=False)
    for i, pair in enumerate(pairs):
        src_unit, dst_unit = pair.split("\x00", 1)
        found = conversion(src_unit, dst_unit)
        if isinstance(found, str):
            failed[i] = True
            mask = np.zeros(len(values), dtype=bool)
            mask[picked[which == i]] = True
            failures.append((mask, found))
        else:
            factors[i], offsets[i] = found
    convert = ~failed[which]
    target = picked[convert]
    scaled, offset = values[target] * factors[which[convert]], offsets[which[convert]]
    out[target] = _significant(scaled + offset, np.maximum(np.abs(scaled), np.abs(offset)))
    return out, failures


def _significant(values: np.ndarray, size: np.ndarray, digits: int = 12) -> np.ndarray:
    """Round to `digits` significant digits of `size` (the larger term of the sum), so that
    conversion noise does not cross a range bound: 212 degF is 100 degC, not
    100.00000000000004, and 32 degF is 0, not 3.6e-14. Sensors have far fewer digits."""
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.maximum(np.abs(values), size)))
    exponent = np.clip(np.where(np.isfinite(magnitude), digits - 1 - magnitude, 0), -290, 290)
    scale = np.power(10.0, exponent)
    rounded: np.ndarray = np.round(values * scale) / scale
    return np.where(np.isfinite(rounded), rounded, values)
