"""The case state machine after submission, each change and its event in one transaction.

    submitted ──accept──▶ accepted ──(every sub-case decided)──▶ completed
        │  └──refuse──▶ refused           │ ▲
        └──────────── 补正 ───────────▶ suspended ──supplement──┘

Acceptance opens one sub-case per member matter (后台分类审批). Sub-cases without
dependencies are routed at once and run in parallel (并联审批); one that depends on
another is routed when that one is approved (N+1 push), and cancelled when it is
refused. Deadlines are working days from acceptance or routing; a 补正 pause moves
every open deadline by the working days it lasted.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any, NamedTuple, TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import uscc

from intake import deadlines
from intake.events import (
    CaseAccepted,
    CaseCompleted,
    CaseRefusedAtIntake,
    CaseResumed,
    CaseSupplemented,
    CaseSuspended,
    LicenseToIssue,
    SubCaseDecided,
    SubCasePlan,
    SubCaseRouted,
)
from intake.models import Case, SubCase
from yiwang_platform.errors import ProblemError
from yiwang_platform.outbox import Outbox
from yiwang_platform.pii import PiiCipher
from yiwang_platform.workdays import china_date

OPEN_SUBCASE = ("waiting", "routed")


class CaseWithSubcases(NamedTuple):
    """A case and its sub-cases, as a change left them (what its ``Read`` shows)."""

    case: Case
    subcases: list[SubCase]


def case_not_found() -> ProblemError:
    return ProblemError(404, "case_not_found", "办件不存在", title_en="Case not found")


def _state_conflict(case: Case, action: str) -> ProblemError:
    return ProblemError(
        409,
        "case_state_conflict",
        "办件当前状态不允许该操作",
        detail=f"cannot {action} a case that is {case.status}",
        title_en="Not allowed in the case's current state",
        status_now=case.status,
    )


async def subcases_of(session: AsyncSession, case_id: str) -> list[SubCase]:
    rows = await session.scalars(
        select(SubCase).where(SubCase.case_id == case_id).order_by(SubCase.id)
    )
    return list(rows.all())


async def with_subcases(session: AsyncSession, case: Case) -> CaseWithSubcases:
    return CaseWithSubcases(case, await subcases_of(session, case.id))


class _SubCaseFacts(TypedDict):
    case_id: str
    subcase_id: str
    matter_code: str
    department: str


def _about(subcase: SubCase) -> _SubCaseFacts:
    """What every sub-case event says of its sub-case."""
    return _SubCaseFacts(
        case_id=subcase.case_id,
        subcase_id=subcase.id,
        matter_code=subcase.matter_code,
        department=subcase.department,
    )


def _missing(case: Case) -> tuple[list[str], list[str], bool]:
    """(missing key, missing non-key, any pledged) among the case's required materials."""
    supplied = {m["code"]: m["kind"] for m in case.materials}
    key: list[str] = []
    non_key: list[str] = []
    for material in case.required_materials:
        if material["code"] in supplied:
            continue
        (key if material.get("key", True) else non_key).append(material["code"])
    pledged = any(kind == "commitment" for kind in supplied.values())
    return key, non_key, pledged


