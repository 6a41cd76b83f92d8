"""Who the parties are: participant ids after the Dataspace Protocol, and the Ed25519 keys the
hosted connector holds for each company (and for the platform itself)."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandan.registry import service as registry
from sandan.registry.service import CompanyProfile
from sandan.sharing import signing
from sandan.sharing.models import SigningKey


def participant_id(profile: CompanyProfile) -> str:
    """A company's participant id: its complex and business registration number, stable and
    readable across complexes."""
    return f"urn:sandan:{profile.complex_code}:{profile.brn}"


def profile(session: Session, company_id: int) -> CompanyProfile:
    """The public profile of a company that exists (callers checked it already)."""
    return registry.company_profiles(session, [company_id])[company_id]


def _passphrase(secret: str) -> bytes:
    # Derived, so the database alone never opens a key.
    return hashlib.sha256(b"sandan-signing-key:" + secret.encode()).digest()


def signing_key(
    session: Session, company_id: int | None, secret: str
) -> tuple[SigningKey, Ed25519PrivateKey]:
    """The company's key (None: the platform's), made on first use."""
    stmt = select(SigningKey).where(
        SigningKey.company_id.is_(None)
        if company_id is None
        else SigningKey.company_id == company_id
    )
    row = session.scalar(stmt)
    if row is None:
        key = signing.generate_key()
        public = key.public_key()
        row = SigningKey(
            company_id=company_id,
            key_id=signing.key_id(public),
            public_key=signing.public_key_to_text(public),
            private_pem=signing.private_key_to_pem(key, _passphrase(secret)),
        )
        session.add(row)
        session.flush()
        return row, key
    return row, signing.private_key_from_pem(row.private_pem, _passphrase(secret))


def public_key(session: Session, key_id: str) -> Ed25519PublicKey | None:
    """A public key by its id, to verify a signature with."""
    text = session.scalar(select(SigningKey.public_key).where(SigningKey.key_id == key_id))
    return None if text is None else signing.public_key_from_text(text)


def sign_as(
    session: Session, company_id: int | None, secret: str, document: dict[str, Any]
) -> dict[str, Any]:
    """The document signed with the company's key, as the JSON the agreement keeps."""
    _, key = signing_key(session, company_id, secret)
    return signing.sign(document, key).model_dump()
