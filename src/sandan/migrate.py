"""Alembic, driven from code so `sandan db upgrade` works from an installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from sandan.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    """An Alembic config pointing at the packaged migrations and the configured database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.resolved_database_url().replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    if settings.is_sqlite():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None when it was never migrated."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    """The newest revision this package ships (what `/ready` expects the database to be at)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
