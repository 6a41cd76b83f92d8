"""Shared set-up of the ingest benchmarks: a migrated embedded platform with one company and
one site, ready for the devices and tags a benchmark needs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from sandan.core.context import Context
from sandan.core.db import PRINCIPAL_KEY
from sandan.core.identity.principal import Principal
from sandan.migrate import upgrade
from sandan.registry import schemas, service
from sandan.settings import Settings


def bench_plant(directory: Path) -> tuple[Settings, Context, Session, Principal, int, int]:
    """(settings, context, open session, system principal, company id, site id). The caller
    adds its devices in the session and commits it."""
    settings = Settings(data_dir=directory, secret_key="bench")
    upgrade(settings)
    ctx = Context.build(settings)
    system = Principal.system("bench")
    s = ctx.db.factory()
    s.info[PRINCIPAL_KEY] = system  # the audit log names the benchmark as the actor
    cx = service.create_complex(
        s, system, schemas.ComplexIn(code="B", name="bench", center_lat=36.1, center_lon=128.4)
    )
    zone = service.create_zone(s, system, schemas.ZoneIn(complex_id=cx.id, code="Z1", name="z"))
    company = service.create_company(
        s, system, schemas.CompanyIn(brn="1248100998", name="bench", ksic="26110", zone_id=zone.id)
    )
    site = service.create_site(s, system, schemas.SiteIn(company_id=company.id, name="s"))
    return settings, ctx, s, system, company.id, site.id
