"""Usage policies: the subset of ODRL 2.2 that Sandan evaluates at every access to shared data,
with reasons in English and Korean, a readable rendering and the JSON-LD form for catalogues.

Pure (no database, no clock): the caller passes the time and the agreement's counters in an
`AccessContext`. Semantics, fixed here so that the service and the data plane agree:
- A permission matches only its own action (`use` is reading; `distribute` must be granted on
  its own). A prohibition of `use` also bars `distribute`, since passing data on is a use.
- Allowed iff some matching permission has every constraint satisfied and no matching
  prohibition applies (ODRL `conflict: prohibit`). A prohibition without constraints always
  applies to its action.
- A value the request did not state fails a permission's constraint and makes a prohibition's
  constraint count as met: both ways the access is denied (fail closed).
- `count` is the 1-based number of this pull; `rows` and `bytes` are cumulative including this
  pull, so before sizing a pull pass what was delivered so far and cap the pull at
  `remaining(...).rows` (0 means the allowance is used up).
- `recipient_industry` matches by prefix on the KSIC digits, so 'C26' matches '26110'.
"""

from __future__ import annotations

import operator as op
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal, NamedTuple, TypeVar

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


# --- evaluation: plain attribute reads and comparisons, no validation -----------------------

_COMPARE: Mapping[Operator, Callable[[Any, Any], bool]] = {
    Operator.eq: op.eq,
    Operator.neq: op.ne,
    Operator.lt: op.lt,
    Operator.lteq: op.le,
    Operator.gt: op.gt,
    Operator.gteq: op.ge,
    Operator.is_any_of: lambda a, r: a in r,
    Operator.is_none_of: lambda a, r: a not in r,
}


def _actual(left: Operand, ctx: AccessContext) -> Any:
    if left is Operand.date_time:
        return ctx.at
    if left is Operand.elapsed_time:
        return None if ctx.agreed_at is None else (ctx.at - ctx.agreed_at).total_seconds()
    return getattr(ctx, left)


def _holds(c: Constraint, actual: Any) -> bool:
    right: Any = c.right
    if c.left is Operand.fields:
        if c.operator is Operator.is_any_of:
            return all(f in right for f in actual)
        if c.operator is Operator.is_none_of:
            return bool(actual.isdisjoint(right))
        return bool(actual.issuperset(right))
    if c.left is Operand.recipient_industry:  # prefix match on the digits
        code = actual.upper().lstrip(_SECTIONS)
        prefixes = right if isinstance(right, tuple) else (right,)
        hit = any(code.startswith(p.lstrip(_SECTIONS)) for p in prefixes)
        return hit if c.operator in (Operator.eq, Operator.is_any_of) else not hit
    return _COMPARE[c.operator](actual, right)


def satisfied(c: Constraint, ctx: AccessContext) -> bool:
    """Whether the context meets the constraint; a value it does not state never does."""
    actual = _actual(c.left, ctx)
    return actual is not None and _holds(c, actual)


def _covers(rule: Action, access: Action) -> bool:
    return rule is access or (rule is Action.use and access is Action.distribute)


def _failures(constraints: tuple[Constraint, ...], ctx: AccessContext) -> list[tuple[Any, ...]]:
    failed: list[tuple[Any, ...]] = []
    for c in constraints:
        actual = _actual(c.left, ctx)
        if actual is None or not _holds(c, actual):
            failed.append((c, actual))
    return failed


def _bars(p: Prohibition, ctx: AccessContext) -> list[Operand] | None:
    """None if the prohibition does not apply, else the operands the request left unstated."""
    if not _covers(p.action, ctx.action):
        return None
    missing = []
    for c in p.constraints:
        actual = _actual(c.left, ctx)
        if actual is None:
            missing.append(c.left)
        elif not _holds(c, actual):
            return None
    return missing


def evaluate(policy: Policy, ctx: AccessContext) -> Decision:
    """Allow or deny one access; when denied, say every reason (closest permission first)."""
    granted: list[int] = []
    closest: list[tuple[Any, ...]] | None = None
    for i, perm in enumerate(policy.permissions):
        if perm.action is not ctx.action:
            continue
        failed = _failures(perm.constraints, ctx)
        if not failed:
            granted.append(i)
        elif closest is None or len(failed) < len(closest):
            closest = failed
    barred = [(p, m) for p in policy.prohibitions if (m := _bars(p, ctx)) is not None]
    if granted and not barred:
        best = granted[0]
        if len(granted) > 1:  # several grant: the one leaving most room, first on ties
            best = max(granted, key=lambda i: _room(_quota(policy, i, ctx)))
        return Decision(True, [], [*policy.permissions[best].duties, *policy.obligations], best)
    reasons: list[Reason] = []
    if not granted:
        if closest is None:
            reasons.append(_no_permission(ctx.action))
        else:
            reasons.extend(_failed(c, actual) for c, actual in closest)
    reasons.extend(_prohibited(p, missing) for p, missing in barred)
    return Decision(False, reasons, [])


