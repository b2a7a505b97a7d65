"""Authenticating people and machines.

Citizens: phone + one-time code or password (argon2); real-name binding checks
the claimed ID number and name against the population library (核验, nothing
disclosed). Staff: password + their personal key (专属密钥), so every call is
theirs. Machines: client credentials with a signed client assertion (RFC 7523).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.identity.principal import Principal
from gateway.identity.sms import SmsProvider
from gateway.models import CitizenAccount, MachineClient, StaffAccount
from yiwang_platform.errors import ProblemError
from yiwang_platform.identifiers import InvalidIdentifier, resident_id
from yiwang_platform.keyvalue import KeyValueStore
from yiwang_platform.pii import PiiCipher

PHONE = re.compile(r"^1[3-9]\d{9}$")
CODE_TTL_SECONDS = 300
CODE_ATTEMPTS = 5
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_hasher = PasswordHasher()
# Compared against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def _refused(detail: str, code: str = "invalid_credentials") -> ProblemError:
    return ProblemError(401, code, "账号或凭证不正确", detail, title_en="Invalid credentials")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def check_phone(phone: str) -> str:
    if not PHONE.match(phone):
        raise ProblemError(
            422, "phone_invalid", "手机号码格式不正确", title_en="Invalid mobile number"
        )
    return phone


class OneTimeCodes:
    def __init__(self, kv: KeyValueStore, sms: SmsProvider, *, cipher: PiiCipher) -> None:
        self.kv = kv
        self.sms = sms
        self.cipher = cipher

    async def send(self, phone: str) -> None:
        index = self.cipher.blind_index(check_phone(phone))
        if not await self.kv.set(f"otp-sent:{index}", "1", ttl_seconds=60, only_if_absent=True):
            raise ProblemError(
                429,
                "too_many_requests",
                "请求过于频繁",
                "one code per minute",
                headers={"Retry-After": "60"},
            )
        code = f"{secrets.randbelow(1_000_000):06d}"
        await self.kv.set(f"otp:{index}", code, ttl_seconds=CODE_TTL_SECONDS)
        await self.kv.delete(f"otp-tries:{index}")
        await self.sms.send(phone, f"【一网通办】验证码 5 分钟内有效：{code}")

    async def consume(self, phone: str, code: str) -> None:
        """The code is right (and now used up), or a 401; a few wrong tries burn it."""
        index = self.cipher.blind_index(check_phone(phone))
        expected = await self.kv.get(f"otp:{index}")
        tries = await self.kv.increment(f"otp-tries:{index}", CODE_TTL_SECONDS)
        if expected is None or tries > CODE_ATTEMPTS or not hmac.compare_digest(expected, code):
            if tries >= CODE_ATTEMPTS:
                await self.kv.delete(f"otp:{index}")
            raise _refused("one-time code wrong or expired", "code_invalid")
        await self.kv.delete(f"otp:{index}")


async def citizen_by_phone(
    session: AsyncSession, cipher: PiiCipher, *, phone: str
) -> CitizenAccount | None:
    return await session.scalar(
        select(CitizenAccount).where(CitizenAccount.phone_index == cipher.blind_index(phone))
    )


async def sign_up_citizen(
    session: AsyncSession, cipher: PiiCipher, *, phone: str, password: str | None
) -> CitizenAccount:
    if await citizen_by_phone(session, cipher, phone=phone) is not None:
        raise ProblemError(409, "account_exists", "该手机号已注册", title_en="Account exists")
    account = CitizenAccount(
        id=str(uuid.uuid4()),
        phone_index=cipher.blind_index(phone),
        phone_enc=cipher.encrypt(phone),
        password_hash=hash_password(password) if password else None,
        created_at=datetime.now(UTC),
    )
    session.add(account)
    return account


def citizen_principal(account: CitizenAccount, cipher: PiiCipher) -> Principal:
    """L2 with the ID number as subject once real-name bound; L1 with the account otherwise."""
    if account.id_enc is not None:
        return Principal(subject=cipher.decrypt(account.id_enc), principal_type="citizen", acr="L2")
    return Principal(subject=f"acct:{account.id}", principal_type="citizen", acr="L1")


def check_id_number(id_number: str) -> str:
    """The platform's one check (checksum, region, birth date not in the future)."""
    try:
        return resident_id(id_number)
    except InvalidIdentifier as exc:
        raise ProblemError(
            422,
            "id_number_invalid",
            "身份证号码无效",
            f"not a valid resident ID number: {exc.reason}",
            title_en="Invalid ID number",
        ) from exc


