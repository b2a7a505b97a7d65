"""The seal: canonical form, signing, tamper detection and where its key comes from."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from license.seal import (
    SealKeyring,
    canonical_json,
    key_id,
    private_pem,
    public_jwk,
    sealed_content,
    timestamp,
)
from license.settings import Settings

ISSUED = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def content(**changes: object) -> dict[str, object]:
    base = sealed_content(
        license_id="6f1c0f5e-7d0c-4d8e-9a55-3c4f1b2a9e10",
        license_type="CN-BIRTH-CERT",
        holder_index="a" * 64,
        holder_name="王小明",
        fields={"出生地点": "杭州市西湖区", "出生时间": "2026-02-27 10:05"},
        issued_at=ISSUED,
        valid_until=None,
        issuer="杭州市卫生健康委员会",
    )
    base.update(changes)
    return base


def test_canonical_json_sorts_keys_has_no_whitespace_and_keeps_chinese():
    assert canonical_json({"b": "证照", "a": {"y": 1, "x": None}}) == (
        '{"a":{"x":null,"y":1},"b":"证照"}'.encode()
    )


def test_timestamps_are_utc_with_z_whatever_the_zone():
    beijing = timezone(timedelta(hours=8))
    assert timestamp(datetime(2026, 3, 1, 16, 30, tzinfo=beijing)) == "2026-03-01T08:30:00Z"
    assert timestamp(ISSUED) == "2026-03-01T08:30:00Z"
    assert timestamp(None) is None


def test_a_signed_license_verifies():
    keyring = SealKeyring("发证机关", Ed25519PrivateKey.generate())
    signature = keyring.sign(content())
    assert len(base64.b64decode(signature)) == 64
    assert keyring.verify(content(), signature, key_id=keyring.key_id) is True


@pytest.mark.parametrize(
    "changes",
    [
        {"holder_name": "王小名"},
        {"fields": {"出生地点": "杭州市上城区", "出生时间": "2026-02-27 10:05"}},
        {"fields": {"出生地点": "杭州市西湖区"}},
        {"holder_index": "b" * 64},
        {"license_type": "CN-BIZ-LICENSE"},
        {"issued_at": "2026-03-01T08:30:01Z"},
        {"valid_until": "2036-03-01T00:00:00Z"},
        {"issuer": "另一机关"},
        {"license_id": "00000000-0000-4000-8000-000000000000"},
    ],
)
def test_a_tampered_field_fails_verification(changes):
    keyring = SealKeyring("发证机关", Ed25519PrivateKey.generate())
    signature = keyring.sign(content())
    assert keyring.verify(content(**changes), signature, key_id=keyring.key_id) is False


def test_a_bad_signature_or_unknown_key_fails_verification():
    keyring = SealKeyring("发证机关", Ed25519PrivateKey.generate())
    signature = keyring.sign(content())
    other = SealKeyring("发证机关", Ed25519PrivateKey.generate())
    assert keyring.verify(content(), other.sign(content()), key_id=keyring.key_id) is False
    assert keyring.verify(content(), signature, key_id="0000000000000000") is False
    assert keyring.verify(content(), "not base64!", key_id=keyring.key_id) is False
    assert (
        keyring.verify(content(), base64.b64encode(b"short").decode(), key_id=keyring.key_id)
        is False
    )


def test_standalone_key_file_is_created_once_and_reused(tmp_path):
    settings = Settings(var_dir=tmp_path)
    first = SealKeyring.from_settings(settings)
    second = SealKeyring.from_settings(settings)
    assert first.key_id == second.key_id
    assert (tmp_path / "seal.key").stat().st_mode & 0o777 == 0o600
    assert second.verify(content(), first.sign(content()), key_id=first.key_id) is True


def test_configured_key_as_pem_or_path(tmp_path):
    key = Ed25519PrivateKey.generate()
    pem = private_pem(key)
    (tmp_path / "seal.pem").write_bytes(pem)
    from_text = SealKeyring.from_settings(Settings(var_dir=tmp_path, seal_private_key=pem.decode()))
    from_path = SealKeyring.from_settings(
        Settings(var_dir=tmp_path, seal_private_key=str(tmp_path / "seal.pem"))
    )
    assert from_text.key_id == from_path.key_id == key_id(key.public_key())
    assert not (tmp_path / "seal.key").exists()


def test_distributed_run_refuses_to_invent_a_key(tmp_path):
    with pytest.raises(RuntimeError, match="YIWANG_SEAL_PRIVATE_KEY"):
        SealKeyring.from_settings(Settings(var_dir=tmp_path, environment="distributed"))


def test_retired_keys_still_verify_and_are_published_as_retired(tmp_path):
    old_key = Ed25519PrivateKey.generate()
    old = SealKeyring("发证机关", old_key)
    signature = old.sign(content())
    retired = json.dumps({"keys": [public_jwk(old_key.public_key(), "retired")]})
    current = SealKeyring.from_settings(
        Settings(var_dir=tmp_path, seal_retired_public_keys=retired)
    )
    assert current.key_id != old.key_id
    assert current.verify(content(), signature, key_id=old.key_id) is True
    assert [(k["kid"], k["status"]) for k in current.jwks()] == [
        (current.key_id, "active"),
        (old.key_id, "retired"),
    ]
