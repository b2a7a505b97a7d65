"""PiiCipher: encryption, blind index and the key file of the standalone run."""

from __future__ import annotations

import base64
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from yiwang_platform.pii import PiiCipher
from yiwang_platform.settings import ServiceSettings

ID_NUMBER = "11010519491231002X"


def settings(var_dir: Path, pii_key: str = "", environment: str = "standalone") -> ServiceSettings:
    return ServiceSettings(var_dir=var_dir, pii_key=pii_key, environment=environment)  # type: ignore[arg-type]


@pytest.fixture
def cipher() -> PiiCipher:
    return PiiCipher(os.urandom(64))


@pytest.mark.parametrize("plaintext", [ID_NUMBER, "张三", "", "13812345678 / 北京市朝阳区"])
def test_encrypt_then_decrypt_gives_the_plaintext(cipher: PiiCipher, plaintext: str) -> None:
    assert cipher.decrypt(cipher.encrypt(plaintext)) == plaintext


def test_ciphertext_does_not_contain_the_plaintext(cipher: PiiCipher) -> None:
    token = cipher.encrypt(ID_NUMBER)

    assert ID_NUMBER not in token
    assert ID_NUMBER.encode() not in base64.b64decode(token)


def test_same_plaintext_encrypts_differently_each_time(cipher: PiiCipher) -> None:
    first = cipher.encrypt(ID_NUMBER)
    second = cipher.encrypt(ID_NUMBER)

    assert first != second
    assert cipher.decrypt(first) == cipher.decrypt(second) == ID_NUMBER


def test_another_key_cannot_decrypt(cipher: PiiCipher) -> None:
    token = cipher.encrypt(ID_NUMBER)

    with pytest.raises(InvalidTag):
        PiiCipher(os.urandom(64)).decrypt(token)


def test_tampered_ciphertext_is_rejected(cipher: PiiCipher) -> None:
    raw = bytearray(base64.b64decode(cipher.encrypt(ID_NUMBER)))
    raw[-1] ^= 0x01

    with pytest.raises(InvalidTag):
        cipher.decrypt(base64.b64encode(bytes(raw)).decode())


def test_blind_index_is_deterministic(cipher: PiiCipher) -> None:
    index = cipher.blind_index(ID_NUMBER)

    assert index == cipher.blind_index(ID_NUMBER)
    assert len(index) == 64
    assert int(index, 16) >= 0
    assert ID_NUMBER not in index


@pytest.mark.parametrize(
    "variant", ["11010519491231002x", f"  {ID_NUMBER}\n", "\t11010519491231002x "]
)
def test_blind_index_normalises_case_and_whitespace(cipher: PiiCipher, variant: str) -> None:
    assert cipher.blind_index(variant) == cipher.blind_index(ID_NUMBER)


def test_blind_index_differs_for_different_values(cipher: PiiCipher) -> None:
    assert cipher.blind_index(ID_NUMBER) != cipher.blind_index("110101199003071234")


def test_blind_index_differs_across_keys() -> None:
    assert PiiCipher(os.urandom(64)).blind_index(ID_NUMBER) != PiiCipher(
        os.urandom(64)
    ).blind_index(ID_NUMBER)


def test_blind_index_uses_the_second_half_of_the_key_only() -> None:
    index_half = os.urandom(32)

    first = PiiCipher(os.urandom(32) + index_half)
    second = PiiCipher(os.urandom(32) + index_half)

    assert first.blind_index(ID_NUMBER) == second.blind_index(ID_NUMBER)


@pytest.mark.parametrize("length", [0, 32, 63, 65])
def test_key_must_be_64_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        PiiCipher(os.urandom(length))


def test_from_settings_uses_the_configured_key(tmp_path: Path) -> None:
    raw = os.urandom(64)

    cipher = PiiCipher.from_settings(settings(tmp_path, base64.b64encode(raw).decode()))

    assert cipher.blind_index(ID_NUMBER) == PiiCipher(raw).blind_index(ID_NUMBER)
    assert PiiCipher(raw).decrypt(cipher.encrypt(ID_NUMBER)) == ID_NUMBER
    assert list(tmp_path.iterdir()) == []


def test_from_settings_creates_a_private_key_file_once(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    key_file = var_dir / "pii.key"

    first = PiiCipher.from_settings(settings(var_dir))
    content = key_file.read_bytes()
    inode = key_file.stat().st_ino
    second = PiiCipher.from_settings(settings(var_dir))

    assert sorted(p.name for p in var_dir.iterdir()) == ["pii.key"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(content, validate=True)) == 64
    assert key_file.read_bytes() == content
    assert key_file.stat().st_ino == inode
    assert second.blind_index(ID_NUMBER) == first.blind_index(ID_NUMBER)
    assert second.decrypt(first.encrypt(ID_NUMBER)) == ID_NUMBER
    assert first.blind_index(ID_NUMBER) == PiiCipher(base64.b64decode(content)).blind_index(
        ID_NUMBER
    )


def test_different_var_dirs_get_different_keys(tmp_path: Path) -> None:
    first = PiiCipher.from_settings(settings(tmp_path / "a"))
    second = PiiCipher.from_settings(settings(tmp_path / "b"))

    assert first.blind_index(ID_NUMBER) != second.blind_index(ID_NUMBER)


def test_distributed_run_without_a_key_refuses(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="YIWANG_PII_KEY must be set"):
        PiiCipher.from_settings(settings(tmp_path, environment="distributed"))

    assert not (tmp_path / "pii.key").exists()


def test_distributed_run_with_a_key_works(tmp_path: Path) -> None:
    key = base64.b64encode(os.urandom(64)).decode()

    cipher = PiiCipher.from_settings(settings(tmp_path, key, environment="distributed"))

    assert cipher.decrypt(cipher.encrypt(ID_NUMBER)) == ID_NUMBER


def blind_index_after(start: threading.Barrier, s: ServiceSettings) -> str:
    start.wait()
    return PiiCipher.from_settings(s).blind_index(ID_NUMBER)


def test_concurrent_creation_from_threads_ends_with_one_key(tmp_path: Path) -> None:
    """Threads of one process share a pid, so the writers must not share a temporary file."""
    threads = 8
    for attempt in range(10):
        var_dir = tmp_path / f"run-{attempt}"
        start = threading.Barrier(threads, timeout=10)

        with ThreadPoolExecutor(threads) as pool:
            futures = [
                pool.submit(blind_index_after, start, settings(var_dir)) for _ in range(threads)
            ]
            indexes = [f.result() for f in futures]

        final = PiiCipher.from_settings(settings(var_dir))
        assert indexes == [final.blind_index(ID_NUMBER)] * threads
        assert sorted(p.name for p in var_dir.iterdir()) == ["pii.key"]
        assert len(base64.b64decode((var_dir / "pii.key").read_bytes(), validate=True)) == 64
