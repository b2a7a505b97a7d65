"""Request and response bodies of the license API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

HolderKind = Literal["citizen", "enterprise"]
LicenseStatus = Literal["valid", "revoked", "expired"]

FieldName = Annotated[str, StringConstraints(min_length=1, max_length=60)]
FieldValue = Annotated[str, StringConstraints(max_length=500)]


class LicenseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    license_type: str = Field(
        pattern=r"^([A-Z][A-Z0-9-]{1,59}|[a-z][a-z0-9-]{1,59})$",
        description="证照类型编码: a registered type (e.g. business-license, whose fields "
        "are then checked) or a free-form upper-case code (e.g. CN-BIZ-LICENSE)",
    )
    holder_kind: HolderKind = Field(
        description="citizen: 公民身份号码; enterprise: 统一社会信用代码"
    )
    holder_id: str = Field(min_length=1, max_length=40, description="持证主体证件号码")
    holder_name: str = Field(min_length=1, max_length=200)
    fields: dict[FieldName, FieldValue] = Field(
        default_factory=dict, max_length=30, description="证照照面信息, at most 30 entries"
    )
    valid_until: AwareDatetime | None = Field(
        default=None,
        description="有效期至 (with a zone); for a registered type, defaults to its validity",
    )


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
    license_type_name: str | None = Field(description="Chinese name of a registered type")
    status: LicenseStatus = Field(description="valid, revoked, or expired (past valid_until)")
    revoked_at: datetime | None = None
    case_id: str | None = None
    subcase_id: str | None = None


class VerificationRead(BaseModel):
    valid: bool


class SealKeyRead(BaseModel):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    use: Literal["sig"]
    alg: Literal["EdDSA"]
    status: Literal["active", "retired"]


class SealKeysRead(BaseModel):
    issuer: str
    keys: list[SealKeyRead]


class RevocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="吊销/注销原因")


class PresentationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[FieldName] = Field(
        min_length=1, max_length=30, description="the fields to show; the others stay hidden"
    )
    ttl_seconds: int = Field(default=180, ge=60, le=600, description="how long it verifies")


class QrCode(BaseModel):
    media_type: Literal["image/png"]
    base64: str = Field(description="the PNG image, base64")


class PresentationRead(BaseModel):
    presentation_id: str
    license_id: str
    license_type: str
    fields: list[str] = Field(description="names of the fields it shows")
    issued_at: datetime
    expires_at: datetime
    presentation: str = Field(description="the signed presentation, the text in the QR code")
    qr_code: QrCode


class PresentationCheckCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presentation: str = Field(min_length=1, max_length=8000)


class PresentationCheckRead(BaseModel):
    valid: bool
    reason: str | None = Field(
        description="null when valid, else one of: malformed, unknown_key, "
        "signature_invalid, binding_mismatch, disclosure_mismatch, not_yet_valid, expired, "
        "license_expired, revoked, unknown_license"
    )
    license_id: str | None = None
    license_type: str | None = None
    fields: dict[str, str] = Field(default_factory=dict, description="the revealed fields only")
    issuer: str | None = None
    expires_at: datetime | None = None


class LicenseTypeField(BaseModel):
    name: str
    label: str
    required: bool


class LicenseTypeRead(BaseModel):
    code: str
    name: str
    holder_kind: HolderKind
    fields: list[LicenseTypeField]
    validity_years: int | None = Field(description="null: long-term (长期有效)")


class UsageRead(BaseModel):
    action: Literal["read", "present", "verify"]
    reader_type: str
    scenario: str | None
    at: datetime
