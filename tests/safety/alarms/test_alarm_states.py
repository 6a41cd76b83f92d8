"""The ISA-18.2 state machine, exhaustively: every (state, condition, event) pair from a
hand-written table, latching separately, then hypothesis walks of random event sequences."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandan.safety.alarms.states import (
    AUTOMATIC,
    Event,
    InvalidTransition,
    State,
    Status,
    apply,
    opened,
)

N, U, A, R = "normal", "unacknowledged", "acknowledged", "rtn_unacknowledged"
S, Z, O, X = "shelved", "suppressed", "out_of_service", "refused"  # noqa: E741
EVENTS = list(
    Event
)  # alarm clear acknowledge shelve unshelve suppress unsuppress remove restore reset

# Start statuses: a name per (state, condition active?) and, for latching, held variants.
STARTS = {
    "N": Status(),
    "U+": Status(in_alarm=True, acked=False),
    "A+": Status(in_alarm=True, acked=True),
    "R-": Status(in_alarm=False, acked=False),
    "S+": Status(in_alarm=True, acked=False, shelved=True),
    "S-": Status(in_alarm=False, acked=True, shelved=True),
    "Z+": Status(in_alarm=True, acked=False, suppressed=True),
    "Z-": Status(in_alarm=False, acked=True, suppressed=True),
    "O+": Status(in_alarm=True, acked=False, out_of_service=True),
    "O-": Status(in_alarm=False, acked=True, out_of_service=True),
}
# Rows in EVENTS order.
TABLE = {
    #       alarm clear ack shelve unshelve supp unsupp remove restore reset
    "N": (U, N, X, X, X, Z, N, O, X, X),
    "U+": (U, R, A, S, X, Z, U, O, X, X),
    "A+": (A, N, X, S, X, Z, A, O, X, X),
    "R-": (U, R, N, S, X, Z, R, O, X, X),
    "S+": (S, S, X, X, U, Z, S, O, X, X),
    "S-": (S, S, X, X, N, Z, S, O, X, X),
    "Z+": (Z, Z, X, X, X, Z, U, O, X, X),
    "Z-": (Z, Z, X, X, X, Z, N, O, X, X),
    "O+": (O, O, X, X, X, O, O, X, U, X),
    "O-": (O, O, X, X, X, O, O, X, N, X),
}
LATCHED = {
    "UH+": Status(in_alarm=True, acked=False, held=True),
    "UH-": Status(in_alarm=False, acked=False, held=True),
    "AH+": Status(in_alarm=True, acked=True, held=True),
    "AH-": Status(in_alarm=False, acked=True, held=True),
}
LATCHED_TABLE = {
    "UH+": (U, U, A, S, X, Z, U, O, X, X),  # clear: a latched alarm stays up
    "UH-": (U, U, A, S, X, Z, U, O, X, X),
    "AH+": (A, A, X, S, X, Z, A, O, X, X),  # reset refused while the condition is active
    "AH-": (U, A, X, S, X, Z, A, O, X, N),  # reset releases it; a new alarm re-announces
}


def _cases(starts: dict[str, Status], table: dict[str, tuple[str, ...]], latching: bool):
    for name, status in starts.items():
        for event, expected in zip(EVENTS, table[name], strict=True):
            yield pytest.param(status, event, expected, latching, id=f"{name}-{event.value}")


@pytest.mark.parametrize(
    ("status", "event", "expected", "latching"),
    [*_cases(STARTS, TABLE, False), *_cases(LATCHED, LATCHED_TABLE, True)],
)
def test_every_state_and_event(status: Status, event: Event, expected: str, latching: bool) -> None:
    if expected == X:
        assert event not in AUTOMATIC  # the world is never refused
        with pytest.raises(InvalidTransition):
            apply(status, event, latching=latching)
    else:
        assert apply(status, event, latching=latching).state == State(expected)


def test_the_table_covers_every_state_and_event() -> None:
    seen = {s.state for s in STARTS.values()} | {s.state for s in LATCHED.values()}
    assert seen == set(State)
    assert all(len(row) == len(EVENTS) for row in (*TABLE.values(), *LATCHED_TABLE.values()))


def test_overlays_stack_and_reveal_only_when_the_last_goes() -> None:
    s = apply(Status(in_alarm=True, acked=False), Event.shelve)
    s = apply(s, Event.suppress)
    s = apply(s, Event.remove)
    assert s.state == State.out_of_service
    s = apply(s, Event.restore)
    assert s.state == State.suppressed
    s = apply(s, Event.clear)
    s = apply(s, Event.unsuppress)
    assert s.state == State.shelved
    assert apply(s, Event.unshelve).state == State.normal  # cleared while hidden


def test_a_latching_alarm_needs_ack_and_reset_after_it_clears() -> None:
    s = opened(latching=True)
    s = apply(s, Event.clear, latching=True)
    assert s.state == State.unacknowledged
    with pytest.raises(InvalidTransition):
        apply(s, Event.reset, latching=True)  # not acknowledged yet
    s = apply(s, Event.acknowledge, latching=True)
    assert s.state == State.acknowledged
    assert apply(s, Event.reset, latching=True).state == State.normal


@given(
    st.booleans(),
    st.lists(st.sampled_from(EVENTS), max_size=40),
)
def test_random_walks_keep_the_invariants(latching: bool, events: list[Event]) -> None:
    status = Status()
    for event in events:
        try:
            after = apply(status, event, latching=latching)
        except InvalidTransition:
            assert event not in AUTOMATIC
            continue
        state = after.state
        if event is Event.acknowledge:
            assert state in (State.acknowledged, State.normal)
        if event is Event.alarm and not status.in_alarm and not after.hidden:
            assert state == State.unacknowledged  # every new occurrence is announced
        if not latching:
            assert not after.held
        if state == State.rtn_unacknowledged:
            assert not after.in_alarm
        if state == State.acknowledged:
            assert after.in_alarm or after.held
        if not after.hidden and after.in_alarm:
            assert state in (State.unacknowledged, State.acknowledged)
        if (
            latching
            and status.held
            and event not in (Event.reset, Event.unshelve, Event.unsuppress, Event.restore)
        ):
            assert after.held  # only a reset (or re-evaluation when unhidden) releases it
        assert after.open == (state != State.normal)
        status = after
