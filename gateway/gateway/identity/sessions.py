"""Sign-in sessions: an access token plus a rotating refresh token.

Each use of a refresh token replaces it; presenting one that was already used
means it was stolen (or replayed), so the whole session — every token of the
family — is revoked. Revocation is checked on every request through the
key-value store (Redis in production), so sign-out takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.identity.principal import Principal
from gateway.identity.tokens import AccessTokens
from gateway.models import RefreshToken
from yiwang_platform.errors import ProblemError
from yiwang_platform.keyvalue import KeyValueStore
from yiwang_platform.pii import PiiCipher


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    # None for machines: they sign a new client assertion instead.
    refresh_token: str | None
    expires_in: int
    acr: str
    token_type: str = "Bearer"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unauthenticated(detail: str, code: str = "unauthenticated") -> ProblemError:
    return ProblemError(401, code, "未认证或凭证无效", detail, title_en="Not authenticated")


class SessionStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        kv: KeyValueStore,
        *,
        cipher: PiiCipher,
        tokens: AccessTokens,
        refresh_ttl: timedelta,
        face_window: timedelta,
    ) -> None:
        self._sessions = sessions
        self._kv = kv
        self._cipher = cipher
        self.tokens = tokens
        self.refresh_ttl = refresh_ttl
        self.face_window = face_window

    async def start(self, principal: Principal, account_id: str) -> TokenPair:
        """A new session for a freshly authenticated principal."""
        principal = replace(principal, session_id=str(uuid.uuid4()))
        async with self._sessions() as session, session.begin():
            refresh = await self._new_refresh(session, principal, account_id=account_id)
        return self._pair(principal, account_id=account_id, refresh=refresh)

    async def _new_refresh(
        self, session: AsyncSession, principal: Principal, *, account_id: str
    ) -> str:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        assert principal.session_id is not None
        session.add(
            RefreshToken(
                token_hash=_digest(token),
                session_id=principal.session_id,
                subject=self._cipher.encrypt(principal.subject),
                principal_type=principal.principal_type,
                claims={
                    "account_id": account_id,
                    "roles": list(principal.roles),
                    "acr": principal.acr,
                    "key_id": principal.key_id,
                    "department": principal.department,
                    "scopes": list(principal.scopes),
                },
                issued_at=now,
                expires_at=now + self.refresh_ttl,
            )
        )
        return token

    def _pair(self, principal: Principal, *, account_id: str, refresh: str) -> TokenPair:
        return TokenPair(
            access_token=self.tokens.issue(principal, account_id),
            refresh_token=refresh,
            expires_in=int(self.tokens.ttl.total_seconds()),
            acr=principal.acr,
        )

    async def refresh(self, token: str) -> TokenPair:
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            row = await session.scalar(
                select(RefreshToken)
                .where(RefreshToken.token_hash == _digest(token))
                .with_for_update()
            )
            if row is None or row.revoked_at is not None or row.expires_at <= now:
                raise _unauthenticated("refresh token not valid")
            if row.used_at is not None:
                # Reuse of a rotated token: revoke the whole family, in the database and at once.
                await session.execute(
                    update(RefreshToken)
                    .where(RefreshToken.session_id == row.session_id)
                    .values(revoked_at=now)
                )
                reused_session = row.session_id
            else:
                row.used_at = now
                claims = row.claims
                principal = Principal(
                    subject=self._cipher.decrypt(row.subject),
                    principal_type=row.principal_type,
                    roles=tuple(claims.get("roles") or ()),
                    key_id=str(claims.get("key_id") or ""),
                    acr=str(claims.get("acr") or "L1"),
                    session_id=row.session_id,
                    department=claims.get("department"),
                    scopes=tuple(claims.get("scopes") or ()),
                )
                account_id = str(claims["account_id"])
                refresh = await self._new_refresh(session, principal, account_id=account_id)
                reused_session = None
        if reused_session is not None:
            await self.revoke(reused_session)
            raise _unauthenticated(
                "refresh token reused; the session is revoked", "refresh_token_reused"
            )
        return self._pair(principal, account_id=account_id, refresh=refresh)

    async def revoke(self, session_id: str) -> None:
        """Sign-out: no token of the session works from now on."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(RefreshToken)
                .where(RefreshToken.session_id == session_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        # Access tokens are short-lived: remembering the revocation for their lifetime suffices.
        ttl = self.tokens.ttl.total_seconds() + 60
        await self._kv.set(f"revoked-session:{session_id}", "1", ttl_seconds=ttl)

    async def state(self, session_id: str | None) -> tuple[bool, bool]:
        """Whether the session is revoked and whether its face check still holds, in
        one round trip (every request with a token asks)."""
        if session_id is None:
            return False, False
        revoked, face = await self._kv.get_many(
            [f"revoked-session:{session_id}", f"face:{session_id}"]
        )
        return revoked is not None, face is not None

    async def mark_face_verified(self, session_id: str | None) -> datetime:
        """Raise the session to L3 for the face window; returns until when."""
        if session_id is None:
            raise ProblemError(
                400, "session_required", "需要登录会话", title_en="A sign-in session is required"
            )
        until = datetime.now(UTC) + self.face_window
        await self._kv.set(
            f"face:{session_id}", until.isoformat(), ttl_seconds=self.face_window.total_seconds()
        )
        return until
