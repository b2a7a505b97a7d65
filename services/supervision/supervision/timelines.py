"""Case and sub-case timelines and deadlines, from intake's case events.

Every event adds entries and moves the deadline state. The platform inbox makes a
redelivered event a no-op; an event this service cannot place (a case never submitted,
an unknown sub-case, a step that does not follow from the current state) is a real
error, since one case's events share a key and so arrive in order: it is refused to
the dead-letter topic with the reason.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supervision import deadlines, metrics
from supervision.models import (
    RUNNING,
    SUSPENDED,
    CaseWatch,
    SubcaseWatch,
    SupplementWatch,
    TimelineEntry,
)
from yiwang_platform.consumer import RejectEvent, event_time
from yiwang_platform.events import CloudEvent
from yiwang_platform.masking import mask

CHANNELS = {"online": "网上", "window": "窗口", "partner": "异地代收"}
MODES = {"full": "受理", "deficiency": "容缺受理", "commitment": "告知承诺受理"}
OUTCOMES = {"approved": "准予许可", "refused": "不予许可", "partly_approved": "部分准予"}
CLOSED_CASE = {"completed", "refused"}


def _id(data: dict[str, Any], field: str, longest: int) -> str:
    value = str(data[field])
    if not value or len(value) > longest:
        raise RejectEvent(f"{field} must be 1 to {longest} characters")
    return value


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise RejectEvent(f"{field} is not a date") from exc


def _entry(
    session: AsyncSession,
    event: CloudEvent,
    case_id: str,
    at: datetime,
    summary: str,
    subcase_id: str | None = None,
) -> None:
    # Free text (reasons) comes from staff and may hold an identifier: mask it.
    session.add(
        TimelineEntry(
            case_id=case_id,
            subcase_id=subcase_id,
            event_id=event.id,
            event_type=event.type,
            at=at,
            summary=mask(summary),
        )
    )


async def _case(session: AsyncSession, data: dict[str, Any], event: CloudEvent) -> CaseWatch:
    case_id = _id(data, "case_id", 36)
    case = await session.get(CaseWatch, case_id)
    if case is None:
        raise RejectEvent(f"{event.type} for case {case_id}, which was never submitted")
    return case


async def _subcase(session: AsyncSession, case: CaseWatch, data: dict[str, Any]) -> SubcaseWatch:
    subcase_id = _id(data, "subcase_id", 80)
    sub = await session.get(SubcaseWatch, subcase_id)
    if sub is None or sub.case_id != case.case_id:
        raise RejectEvent(f"sub-case {subcase_id} is not part of case {case.case_id}")
    return sub


async def _subcases(session: AsyncSession, case_id: str) -> list[SubcaseWatch]:
    query = select(SubcaseWatch).where(SubcaseWatch.case_id == case_id)
    return list((await session.scalars(query.order_by(SubcaseWatch.subcase_id))).all())


def _require(case: CaseWatch, statuses: set[str], event: CloudEvent) -> None:
    if case.status not in statuses:
        raise RejectEvent(f"{event.type} for case {case.case_id} while it is {case.status}")


async def _close_supplement(session: AsyncSession, case_id: str) -> None:
    """A case that ends needs no more materials."""
    watch = await session.get(SupplementWatch, case_id)
    if watch is not None:
        watch.status = "closed"


async def on_submitted(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    case_id = _id(data, "case_id", 36)
    if await session.get(CaseWatch, case_id) is not None:
        return  # the case is watched already (intake re-announced it)
    submitted_at = event_time(data["submitted_at"], "submitted_at")
    promised = int(data["promised_days"])
    # Intake counted the limit; older events without it are counted by the same rule.
    carried = data.get("due_date")
    due = _day(carried, "due_date") if carried else deadlines.due_date(submitted_at, promised)
    session.add(
        CaseWatch(
            case_id=case_id,
            matter_code=data["matter_code"],
            matter_name=data["matter_name"],
            department=data["department"],
            channel=data["channel"],
            promised_days=promised,
            submitted_at=submitted_at,
            # Until acceptance the limit is counted from the submission.
            due_date=due,
            status=RUNNING,
            applicant_index=data.get("applicant_index"),
        )
    )
    channel = CHANNELS.get(data["channel"], data["channel"])
    _entry(
        session,
        event,
        case_id,
        submitted_at,
        f"{channel}申请：{data['matter_name']}（{data['department']}），承诺{promised}个工作日",
    )
    await session.flush()


async def on_accepted(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    case = await _case(session, data, event)
    _require(case, {RUNNING}, event)
    if case.accepted_at is not None:
        raise RejectEvent(f"case {case.case_id} was accepted already")
    accepted_at = event_time(data["accepted_at"], "accepted_at")
    case.accepted_at = accepted_at
    case.due_date = _day(data["due_date"], "due_date")
    summary = f"{MODES.get(data['mode'], data['mode'])}，承诺{case.due_date}前办结"
    if data.get("missing_materials"):
        summary += f"；容缺{len(data['missing_materials'])}项材料"
        if data.get("supplement_due"):
            summary += f"，须于{data['supplement_due']}前补齐"
            # 容缺: the missing materials have their own deadline to watch.
            session.add(
                SupplementWatch(
                    case_id=case.case_id,
                    matter_code=case.matter_code,
                    matter_name=case.matter_name,
                    department=case.department,
                    due_date=_day(data["supplement_due"], "supplement_due"),
                    status=RUNNING,
                    missing=json.dumps(list(data["missing_materials"]), ensure_ascii=False),
                )
            )
    _entry(session, event, case.case_id, accepted_at, summary)

    for plan in data["subcases"]:
        subcase_id = _id(plan, "subcase_id", 80)
        if await session.get(SubcaseWatch, subcase_id) is not None:
            raise RejectEvent(f"sub-case {subcase_id} exists already")
        due = _day(plan["due_date"], "due_date") if plan.get("due_date") else None
        depends_on = [str(d) for d in plan.get("depends_on") or []]
        session.add(
            SubcaseWatch(
                subcase_id=subcase_id,
                case_id=case.case_id,
                matter_code=plan["matter_code"],
                matter_name=plan["matter_name"],
                department=plan["department"],
                promised_days=int(plan["promised_days"]),
                depends_on=json.dumps(depends_on),
                due_date=due,
                # No deadline until routed: its dependencies must be approved first.
                status=RUNNING if due is not None else "waiting",
            )
        )
        if due is not None:
            text = f"分送{plan['department']}审批，承诺{due}前办结"
        else:
            text = f"待前置子件{'、'.join(depends_on)}批准后分送{plan['department']}"
        _entry(session, event, case.case_id, accepted_at, text, subcase_id)
    await session.flush()


async def on_refused(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    case = await _case(session, data, event)
    _require(case, {RUNNING, SUSPENDED}, event)
    refused_at = event_time(data["refused_at"], "refused_at")
    case.status = "refused"
    case.closed_at = refused_at
    for sub in await _subcases(session, case.case_id):
        if sub.status != "decided":
            sub.status = "closed"
    await _close_supplement(session, case.case_id)
    _entry(session, event, case.case_id, refused_at, f"不予受理：{data['reason']}")


async def on_suspended(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    case = await _case(session, data, event)
    _require(case, {RUNNING}, event)
    suspended_at = event_time(data["suspended_at"], "suspended_at")
    # 补正 stops the clock of the case and of its sub-cases under way.
    case.status = SUSPENDED
    for sub in await _subcases(session, case.case_id):
        if sub.status == RUNNING:
            sub.status = SUSPENDED
    summary = f"补正，暂停计时：{data['reason']}"
    if data.get("requested_materials"):
        summary += f"（需补正：{'、'.join(data['requested_materials'])}）"
    _entry(session, event, case.case_id, suspended_at, summary)


async def on_supplemented(session: AsyncSession, event: CloudEvent) -> None:
    """Materials arrived after 容缺受理: noted on the case's timeline."""
    data = event.data
    case = await _case(session, data, event)
    watch = await session.get(SupplementWatch, case.case_id)
    if watch is not None and watch.status == RUNNING:
        watch.missing = json.dumps(list(data["missing_materials"]), ensure_ascii=False)
        if not data["missing_materials"]:
            watch.status = "closed"
    summary = f"补充材料：{'、'.join(data['materials'])}"
    summary += (
        f"；尚缺：{'、'.join(data['missing_materials'])}"
        if data["missing_materials"]
        else "；材料已齐全"
    )
    _entry(session, event, case.case_id, event_time(data["supplied_at"], "supplied_at"), summary)


