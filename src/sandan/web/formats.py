"""How pages write money and months, the same on every page that bills."""

from __future__ import annotations

MONTHS_BACK = 12


def krw(amount: int, lang: str) -> str:
    return f"{amount:,}원" if lang == "ko" else f"{amount:,} KRW"


def recent_months(current: str, count: int = MONTHS_BACK) -> list[str]:
    """The billing month `current` (YYYY-MM) and the ones before it, newest first."""
    months: list[str] = []
    year, month = (int(part) for part in current.split("-"))
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months
