"""The connectors of other complexes this one trusts, and the signatures on the Dataspace
Protocol messages between them.

Each Sandan instance has a platform Ed25519 key (`parties.signing_key(session, None, …)`).
Its connector signs every DSP request it sends and every DSP answer it gives with that key;
the other side accepts a message only from a partner listed in its settings
(`SANDAN_DSP_PARTNERS`), so that no catalogue, negotiation or token goes to an unknown party.

A signature covers the method, the path, a timestamp and the sha256 of the exact body bytes:
a changed body, a message replayed to another route, or one older than `MAX_SKEW` is refused.
An answer also covers the signature of the request it answers and its status, so that an old
answer cannot be passed off as the answer to a new request. The header reads
`X-Sandan-Signature: key_id=<16 hex>;ts=<unix seconds>;sig=<base64url>`; the key id names the
partner. The path is signed as the server sees it, so a proxy in front must not rewrite it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sandan.core.errors import NotAuthenticated, ValidationFailed
from sandan.sharing import signing

SIGNATURE_HEADER = "X-Sandan-Signature"
MAX_SKEW = timedelta(minutes=5)
RESPONSE = "RESPONSE"  # the "method" an answer is signed under
_SETTING = "SANDAN_DSP_PARTNERS"


class ConnectorUnauthenticated(NotAuthenticated):
    """A DSP message is unsigned, signed by a connector that is not a partner, or its
    signature does not prove it."""


@dataclass(frozen=True)
class Partner:
    """A trusted connector: where it answers, and the public key its messages carry."""

    base_url: str  # e.g. https://hub.sandan.example, no trailing slash
    public_key: str  # "ed25519:…"
    key_id: str

    @property
    def dsp_url(self) -> str:
        return f"{self.base_url}/dsp"


def normal_url(url: str) -> str:
    """A connector address as the partner list keeps it: no surrounding space or final /."""
    return url.strip().rstrip("/")


@lru_cache(maxsize=8)
def parse_partners(text: str) -> tuple[Partner, ...]:
    """The partner list from `base_url=ed25519:key` entries separated by commas or white
    space; an entry that is not one is named in the error."""
    found: list[Partner] = []
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        url, sep, key = entry.rpartition("=")  # a key has no "=", a URL's query might
        if not sep or not url.startswith(("http://", "https://")):
            raise ValidationFailed.one(_SETTING, f"{entry!r} is not base_url=ed25519:key")
        try:
            public = signing.public_key_from_text(key)
        except signing.KeyInvalid as exc:
            raise ValidationFailed.one(_SETTING, f"{url}: {exc.message}") from None
        found.append(Partner(normal_url(url), key, signing.key_id(public)))
    return tuple(found)


def by_url(partners: tuple[Partner, ...], url: str) -> Partner | None:
    wanted = normal_url(url)
    return next((p for p in partners if p.base_url == wanted), None)


def by_key(partners: tuple[Partner, ...], key_id: str) -> Partner | None:
    return next((p for p in partners if p.key_id == key_id), None)


def _document(
    method: str, path: str, ts: int, body: bytes, reply_to: str | None, status: int | None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "method": method.upper(),
        "path": path,
        "ts": ts,
        "body": hashlib.sha256(body).hexdigest(),
    }
    if reply_to is not None:
        doc["reply_to"] = reply_to
        doc["status"] = status
    return doc


@dataclass(frozen=True)
class Stamp:
    """A signature made for one message: the header to send and the signature value (an
    answer must cover it)."""

    header: str
    value: str


def stamp(
    key: Ed25519PrivateKey,
    method: str,
    path: str,
    body: bytes,
    *,
    at: datetime,
    reply_to: str | None = None,
    status: int | None = None,
) -> Stamp:
    """Sign a request (or, with `reply_to` and `status`, an answer) with the platform key."""
    ts = int(at.timestamp())
    sig = signing.sign(_document(method, path, ts, body, reply_to, status), key)
    return Stamp(f"key_id={sig.key_id};ts={ts};sig={sig.value}", sig.value)


def _parse_header(header: str | None) -> tuple[str, int, str]:
    if not header:
        raise ConnectorUnauthenticated(
            f"DSP messages must be signed: {SIGNATURE_HEADER}: key_id=…;ts=…;sig=…"
        )
    fields: dict[str, str] = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    try:
        return fields["key_id"], int(fields["ts"]), fields["sig"]
    except (KeyError, ValueError):
        raise ConnectorUnauthenticated(
            f"{SIGNATURE_HEADER} must read key_id=…;ts=<unix seconds>;sig=…"
        ) from None


@dataclass(frozen=True)
class Signed:
    """A message whose signature held: the partner that sent it and the signature value."""

    partner: Partner
    signature: str


def check(
    partners: tuple[Partner, ...],
    header: str | None,
    method: str,
    path: str,
    body: bytes,
    *,
    now: datetime,
    reply_to: str | None = None,
    status: int | None = None,
) -> Signed:
    """The partner that signed this message, or ConnectorUnauthenticated saying why not."""
    key_id, ts, value = _parse_header(header)
    partner = by_key(partners, key_id)
    if partner is None:
        raise ConnectorUnauthenticated(f"key {key_id} is not the key of a partner connector")
    if abs(now.timestamp() - ts) > MAX_SKEW.total_seconds():
        raise ConnectorUnauthenticated(
            "the signature's time is more than 5 minutes off: a replay, or a wrong clock"
        )
    document = _document(method, path, ts, body, reply_to, status)
    claimed = signing.Signature(key_id=key_id, value=value, digest=signing.digest(document))
    if not signing.verify(document, claimed, signing.public_key_from_text(partner.public_key)):
        raise ConnectorUnauthenticated("the signature does not match the message")
    return Signed(partner, value)
