"""Request and response bodies of the intake API, and how a ``Read`` is made from the
rows it shows."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from intake.models import Case, CaseAccess, SubCase, Upload
from yiwang_platform.pii import PiiCipher

SUBCASES = "/api/v1/intake/subcases"

Channel = Literal["online", "window"]
FormKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
FormValue = Annotated[str, StringConstraints(max_length=2000)] | int | bool | None
Form = dict[FormKey, FormValue]
Code = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z][0-9A-Z-]{1,39}$")]
MaterialCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]

M = TypeVar("M", bound=BaseModel)


def exactly_one(model: M, fields: tuple[str, str]) -> M:
    """``model``, when exactly one of its two ``fields`` is given."""
    first, second = fields
    if (getattr(model, first) is None) == (getattr(model, second) is None):
        raise ValueError(f"give exactly one of {first} and {second}")
    return model


class MaterialAttachment(BaseModel):
    """A material supplied as an upload or as an e-license from the wallet (免提交)."""

    model_config = ConfigDict(extra="forbid")

    code: MaterialCode = Field(description="材料编码（来自办事指南的材料清单）")
    upload_id: str | None = Field(default=None, max_length=36, description="已上传文件的编号")
    license_id: str | None = Field(
        default=None, max_length=36, description="证照夹中电子证照的编号（免提交）"
    )

    @model_validator(mode="after")
    def one_source(self) -> MaterialAttachment:
        return exactly_one(self, ("upload_id", "license_id"))


class PresenceCreate(BaseModel):
    """The applicant shown to be at the window: the hall's ID-card reader read their card,
    or its face terminal matched them against the population library's reference."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["id_card", "face"] = Field(
        description="id_card 读取居民身份证 / face 人脸核验（窗口终端）"
    )
    id_number: str = Field(
        pattern=r"^[0-9]{17}[0-9Xx]$",
        description="the ID number the card reader or the face terminal read: "
        "it must be the applicant's (never stored)",
    )
    reference: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
        description="id_card: the card reader's serial; face: the face check's proof reference",
    )
    read_at: datetime = Field(description="when the card was read or the face checked")


class PresenceRead(BaseModel):
    method: Literal["applicant", "id_card", "face", "app_confirmation"] = Field(
        description="applicant 本人提交 / id_card 读取身份证 / face 人脸核验 / "
        "app_confirmation 本人在应用内确认"
    )
    reference: str | None = None
    read_at: datetime | None = None
    recorded_by: str | None = Field(default=None, description="the clerk who recorded it")
    recorded_at: datetime | None = None


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matter_code: Code | None = Field(default=None, description="事项编码（单个事项）")
    bundle_code: Code | None = Field(default=None, description="一件事编码")
    answers: dict[Annotated[str, StringConstraints(max_length=64)], Any] = Field(
        default_factory=dict, max_length=50, description="智能导办问题的回答（一件事）"
    )
    channel: Channel = Field(default="online", description="online 网上办理 / window 窗口受理")
    form: Form = Field(
        default_factory=dict, max_length=50, description="表单字段（一表，最多 50 项）"
    )
    materials: list[MaterialAttachment] = Field(default_factory=list, max_length=50)
    commitments: list[MaterialCode] = Field(
        default_factory=list,
        max_length=50,
        description="以告知承诺代替的材料编码（仅事项允许告知承诺时）",
    )
    applicant_id_number: str | None = Field(
        default=None,
        pattern=r"^[0-9]{17}[0-9Xx]$",
        description="窗口受理时申请人的居民身份证号（仅窗口人员提交时填写，该办件分配给提交人）",
    )
    presence: PresenceCreate | None = Field(
        default=None,
        description="窗口受理时申请人到场的证明（读卡或人脸核验）；没有它，"
        "须另行登记或由申请人在应用内确认后才能查询申请人信息",
    )

    @model_validator(mode="after")
    def matter_or_bundle(self) -> ApplicationCreate:
        return exactly_one(self, ("matter_code", "bundle_code"))


class Problem(BaseModel):
    """One finding of the pre-review; all are reported at once (一次性告知)."""

    code: str
    target: str = Field(description="the form field or material code concerned")
    message: str


class RequiredMaterial(BaseModel):
    code: str
    name: str
    key: bool = Field(description="key material (not 容缺)")
    license_type: str | None = None
    commitment_allowed: bool = False
    supplied: Literal["upload", "license", "commitment", "missing"]


class PreReview(BaseModel):
    passed: bool = Field(description="no blocking problem (missing non-key materials allowed)")
    problems: list[Problem]
    missing_non_key: list[str] = Field(description="non-key materials missing: 容缺 possible")
    materials: list[RequiredMaterial]


class PrefillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bundle_code: Code


UnavailableReason = Literal["forbidden", "not_found", "unavailable"]


class UnavailableSource(BaseModel):
    """A library the pre-fill could not read: its fields are left empty, and why."""

    source: str = Field(description="the library, e.g. population, legal_person")
    reason: UnavailableReason = Field(
        description="forbidden: the scenario grants no read of it; not_found: it holds no "
        "record for the applicant; unavailable: it could not be asked"
    )
    code: str | None = Field(default=None, description="the library's problem code, if any")
    fields: list[str] = Field(description="the form fields left empty because of it")


class Prefill(BaseModel):
    bundle_code: str
    form: Form = Field(description="the combined form (一表) with values from the libraries")
    prefilled: list[str] = Field(description="fields filled from the base libraries")
    unavailable: list[UnavailableSource] = Field(
        default_factory=list, description="libraries that could not be read, so left empty"
    )


class SubCaseRead(BaseModel):
    subcase_id: str
    matter_code: str
    matter_name: str
    department: str
    status: str = Field(description="waiting / routed / approved / refused / cancelled")
    depends_on: list[str]
    due_date: date | None
    decided_at: datetime | None
    reason: str | None
    license_type: str | None


class CaseRead(BaseModel):
    case_id: str
    matter_code: str
    matter_version: int
    matter_name: str
    department: str
    promised_days: int
    channel: str
    status: str = Field(description="submitted / accepted / suspended (补正) / completed / refused")
    form: Form
    submitted_at: datetime
    due_date: date = Field(description="承诺办结日期（按工作日计算）")
    rating: int | None = None
    grade: str | None = Field(default=None, description="good 好评 / bad 差评")
    rated_at: datetime | None = None
    assigned_to: str | None = Field(default=None, description="受理该办件的窗口人员")
    presence: PresenceRead | None = Field(
        default=None,
        description="申请人到场或确认的方式；为空时经办人员不能查询申请人信息",
    )
    bundle_code: str | None = None
    acceptance_mode: str | None = Field(default=None, description="full / deficiency / commitment")
    missing_materials: list[str] = Field(default_factory=list)
    supplement_due: date | None = None
    requested_materials: list[str] = Field(default_factory=list)
    outcome: str | None = None
    reason: str | None = None
    subcases: list[SubCaseRead] = Field(default_factory=list)


class CaseBinding(BaseModel):
    applicant_index: str = Field(description="blind index of the applicant's identifier")
    assigned_to: str | None = Field(description="the staff member the case is assigned to")
    presence: str | None = Field(
        description="how the applicant was shown present (applicant, id_card, face, "
        "app_confirmation); none: nobody may read the applicant's data for this case yet"
    )


class Acceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["full", "deficiency", "commitment"] = Field(
        description="full 受理 / deficiency 容缺受理 / commitment 告知承诺"
    )


class Refusal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500)


class SupplementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    materials: list[MaterialCode] = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=2, max_length=500)


class Supplement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    materials: list[MaterialAttachment] = Field(min_length=1, max_length=50)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "refused"]
    reason: str | None = Field(default=None, max_length=500)
    fields: Form = Field(
        default_factory=dict,
        max_length=30,
        description="fields the department sets for the e-license (e.g. the assigned credit code)",
    )

    @model_validator(mode="after")
    def refusal_has_reason(self) -> Decision:
        if self.decision == "refused" and not self.reason:
            raise ValueError("a refusal needs a reason")
        return self


class UploadRead(BaseModel):
    upload_id: str
    name: str
    content_type: str
    size: int
    sha256: str


class MaterialRead(BaseModel):
    code: str
    kind: Literal["upload", "license", "commitment"]
    upload_id: str | None = None
    license_id: str | None = None
    name: str | None = Field(default=None, description="the upload's display name")
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    download: str | None = Field(default=None, description="path of the file (uploads only)")


class DependencyResult(BaseModel):
    """A sub-case this one depends on, and what its department decided."""

    subcase_id: str
    matter_code: str
    matter_name: str
    department: str
    status: str
    decided_at: datetime | None
    reason: str | None
    fields: Form = Field(description="fields the department set with its decision")


class SubCaseDetailRead(SubCaseRead):
    """What a department's reviewer decides on: the case's form, its materials and the
    results of the sub-cases this one depends on."""

    case_id: str
    bundle_code: str | None
    case_matter_code: str
    form: Form
    materials: list[MaterialRead]
    dependencies: list[DependencyResult]


