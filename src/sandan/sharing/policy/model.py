"""The policy language: operands, operators, rules, and the facts of one access."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, model_validator

from sandan.core.errors import FieldProblem, ValidationFailed


class Action(StrEnum):
    use = "use"  # read the data
    distribute = "distribute"  # pass it on to a third party
    delete = "delete"
    attribute = "attribute"
    compensate = "compensate"  # pay


class Operand(StrEnum):
    purpose = "purpose"
    recipient = "recipient"  # company id
    recipient_industry = "recipient_industry"  # KSIC code prefix, e.g. C26
    recipient_zone = "recipient_zone"
    date_time = "date_time"
    elapsed_time = "elapsed_time"  # seconds since the agreement was signed
    count = "count"  # type: ignore[assignment]  # shadows str.count, which nobody calls here
    rows = "rows"
    bytes = "bytes"
    resolution = "resolution"  # seconds; raw = 0
    fields = "fields"


class Operator(StrEnum):
    eq = "eq"
    neq = "neq"
    lt = "lt"
    lteq = "lteq"
    gt = "gt"
    gteq = "gteq"
    is_any_of = "is_any_of"  # fields: every requested field is in the list
    is_none_of = "is_none_of"  # fields: no requested field is in the list
    is_all_of = "is_all_of"  # fields: every listed field is requested


class PaymentUnit(StrEnum):
    one_off = "one_off"
    monthly = "monthly"
    per_1000_rows = "per_1000_rows"


class ReasonCode(StrEnum):
    purpose = "purpose"
    recipient = "recipient"
    recipient_industry = "recipient_industry"
    recipient_zone = "recipient_zone"
    count = "count"  # type: ignore[assignment]
    rows = "rows"
    bytes = "bytes"
    resolution = "resolution"
    fields = "fields"
    expired = "expired"
    not_yet_valid = "not_yet_valid"
    missing = "missing"
    prohibited = "prohibited"
    no_permission = "no_permission"


class Label(NamedTuple):
    en: str
    ko: str


PURPOSES: Mapping[str, Label] = {
    "quality_improvement": Label("Quality improvement", "품질 개선"),
    "supply_chain_planning": Label("Supply chain planning", "공급망 계획"),
    "energy_management": Label("Energy management", "에너지 관리"),
    "maintenance": Label("Maintenance", "설비 보전"),
    "research": Label("Research", "연구"),
    "benchmarking": Label("Benchmarking", "벤치마킹"),
    "regulatory_reporting": Label("Regulatory reporting", "규제 보고"),
    "carbon_accounting": Label("Carbon accounting", "탄소 배출량 산정"),
}

_EQ = (Operator.eq, Operator.neq)
_SET = (Operator.is_any_of, Operator.is_none_of)
_ORDER = (Operator.lt, Operator.lteq, Operator.gt, Operator.gteq)
SET_OPERATORS = frozenset({*_SET, Operator.is_all_of})
OPERATORS: Mapping[Operand, tuple[Operator, ...]] = {
    Operand.purpose: _EQ + _SET,
    Operand.recipient: _EQ + _SET,
    Operand.recipient_industry: _EQ + _SET,
    Operand.recipient_zone: _EQ + _SET,
    Operand.date_time: _ORDER,
    Operand.elapsed_time: _EQ + _ORDER,
    Operand.count: _EQ + _ORDER,
    Operand.rows: _EQ + _ORDER,
    Operand.bytes: _EQ + _ORDER,
    Operand.resolution: _EQ + _ORDER + _SET,
    Operand.fields: (*_SET, Operator.is_all_of),
}

_KSIC = re.compile(r"[A-U]?[0-9]{2,5}")  # a division at least: 'C26', '26', 'C26110'
_SECTIONS = "ABCDEFGHIJKLMNOPQRSTU"
_DURATION = TypeAdapter(timedelta)  # ISO 8601 durations both ways
_E = TypeVar("_E", bound=StrEnum)


def _enum(kind: type[_E], value: Any, field: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(kind)
        raise ValidationFailed.one(
            field, f"unknown {field} {value!r}; use one of: {known}"
        ) from None


def _one(left: Operand, value: Any) -> str | int | datetime:
    """One right-operand value as the type the operand compares with; ValueError if it is not."""
    if left in (
        Operand.purpose,
        Operand.recipient_zone,
        Operand.fields,
        Operand.recipient_industry,
    ):
        if not isinstance(value, str) or not 0 < len(value := value.strip()) <= 40:
            raise ValueError(f"{value!r} is not a name of 1 to 40 characters")
        if left is Operand.purpose and value not in PURPOSES:
            raise ValueError(f"unknown purpose code {value!r}; known: {', '.join(PURPOSES)}")
        if left is Operand.recipient_industry:
            value = value.upper()
            if not _KSIC.fullmatch(value):
                raise ValueError(f"{value!r} is not a KSIC code or prefix such as C26 or 26110")
        return str(value)
    if left is Operand.date_time:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise ValueError("needs a date and time with a time zone, e.g. 2025-01-01T00:00+09:00")
        return moment.astimezone(UTC)
    if left is Operand.elapsed_time and isinstance(value, str | timedelta):
        try:
            seconds = _DURATION.validate_python(value).total_seconds()
        except ValidationError:
            raise ValueError(f"{value!r} is not an ISO 8601 duration such as P30D") from None
        if seconds != int(seconds):
            raise ValueError("must be whole seconds")
        value = int(seconds)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    least = 1 if left is Operand.recipient else 0
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{value!r} is not a whole number of at least {least}")
    return value


class Constraint(BaseModel):
    """`left operator right`; checked on construction so that evaluate need not check."""

    model_config = ConfigDict(frozen=True)

    left: Operand
    operator: Operator
    right: str | int | datetime | tuple[str, ...] | tuple[int, ...]

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        left = _enum(Operand, data.get("left"), "left")
        oper = _enum(Operator, data.get("operator"), "operator")
        if oper not in OPERATORS[left]:
            allowed = ", ".join(OPERATORS[left])
            reason = f"{oper} does not apply to {left}; use one of: {allowed}"
            raise ValidationFailed.one("operator", reason)
        right = data.get("right")
        try:
            if oper in SET_OPERATORS:
                if isinstance(right, str | bytes) or not isinstance(right, Iterable):
                    raise ValueError(f"{oper} takes a list of values")
                items = sorted(right) if isinstance(right, set | frozenset) else list(right)
                right = tuple(_one(left, v) for v in items)
                if not right:
                    raise ValueError(f"{oper} takes at least one value")
            elif isinstance(right, list | tuple | set | frozenset):
                raise ValueError(f"{oper} takes one value, not a list")
            else:
                right = _one(left, right)
        except ValueError as exc:
            raise ValidationFailed.one("right", f"{left}: {exc}") from None
        return {"left": left, "operator": oper, "right": right}


_DUTY_FIELDS: Mapping[Action, tuple[str, ...]] = {
    Action.delete: ("delay_days",),
    Action.attribute: ("text",),
    Action.compensate: ("amount_krw", "unit"),
}


class Duty(BaseModel):
    """What the consumer owes: delete after N days, credit the source, or pay."""

    model_config = ConfigDict(frozen=True)

    action: Action
    delay_days: int | None = None
    text: str | None = None
    amount_krw: int | None = None
    unit: PaymentUnit | None = None

    @model_validator(mode="after")
    def _check(self) -> Duty:
        needs = _DUTY_FIELDS.get(self.action)
        if needs is None:
            raise ValidationFailed.one("action", "a duty is delete, attribute or compensate")
        problems = [
            FieldProblem(name, f"required for a {self.action} duty")
            if name in needs
            else FieldProblem(name, f"does not apply to a {self.action} duty")
            for name in ("delay_days", "text", "amount_krw", "unit")
            if (getattr(self, name) is None) == (name in needs)
        ]
        for name in ("delay_days", "amount_krw"):
            value = getattr(self, name)
            if value is not None and value < 0:
                problems.append(FieldProblem(name, "must not be negative"))
        if self.text is not None and not 0 < len(self.text.strip()) <= 500:
            problems.append(FieldProblem("text", "must be 1 to 500 characters"))
        if problems:
            raise ValidationFailed(problems)
        return self


class Permission(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Action
    constraints: tuple[Constraint, ...] = ()
    duties: tuple[Duty, ...] = ()


class Prohibition(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Action
    constraints: tuple[Constraint, ...] = ()


class Policy(BaseModel):
    """A usage policy; `obligations` are duties owed whichever permission grants the access."""

    model_config = ConfigDict(frozen=True)

    uid: str
    permissions: tuple[Permission, ...] = ()
    prohibitions: tuple[Prohibition, ...] = ()
    obligations: tuple[Duty, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Policy:
        # ODRL: a policy is identified by an IRI and holds at least one rule
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S{1,200}", self.uid):
            raise ValidationFailed.one("uid", "must be an IRI such as urn:uuid:…")
        if not (self.permissions or self.prohibitions or self.obligations):
            raise ValidationFailed.one("permissions", "a policy needs at least one rule")
        return self


def _pydantic_problems(exc: ValidationError) -> ValidationFailed:
    return ValidationFailed(
        [FieldProblem(".".join(map(str, e["loc"])) or "policy", e["msg"]) for e in exc.errors()]
    )


def parse_policy(data: Any) -> Policy:
    """A policy from its own JSON (`model_dump(mode="json")`), every error as ValidationFailed."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_problems(exc) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessContext:
    """One access as the data plane sees it; None means the request did not state it."""

    at: datetime
    action: Action = Action.use
    purpose: str | None = None
    recipient: int | None = None
    recipient_industry: str | None = None  # KSIC code, with or without its section letter
    recipient_zone: str | None = None
    agreed_at: datetime | None = None
    count: int | None = None
    rows: int | None = None
    bytes: int | None = None
    resolution: int | None = None
    fields: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name in ("at", "agreed_at"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise ValidationFailed.one(name, "must carry a time zone")


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    message: str
    message_ko: str


@dataclass(frozen=True, slots=True)
class Decision:
    """`duties` are what the consumer owes when allowed; `permission` indexes the grant."""

    allowed: bool
    reasons: list[Reason]
    duties: list[Duty]
    permission: int | None = None


@dataclass(frozen=True, slots=True)
class Quota:
    """Pulls left after this one, and rows and bytes this pull may still add; None: no limit."""

    pulls: int | None
    rows: int | None
    bytes: int | None
