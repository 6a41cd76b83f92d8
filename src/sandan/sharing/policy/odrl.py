"""ODRL 2.2 JSON-LD both ways, for catalogues and signed agreements."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import ValidationError

from sandan.core.errors import FieldProblem, ValidationFailed
from sandan.sharing.policy.model import (
    _DURATION,
    SET_OPERATORS,
    Action,
    Constraint,
    Duty,
    Operand,
    Operator,
    Permission,
    Policy,
    Prohibition,
    _enum,
    _one,
    _pydantic_problems,
    parse_policy,
)

# --- ODRL 2.2 JSON-LD -----------------------------------------------------------------------

ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
SANDAN_NS = "urn:sandan:odrl:"  # the `sandan:` prefix: our left operands and duty details
_ODRL_NS = ("http://www.w3.org/ns/odrl/2/", "odrl:")
_KRW = "http://dbpedia.org/resource/South_Korean_won"
_ODRL_LEFT: Mapping[Operand, str] = {
    Operand.purpose: "purpose",
    Operand.recipient: "recipient",
    Operand.recipient_industry: "sandan:recipientIndustry",
    Operand.recipient_zone: "spatial",
    Operand.date_time: "dateTime",
    Operand.elapsed_time: "elapsedTime",
    Operand.count: "count",
    Operand.rows: "sandan:rows",
    Operand.bytes: "sandan:bytes",
    Operand.resolution: "sandan:resolution",
    Operand.fields: "sandan:fields",
}
_FROM_LEFT = {term: left for left, term in _ODRL_LEFT.items()}
_ODRL_OP = {o: re.sub(r"_(\w)", lambda m: m.group(1).upper(), o.value) for o in Operator}
_FROM_OP = {term: o for o, term in _ODRL_OP.items()}


def _iso(seconds: int) -> str:
    return str(_DURATION.dump_python(timedelta(seconds=seconds), mode="json"))


def _typed(left: Operand, value: Any) -> Any:
    if left is Operand.date_time:
        return {"@value": value.isoformat(), "@type": "xsd:dateTime"}
    if left is Operand.elapsed_time:
        return {"@value": _iso(value), "@type": "xsd:duration"}
    return value


def _odrl_duty(d: Duty) -> dict[str, Any]:
    if d.action is Action.delete:
        delay = {"@value": _iso((d.delay_days or 0) * 86400), "@type": "xsd:duration"}
        constraint = {"leftOperand": "delayPeriod", "operator": "eq", "rightOperand": delay}
        return {"action": "delete", "constraint": [constraint]}
    if d.action is Action.attribute:
        return {"action": "attribute", "sandan:text": d.text}
    amount = {"@value": str(d.amount_krw), "@type": "xsd:decimal"}
    pay = {"leftOperand": "payAmount", "operator": "eq", "rightOperand": amount, "unit": _KRW}
    action = {"rdf:value": {"@id": "odrl:compensate"}, "refinement": [pay]}
    return {"action": [action], "sandan:unit": str(d.unit)}


def _odrl_rule(rule: Permission | Prohibition) -> dict[str, Any]:
    out: dict[str, Any] = {"action": str(rule.action)}
    if rule.constraints:
        out["constraint"] = [
            {
                "leftOperand": _ODRL_LEFT[c.left],
                "operator": _ODRL_OP[c.operator],
                "rightOperand": [_typed(c.left, v) for v in c.right]
                if isinstance(c.right, tuple)
                else _typed(c.left, c.right),
            }
            for c in rule.constraints
        ]
    if isinstance(rule, Permission) and rule.duties:
        out["duty"] = [_odrl_duty(d) for d in rule.duties]
    return out


def to_odrl(
    policy: Policy,
    target: str,
    assigner: str,
    assignee: str | None = None,
    kind: Literal["Offer", "Agreement"] = "Offer",
) -> dict[str, Any]:
    """The policy as an ODRL 2.2 Offer or Agreement in JSON-LD, for a catalogue or a contract."""
    if kind not in ("Offer", "Agreement"):
        raise ValidationFailed.one("kind", "must be Offer or Agreement")
    if kind == "Agreement" and not assignee:
        raise ValidationFailed.one("assignee", "an Agreement names its assignee")
    doc: dict[str, Any] = {
        "@context": [ODRL_CONTEXT, {"sandan": SANDAN_NS}],
        "@type": kind,
        "uid": policy.uid,
        "profile": SANDAN_NS + "profile",
        "conflict": "prohibit",  # what evaluate does: a matching prohibition wins
        "target": target,
        "assigner": assigner,
    }
    if assignee:
        doc["assignee"] = assignee
    if policy.permissions:
        doc["permission"] = [_odrl_rule(r) for r in policy.permissions]
    if policy.prohibitions:
        doc["prohibition"] = [_odrl_rule(r) for r in policy.prohibitions]
    if policy.obligations:
        doc["obligation"] = [_odrl_duty(d) for d in policy.obligations]
    return doc


def _term(value: Any, path: str) -> str:
    """A bare term from a name, a compact or full IRI, `{"@id": …}` or an action node."""
    if isinstance(value, list) and len(value) == 1:
        return _term(value[0], path)
    if isinstance(value, Mapping):
        return _term(value.get("rdf:value", value.get("@id")), path)
    if not isinstance(value, str):
        raise ValidationFailed.one(path, f"expected one term, got {value!r}")
    for prefix in _ODRL_NS:
        if value.startswith(prefix):
            return value.removeprefix(prefix)
    return "sandan:" + value.removeprefix(SANDAN_NS) if value.startswith(SANDAN_NS) else value


def _list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _plain(value: Any) -> Any:
    return value.get("@value", value.get("@id")) if isinstance(value, Mapping) else value


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationFailed.one(path, "must be a JSON object")
    return value


def _prefixed(exc: ValidationFailed, path: str) -> ValidationFailed:
    names = {"left": "leftOperand", "right": "rightOperand"}
    return ValidationFailed(
        [FieldProblem(f"{path}.{names.get(p.field, p.field)}", p.reason) for p in exc.problems]
    )


def _read_constraint(raw: Any, path: str) -> Constraint:
    raw = _object(raw, path)
    if "leftOperand" not in raw:
        raise ValidationFailed.one(path, "needs leftOperand (and, or, xone are not supported)")
    left = _FROM_LEFT.get(_term(raw["leftOperand"], f"{path}.leftOperand"))
    oper = _FROM_OP.get(_term(raw.get("operator"), f"{path}.operator"))
    if left is None or oper is None:
        known = ", ".join(_FROM_LEFT) if left is None else ", ".join(_FROM_OP)
        where = "leftOperand" if left is None else "operator"
        raise ValidationFailed.one(f"{path}.{where}", f"not supported; use one of: {known}")
    values = [_plain(v) for v in _list(raw.get("rightOperand"))]
    # JSON-LD makes a value and a one-item array the same thing
    right = values if oper in SET_OPERATORS or len(values) != 1 else values[0]
    try:
        return Constraint(left=left, operator=oper, right=right)
    except ValidationFailed as exc:
        raise _prefixed(exc, path) from None


_RULE_KEYS = ("permission", "prohibition", "obligation")


def _read_duty(raw: Any, path: str) -> Duty:
    raw = _object(raw, path)
    action = _enum(Action, _term(raw.get("action"), f"{path}.action"), f"{path}.action")
    found: dict[str, Any] = {"action": action}
    try:
        if action is Action.delete:
            for c in _list(raw.get("constraint")):
                if _term(_object(c, path).get("leftOperand"), path) == "delayPeriod":
                    delay = _one(Operand.elapsed_time, _plain(c.get("rightOperand")))
                    days, rest = divmod(int(delay), 86400)  # type: ignore[arg-type]
                    if rest:
                        raise ValueError("delayPeriod must be whole days")
                    found["delay_days"] = days
        elif action is Action.attribute:
            found["text"] = raw.get("sandan:text", raw.get(SANDAN_NS + "text"))
        elif action is Action.compensate:
            node = _list(raw.get("action"))[0]
            for r in _list(node.get("refinement") if isinstance(node, Mapping) else None):
                if _term(_object(r, path).get("leftOperand"), path) == "payAmount":
                    if r.get("unit", _KRW) != _KRW:
                        raise ValueError(f"only amounts in KRW ({_KRW}) are supported")
                    amount = Decimal(str(_plain(r.get("rightOperand"))))
                    if amount != amount.to_integral_value():
                        raise ValueError("payAmount must be whole won")
                    found["amount_krw"] = int(amount)
            found["unit"] = raw.get("sandan:unit", raw.get(SANDAN_NS + "unit"))
        return Duty.model_validate(found)
    except ValidationFailed as exc:
        raise _prefixed(exc, path) from None
    except ValidationError as exc:
        raise _prefixed(_pydantic_problems(exc), path) from None
    except (ValueError, InvalidOperation) as exc:
        raise ValidationFailed.one(path, str(exc)) from None


def _read_rule(raw: Any, path: str, *, duties: bool) -> dict[str, Any]:
    rule = _object(raw, path)
    out: dict[str, Any] = {
        "action": _enum(Action, _term(rule.get("action"), f"{path}.action"), f"{path}.action"),
        "constraints": [
            _read_constraint(c, f"{path}.constraint[{j}]")
            for j, c in enumerate(_list(rule.get("constraint")))
        ],
    }
    if duties:
        out["duties"] = [
            _read_duty(d, f"{path}.duty[{j}]") for j, d in enumerate(_list(rule.get("duty")))
        ]
    return out


def from_odrl(doc: Mapping[str, Any]) -> Policy:
    """A policy from an ODRL 2.2 document of this profile; ValidationFailed names the bad part."""
    doc = _object(doc, "policy")
    if _term(doc.get("conflict", "prohibit"), "conflict") != "prohibit":
        raise ValidationFailed.one("conflict", "only 'prohibit' is supported")
    permissions, prohibitions, obligations = (_list(doc.get(k)) for k in _RULE_KEYS)
    return parse_policy(
        {
            "uid": doc.get("uid", doc.get("@id")),
            "permissions": [
                _read_rule(r, f"permission[{i}]", duties=True) for i, r in enumerate(permissions)
            ],
            "prohibitions": [
                _read_rule(r, f"prohibition[{i}]", duties=False) for i, r in enumerate(prohibitions)
            ],
            "obligations": [_read_duty(d, f"obligation[{i}]") for i, d in enumerate(obligations)],
        }
    )
