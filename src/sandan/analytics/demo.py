"""State rules for the demo complex: every machine that meters power but has no state tag (the
demo's plan gives some machines only their first few tags: an injection moulder's power but
not its state) gets power thresholds, so `sandan demo` shows states derived from power.

The thresholds are shares of the power tag's range. The simulator draws a machine's power
from its state as a share of that range (3 % planned stop, 5 % down, 25 % idle, 30 %
changeover, 80 % running, each +-5 %), so 15 % and 50 % tell running, idle-or-changeover and
stopped apart; below idle the demo says down (the simulator never plans a stop)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sandan.analytics.models import StateRule
from sandan.analytics.oee import DOWN
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry

IDLE_SHARE, RUN_SHARE = 0.15, 0.5


def seed_state_rules(session: Session) -> int:
    """A rule for each power-only machine with a power range; returns how many."""
    principal = Principal.system("demo-seed")
    top = {
        tag_id: high
        for tag_id, _device, _company, name, _low, high, _type in registry.ingest_tag_rows(session)
        if name == "power" and high
    }
    made = 0
    for company in registry.company_locations(session, principal):
        for m in registry.machines_with_tags(session, principal, company_id=company.id):
            high = top.get(m.tags.get("power", -1))
            if "state" in m.tags or high is None:
                continue
            session.add(
                StateRule(
                    company_id=m.company_id,
                    machine_id=m.id,
                    idle_kw=round(IDLE_SHARE * high, 3),
                    run_kw=round(RUN_SHARE * high, 3),
                    off_state=DOWN,
                )
            )
            made += 1
    session.flush()
    return made