async def accept(
    session: AsyncSession,
    outbox: Outbox,
    *,
    case: Case,
    clerk: str,
    mode: str,
    supplement_days: int,
    now: datetime,
) -> list[SubCase]:
    if case.status != "submitted":
        raise _state_conflict(case, "accept")
    key, non_key, pledged = _missing(case)
    if key:
        raise ProblemError(
            422,
            "key_material_missing",
            "缺少关键材料，不能受理",
            detail="key materials missing: " + ", ".join(key),
            title_en="Key materials missing",
            materials=key,
        )
    if non_key and mode != "deficiency":
        raise ProblemError(
            422,
            "acceptance_mode_mismatch",
            "有非关键材料缺失，请选择容缺受理或要求补正",
            detail="non-key materials missing: " + ", ".join(non_key),
            title_en="Materials missing: choose deficiency acceptance",
            materials=non_key,
        )
    if mode == "deficiency" and not non_key:
        raise ProblemError(
            422, "acceptance_mode_mismatch", "材料齐全，无需容缺受理", title_en="Nothing missing"
        )
    if mode == "commitment" and not pledged:
        raise ProblemError(
            422, "acceptance_mode_mismatch", "申请未作告知承诺", title_en="No commitment made"
        )
    if pledged and mode == "full":
        raise ProblemError(
            422,
            "acceptance_mode_mismatch",
            "申请含告知承诺，请选择告知承诺受理",
            title_en="Commitments made: choose commitment acceptance",
        )
    today = china_date(now)
    case.status = "accepted"
    case.accepted_at = now
    case.accepted_by = clerk
    case.acceptance_mode = mode
    if case.assigned_to is None:
        case.assigned_to = clerk
    case.missing_materials = non_key
    case.supplement_due = (
        deadlines.add_working_days(today, supplement_days) if mode == "deficiency" else None
    )

    ids = {member["code"]: str(uuid.uuid4()) for member in case.plan}
    estimated: dict[str, date] = {}
    subcases: list[SubCase] = []
    for member in _dependency_order(case.plan):
        depends = [ids[c] for c in member["depends_on"]]
        start = max((estimated[c] for c in member["depends_on"]), default=today)
        estimated[member["code"]] = deadlines.add_working_days(start, member["promised_days"])
        routed = not depends
        subcase = SubCase(
            id=ids[member["code"]],
            case_id=case.id,
            matter_code=member["code"],
            matter_version=member["version"],
            matter_name=member["name"],
            department=member["department"],
            promised_days=member["promised_days"],
            license_type=member.get("license_type"),
            depends_on=depends,
            status="routed" if routed else "waiting",
            routed_at=now if routed else None,
            due_date=estimated[member["code"]] if routed else None,
        )
        session.add(subcase)
        subcases.append(subcase)
    case.due_date = max(estimated.values(), default=today)
    await session.flush()
    await outbox.add(
        session,
        CaseAccepted(
            case_id=case.id,
            accepted_at=now,
            accepted_by=clerk,
            mode=mode,
            due_date=case.due_date,
            supplement_due=case.supplement_due,
            missing_materials=non_key,
            subcases=[
                SubCasePlan(
                    subcase_id=s.id,
                    matter_code=s.matter_code,
                    matter_version=s.matter_version,
                    matter_name=s.matter_name,
                    department=s.department,
                    promised_days=s.promised_days,
                    depends_on=s.depends_on,
                    due_date=s.due_date,
                    license_type=s.license_type,
                )
                for s in subcases
            ],
        ),
        key=case.id,
    )
    return subcases


