"""Ed25519 agreement signatures: what verifies, what does not, and the canonical form."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sandan.core.errors import SandanError, ValidationFailed
from sandan.sharing.negotiation import NegotiationState
from sandan.sharing.signing import (
    KeyInvalid,
    Signature,
    SignatureInvalid,
    canonical_json,
    ensure_valid,
    generate_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_text,
    public_key_to_text,
    sign,
    verify,
)

# One key for the whole module: generating is cheap, but hypothesis runs hundreds of cases.
KEY = generate_key()
PUB = KEY.public_key()

AGREEMENT: dict[str, Any] = {
    "id": "urn:uuid:5b1c0f4e-0000-4000-8000-000000000001",
    "assigner": "did:web:sandan.example:company:12",
    "assignee": "did:web:sandan.example:company:34",
    "target": "asset:line-3/energy",
    "timestamp": datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
    "policy": {
        "permission": [
            {
                "action": "use",
                "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "oee"}],
            }
        ],
        "price_krw": 120000,
        "max_calls": 10,
    },
}

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
json_document = st.dictionaries(st.text(max_size=8), json_value, min_size=1, max_size=6)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the document a value sits, containers included."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of `value` with the item at `path` replaced; the original is left alone."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    return [(_replace(v, rest, new) if i == head else v) for i, v in enumerate(value)]


def _reversed_order(value: Any) -> Any:
    """The same document with every dict's keys inserted in the opposite order."""
    if isinstance(value, dict):
        return {k: _reversed_order(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_order(v) for v in value]
    return value


def test_sign_and_verify() -> None:
    signature = sign(AGREEMENT, KEY)
    assert signature.algorithm == "Ed25519"
    assert signature.key_id == key_id(PUB)
    assert len(signature.digest) == 64
    assert verify(AGREEMENT, signature, PUB)
    ensure_valid(AGREEMENT, signature, PUB)  # does not raise


def test_signature_survives_storage_as_json() -> None:
    signature = sign(AGREEMENT, KEY)
    stored = json.loads(json.dumps(signature.model_dump()))
    assert verify(AGREEMENT, Signature.model_validate(stored), PUB)
    # The document itself read back from a JSON column (datetimes now strings) still verifies.
    document_back = json.loads(canonical_json(AGREEMENT))
    assert verify(document_back, signature, PUB)


@settings(max_examples=150)
@given(document=json_document, data=st.data())
def test_any_change_to_one_value_fails(document: dict[str, Any], data: st.DataObject) -> None:
    signature = sign(document, KEY)
    assert verify(document, signature, PUB)
    path = data.draw(st.sampled_from(_paths(document)))
    changed = _replace(document, path, data.draw(json_value))
    assume(canonical_json(changed) != canonical_json(document))
    assert not verify(changed, signature, PUB)
    with pytest.raises(SignatureInvalid, match="changed after it was signed"):
        ensure_valid(changed, signature, PUB)


@settings(max_examples=50)
@given(document=json_document, extra_key=st.text(max_size=8))
def test_an_added_or_removed_key_fails(document: dict[str, Any], extra_key: str) -> None:
    signature = sign(document, KEY)
    assume(extra_key not in document)
    assert not verify({**document, extra_key: None}, signature, PUB)
    removed = dict(document)
    removed.pop(next(iter(document)))
    assert not verify(removed, signature, PUB)


@settings(max_examples=100)
@given(document=json_document)
def test_key_order_does_not_matter(document: dict[str, Any]) -> None:
    reordered = _reversed_order(document)
    assert canonical_json(reordered) == canonical_json(document)
    assert verify(reordered, sign(document, KEY), PUB)


@settings(max_examples=100)
@given(document=json_document)
def test_canonical_form_reads_back_as_the_same_document(document: dict[str, Any]) -> None:
    text = canonical_json(document)
    assert json.loads(text) == document
    assert canonical_json(json.loads(text)) == text  # a fixed point: re-canonicalizing is a no-op


def test_wrong_key_fails() -> None:
    signature = sign(AGREEMENT, KEY)
    other = generate_key().public_key()
    assert not verify(AGREEMENT, signature, other)
    with pytest.raises(SignatureInvalid, match="signed with key") as refused:
        ensure_valid(AGREEMENT, signature, other)
    assert refused.value.status_code == 422
    assert refused.value.body()["key_id"] == key_id(PUB)


def test_forged_value_or_tampered_fields_fail_without_raising() -> None:
    good = sign(AGREEMENT, KEY)
    forged = sign({**AGREEMENT, "target": "asset:everything"}, KEY)
    # A signature over another document, with the digest patched to look right.
    mixed = good.model_copy(update={"value": forged.value})
    assert not verify(AGREEMENT, mixed, PUB)
    with pytest.raises(SignatureInvalid, match="does not match"):
        ensure_valid(AGREEMENT, mixed, PUB)
    garbage = good.model_copy(update={"value": "not base64 !"})
    assert not verify(AGREEMENT, garbage, PUB)
    with pytest.raises(SignatureInvalid, match="base64url"):
        ensure_valid(AGREEMENT, garbage, PUB)
    # A document that cannot be signed cannot verify either, and verify still does not raise.
    assert not verify({**AGREEMENT, "x": float("nan")}, good, PUB)


def test_signature_is_a_frozen_strict_record() -> None:
    signature = sign(AGREEMENT, KEY)
    with pytest.raises(ValueError, match="frozen"):
        signature.value = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="Ed25519"):
        Signature.model_validate({**signature.model_dump(), "algorithm": "RS256"})


