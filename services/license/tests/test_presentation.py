"""Selective-disclosure presentations checked offline: only the chosen fields, with the
issuer's public keys alone; any changed byte, a swapped value, a stale presentation or
an unknown key is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from license import presentation
from license.seal import SealKeyring, b64url, canonical_json, disclosure_content, new_salt

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIELDS = {
    "card_number": "A12345678",
    "name": "王小明",
    "issuing_region": "杭州市",
    "issue_date": "2026-02-20",
}


def sealed(keyring: SealKeyring, valid_until: datetime | None = None) -> dict[str, object]:
    salts = {n: new_salt() for n in FIELDS}
    credential = disclosure_content(
        license_id="6f1c0f5e-7d0c-5d8e-9a55-3c4f1b2a9e10",
        license_type="social-security-card",
        issuer="杭州市人力资源和社会保障局",
        issued_at=NOW - timedelta(days=1),
        valid_until=valid_until,
        fields=FIELDS,
        salts=salts,
    )
    return {
        "credential": credential,
        "credential_key_id": keyring.key_id,
        "credential_signature": keyring.sign(credential),
        "fields": FIELDS,
        "salts": salts,
    }


def show(
    keyring: SealKeyring,
    names: list[str],
    ttl: int = 120,
    now: datetime = NOW,
    valid_until: datetime | None = None,
) -> str:
    return presentation.create(
        keyring,
        **sealed(keyring, valid_until),
        names=names,
        ttl_seconds=ttl,
        now=now,
    ).text


def decoded(text: str) -> dict[str, object]:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def encoded(document: dict[str, object]) -> str:
    return b64url(canonical_json(document))


@pytest.fixture
def keyring() -> SealKeyring:
    return SealKeyring("杭州市电子证照中心", Ed25519PrivateKey.generate())


def test_a_fresh_presentation_verifies_and_reveals_only_the_chosen_fields(keyring):
    text = show(keyring, ["name", "issuing_region"])
    checked = presentation.verify_offline(text, {"keys": keyring.jwks()}, now=NOW)
    assert checked.valid and checked.reason is None
    assert checked.fields == {"name": "王小明", "issuing_region": "杭州市"}
    assert checked.license_type == "social-security-card"
    assert checked.issuer == "杭州市人力资源和社会保障局"
    assert checked.expires_at == NOW + timedelta(seconds=120)
    # The hidden fields are nowhere in it, not even their names.
    raw = base64.urlsafe_b64decode(text + "==").decode()
    for hidden in ("A12345678", "card_number", "2026-02-20", "issue_date"):
        assert hidden not in raw
    # All four digests are sealed, two are disclosed.
    document = decoded(text)
    assert len(document["credential"]["digests"]) == 4
    assert len(document["disclosures"]) == 2


def test_every_changed_character_is_refused(keyring):
    text = show(keyring, ["name"])
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    accepted = []
    for i, c in enumerate(text):
        flipped = text[:i] + alphabet[(alphabet.index(c) + 1) % 64] + text[i + 1 :]
        if presentation.verify_offline(flipped, keyring.jwks(), now=NOW).valid:
            accepted.append(i)
    assert accepted == []
    assert not presentation.verify_offline(text + "A", keyring.jwks(), now=NOW).valid
    assert not presentation.verify_offline(text[:-1], keyring.jwks(), now=NOW).valid


def test_a_swapped_or_added_field_does_not_match_the_sealed_digests(keyring):
    document = decoded(show(keyring, ["name"]))
    swapped = json.loads(json.dumps(document))
    swapped["disclosures"][0][2] = "李四"
    assert presentation.verify_offline(encoded(swapped), keyring.jwks(), now=NOW).reason == (
        "disclosure_mismatch"
    )
    # Knowing a hidden value is not enough without its salt.
    added = json.loads(json.dumps(document))
    added["disclosures"].append([new_salt(), "card_number", "A12345678"])
    assert presentation.verify_offline(encoded(added), keyring.jwks(), now=NOW).reason == (
        "disclosure_mismatch"
    )
    # Dropping a disclosure breaks the binding's list, which the service signed.
    two = decoded(show(keyring, ["name", "issuing_region"]))
    two["disclosures"] = two["disclosures"][:1]
    assert presentation.verify_offline(encoded(two), keyring.jwks(), now=NOW).reason == (
        "disclosure_mismatch"
    )
    # A later expiry is a change to what the service signed.
    extended = json.loads(json.dumps(document))
    extended["binding"]["exp"] = "2026-03-02T09:05:00Z"
    assert presentation.verify_offline(encoded(extended), keyring.jwks(), now=NOW).reason == (
        "signature_invalid"
    )


def test_expiry_clock_skew_and_the_licenses_own_validity(keyring):
    text = show(keyring, ["name"], ttl=60)
    keys = keyring.jwks()
    assert presentation.verify_offline(text, keys, now=NOW + timedelta(seconds=59)).valid
    assert (
        presentation.verify_offline(text, keys, now=NOW + timedelta(seconds=60)).reason == "expired"
    )
    assert presentation.verify_offline(text, keys, now=NOW - timedelta(seconds=30)).valid
    assert presentation.verify_offline(text, keys, now=NOW - timedelta(minutes=5)).reason == (
        "not_yet_valid"
    )
    lapsed = show(keyring, ["name"], valid_until=NOW - timedelta(seconds=1))
    assert presentation.verify_offline(lapsed, keys, now=NOW).reason == "license_expired"


def test_unknown_or_retired_keys(keyring):
    text = show(keyring, ["name"])
    other = SealKeyring("另一机关", Ed25519PrivateKey.generate())
    assert presentation.verify_offline(text, other.jwks(), now=NOW).reason == "unknown_key"
    assert presentation.verify_offline(text, [], now=NOW).reason == "unknown_key"
    # The same kid with another key's x: the signature fails.
    forged = [{**other.jwks()[0], "kid": keyring.key_id}]
    assert presentation.verify_offline(text, forged, now=NOW).reason == "signature_invalid"
    # After a rotation the old key, published as retired, still verifies.
    retired = [{**k, "status": "retired"} for k in keyring.jwks()]
    assert presentation.verify_offline(text, other.jwks() + retired, now=NOW).valid


@pytest.mark.parametrize(
    "text",
    ["", "!!!", "e30", b64url(b"not json"), b64url(b'{"v": 1}'), b64url(b"[]"), "A" * 9000],
)
def test_malformed_input_is_refused(keyring, text):
    assert presentation.verify_offline(text, keyring.jwks(), now=NOW).reason == "malformed"


def test_a_presentation_longer_than_the_limit_of_ten_minutes_is_refused(keyring):
    document = decoded(show(keyring, ["name"]))
    document["binding"]["exp"] = "2026-03-02T09:10:01Z"
    document["binding_seal"]["sig"] = keyring.sign(document["binding"])
    assert presentation.verify_offline(encoded(document), keyring.jwks(), now=NOW).reason == (
        "malformed"
    )
    with pytest.raises(ValueError):
        show(keyring, ["name"], ttl=601)