def _dependency_order(plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members with their dependencies first; a cycle in the catalogue is refused."""
    by_code = {m["code"]: m for m in plan}
    done: list[dict[str, Any]] = []
    seen: set[str] = set()
    visiting: set[str] = set()

    def visit(code: str) -> None:
        if code in seen:
            return
        if code in visiting:
            raise ProblemError(422, "bundle_cycle", "一件事事项依赖存在循环", title_en="Cycle")
        visiting.add(code)
        for dependency in by_code[code]["depends_on"]:
            visit(dependency)
        visiting.discard(code)
        seen.add(code)
        done.append(by_code[code])

    for member in plan:
        visit(member["code"])
    return done


async def refuse(
    session: AsyncSession, outbox: Outbox, *, case: Case, reason: str, now: datetime
) -> None:
    if case.status != "submitted":
        raise _state_conflict(case, "refuse")
    case.status = "refused"
    case.closed_at = now
    case.outcome = "refused"
    case.reason = reason
    await session.flush()
    await outbox.add(
        session, CaseRefusedAtIntake(case_id=case.id, refused_at=now, reason=reason), key=case.id
    )


async def request_supplement(
    session: AsyncSession,
    outbox: Outbox,
    *,
    case: Case,
    materials: list[str],
    reason: str,
    now: datetime,
) -> None:
    """补正: the clock stops until the applicant supplies ``materials``."""
    if case.status not in ("submitted", "accepted"):
        raise _state_conflict(case, "ask for supplements on")
    case.status = "suspended"
    case.suspended_at = now
    case.requested_materials = materials
    await session.flush()
    await outbox.add(
        session,
        CaseSuspended(
            case_id=case.id, suspended_at=now, reason=reason, requested_materials=materials
        ),
        key=case.id,
    )


async def supply(
    session: AsyncSession,
    outbox: Outbox,
    *,
    case: Case,
    supplied: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Materials arrive: for a 补正 pause, all requested ones resume the case with every
    open deadline moved; after 容缺受理 they clear the missing list."""
    if case.status in ("completed", "refused"):
        raise _state_conflict(case, "supplement")
    known = {m["code"] for m in case.materials}
    case.materials = [*case.materials, *(m for m in supplied if m["code"] not in known)]
    codes = {m["code"] for m in case.materials}
    case.missing_materials = [c for c in case.missing_materials if c not in codes]
    if case.status != "suspended":
        await session.flush()
        await outbox.add(
            session,
            CaseSupplemented(
                case_id=case.id,
                supplied_at=now,
                materials=sorted({m["code"] for m in supplied}),
                missing_materials=list(case.missing_materials),
            ),
            key=case.id,
        )
        return
    outstanding = [c for c in case.requested_materials if c not in codes]
    if outstanding:
        await session.flush()
        return
    assert case.suspended_at is not None
    paused = deadlines.working_days_between(case.suspended_at, now)
    case.suspended_working_days += paused
    case.status = "accepted" if case.accepted_at is not None else "submitted"
    case.suspended_at = None
    case.requested_materials = []
    case.due_date = deadlines.add_working_days(case.due_date, paused)
    for subcase in await subcases_of(session, case.id):
        if subcase.status in OPEN_SUBCASE and subcase.due_date is not None:
            subcase.due_date = deadlines.add_working_days(subcase.due_date, paused)
    await session.flush()
    await outbox.add(
        session,
        CaseResumed(
            case_id=case.id,
            resumed_at=now,
            suspended_working_days=paused,
            due_date=case.due_date,
        ),
        key=case.id,
    )


def license_for(
    case: Case,
    subcase: SubCase,
    *,
    cipher: PiiCipher,
    decision_fields: dict[str, Any],
    license_type: dict[str, Any] | None,
) -> LicenseToIssue | None:
    """What the license service seals: the fields its type declares, taken from the
    department's decision and, where it leaves them out, the applicant's form."""
    if subcase.license_type is None:
        return None
    if license_type is None:
        raise ProblemError(
            422,
            "license_type_unknown",
            "证照类型未登记",
            detail=f"the license service has no type {subcase.license_type}",
            title_en="License type not registered",
        )
    form = json.loads(cipher.decrypt(case.form_encrypted))
    merged = {k: v for k, v in {**form, **decision_fields}.items() if v not in (None, "")}
    declared = {f["name"]: bool(f.get("required")) for f in license_type.get("fields", [])}
    fields = {name: str(merged[name]) for name in declared if name in merged}
    missing = sorted(n for n, required in declared.items() if required and n not in fields)
    if missing:
        raise ProblemError(
            422,
            "license_fields_missing",
            "请填写电子证照的必填信息",
            detail="missing: " + ", ".join(missing),
            title_en="License fields missing",
            fields=missing,
        )
    if license_type.get("holder_kind") == "enterprise":
        holder = str(merged.get("uscc") or "")
        holder_name = str(merged.get("company_name") or merged.get("enterprise_name") or "")
        if not uscc.is_valid(holder):
            raise ProblemError(
                422,
                "license_holder_missing",
                "请填写企业的统一社会信用代码",
                detail="a license for an enterprise needs fields.uscc (a valid credit code)",
                title_en="Credit code required",
            )
        kind = "enterprise"
    else:
        holder = cipher.decrypt(case.applicant_encrypted)
        holder_name = str(merged.get("applicant_name") or merged.get("name") or "")
        kind = "citizen"
    return LicenseToIssue(
        license_type=subcase.license_type,
        holder_kind=kind,
        holder_index=cipher.blind_index(holder),
        holder_encrypted=cipher.encrypt(holder),
        holder_name_encrypted=cipher.encrypt(holder_name),
        fields_encrypted=cipher.encrypt(json.dumps(fields, ensure_ascii=False, sort_keys=True)),
        issuer=subcase.department,
    )


async def decide(
    session: AsyncSession,
    outbox: Outbox,
    *,
    cipher: PiiCipher,
    case: Case,
    subcase: SubCase,
    reviewer: str,
    decision: str,
    reason: str | None,
    fields: dict[str, Any],
    now: datetime,
    license_type: dict[str, Any] | None = None,
) -> None:
    if case.status != "accepted":
        raise _state_conflict(case, "decide a sub-case of")
    if subcase.status != "routed":
        raise ProblemError(
            409,
            "subcase_state_conflict",
            "子办件当前状态不允许审批",
            detail=f"the sub-case is {subcase.status}",
            title_en="Sub-case not open for decision",
        )
    license = (
        license_for(case, subcase, cipher=cipher, decision_fields=fields, license_type=license_type)
        if decision == "approved"
        else None
    )
    subcase.status = decision
    subcase.decided_at = now
    subcase.decided_by = reviewer
    subcase.reason = reason
    if fields:
        # The departments that depend on this sub-case read what it set (e.g. a credit code).
        subcase.result_encrypted = cipher.encrypt(
            json.dumps(fields, ensure_ascii=False, sort_keys=True)
        )
    await outbox.add(
        session,
        SubCaseDecided(
            **_about(subcase),
            decision=decision,
            decided_at=now,
            decided_by=reviewer,
            reason=reason,
            license=license,
        ),
        key=case.id,
    )
    siblings = await subcases_of(session, case.id)
    if decision == "approved":
        await _route_ready(session, outbox, case=case, siblings=siblings, now=now)
    else:
        _cancel_dependents(siblings, subcase.id, now=now)
    await session.flush()
    if all(s.status not in OPEN_SUBCASE for s in siblings):
        approved = sum(s.status == "approved" for s in siblings)
        outcome = (
            "approved"
            if approved == len(siblings)
            else ("refused" if approved == 0 else "partly_approved")
        )
        case.status = "completed"
        case.closed_at = now
        case.outcome = outcome
        await session.flush()
        await outbox.add(
            session,
            CaseCompleted(case_id=case.id, completed_at=now, outcome=outcome),
            key=case.id,
        )


async def _route_ready(
    session: AsyncSession, outbox: Outbox, *, case: Case, siblings: list[SubCase], now: datetime
) -> None:
    approved = {s.id for s in siblings if s.status == "approved"}
    for waiting in siblings:
        if waiting.status != "waiting" or not set(waiting.depends_on) <= approved:
            continue
        waiting.status = "routed"
        waiting.routed_at = now
        waiting.due_date = deadlines.add_working_days(china_date(now), waiting.promised_days)
        await outbox.add(
            session,
            SubCaseRouted(
                **_about(waiting),
                routed_at=now,
                due_date=waiting.due_date,
            ),
            key=case.id,
        )


def _cancel_dependents(siblings: list[SubCase], refused_id: str, *, now: datetime) -> None:
    """A refused sub-case takes down what depends on it, transitively."""
    gone = {refused_id}
    changed = True
    while changed:
        changed = False
        for s in siblings:
            if s.status == "waiting" and gone & set(s.depends_on):
                s.status = "cancelled"
                s.decided_at = now
                s.reason = "所依赖的事项未获批准"
                gone.add(s.id)
                changed = True
