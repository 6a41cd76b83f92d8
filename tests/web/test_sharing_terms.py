"""The terms the sharing pages edit by hand: they survive the trip through a policy, editing
them keeps every other rule of the policy under negotiation, and the policy they build is
evaluated as the form said. Also the small words the pages add (recipient names, months)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sandan.sharing import policy as odrl
from sandan.web.formats import recent_months
from sandan.web.sharing_terms import DAY, RESOLUTIONS, Terms
from sandan.web.sharing_ui import LEGEND, describe, recipients

C = odrl.Constraint
terms_strategy = st.builds(
    Terms,
    purpose=st.none() | st.sampled_from(sorted(odrl.PURPOSES)),
    days=st.none() | st.integers(1, 3650),
    max_pulls=st.none() | st.integers(1, 1_000_000),
    min_resolution=st.sampled_from(RESOLUTIONS),
    no_redistribution=st.booleans(),
)


def _base() -> odrl.Policy:
    """A policy with rules the form does not edit, next to ones it does."""
    return odrl.Policy(
        uid="urn:p:base",
        permissions=(
            odrl.Permission(
                action=odrl.Action.use,
                constraints=(
                    C(left="recipient", operator="eq", right=7),
                    C(left="count", operator="lteq", right=10),
                    C(left="fields", operator="is_any_of", right=["kwh", "oee"]),
                    C(left="purpose", operator="eq", right="research"),
                ),
                duties=(odrl.Duty(action=odrl.Action.delete, delay_days=30),),
            ),
            odrl.Permission(action=odrl.Action.distribute),
        ),
        prohibitions=(
            odrl.Prohibition(
                action=odrl.Action.use,
                constraints=(C(left="recipient_zone", operator="eq", right="Z9"),),
            ),
        ),
        obligations=(odrl.Duty(action=odrl.Action.attribute, text="Source: L1"),),
    )


@given(terms_strategy)
def test_terms_survive_a_policy(terms: Terms) -> None:
    assert Terms.of(terms.policy()) == terms


@given(terms_strategy)
def test_editing_keeps_the_rules_the_form_does_not_show(terms: Terms) -> None:
    base = _base()
    edited = terms.policy(base)
    assert Terms.of(edited) == terms
    assert edited.uid != base.uid
    use = edited.permissions[0]
    kept = {(c.left, c.operator, c.right) for c in use.constraints}
    assert (odrl.Operand.recipient, odrl.Operator.eq, 7) in kept
    assert (odrl.Operand.fields, odrl.Operator.is_any_of, ("kwh", "oee")) in kept
    assert use.duties == base.permissions[0].duties
    assert edited.permissions[1:] == base.permissions[1:]
    assert base.prohibitions[0] in edited.prohibitions
    assert edited.obligations == base.obligations
    # an edited kind of constraint appears once at most: the old value does not linger
    counted = [c for c in use.constraints if c.left is odrl.Operand.count]
    assert len(counted) == (1 if terms.max_pulls else 0)


def test_a_recipient_is_added_once() -> None:
    fresh = Terms().policy(recipient=5)
    assert recipients(fresh) == {5}
    again = Terms().policy(fresh, recipient=5)
    assert [c.left for c in again.permissions[0].constraints].count(odrl.Operand.recipient) == 1


def test_the_policy_is_evaluated_as_the_form_said() -> None:
    signed = datetime(2026, 3, 1, tzinfo=UTC)
    policy = Terms(purpose="maintenance", days=2, max_pulls=3, min_resolution=3600).policy()

    def pull(n: int, *, after: timedelta, resolution: int, purpose: str) -> bool:
        context = odrl.AccessContext(
            at=signed + after,
            agreed_at=signed,
            purpose=purpose,
            count=n,
            resolution=resolution,
        )
        return odrl.evaluate(policy, context).allowed

    assert pull(3, after=timedelta(days=1), resolution=3600, purpose="maintenance")
    assert not pull(4, after=timedelta(days=1), resolution=3600, purpose="maintenance")
    assert not pull(1, after=timedelta(days=2, seconds=1), resolution=3600, purpose="maintenance")
    assert not pull(1, after=timedelta(days=1), resolution=60, purpose="maintenance")
    assert not pull(1, after=timedelta(days=1), resolution=3600, purpose="research")
    distribute = odrl.AccessContext(at=signed, action=odrl.Action.distribute, agreed_at=signed)
    assert not odrl.evaluate(policy, distribute).allowed
    assert Terms.of(policy).days == 2 and 2 * DAY in {
        c.right for c in policy.permissions[0].constraints
    }


def test_recipients_are_named_in_both_languages() -> None:
    policy = Terms().policy(recipient=2)
    ko = describe(policy, "ko", {2: "낙동뉴디스플레이(주)"})
    en = describe(policy, "en", {2: "Nakdong"})
    assert ko[-1] == f"{LEGEND}수령 회사 2 = 낙동뉴디스플레이(주)"
    assert en[-1] == f"{LEGEND}recipient 2 = Nakdong"
    assert describe(policy, "en", {}) == odrl.describe(policy, "en")  # unknown: left as ids


def test_recent_months_cross_the_year() -> None:
    assert recent_months("2026-02", 4) == ["2026-02", "2026-01", "2025-12", "2025-11"]
