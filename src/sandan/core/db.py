"""The relational store: one declarative base, one engine factory, one unit of work.

A unit of work (a request, an import, a job) opens one session and commits or rolls back at
its end; services only flush. Events raised inside the session are handed to the bus after
the commit and dropped on rollback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from sandan.core.clock import as_utc

if TYPE_CHECKING:
    from sandan.core.bus import EventBus
    from sandan.core.identity.principal import Principal
    from sandan.settings import Settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = as_utc(value)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    """Declarative base shared by every domain's tables."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


PRINCIPAL_KEY = "sandan.principal"
EVENTS_KEY = "sandan.events"


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured URL; SQLite gets WAL, foreign keys and a busy timeout."""
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Engine, session factory and the bus that receives events after each commit."""

    def __init__(self, engine: Engine, bus: EventBus | None = None) -> None:
        self.engine = engine
        self.bus = bus
        self.factory = sessionmaker(engine, expire_on_commit=False)
        event.listen(self.factory, "after_commit", self._after_commit)
        event.listen(self.factory, "after_rollback", self._after_rollback)

    def _after_commit(self, session: Session) -> None:
        events = session.info.pop(EVENTS_KEY, [])
        if events and self.bus is not None:
            self.bus.publish_threadsafe(events)

    @staticmethod
    def _after_rollback(session: Session) -> None:
        session.info.pop(EVENTS_KEY, None)

    @contextmanager
    def unit(self, principal: Principal | None = None) -> Iterator[Session]:
        """One unit of work: commit when the block ends, roll back if it raises."""
        session = self.factory()
        session.info[PRINCIPAL_KEY] = principal
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
