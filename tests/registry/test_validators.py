"""Business registration numbers and KSIC codes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sandan.registry.geo import polygon_problem
from sandan.registry.validators import (
    brn_check_digit,
    brn_problem,
    format_brn,
    ksic_problem,
    normalize_ksic,
)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(nine_digits)
def test_the_computed_check_digit_is_accepted(first: str) -> None:
    brn = first + str(brn_check_digit(first))
    assert brn_problem(brn) is None
    assert brn_problem(format_brn(brn)) is None


@given(nine_digits, st.integers(min_value=1, max_value=9))
def test_any_other_check_digit_is_rejected(first: str, shift: int) -> None:
    wrong = (brn_check_digit(first) + shift) % 10
    assert brn_problem(first + str(wrong)) == "check digit does not match"


def test_known_numbers() -> None:
    assert brn_problem("124-81-00998") is None
    assert brn_problem("124-81-00999") == "check digit does not match"
    assert brn_problem("12481") is not None and brn_problem("abcdefghij") is not None


def test_ksic() -> None:
    assert ksic_problem("C26110") is None and normalize_ksic("C26110") == "26110"
    assert ksic_problem("28202") is None
    assert ksic_problem("00123") == "unknown KSIC division 00"
    assert ksic_problem("2") is not None and ksic_problem("X1") is not None


def test_polygons() -> None:
    ring = [[128.0, 36.0], [128.1, 36.0], [128.1, 36.1], [128.0, 36.0]]
    assert polygon_problem({"type": "Polygon", "coordinates": [ring]}) is None
    assert "closed" in str(
        polygon_problem({"type": "Polygon", "coordinates": [[*ring[:-1], [1, 1]]]})
    )
    assert "Polygon" in str(polygon_problem({"type": "Point", "coordinates": [1, 2]}))
    assert "range" in str(
        polygon_problem({"type": "Polygon", "coordinates": [[[200, 0], [0, 0], [0, 1], [200, 0]]]})
    )


def test_only_ascii_digits_make_a_brn() -> None:
    arabic_indic = "١٢٤٨١٠٠٩٩٨"  # the digits of 124-81-00998
    assert brn_problem(arabic_indic) is not None
    assert brn_problem("12345678²0") is not None
