"""Internal tokens: minting, verification, key rotation and JWKS loading."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yiwang_platform.internal_token import (
    InternalTokenSigner,
    InternalTokenVerifier,
    InvalidInternalToken,
    TokenCache,
    load_jwks,
)

# ``signer`` and ``verifier``: the fixtures of the root conftest.py.


def test_round_trip_carries_subject_and_claims(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    token = signer.mint(
        "matters",
        "user-7",
        principal_type="staff",
        scn="approve",
        grant={"matters": ["read", "write"]},
        acr="L3",
        roles=["clerk", "reviewer"],
    )

    principal = verifier.verify(token, audience="matters")

    assert principal.subject == "user-7"
    assert principal.principal_type == "staff"
    assert principal.audience == "matters"
    assert principal.scenario == "approve"
    assert principal.grant == {"matters": ["read", "write"]}
    assert principal.assurance == "L3"
    assert principal.claims["roles"] == ["clerk", "reviewer"]
    assert principal.claims["iss"] == "yiwang-gateway"
    assert principal.claims["aud"] == "matters"
    assert principal.claims["exp"] - principal.claims["iat"] == 60


def test_optional_claims_default_to_empty(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    principal = verifier.verify(
        signer.mint("intake", "citizen-1", principal_type="citizen"), "intake"
    )

    assert principal.scenario is None
    assert principal.grant == {}
    assert principal.assurance is None
    assert "roles" not in principal.claims


def test_token_header_names_the_key_and_algorithm(signer: InternalTokenSigner) -> None:
    header = jwt.get_unverified_header(signer.mint("intake", "u", principal_type="staff"))

    assert header["kid"] == signer.kid
    assert header["alg"] == "EdDSA"


def test_each_token_has_its_own_jti(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    first = verifier.verify(signer.mint("intake", "u", principal_type="staff"), "intake")
    second = verifier.verify(signer.mint("intake", "u", principal_type="staff"), "intake")

    assert first.claims["jti"] != second.claims["jti"]


def test_expired_token_is_rejected(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    token = signer.mint("intake", "u", principal_type="staff", ttl=-30)

    with pytest.raises(InvalidInternalToken, match="expired"):
        verifier.verify(token, "intake")


def test_token_just_past_expiry_is_accepted_within_the_leeway(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    token = signer.mint("intake", "u", principal_type="staff", ttl=-2)

    assert verifier.verify(token, "intake").subject == "u"


def test_token_for_another_audience_is_rejected(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    token = signer.mint("license", "u", principal_type="staff")

    with pytest.raises(InvalidInternalToken, match="Audience"):
        verifier.verify(token, "intake")


def test_token_from_another_issuer_is_rejected(signer: InternalTokenSigner) -> None:
    other_issuer = InternalTokenSigner.from_pem(
        signer.private_pem(), signer.kid, issuer="someone-else"
    )
    verifier = InternalTokenVerifier(signer.jwks())

    with pytest.raises(InvalidInternalToken, match="issuer"):
        verifier.verify(other_issuer.mint("intake", "u", principal_type="staff"), "intake")


def test_verifier_with_its_own_issuer_accepts_that_issuer(signer: InternalTokenSigner) -> None:
    other_issuer = InternalTokenSigner.from_pem(signer.private_pem(), signer.kid, issuer="idp")
    verifier = InternalTokenVerifier(signer.jwks(), issuer="idp")

    assert (
        verifier.verify(other_issuer.mint("intake", "u", principal_type="staff"), "intake").subject
        == "u"
    )
    with pytest.raises(InvalidInternalToken, match="issuer"):
        verifier.verify(signer.mint("intake", "u", principal_type="staff"), "intake")


def test_token_with_an_unknown_kid_is_rejected(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    same_key_other_kid = InternalTokenSigner.from_pem(signer.private_pem(), kid="unknown-kid")

    with pytest.raises(InvalidInternalToken, match="unknown signing key"):
        verifier.verify(same_key_other_kid.mint("intake", "u", principal_type="staff"), "intake")


def test_token_signed_by_another_key_under_a_known_kid_is_rejected(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    impostor = InternalTokenSigner(Ed25519PrivateKey.generate(), kid=signer.kid)

    with pytest.raises(InvalidInternalToken, match="Signature verification failed"):
        verifier.verify(impostor.mint("intake", "u", principal_type="staff"), "intake")


def test_token_with_a_symmetric_algorithm_is_rejected(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    now = int(time.time())
    payload = {"iss": "yiwang-gateway", "aud": "intake", "sub": "u", "iat": now, "exp": now + 60}
    token = jwt.encode(payload, "x" * 32, algorithm="HS256", headers={"kid": signer.kid})

    with pytest.raises(InvalidInternalToken):
        verifier.verify(token, "intake")


def test_token_without_required_claims_is_rejected() -> None:
    key = Ed25519PrivateKey.generate()
    verifier = InternalTokenVerifier(InternalTokenSigner(key, kid="k1").jwks())
    payload = {"iss": "yiwang-gateway", "aud": "intake", "iat": int(time.time())}
    payload["exp"] = payload["iat"] + 60
    token = jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": "k1"})

    with pytest.raises(InvalidInternalToken, match='"sub"'):
        verifier.verify(token, "intake")


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30.", "Bearer x.y.z"],
)
def test_garbage_is_rejected(verifier: InternalTokenVerifier, token: str) -> None:
    with pytest.raises(InvalidInternalToken):
        verifier.verify(token, "intake")


def test_token_without_kid_is_rejected(verifier: InternalTokenVerifier) -> None:
    token = jwt.encode({"sub": "u"}, Ed25519PrivateKey.generate(), algorithm="EdDSA")

    with pytest.raises(InvalidInternalToken, match="unknown signing key"):
        verifier.verify(token, "intake")


def test_verifier_accepts_every_key_of_its_set_during_rotation() -> None:
    old = InternalTokenSigner.generate()
    new = InternalTokenSigner.generate()
    verifier = InternalTokenVerifier({"keys": [old.public_jwk(), new.public_jwk()]})

    assert (
        verifier.verify(old.mint("intake", "old-user", principal_type="staff"), "intake").subject
        == "old-user"
    )
    assert (
        verifier.verify(new.mint("intake", "new-user", principal_type="staff"), "intake").subject
        == "new-user"
    )


def test_verifier_without_the_old_key_rejects_old_tokens() -> None:
    old = InternalTokenSigner.generate()
    new = InternalTokenSigner.generate()
    verifier = InternalTokenVerifier(new.jwks())

    with pytest.raises(InvalidInternalToken, match="unknown signing key"):
        verifier.verify(old.mint("intake", "u", principal_type="staff"), "intake")


def test_public_jwk_has_no_private_part(signer: InternalTokenSigner) -> None:
    jwk = signer.public_jwk()

    assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert (jwk["kty"], jwk["crv"], jwk["kid"], jwk["use"], jwk["alg"]) == (
        "OKP",
        "Ed25519",
        signer.kid,
        "sig",
        "EdDSA",
    )


def test_from_pem_keeps_the_key(signer: InternalTokenSigner) -> None:
    again = InternalTokenSigner.from_pem(signer.private_pem(), signer.kid)

    assert again.public_jwk() == signer.public_jwk()
    assert again.private_pem() == signer.private_pem()


def test_from_pem_refuses_a_key_that_is_not_ed25519() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    with pytest.raises(ValueError, match="Ed25519"):
        InternalTokenSigner.from_pem(pem, "k1")


def test_load_jwks_from_inline_json(signer: InternalTokenSigner) -> None:
    jwks = load_jwks("  " + json.dumps(signer.jwks()) + "\n")

    assert jwks == signer.jwks()
    token = signer.mint("intake", "u", principal_type="staff")
    assert InternalTokenVerifier(jwks).verify(token, "intake").subject == "u"


def test_load_jwks_from_a_file(tmp_path, signer: InternalTokenSigner) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(signer.jwks()))

    jwks = load_jwks(str(path))

    assert jwks == signer.jwks()


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_load_jwks_from_an_empty_string_is_an_empty_set(
    value: str, signer: InternalTokenSigner
) -> None:
    jwks = load_jwks(value)

    assert jwks == {"keys": []}
    with pytest.raises(InvalidInternalToken, match="unknown signing key"):
        InternalTokenVerifier(jwks).verify(
            signer.mint("intake", "u", principal_type="staff"), "intake"
        )


def test_load_jwks_from_a_missing_file_raises(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        load_jwks(str(tmp_path / "missing.json"))


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_verified_token_is_answered_again_until_it_expires(
    signer: InternalTokenSigner,
) -> None:
    clock = _Clock()
    verifier = InternalTokenVerifier(signer.jwks(), clock=clock)
    token = signer.mint("intake", "u", principal_type="staff", ttl=60)
    first = verifier.verify(token, "intake")

    assert verifier.verify(token, "intake") is first
    clock.now += 66  # past expiry and leeway
    with pytest.raises(InvalidInternalToken, match="expired"):
        verifier.verify(token, "intake")


def test_a_token_verified_for_one_audience_is_checked_again_for_another(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    token = signer.mint("intake", "u", principal_type="staff")
    verifier.verify(token, "intake")

    with pytest.raises(InvalidInternalToken, match="Audience"):
        verifier.verify(token, "license")


def test_the_token_cache_reuses_a_token_for_the_same_claims_for_half_its_life(
    signer: InternalTokenSigner, verifier: InternalTokenVerifier
) -> None:
    clock = _Clock()
    tokens = TokenCache(signer, clock=clock)
    first = tokens.mint("intake", "u", principal_type="citizen", ttl=60, scn="birth")

    assert tokens.mint("intake", "u", principal_type="citizen", ttl=60, scn="birth") == first
    other = tokens.mint("intake", "u", principal_type="citizen", ttl=60, scn="company")
    assert other != first
    assert verifier.verify(other, "intake").scenario == "company"
    clock.now += 30  # half the lifetime gone: a fresh one
    assert tokens.mint("intake", "u", principal_type="citizen", ttl=60, scn="birth") != first