async def bind_real_name(
    session: AsyncSession, cipher: PiiCipher, *, account: CitizenAccount, id_number: str
) -> None:
    index = cipher.blind_index(id_number)
    taken = await session.scalar(
        select(CitizenAccount.id).where(
            CitizenAccount.id_index == index, CitizenAccount.id != account.id
        )
    )
    if taken is not None:
        raise ProblemError(
            409, "id_number_bound", "该身份证号已绑定其他账号", title_en="ID number bound elsewhere"
        )
    account.id_index = index
    account.id_enc = cipher.encrypt(id_number)
    account.real_name_bound_at = datetime.now(UTC)


def personal_key_digest(personal_key: str) -> str:
    return hashlib.sha256(personal_key.encode()).hexdigest()


async def set_staff(
    session: AsyncSession,
    staff_id: str,
    *,
    department: str,
    roles: list[str],
    password: str,
    hall: str | None,
) -> str:
    """Create or reset a staff account; returns its new personal key (only its digest
    is stored)."""
    personal_key = secrets.token_urlsafe(24)
    account = await session.get(StaffAccount, staff_id)
    if account is None:
        account = StaffAccount(staff_id=staff_id)
        session.add(account)
    account.password_hash = hash_password(password)
    account.personal_key_hash = personal_key_digest(personal_key)
    account.department = department
    account.hall = hall
    account.roles = roles
    account.active = True
    await session.flush()
    return personal_key


async def authenticate_staff(
    session: AsyncSession, staff_id: str, *, password: str, personal_key: str
) -> Principal:
    staff = await session.get(StaffAccount, staff_id)
    password_ok = password_matches(staff.password_hash if staff else None, password)
    key_ok = staff is not None and hmac.compare_digest(
        staff.personal_key_hash, personal_key_digest(personal_key)
    )
    if staff is None or not staff.active or not password_ok or not key_ok:
        raise _refused("staff credentials not valid")
    return Principal(
        subject=staff.staff_id,
        principal_type="staff",
        roles=tuple(staff.roles),
        key_id=staff.personal_key_hash[:12],
        acr="L2",
        department=staff.department,
    )


async def authenticate_client(
    session: AsyncSession, kv: KeyValueStore, *, assertion: str, token_endpoint: str
) -> Principal:
    """RFC 7523 ``private_key_jwt``: iss = sub = client id, aud = the token endpoint,
    short expiry, a ``jti`` that is never accepted twice."""
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _refused("client assertion malformed", "invalid_client") from exc
    client_id = str(unverified.get("iss") or "")
    client = await session.get(MachineClient, client_id) if client_id else None
    if client is None or not client.active:
        raise _refused("unknown client", "invalid_client")
    try:
        key = jwt.PyJWK(client.public_jwk)
        claims = jwt.decode(
            assertion,
            key,
            algorithms=["EdDSA", "ES256"],
            audience=token_endpoint,
            issuer=client_id,
            options={"require": ["exp", "iat", "jti", "sub"]},
            leeway=5,
        )
    except jwt.PyJWTError as exc:
        raise _refused("client assertion not valid", "invalid_client") from exc
    if claims["sub"] != client_id or claims["exp"] - time.time() > 300:
        raise _refused("client assertion not valid", "invalid_client")
    if not await kv.set(
        f"jti:{client_id}:{claims['jti']}", "1", ttl_seconds=600, only_if_absent=True
    ):
        raise _refused("client assertion replayed", "invalid_client")
    return Principal(
        subject=client.client_id,
        principal_type=client.client_type,
        key_id=str(client.public_jwk.get("kid", ""))[:40],
        acr="L2",
        scopes=tuple(client.scopes),
    )


def public_jwk_json(jwk: dict[str, str]) -> str:
    return json.dumps(jwk, sort_keys=True)
