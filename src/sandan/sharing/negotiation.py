"""The contract negotiation and transfer process state machines of the Dataspace Protocol.

Pure rules, no database: the service stores the state, these tables say which message may
move it where. Both tables follow DSP (`contract.negotiation.protocol.md`,
`transfer.process.protocol.md`) so that a remote EDC connector and we agree on every step;
if the two sides' states diverge, DSP says the negotiation is terminated, so a refused
message is an error (409) and never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType
from typing import Self, TypeVar

from sandan.core.errors import Conflict, ValidationFailed

DSP_PREFIX = "dspace:"


class _DspState(StrEnum):
    """Lower-case values for our tables; DSP's upper-case names for the wire."""

    @property
    def dsp(self) -> str:
        """The name DSP messages carry, e.g. "dspace:REQUESTED"."""
        return DSP_PREFIX + self.name

    @classmethod
    def from_dsp(cls, name: str) -> Self:
        """Parse a state a remote connector reported ("dspace:AGREED" or "AGREED")."""
        # DSP 2024-1 writes "dspace:REQUESTED", DSP 2025-1 plain "REQUESTED"; accept both.
        try:
            return cls(name.removeprefix(DSP_PREFIX).lower())
        except ValueError:
            raise ValidationFailed.one("state", f"not a DSP {cls.__name__}: {name!r}") from None


class NegotiationState(_DspState):
    """The DSP contract negotiation states; FINALIZED and TERMINATED are final."""

    REQUESTED = "requested"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    AGREED = "agreed"
    VERIFIED = "verified"
    FINALIZED = "finalized"
    TERMINATED = "terminated"


class Party(StrEnum):
    """The two sides of a negotiation or transfer."""

    CONSUMER = "consumer"
    PROVIDER = "provider"


class NegotiationMessage(StrEnum):
    """What a party can send; each maps to one DSP message."""

    CONTRACT_REQUEST = "contract_request"  # C: ContractRequestMessage (initial or counter)
    CONTRACT_OFFER = "contract_offer"  # P: ContractOfferMessage (initial or counter)
    ACCEPT = "accept"  # C: ContractNegotiationEventMessage ACCEPTED
    AGREE = "agree"  # P: ContractAgreementMessage
    VERIFY = "verify"  # C: ContractAgreementVerificationMessage
    FINALIZE = "finalize"  # P: ContractNegotiationEventMessage FINALIZED
    TERMINATE = "terminate"  # C or P: ContractNegotiationTerminationMessage


class TransferState(_DspState):
    """The DSP transfer process states; COMPLETED and TERMINATED are final."""

    REQUESTED = "requested"
    STARTED = "started"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class TransferMessage(StrEnum):
    """What moves a transfer process; either party may send any of them in DSP."""

    REQUEST = "request"  # TransferRequestMessage
    START = "start"  # TransferStartMessage
    SUSPEND = "suspend"  # TransferSuspensionMessage
    RESUME = "resume"  # TransferStartMessage sent while SUSPENDED
    COMPLETE = "complete"  # TransferCompletionMessage
    TERMINATE = "terminate"  # TransferTerminationMessage


class InvalidTransition(Conflict):
    """The message is not allowed in the current state (or not from this sender)."""

    def __init__(
        self,
        message: str,
        *,
        state: str | None,
        sent: str,
        sender: str | None = None,
        allowed: list[str],
    ) -> None:
        super().__init__(message)
        self.state = state
        self.sent = sent
        self.sender = sender
        self.allowed = allowed
        self.extra = {"state": state, "message": sent, "sender": sender, "allowed": allowed}


NEGOTIATION_FINAL: frozenset[NegotiationState] = frozenset(
    {NegotiationState.FINALIZED, NegotiationState.TERMINATED}
)
TRANSFER_FINAL: frozenset[TransferState] = frozenset(
    {TransferState.COMPLETED, TransferState.TERMINATED}
)

_S = NegotiationState
_M = NegotiationMessage
_C = Party.CONSUMER
_P = Party.PROVIDER

_NEGOTIATION_STEPS: dict[tuple[NegotiationState | None, NegotiationMessage, Party], _S] = {
    # Either party may end any negotiation that is not over yet.
    **{
        (s, _M.TERMINATE, p): _S.TERMINATED for s in _S if s not in NEGOTIATION_FINAL for p in Party
    },
    # The consumer opens with a request, or the provider with an offer (provider-initiated).
    (None, _M.CONTRACT_REQUEST, _C): _S.REQUESTED,
    (None, _M.CONTRACT_OFFER, _P): _S.OFFERED,
    (_S.REQUESTED, _M.CONTRACT_OFFER, _P): _S.OFFERED,
    # The provider takes the consumer's request as it is: no ACCEPTED step then.
    (_S.REQUESTED, _M.AGREE, _P): _S.AGREED,
    (_S.OFFERED, _M.CONTRACT_REQUEST, _C): _S.REQUESTED,
    (_S.OFFERED, _M.ACCEPT, _C): _S.ACCEPTED,
    (_S.ACCEPTED, _M.AGREE, _P): _S.AGREED,
    (_S.AGREED, _M.VERIFY, _C): _S.VERIFIED,
    (_S.VERIFIED, _M.FINALIZE, _P): _S.FINALIZED,
}
NEGOTIATION_TRANSITIONS: Mapping[
    tuple[NegotiationState | None, NegotiationMessage, Party], NegotiationState
] = MappingProxyType(_NEGOTIATION_STEPS)
"""(state before — None for a new negotiation —, message, sender) → state after."""