async def on_resumed(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    case = await _case(session, data, event)
    _require(case, {SUSPENDED}, event)
    resumed_at = event_time(data["resumed_at"], "resumed_at")
    paused = int(data["suspended_working_days"])
    if paused < 0:
        raise RejectEvent("suspended_working_days is negative")
    case.status = RUNNING
    case.due_date = _day(data["due_date"], "due_date")
    # Sub-case deadlines move by the same number of working days as the case's.
    for sub in await _subcases(session, case.case_id):
        if sub.status == SUSPENDED:
            sub.status = RUNNING
            if sub.due_date is not None:
                sub.due_date = deadlines.add_working_days(sub.due_date, paused)
    _entry(
        session,
        event,
        case.case_id,
        resumed_at,
        f"补正完成，恢复计时；暂停{paused}个工作日，办结期限顺延至{case.due_date}",
    )


async def on_subcase_routed(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    case = await _case(session, data, event)
    _require(case, {RUNNING, SUSPENDED}, event)
    sub = await _subcase(session, case, data)
    if sub.status != "waiting":
        raise RejectEvent(f"sub-case {sub.subcase_id} was routed already ({sub.status})")
    routed_at = event_time(data["routed_at"], "routed_at")
    sub.department = data["department"]
    sub.due_date = _day(data["due_date"], "due_date")
    sub.status = SUSPENDED if case.status == SUSPENDED else RUNNING
    _entry(
        session,
        event,
        case.case_id,
        routed_at,
        f"前置子件已批准，分送{sub.department}审批，承诺{sub.due_date}前办结",
        sub.subcase_id,
    )


async def on_subcase_decided(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    case = await _case(session, data, event)
    _require(case, {RUNNING, SUSPENDED}, event)
    sub = await _subcase(session, case, data)
    if sub.status in {"decided", "closed"}:
        raise RejectEvent(f"sub-case {sub.subcase_id} was decided already")
    decided_at = event_time(data["decided_at"], "decided_at")
    sub.status = "decided"
    sub.decision = data["decision"]
    sub.decided_at = decided_at
    if data["decision"] == "approved":
        summary = f"{data['department']}审批通过"
    else:
        summary = f"{data['department']}不予批准：{data.get('reason') or '未说明理由'}"
    _entry(session, event, case.case_id, decided_at, summary, sub.subcase_id)


async def on_completed(session: AsyncSession, event: CloudEvent) -> None:
    data = event.data
    case = await _case(session, data, event)
    _require(case, {RUNNING, SUSPENDED}, event)
    completed_at = event_time(data["completed_at"], "completed_at")
    case.status = "completed"
    case.outcome = data["outcome"]
    case.closed_at = completed_at
    for sub in await _subcases(session, case.case_id):
        if sub.status != "decided":
            sub.status = "closed"
    await _close_supplement(session, case.case_id)
    outcome = OUTCOMES.get(data["outcome"], data["outcome"])
    _entry(session, event, case.case_id, completed_at, f"办结：{outcome}")


async def entries_of(session: AsyncSession, case_id: str) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.case_id == case_id)
    return list((await session.scalars(query.order_by(TimelineEntry.id))).all())


async def subcases_of(session: AsyncSession, case_id: str) -> list[SubcaseWatch]:
    return await _subcases(session, case_id)


async def on_license_revoked(session: AsyncSession, event: CloudEvent) -> None:
    """A license was revoked: counted by type, and noted on the timeline of the case
    (and sub-case) that yielded it when this service watches that case; otherwise
    counted as unlinked. Its events travel on the license topic, not the case topic, so
    a revocation may find its case not (yet) watched: counting never refuses it.
    Repeated revocations of one license add one entry."""
    data = event.data
    license_type = str(data["license_type"])
    revoked_at = event_time(data["revoked_at"], "revoked_at")
    await metrics.increment(session, metrics.LICENSES_REVOKED, license_type)
    case_id = data.get("case_id")
    case = await session.get(CaseWatch, str(case_id)) if case_id else None
    if case is None:
        await metrics.increment(session, metrics.LICENSES_REVOKED_UNLINKED, license_type)
        return
    license_id = _id(data, "license_id", 36)
    noted = await session.scalar(
        select(TimelineEntry.id).where(
            TimelineEntry.case_id == case.case_id,
            TimelineEntry.event_type == event.type,
            TimelineEntry.summary.contains(license_id),
        )
    )
    if noted is not None:
        return
    subcase_id = data.get("subcase_id")
    sub = await session.get(SubcaseWatch, str(subcase_id)) if subcase_id else None
    if sub is not None and sub.case_id != case.case_id:
        sub = None
    _entry(
        session,
        event,
        case.case_id,
        revoked_at,
        f"证照已吊销：{license_type}（{license_id}），原因：{data['reason']}",
        None if sub is None else sub.subcase_id,
    )
    await session.flush()
