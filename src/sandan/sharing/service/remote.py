"""The provider's side of the Dataspace Protocol towards partner connectors of other complexes
(hub and spoke): what they may see, how their negotiations run, and their transfers.

Who a remote participant is: a company of another complex, known by its participant id
(`urn:sandan:<complex>:<brn>`) and vouched for by its complex's connector, which signed the
message (`partners.check`). We know nothing else of it, so an access policy is evaluated for
a remote participant with no recipient facts: an offer is visible to partner connectors when
its access policy permits `use` without naming a recipient, an industry or a zone (offers
open to the complex, the default, are; offers made for named companies are not). A
recipient constraint in the contract policy likewise never holds for a remote consumer.

The negotiation is synchronous: a ContractRequestMessage for an offer with automatic
approval is answered AGREED with the agreement the provider signed; the consumer's connector
verifies it, countersigns for its company and sends the verification, and the provider
finalizes. With manual approval the request stays REQUESTED until the provider accepts it in
the API; the consumer polls the negotiation and verifies then. Remote requests take the
offer's terms as they stand (no counter-offers across complexes yet).

Transfers are pull only and not kept as processes: a TransferRequestMessage for an agreement
in force is answered STARTED with the Endpoint Data Reference (the agreement's pull route and
a short-lived bearer token); a new request gives a new token.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.errors import Conflict, NotFound, PermissionDenied
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.sharing import policy as odrl
from sandan.sharing import signing
from sandan.sharing.models import Agreement, Negotiation, Offer
from sandan.sharing.negotiation import NegotiationMessage as Msg
from sandan.sharing.negotiation import NegotiationState as State
from sandan.sharing.negotiation import Party
from sandan.sharing.service import access, ledger, negotiations
from sandan.sharing.service.negotiations import Keys
from sandan.sharing.service.offers import DCAT_CONTEXT, dcat_dataset, offer_uid
from sandan.sharing.service.parties import participant_id, profile, public_key
from sandan.sharing.service.partners import Partner

_OFFER_REF = re.compile(r"(?:urn:sandan:offer:)?(\d{1,18})")
HTTP_PULL = "https://w3id.org/idsa/v4.1/HTTP"


def connector_principal(partner: Partner) -> Principal:
    """Who the audit log names for what a partner connector did here."""
    return Principal(kind="system", name=f"connector:{partner.base_url}", company_id=None)


def visible_to_partners(offer: Offer) -> bool:
    """A published offer whose access policy permits use by a recipient it knows nothing of."""
    if offer.status != "published":
        return False
    policy = odrl.Policy.model_validate(offer.access_policy)
    return odrl.evaluate(policy, odrl.AccessContext(at=utcnow())).allowed


def _offer_id(ref: str) -> int | None:
    match = _OFFER_REF.fullmatch(ref.strip())
    return int(match[1]) if match else None


def offer_for_partners(session: Session, ref: str) -> Offer:
    """An offer by its id or `urn:sandan:offer:<id>`, if partners may see it."""
    offer_id = _offer_id(ref)
    offer = session.get(Offer, offer_id) if offer_id is not None else None
    if offer is None or not visible_to_partners(offer):
        raise NotFound(f"offer {ref} not found")
    return offer


def catalog(session: Session, base_url: str, q: str | None = None) -> dict[str, Any]:
    """The catalogue partner connectors see, as a DCAT catalog with each ODRL offer."""
    stmt = select(Offer).where(Offer.status == "published").order_by(Offer.id)
    items = [o for o in session.scalars(stmt) if visible_to_partners(o)]
    if q:
        needle = q.lower()
        items = [o for o in items if needle in f"{o.title} {o.description}".lower()]
    owners = registry.company_profiles(session, [o.company_id for o in items])
    return {
        "@context": DCAT_CONTEXT,
        "@id": f"{base_url}/dsp/catalog",
        "@type": "dcat:Catalog",
        "dct:title": "Sandan data catalogue (partner connectors)",
        "dcat:dataset": [dcat_dataset(o, owners[o.company_id], base_url) for o in items],
        "dcat:service": [
            {
                "@id": f"{base_url}/dsp",
                "@type": "dcat:DataService",
                "dcat:endpointURL": f"{base_url}/dsp",
            }
        ],
    }


def dataset(session: Session, ref: str, base_url: str) -> dict[str, Any]:
    """One offer partners may see, as a DCAT dataset."""
    offer = offer_for_partners(session, ref)
    found = dcat_dataset(offer, profile(session, offer.company_id), base_url)
    return {"@context": DCAT_CONTEXT, **found}


def _actor(partner: Partner) -> str:
    return connector_principal(partner).actor


def start(
    session: Session,
    partner: Partner,
    *,
    consumer: str,
    consumer_pid: str,
    offer_ref: str,
    purpose: str,
    keys: Keys,
) -> Negotiation:
    """A remote company asks for an offer on its terms as they stand; automatic approval
    signs at once (→ AGREED, waiting for the consumer's verification)."""
    negotiations.check_purpose(purpose)
    offer = offer_for_partners(session, offer_ref)
    negotiation = Negotiation(
        offer_id=offer.id,
        provider_company_id=offer.company_id,
        consumer_company_id=None,
        provider_participant=participant_id(profile(session, offer.company_id)),
        consumer_participant=consumer,
        counterparty_url=partner.base_url,
        remote_id=consumer_pid,
        state=State.REQUESTED.value,
        purpose=purpose,
        policy=offer.contract_policy,
    )
    negotiations.open_request(
        session, negotiation, _actor(partner), note=f"from {consumer} via {partner.base_url}"
    )
    if offer.approval == "auto":
        # The provider's signing step is the one local negotiations use; a remote consumer
        # has no hosted connector here, so it stops at AGREED.
        negotiations.agree(session, negotiation, offer, "system:auto-approval", keys)
    session.flush()
    return negotiation


def negotiation_of(session: Session, partner: Partner, negotiation_id: int) -> Negotiation:
    """A negotiation this partner's connector started; any other looks missing."""
    n = session.get(Negotiation, negotiation_id)
    if n is None or n.consumer_company_id is not None or n.counterparty_url != partner.base_url:
        raise NotFound(f"negotiation {negotiation_id} not found")
    return n


def _public_key_text(session: Session, signature: dict[str, Any]) -> str:
    key = public_key(session, str(signature.get("key_id", "")))
    if key is None:
        raise NotFound("the provider's signing key is gone")
    return signing.public_key_to_text(key)


def negotiation_message(session: Session, n: Negotiation) -> dict[str, Any]:
    """The negotiation as DSP shows it, with the signed agreement once there is one."""
    message: dict[str, Any] = {
        "@context": DCAT_CONTEXT,
        "@type": "dspace:ContractNegotiation",
        "dspace:providerPid": str(n.id),
        "dspace:consumerPid": n.remote_id,
        "dspace:state": State(n.state).dsp,
        "sandan:consumer": n.consumer_participant,
    }
    agreement = negotiations.agreement_of(session, n.id)
    if agreement is not None:
        message["dspace:agreement"] = agreement.document
        message["sandan:providerSignature"] = agreement.provider_signature
        message["sandan:providerPublicKey"] = _public_key_text(
            session, agreement.provider_signature
        )
        message["sandan:consumerSignature"] = agreement.consumer_signature
    return message


def verify(
    session: Session,
    partner: Partner,
    negotiation_id: int,
    signature: signing.Signature,
    consumer_key: str,
    keys: Keys,
) -> Negotiation:
    """The consumer's countersignature (ContractAgreementVerificationMessage): checked
    against the key its connector vouches for, kept with the agreement, and the
    negotiation finalized; a one-off or first monthly price is charged now."""
    n = negotiation_of(session, partner, negotiation_id)
    agreement = negotiations.agreement_of(session, n.id)
    if agreement is None or n.state != State.AGREED.value:
        raise Conflict(
            f"nothing to verify: the negotiation is {State(n.state).name}, not AGREED",
            state=n.state,
        )
    key = signing.public_key_from_text(consumer_key)
    signing.ensure_valid(agreement.document, signature, key)
    agreement.consumer_signature = signature.model_dump()
    actor = _actor(partner)
    # The key is kept in the timeline: the agreement's signature can be checked again later.
    negotiations.record_step(
        session, n, Party.CONSUMER, Msg.VERIFY, actor, note=f"countersigned with {consumer_key}"
    )
    negotiations.record_step(session, n, Party.PROVIDER, Msg.FINALIZE, "system:connector")
    agreement.status = "active"
    session.flush()
    ledger.charge_on_signing(session, agreement, fee_rate=keys.fee_rate, at=agreement.signed_at)
    return n


def terminate(session: Session, partner: Partner, negotiation_id: int, note: str) -> Negotiation:
    """The remote consumer ends a negotiation that is not over."""
    n = negotiation_of(session, partner, negotiation_id)
    negotiations.record_step(session, n, Party.CONSUMER, Msg.TERMINATE, _actor(partner), note=note)
    session.flush()
    return n


def transfer(
    session: Session, partner: Partner, *, consumer: str, agreement_uid: str
) -> tuple[Agreement, access.Issued]:
    """A token for pulling under an agreement in force that this partner's company holds."""
    agreement = session.scalar(select(Agreement).where(Agreement.uid == agreement_uid))
    n = None if agreement is None else session.get(Negotiation, agreement.negotiation_id)
    if (
        agreement is None
        or n is None
        or agreement.consumer_company_id is not None
        or n.counterparty_url != partner.base_url
        or agreement.consumer_participant != consumer
    ):
        raise NotFound(f"agreement {agreement_uid} not found")
    reason = access.inactive_reason(agreement, utcnow())
    if reason:
        raise PermissionDenied(reason)
    return agreement, access.issue(session, agreement)


def data_address(base_url: str, agreement: Agreement, issued: access.Issued) -> dict[str, Any]:
    """The Endpoint Data Reference of a pull: where, and with which bearer token."""
    base = f"{base_url}/api/v1/sharing"

    def prop(name: str, value: str) -> dict[str, str]:
        return {"@type": "dspace:EndpointProperty", "dspace:name": name, "dspace:value": value}

    return {
        "@type": "dspace:DataAddress",
        "dspace:endpointType": HTTP_PULL,
        "dspace:endpoint": f"{base}/agreements/{agreement.id}/data",
        "dspace:endpointProperties": [
            prop("authorization", issued.access_token),
            prop("authType", "bearer"),
            prop("expiresIn", str(issued.expires_in)),
            prop("refreshToken", issued.refresh_token),
            prop("refreshEndpoint", f"{base}/token/refresh"),
        ],
    }


def transfer_message(
    base_url: str, consumer_pid: str, agreement: Agreement, issued: access.Issued
) -> dict[str, Any]:
    """The TransferStartMessage answering a pull request."""
    return {
        "@context": DCAT_CONTEXT,
        "@type": "dspace:TransferStartMessage",
        "dspace:providerPid": f"urn:uuid:{uuid.uuid4()}",
        "dspace:consumerPid": consumer_pid,
        "dspace:agreementId": agreement.uid,
        "dspace:state": "dspace:STARTED",
        "dspace:dataAddress": data_address(base_url, agreement, issued),
        "sandan:target": offer_uid(agreement.offer_id),
    }
