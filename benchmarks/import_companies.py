"""Bulk onboarding: import a CSV of 2,000 companies (5% invalid) through the full path —
per-line validation, ORM inserts, the hash-chained audit log, the rejects record — and
compare with a bare executemany INSERT of the same valid rows into the same schema.

Prints one JSON line: value = seconds for our import, reference = seconds for the bare
insert, ratio = value / reference (how much the rules and the audit trail cost).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.migrate import upgrade
from sandan.registry import schemas, service
from sandan.registry.demo_csv import company_csv_rows
from sandan.registry.importer import import_companies
from sandan.registry.models import Company
from sandan.settings import Settings


def _world(data_dir: Path) -> tuple[Context, dict[str, int], int]:
    settings = Settings(data_dir=data_dir, secret_key="bench")
    upgrade(settings)
    ctx = Context.build(settings)
    system = Principal.system("bench")
    with ctx.db.unit(system) as s:
        cx = service.create_complex(
            s,
            system,
            schemas.ComplexIn(code="GUMI", name="구미", center_lat=36.1, center_lon=128.38),
        )
        zones = {
            code: service.create_zone(
                s, system, schemas.ZoneIn(complex_id=cx.id, code=code, name=code)
            ).id
            for code in ("Z1", "Z2", "Z3", "Z4")
        }
    return ctx, zones, cx.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="20,000 companies instead of 2,000")
    n = 20_000 if parser.parse_args().full else 2_000
    rows, invalid = company_csv_rows(n, 0.05)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    lines = buffer.getvalue().splitlines(True)

    with tempfile.TemporaryDirectory() as ours_dir, tempfile.TemporaryDirectory() as ref_dir:
        ctx, _, _ = _world(Path(ours_dir))
        system = Principal.system("bench")
        started = time.perf_counter()
        with ctx.db.unit(system) as s:
            report = import_companies(s, system, lines, filename="bench.csv")
        ours = time.perf_counter() - started
        ctx.db.dispose()

        ref_ctx, zones, complex_id = _world(Path(ref_dir))
        valid = [r for i, r in enumerate(rows, start=1) if i not in invalid]
        payload = [
            {
                "complex_id": complex_id,
                "zone_id": zones[r["zone"]],
                "brn": r["brn"],
                "name": r["name"],
                "name_en": r["name_en"],
                "ksic": r["ksic"],
                "address": r["address"],
                "employees": int(r["employees"]),
                "footprint": json.loads(r["footprint"]) if r["footprint"] else None,
                "active": True,
            }
            for r in valid
        ]
        started = time.perf_counter()
        with ref_ctx.db.engine.begin() as conn:
            conn.execute(insert(Company), payload)
        reference = time.perf_counter() - started
        ref_ctx.db.dispose()

    print(
        json.dumps(
            {
                "metric": f"csv_import_{n}_companies_seconds",
                "value": round(ours, 3),
                "unit": "s",
                "reference": round(reference, 3),
                "reference_name": "bare executemany INSERT of the valid rows (no checks, no audit)",
                "ratio": round(ours / reference, 2),
                "target": 60.0,
                "details": {
                    "rows": n,
                    "rejected": report.rejected,
                    "companies_created": report.companies_created,
                    "sites_created": report.sites_created,
                    "rows_per_second": round(n / ours),
                    "backend": "sqlite",
                },
            }
        )
    )


if __name__ == "__main__":
    main()
