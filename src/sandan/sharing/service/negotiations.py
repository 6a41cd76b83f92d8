"""Contract negotiation after the Dataspace Protocol, between companies of this complex (the
hosted connector acts for both) or with a remote connector (see `sharing/dsp.py`).

The provider's `agree` signs the agreement with its Ed25519 key. The consumer's hosted
connector then verifies that the agreement is what the consumer asked for or accepted and
countersigns (VERIFIED), and the provider's finalizes (FINALIZED): as in EDC, those two steps
are automatic once both sides have said yes. An offer with automatic approval agrees at once
to a request that takes its terms as they stand."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc, utcnow
from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.tenancy import found
from sandan.sharing import policy as odrl
from sandan.sharing import signing
from sandan.sharing.errors import WrongParty
from sandan.sharing.models import Agreement, Negotiation, NegotiationMessage, Offer
from sandan.sharing.negotiation import NegotiationMessage as Msg
from sandan.sharing.negotiation import NegotiationState as State
from sandan.sharing.negotiation import Party, allowed_messages, next_state
from sandan.sharing.schemas import NegotiationRequest, Proposal
from sandan.sharing.service import ledger
from sandan.sharing.service.offers import get_offer, offer_uid
from sandan.sharing.service.parties import participant_id, profile, public_key, sign_as


@dataclass(frozen=True)
class Keys:
    """What signing and charging need from the settings."""

    secret: str
    fee_rate: float


def _policy_json(policy: odrl.Policy) -> dict[str, Any]:
    return policy.model_dump(mode="json")


def check_purpose(purpose: str) -> None:
    """A request names a purpose of the shared vocabulary, or nothing can be agreed on it."""
    if purpose not in odrl.PURPOSES:
        known = ", ".join(sorted(odrl.PURPOSES))
        raise ValidationFailed.one("purpose", f"unknown purpose {purpose!r}; one of: {known}")


def record_step(
    session: Session,
    negotiation: Negotiation,
    sender: Party,
    message: Msg,
    actor: str,
    policy: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    """Move the negotiation along the DSP state machine and keep the step in its timeline."""
    negotiation.state = next_state(State(negotiation.state), message, sender).value
    negotiation.updated_at = utcnow()
    session.add(
        NegotiationMessage(
            negotiation_id=negotiation.id,
            sender=sender.value,
            message=message.value,
            state=negotiation.state,
            policy=policy,
            note=note,
            actor=actor,
        )
    )


def open_request(session: Session, negotiation: Negotiation, actor: str, note: str = "") -> None:
    """Keep a new negotiation, with the consumer's opening request as its first step (a
    local company's, or a remote one's through `service/remote.py`)."""
    session.add(negotiation)
    session.flush()
    session.add(
        NegotiationMessage(
            negotiation_id=negotiation.id,
            sender=Party.CONSUMER.value,
            message=Msg.CONTRACT_REQUEST.value,
            state=negotiation.state,
            policy=negotiation.policy,
            actor=actor,
            note=note,
        )
    )


def start(
    session: Session, principal: Principal, data: NegotiationRequest, keys: Keys
) -> Negotiation:
    """A company asks for an offer it can see, for a purpose, on the offer's terms or its
    own; automatic approval of the offer's own terms signs at once."""
    if principal.company_id is None:
        raise PermissionDenied("only a company can ask for data; sign in as one of its users")
    check_purpose(data.purpose)
    offer = get_offer(session, principal, data.offer_id)
    if offer.company_id == principal.company_id:
        raise ValidationFailed.one("offer_id", "this is your own company's offer")
    if offer.status != "published":
        raise ValidationFailed.one("offer_id", "the offer was withdrawn")
    proposal = _policy_json(data.policy) if data.policy else offer.contract_policy
    negotiation = Negotiation(
        offer_id=offer.id,
        provider_company_id=offer.company_id,
        consumer_company_id=principal.company_id,
        provider_participant=participant_id(profile(session, offer.company_id)),
        consumer_participant=participant_id(profile(session, principal.company_id)),
        state=State.REQUESTED.value,
        purpose=data.purpose,
        policy=proposal,
    )
    open_request(session, negotiation, principal.actor)
    if offer.approval == "auto" and proposal == offer.contract_policy:
        agree(session, negotiation, offer, "system:auto-approval", keys)
    session.flush()
    return negotiation


