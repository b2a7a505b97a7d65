"""Request and response bodies of the gateway's own routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

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


class ReadOf(BaseModel):
    """A response body read off the domain object of the same fields."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, source: object) -> Self:
        return cls.model_validate(source)


class Tokens(ReadOf):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str | None = None
    acr: str


# ---- face checks ------------------------------------------------------------------------


class ChallengeRead(ReadOf):
    challenge_id: str
    nonce: str
    expires_at: datetime


class VerificationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge_id: str = Field(min_length=1, max_length=64)
    nonce: str = Field(min_length=1, max_length=64)
    image: str = Field(
        min_length=1,
        description="the selfie: JPEG or PNG, base64, exactly one face",
        json_schema_extra={"contentEncoding": "base64"},
    )


class VerificationRead(ReadOf):
    match: bool
    score: float = Field(description="distance between the faces: lower is more alike")
    acr: str = Field(description="the session's assurance level after this check")
    valid_until: datetime | None = Field(
        default=None, description="until when the session is L3 (on a match)"
    )
    attempts_left: int | None = Field(
        default=None, description="failed checks left before the lock (on no match)"
    )


# ---- audit ------------------------------------------------------------------------------


class AuditEntryRead(BaseModel):
    seq: int
    at: datetime
    hash: str
    entry: dict[str, Any]
