"""The words of policies: readable reasons and renderings in English and Korean."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sandan.sharing.policy.model import (
    PURPOSES,
    Action,
    Constraint,
    Duty,
    Label,
    Operand,
    Operator,
    PaymentUnit,
    Permission,
    Policy,
    Prohibition,
    Reason,
    ReasonCode,
)

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
