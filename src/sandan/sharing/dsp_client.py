"""The consumer's side of the Dataspace Protocol: a company of this complex finds an offer in a
partner complex's catalogue, asks for it, checks and countersigns the agreement, and pulls
data under it, over HTTP through that complex's `/dsp` endpoints (`sharing/dsp.py`).

This connector signs every request with the platform key and trusts an answer only if the
partner's registered key signed it over that request (`service/partners.py`). Before the
company's key countersigns, the agreement must prove itself: the provider's Ed25519
signature holds for the key the partner vouches for, and the document names this company as
assignee, the offer that was asked for, its publisher as assigner, the purpose asked for and
the offer's terms as the catalogue showed them. A data address that is not on the partner's
own host is refused, so a partner cannot point this server at another address.

No table keeps remote agreements on this side (the sharing tables need a local offer); the
countersignature is written to the audit trail (`remote_agreement`), and the answers carry
the provider's ids for the next step.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pydantic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from sandan.core.audit import service as audit
from sandan.core.clock import utcnow
from sandan.core.errors import PermissionDenied, SandanError, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.sharing import signing
from sandan.sharing.negotiation import NegotiationState as State
from sandan.sharing.service import parties, partners

TIMEOUT_S = 15.0
PASSED_ON = frozenset({403, 404, 409, 422})  # the partner's answer is the caller's answer


class RemoteRefused(SandanError):
    """The partner connector answered with an error, or could not be reached."""

    status_code = 502


class RemoteUntrusted(SandanError):
    """An answer or an agreement of the partner does not prove itself; nothing is signed."""

    status_code = 502


def _refusal(response: httpx.Response, base_url: str) -> RemoteRefused:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"detail": response.text[:200]}
    status = response.status_code
    return RemoteRefused(
        f"the connector at {base_url} answered {status}: {body.get('detail', '')}",
        status_code=status if status in PASSED_ON else 502,
        remote_status=status,
        remote_error=str(body.get("error", "")),
        reasons=body.get("reasons", []),
    )


class DspClient:
    """One partner connector, spoken to with signed messages and answered with signed ones."""

    def __init__(
        self, partner: partners.Partner, key: Ed25519PrivateKey, http: httpx.Client
    ) -> None:
        self.partner = partner
        self._key = key
        self.http = http

    def call(self, method: str, path: str, payload: Mapping[str, Any] | None = None) -> Any:
        """Send one DSP message and return the partner's verified answer."""
        url = f"{self.partner.base_url}{path}"
        signed_path = httpx.URL(url).path
        body = b"" if payload is None else signing.canonical_json(payload)
        stamp = partners.stamp(self._key, method, signed_path, body, at=utcnow())
        headers = {partners.SIGNATURE_HEADER: stamp.header, "Content-Type": "application/json"}
        try:
            response = self.http.request(method, url, content=body or None, headers=headers)
        except httpx.HTTPError as exc:
            raise RemoteRefused(
                f"cannot reach the connector at {self.partner.base_url}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise _refusal(response, self.partner.base_url)
        try:
            partners.check(
                (self.partner,),
                response.headers.get(partners.SIGNATURE_HEADER),
                partners.RESPONSE,
                signed_path,
                response.content,
                now=utcnow(),
                reply_to=stamp.value,
                status=response.status_code,
            )
            return response.json()
        except partners.ConnectorUnauthenticated as exc:
            raise RemoteUntrusted(f"the answer of {self.partner.base_url}: {exc.message}") from None
        except ValueError:
            raise RemoteUntrusted(f"the answer of {self.partner.base_url} is not JSON") from None

    # --- the messages ------------------------------------------------------------------

    def catalog(self, q: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = self.call(
            "POST",
            "/dsp/catalog/request",
            {"@type": "dspace:CatalogRequestMessage", "dspace:filter": {"q": q} if q else {}},
        )
        return found

    def dataset(self, offer: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/dsp/catalog/datasets/{quote(offer, safe=':')}")
        return found

    def request(self, offer: str, consumer: str, purpose: str) -> dict[str, Any]:
        message = {
            "@type": "dspace:ContractRequestMessage",
            "dspace:consumerPid": f"urn:uuid:{uuid.uuid4()}",
            "dspace:offer": {"@id": offer},
            "sandan:consumer": consumer,
            "sandan:purpose": purpose,
        }
        answer: dict[str, Any] = self.call("POST", "/dsp/negotiations/request", message)
        return answer

    def negotiation(self, pid: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("GET", f"/dsp/negotiations/{quote(pid, safe='')}")
        return answer

    def verify(self, pid: str, signature: signing.Signature, key: str) -> dict[str, Any]:
        message = {
            "@type": "dspace:ContractAgreementVerificationMessage",
            "dspace:providerPid": pid,
            "sandan:signature": signature.model_dump(),
            "sandan:publicKey": key,
        }
        path = f"/dsp/negotiations/{quote(pid, safe='')}/agreement/verification"
        answer: dict[str, Any] = self.call("POST", path, message)
        return answer

    def transfer(self, agreement: str, consumer: str) -> dict[str, Any]:
        message = {
            "@type": "dspace:TransferRequestMessage",
            "dspace:consumerPid": f"urn:uuid:{uuid.uuid4()}",
            "dspace:agreementId": agreement,
            "dct:format": "HttpData-PULL",
            "sandan:consumer": consumer,
        }
        answer: dict[str, Any] = self.call("POST", "/dsp/transfers/request", message)
        return answer


@contextmanager
def connect(
    session: Session, partner_list: str, secret: str, connector_url: str
) -> Iterator[DspClient]:
    """A client for a partner connector of this complex; any other address is refused."""
    partner = partners.by_url(partners.parse_partners(partner_list), connector_url)
    if partner is None:
        raise ValidationFailed.one(
            "connector_url",
            f"{connector_url} is not a partner connector of this complex (SANDAN_DSP_PARTNERS)",
        )
    _, key = parties.signing_key(session, None, secret)
    with httpx.Client(timeout=TIMEOUT_S) as http:
        yield DspClient(partner, key, http)


@dataclass(frozen=True)
class Consumer:
    """The company of this complex that asks, and its participant id."""

    company_id: int
    participant: str


def consumer(session: Session, principal: Principal) -> Consumer:
    """The caller's company as a DSP consumer; operators watch, they do not sign for one."""
    if principal.company_id is None:
        raise PermissionDenied("only a company can ask for data; sign in as one of its users")
    found = parties.profile(session, principal.company_id)
    return Consumer(principal.company_id, parties.participant_id(found))


# --- negotiation -----------------------------------------------------------------------


def check_agreement(
    answer: Mapping[str, Any], wanted: Mapping[str, Any], me: str, purpose: str | None
) -> dict[str, Any]:
    """The agreement of a negotiation answer, once its provider signature holds and it is
    the offer `wanted` (a catalogue dataset) for `me`; RemoteUntrusted says why not."""
    document = answer.get("dspace:agreement")
    if not isinstance(document, dict):
        raise RemoteUntrusted("the answer carries no agreement")
    try:
        provider = signing.Signature.model_validate(answer.get("sandan:providerSignature"))
        key = signing.public_key_from_text(str(answer.get("sandan:providerPublicKey", "")))
        signing.ensure_valid(document, provider, key)
    except (pydantic.ValidationError, signing.KeyInvalid) as exc:
        raise RemoteUntrusted(f"the provider's signature cannot be read: {exc}") from None
    except signing.SignatureInvalid as exc:
        raise RemoteUntrusted(f"the provider's signature does not hold: {exc.reason}") from None
    offer = (wanted.get("odrl:hasPolicy") or [{}])[0]
    terms = document.get("policy") or {}
    expected = {
        "assignee": (document.get("assignee"), me),
        "target": (document.get("target"), wanted.get("@id")),
        "assigner": (document.get("assigner"), wanted.get("dct:publisher")),
    }
    for term in ("uid", "permission", "prohibition", "obligation"):
        expected[f"policy {term}"] = (terms.get(term), offer.get(term))
    if purpose is not None:
        expected["purpose"] = (document.get("purpose"), purpose)
    differ = [f"{k} is {got!r}, not {want!r}" for k, (got, want) in expected.items() if got != want]
    if differ:
        raise RemoteUntrusted("the agreement is not what was asked for: " + "; ".join(differ))
    return document


def _summary(client: DspClient, answer: Mapping[str, Any]) -> dict[str, Any]:
    """A negotiation answer as this complex's API shows it."""
    document = answer.get("dspace:agreement") or {}
    return {
        "connector_url": client.partner.base_url,
        "negotiation_id": str(answer.get("dspace:providerPid", "")),
        "state": State.from_dsp(str(answer.get("dspace:state", ""))).value,
        "offer": document.get("target"),
        "agreement_id": document.get("uid"),
        "agreement": document or None,
        "provider_signature": answer.get("sandan:providerSignature"),
        "provider_public_key": answer.get("sandan:providerPublicKey"),
        "consumer_signature": answer.get("sandan:consumerSignature"),
    }


def _countersign(
    session: Session,
    principal: Principal,
    client: DspClient,
    who: Consumer,
    answer: Mapping[str, Any],
    wanted: Mapping[str, Any],
    purpose: str | None,
    secret: str,
) -> dict[str, Any]:
    """Check the provider's agreement, sign it with the company's key, send the
    verification, and keep what was signed in the audit trail."""
    document = check_agreement(answer, wanted, who.participant, purpose)
    row, key = parties.signing_key(session, who.company_id, secret)
    signature = signing.sign(document, key)
    pid = str(answer.get("dspace:providerPid", ""))
    done = client.verify(pid, signature, row.public_key)
    audit.append(
        session,
        principal,
        action="countersign",
        entity="remote_agreement",
        entity_id=document.get("uid"),
        company_id=who.company_id,
        after={
            "connector": client.partner.base_url,
            "negotiation": pid,
            "state": done.get("dspace:state"),
            "document": document,
            "provider_signature": answer.get("sandan:providerSignature"),
            "provider_public_key": answer.get("sandan:providerPublicKey"),
            "consumer_signature": signature.model_dump(),
            "consumer_public_key": row.public_key,
        },
    )
    return {**_summary(client, done), "consumer_public_key": row.public_key}


def negotiate(
    session: Session,
    principal: Principal,
    client: DspClient,
    who: Consumer,
    *,
    offer: str,
    purpose: str,
    secret: str,
) -> dict[str, Any]:
    """Ask the partner for one of its offers; if it agrees at once, check the agreement and
    countersign it, so that it comes back FINALIZED."""
    wanted = client.dataset(offer)
    answer = client.request(str(wanted.get("@id", offer)), who.participant, purpose)
    if State.from_dsp(str(answer.get("dspace:state", ""))) is State.AGREED:
        return _countersign(session, principal, client, who, answer, wanted, purpose, secret)
    return _summary(client, answer)


def finalize(
    session: Session,
    principal: Principal,
    client: DspClient,
    who: Consumer,
    negotiation_id: str,
    secret: str,
) -> dict[str, Any]:
    """Look at a negotiation the company started; once the provider has agreed (manual
    approval), check the agreement against the offer and countersign it."""
    answer = client.negotiation(negotiation_id)
    if answer.get("sandan:consumer") != who.participant:
        raise RemoteRefused(
            f"negotiation {negotiation_id} not found", status_code=404, remote_status=404
        )
    if State.from_dsp(str(answer.get("dspace:state", ""))) is not State.AGREED:
        return _summary(client, answer)
    document = answer.get("dspace:agreement") or {}
    wanted = client.dataset(str(document.get("target", "")))
    return _countersign(session, principal, client, who, answer, wanted, None, secret)


# --- transfer --------------------------------------------------------------------------


@dataclass(frozen=True)
class Edr:
    """An Endpoint Data Reference: where to pull under an agreement, with which token."""

    agreement_id: str
    endpoint: str
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_endpoint: str


def transfer(client: DspClient, who: Consumer, agreement_id: str) -> Edr:
    """Ask the partner for a pull under an agreement the company holds: its EDR."""
    answer = client.transfer(agreement_id, who.participant)
    try:
        address = answer["dspace:dataAddress"]
        props = {p["dspace:name"]: p["dspace:value"] for p in address["dspace:endpointProperties"]}
        edr = Edr(
            agreement_id=agreement_id,
            endpoint=str(address["dspace:endpoint"]),
            access_token=str(props["authorization"]),
            refresh_token=str(props.get("refreshToken", "")),
            expires_in=int(props.get("expiresIn", 0)),
            refresh_endpoint=str(props.get("refreshEndpoint", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RemoteUntrusted(f"the transfer answer has no usable data address ({exc})") from None
    if not edr.endpoint.startswith(client.partner.base_url + "/"):
        raise RemoteUntrusted(f"the data address {edr.endpoint} is not on the partner's host")
    return edr


@dataclass(frozen=True)
class Window:
    """What to pull: a time window for a purpose, optionally coarser or fewer fields."""

    start: datetime
    end: datetime
    purpose: str
    resolution: int | None = None
    fields: tuple[str, ...] | None = None


def pull(client: DspClient, edr: Edr, window: Window) -> dict[str, Any]:
    """Pull rows from the partner's data plane with the EDR's bearer token. The provider
    evaluates the agreed policy now; a refusal is passed on with its reasons."""
    params: dict[str, str | int] = {
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "purpose": window.purpose,
    }
    if window.resolution is not None:
        params["resolution"] = window.resolution
    if window.fields:
        params["fields"] = ",".join(window.fields)
    headers = {"Authorization": f"Bearer {edr.access_token}"}
    try:
        response = client.http.get(edr.endpoint, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise RemoteRefused(f"cannot reach the data plane at {edr.endpoint}: {exc}") from None
    if response.status_code >= 400:
        raise _refusal(response, client.partner.base_url)
    try:
        rows: dict[str, Any] = response.json()
    except ValueError:
        raise RemoteUntrusted("the data plane's answer is not JSON") from None
    return rows
