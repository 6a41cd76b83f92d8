"""The audit log records every write with before/after and detects tampering."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from conftest import World
from sandan.cli import app as cli
from sandan.core.audit.models import AuditEntry
from sandan.core.audit.service import verify
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas, service
from sandan.settings import Settings


def _entries(ctx: Context, entity: str) -> list[AuditEntry]:
    with ctx.db.unit() as s:
        return list(
            s.scalars(
                select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.seq)
            )
        )


def test_every_write_is_recorded_with_before_and_after(ctx: Context, world: World) -> None:
    admin = Principal.for_user(0, "x", world.companies["A"], frozenset(), None)
    system = Principal.system("t")
    with ctx.db.unit(system) as s:
        service.update_company(
            s, system, world.companies["A"], schemas.CompanyPatch(address="구미시 산호대로 1")
        )
    with ctx.db.unit(system) as s:
        service.delete_owned(s, system, service.Tag, world.tags["A"])
    companies = _entries(ctx, "companies")
    update = [e for e in companies if e.action == "update"][-1]
    assert update.before == {"address": ""}
    assert update.after == {"address": "구미시 산호대로 1"}
    assert update.actor == "system:t"
    assert update.company_id == world.companies["A"]
    deleted = [e for e in _entries(ctx, "tags") if e.action == "delete"]
    assert (
        deleted and deleted[0].before is not None and deleted[0].before["name"] == "spindle_speed"
    )
    users = [e for e in _entries(ctx, "users") if e.action == "create"]
    assert users and all("password_hash" not in (e.after or {}) for e in users)
    assert admin.actor == "user:0"


def test_rolled_back_write_leaves_no_entry(ctx: Context, world: World) -> None:
    system = Principal.system("t")
    before = len(_entries(ctx, "sites"))
    with pytest.raises(RuntimeError), ctx.db.unit(system) as s:
        service.create_site(s, system, schemas.SiteIn(company_id=world.companies["A"], name="x"))
        raise RuntimeError("abort")
    assert len(_entries(ctx, "sites")) == before
    with ctx.db.unit() as s:
        assert verify(s).ok


def test_database_refuses_updates_to_the_log(ctx: Context, world: World) -> None:
    with pytest.raises(Exception, match="append-only"), ctx.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone' WHERE seq = 1"))


@pytest.fixture
def unguarded(ctx: Context) -> Iterator[None]:
    """What an attacker with database rights would do first: drop the append-only trigger."""
    with ctx.db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
    yield
    if postgres:  # the PostgreSQL database is shared by the run: put the guard back
        with ctx.db.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
                )
            )


def _drop_sqlite_guard(ctx: Context) -> None:
    with ctx.db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def _cli_env(settings: Settings) -> dict[str, str]:
    env = {"SANDAN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    return env


def test_cli_verify_passes_then_fails_after_a_hand_edit(
    ctx: Context, world: World, settings: Settings, unguarded: None
) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"], env=_cli_env(settings))
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    _drop_sqlite_guard(ctx)
    with ctx.db.engine.begin() as conn:
        conn.execute(text('UPDATE audit_log SET after = \'{"address": "forged"}\' WHERE seq = 5'))
    bad = runner.invoke(cli, ["audit", "verify"], env=_cli_env(settings))
    assert bad.exit_code == 1
    assert "entry 5" in bad.output and "edited" in bad.output


def test_verify_detects_deleted_entries(ctx: Context, world: World, unguarded: None) -> None:
    _drop_sqlite_guard(ctx)
    with ctx.db.engine.begin() as conn:
        last = conn.execute(text("SELECT max(seq) FROM audit_log")).scalar()
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
        conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": last})
    with ctx.db.unit() as s:
        report = verify(s)
    reasons = " ".join(r for _, r in report.problems)
    assert not report.ok
    assert "missing" in reasons and "head mismatch" in reasons


def test_deleting_a_site_audits_everything_under_it(ctx: Context, world: World) -> None:
    system = Principal.system("t")
    with ctx.db.unit(system) as s:
        service.issue_device_secret(s, system, world.devices["A"])
    with ctx.db.unit(system) as s:
        service.delete_owned(s, system, service.Site, world.sites["A"])
    deleted = {(e.entity, e.entity_id) for e in _all(ctx) if e.action == "delete"}
    assert {
        ("sites", str(world.sites["A"])),
        ("devices", str(world.devices["A"])),
        ("tags", str(world.tags["A"])),
        ("assets", str(world.machines["A"])),
        ("assets", str(world.lines["A"])),
        ("assets", str(world.areas["A"])),
    } <= deleted
    assert any(entity == "credentials" for entity, _ in deleted)
    created = [e for e in _all(ctx) if e.action == "create"]
    assert created and all(e.entity_id is not None for e in created)
    with ctx.db.unit() as s:
        assert verify(s).ok


def test_deleting_a_line_detaches_devices_and_tags(ctx: Context, world: World) -> None:
    system = Principal.system("t")
    with ctx.db.unit(system) as s:
        service.delete_owned(s, system, service.Asset, world.lines["A"])
    with ctx.db.unit(system) as s:
        device = s.get(service.Device, world.devices["A"])
        tag = s.get(service.Tag, world.tags["A"])
        assert device is not None and device.machine_id is None
        assert tag is not None and tag.machine_id is None
        assert s.get(service.Asset, world.machines["A"]) is None
        assert s.get(service.Asset, world.areas["A"]) is not None
    updates = [e for e in _all(ctx) if e.action == "update" and e.entity == "devices"]
    assert updates and updates[-1].after == {"machine_id": None}


def _all(ctx: Context) -> list[AuditEntry]:
    with ctx.db.unit() as s:
        return list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_database_refuses_deleting_the_head(ctx: Context, world: World) -> None:
    with pytest.raises(Exception, match="append-only"), ctx.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
