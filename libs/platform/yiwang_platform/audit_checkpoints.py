"""Signed checkpoints of a hash-chained audit log (``audit_chain``): the anchor that
someone who can rewrite the database — even one who holds the chain's HMAC key —
cannot move.

Every ``interval`` (and on demand) the service signs, with its checkpoint key
(Ed25519, a setting; never in the database), a statement of the chain's head::

    {"chain": "audit_entries", "seq": 1200, "hash": "<entry 1200's hash>",
     "from_seq": 1001, "fingerprints": "<sha256 of the fingerprints>", "at": ..., "kid": ...}

and stores it in ``<chain>_checkpoints`` with ``fingerprints``: the first
``FINGERPRINT_BYTES`` of each entry's hash from ``from_seq`` to ``seq``. Services
publish checkpoints and the public key (JWKS) for auditors, who keep copies: a
checkpoint deleted from the database still holds in the auditor's copy.

``anchors`` checks each checkpoint's signature and turns it into an
``audit_chain.Anchor`` for ``audit_chain.verify``; a checkpoint that does not verify
(forged, or its fingerprints changed) is itself reported as tampering.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Column, LargeBinary, MetaData, String, Table, Text, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_platform.audit_chain import (
    FINGERPRINT_BYTES,
    Anchor,
    VerifyResult,
    _BigId,
    _lock_id,
    canonical,
    verify,
    write_once,
)
from yiwang_platform.audit_chain import chain_key as configured_chain_key
from yiwang_platform.db import UtcDateTime, create_engine, session_factory
from yiwang_platform.errors import ProblemError
from yiwang_platform.keyfiles import private_pem
from yiwang_platform.pagination import Page, decode_key, encode_key
from yiwang_platform.settings import ServiceSettings

log = logging.getLogger(__name__)


def audit_checkpoint_table(metadata: MetaData, chain: Table) -> Table:
    """The checkpoints of ``chain``: ``<chain>_checkpoints``, one row per signed head."""
    table = Table(
        f"{chain.name}_checkpoints",
        metadata,
        Column("seq", _BigId, primary_key=True, autoincrement=False),
        Column("from_seq", _BigId, nullable=False),
        Column("hash", String(64), nullable=False),
        Column("at", UtcDateTime(), nullable=False),
        Column("kid", String(64), nullable=False),
        Column("payload", Text, nullable=False),
        Column("signature", String(200), nullable=False),
        Column("fingerprints", LargeBinary, nullable=False),
    )
    table.info["audit_chain"] = chain.name
    return table


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _kid(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ckpt-" + hashlib.sha256(raw).hexdigest()[:16]


def _public_jwk(public: Ed25519PublicKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public))
    jwk.update(kid=kid, use="sig", alg="EdDSA")
    return jwk


class CheckpointKey:
    """The service's checkpoint signing key (Ed25519); its key id is derived from it."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._key = private
        self.kid = _kid(private.public_key())

    @classmethod
    def generate(cls) -> CheckpointKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: str) -> CheckpointKey:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the audit checkpoint key must be an Ed25519 private key")
        return cls(key)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> CheckpointKey:
        """``YIWANG_AUDIT_CHECKPOINT_PRIVATE_KEY`` (PEM text or a file path), required in
        the distributed run; the standalone run creates ``var/audit-checkpoint.pem``."""
        value = settings.audit_checkpoint_private_key.strip()
        if not value:
            if settings.environment == "distributed":
                raise RuntimeError(
                    "YIWANG_AUDIT_CHECKPOINT_PRIVATE_KEY must be set in the distributed run"
                )
            path = Path(settings.var_dir) / "audit-checkpoint.pem"
            if not path.exists():
                write_once(path, cls.generate().private_pem().encode())
            value = str(path)
        pem = value if value.startswith("-----BEGIN") else Path(value).read_text()
        return cls.from_pem(pem)

    def private_pem(self) -> str:
        return private_pem(self._key)

    def sign(self, payload: str) -> str:
        return _b64url(self._key.sign(payload.encode()))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [_public_jwk(self._key.public_key(), self.kid)]}


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    from_seq: int
    hash: str
    at: datetime
    kid: str
    payload: str
    signature: str
    fingerprints: bytes


def _of(row: Any) -> Checkpoint:
    return Checkpoint(
        seq=int(row.seq),
        from_seq=int(row.from_seq),
        hash=row.hash,
        at=row.at,
        kid=row.kid,
        payload=row.payload,
        signature=row.signature,
        fingerprints=bytes(row.fingerprints),
    )


