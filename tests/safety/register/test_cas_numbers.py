"""CAS registry numbers: the check digit catches a mistyped digit and swapped neighbours."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandan.safety.register.validators import cas_check_digit, cas_problem, normalize_cas

REAL = {
    "7664-39-3": "hydrofluoric acid",
    "7664-41-7": "ammonia",
    "7782-50-5": "chlorine",
    "74-98-6": "propane (LPG)",
    "106-97-8": "butane (LPG)",
    "7647-01-0": "hydrochloric acid",
    "7664-93-9": "sulfuric acid",
    "7697-37-2": "nitric acid",
    "7722-84-1": "hydrogen peroxide",
    "67-64-1": "acetone",
    "68476-85-7": "liquefied petroleum gas",
    "7732-18-5": "water",
}


@pytest.mark.parametrize("cas", sorted(REAL))
def test_real_cas_numbers_are_valid(cas: str) -> None:
    assert cas_problem(cas) is None, REAL[cas]


@pytest.mark.parametrize(
    ("cas", "reason"),
    [
        ("7664-39-4", "check digit does not match (expected 3)"),
        ("7782-50-6", "check digit does not match (expected 5)"),
        ("7664-93-8", "check digit does not match"),
        ("7-39-3", "must look like"),
        ("76643-9-3", "must look like"),
        ("ABCD-39-3", "must look like"),
        ("", "must look like"),
        ("07664-39-3", "must not start with 0"),
    ],
)
def test_wrong_cas_numbers_say_why(cas: str, reason: str) -> None:
    problem = cas_problem(cas)
    assert problem is not None and reason in problem


def test_normalised_with_hyphens() -> None:
    assert normalize_cas("7664393") == "7664-39-3"
    assert normalize_cas(" 7782-50-5 ") == "7782-50-5"


leading = st.integers(min_value=10, max_value=9_999_999).map(str)
middle = st.integers(min_value=0, max_value=99).map(lambda n: f"{n:02d}")


@given(leading, middle)
def test_computed_check_digit_is_valid_and_any_other_is_not(head: str, mid: str) -> None:
    check = cas_check_digit(head + mid)
    assert cas_problem(f"{head}-{mid}-{check}") is None
    for wrong in set(range(10)) - {check}:
        assert cas_problem(f"{head}-{mid}-{wrong}") is not None


@given(leading, middle, st.data())
def test_one_mistyped_digit_is_caught(head: str, mid: str, data: st.DataObject) -> None:
    digits = head + mid
    check = cas_check_digit(digits)
    i = data.draw(st.integers(min_value=1, max_value=len(digits) - 1))  # not the leading digit
    typo = data.draw(st.sampled_from([d for d in "0123456789" if d != digits[i]]))
    mistyped = digits[:i] + typo + digits[i + 1 :]
    # weights 1..9 catch any single change unless weight*difference is a multiple of 10
    weight = len(digits) - i
    if weight * (int(typo) - int(digits[i])) % 10:
        assert cas_problem(f"{mistyped[: len(head)]}-{mistyped[len(head) :]}-{check}") is not None