def negotiations_readable(principal: Principal) -> Select[Negotiation]:
    """Negotiations the caller is a party of; the complex's staff see all."""
    stmt = select(Negotiation)
    if principal.is_operator:
        return stmt
    own = principal.company_id or 0
    return stmt.where(
        or_(Negotiation.provider_company_id == own, Negotiation.consumer_company_id == own)
    )


def get_negotiation(session: Session, principal: Principal, negotiation_id: int) -> Negotiation:
    stmt = negotiations_readable(principal).where(Negotiation.id == negotiation_id)
    return found(session.scalar(stmt), f"negotiation {negotiation_id}")


def list_negotiations(
    session: Session, principal: Principal, state: str | None = None
) -> list[Negotiation]:
    """The caller's inbox: negotiations it takes part in, newest first."""
    stmt = negotiations_readable(principal)
    if state:
        stmt = stmt.where(Negotiation.state == state)
    return list(session.scalars(stmt.order_by(Negotiation.updated_at.desc(), Negotiation.id)))


def messages(session: Session, negotiation_id: int) -> list[NegotiationMessage]:
    stmt = (
        select(NegotiationMessage)
        .where(NegotiationMessage.negotiation_id == negotiation_id)
        .order_by(NegotiationMessage.id)
    )
    return list(session.scalars(stmt))


def party_of(principal: Principal, negotiation: Negotiation) -> Party | None:
    """Which side the caller speaks for, if any (operators watch, they do not negotiate)."""
    if principal.company_id is None:
        return None
    if principal.company_id == negotiation.provider_company_id:
        return Party.PROVIDER
    if principal.company_id == negotiation.consumer_company_id:
        return Party.CONSUMER
    return None


def allowed_for(principal: Principal, negotiation: Negotiation) -> list[str]:
    party = party_of(principal, negotiation)
    if party is None:
        return []
    return [m.value for m in allowed_messages(State(negotiation.state), party)]


def _party(principal: Principal, negotiation: Negotiation) -> Party:
    party = party_of(principal, negotiation)
    if party is None:
        raise WrongParty("only the two companies of a negotiation can take part in it")
    return party


def counter(
    session: Session, principal: Principal, negotiation_id: int, proposal: Proposal
) -> Negotiation:
    """A counter-offer from the provider, or a counter-request from the consumer."""
    negotiation = get_negotiation(session, principal, negotiation_id)
    party = _party(principal, negotiation)
    message = Msg.CONTRACT_OFFER if party is Party.PROVIDER else Msg.CONTRACT_REQUEST
    policy = _policy_json(proposal.policy)
    record_step(session, negotiation, party, message, principal.actor, policy, proposal.note)
    negotiation.policy = policy
    session.flush()
    return negotiation


def accept(
    session: Session, principal: Principal, negotiation_id: int, keys: Keys, note: str = ""
) -> Negotiation:
    """The consumer accepts the provider's offer (→ ACCEPTED), or the provider accepts the
    consumer's request or acceptance and signs (→ AGREED, then verified and finalized)."""
    negotiation = get_negotiation(session, principal, negotiation_id)
    party = _party(principal, negotiation)
    if party is Party.CONSUMER:
        record_step(session, negotiation, party, Msg.ACCEPT, principal.actor, note=note)
        offer = session.get(Offer, negotiation.offer_id)
        if offer is not None and offer.approval == "auto":
            agree(session, negotiation, offer, "system:auto-approval", keys)
    else:
        offer = session.get(Offer, negotiation.offer_id)
        if offer is None:
            raise NotFound("the offer is gone")
        agree(session, negotiation, offer, principal.actor, keys, note)
    session.flush()
    return negotiation


def terminate(
    session: Session, principal: Principal, negotiation_id: int, note: str
) -> Negotiation:
    """Either party ends a negotiation that is not over."""
    negotiation = get_negotiation(session, principal, negotiation_id)
    party = _party(principal, negotiation)
    record_step(session, negotiation, party, Msg.TERMINATE, principal.actor, note=note)
    session.flush()
    return negotiation