def test_pem_round_trip_with_passphrase() -> None:
    pem = private_key_to_pem(KEY, b"correct horse")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    back = private_key_from_pem(pem, b"correct horse")
    assert isinstance(back, Ed25519PrivateKey)
    assert verify(AGREEMENT, sign(AGREEMENT, back), PUB)


def test_wrong_passphrase_is_a_clear_error() -> None:
    pem = private_key_to_pem(KEY, b"correct horse")
    with pytest.raises(KeyInvalid, match="wrong passphrase") as refused:
        private_key_from_pem(pem, b"battery staple")
    assert isinstance(refused.value, SandanError)
    with pytest.raises(KeyInvalid, match="damaged"):
        private_key_from_pem(pem[:80] + b"AAAA" + pem[84:], b"correct horse")
    with pytest.raises(ValidationFailed, match="passphrase"):
        private_key_from_pem(pem, b"")
    with pytest.raises(ValidationFailed, match="passphrase"):
        private_key_to_pem(KEY, b"")


def test_public_key_text_round_trip() -> None:
    text = public_key_to_text(PUB)
    assert text.startswith("ed25519:")
    assert len(text) == len("ed25519:") + 43  # 32 bytes, base64url without padding
    back = public_key_from_text(text)
    assert key_id(back) == key_id(PUB)
    assert verify(AGREEMENT, sign(AGREEMENT, KEY), back)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("rsa:AAAA", "must start with"),
        ("ed25519:AAAA", "32 bytes, not 3"),
        ("ed25519:!!!!", "base64url"),
    ],
)
def test_bad_public_key_text_is_refused(text: str, reason: str) -> None:
    with pytest.raises(KeyInvalid, match=reason):
        public_key_from_text(text)


def test_key_id_is_a_short_stable_fingerprint() -> None:
    assert key_id(PUB) == key_id(public_key_from_text(public_key_to_text(PUB)))
    assert len(key_id(PUB)) == 16
    int(key_id(PUB), 16)  # hex digits only, or this raises
    assert key_id(PUB) != key_id(generate_key().public_key())


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_refused(bad: float) -> None:
    with pytest.raises(ValidationFailed, match="not a finite number") as refused:
        canonical_json({"policy": {"limits": [1.0, bad]}})
    assert refused.value.problems[0].field == "policy.limits[1]"
    with pytest.raises(ValidationFailed):
        sign({"x": bad}, KEY)


def test_canonical_form_details() -> None:
    seoul = timezone(timedelta(hours=9))
    document = {
        "b": 1,
        "a": "한국",
        "when": datetime(2025, 3, 1, 18, 30, 0, 250000, tzinfo=seoul),
        "naive": datetime(2025, 3, 1, 9, 30),
        "day": date(2025, 3, 1),
        "state": NegotiationState.AGREED,
        "pair": (1, 2),
    }
    assert (
        canonical_json(document)
        == (
            '{"a":"한국","b":1,"day":"2025-03-01","naive":"2025-03-01T09:30:00Z",'
            '"pair":[1,2],"state":"agreed","when":"2025-03-01T09:30:00.250000Z"}'
        ).encode()
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({1: "x"}, "keys must be strings"),
        ({"s": {1, 2}}, "set has no canonical JSON form"),
        ({"d": Decimal("1.1")}, "Decimal has no canonical JSON form"),
        ({"b": b"raw"}, "bytes has no canonical JSON form"),
        ({"big": 2**70}, "document"),
    ],
)
def test_values_without_one_json_form_are_refused(value: Any, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        canonical_json(value)
