"""Ed25519 signatures of contract agreements over a canonical JSON form.

Both parties sign the same agreement document; anyone holding the public keys can later
check that neither the terms nor the parties changed. Ed25519 because keys and signatures
are small, signing is deterministic and there are no parameters to get wrong.

The canonical form is sorted-key, whitespace-free UTF-8 JSON (orjson). It is stable for
our own documents but is not RFC 8785 (JCS): keys sort by code point, not UTF-16 unit,
and numbers use Python's shortest round-trip form.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any, Literal

import orjson
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import BaseModel, ConfigDict

from sandan.core.errors import SandanError, ValidationFailed

ALGORITHM = "Ed25519"
PUBLIC_KEY_PREFIX = "ed25519:"
_RAW_KEY_BYTES = 32


class SignatureInvalid(SandanError):
    """A signature does not prove the document: changed, wrong key, or malformed."""

    status_code = 422

    def __init__(self, reason: str, *, key_id: str | None = None) -> None:
        super().__init__(f"signature invalid: {reason}")
        self.reason = reason
        self.extra = {"reason": reason, "key_id": key_id}


class KeyInvalid(SandanError):
    """A key could not be read: wrong passphrase, damaged PEM, or not an Ed25519 key."""

    status_code = 422


class Signature(BaseModel):
    """One party's signature over a document, stored beside it (e.g. in the agreement row)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str
    algorithm: Literal["Ed25519"] = "Ed25519"
    value: str  # base64url of the 64-byte signature, unpadded
    digest: str  # sha256 hex of the canonical bytes: lets an audit trail name the document


# ---------------------------------------------------------------------------- canonical JSON


def _fail(path: str, reason: str) -> ValidationFailed:
    return ValidationFailed.one(path or "document", reason)


def _utc_text(moment: datetime) -> str:
    # The project keeps every time in UTC; a naive value (SQLite hands those back) is UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _plain(value: Any, path: str) -> Any:
    """Turn `value` into bare JSON types, refusing anything that would not read back the same."""
    if isinstance(value, enum.Enum):  # before str and int: a StrEnum is both
        return _plain(value.value, path)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(path, f"{value} is not a finite number; JSON has no form for it")
        return float(value)
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _fail(path, f"keys must be strings, not {type(key).__name__}")
            out[key] = _plain(item, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    # Sets have no order, bytes no single JSON form, Decimal no exact float: make it explicit.
    raise _fail(path, f"a {type(value).__name__} has no canonical JSON form")


def canonical_json(obj: Any) -> bytes:
    """The exact bytes that get signed: sorted keys, no whitespace, UTF-8, UTC times with Z.

    Raises ValidationFailed (naming the field) for NaN, infinities, non-string keys and
    values without one JSON form.
    """
    plain = _plain(obj, "")
    try:
        return orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
        raise _fail("", str(exc)) from None


def digest(document: Mapping[str, Any]) -> str:
    """The sha256 hex of the document's canonical form."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


# ---------------------------------------------------------------------------------- keys


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    # validate=True: stray characters are an error, not silently skipped
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def generate_key() -> Ed25519PrivateKey:
    """A fresh private key."""
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey, passphrase: bytes) -> bytes:
    """PKCS#8 PEM, encrypted with the passphrase: a key at rest is never in the clear."""
    if not passphrase:
        raise ValidationFailed.one("passphrase", "must not be empty")
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )


def private_key_from_pem(pem: bytes, passphrase: bytes) -> Ed25519PrivateKey:
    """Read a key written by private_key_to_pem; KeyInvalid says why it cannot."""
    if not passphrase:
        raise ValidationFailed.one("passphrase", "must not be empty")
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except TypeError:
        # With a passphrase given, cryptography's TypeError means the PEM is in the clear:
        # we never write a key that way, so one that is was not made here.
        raise KeyInvalid("the private key is not encrypted with a passphrase") from None
    except ValueError:
        raise KeyInvalid(
            "cannot read the private key: wrong passphrase, or the PEM is damaged"
        ) from None
    except UnsupportedAlgorithm:
        raise KeyInvalid("the PEM holds a key of an unsupported algorithm") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyInvalid(f"the PEM holds a {type(key).__name__}, not an Ed25519 key")
    return key


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def public_key_to_text(public_key: Ed25519PublicKey) -> str:
    """ "ed25519:" + base64url of the raw 32 bytes: short enough for a table cell or a DID doc."""
    return PUBLIC_KEY_PREFIX + _b64url(_raw(public_key))


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """Read public_key_to_text's form; KeyInvalid if it is not one."""
    if not text.startswith(PUBLIC_KEY_PREFIX):
        raise KeyInvalid(f"a public key must start with {PUBLIC_KEY_PREFIX!r}")
    try:
        raw = _unb64url(text.removeprefix(PUBLIC_KEY_PREFIX))
    except ValueError:  # binascii.Error is one
        raise KeyInvalid("the public key is not valid base64url") from None
    if len(raw) != _RAW_KEY_BYTES:
        raise KeyInvalid(f"an Ed25519 public key has {_RAW_KEY_BYTES} bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint (16 hex digits of sha256 of the raw key) to name a key in logs."""
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


# ------------------------------------------------------------------------- sign and verify


def sign(document: Mapping[str, Any], key: Ed25519PrivateKey) -> Signature:
    """Sign the document's canonical bytes; put any signing time inside the document."""
    body = canonical_json(document)
    return Signature(
        key_id=key_id(key.public_key()),
        value=_b64url(key.sign(body)),
        digest=hashlib.sha256(body).hexdigest(),
    )


def _why_invalid(
    document: Mapping[str, Any], signature: Signature, public_key: Ed25519PublicKey
) -> str | None:
    """The reason the signature does not hold, or None if it does."""
    if signature.algorithm != ALGORITHM:
        return f"unsupported algorithm {signature.algorithm!r}"
    expected_id = key_id(public_key)
    if signature.key_id != expected_id:
        return f"signed with key {signature.key_id}, not with key {expected_id}"
    try:
        body = canonical_json(document)
    except ValidationFailed as exc:
        return f"the document cannot be put in canonical form ({exc.message})"
    if hashlib.sha256(body).hexdigest() != signature.digest:
        return "the document changed after it was signed"
    try:
        public_key.verify(_unb64url(signature.value), body)
    except ValueError:  # binascii.Error is one
        return "the signature value is not valid base64url"
    except InvalidSignature:
        return "the signature does not match the document and key"
    return None


def verify(document: Mapping[str, Any], signature: Signature, public_key: Ed25519PublicKey) -> bool:
    """True only if `public_key` signed exactly this document; never raises."""
    return _why_invalid(document, signature, public_key) is None


def ensure_valid(
    document: Mapping[str, Any], signature: Signature, public_key: Ed25519PublicKey
) -> None:
    """Like verify, but raises SignatureInvalid with the reason, for the API to show."""
    reason = _why_invalid(document, signature, public_key)
    if reason is not None:
        raise SignatureInvalid(reason, key_id=signature.key_id)
