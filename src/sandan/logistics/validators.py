"""Checks of the identifiers the warehouse reads off labels and trucks."""

from __future__ import annotations

import re

# The Hangul syllables Korean registration plates use for the use/owner class.
PLATE_SYLLABLES = (
    "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호육해공국합"
)
_PLATE = re.compile(rf"^(?:[가-힣]{{2}})?(\d{{2,3}})([{PLATE_SYLLABLES}])(\d{{4}})$")


def gtin_problem(code: str) -> str | None:
    """Why a GTIN-8/12/13/14 is wrong (length, digits, GS1 check digit), or None."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return "a GTIN has 8, 12, 13 or 14 digits"
    body, check = code[:-1], int(code[-1])
    # GS1: weights 3 and 1 alternate from the digit next to the check digit leftwards.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    expected = (10 - total % 10) % 10
    if expected != check:
        return f"check digit should be {expected}, not {check}"
    return None


def normalise_plate(plate: str) -> str | None:
    """A Korean truck plate without spaces (e.g. "12가3456", "서울82바1234"), or None."""
    compact = re.sub(r"[\s-]", "", plate)
    return compact if _PLATE.match(compact) else None
