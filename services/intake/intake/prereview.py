"""智能预审: an application checked against its material list and its form before a
window sees it, with every problem reported at once (一次性告知).

- completeness: every material is uploaded, offered from the wallet (免提交, checked
  with the license service), or pledged (告知承诺, where the matter allows it); a
  missing key material blocks, a missing non-key one allows 容缺受理;
- identifiers: fields ending ``id_number`` pass the platform's GB 11643 check (checksum,
  region, a birth date neither in the future nor before 1900), fields ending
  ``credit_code`` or ``uscc`` the GB 32100 one;
- consistency: required form fields are present, dates are real dates not in the future,
  and a citizen's own ID number in the form is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.models import Upload
from intake.schemas import MaterialAttachment, PreReview, Problem, RequiredMaterial
from yiwang_platform.identifiers import is_credit_code, is_resident_id
from yiwang_platform.peers import PeerClient
from yiwang_platform.pii import PiiCipher
from yiwang_platform.workdays import china_today


@dataclass
class Checklist:
    """What an application must satisfy: from the bundle guide or the matter's elements."""

    materials: list[dict[str, Any]]
    commitment_allowed: bool
    form_fields: list[dict[str, Any]] = field(default_factory=list)


def _is_id_field(name: str) -> bool:
    return name.endswith("id_number")


def _is_credit_code_field(name: str) -> bool:
    return name.endswith("credit_code") or name.endswith("uscc")


def check_form(form: dict[str, Any], checklist: Checklist, *, applicant: str) -> list[Problem]:
    problems: list[Problem] = []
    for spec in checklist.form_fields:
        name = str(spec.get("name", ""))
        if spec.get("required") and form.get(name) in (None, ""):
            problems.append(
                Problem(
                    code="field_required", target=name, message=f"请填写{spec.get('label', name)}"
                )
            )
    for name, value in form.items():
        if value in (None, "") or not isinstance(value, str):
            continue
        if _is_id_field(name) and not is_resident_id(value):
            problems.append(
                Problem(code="id_number_invalid", target=name, message="居民身份证号码校验不通过")
            )
        elif _is_credit_code_field(name) and not is_credit_code(value):
            problems.append(
                Problem(
                    code="credit_code_invalid", target=name, message="统一社会信用代码校验不通过"
                )
            )
        elif name.endswith("_date"):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                problems.append(
                    Problem(code="date_invalid", target=name, message="日期格式应为 YYYY-MM-DD")
                )
                continue
            if day > china_today():
                problems.append(
                    Problem(code="date_in_future", target=name, message="日期不能晚于今天")
                )
    own = form.get("applicant_id_number")
    if is_resident_id(own) and str(own).upper() != applicant.upper():
        problems.append(
            Problem(
                code="applicant_mismatch",
                target="applicant_id_number",
                message="申请人身份证号与办理人不一致",
            )
        )
    return problems


async def license_problem(
    license_service: PeerClient, attachment: MaterialAttachment, *, token: str, wanted: str | None
) -> Problem | None:
    """None when the wallet license may stand in for the material."""
    if wanted is None:
        return Problem(
            code="license_not_accepted",
            target=attachment.code,
            message="该材料不能以电子证照代替",
        )
    status, body = await license_service.call(
        "GET", f"/api/v1/license/licenses/{attachment.license_id}", token=token
    )
    if status != 200 or not isinstance(body, dict):
        # Not found also when it is someone else's: the license service checks the holder.
        return Problem(
            code="license_not_found", target=attachment.code, message="证照夹中没有该电子证照"
        )
    if body.get("license_type") != wanted:
        return Problem(
            code="license_wrong_type", target=attachment.code, message="电子证照类型不符"
        )
    if body.get("status", "valid") != "valid":
        return Problem(
            code="license_not_valid", target=attachment.code, message="电子证照已失效或被注销"
        )
    return None


async def check_attachments(
    session: AsyncSession,
    license_service: PeerClient,
    *,
    token: str,
    owners: set[str],
    materials: dict[str, dict[str, Any]],
    attachments: list[MaterialAttachment],
    licenses_allowed: bool = True,
) -> tuple[dict[str, str], list[Problem]]:
    """Which materials the attachments supply (code → upload | license) and what is
    wrong with the rest: unknown materials, uploads not by ``owners``, wallet licenses
    that cannot stand in (``licenses_allowed`` False: the caller is not the holder)."""
    supplied: dict[str, str] = {}
    problems: list[Problem] = []
    for attachment in attachments:
        material = materials.get(attachment.code)
        if material is None:
            problems.append(
                Problem(
                    code="material_unknown", target=attachment.code, message="材料不在材料清单中"
                )
            )
        elif attachment.upload_id is not None:
            upload = await session.scalar(
                select(Upload.id).where(
                    Upload.id == attachment.upload_id, Upload.owner_index.in_(owners)
                )
            )
            if upload is None:
                problems.append(
                    Problem(
                        code="upload_not_found", target=attachment.code, message="上传的材料不存在"
                    )
                )
            else:
                supplied[attachment.code] = "upload"
        elif not licenses_allowed:
            problems.append(
                Problem(
                    code="license_holder_only",
                    target=attachment.code,
                    message="电子证照只能由持证人本人授权使用",
                )
            )
        else:
            problem = await license_problem(
                license_service, attachment, token=token, wanted=material.get("license_type")
            )
            if problem is None:
                supplied[attachment.code] = "license"
            else:
                problems.append(problem)
    return supplied, problems


async def review(
    session: AsyncSession,
    license_service: PeerClient,
    *,
    cipher: PiiCipher,
    token: str,
    applicant: str,
    checklist: Checklist,
    form: dict[str, Any],
    attachments: list[MaterialAttachment],
    commitments: list[str],
) -> PreReview:
    problems = check_form(form, checklist, applicant=applicant)
    by_code = {str(m["code"]): m for m in checklist.materials}
    supplied, found = await check_attachments(
        session,
        license_service,
        token=token,
        owners={cipher.blind_index(applicant)},
        materials=by_code,
        attachments=attachments,
    )
    problems += found
    for code in commitments:
        if code not in by_code:
            problems.append(
                Problem(code="material_unknown", target=code, message="材料不在材料清单中")
            )
        elif not by_code[code].get("commitment_allowed", checklist.commitment_allowed):
            problems.append(
                Problem(code="commitment_not_allowed", target=code, message="该事项不适用告知承诺")
            )
        else:
            supplied.setdefault(code, "commitment")

    required: list[RequiredMaterial] = []
    missing_non_key: list[str] = []
    for code, material in by_code.items():
        how = supplied.get(code, "missing")
        key = bool(material.get("key", True))
        if how == "missing":
            if key:
                problems.append(
                    Problem(
                        code="material_missing",
                        target=code,
                        message=f"缺少关键材料：{material.get('name', code)}",
                    )
                )
            else:
                missing_non_key.append(code)
        required.append(
            RequiredMaterial(
                code=code,
                name=str(material.get("name", code)),
                key=key,
                license_type=material.get("license_type"),
                commitment_allowed=bool(
                    material.get("commitment_allowed", checklist.commitment_allowed)
                ),
                supplied=how,
            )
        )
    return PreReview(
        passed=not problems, problems=problems, missing_non_key=missing_non_key, materials=required
    )
