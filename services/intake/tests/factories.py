"""Cases, plans and files the intake tests start from, written as the service writes them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import applications, workflow
from intake.guide import Resolved
from intake.models import Case, SubCase, outbox
from intake.prereview import Checklist
from intake.schemas import ApplicationCreate, MaterialAttachment, PreReview
from yiwang_platform.outbox import Outbox
from yiwang_platform.peers import PeerClient
from yiwang_platform.pii import PiiCipher

APPLICANT = "110101199003074514"
# A matter as the matters service publishes it (gov.matters.matter.published.v1).
BIRTH_CERTIFICATE = {
    "code": "11000000000001",
    "version": 1,
    "name": "出生医学证明签发",
    "kind": "行政确认",
    "department": "市卫生健康委员会",
    "promised_days": 5,
    "published_at": "2026-11-02T08:00:00Z",
}
OTHER_CITIZEN = "11010519491231002X"
PDF = b"%PDF-1.4 material"


def member(
    code: str, department: str, depends_on: list[str], license: str | None = None
) -> dict[str, Any]:
    """One member matter of a bundle's plan."""
    return {
        "code": code,
        "version": 1,
        "name": code,
        "department": department,
        "promised_days": 1,
        "license_type": license,
        "depends_on": depends_on,
    }


# 企业开办: the business license first, then the seal and tax registration.
COMPANY = [
    member("BIZ-LICENSE", "市市场监督管理局", [], "business-license"),
    member("SEAL", "市公安局", ["BIZ-LICENSE"]),
    member("TAX", "市税务局", ["BIZ-LICENSE"]),
]
LICENSE_FIELDS = {
    "uscc": "91330106748123991G",
    "company_name": "杭州示例理发有限公司",
    "legal_representative": "王建国",
    "business_scope": "理发服务",
}
# The business license type as the license service declares it.
BUSINESS_LICENSE = {
    "code": "business-license",
    "holder_kind": "enterprise",
    "fields": [{"name": n, "required": True} for n in LICENSE_FIELDS if n != "uscc"],
}

# The birth certificate type as the license service lists it (``GET /license-types``).
BIRTH_CERTIFICATE_TYPE = {
    "code": "birth-medical-certificate",
    "name": "出生医学证明",
    "holder_kind": "citizen",
    "fields": [
        {"name": "certificate_number", "label": "出生医学证明编号", "required": True},
        {"name": "newborn_name", "label": "新生儿姓名", "required": True},
        {"name": "sex", "label": "性别", "required": True},
        {"name": "birth_time", "label": "出生时间", "required": True},
        {"name": "birth_place", "label": "出生地点", "required": True},
        {"name": "mother_name", "label": "母亲姓名", "required": True},
        {"name": "father_name", "label": "父亲姓名", "required": False},
        {"name": "institution", "label": "接生机构", "required": False},
    ],
    "validity_years": None,
}


async def answer_license_types(app: FastAPI, types: list[dict[str, Any]]) -> None:
    """The license service as intake sees it when deciding: it lists ``types``."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/v1/license/license-types":
            return httpx.Response(404, json={"code": "not_found"})
        return httpx.Response(200, json=types)

    peers = app.state.runtime.peers
    await peers["license"].close()
    peers["license"] = PeerClient(
        "license", "http://license", transport=httpx.MockTransport(answer)
    )


async def make_case(
    app: FastAPI,
    *,
    form: dict[str, Any],
    plan: list[dict[str, Any]] = COMPANY,
    materials: Sequence[MaterialAttachment] = (),
    now: datetime | None = None,
) -> Case:
    """A submitted company-opening bundle case with ``plan``, written as a submission does."""
    runtime = app.state.runtime
    resolved = Resolved(
        code="COMPANY-OPENING",
        version=1,
        name="企业开办一件事",
        department="一件事联办",
        promised_days=3,
        checklist=Checklist([], False),
        plan=plan,
        bundle_code="COMPANY-OPENING",
    )
    data = ApplicationCreate(bundle_code="COMPANY-OPENING", form=form, materials=list(materials))
    review = PreReview(passed=True, problems=[], missing_non_key=[], materials=[])
    async with runtime.sessions() as s, s.begin():
        return await applications.open_case(
            s,
            runtime.outbox,
            cipher=runtime.cipher,
            applicant=APPLICANT,
            data=data,
            resolved=resolved,
            pre_review=review,
            now=now or datetime.now(UTC),
        )


async def accept_in_full(
    session: AsyncSession, case: Case, *, outbox: Outbox, now: datetime
) -> list[SubCase]:
    """The window (clerk window-7) accepts ``case`` in full: its sub-cases."""
    return await workflow.accept(
        session, outbox, case=case, clerk="window-7", mode="full", supplement_days=5, now=now
    )


async def approve_business_license(
    session: AsyncSession,
    case: Case,
    *,
    subcases: list[SubCase],
    outbox: Outbox,
    cipher: PiiCipher,
    reviewer: str,
    now: datetime,
) -> None:
    """The registrar approves the case's business license, setting its credit code."""
    await workflow.decide(
        session,
        outbox,
        cipher=cipher,
        case=case,
        subcase=next(x for x in subcases if x.matter_code == "BIZ-LICENSE"),
        reviewer=reviewer,
        decision="approved",
        reason=None,
        fields=LICENSE_FIELDS,
        now=now,
        license_type=BUSINESS_LICENSE,
    )


async def upload(api: Any, content: bytes = PDF) -> str:
    """Upload a PDF as the client ``api``; its upload id."""
    response = await api.post(
        "/api/v1/intake/uploads", content=content, headers={"content-type": "application/pdf"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["upload_id"])


async def events(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    """(event type, data) of every event in the outbox, in the order they were written."""
    async with app.state.runtime.sessions() as s:
        rows = (await s.execute(select(outbox).order_by(outbox.c.id))).all()
    found = []
    for row in rows:
        headers = dict(json.loads(row.headers))
        found.append((headers["ce_type"], json.loads(row.payload)))
    return found
