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

from sandan.sharing.policy.evaluate import (
    evaluate,
    remaining,
    satisfied,
)
from sandan.sharing.policy.model import (
    OPERATORS,
    PURPOSES,
    SET_OPERATORS,
    AccessContext,
    Action,
    Constraint,
    Decision,
    Duty,
    Label,
    Operand,
    Operator,
    PaymentUnit,
    Permission,
    Policy,
    Prohibition,
    Quota,
    Reason,
    ReasonCode,
    parse_policy,
)
from sandan.sharing.policy.odrl import (
    ODRL_CONTEXT,
    SANDAN_NS,
    from_odrl,
    to_odrl,
)
from sandan.sharing.policy.words import (
    Lang,
    describe,
)

__all__ = [
    "ODRL_CONTEXT",
    "OPERATORS",
    "PURPOSES",
    "SANDAN_NS",
    "SET_OPERATORS",
    "AccessContext",
    "Action",
    "Constraint",
    "Decision",
    "Duty",
    "Label",
    "Lang",
    "Operand",
    "Operator",
    "PaymentUnit",
    "Permission",
    "Policy",
    "Prohibition",
    "Quota",
    "Reason",
    "ReasonCode",
    "describe",
    "evaluate",
    "from_odrl",
    "parse_policy",
    "remaining",
    "satisfied",
    "to_odrl",
]
