"""The DSP negotiation and transfer state machines: every allowed step, every refused one."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sandan.core.errors import Conflict, ValidationFailed
from sandan.sharing.negotiation import (
    InvalidTransition,
    NegotiationMessage,
    NegotiationState,
    Party,
    TransferMessage,
    TransferState,
    allowed_messages,
    allowed_transfer_messages,
    is_final,
    next_state,
    next_transfer_state,
)

S = NegotiationState
M = NegotiationMessage
C = Party.CONSUMER
P = Party.PROVIDER

# Written out from the DSP state diagram by hand, in plain strings, so that a slip in the
# module's table does not repeat itself here. "new" is a negotiation not yet started.
EXPECTED_NEGOTIATION = {
    ("new", "contract_request", "consumer"): "requested",
    ("new", "contract_offer", "provider"): "offered",
    ("requested", "contract_offer", "provider"): "offered",
    ("requested", "agree", "provider"): "agreed",
    ("offered", "contract_request", "consumer"): "requested",
    ("offered", "accept", "consumer"): "accepted",
    ("accepted", "agree", "provider"): "agreed",
    ("agreed", "verify", "consumer"): "verified",
    ("verified", "finalize", "provider"): "finalized",
}
NOT_FINAL = ["requested", "offered", "accepted", "agreed", "verified"]
for _s in NOT_FINAL:
    for _p in ("consumer", "provider"):
        EXPECTED_NEGOTIATION[(_s, "terminate", _p)] = "terminated"

EXPECTED_TRANSFER = {
    ("new", "request"): "requested",
    ("requested", "start"): "started",
    ("started", "suspend"): "suspended",
    ("suspended", "resume"): "started",
    ("suspended", "start"): "started",
    ("started", "complete"): "completed",
    ("requested", "terminate"): "terminated",
    ("started", "terminate"): "terminated",
    ("suspended", "terminate"): "terminated",
}


def _name(state: NegotiationState | TransferState | None) -> str:
    return "new" if state is None else state.value


def walk(steps: list[tuple[NegotiationMessage, Party]]) -> list[NegotiationState]:
    """Apply the steps from a new negotiation; the states passed through."""
    state: NegotiationState | None = None
    path = []
    for message, sender in steps:
        state = next_state(state, message, sender)
        path.append(state)
    return path


def test_happy_path_with_counter_offer() -> None:
    path = walk(
        [
            (M.CONTRACT_REQUEST, C),
            (M.CONTRACT_OFFER, P),
            (M.ACCEPT, C),
            (M.AGREE, P),
            (M.VERIFY, C),
            (M.FINALIZE, P),
        ]
    )
    assert path == [S.REQUESTED, S.OFFERED, S.ACCEPTED, S.AGREED, S.VERIFIED, S.FINALIZED]
    assert [is_final(s) for s in path] == [False] * 5 + [True]


def test_direct_agreement_skips_accepted() -> None:
    path = walk([(M.CONTRACT_REQUEST, C), (M.AGREE, P), (M.VERIFY, C), (M.FINALIZE, P)])
    assert path == [S.REQUESTED, S.AGREED, S.VERIFIED, S.FINALIZED]
    assert S.ACCEPTED not in path


def test_consumer_counter_request_and_provider_initiated_flow() -> None:
    path = walk(
        [
            (M.CONTRACT_OFFER, P),  # the provider opens
            (M.CONTRACT_REQUEST, C),  # the consumer counters
            (M.CONTRACT_OFFER, P),  # and the provider again
            (M.ACCEPT, C),
        ]
    )
    assert path == [S.OFFERED, S.REQUESTED, S.OFFERED, S.ACCEPTED]


@pytest.mark.parametrize(
    ("state", "message", "sender"),
    list(itertools.product([None, *NegotiationState], NegotiationMessage, Party)),
)
def test_every_pair_matches_the_hand_written_table(
    state: NegotiationState | None, message: NegotiationMessage, sender: Party
) -> None:
    expected = EXPECTED_NEGOTIATION.get((_name(state), message.value, sender.value))
    if expected is not None:
        assert next_state(state, message, sender).value == expected
        assert message in allowed_messages(state, sender)
        return
    with pytest.raises(InvalidTransition) as refused:
        next_state(state, message, sender)
    assert message not in allowed_messages(state, sender)
    error = refused.value
    assert isinstance(error, Conflict)
    assert error.status_code == 409
    assert f"a {sender.value} cannot send '{message.value}'" in error.message
    where = "to start a negotiation" if state is None else f"in state {state.name}"
    assert where in error.message
    assert error.body()["allowed"] == [m.value for m in allowed_messages(state, sender)]


def test_refusal_reads_well() -> None:
    with pytest.raises(InvalidTransition) as refused:
        next_state(S.REQUESTED, M.AGREE, C)
    assert str(refused.value).startswith("a consumer cannot send 'agree' in state REQUESTED")
    assert "'terminate'" in str(refused.value)  # tells what the consumer may do instead
    with pytest.raises(InvalidTransition, match="FINALIZED is final"):
        next_state(S.FINALIZED, M.TERMINATE, P)


def test_allowed_messages_are_the_buttons() -> None:
    assert allowed_messages(None, C) == [M.CONTRACT_REQUEST]
    assert allowed_messages(None, P) == [M.CONTRACT_OFFER]
    assert allowed_messages(S.OFFERED, C) == [M.CONTRACT_REQUEST, M.ACCEPT, M.TERMINATE]
    assert allowed_messages(S.REQUESTED, P) == [M.CONTRACT_OFFER, M.AGREE, M.TERMINATE]
    assert allowed_messages(S.AGREED, P) == [M.TERMINATE]
    assert allowed_messages(S.TERMINATED, C) == []


@pytest.mark.parametrize("state", [s for s in NegotiationState if s.value in NOT_FINAL])
@pytest.mark.parametrize("sender", list(Party))
def test_terminate_from_every_non_final_state(state: NegotiationState, sender: Party) -> None:
    assert not is_final(state)
    assert next_state(state, M.TERMINATE, sender) is S.TERMINATED


@pytest.mark.parametrize("state", [S.FINALIZED, S.TERMINATED])
def test_nothing_leaves_a_final_state(state: NegotiationState) -> None:
    assert is_final(state)
    for message, sender in itertools.product(NegotiationMessage, Party):
        with pytest.raises(InvalidTransition):
            next_state(state, message, sender)
        assert allowed_messages(state, sender) == []


def test_dsp_names_round_trip() -> None:
    for state in NegotiationState:
        assert state.dsp == "dspace:" + state.value.upper()
        assert NegotiationState.from_dsp(state.dsp) is state
        assert NegotiationState.from_dsp(state.value.upper()) is state  # DSP 2025-1 style
    for tstate in TransferState:
        assert TransferState.from_dsp(tstate.dsp) is tstate
    with pytest.raises(ValidationFailed, match="not a DSP NegotiationState"):
        NegotiationState.from_dsp("dspace:STARTED")


def test_plain_strings_from_the_database_work_and_unknown_ones_are_refused() -> None:
    assert next_state("offered", "accept", "consumer") is S.ACCEPTED  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="unknown message"):
        next_state(S.OFFERED, "approve", C)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ transfer


@pytest.mark.parametrize(
    ("state", "message"), list(itertools.product([None, *TransferState], TransferMessage))
)
def test_every_transfer_pair_matches_the_hand_written_table(
    state: TransferState | None, message: TransferMessage
) -> None:
    expected = EXPECTED_TRANSFER.get((_name(state), message.value))
    if expected is not None:
        assert next_transfer_state(state, message).value == expected
        assert message in allowed_transfer_messages(state)
        return
    with pytest.raises(InvalidTransition, match=f"cannot '{message.value}'") as refused:
        next_transfer_state(state, message)
    assert refused.value.status_code == 409
    assert message not in allowed_transfer_messages(state)


def test_transfer_life_with_a_pause() -> None:
    state = next_transfer_state(None, TransferMessage.REQUEST)
    for message in ("start", "suspend", "resume", "suspend", "start", "complete"):
        state = next_transfer_state(state, TransferMessage(message))
    assert state is TransferState.COMPLETED
    assert is_final(state)
    assert allowed_transfer_messages(state) == []


@pytest.mark.parametrize("state", [TransferState.COMPLETED, TransferState.TERMINATED])
def test_nothing_leaves_a_final_transfer_state(state: TransferState) -> None:
    assert is_final(state)
    for message in TransferMessage:
        with pytest.raises(InvalidTransition, match="is final"):
            next_transfer_state(state, message)


# ---------------------------------------------------------------------------- properties


class NegotiationWalk(RuleBasedStateMachine):
    """Both parties send anything; only accepted messages move the negotiation."""

    def __init__(self) -> None:
        super().__init__()
        self.state: NegotiationState | None = None
        self.path: list[NegotiationState] = []

    @rule(message=st.sampled_from(NegotiationMessage), sender=st.sampled_from(Party))
    def send(self, message: NegotiationMessage, sender: Party) -> None:
        before = self.state
        allowed = message in allowed_messages(before, sender)
        try:
            after = next_state(before, message, sender)
        except InvalidTransition:
            assert not allowed
            return
        assert allowed
        assert not is_final(before), f"{message} moved the final state {before}"
        self.state = after
        self.path.append(after)

    @invariant()
    def finalized_only_through_agreed_and_verified(self) -> None:
        if S.FINALIZED in self.path:
            assert self.path[-3:] == [S.AGREED, S.VERIFIED, S.FINALIZED]

    @invariant()
    def nothing_after_a_final_state(self) -> None:
        for i, state in enumerate(self.path):
            if is_final(state):
                assert i == len(self.path) - 1


TestNegotiationWalk = NegotiationWalk.TestCase
TestNegotiationWalk.settings = settings(max_examples=200, stateful_step_count=30)


@given(st.lists(st.sampled_from(TransferMessage), max_size=40))
def test_transfer_random_walk_stops_at_a_final_state(messages: list[TransferMessage]) -> None:
    state: TransferState | None = None
    seen_final = False
    for message in messages:
        try:
            after = next_transfer_state(state, message)
        except InvalidTransition:
            continue
        assert not seen_final, "a final transfer state was left"
        if after is TransferState.COMPLETED:
            assert state is TransferState.STARTED  # only a running transfer completes
        state = after
        seen_final = is_final(state)
