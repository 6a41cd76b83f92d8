"""The control centre's clockwork: a shelved alarm whose time is up is announced again, and
the hourly night-flow judgement runs without a caller."""

from __future__ import annotations

from datetime import timedelta

from conftest import World
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.safety.alarms import service as alarms
from sandan.safety.alarms.models import Alarm
from sandan.safety.housekeeping import Housekeeper
from sandan.telemetry.duckdb_store import DuckDBStore


def test_expired_shelves_are_lifted_and_water_is_judged(
    ctx: Context, world: World, tmp_path: object
) -> None:
    operator = Principal.system("test")
    with ctx.db.unit() as session:
        alarm = alarms.raise_external(
            session,
            source="test:gas",
            condition="H",
            priority="high",
            message="gas",
            company_id=None,
            lat=None,
            lon=None,
            at=utcnow() - timedelta(hours=1),
            kind="gas",
        )
        alarms.shelve(
            session, operator, alarm.id, 30, "maintenance", at=utcnow() - timedelta(hours=1)
        )
        alarm_id = alarm.id
    store = DuckDBStore(ctx.settings.data_dir / "telemetry.duckdb")
    try:
        keeper = Housekeeper(ctx.db, store)
        assert keeper.unshelve() == 1
        assert keeper.unshelve() == 0
        with ctx.db.unit() as session:
            back = session.get(Alarm, alarm_id)
            assert back is not None and back.state == "unacknowledged" and not back.shelved
        assert keeper.judge_water() == 0  # no meter readings yet: nothing suspected
    finally:
        store.close()
