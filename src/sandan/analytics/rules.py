"""State rules: the power thresholds that give a machine without a state tag its states (see
states.py). Read in the query like every company row; written by those who write the
machine's company (its admins) and operators; every change is audited."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sandan.analytics.models import StateRule
from sandan.analytics.states import OFF_NAMES, OFF_STATES, PowerRule
from sandan.core.errors import FieldProblem, NotFound, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Resource
from sandan.core.tenancy import ensure_writable, readable
from sandan.registry import service as registry
from sandan.registry.service import MachineTags


def rules_readable(principal: Principal) -> Select[StateRule]:
    """State rules of the companies whose assets the principal may read."""
    return readable(select(StateRule), principal, StateRule.company_id, Resource.assets)


def rules_for(
    session: Session, principal: Principal, machine_ids: list[int]
) -> dict[int, PowerRule]:
    """machine id -> its rule, for those of `machine_ids` that have one."""
    if not machine_ids:
        return {}
    rows = session.scalars(rules_readable(principal).where(StateRule.machine_id.in_(machine_ids)))
    return {r.machine_id: _power_rule(r) for r in rows}


def _power_rule(row: StateRule) -> PowerRule:
    return PowerRule(row.idle_kw, row.run_kw, row.off_state)


def banded_power_tags(session: Session, principal: Principal) -> dict[int, tuple[int, PowerRule]]:
    """power tag id -> (company id, rule) of every readable machine whose states come from
    power: a rule, a power tag and no state tag."""
    found = session.scalars(rules_readable(principal)).all()
    tags = registry.machine_tag_ids(session, principal, [r.machine_id for r in found])
    return {
        tags[r.machine_id]["power"]: (r.company_id, _power_rule(r))
        for r in found
        if "power" in tags.get(r.machine_id, {}) and "state" not in tags[r.machine_id]
    }


def _machine(session: Session, principal: Principal, machine_id: int) -> MachineTags:
    """The machine with its tags; 404 when hidden or missing, 422 when not a machine."""
    (machine,) = registry.machines_with_tags(
        session, principal, asset_id=machine_id, level="machine", field="machine_id"
    )
    return machine


def _rule_of(session: Session, principal: Principal, machine: MachineTags) -> StateRule:
    rule = session.scalar(rules_readable(principal).where(StateRule.machine_id == machine.id))
    if rule is None:
        raise NotFound(f"machine {machine.id} has no state rule")
    return rule


def rule_out(rule: StateRule, machine: MachineTags | None) -> dict[str, Any]:
    """A rule as the API and the pages show it, with whether it is in effect."""
    tags = machine.tags if machine else {}
    return {
        "machine_id": rule.machine_id,
        "company_id": rule.company_id,
        "machine_label": machine.label if machine else "",
        "idle_kw": rule.idle_kw,
        "run_kw": rule.run_kw,
        "off_state": OFF_NAMES[rule.off_state],
        "in_effect": "power" in tags and "state" not in tags,
        "updated_at": rule.updated_at,
    }


def _checked(idle_kw: float, run_kw: float, off_state: str) -> int:
    """The off state's code, or every problem of the thresholds at once."""
    problems = []
    if not math.isfinite(idle_kw) or idle_kw < 0:
        problems.append(FieldProblem("idle_kw", "must be a number of kW, 0 or more"))
    if not math.isfinite(run_kw):
        problems.append(FieldProblem("run_kw", "must be a number of kW"))
    elif math.isfinite(idle_kw) and run_kw <= idle_kw:
        problems.append(FieldProblem("run_kw", "must be above idle_kw"))
    if off_state not in OFF_STATES:
        problems.append(FieldProblem("off_state", f"one of {', '.join(OFF_STATES)}"))
    if problems:
        raise ValidationFailed(problems)
    return OFF_STATES[off_state]


def state_rule(session: Session, principal: Principal, machine_id: int) -> dict[str, Any]:
    """A machine's state rule (404 when it has none)."""
    machine = _machine(session, principal, machine_id)
    return rule_out(_rule_of(session, principal, machine), machine)


def put_state_rule(
    session: Session,
    principal: Principal,
    machine_id: int,
    idle_kw: float,
    run_kw: float,
    off_state: str = "planned_stop",
) -> dict[str, Any]:
    """Set a machine's power thresholds (create or replace); for those who write its company."""
    machine = _machine(session, principal, machine_id)
    ensure_writable(principal, machine.company_id, "state rules")
    off = _checked(idle_kw, run_kw, off_state)
    rule = session.scalar(rules_readable(principal).where(StateRule.machine_id == machine.id))
    if rule is None:
        rule = StateRule(company_id=machine.company_id, machine_id=machine.id)
        session.add(rule)
    rule.idle_kw, rule.run_kw, rule.off_state = float(idle_kw), float(run_kw), off
    session.flush()
    return rule_out(rule, machine)


def delete_state_rule(session: Session, principal: Principal, machine_id: int) -> None:
    """Remove a machine's rule: without a state tag it has no states again."""
    machine = _machine(session, principal, machine_id)
    ensure_writable(principal, machine.company_id, "state rules")
    session.delete(_rule_of(session, principal, machine))
    session.flush()


def list_state_rules(
    session: Session, principal: Principal, company_id: int
) -> list[dict[str, Any]]:
    """A company's state rules, by machine code."""
    machines = registry.machines_with_tags(session, principal, company_id=company_id)
    rules = {
        r.machine_id: r
        for r in session.scalars(
            rules_readable(principal).where(StateRule.machine_id.in_([m.id for m in machines]))
        )
    }
    return [rule_out(rules[m.id], m) for m in machines if m.id in rules]


def power_machines(session: Session, principal: Principal, company_id: int) -> list[dict[str, Any]]:
    """The machines of a company whose states can only come from power (a power tag, no state
    tag), each with its rule or None: what a page offers to set."""
    machines = registry.machines_with_tags(session, principal, company_id=company_id)
    bare = [m for m in machines if "power" in m.tags and "state" not in m.tags]
    rules = {
        r.machine_id: r
        for r in session.scalars(
            rules_readable(principal).where(StateRule.machine_id.in_([m.id for m in bare]))
        )
    }
    return [
        {
            "machine_id": m.id,
            "label": m.label,
            "line": m.line_label,
            "rule": rule_out(rules[m.id], m) if m.id in rules else None,
        }
        for m in bare
    ]
