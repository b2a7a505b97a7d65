"""Request and response bodies of the gateway's own routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.identity.face import Challenge, FaceVerification
from gateway.identity.sessions import TokenPair

# ---- authentication ---------------------------------------------------------------------


class PhoneBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(description="中国大陆手机号码")


class CitizenSignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str
    code: str = Field(pattern=r"^\d{6}$")
    password: str | None = Field(default=None, min_length=10, max_length=128)


class CitizenSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str
    code: str | None = Field(default=None, pattern=r"^\d{6}$")
    password: str | None = Field(default=None, max_length=128)


class StaffSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=128)
    personal_key: str = Field(min_length=16, max_length=200, description="专属密钥")


class RealNameBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(min_length=18, max_length=18)
    name: str = Field(min_length=1, max_length=50)


class Tokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str | None = None
    acr: str

    @classmethod
    def of(cls, pair: TokenPair) -> Tokens:
        return cls(
            access_token=pair.access_token,
            expires_in=pair.expires_in,
            refresh_token=pair.refresh_token,
            acr=pair.acr,
        )


# ---- face checks ------------------------------------------------------------------------


class ChallengeRead(BaseModel):
    challenge_id: str
    nonce: str
    expires_at: datetime

    @classmethod
    def of(cls, challenge: Challenge) -> ChallengeRead:
        return cls(
            challenge_id=challenge.challenge_id,
            nonce=challenge.nonce,
            expires_at=challenge.expires_at,
        )


class VerificationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge_id: str = Field(min_length=1, max_length=64)
    nonce: str = Field(min_length=1, max_length=64)
    image: str = Field(
        min_length=1,
        description="the selfie: JPEG or PNG, base64, exactly one face",
        json_schema_extra={"contentEncoding": "base64"},
    )


class VerificationRead(BaseModel):
    match: bool
    score: float = Field(description="distance between the faces: lower is more alike")
    acr: str = Field(description="the session's assurance level after this check")
    valid_until: datetime | None = Field(
        default=None, description="until when the session is L3 (on a match)"
    )
    attempts_left: int | None = Field(
        default=None, description="failed checks left before the lock (on no match)"
    )

    @classmethod
    def of(cls, result: FaceVerification) -> VerificationRead:
        return cls(
            match=result.match,
            score=result.score,
            acr=result.acr,
            valid_until=result.valid_until,
            attempts_left=result.attempts_left,
        )


# ---- audit ------------------------------------------------------------------------------


class AuditEntryRead(BaseModel):
    seq: int
    at: datetime
    hash: str
    entry: dict[str, Any]
