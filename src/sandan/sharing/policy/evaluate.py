"""Evaluation: plain attribute reads and comparisons, no validation, so thousands of
decisions a second fit on one core; and the quota left under the granting permission."""

from __future__ import annotations

import operator as op
from collections.abc import Callable, Mapping
from typing import Any

from sandan.sharing.policy.model import (
    _SECTIONS,
    AccessContext,
    Action,
    Constraint,
    Decision,
    Operand,
    Operator,
    Policy,
    Prohibition,
    Quota,
    Reason,
)
from sandan.sharing.policy.words import (
    _failed,
    _no_permission,
    _prohibited,
)

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