def expiry(policy: odrl.Policy, signed_at: datetime) -> datetime | None:
    """When the agreement stops allowing use: the earliest end of a date window or of the
    time allowed since signing, over the permissions (None: no end)."""
    ends: list[datetime] = []
    for permission in policy.permissions:
        for c in permission.constraints:
            if c.left is odrl.Operand.date_time and c.operator in (
                odrl.Operator.lt,
                odrl.Operator.lteq,
            ):
                ends.append(as_utc(c.right))  # type: ignore[arg-type]
            if c.left is odrl.Operand.elapsed_time and c.operator in (
                odrl.Operator.lt,
                odrl.Operator.lteq,
            ):
                ends.append(signed_at + timedelta(seconds=float(c.right)))  # type: ignore[arg-type]
    return min(ends) if ends else None


def agree(
    session: Session,
    negotiation: Negotiation,
    offer: Offer,
    actor: str,
    keys: Keys,
    note: str = "",
) -> Agreement:
    """The provider signs the agreement; the consumer's connector verifies and countersigns,
    the provider's finalizes, and a one-off or first monthly price is charged."""
    record_step(session, negotiation, Party.PROVIDER, Msg.AGREE, actor, note=note)
    policy = odrl.Policy.model_validate(negotiation.policy)
    signed_at = utcnow()
    uid = f"urn:sandan:agreement:{uuid.uuid4()}"
    target = offer_uid(offer.id)
    document = {
        "@type": "odrl:Agreement",
        "uid": uid,
        "target": target,
        "assigner": negotiation.provider_participant,
        "assignee": negotiation.consumer_participant,
        "timestamp": signed_at.isoformat().replace("+00:00", "Z"),
        "purpose": negotiation.purpose,
        "policy": odrl.to_odrl(
            policy,
            target,
            negotiation.provider_participant,
            negotiation.consumer_participant,
            "Agreement",
        ),
        "price": {"model": offer.price_model, "amountKRW": offer.price_krw},
    }
    agreement = Agreement(
        uid=uid,
        negotiation_id=negotiation.id,
        offer_id=offer.id,
        provider_company_id=negotiation.provider_company_id,
        consumer_company_id=negotiation.consumer_company_id,
        provider_participant=negotiation.provider_participant,
        consumer_participant=negotiation.consumer_participant,
        purpose=negotiation.purpose,
        policy=negotiation.policy,
        document=document,
        digest=signing.digest(document),
        provider_signature=sign_as(session, negotiation.provider_company_id, keys.secret, document),
        price_model=offer.price_model,
        price_krw=offer.price_krw,
        status="agreed",
        signed_at=signed_at,
        expires_at=expiry(policy, signed_at),
    )
    session.add(agreement)
    session.flush()
    if negotiation.consumer_company_id is not None:  # a local consumer: its hosted connector
        verify_and_finalize(session, negotiation, agreement, keys)
    return agreement


def verify_and_finalize(
    session: Session, negotiation: Negotiation, agreement: Agreement, keys: Keys
) -> None:
    """Check the provider's signature, countersign for the consumer, finalize, charge."""
    signing.ensure_valid(
        agreement.document,
        signing.Signature.model_validate(agreement.provider_signature),
        _key(session, agreement.provider_signature),
    )
    agreement.consumer_signature = sign_as(
        session, negotiation.consumer_company_id, keys.secret, agreement.document
    )
    record_step(session, negotiation, Party.CONSUMER, Msg.VERIFY, "system:hosted-connector")
    record_step(session, negotiation, Party.PROVIDER, Msg.FINALIZE, "system:hosted-connector")
    agreement.status = "active"
    session.flush()
    ledger.charge_on_signing(session, agreement, fee_rate=keys.fee_rate, at=agreement.signed_at)


def _key(session: Session, signature: dict[str, Any]) -> Any:
    key = public_key(session, str(signature.get("key_id", "")))
    if key is None:
        raise signing.SignatureInvalid("the signing key is unknown")
    return key


def agreement_of(session: Session, negotiation_id: int) -> Agreement | None:
    return session.scalar(select(Agreement).where(Agreement.negotiation_id == negotiation_id))
