"""Usage policies: each denial on its own, the laws every policy keeps, and ODRL round trips."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandan.core.errors import ValidationFailed
from sandan.sharing.policy import (
    ODRL_CONTEXT,
    OPERATORS,
    PURPOSES,
    SET_OPERATORS,
    AccessContext,
    Action,
    Constraint,
    Decision,
    Duty,
    Operand,
    Operator,
    Permission,
    Policy,
    Prohibition,
    Quota,
    ReasonCode,
    describe,
    evaluate,
    from_odrl,
    parse_policy,
    remaining,
    satisfied,
    to_odrl,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
KST = timezone(timedelta(hours=9))
DAY = 86_400


def rule(left: str, operator: str, right: Any) -> Constraint:
    return Constraint(left=left, operator=operator, right=right)  # type: ignore[arg-type]


def hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


PAY = Duty(action=Action.compensate, amount_krw=50_000, unit="monthly")  # type: ignore[arg-type]
CREDIT = Duty(action=Action.attribute, text="Data: Gumi Precision Co.")
DELETE = Duty(action=Action.delete, delay_days=30)

# An offer of daily OEE to a few C26 companies for quality work, paid monthly.
OFFER = Policy(
    uid="urn:uuid:7f6b0f8e-0c1d-4a53-9a52-3b4a8f0e9d11",
    permissions=(
        Permission(
            action=Action.use,
            constraints=(
                rule("purpose", "is_any_of", ["quality_improvement", "maintenance"]),
                rule("recipient", "is_any_of", [7, 8]),
                rule("recipient_industry", "eq", "C26"),
                rule("recipient_zone", "is_any_of", ["Z1", "Z2"]),
                rule("date_time", "gteq", T0 - timedelta(days=30)),
                rule("date_time", "lt", T0 + timedelta(days=335)),
                rule("elapsed_time", "lteq", "P30D"),
                rule("count", "lteq", 100),
                rule("rows", "lteq", 1_000_000),
                rule("resolution", "gteq", 3600),
                rule("fields", "is_any_of", ["oee", "availability", "performance", "quality"]),
            ),
            duties=(PAY, CREDIT),
        ),
    ),
    prohibitions=(Prohibition(action=Action.distribute),),
    obligations=(DELETE,),
)
GOOD = AccessContext(
    at=T0,
    purpose="quality_improvement",
    recipient=7,
    recipient_industry="26110",
    recipient_zone="Z1",
    agreed_at=T0 - timedelta(days=3),
    count=5,
    rows=1_200,
    bytes=50_000,
    resolution=3600,
    fields=frozenset({"oee", "quality"}),
)


def one_rule_policy(*constraints: Constraint, action: Action = Action.use) -> Policy:
    return Policy(uid="urn:x:p", permissions=(Permission(action=action, constraints=constraints),))


# --- concrete decisions -----------------------------------------------------------------------


def test_the_good_access_is_allowed_and_reports_what_the_consumer_owes() -> None:
    decision = evaluate(OFFER, GOOD)
    assert decision == Decision(True, [], [PAY, CREDIT, DELETE], 0)
    assert Duty(action=Action.compensate, amount_krw=50_000, unit="monthly") in decision.duties  # type: ignore[arg-type]


DENIALS = [
    (
        {"purpose": "research"},
        ReasonCode.purpose,
        "purpose 'research' is not one of: quality_improvement, maintenance",
    ),
    ({"recipient": 9}, ReasonCode.recipient, "recipient 9 is not one of: 7, 8"),
    (
        {"resolution": 60},
        ReasonCode.resolution,
        "resolution 1 minute is finer than allowed (at least 1 hour)",
    ),
    (
        {"at": T0 + timedelta(days=400), "agreed_at": T0 + timedelta(days=399)},
        ReasonCode.expired,
        "the policy expired at 2026-01-30T09:00:00+00:00 (access at 2026-04-05T09:00:00+00:00)",
    ),
    (
        {"at": T0 - timedelta(days=31), "agreed_at": T0 - timedelta(days=32)},
        ReasonCode.not_yet_valid,
        "the policy is in force only from 2025-01-30T09:00:00+00:00"
        " (access at 2025-01-29T09:00:00+00:00)",
    ),
    (
        {"agreed_at": T0 - timedelta(days=30, seconds=1)},
        ReasonCode.expired,
        "the agreement expired 30 days after signing (elapsed: 30 days 1 second)",
    ),
    ({"count": 101}, ReasonCode.count, "pull number 101 is over the limit of 100"),
    (
        {"fields": frozenset({"oee", "operator_name"})},
        ReasonCode.fields,
        "fields not allowed: operator_name (allowed: oee, availability, performance, quality)",
    ),
    (
        {"recipient_industry": "C25110"},
        ReasonCode.recipient_industry,
        "recipient industry 'C25110' is not C26",
    ),
    (
        {"recipient_zone": "Z3"},
        ReasonCode.recipient_zone,
        "recipient zone 'Z3' is not one of: Z1, Z2",
    ),
    (
        {"rows": 1_000_001},
        ReasonCode.rows,
        "rows delivered 1000001 is over the limit of 1000000",
    ),
]


@pytest.mark.parametrize(("change", "code", "message"), DENIALS)
def test_each_denial_on_its_own(change: dict[str, Any], code: ReasonCode, message: str) -> None:
    decision = evaluate(OFFER, replace(GOOD, **change))
    assert not decision.allowed and decision.duties == [] and decision.permission is None
    assert [r.code for r in decision.reasons] == [code]
    assert decision.reasons[0].message == message
    assert hangul(decision.reasons[0].message_ko)


def test_the_message_names_the_wrong_purpose_and_the_allowed_ones() -> None:
    policy = one_rule_policy(rule("purpose", "is_any_of", ["quality_improvement"]))
    reason = evaluate(policy, AccessContext(at=T0, purpose="marketing")).reasons[0]
    assert reason.message == "purpose 'marketing' is not one of: quality_improvement"
    assert reason.message_ko == "목적 'marketing': 조건(품질 개선 중 하나)에 맞지 않습니다"


def test_every_failed_constraint_is_listed_in_policy_order() -> None:
    decision = evaluate(OFFER, replace(GOOD, count=101, purpose="research", resolution=0))
    assert [r.code for r in decision.reasons] == ["purpose", "count", "resolution"]
    assert decision.reasons[2].message == "resolution raw is finer than allowed (at least 1 hour)"


def test_the_reasons_come_from_the_closest_permission() -> None:
    far = Permission(
        action=Action.use,
        constraints=(rule("purpose", "eq", "research"), rule("recipient_zone", "eq", "Z9")),
    )
    near = Permission(action=Action.use, constraints=(rule("resolution", "gteq", DAY),))
    decision = evaluate(Policy(uid="urn:x:p", permissions=(far, near)), GOOD)
    assert [r.code for r in decision.reasons] == [ReasonCode.resolution]


def test_distribution_needs_its_own_permission_and_is_prohibited_here() -> None:
    decision = evaluate(OFFER, replace(GOOD, action=Action.distribute))
    assert [r.code for r in decision.reasons] == ["no_permission", "prohibited"]
    assert decision.reasons[0].message == "the policy grants no permission to redistribute"
    assert decision.reasons[1].message == "redistribute is prohibited"


def test_a_prohibition_wins_over_a_permission_only_where_it_applies() -> None:
    policy = Policy(
        uid="urn:x:p",
        permissions=(Permission(action=Action.distribute),),
        prohibitions=(
            Prohibition(
                action=Action.distribute, constraints=(rule("recipient_zone", "eq", "Z1"),)
            ),
        ),
    )
    barred = evaluate(policy, replace(GOOD, action=Action.distribute))
    assert [r.code for r in barred.reasons] == [ReasonCode.prohibited]
    assert barred.reasons[0].message == "redistribute is prohibited when recipient zone is Z1"
    assert (
        barred.reasons[0].message_ko == "재배포은(는) 금지되어 있습니다 (조건: 수령 회사 구역 Z1)"
    )
    assert evaluate(policy, replace(GOOD, action=Action.distribute, recipient_zone="Z2")).allowed


def test_prohibiting_use_also_bars_distribution_but_not_the_other_way() -> None:
    open_policy = (Permission(action=Action.use), Permission(action=Action.distribute))
    no_use = Policy(
        uid="urn:x:p", permissions=open_policy, prohibitions=(Prohibition(action=Action.use),)
    )
    no_dist = Policy(
        uid="urn:x:p",
        permissions=open_policy,
        prohibitions=(Prohibition(action=Action.distribute),),
    )
    assert not evaluate(no_use, replace(GOOD, action=Action.distribute)).allowed
    assert evaluate(no_dist, GOOD).allowed
    assert not evaluate(no_dist, replace(GOOD, action=Action.distribute)).allowed


def test_an_action_without_any_permission_is_denied() -> None:
    decision = evaluate(OFFER, replace(GOOD, action=Action.delete))
    assert [r.code for r in decision.reasons] == [ReasonCode.no_permission]
    assert decision.reasons[0].message_ko == "정책에 삭제 권한이 없습니다"


def test_a_value_the_request_leaves_out_fails_its_constraint() -> None:
    decision = evaluate(OFFER, replace(GOOD, purpose=None, agreed_at=None))
    assert [r.code for r in decision.reasons] == [ReasonCode.missing, ReasonCode.missing]
    assert "purpose" in decision.reasons[0].message
    assert "time since signing" in decision.reasons[1].message
    assert "목적" in decision.reasons[0].message_ko


def test_a_prohibition_applies_when_the_request_leaves_its_value_out() -> None:
    policy = Policy(
        uid="urn:x:p",
        permissions=(Permission(action=Action.use),),
        prohibitions=(
            Prohibition(action=Action.use, constraints=(rule("recipient_zone", "eq", "Z1"),)),
        ),
    )
    decision = evaluate(policy, replace(GOOD, recipient_zone=None))
    assert [r.code for r in decision.reasons] == [ReasonCode.prohibited]
    assert decision.reasons[0].message.endswith("(the request did not state: recipient zone)")
    assert evaluate(policy, replace(GOOD, recipient_zone="Z2")).allowed


@pytest.mark.parametrize(
    ("code", "prefix", "matches"),
    [
        ("26110", "C26", True),
        ("C26110", "26", True),
        ("c26110", "C261", True),
        ("C26210", "C261", False),
        ("C25", "C26", False),
        ("2611", "26110", False),
    ],
)
def test_the_industry_is_a_ksic_prefix_with_or_without_the_section(
    code: str, prefix: str, matches: bool
) -> None:
    ctx = AccessContext(at=T0, recipient_industry=code)
    assert satisfied(rule("recipient_industry", "eq", prefix), ctx) is matches
    assert satisfied(rule("recipient_industry", "neq", prefix), ctx) is not matches
    assert satisfied(rule("recipient_industry", "is_any_of", ["C10", prefix]), ctx) is matches
    assert satisfied(rule("recipient_industry", "is_none_of", ["C10", prefix]), ctx) is not matches


def test_field_sets() -> None:
    ctx = AccessContext(at=T0, fields=frozenset({"oee", "serial_no"}))
    none_of = one_rule_policy(rule("fields", "is_none_of", ["serial_no", "operator"]))
    reason = evaluate(none_of, ctx).reasons[0]
    assert (reason.code, reason.message) == ("fields", "fields excluded by the policy: serial_no")
    all_of = one_rule_policy(rule("fields", "is_all_of", ["oee", "quality_flag"]))
    reason = evaluate(all_of, ctx).reasons[0]
    assert reason.message == "fields the policy requires are missing: quality_flag"
    assert evaluate(all_of, replace(ctx, fields=frozenset({"oee", "quality_flag", "x"}))).allowed
    only = one_rule_policy(rule("fields", "is_any_of", ["oee"]))
    assert evaluate(only, replace(ctx, fields=frozenset())).allowed
    assert not evaluate(only, replace(ctx, fields=None)).allowed


def test_a_date_window_includes_its_start_and_excludes_its_end() -> None:
    start, end = T0, T0 + timedelta(days=7)
    window = one_rule_policy(rule("date_time", "gteq", start), rule("date_time", "lt", end))
    assert evaluate(window, AccessContext(at=start)).allowed
    assert evaluate(window, AccessContext(at=end - timedelta(microseconds=1))).allowed
    assert [r.code for r in evaluate(window, AccessContext(at=end)).reasons] == ["expired"]
    early = evaluate(window, AccessContext(at=start - timedelta(seconds=1)))
    assert [r.code for r in early.reasons] == ["not_yet_valid"]


def test_a_window_given_in_korean_time_compares_as_the_same_instant() -> None:
    c = rule("date_time", "lt", datetime(2025, 3, 1, 18, 0, tzinfo=KST))
    assert c.right == T0 and c.right.tzinfo is UTC  # type: ignore[union-attr]
    assert not satisfied(c, AccessContext(at=T0))
    assert satisfied(c, AccessContext(at=T0 - timedelta(seconds=1)))


# --- quotas -----------------------------------------------------------------------------------


def test_remaining_counts_what_the_permission_still_allows() -> None:
    assert remaining(OFFER, GOOD) == Quota(pulls=95, rows=998_800, bytes=None)
    assert remaining(OFFER, replace(GOOD, purpose="research")) == Quota(0, 0, 0)
    unbounded = Policy(uid="urn:x:p", permissions=(Permission(action=Action.use),))
    assert remaining(unbounded, GOOD) == Quota(None, None, None)
    strict = one_rule_policy(rule("count", "lt", 10), rule("bytes", "lteq", 50_000))
    assert remaining(strict, replace(GOOD, count=3)) == Quota(6, None, 0)


def test_the_permission_with_most_room_grants_and_its_duties_are_reported() -> None:
    small = Permission(
        action=Action.use, constraints=(rule("rows", "lteq", 100),), duties=(CREDIT,)
    )
    large = Permission(
        action=Action.use, constraints=(rule("rows", "lteq", 10_000),), duties=(PAY,)
    )
    policy = Policy(uid="urn:x:p", permissions=(small, large))
    at_100 = replace(GOOD, rows=100)
    assert evaluate(policy, at_100) == Decision(True, [], [PAY], 1)
    assert remaining(policy, at_100).rows == 9_900
    first = Policy(uid="urn:x:p", permissions=(small, small.model_copy(update={"duties": (PAY,)})))
    assert evaluate(first, at_100).duties == [CREDIT]  # a tie goes to the first


def test_a_prohibition_that_starts_at_a_volume_caps_the_rows() -> None:
    policy = Policy(
        uid="urn:x:p",
        permissions=(Permission(action=Action.use),),
        prohibitions=(
            Prohibition(
                action=Action.use,
                constraints=(rule("rows", "gt", 500), rule("purpose", "eq", "research")),
            ),
        ),
    )
    assert remaining(policy, replace(GOOD, purpose="research", rows=200)).rows == 300
    assert remaining(policy, replace(GOOD, rows=200)).rows is None
    assert not evaluate(policy, replace(GOOD, purpose="research", rows=501)).allowed


# --- words ------------------------------------------------------------------------------------

SMALL = Policy(
    uid="urn:x:small",
    permissions=(
        Permission(
            action=Action.use,
            constraints=(
                rule("purpose", "is_any_of", ["quality_improvement", "maintenance"]),
                rule("resolution", "gteq", 3600),
                rule("date_time", "lt", T0),
                rule("fields", "is_any_of", ["oee"]),
            ),
            duties=(PAY,),
        ),
    ),
    prohibitions=(Prohibition(action=Action.distribute),),
    obligations=(DELETE,),
)


def test_describe_in_english() -> None:
    assert describe(SMALL) == [
        "Permitted: use",
        "  - purpose is one of: Quality improvement, Maintenance",
        "  - resolution is at least 1 hour",
        "  - before 2025-03-01T09:00:00+00:00",
        "  - only the fields: oee",
        "  Duty: pay 50,000 KRW per month",
        "Prohibited: redistribute",
        "Duty: delete the data 30 days after receipt",
    ]


def test_describe_in_korean() -> None:
    assert describe(SMALL, "ko") == [
        "허용: 이용",
        "  - 목적 품질 개선, 설비 보전 중 하나",
        "  - 데이터 해상도 1시간 이상",
        "  - 2025-03-01T09:00:00+00:00 이전",
        "  - 필드 oee만",
        "  의무: 50,000원 지급 (매월)",
        "금지: 재배포",
        "의무: 수령 후 30일이 지나면 데이터 삭제",
    ]


def test_every_purpose_has_an_english_and_a_korean_name() -> None:
    assert {"quality_improvement", "maintenance", "research", "benchmarking"} <= set(PURPOSES)
    assert PURPOSES["quality_improvement"].ko == "품질 개선"
    assert all(label.en and hangul(label.ko) for label in PURPOSES.values())


# --- ODRL -------------------------------------------------------------------------------------


def constraints_by_operand(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for c in doc["permission"][0]["constraint"]:
        found.setdefault(c["leftOperand"], []).append(c)
    return found


def test_to_odrl_writes_an_offer_with_odrl_and_sandan_operands() -> None:
    doc = json.loads(json.dumps(to_odrl(OFFER, "urn:offer:12", "urn:company:3")))
    assert doc["@context"][0] == ODRL_CONTEXT and "sandan" in doc["@context"][1]
    assert (doc["@type"], doc["uid"], doc["conflict"]) == ("Offer", OFFER.uid, "prohibit")
    assert (doc["target"], doc["assigner"]) == ("urn:offer:12", "urn:company:3")
    assert "assignee" not in doc
    found = constraints_by_operand(doc)
    assert found["elapsedTime"][0]["rightOperand"] == {"@value": "P30D", "@type": "xsd:duration"}
    assert [c["operator"] for c in found["dateTime"]] == ["gteq", "lt"]
    assert found["dateTime"][1]["rightOperand"]["@type"] == "xsd:dateTime"
    assert found["spatial"][0] == {
        "leftOperand": "spatial",
        "operator": "isAnyOf",
        "rightOperand": ["Z1", "Z2"],
    }
    assert found["purpose"][0]["operator"] == "isAnyOf"
    assert found["recipient"][0]["rightOperand"] == [7, 8]
    assert found["count"][0]["rightOperand"] == 100
    for ours in ("resolution", "rows", "recipientIndustry", "fields"):
        assert f"sandan:{ours}" in found
    pay = doc["permission"][0]["duty"][0]
    refinement = pay["action"][0]["refinement"][0]
    assert pay["action"][0]["rdf:value"] == {"@id": "odrl:compensate"}
    assert refinement["leftOperand"] == "payAmount"
    assert refinement["rightOperand"] == {"@value": "50000", "@type": "xsd:decimal"}
    assert doc["prohibition"] == [{"action": "distribute"}]
    delay = doc["obligation"][0]["constraint"][0]
    assert (delay["leftOperand"], delay["rightOperand"]["@value"]) == ("delayPeriod", "P30D")


def test_an_agreement_names_its_assignee() -> None:
    doc = to_odrl(OFFER, "urn:offer:12", "urn:company:3", "urn:company:7", "Agreement")
    assert (doc["@type"], doc["assignee"]) == ("Agreement", "urn:company:7")
    with pytest.raises(ValidationFailed) as caught:
        to_odrl(OFFER, "urn:offer:12", "urn:company:3", None, "Agreement")
    assert caught.value.problems[0].field == "assignee"
    with pytest.raises(ValidationFailed) as caught:
        to_odrl(OFFER, "urn:offer:12", "urn:company:3", None, "Set")  # type: ignore[arg-type]
    assert caught.value.problems[0].field == "kind"


def test_from_odrl_reads_prefixed_terms_full_iris_and_typed_values() -> None:
    doc = {
        "@context": ODRL_CONTEXT,
        "@type": "Set",
        "uid": "http://example.com/policy/1",
        "permission": [
            {
                "action": {"@id": "odrl:use"},
                "constraint": [
                    {
                        "leftOperand": "odrl:purpose",
                        "operator": {"@id": "odrl:eq"},
                        "rightOperand": ["maintenance"],
                    },
                    {
                        "leftOperand": "http://www.w3.org/ns/odrl/2/count",
                        "operator": "lteq",
                        "rightOperand": {"@value": "10", "@type": "xsd:integer"},
                    },
                    {
                        "leftOperand": "urn:sandan:odrl:fields",
                        "operator": "isAnyOf",
                        "rightOperand": "oee",
                    },
                    {"leftOperand": "elapsedTime", "operator": "lt", "rightOperand": "PT12H"},
                ],
                "duty": [
                    {"action": "http://www.w3.org/ns/odrl/2/attribute", "sandan:text": "Source: us"}
                ],
            }
        ],
    }
    assert from_odrl(doc) == Policy(
        uid="http://example.com/policy/1",
        permissions=(
            Permission(
                action=Action.use,
                constraints=(
                    rule("purpose", "eq", "maintenance"),
                    rule("count", "lteq", 10),
                    rule("fields", "is_any_of", ["oee"]),
                    rule("elapsed_time", "lt", 12 * 3600),
                ),
                duties=(Duty(action=Action.attribute, text="Source: us"),),
            ),
        ),
    )


def odrl_with(constraint: Any = None, **extra: Any) -> dict[str, Any]:
    permission: dict[str, Any] = {"action": "use"}
    if constraint is not None:
        permission["constraint"] = [constraint]
    return {"uid": "urn:x:p", "permission": [permission], **extra}


def odrl_constraint(left: str, operator: str, right: Any) -> dict[str, Any]:
    return odrl_with({"leftOperand": left, "operator": operator, "rightOperand": right})


C0 = "permission[0].constraint[0]"


def pay_in(unit: str) -> dict[str, Any]:
    pay = {"leftOperand": "payAmount", "operator": "eq", "rightOperand": 5, "unit": unit}
    return {
        "action": [{"rdf:value": {"@id": "odrl:compensate"}, "refinement": [pay]}],
        "sandan:unit": "one_off",
    }


@pytest.mark.parametrize(
    ("doc", "field", "needle"),
    [
        ([], "policy", "object"),
        (odrl_with(conflict="perm"), "conflict", "prohibit"),
        ({"permission": [{"action": "use"}]}, "uid", ""),
        (odrl_constraint("language", "eq", "ko"), f"{C0}.leftOperand", "purpose"),
        (odrl_constraint("count", "isA", 1), f"{C0}.operator", "isAnyOf"),
        (odrl_constraint("purpose", "eq", "marketing"), f"{C0}.rightOperand", "marketing"),
        (odrl_constraint("count", "isAnyOf", 1), f"{C0}.operator", "count"),
        (odrl_with({"and": []}), C0, "not supported"),
        (
            {"uid": "urn:x:p", "permission": [{"action": ["read", "use"]}]},
            "permission[0].action",
            "one term",
        ),
        ({"uid": "urn:x:p", "permission": [{"action": "read"}]}, "permission[0].action", "read"),
        (
            odrl_with(obligation=[pay_in("http://dbpedia.org/resource/Euro")]),
            "obligation[0]",
            "KRW",
        ),
        (odrl_with(obligation=[{"action": "delete"}]), "obligation[0].delay_days", "required"),
        (
            odrl_with(obligation=[{"action": "use"}]),
            "obligation[0].action",
            "delete, attribute or compensate",
        ),
    ],
)
def test_from_odrl_names_the_part_it_cannot_read(doc: Any, field: str, needle: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        from_odrl(doc)
    problem = caught.value.problems[0]
    assert problem.field == field and needle in problem.reason


def test_from_odrl_reads_a_payment_in_won() -> None:
    policy = from_odrl(
        odrl_with(obligation=[pay_in("http://dbpedia.org/resource/South_Korean_won")])
    )
    assert policy.obligations == (Duty(action=Action.compensate, amount_krw=5, unit="one_off"),)  # type: ignore[arg-type]


# --- validation -------------------------------------------------------------------------------

BAD_CONSTRAINTS = [
    ("purpose", "lt", "research", "operator", "purpose"),
    ("count", "is_any_of", [1], "operator", "count"),
    ("fields", "eq", "oee", "operator", "fields"),
    ("date_time", "eq", T0, "operator", "date_time"),
    ("purpose", "like", "research", "operator", "like"),
    ("colour", "eq", "red", "left", "colour"),
    ("purpose", "eq", "marketing", "right", "unknown purpose code 'marketing'"),
    ("purpose", "is_any_of", ["research", "marketing"], "right", "marketing"),
    ("purpose", "is_any_of", [], "right", "at least one"),
    ("purpose", "is_any_of", "research", "right", "list"),
    ("count", "lteq", [1], "right", "one value"),
    ("count", "lteq", -1, "right", "count"),
    ("count", "lteq", True, "right", "whole number"),
    ("recipient", "eq", 0, "right", "at least 1"),
    ("date_time", "lt", datetime(2025, 1, 1), "right", "time zone"),
    ("elapsed_time", "lteq", "thirty days", "right", "ISO 8601"),
    ("elapsed_time", "lteq", "PT0.5S", "right", "whole seconds"),
    ("recipient_industry", "eq", "semiconductors", "right", "KSIC"),
    ("recipient_zone", "eq", "  ", "right", "recipient_zone"),
]


@pytest.mark.parametrize(("left", "operator", "right", "field", "needle"), BAD_CONSTRAINTS)
def test_a_bad_constraint_names_the_field(
    left: str, operator: str, right: Any, field: str, needle: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rule(left, operator, right)
    assert caught.value.status_code == 422
    assert caught.value.problems[0].field == field
    assert needle in caught.value.problems[0].reason


def test_right_operands_are_normalised() -> None:
    assert rule("elapsed_time", "lteq", "P30D") == rule("elapsed_time", "lteq", 30 * DAY)
    assert rule("elapsed_time", "lteq", timedelta(days=30)).right == 30 * DAY
    assert rule("count", "lteq", "100").right == 100
    assert rule("recipient_industry", "eq", "c26").right == "C26"
    assert rule("fields", "is_any_of", {"b", "a"}).right == ("a", "b")
    assert rule("date_time", "gteq", "2025-03-01T18:00:00+09:00").right == T0


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"action": "delete"}, ("delay_days", "required for a delete duty")),
        ({"action": "compensate", "amount_krw": 1}, ("unit", "required for a compensate duty")),
        (
            {"action": "delete", "delay_days": 3, "text": "x"},
            ("text", "does not apply to a delete duty"),
        ),
        ({"action": "use"}, ("action", "a duty is delete, attribute or compensate")),
        (
            {"action": "compensate", "amount_krw": -5, "unit": "monthly"},
            ("amount_krw", "must not be negative"),
        ),
        ({"action": "attribute", "text": "   "}, ("text", "must be 1 to 500 characters")),
    ],
)
def test_a_bad_duty_names_the_field(fields: dict[str, Any], problem: tuple[str, str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Duty.model_validate(fields)
    assert (caught.value.problems[0].field, caught.value.problems[0].reason) == problem


def test_a_policy_needs_an_iri_and_a_rule_and_a_context_needs_time_zones() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Policy(uid="urn:x:p")
    assert caught.value.problems[0].field == "permissions"
    with pytest.raises(ValidationFailed) as caught:
        Policy(uid="my policy", prohibitions=(Prohibition(action=Action.use),))
    assert caught.value.problems[0].field == "uid"
    with pytest.raises(ValidationFailed) as caught:
        AccessContext(at=T0, agreed_at=datetime(2025, 1, 1))
    assert caught.value.problems[0].field == "agreed_at"


def test_parse_policy_turns_type_errors_into_named_problems() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_policy({"uid": "urn:x:p", "permissions": [{"action": "fly"}]})
    assert caught.value.problems[0].field == "permissions.0.action"
    assert parse_policy(OFFER.model_dump(mode="json")) == OFFER
    assert Policy.model_validate_json(OFFER.model_dump_json()) == OFFER


# --- properties -------------------------------------------------------------------------------

CODES = ["quality_improvement", "maintenance", "research"]
VALUES: dict[Operand, st.SearchStrategy[Any]] = {
    Operand.purpose: st.sampled_from(CODES),
    Operand.recipient: st.integers(1, 3),
    Operand.recipient_industry: st.sampled_from(["C26", "C261", "26110", "C25", "29"]),
    Operand.recipient_zone: st.sampled_from(["Z1", "Z2", "Z3"]),
    Operand.date_time: st.integers(-4, 4).map(lambda d: T0 + timedelta(days=d)),
    Operand.elapsed_time: st.integers(0, 8 * DAY),
    Operand.count: st.integers(0, 6),
    Operand.rows: st.integers(0, 60),
    Operand.bytes: st.integers(0, 600),
    Operand.resolution: st.sampled_from([0, 60, 3600, DAY]),
    Operand.fields: st.sampled_from(["a", "b", "c", "d"]),
}


def constraint_on(left: Operand) -> st.SearchStrategy[Constraint]:
    def build(oper: Operator) -> st.SearchStrategy[Constraint]:
        values = VALUES[left]
        right = (
            st.lists(values, min_size=1, max_size=3, unique=True)
            if oper in SET_OPERATORS
            else values
        )
        return right.map(lambda r: Constraint(left=left, operator=oper, right=r))

    return st.sampled_from(OPERATORS[left]).flatmap(build)


constraints = st.sampled_from(list(Operand)).flatmap(constraint_on)
duties = st.one_of(
    st.integers(0, 90).map(lambda n: Duty(action=Action.delete, delay_days=n)),
    st.text(min_size=1, max_size=30)
    .filter(str.strip)
    .map(lambda t: Duty(action=Action.attribute, text=t)),
    st.builds(
        Duty,
        action=st.just(Action.compensate),
        amount_krw=st.integers(0, 10**9),
        unit=st.sampled_from(["one_off", "monthly", "per_1000_rows"]),
    ),
)
access_actions = st.sampled_from([Action.use, Action.distribute])
permissions = st.builds(
    Permission,
    action=access_actions,
    constraints=st.lists(constraints, max_size=3).map(tuple),
    duties=st.lists(duties, max_size=2).map(tuple),
)
prohibitions = st.builds(
    Prohibition, action=access_actions, constraints=st.lists(constraints, max_size=2).map(tuple)
)
policies = st.builds(
    Policy,
    uid=st.uuids().map(lambda u: f"urn:uuid:{u}"),
    permissions=st.lists(permissions, min_size=1, max_size=3).map(tuple),
    prohibitions=st.lists(prohibitions, max_size=2).map(tuple),
    obligations=st.lists(duties, max_size=2).map(tuple),
)


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, values, values, st.none())  # mostly stated


contexts = st.builds(
    AccessContext,
    at=st.integers(-5, 5).map(lambda d: T0 + timedelta(days=d)),
    action=access_actions,
    purpose=maybe(st.sampled_from([*CODES, "benchmarking"])),
    recipient=maybe(st.integers(1, 4)),
    recipient_industry=maybe(st.sampled_from(["C26110", "26110", "C25100", "29"])),
    recipient_zone=maybe(st.sampled_from(["Z1", "Z2", "Z4"])),
    agreed_at=maybe(st.integers(0, 9).map(lambda d: T0 - timedelta(days=d))),
    count=maybe(st.integers(1, 7)),
    rows=maybe(st.integers(0, 70)),
    bytes=maybe(st.integers(0, 700)),
    resolution=maybe(st.sampled_from([0, 60, 3600, DAY])),
    fields=maybe(st.frozensets(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=3)),
)
# policies bounded by volume only, so that quotas come into play often
counter_constraints = st.sampled_from([Operand.count, Operand.rows, Operand.bytes]).flatmap(
    constraint_on
)
volume_policies = st.builds(
    Policy,
    uid=st.just("urn:x:volume"),
    permissions=st.lists(
        st.builds(
            Permission,
            action=st.just(Action.use),
            constraints=st.lists(counter_constraints, max_size=3).map(tuple),
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
    prohibitions=st.lists(
        st.builds(
            Prohibition,
            action=st.just(Action.use),
            constraints=st.lists(st.one_of(counter_constraints, constraints), max_size=3).map(
                tuple
            ),
        ),
        max_size=2,
    ).map(tuple),
)
LAWS = settings(max_examples=300, deadline=None)


def covers(rule_action: Action, access: Action) -> bool:
    return rule_action is access or rule_action is Action.use


@LAWS
@given(policies, contexts, st.data())
def test_a_matching_prohibition_always_denies(
    policy: Policy, ctx: AccessContext, data: st.DataObject
) -> None:
    met = constraints.filter(lambda c: satisfied(c, ctx))
    barring = Prohibition(
        action=data.draw(st.sampled_from([ctx.action, Action.use])),
        constraints=tuple(data.draw(st.lists(met, max_size=2))),
    )
    decision = evaluate(
        policy.model_copy(update={"prohibitions": (*policy.prohibitions, barring)}), ctx
    )
    assert not decision.allowed
    assert ReasonCode.prohibited in [r.code for r in decision.reasons]


@LAWS
@given(policies, contexts)
def test_an_allowed_access_meets_a_permission_and_no_prohibition(
    policy: Policy, ctx: AccessContext
) -> None:
    decision = evaluate(policy, ctx)
    if decision.allowed:
        assert decision.permission is not None
        granting = policy.permissions[decision.permission]
        assert granting.action is ctx.action and all(
            satisfied(c, ctx) for c in granting.constraints
        )
        for p in policy.prohibitions:
            assert not (
                covers(p.action, ctx.action) and all(satisfied(c, ctx) for c in p.constraints)
            )
        assert decision.duties == [*granting.duties, *policy.obligations]


@LAWS
@given(policies, contexts, constraints, st.integers(0, 2))
def test_a_further_constraint_never_widens_access(
    policy: Policy, ctx: AccessContext, extra: Constraint, which: int
) -> None:
    index = which % len(policy.permissions)
    perms = list(policy.permissions)
    perms[index] = perms[index].model_copy(
        update={"constraints": (*perms[index].constraints, extra)}
    )
    narrower = policy.model_copy(update={"permissions": tuple(perms)})
    if evaluate(narrower, ctx).allowed:
        assert evaluate(policy, ctx).allowed


@LAWS
@given(policies, contexts, prohibitions)
def test_a_further_prohibition_never_widens_access(
    policy: Policy, ctx: AccessContext, extra: Prohibition
) -> None:
    narrower = policy.model_copy(update={"prohibitions": (*policy.prohibitions, extra)})
    if evaluate(narrower, ctx).allowed:
        assert evaluate(policy, ctx).allowed


@LAWS
@given(policies, st.sampled_from(["Offer", "Agreement"]))
def test_odrl_and_json_round_trips_give_the_same_policy(policy: Policy, kind: Any) -> None:
    doc = to_odrl(
        policy, "urn:sandan:offer:1", "urn:sandan:company:1", "urn:sandan:company:2", kind
    )
    assert from_odrl(json.loads(json.dumps(doc))) == policy
    assert Policy.model_validate_json(policy.model_dump_json()) == policy
    assert all(describe(policy, "en")) and all(describe(policy, "ko"))


@LAWS
@given(policies, contexts)
def test_decisions_are_deterministic_and_explain_every_denial(
    policy: Policy, ctx: AccessContext
) -> None:
    decision = evaluate(policy, ctx)
    assert evaluate(policy, ctx) == decision
    assert evaluate(from_odrl(to_odrl(policy, "urn:t", "urn:a")), ctx) == decision
    assert bool(decision.reasons) is not decision.allowed
    assert all(r.message and hangul(r.message_ko) for r in decision.reasons)
    if not decision.allowed:
        assert decision.duties == [] and remaining(policy, ctx) == Quota(0, 0, 0)


@LAWS
@given(st.one_of(policies, volume_policies), contexts)
def test_using_up_the_remaining_quota_stays_allowed(policy: Policy, ctx: AccessContext) -> None:
    quota = remaining(policy, ctx)
    allowed = evaluate(policy, ctx).allowed
    for counter, more in (("count", quota.pulls), ("rows", quota.rows), ("bytes", quota.bytes)):
        if allowed and more is not None:
            assert more >= 0
            used = getattr(ctx, counter)
            assert evaluate(policy, replace(ctx, **{counter: used + more})).allowed
