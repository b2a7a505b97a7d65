"""What an application is for: a bundle (一件事) as the matters service's guide resolves
it for the applicant's answers, or one matter from the local catalogue copy — pinned
to the versions current at application time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake import catalogue
from intake.prereview import Checklist
from intake.schemas import ApplicationCreate, Problem
from yiwang_platform.errors import ProblemError
from yiwang_platform.peers import PeerClient


@dataclass
class Resolved:
    code: str
    version: int
    name: str
    department: str
    promised_days: int
    checklist: Checklist
    # Member matters: [{"code", "version", "name", "department", "promised_days",
    # "license_type", "depends_on": [codes]}]
    plan: list[dict[str, Any]]
    bundle_code: str | None = None
    scenario: str | None = None


def _unknown(what: str, code: str) -> ProblemError:
    return ProblemError(
        422,
        "matter_unknown",
        "事项不存在或未发布",
        detail=f"{what} {code} is not in the published catalogue",
        title_en="Matter unknown or not published",
    )


def form_fields(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields of a bundle's combined form (一表): a list, or an object with ``fields``."""
    form = bundle.get("form") or []
    return list(form.get("fields", [])) if isinstance(form, dict) else list(form)


async def bundle_definition(matters: PeerClient, code: str, *, token: str) -> dict[str, Any]:
    status, bundle = await matters.call("GET", f"/api/v1/matters/bundles/{code}", token=token)
    if status == 404:
        raise _unknown("bundle", code)
    if status != 200 or not isinstance(bundle, dict):
        raise ProblemError(502, "peer_error", "依赖的服务返回错误", f"matters answered {status}")
    return bundle


async def resolve(
    session: AsyncSession, matters: PeerClient, *, token: str, data: ApplicationCreate
) -> Resolved:
    if data.bundle_code is not None:
        return await _resolve_bundle(matters, data.bundle_code, token=token, answers=data.answers)
    assert data.matter_code is not None
    matter = await catalogue.current(session, data.matter_code)
    if matter is None:
        raise _unknown("matter", data.matter_code)
    elements = matter.elements or {}
    materials = [
        {**m, "commitment_allowed": bool(elements.get("commitment_allowed", False))}
        for m in elements.get("materials", [])
    ]
    member = {
        "code": matter.code,
        "version": matter.version,
        "name": matter.name,
        "department": matter.department,
        "promised_days": matter.promised_days,
        "license_type": elements.get("license_type"),
        "depends_on": [],
    }
    return Resolved(
        code=matter.code,
        version=matter.version,
        name=matter.name,
        department=matter.department,
        promised_days=matter.promised_days,
        checklist=Checklist(materials, bool(elements.get("commitment_allowed", False))),
        plan=[member],
    )


async def _resolve_bundle(
    matters: PeerClient, code: str, *, token: str, answers: dict[str, Any]
) -> Resolved:
    bundle = await bundle_definition(matters, code, token=token)
    status, guide = await matters.call(
        "POST", f"/api/v1/matters/bundles/{code}/guide", token=token, json={"answers": answers}
    )
    if status == 422 and isinstance(guide, dict):
        raise ProblemError(
            422,
            "guide_answers_invalid",
            "导办问题的回答有误",
            detail="the guide refused the answers",
            title_en="Invalid guide answers",
            problems=guide.get("problems") or guide.get("errors") or [],
        )
    if status != 200 or not isinstance(guide, dict):
        raise ProblemError(502, "peer_error", "依赖的服务返回错误", f"matters answered {status}")
    if not guide.get("complete", False):
        questions = [
            q.get("id") if isinstance(q, dict) else q for q in guide.get("next_questions", [])
        ]
        raise ProblemError(
            422,
            "guide_incomplete",
            "请先回答导办问题",
            detail="the guide needs more answers",
            title_en="Guide questions unanswered",
            problems=[
                Problem(code="answer_required", target=str(q), message="请回答该问题").model_dump()
                for q in questions
            ],
        )
    members = guide.get("matters", [])
    commitment_by_matter = {m["code"]: bool(m.get("commitment_allowed")) for m in members}
    materials = [
        {
            **m,
            "commitment_allowed": any(
                commitment_by_matter.get(c, False) for c in m.get("for_matters", [])
            ),
        }
        for m in guide.get("materials", [])
    ]
    plan = [
        {
            "code": m["code"],
            "version": int(m["version"]),
            "name": m["name"],
            "department": m["department"],
            "promised_days": int(m["promised_days"]),
            "license_type": m.get("license_type"),
            "depends_on": [d for d in m.get("depends_on", []) if d in commitment_by_matter],
        }
        for m in members
    ]
    return Resolved(
        code=code,
        version=int(guide.get("bundle_version", bundle.get("version", 1))),
        name=str(bundle.get("name", code)),
        department=str(bundle.get("department") or "一件事联办"),
        promised_days=max((m["promised_days"] for m in plan), default=0),
        checklist=Checklist(materials, False, form_fields(bundle)),
        plan=plan,
        bundle_code=code,
        scenario=bundle.get("scenario"),
    )