class CaseAccessRead(BaseModel):
    at: datetime
    accessor_type: str
    accessor: str = Field(description="the staff member")
    department: str | None
    action: Literal["view", "download"] = Field(
        description="view 查看表单与材料清单 / download 下载材料"
    )
    subcase_id: str | None
    material: str | None


# ---- Reads of the rows -----------------------------------------------------------------


def presence_read(presence: dict[str, Any] | None) -> PresenceRead | None:
    return PresenceRead.model_validate(presence) if presence else None


def subcase_read(s: SubCase) -> SubCaseRead:
    return SubCaseRead(
        subcase_id=s.id,
        matter_code=s.matter_code,
        matter_name=s.matter_name,
        department=s.department,
        status=s.status,
        depends_on=list(s.depends_on),
        due_date=s.due_date,
        decided_at=s.decided_at,
        reason=s.reason,
        license_type=s.license_type,
    )


def case_facts(case: Case) -> dict[str, Any]:
    """What a case's read and its submission event both say first: the case and its matter."""
    return {
        "case_id": case.id,
        "matter_code": case.matter_code,
        "matter_version": case.matter_version,
        "matter_name": case.matter_name,
        "department": case.department,
        "promised_days": case.promised_days,
    }


def case_read(case: Case, cipher: PiiCipher, *, subcases: Sequence[SubCase] = ()) -> CaseRead:
    return CaseRead(
        **case_facts(case),
        channel=case.channel,
        status=case.status,
        form=json.loads(cipher.decrypt(case.form_encrypted)),
        submitted_at=case.submitted_at,
        due_date=case.due_date,
        rating=case.rating,
        grade=case.grade,
        rated_at=case.rated_at,
        assigned_to=case.assigned_to,
        presence=presence_read(case.presence),
        bundle_code=case.bundle_code,
        acceptance_mode=case.acceptance_mode,
        missing_materials=list(case.missing_materials or []),
        supplement_due=case.supplement_due,
        requested_materials=list(case.requested_materials or []),
        outcome=case.outcome,
        reason=case.reason,
        subcases=[subcase_read(s) for s in subcases],
    )


def material_read(
    material: dict[str, Any], upload: Upload | None, *, subcase_id: str
) -> MaterialRead:
    """One of a case's materials as its reviewer sees it; uploads link to their file."""
    kind = material["kind"]
    return MaterialRead(
        code=material["code"],
        kind=kind,
        upload_id=material["ref"] if kind == "upload" else None,
        license_id=material["ref"] if kind == "license" else None,
        name=upload.name if upload else None,
        content_type=upload.content_type if upload else None,
        size=upload.size if upload else None,
        sha256=upload.sha256 if upload else None,
        download=f"{SUBCASES}/{subcase_id}/materials/{upload.id}" if upload else None,
    )


def dependency_result(d: SubCase, cipher: PiiCipher) -> DependencyResult:
    return DependencyResult(
        subcase_id=d.id,
        matter_code=d.matter_code,
        matter_name=d.matter_name,
        department=d.department,
        status=d.status,
        decided_at=d.decided_at,
        reason=d.reason,
        fields=json.loads(cipher.decrypt(d.result_encrypted)) if d.result_encrypted else {},
    )


def subcase_detail_read(
    subcase: SubCase,
    case: Case,
    *,
    cipher: PiiCipher,
    uploads: Mapping[str, Upload],
    dependencies: Sequence[SubCase],
) -> SubCaseDetailRead:
    return SubCaseDetailRead(
        **subcase_read(subcase).model_dump(),
        case_id=case.id,
        bundle_code=case.bundle_code,
        case_matter_code=case.matter_code,
        form=json.loads(cipher.decrypt(case.form_encrypted)),
        materials=[
            material_read(
                m,
                uploads.get(m["ref"]) if m["kind"] == "upload" else None,
                subcase_id=subcase.id,
            )
            for m in case.materials
        ],
        dependencies=[dependency_result(d, cipher) for d in dependencies],
    )


def case_binding_read(case: Case) -> CaseBinding:
    return CaseBinding(
        applicant_index=case.applicant_index,
        assigned_to=case.assigned_to,
        presence=(case.presence or {}).get("method"),
    )


def upload_read(upload: Upload) -> UploadRead:
    return UploadRead(
        upload_id=upload.id,
        name=upload.name,
        content_type=upload.content_type,
        size=upload.size,
        sha256=upload.sha256,
    )


def case_access_read(row: CaseAccess) -> CaseAccessRead:
    return CaseAccessRead.model_validate(row, from_attributes=True)