_T = TransferState
_TM = TransferMessage

_TRANSFER_STEPS: dict[tuple[TransferState | None, TransferMessage], TransferState] = {
    **{(s, _TM.TERMINATE): _T.TERMINATED for s in _T if s not in TRANSFER_FINAL},
    (None, _TM.REQUEST): _T.REQUESTED,
    (_T.REQUESTED, _TM.START): _T.STARTED,
    (_T.STARTED, _TM.SUSPEND): _T.SUSPENDED,
    (_T.SUSPENDED, _TM.RESUME): _T.STARTED,
    # DSP itself resumes with a TransferStartMessage, so a remote "start" means resume here.
    (_T.SUSPENDED, _TM.START): _T.STARTED,
    (_T.STARTED, _TM.COMPLETE): _T.COMPLETED,
}
TRANSFER_TRANSITIONS: Mapping[tuple[TransferState | None, TransferMessage], TransferState] = (
    MappingProxyType(_TRANSFER_STEPS)
)
"""(state before — None for a new transfer —, message) → state after."""


_E = TypeVar("_E", bound=StrEnum)


def _parse(kind: type[_E], value: str, field: str) -> _E:
    # Rows read back from the database carry plain strings; an unknown one is bad input.
    try:
        return kind(value)
    except ValueError:
        raise ValidationFailed.one(field, f"unknown {field}: {value!r}") from None


def is_final(state: NegotiationState | TransferState | None) -> bool:
    """True once nothing can move the negotiation or transfer any more."""
    if isinstance(state, NegotiationState):
        return state in NEGOTIATION_FINAL
    if isinstance(state, TransferState):
        return state in TRANSFER_FINAL
    return False


def _refusal(
    head: str,
    state: NegotiationState | TransferState | None,
    message: StrEnum,
    allowed: Sequence[StrEnum],
    sender: Party | None = None,
) -> InvalidTransition:
    """The error for a refused message: what was tried, and what would have been allowed."""
    if state is not None and is_final(state):
        tail = f": {state.name} is final"
    else:
        tail = "; allowed: " + ", ".join(f"'{m.value}'" for m in allowed)
    return InvalidTransition(
        head + tail,
        state=None if state is None else state.value,
        sent=message.value,
        sender=None if sender is None else sender.value,
        allowed=[m.value for m in allowed],
    )


def allowed_messages(state: NegotiationState | None, sender: Party) -> list[NegotiationMessage]:
    """The messages `sender` may send now, in protocol order (the buttons the UI shows)."""
    state = None if state is None else _parse(NegotiationState, state, "state")
    sender = _parse(Party, sender, "sender")
    return [m for m in NegotiationMessage if (state, m, sender) in NEGOTIATION_TRANSITIONS]


def next_state(
    state: NegotiationState | None, message: NegotiationMessage, sender: Party
) -> NegotiationState:
    """The state `message` from `sender` leads to; raises InvalidTransition if not allowed."""
    state = None if state is None else _parse(NegotiationState, state, "state")
    message = _parse(NegotiationMessage, message, "message")
    sender = _parse(Party, sender, "sender")
    after = NEGOTIATION_TRANSITIONS.get((state, message, sender))
    if after is not None:
        return after
    where = "to start a negotiation" if state is None else f"in state {state.name}"
    raise _refusal(
        f"a {sender.value} cannot send '{message.value}' {where}",
        state,
        message,
        allowed_messages(state, sender),
        sender,
    )


def allowed_transfer_messages(state: TransferState | None) -> list[TransferMessage]:
    """The messages that may move a transfer in `state`, in protocol order."""
    state = None if state is None else _parse(TransferState, state, "state")
    return [m for m in TransferMessage if (state, m) in TRANSFER_TRANSITIONS]


def next_transfer_state(state: TransferState | None, message: TransferMessage) -> TransferState:
    """The state `message` leads a transfer to; raises InvalidTransition if not allowed."""
    state = None if state is None else _parse(TransferState, state, "state")
    message = _parse(TransferMessage, message, "message")
    after = TRANSFER_TRANSITIONS.get((state, message))
    if after is not None:
        return after
    where = "a new transfer" if state is None else f"a transfer in state {state.name}"
    raise _refusal(
        f"cannot '{message.value}' {where}", state, message, allowed_transfer_messages(state)
    )