_COUNTERS = {Operand.count: "pulls", Operand.rows: "rows", Operand.bytes: "bytes"}
_NEGATE = {
    Operator.eq: Operator.neq,
    Operator.neq: Operator.eq,
    Operator.lt: Operator.gteq,
    Operator.lteq: Operator.gt,
    Operator.gt: Operator.lteq,
    Operator.gteq: Operator.lt,
}


def _headroom(oper: Operator, bound: int, used: int) -> int | None:
    """How far a counter may grow from `used` while `counter oper bound`, true now, stays true."""
    if oper is Operator.lteq:
        return bound - used
    if oper is Operator.lt:
        return bound - 1 - used
    if oper is Operator.eq:
        return 0
    return bound - 1 - used if oper is Operator.neq and used < bound else None


def _quota(policy: Policy, index: int, ctx: AccessContext) -> Quota:
    room: dict[str, int | None] = dict.fromkeys(_COUNTERS.values())

    def narrow(left: Operand, more: int) -> None:
        before = room[_COUNTERS[left]]
        room[_COUNTERS[left]] = more if before is None else min(before, more)

    for c in policy.permissions[index].constraints:
        if c.left in _COUNTERS:
            more = _headroom(c.operator, c.right, _actual(c.left, ctx))  # type: ignore[arg-type]
            if more is not None:
                narrow(c.left, more)
    for p in policy.prohibitions:
        # a prohibition kept off only by unmet bounds on one counter applies once the counter
        # has passed all of them
        unmet = [c for c in p.constraints if not _maybe(c, ctx)]
        if not (_covers(p.action, ctx.action) and unmet and unmet[0].left in _COUNTERS):
            continue
        used: int = _actual(unmet[0].left, ctx)
        mores = [
            more
            for c in unmet
            if c.left is unmet[0].left
            and (more := _headroom(_NEGATE[c.operator], c.right, used)) is not None  # type: ignore[arg-type]
        ]
        if len(mores) == len(unmet):
            narrow(unmet[0].left, max(mores))
    return Quota(room["pulls"], room["rows"], room["bytes"])


def _maybe(c: Constraint, ctx: AccessContext) -> bool:
    actual = _actual(c.left, ctx)
    return actual is None or _holds(c, actual)


def _room(q: Quota) -> tuple[float, float, float]:
    inf = float("inf")
    return tuple(inf if v is None else v for v in (q.rows, q.bytes, q.pulls))  # type: ignore[return-value]


def remaining(policy: Policy, ctx: AccessContext) -> Quota:
    """What the granting permission still allows; all zero when the access is denied."""
    decision = evaluate(policy, ctx)
    if decision.permission is None:
        return Quota(0, 0, 0)
    return _quota(policy, decision.permission, ctx)


# --- words ------------------------------------------------------------------------------------

Lang = Literal["en", "ko"]

