"""The ISA-18.2 alarm state machine, pure: a status is a few flags, the state shown to the
operator is derived from them, and each event moves the flags.

Flags: `in_alarm` (the process condition is abnormal now), `acked` (the latest occurrence was
acknowledged), `held` (a latching alarm stays active until reset), and three overlays that hide
the alarm from the operator: `shelved` (an operator, for a while), `suppressed` (by design,
from logic) and `out_of_service` (maintenance). Precedence: out of service > suppressed >
shelved > the alarm itself.

When the last overlay is lifted the alarm is re-evaluated: still abnormal → unacknowledged
(announced again), clear → normal (what happened while hidden is in the journal).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class State(StrEnum):
    """What the operator sees (ISA-18.2 §10, OPC UA Part 9)."""

    normal = "normal"
    unacknowledged = "unacknowledged"
    acknowledged = "acknowledged"
    rtn_unacknowledged = "rtn_unacknowledged"
    shelved = "shelved"
    suppressed = "suppressed"
    out_of_service = "out_of_service"


class Event(StrEnum):
    """What can happen to an alarm: process events, logic events and operator actions."""

    alarm = "alarm"  # the condition became abnormal
    clear = "clear"  # the condition returned to normal
    acknowledge = "acknowledge"
    shelve = "shelve"
    unshelve = "unshelve"  # by the operator or when the shelf time runs out
    suppress = "suppress"
    unsuppress = "unsuppress"
    remove = "remove"  # out of service
    restore = "restore"  # back in service
    reset = "reset"  # release a latched alarm


# Process and logic events never fail (the world does not ask permission); operator actions
# are refused where ISA-18.2 does not allow them.
AUTOMATIC = frozenset({Event.alarm, Event.clear, Event.suppress, Event.unsuppress})
ANNUNCIATED = frozenset({State.unacknowledged, State.acknowledged, State.rtn_unacknowledged})


class InvalidTransition(Exception):
    """An operator action that the alarm's state does not allow."""

    def __init__(self, state: State, event: Event) -> None:
        super().__init__(f"cannot {event.value} an alarm that is {state.value}")
        self.state, self.event = state, event


@dataclass(frozen=True)
class Status:
    """The flags of one alarm; the default is a normal, closed alarm."""

    in_alarm: bool = False
    acked: bool = True
    held: bool = False
    shelved: bool = False
    suppressed: bool = False
    out_of_service: bool = False

    @property
    def state(self) -> State:
        if self.out_of_service:
            return State.out_of_service
        if self.suppressed:
            return State.suppressed
        if self.shelved:
            return State.shelved
        if self.in_alarm or self.held:
            return State.acknowledged if self.acked else State.unacknowledged
        return State.normal if self.acked else State.rtn_unacknowledged

    @property
    def hidden(self) -> bool:
        return self.out_of_service or self.suppressed or self.shelved

    @property
    def open(self) -> bool:
        """An open alarm keeps its row; a normal one is closed."""
        return self.state is not State.normal


def _reveal(status: Status) -> Status:
    """Re-evaluate when the last overlay goes: abnormal → announced again, clear → normal."""
    if status.hidden:
        return status
    if status.in_alarm:
        return replace(status, acked=False)
    return replace(status, acked=True, held=False)


def apply(status: Status, event: Event, *, latching: bool = False) -> Status:
    """The status after `event`; raises InvalidTransition for a refused operator action."""
    state = status.state
    if event is Event.alarm:
        if status.in_alarm:
            return status
        return replace(status, in_alarm=True, acked=False, held=latching or status.held)
    if event is Event.clear:
        return replace(status, in_alarm=False)
    if event is Event.suppress:
        return replace(status, suppressed=True)
    if event is Event.unsuppress:
        return _reveal(replace(status, suppressed=False)) if status.suppressed else status
    if event is Event.acknowledge and state in (State.unacknowledged, State.rtn_unacknowledged):
        return replace(status, acked=True)
    if event is Event.shelve and state in ANNUNCIATED:
        return replace(status, shelved=True)
    if event is Event.unshelve and status.shelved:
        return _reveal(replace(status, shelved=False))
    if event is Event.remove and not status.out_of_service:
        return replace(status, out_of_service=True)
    if event is Event.restore and status.out_of_service:
        return _reveal(replace(status, out_of_service=False))
    if event is Event.reset and state is State.acknowledged and status.held and not status.in_alarm:
        return replace(status, held=False)
    raise InvalidTransition(state, event)


def opened(*, latching: bool, suppressed: bool = False, out_of_service: bool = False) -> Status:
    """A new occurrence: the condition just became abnormal."""
    start = Status(suppressed=suppressed, out_of_service=out_of_service)
    return apply(start, Event.alarm, latching=latching)
