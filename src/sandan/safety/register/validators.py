"""CAS registry numbers (e.g. 7664-39-3 for hydrofluoric acid) and their check digit."""

from __future__ import annotations

import re

_CAS_RE = re.compile(r"^([0-9]{2,7})-?([0-9]{2})-?([0-9])$")


def cas_check_digit(digits: str) -> int:
    """The check digit of a CAS number's leading digits: the rightmost digit times 1, the next
    times 2, and so on, summed, modulo 10."""
    return sum(i * int(d) for i, d in enumerate(reversed(digits), start=1)) % 10


def cas_problem(value: str) -> str | None:
    """Why a CAS number is invalid, or None when it is valid."""
    match = _CAS_RE.match(value.strip())
    if match is None:
        return "must look like 7664-39-3 (2 to 7 digits, 2 digits, 1 check digit)"
    head, middle, check = match.groups()
    if head.startswith("0"):
        return "must not start with 0"
    if cas_check_digit(head + middle) != int(check):
        return f"check digit does not match (expected {cas_check_digit(head + middle)})"
    return None


def normalize_cas(value: str) -> str:
    """The hyphenated form 7664-39-3 of a valid CAS number (with or without hyphens)."""
    match = _CAS_RE.match(value.strip())
    if match is None:
        return value.strip()
    return "-".join(match.groups())