async def latest(session: AsyncSession, checkpoints: Table) -> Checkpoint | None:
    row = (
        await session.execute(select(checkpoints).order_by(checkpoints.c.seq.desc()).limit(1))
    ).first()
    return None if row is None else _of(row)


async def listed(
    session: AsyncSession, checkpoints: Table, *, before: int | None = None, limit: int = 100
) -> list[Checkpoint]:
    """Checkpoints, newest first (``before``: those with a lower ``seq``)."""
    query = select(checkpoints).order_by(checkpoints.c.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(checkpoints.c.seq < before)
    return [_of(r) for r in (await session.execute(query)).all()]


async def all_checkpoints(session: AsyncSession, checkpoints: Table) -> list[Checkpoint]:
    rows = (await session.execute(select(checkpoints).order_by(checkpoints.c.seq))).all()
    if session.in_transaction():
        await session.rollback()
    return [_of(r) for r in rows]


async def take(
    session: AsyncSession,
    chain: Table,
    *,
    checkpoints: Table,
    key: CheckpointKey,
    now: datetime,
    interval: timedelta | None = None,
) -> Checkpoint | None:
    """Sign the chain's head, in the caller's transaction, unless no entry was appended
    since the last checkpoint (or, with ``interval``, the last is younger than it).
    Replicas take turns (a lock per checkpoint table); the newest checkpoint is returned."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id(checkpoints)}
        )
    last = await latest(session, checkpoints)
    if last is not None and interval is not None and now - last.at < interval:
        return last
    head = await session.scalar(select(func.max(chain.c.seq)))
    after = last.seq if last is not None else 0
    if head is None or int(head) <= after:
        return last
    rows = (
        await session.execute(
            select(chain.c.seq, chain.c.hash)
            .where(chain.c.seq > after, chain.c.seq <= int(head))
            .order_by(chain.c.seq)
        )
    ).all()
    hashes = [r.hash for r in rows]
    fingerprints = b"".join(bytes.fromhex(h[: FINGERPRINT_BYTES * 2]) for h in hashes)
    statement = {
        "chain": chain.name,
        "seq": int(head),
        "from_seq": after + 1,
        "hash": hashes[-1],
        "fingerprints": hashlib.sha256(fingerprints).hexdigest(),
        "entries": len(hashes),
        "at": now.astimezone(UTC).isoformat(),
        "kid": key.kid,
    }
    payload = canonical(statement)
    made = Checkpoint(
        seq=int(head),
        from_seq=after + 1,
        hash=hashes[-1],
        at=now,
        kid=key.kid,
        payload=payload,
        signature=key.sign(payload),
        fingerprints=fingerprints,
    )
    await session.execute(checkpoints.insert().values(**made.__dict__))
    return made


@dataclass(frozen=True)
class Anchors:
    anchors: list[Anchor]
    # The first checkpoint that does not hold, and why (None: all hold).
    bad_seq: int | None = None
    reason: str | None = None


def anchors(found: Sequence[Checkpoint], *, jwks: dict[str, Any], chain: str) -> Anchors:
    """Check each checkpoint's signature against ``jwks`` and its stored values against
    what it signed; the anchors of those that hold, and the first that does not."""
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in jwks.get("keys", []):
        public = jwt.algorithms.OKPAlgorithm.from_jwk(json.dumps(jwk))
        if isinstance(public, Ed25519PublicKey):
            keys[str(jwk.get("kid"))] = public
    good: list[Anchor] = []
    for cp in sorted(found, key=lambda c: c.seq):
        problem = _checkpoint_problem(cp, keys, chain=chain)
        if problem is not None:
            return Anchors(good, cp.seq, f"checkpoint {cp.seq}: {problem}")
        good.append(Anchor(cp.seq, cp.from_seq, cp.hash, cp.fingerprints))
    return Anchors(good)


def _checkpoint_problem(
    cp: Checkpoint, keys: dict[str, Ed25519PublicKey], *, chain: str
) -> str | None:
    public = keys.get(cp.kid)
    if public is None:
        return f"signed with an unknown key {cp.kid}"
    try:
        public.verify(_unb64url(cp.signature), cp.payload.encode())
    except (InvalidSignature, ValueError):
        return "signature does not verify"
    signed = json.loads(cp.payload)
    stored = {
        "chain": chain,
        "seq": cp.seq,
        "from_seq": cp.from_seq,
        "hash": cp.hash,
        "fingerprints": hashlib.sha256(cp.fingerprints).hexdigest(),
        "entries": len(cp.fingerprints) // FINGERPRINT_BYTES,
        "kid": cp.kid,
    }
    if any(signed.get(k) != v for k, v in stored.items()) or (
        cp.seq - cp.from_seq + 1
    ) * FINGERPRINT_BYTES != len(cp.fingerprints):
        return "stored values differ from what it signed"
    return None


Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def run_checkpoints(
    sessions: async_sessionmaker[AsyncSession],
    chain: Table,
    *,
    checkpoints: Table,
    key: CheckpointKey,
    interval: float,
    clock: Clock = _utcnow,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Sign the head every ``interval`` seconds (of ``clock``) while entries arrive; run
    as a task of the service. Checks a few times per interval, so a restart delays a
    checkpoint by little; a failure is logged and retried at the next check."""
    period = timedelta(seconds=interval)
    while True:
        try:
            async with sessions() as session, session.begin():
                await take(
                    session, chain, checkpoints=checkpoints, key=key, now=clock(), interval=period
                )
        except Exception as exc:  # a database outage must not end the task
            log.warning("audit checkpoint of %s not taken: %s", chain.name, type(exc).__name__)
        await sleep(min(interval / 4, 60.0))


async def verify_anchored(
    session: AsyncSession,
    chain: Table,
    *,
    checkpoints: Table,
    key: bytes | None,
    jwks: dict[str, Any],
    found: Sequence[Checkpoint] | None = None,
) -> VerifyResult:
    """Verify ``chain`` against its checkpoints (stored ones, or ``found``: an auditor's
    copies), whose signatures are checked against ``jwks``. A checkpoint that does not
    hold fails the verification too (reported after any bad entry)."""
    if found is None:
        found = await all_checkpoints(session, checkpoints)
    checked = anchors(found, jwks=jwks, chain=chain.name)
    result = await verify(session, chain, key=key, anchors=checked.anchors)
    if not result.ok or checked.reason is None:
        return result
    return replace(result, ok=False, head_hash=None, reason=checked.reason)


class CheckpointRead(BaseModel):
    """A signed checkpoint as published: verify ``signature`` (EdDSA, base64url) over the
    UTF-8 bytes of ``payload`` with the key ``kid`` of the service's checkpoint JWKS."""

    seq: int = Field(description="the last entry it covers (the chain's head then)")
    from_seq: int = Field(description="the first entry it covers")
    hash: str = Field(description="entry seq's hash")
    at: datetime
    kid: str
    payload: str = Field(description="the signed statement (canonical JSON)")
    signature: str
    fingerprints: str = Field(
        description=f"base64 of the first {FINGERPRINT_BYTES} bytes of each covered entry's "
        "hash, in order; the payload signs its SHA-256"
    )

    @classmethod
    def of(cls, cp: Checkpoint) -> CheckpointRead:
        return cls(
            seq=cp.seq,
            from_seq=cp.from_seq,
            hash=cp.hash,
            at=cp.at,
            kid=cp.kid,
            payload=cp.payload,
            signature=cp.signature,
            fingerprints=base64.b64encode(cp.fingerprints).decode(),
        )


# The verification of a whole chain against its signed checkpoints (no docstring: it
# would become the schema's description in every service's OpenAPI document).
class VerifyRead(BaseModel):
    ok: bool
    entries_checked: int
    first_bad_seq: int | None
    reason: str | None
    head_hash: str | None
    checkpoints_checked: int

    @classmethod
    def of(cls, result: VerifyResult) -> VerifyRead:
        return cls(
            ok=result.ok,
            entries_checked=result.entries_checked,
            first_bad_seq=result.first_bad_seq,
            reason=result.reason,
            head_hash=result.head_hash,
            checkpoints_checked=result.checkpoints_checked,
        )


Dependency = Callable[..., Any]


def checkpoint_router(
    *,
    chain: Table,
    checkpoints: Table,
    session: Dependency,
    reader: Dependency,
    signer: Dependency,
    chain_key: Dependency,
    settle: Dependency | None = None,
    log: str = "the chain",
    verified: str = "the whole hash chain",
    empty_title_en: str = "The audit log is empty",
    verify_name: str = "verify_audit_chain",
) -> APIRouter:
    """The routes that publish ``chain``'s anchors, for a service to include under its
    audit prefix: ``GET /verify``, ``GET`` and ``POST /checkpoints``, ``GET
    /checkpoints/keys``.

    Dependencies the service supplies: ``session`` (its ``get_session``), ``reader``
    (refuses, 403, anyone but the chain's readers), ``signer`` (answers the service's
    ``CheckpointKey``), ``chain_key`` (answers the chain's HMAC key, ``bytes | None``),
    and ``settle`` (run before a checkpoint is taken on demand, e.g. to write entries
    still queued). ``log``, ``verified``, ``empty_title_en`` and ``verify_name`` word
    the summaries, the empty-chain problem and the verify route's name.
    """
    router = APIRouter(dependencies=[Depends(reader)])
    # Dependencies as defaults: annotations naming this function's locals would not
    # resolve (the module's annotations are strings).

    async def verify_chain(
        db: AsyncSession = Depends(session),
        signed_by: CheckpointKey = Depends(signer),
        key: bytes | None = Depends(chain_key),
    ) -> VerifyRead:
        result = await verify_anchored(
            db, chain, checkpoints=checkpoints, key=key, jwks=signed_by.jwks()
        )
        return VerifyRead.of(result)

    async def list_checkpoints(
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        db: AsyncSession = Depends(session),
    ) -> Page[CheckpointRead]:
        after = decode_key(cursor, int)
        before = None if after is None else int(after[0])
        found = await listed(db, checkpoints, before=before, limit=limit)
        next_cursor = encode_key(found[-1].seq) if len(found) == limit else None
        return Page[CheckpointRead](
            items=[CheckpointRead.of(c) for c in found], next_cursor=next_cursor
        )

    async def take_checkpoint(
        db: AsyncSession = Depends(session), signed_by: CheckpointKey = Depends(signer)
    ) -> CheckpointRead:
        async with db.begin():
            made = await take(
                db, chain, checkpoints=checkpoints, key=signed_by, now=datetime.now(UTC)
            )
        if made is None:
            raise ProblemError(404, "audit_chain_empty", "审计日志为空", title_en=empty_title_en)
        return CheckpointRead.of(made)

    async def checkpoint_keys(signed_by: CheckpointKey = Depends(signer)) -> dict[str, Any]:
        return signed_by.jwks()

    router.add_api_route(
        "/verify",
        verify_chain,
        methods=["GET"],
        name=verify_name,
        response_model=VerifyRead,
        summary=f"Verify {verified} against its signed checkpoints; reports the first "
        "altered entry, even when the chain after it was rebuilt",
    )
    router.add_api_route(
        "/checkpoints",
        list_checkpoints,
        methods=["GET"],
        response_model=Page[CheckpointRead],
        summary=f"Signed checkpoints of {log}'s head, newest first",
    )
    router.add_api_route(
        "/checkpoints",
        take_checkpoint,
        methods=["POST"],
        response_model=CheckpointRead,
        summary="Sign a checkpoint of the head now (none new when nothing was appended)",
        responses={404: {"description": f"{log} is empty"}},
        dependencies=[Depends(settle)] if settle is not None else None,
    )
    router.add_api_route(
        "/checkpoints/keys",
        checkpoint_keys,
        methods=["GET"],
        summary="The public keys (JWKS) that verify the checkpoints' signatures",
    )
    return router


# ---- the verify command of a service's audit log -----------------------------------------


async def verify_stored(
    settings: ServiceSettings, *, chain: Table, checkpoints: Table
) -> VerifyResult:
    """The whole chain in the service's database against its signed checkpoints."""
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session:
            return await verify_anchored(
                session,
                chain,
                checkpoints=checkpoints,
                key=configured_chain_key(settings),
                jwks=CheckpointKey.from_settings(settings).jwks(),
            )
    finally:
        await engine.dispose()


def describe(result: VerifyResult) -> str:
    if result.ok:
        return f"OK: {result.entries_checked} entries, head {result.head_hash or '-'}"
    return (
        f"TAMPERED at seq {result.first_bad_seq}: {result.reason} "
        f"({result.entries_checked} entries before it hold)"
    )


def verify_command(
    argv: list[str], settings: ServiceSettings, *, usage: str, chain: Table, checkpoints: Table
) -> int:
    """``verify``: prints OK with the number of entries and the head hash, or the first
    tampered entry; exits 0, 1 when the chain does not hold, 2 on a usage error."""
    if argv != ["verify"]:
        print(usage, file=sys.stderr)
        return 2
    result = asyncio.run(verify_stored(settings, chain=chain, checkpoints=checkpoints))
    print(describe(result))
    return 0 if result.ok else 1
