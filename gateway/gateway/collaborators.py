"""What the gateway is made of at run time: built once at start by ``main.create_app``
(the runtime's collaborators), started and stopped with the app, and handed to routes
part by part through the aliases in ``api/deps.py``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.audit.access_log import AccessRecorder
from gateway.audit.chain import READERS
from gateway.identity.accounts import OneTimeCodes
from gateway.identity.api_keys import ApiKeyAuthenticator
from gateway.identity.authn import authenticate
from gateway.identity.face import FaceChecks, FaceVerifier
from gateway.identity.lockout import Lockout
from gateway.identity.principal import Principal
from gateway.identity.real_name import RealNameAttempts, RealNameBinding
from gateway.identity.sessions import SessionStore
from gateway.identity.sign_in import SignIn
from gateway.identity.sms import FileOutboxSms
from gateway.identity.tokens import AccessTokens, Keyring
from gateway.models import audit_checkpoints, audit_entries
from gateway.routing.authorisation import Authoriser
from gateway.routing.calls import Services
from gateway.routing.proxy import Forwarder
from gateway.routing.ratelimit import RateLimiter
from gateway.routing.scenarios import ScenarioStore
from gateway.routing.upstreams import Upstream
from gateway.settings import Settings
from yiwang_platform.audit_chain import chain_key
from yiwang_platform.audit_checkpoints import CheckpointKey, run_checkpoints
from yiwang_platform.deps import collaborators_of, part_of
from yiwang_platform.errors import ProblemError
from yiwang_platform.internal_token import InternalTokenSigner, TokenCache
from yiwang_platform.keyvalue import KeyValueStore
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher


@dataclass
class Collaborators:
    sessions: async_sessionmaker[AsyncSession]
    # Shared short-lived state (codes, rate windows, revocations, ...): Redis when configured.
    kv: KeyValueStore
    cipher: PiiCipher
    api_keys: ApiKeyAuthenticator
    keyring: Keyring
    tokens: AccessTokens
    sign_ins: SessionStore
    sms: FileOutboxSms
    codes: OneTimeCodes
    sign_in: SignIn
    real_name_attempts: RealNameAttempts
    real_name_binding: RealNameBinding
    face_checks: FaceChecks
    face_verifier: FaceVerifier
    services: Services
    scenarios: ScenarioStore
    limiter: RateLimiter
    authoriser: Authoriser
    recorder: AccessRecorder
    forwarder: Forwarder
    # Signs checkpoints of the audit chain's head.
    checkpoint_key: CheckpointKey
    checkpoint_interval: float
    _checkpointer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for upstream in self.services.upstreams.values():
            await upstream.start()
        await self.keyring.load()
        self.recorder.start()
        self.scenarios.start()
        self._checkpointer = asyncio.create_task(
            run_checkpoints(
                self.sessions,
                audit_entries,
                checkpoints=audit_checkpoints,
                key=self.checkpoint_key,
                interval=self.checkpoint_interval,
            ),
            name="gateway-audit-checkpoints",
        )

    async def stop(self, *, close_kv: bool) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
        await self.scenarios.stop()
        await self.recorder.stop()
        if close_kv:
            await self.kv.close()
        for upstream in self.services.upstreams.values():
            await upstream.close()


def _lockout(settings: Settings, kv: KeyValueStore, *, kind: str) -> Lockout:
    """The lockout ``<kind>_max_failures``, ``<kind>_failure_window_seconds`` and
    ``<kind>_lockout_seconds`` set up. Real-name locks are kept a minute past their end."""
    return Lockout(
        kv,
        kind.replace("_", "-"),
        max_failures=getattr(settings, f"{kind}_max_failures"),
        failure_window_seconds=getattr(settings, f"{kind}_failure_window_seconds"),
        lockout_seconds=getattr(settings, f"{kind}_lockout_seconds"),
        expiry_margin=60 if kind == "real_name" else 0,
    )


def build(
    settings: Settings,
    *,
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    cipher: PiiCipher,
    kv: KeyValueStore,
    upstreams: dict[str, Upstream],
    signer: InternalTokenSigner,
) -> Collaborators:
    """Every collaborator, from the settings; nothing is started. A policy file that
    does not compile, or a missing audit key, stops the start here."""
    # The audit chain's keys come from settings (a missing one stops the start in the
    # distributed run): its HMAC key, and the key that signs checkpoints of its head.
    checkpoint_key = CheckpointKey.from_settings(settings)
    recorder = AccessRecorder(
        sessions,
        outbox,
        batch_size=settings.access_batch_size,
        cipher=cipher,
        chain_key=chain_key(settings),
    )
    scenarios = ScenarioStore(settings.policies_dir, settings.policies_poll_seconds)
    limiter = RateLimiter(kv, settings.rate_limit_per_minute)
    services = Services(
        upstreams=upstreams,
        signer=signer,
        tokens=TokenCache(signer),
        token_ttl=settings.internal_token_ttl,
    )
    authoriser = Authoriser(scenarios=scenarios, limiter=limiter, services=services)
    ttl = timedelta(seconds=settings.access_token_ttl_seconds)
    keyring = Keyring(sessions, cipher, grace=ttl + timedelta(minutes=1))
    tokens = AccessTokens(keyring, cipher, issuer=settings.token_issuer, ttl=ttl)
    sms = FileOutboxSms(
        Path(settings.sms_outbox)
        if settings.sms_outbox
        else Path(settings.var_dir) / "sms-outbox.jsonl"
    )
    sign_ins = SessionStore(
        sessions,
        kv,
        cipher=cipher,
        tokens=tokens,
        refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
        face_window=timedelta(minutes=settings.face_window_minutes),
    )
    codes = OneTimeCodes(kv, sms, cipher=cipher)
    real_name_attempts = RealNameAttempts(_lockout(settings, kv, kind="real_name"))
    face_checks = FaceChecks(
        _lockout(settings, kv, kind="face"), challenge_seconds=settings.face_challenge_seconds
    )
    return Collaborators(
        sessions=sessions,
        kv=kv,
        cipher=cipher,
        api_keys=ApiKeyAuthenticator.from_setting(settings.api_keys),
        keyring=keyring,
        tokens=tokens,
        sign_ins=sign_ins,
        sms=sms,
        codes=codes,
        sign_in=SignIn(
            sign_ins,
            codes,
            kv,
            cipher,
            password_attempts=settings.password_attempts,
            token_endpoint=settings.token_endpoint_url,
        ),
        real_name_attempts=real_name_attempts,
        real_name_binding=RealNameBinding(
            real_name_attempts, authoriser, recorder, sign_ins, cipher
        ),
        face_checks=face_checks,
        face_verifier=FaceVerifier(
            face_checks, services, recorder, sign_ins, settings.face_max_image_bytes
        ),
        services=services,
        scenarios=scenarios,
        limiter=limiter,
        authoriser=authoriser,
        recorder=recorder,
        forwarder=Forwarder(
            services=services,
            authoriser=authoriser,
            recorder=recorder,
            max_body_bytes=settings.max_body_bytes,
            delegated_audiences=settings.delegated_audiences,
        ),
        checkpoint_key=checkpoint_key,
        checkpoint_interval=settings.audit_checkpoint_interval_seconds,
    )


# ---- for api/deps.py ----------------------------------------------------------------------

get_collaborators = collaborators_of(Collaborators)

T = TypeVar("T")


async def authenticated(request: Request) -> Principal:
    """The caller: a Bearer access token, or an operator's API key; 401 otherwise."""
    found = await get_collaborators(request)
    return await authenticate(
        authorization=request.headers.get("authorization", ""),
        api_key=request.headers.get("x-api-key", ""),
        keyring=found.keyring,
        tokens=found.tokens,
        sign_ins=found.sign_ins,
        api_keys=found.api_keys,
    )


def caller_of_type(
    *principal_types: str, detail: str
) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency answering the caller when it is one of ``principal_types``; 403 else."""

    async def check(caller: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if caller.principal_type not in principal_types:
            raise ProblemError(403, "forbidden", "无权访问", detail)
        return caller

    return check


audit_reader = caller_of_type(*READERS, detail="the audit log is for supervisors and operators")
operator = caller_of_type("operator", detail="key rotation is for operators")

# The audit-checkpoint routes' own dependencies (yiwang_platform's checkpoint_router).
checkpoint_key = part_of(Collaborators, lambda c: c.checkpoint_key)
audit_chain_key = part_of(Collaborators, lambda c: c.recorder.chain_key)


async def audit_written(request: Request) -> None:
    """Entries still queued are written first: a checkpoint on demand covers them."""
    await (await get_collaborators(request)).recorder.flush()