_OPERAND_LABELS: Mapping[Operand, Label] = {
    Operand.purpose: Label("purpose", "목적"),
    Operand.recipient: Label("recipient", "수령 회사"),
    Operand.recipient_industry: Label("recipient industry", "수령 회사 업종"),
    Operand.recipient_zone: Label("recipient zone", "수령 회사 구역"),
    Operand.date_time: Label("date and time", "일시"),
    Operand.elapsed_time: Label("time since signing", "계약 후 경과 시간"),
    Operand.count: Label("pull number", "조회 횟수"),
    Operand.rows: Label("rows delivered", "누적 행 수"),
    Operand.bytes: Label("bytes delivered", "누적 바이트"),
    Operand.resolution: Label("resolution", "데이터 해상도"),
    Operand.fields: Label("fields", "필드"),
}
_ACTION_LABELS: Mapping[Action, Label] = {
    Action.use: Label("use", "이용"),
    Action.distribute: Label("redistribute", "재배포"),
    Action.delete: Label("delete", "삭제"),
    Action.attribute: Label("attribute", "출처 표시"),
    Action.compensate: Label("pay", "대가 지급"),
}
# English condition, English failure (after the label and the value), Korean condition
_PHRASES: Mapping[Operator, tuple[str, str, str]] = {
    Operator.eq: ("is {r}", "is not {r}", "{r}"),
    Operator.neq: ("is not {r}", "must not be {r}", "{r} 제외"),
    Operator.lt: ("is less than {r}", "is not less than {r}", "{r} 미만"),
    Operator.lteq: ("is at most {r}", "is over the limit of {r}", "{r} 이하"),
    Operator.gt: ("is more than {r}", "is not more than {r}", "{r} 초과"),
    Operator.gteq: ("is at least {r}", "is below the minimum of {r}", "{r} 이상"),
    Operator.is_any_of: ("is one of: {r}", "is not one of: {r}", "{r} 중 하나"),
    Operator.is_none_of: ("is none of: {r}", "is one of the excluded: {r}", "{r} 제외"),
    Operator.is_all_of: ("include all of: {r}", "do not include all of: {r}", "{r} 모두 포함"),
}
_WHEN_SPECIAL: Mapping[tuple[Operand, Operator], Label] = {
    (Operand.date_time, Operator.lt): Label("before {r}", "{r} 이전"),
    (Operand.date_time, Operator.lteq): Label("until {r}", "{r}까지"),
    (Operand.date_time, Operator.gt): Label("after {r}", "{r} 이후"),
    (Operand.date_time, Operator.gteq): Label("from {r}", "{r}부터"),
    (Operand.fields, Operator.is_any_of): Label("only the fields: {r}", "필드 {r}만"),
    (Operand.fields, Operator.is_none_of): Label("none of the fields: {r}", "필드 {r} 제외"),
    (Operand.fields, Operator.is_all_of): Label("all of the fields: {r}", "필드 {r} 모두 포함"),
}
# whole sentences for the failures people meet most, keyed by operand and bound
_SENTENCES: Mapping[tuple[str, str], Label] = {
    ("date_time", "until"): Label(
        "the policy expired at {r} (access at {a})", "정책이 {r}에 만료되었습니다 (접근 시각 {a})"
    ),
    ("date_time", "from"): Label(
        "the policy is in force only from {r} (access at {a})",
        "정책은 {r}부터 유효합니다 (접근 시각 {a})",
    ),
    ("elapsed_time", "until"): Label(
        "the agreement expired {r} after signing (elapsed: {a})",
        "계약이 체결 후 {r}이(가) 지나 만료되었습니다 (경과: {a})",
    ),
    ("elapsed_time", "from"): Label(
        "the agreement allows access only {r} after signing (elapsed: {a})",
        "계약은 체결 {r} 후부터 접근을 허용합니다 (경과: {a})",
    ),
    ("resolution", "from"): Label(
        "resolution {a} is finer than allowed (at least {r})",
        "데이터 해상도 {a}은(는) 허용보다 세밀합니다 (최소 {r})",
    ),
    ("fields", "is_any_of"): Label(
        "fields not allowed: {a} (allowed: {r})", "허용되지 않은 필드: {a} (허용: {r})"
    ),
    ("fields", "is_none_of"): Label(
        "fields excluded by the policy: {a}", "정책이 제외한 필드: {a}"
    ),
    ("fields", "is_all_of"): Label(
        "fields the policy requires are missing: {a}", "정책이 요구하는 필드가 빠졌습니다: {a}"
    ),
}
_PAY_UNITS: Mapping[PaymentUnit, Label] = {
    PaymentUnit.one_off: Label("once", "한 번"),
    PaymentUnit.monthly: Label("per month", "매월"),
    PaymentUnit.per_1000_rows: Label("per 1,000 rows", "1,000행당"),
}
_UNITS = ((86400, "day", "일"), (3600, "hour", "시간"), (60, "minute", "분"), (1, "second", "초"))
_UNTIL = (Operator.lt, Operator.lteq)
_FROM = (Operator.gt, Operator.gteq)


def _tr(label: Label, lang: Lang) -> str:
    return label.ko if lang == "ko" else label.en


def _duration(seconds: float, lang: Lang) -> str:
    rest, parts = int(seconds), []
    for size, en, ko in _UNITS:
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n}{ko}" if lang == "ko" else f"{n} {en}{'s' * (n != 1)}")
    return " ".join(parts) or ("0초" if lang == "ko" else "0 seconds")


def _show(
    left: Operand, value: Any, lang: Lang, *, quote: bool = False, names: bool = False
) -> str:
    """A value for people; `names` shows purposes by name (Korean text always does)."""
    if isinstance(value, tuple | frozenset):
        items = value if isinstance(value, tuple) else sorted(value)
        return ", ".join(_show(left, v, lang, names=names) for v in items)
    if isinstance(value, datetime):
        return value.isoformat()
    if left is Operand.resolution and value == 0:
        return "원시" if lang == "ko" else "raw"
    if left in (Operand.elapsed_time, Operand.resolution):
        return _duration(value, lang)
    if left is Operand.purpose and not quote and (names or lang == "ko") and value in PURPOSES:
        return _tr(PURPOSES[value], lang)
    return f"'{value}'" if quote and isinstance(value, str) else str(value)


def _bound(oper: Operator) -> str:
    return "until" if oper in _UNTIL else "from" if oper in _FROM else oper.value


