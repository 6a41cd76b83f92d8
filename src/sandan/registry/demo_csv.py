"""Synthetic onboarding CSVs for tests and benchmarks: the demo companies as import lines,
with a chosen share made invalid on purpose, one known defect each."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from pathlib import Path

from sandan.registry.demo_data import plan_companies
from sandan.registry.importer import COLUMNS

# (field, how to spoil it): one defect per invalid row, used in this order, round robin.
_DEFECTS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("brn", lambda v: v[:9] + str((int(v[9]) + 1) % 10)),  # wrong check digit
    ("ksic", lambda v: "00" + v[2:]),  # division 00 does not exist
    ("zone", lambda v: "Z9"),
    ("contact_email", lambda v: v.replace("@", "_at_")),
    ("lat", lambda v: "95.1"),
    ("footprint", lambda v: v[: len(v) // 2]),  # truncated JSON
    ("name", lambda v: ""),
    ("employees", lambda v: f"약 {v}명"),
)


def company_csv_rows(
    n_companies: int, invalid_share: float = 0.05, seed: int = 11
) -> tuple[list[dict[str, str]], set[int]]:
    """Bulk-import rows (all strings) plus the 1-based data row numbers made invalid on purpose.

    Invalid rows are spread deterministically and cycle through the defects in _DEFECTS, so an
    importer's error report can be checked row by row.
    """
    rng = random.Random(seed ^ 0x5A4D)
    n_bad = min(n_companies, round(n_companies * invalid_share))
    invalid = set(rng.sample(range(1, n_companies + 1), n_bad))
    rows: list[dict[str, str]] = []
    for row_no, c in enumerate(plan_companies(n_companies, seed, with_plants=False), start=1):
        site, contact = c.sites[0], c.contacts[0]
        # a few valid rows leave the (optional) footprint out
        keep_fp = row_no in invalid or rng.random() >= 0.05
        rows.append(
            {
                "brn": c.brn,
                "name": c.name,
                "name_en": c.name_en,
                "ksic": c.ksic,
                "zone": c.zone_code,
                "address": site.address,
                "employees": str(c.employees),
                "contact_name": contact.name,
                "contact_role": contact.role,
                "contact_phone": contact.phone,
                "contact_email": contact.email,
                "site_name": site.name,
                "site_address": site.address,
                "lat": f"{site.lat:.6f}",
                "lon": f"{site.lon:.6f}",
                "footprint": json.dumps(site.footprint, separators=(",", ":")) if keep_fp else "",
            }
        )
    for k, row_no in enumerate(sorted(invalid)):
        field, spoil = _DEFECTS[k % len(_DEFECTS)]
        rows[row_no - 1][field] = spoil(rows[row_no - 1][field])
    return rows, invalid


def write_company_csv(
    path: Path, n_companies: int, invalid_share: float = 0.05, seed: int = 11
) -> set[int]:
    """Write the rows of `company_csv_rows` as a UTF-8 CSV with header; returns the invalid rows."""
    rows, invalid = company_csv_rows(n_companies, invalid_share, seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return invalid
