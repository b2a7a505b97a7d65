"""Request and response bodies of the license API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

HolderKind = Literal["citizen", "enterprise"]

FieldName = Annotated[str, StringConstraints(min_length=1, max_length=60)]
FieldValue = Annotated[str, StringConstraints(max_length=500)]


class LicenseIssue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    license_type: str = Field(
        pattern=r"^[A-Z][A-Z0-9-]{1,59}$", description="证照类型编码, e.g. CN-BIZ-LICENSE"
    )
    holder_kind: HolderKind = Field(
        description="citizen: 公民身份号码; enterprise: 统一社会信用代码"
    )
    holder_id: str = Field(min_length=1, max_length=40, description="持证主体证件号码")
    holder_name: str = Field(min_length=1, max_length=200)
    fields: dict[FieldName, FieldValue] = Field(
        default_factory=dict, max_length=30, description="证照照面信息, at most 30 entries"
    )
    valid_until: AwareDatetime | None = Field(default=None, description="有效期至 (with a zone)")


class LicenseRead(BaseModel):
    license_id: str
    license_type: str
    holder_kind: HolderKind
    holder_id: str = Field(description="masked: first 6 + ******** + last 1")
    holder_index: str
    holder_name: str
    fields: dict[str, str]
    issuer: str
    issued_at: datetime
    valid_until: datetime | None
    signature: str = Field(description="base64 Ed25519 signature of the issuer's seal")
    seal_key_id: str


class Verification(BaseModel):
    valid: bool


class SealKey(BaseModel):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    use: Literal["sig"]
    alg: Literal["EdDSA"]
    status: Literal["active", "retired"]


class SealKeys(BaseModel):
    issuer: str
    keys: list[SealKey]