def _code(c: Constraint) -> ReasonCode:
    if c.left in (Operand.date_time, Operand.elapsed_time):
        return ReasonCode.not_yet_valid if c.operator in _FROM else ReasonCode.expired
    return ReasonCode(c.left.value)


def _condition(c: Constraint, lang: Lang, *, label: bool = True, names: bool = False) -> str:
    r = _show(c.left, c.right, lang, names=names)
    if (special := _WHEN_SPECIAL.get((c.left, c.operator))) is not None:
        return _tr(special, lang).format(r=r)
    en, _, ko = _PHRASES[c.operator]
    text = (ko if lang == "ko" else en).format(r=r)
    return f"{_tr(_OPERAND_LABELS[c.left], lang)} {text}" if label else text


def _failed(c: Constraint, actual: Any) -> Reason:
    label = _OPERAND_LABELS[c.left]
    if actual is None:
        return Reason(
            ReasonCode.missing,
            f"the request did not state the {label.en}, which the policy requires",
            f"요청에 정책이 요구하는 {label.ko} 값이 없습니다",
        )
    if c.left is Operand.fields:  # name the offending fields, not every requested one
        listed = frozenset(c.right)  # type: ignore[arg-type]
        if c.operator is Operator.is_any_of:
            actual = actual - listed
        else:
            actual = actual & listed if c.operator is Operator.is_none_of else listed - actual
    a_en, a_ko = _show(c.left, actual, "en", quote=True), _show(c.left, actual, "ko", quote=True)
    sentence = _SENTENCES.get((c.left.value, _bound(c.operator)))
    if sentence is not None:
        r_en, r_ko = _show(c.left, c.right, "en"), _show(c.left, c.right, "ko")
        return Reason(
            _code(c), sentence.en.format(a=a_en, r=r_en), sentence.ko.format(a=a_ko, r=r_ko)
        )
    failure = _PHRASES[c.operator][1].format(r=_show(c.left, c.right, "en"))
    ko = f"{label.ko} {a_ko}: 조건({_condition(c, 'ko', label=False)})에 맞지 않습니다"
    return Reason(_code(c), f"{label.en} {a_en} {failure}", ko)


def _no_permission(action: Action) -> Reason:
    name = _ACTION_LABELS[action]
    return Reason(
        ReasonCode.no_permission,
        f"the policy grants no permission to {name.en}",
        f"정책에 {name.ko} 권한이 없습니다",
    )


def _prohibited(p: Prohibition, missing: list[Operand]) -> Reason:
    name = _ACTION_LABELS[p.action]
    en, ko = f"{name.en} is prohibited", f"{name.ko}은(는) 금지되어 있습니다"
    if p.constraints:
        en += " when " + "; ".join(_condition(c, "en") for c in p.constraints)
        ko += " (조건: " + "; ".join(_condition(c, "ko") for c in p.constraints) + ")"
    if missing:
        en += " (the request did not state: " + ", ".join(_OPERAND_LABELS[o].en for o in missing)
        ko += " (요청에 없는 값: " + ", ".join(_OPERAND_LABELS[o].ko for o in missing)
        en, ko = en + ")", ko + ")"
    return Reason(ReasonCode.prohibited, en, ko)


def _duty_text(d: Duty, lang: Lang) -> str:
    ko = lang == "ko"
    if d.action is Action.delete:
        if ko:
            return f"수령 후 {d.delay_days}일이 지나면 데이터 삭제"
        return f"delete the data {d.delay_days} days after receipt"
    if d.action is Action.attribute:
        return f"출처 표시: “{d.text}”" if ko else f"credit the source as “{d.text}”"
    unit = _tr(_PAY_UNITS[d.unit], lang) if d.unit else ""
    return f"{d.amount_krw:,}원 지급 ({unit})" if ko else f"pay {d.amount_krw:,} KRW {unit}"


def describe(policy: Policy, lang: Lang = "en") -> list[str]:
    """The policy as readable lines for a web page, in English or Korean."""
    allowed, barred, owed = (
        _tr(Label("Permitted", "허용"), lang),
        _tr(Label("Prohibited", "금지"), lang),
        _tr(Label("Duty", "의무"), lang),
    )
    lines: list[str] = []
    rules: list[tuple[str, Permission | Prohibition]] = [
        *((allowed, r) for r in policy.permissions),
        *((barred, r) for r in policy.prohibitions),
    ]
    for head, rule in rules:
        lines.append(f"{head}: {_tr(_ACTION_LABELS[rule.action], lang)}")
        lines.extend(f"  - {_condition(c, lang, names=True)}" for c in rule.constraints)
        if isinstance(rule, Permission):
            lines.extend(f"  {owed}: {_duty_text(d, lang)}" for d in rule.duties)
    lines.extend(f"{owed}: {_duty_text(d, lang)}" for d in policy.obligations)
    return lines


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
