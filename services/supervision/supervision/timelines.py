"""Case and sub-case timelines and deadlines, from intake's case events.

Every event adds entries and moves the deadline state. The platform inbox makes a
redelivered event a no-op; an event this service cannot place (a case never submitted,
an unknown sub-case, a step that does not follow from the current state) is a real
error, since one case's events share a key and so arrive in order: it is refused to
the dead-letter topic with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supervision import deadlines, metrics
from supervision.events import (
    CaseAcceptedIn,
    CaseCompletedIn,
    CaseRefusedIn,
    CaseResumedIn,
    CaseSubmittedIn,
    CaseSupplementedIn,
    CaseSuspendedIn,
    LicenseRevokedIn,
    SubCaseDecidedIn,
    SubCaseRoutedIn,
)
from supervision.models import (
    RUNNING,
    SUSPENDED,
    CaseWatch,
    SubcaseWatch,
    SupplementWatch,
    TimelineEntry,
)
from supervision.schemas import (
    CaseTimelineRead,
    DeadlineRead,
    SubcaseTimelineRead,
    TimelineEntryRead,
)
from yiwang_platform.consumer import RejectEvent
from yiwang_platform.errors import ProblemError
from yiwang_platform.events import ConsumedEvent
from yiwang_platform.masking import mask

CHANNELS = {"online": "网上", "window": "窗口", "partner": "异地代收"}
MODES = {"full": "受理", "deficiency": "容缺受理", "commitment": "告知承诺受理"}
OUTCOMES = {"approved": "准予许可", "refused": "不予许可", "partly_approved": "部分准予"}
CLOSED_CASE = {"completed", "refused"}


def case_not_found() -> ProblemError:
    return ProblemError(404, "case_not_found", "办件不存在", title_en="Case not found")


def _id(value: str, *, field: str, longest: int) -> str:
    if not value or len(value) > longest:
        raise RejectEvent(f"{field} must be 1 to {longest} characters")
    return value


@dataclass(frozen=True)
class _Notes:
    """The timeline entries one event adds."""

    session: AsyncSession
    event: ConsumedEvent
    event_id: str

    def add(
        self, case_id: str, summary: str, *, at: datetime, subcase_id: str | None = None
    ) -> None:
        # Free text (reasons) comes from staff and may hold an identifier: mask it.
        self.session.add(
            TimelineEntry(
                case_id=case_id,
                subcase_id=subcase_id,
                event_id=self.event_id,
                event_type=self.event.event_type,
                at=at,
                summary=mask(summary),
            )
        )


async def _case(
    session: AsyncSession, event: ConsumedEvent, *, case_id: str, allowed: set[str] | None = None
) -> CaseWatch:
    """The watched case the event is about, in one of the ``allowed`` statuses (any when
    None); an event for another case or state can never apply."""
    case_id = _id(case_id, field="case_id", longest=36)
    case = await session.get(CaseWatch, case_id)
    if case is None:
        raise RejectEvent(f"{event.event_type} for case {case_id}, which was never submitted")
    if allowed is not None and case.status not in allowed:
        raise RejectEvent(f"{event.event_type} for case {case.case_id} while it is {case.status}")
    return case


async def _subcase(session: AsyncSession, case: CaseWatch, *, subcase_id: str) -> SubcaseWatch:
    subcase_id = _id(subcase_id, field="subcase_id", longest=80)
    sub = await session.get(SubcaseWatch, subcase_id)
    if sub is None or sub.case_id != case.case_id:
        raise RejectEvent(f"sub-case {subcase_id} is not part of case {case.case_id}")
    return sub


async def _subcases(session: AsyncSession, case_id: str) -> list[SubcaseWatch]:
    query = select(SubcaseWatch).where(SubcaseWatch.case_id == case_id)
    return list((await session.scalars(query.order_by(SubcaseWatch.subcase_id))).all())


async def _close(session: AsyncSession, case: CaseWatch, *, status: str, at: datetime) -> None:
    """The case ends: its undecided sub-cases close, and it needs no more materials."""
    case.status = status
    case.closed_at = at
    for sub in await _subcases(session, case.case_id):
        if sub.status != "decided":
            sub.status = "closed"
    watch = await session.get(SupplementWatch, case.case_id)
    if watch is not None:
        watch.status = "closed"


async def record_submitted(session: AsyncSession, event: CaseSubmittedIn, *, event_id: str) -> None:
    case_id = _id(event.case_id, field="case_id", longest=36)
    if await session.get(CaseWatch, case_id) is not None:
        return  # the case is watched already (intake re-announced it)
    promised = event.promised_days
    # Intake counted the limit; older events without it are counted by the same rule.
    due = event.due_date or deadlines.due_date(event.submitted_at, promised)
    session.add(
        CaseWatch(
            case_id=case_id,
            matter_code=event.matter_code,
            matter_name=event.matter_name,
            department=event.department,
            channel=event.channel,
            promised_days=promised,
            submitted_at=event.submitted_at,
            # Until acceptance the limit is counted from the submission.
            due_date=due,
            status=RUNNING,
            applicant_index=event.applicant_index,
        )
    )
    channel = CHANNELS.get(event.channel, event.channel)
    _Notes(session, event, event_id).add(
        case_id,
        f"{channel}申请：{event.matter_name}（{event.department}），承诺{promised}个工作日",
        at=event.submitted_at,
    )
    await session.flush()


async def record_accepted(session: AsyncSession, event: CaseAcceptedIn, *, event_id: str) -> None:
    case = await _case(session, event, case_id=event.case_id, allowed={RUNNING})
    if case.accepted_at is not None:
        raise RejectEvent(f"case {case.case_id} was accepted already")
    case.accepted_at = event.accepted_at
    case.due_date = event.due_date
    summary = f"{MODES.get(event.mode, event.mode)}，承诺{case.due_date}前办结"
    if event.missing_materials:
        summary += f"；容缺{len(event.missing_materials)}项材料"
        if event.supplement_due:
            summary += f"，须于{event.supplement_due}前补齐"
            # 容缺: the missing materials have their own deadline to watch.
            session.add(
                SupplementWatch(
                    case_id=case.case_id,
                    matter_code=case.matter_code,
                    matter_name=case.matter_name,
                    department=case.department,
                    due_date=event.supplement_due,
                    status=RUNNING,
                    missing=json.dumps(list(event.missing_materials), ensure_ascii=False),
                )
            )
    _Notes(session, event, event_id).add(case.case_id, summary, at=event.accepted_at)

    for plan in event.subcases:
        subcase_id = _id(plan.subcase_id, field="subcase_id", longest=80)
        if await session.get(SubcaseWatch, subcase_id) is not None:
            raise RejectEvent(f"sub-case {subcase_id} exists already")
        due = plan.due_date
        session.add(
            SubcaseWatch(
                subcase_id=subcase_id,
                case_id=case.case_id,
                matter_code=plan.matter_code,
                matter_name=plan.matter_name,
                department=plan.department,
                promised_days=plan.promised_days,
                depends_on=json.dumps(plan.depends_on),
                due_date=due,
                # No deadline until routed: its dependencies must be approved first.
                status=RUNNING if due is not None else "waiting",
            )
        )
        if due is not None:
            text = f"分送{plan.department}审批，承诺{due}前办结"
        else:
            text = f"待前置子件{'、'.join(plan.depends_on)}批准后分送{plan.department}"
        _Notes(session, event, event_id).add(
            case.case_id, text, at=event.accepted_at, subcase_id=subcase_id
        )
    await session.flush()


async def record_refused(session: AsyncSession, event: CaseRefusedIn, *, event_id: str) -> None:
    case = await _case(session, event, case_id=event.case_id, allowed={RUNNING, SUSPENDED})
    await _close(session, case, status="refused", at=event.refused_at)
    _Notes(session, event, event_id).add(
        case.case_id, f"不予受理：{event.reason}", at=event.refused_at
    )


async def record_suspended(session: AsyncSession, event: CaseSuspendedIn, *, event_id: str) -> None:
    case = await _case(session, event, case_id=event.case_id, allowed={RUNNING})
    # 补正 stops the clock of the case and of its sub-cases under way.
    case.status = SUSPENDED
    for sub in await _subcases(session, case.case_id):
        if sub.status == RUNNING:
            sub.status = SUSPENDED
    summary = f"补正，暂停计时：{event.reason}"
    if event.requested_materials:
        summary += f"（需补正：{'、'.join(event.requested_materials)}）"
    _Notes(session, event, event_id).add(case.case_id, summary, at=event.suspended_at)


async def record_supplemented(
    session: AsyncSession, event: CaseSupplementedIn, *, event_id: str
) -> None:
    """Materials arrived after 容缺受理: noted on the case's timeline."""
    case = await _case(session, event, case_id=event.case_id)
    watch = await session.get(SupplementWatch, case.case_id)
    if watch is not None and watch.status == RUNNING:
        watch.missing = json.dumps(list(event.missing_materials), ensure_ascii=False)
        if not event.missing_materials:
            watch.status = "closed"
    summary = f"补充材料：{'、'.join(event.materials)}"
    summary += (
        f"；尚缺：{'、'.join(event.missing_materials)}"
        if event.missing_materials
        else "；材料已齐全"
    )
    _Notes(session, event, event_id).add(case.case_id, summary, at=event.supplied_at)


async def record_resumed(session: AsyncSession, event: CaseResumedIn, *, event_id: str) -> None:
    case = await _case(session, event, case_id=event.case_id, allowed={SUSPENDED})
    paused = event.suspended_working_days
    if paused < 0:
        raise RejectEvent("suspended_working_days is negative")
    case.status = RUNNING
    case.due_date = event.due_date
    # Sub-case deadlines move by the same number of working days as the case's.
    for sub in await _subcases(session, case.case_id):
        if sub.status == SUSPENDED:
            sub.status = RUNNING
            if sub.due_date is not None:
                sub.due_date = deadlines.add_working_days(sub.due_date, paused)
    _Notes(session, event, event_id).add(
        case.case_id,
        f"补正完成，恢复计时；暂停{paused}个工作日，办结期限顺延至{case.due_date}",
        at=event.resumed_at,
    )


async def record_routed(session: AsyncSession, event: SubCaseRoutedIn, *, event_id: str) -> None:
    case = await _case(session, event, case_id=event.case_id, allowed={RUNNING, SUSPENDED})
    sub = await _subcase(session, case, subcase_id=event.subcase_id)
    if sub.status != "waiting":
        raise RejectEvent(f"sub-case {sub.subcase_id} was routed already ({sub.status})")
    sub.department = event.department
    sub.due_date = event.due_date
    sub.status = SUSPENDED if case.status == SUSPENDED else RUNNING
    _Notes(session, event, event_id).add(
        case.case_id,
        f"前置子件已批准，分送{sub.department}审批，承诺{sub.due_date}前办结",
        at=event.routed_at,
        subcase_id=sub.subcase_id,
    )


async def record_decided(session: AsyncSession, event: SubCaseDecidedIn, *, event_id: str) -> None:
    case = await _case(session, event, case_id=event.case_id, allowed={RUNNING, SUSPENDED})
    sub = await _subcase(session, case, subcase_id=event.subcase_id)
    if sub.status in {"decided", "closed"}:
        raise RejectEvent(f"sub-case {sub.subcase_id} was decided already")
    sub.status = "decided"
    sub.decision = event.decision
    sub.decided_at = event.decided_at
    if event.decision == "approved":
        summary = f"{event.department}审批通过"
    else:
        summary = f"{event.department}不予批准：{event.reason or '未说明理由'}"
    _Notes(session, event, event_id).add(
        case.case_id, summary, at=event.decided_at, subcase_id=sub.subcase_id
    )


async def record_completed(session: AsyncSession, event: CaseCompletedIn, *, event_id: str) -> None:
    case = await _case(session, event, case_id=event.case_id, allowed={RUNNING, SUSPENDED})
    case.outcome = event.outcome
    await _close(session, case, status="completed", at=event.completed_at)
    outcome = OUTCOMES.get(event.outcome, event.outcome)
    _Notes(session, event, event_id).add(case.case_id, f"办结：{outcome}", at=event.completed_at)


async def entries_of(session: AsyncSession, case_id: str) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.case_id == case_id)
    return list((await session.scalars(query.order_by(TimelineEntry.id))).all())


async def record_revoked(session: AsyncSession, event: LicenseRevokedIn, *, event_id: str) -> None:
    """A license was revoked: counted by type, and noted on the timeline of the case
    (and sub-case) that yielded it when this service watches that case; otherwise
    counted as unlinked. Its events travel on the license topic, not the case topic, so
    a revocation may find its case not (yet) watched: counting never refuses it.
    Repeated revocations of one license add one entry."""
    license_type = event.license_type
    await metrics.increment(session, metrics.LICENSES_REVOKED, key=license_type)
    case = await session.get(CaseWatch, event.case_id) if event.case_id else None
    if case is None:
        await metrics.increment(session, metrics.LICENSES_REVOKED_UNLINKED, key=license_type)
        return
    license_id = _id(event.license_id, field="license_id", longest=36)
    noted = await session.scalar(
        select(TimelineEntry.id).where(
            TimelineEntry.case_id == case.case_id,
            TimelineEntry.event_type == event.event_type,
            TimelineEntry.summary.contains(license_id),
        )
    )
    if noted is not None:
        return
    sub = await session.get(SubcaseWatch, event.subcase_id) if event.subcase_id else None
    if sub is not None and sub.case_id != case.case_id:
        sub = None
    _Notes(session, event, event_id).add(
        case.case_id,
        f"证照已吊销：{license_type}（{license_id}），原因：{event.reason}",
        at=event.revoked_at,
        subcase_id=None if sub is None else sub.subcase_id,
    )
    await session.flush()


# What each event this module records is recorded by.
RECORDERS: dict[type[ConsumedEvent], Callable[..., Awaitable[None]]] = {
    CaseSubmittedIn: record_submitted,
    CaseAcceptedIn: record_accepted,
    CaseRefusedIn: record_refused,
    CaseSuspendedIn: record_suspended,
    CaseResumedIn: record_resumed,
    CaseSupplementedIn: record_supplemented,
    SubCaseRoutedIn: record_routed,
    SubCaseDecidedIn: record_decided,
    CaseCompletedIn: record_completed,
    LicenseRevokedIn: record_revoked,
}


async def record(session: AsyncSession, event: ConsumedEvent, *, event_id: str) -> None:
    """Record ``event``, one of the ``RECORDERS`` types, on its case's timeline."""
    await RECORDERS[type(event)](session, event, event_id=event_id)


# ---- reading a timeline -----------------------------------------------------------------


def _deadline(due: date | None, *, running: bool, today: date, threshold: int) -> DeadlineRead:
    if due is None:
        return DeadlineRead(due_date=None, remaining_working_days=None, level="none")
    if not running:
        # Closed, or suspended for 补正: the clock is stopped and no card shows.
        return DeadlineRead(due_date=due, remaining_working_days=None, level="none")
    return DeadlineRead(
        due_date=due,
        remaining_working_days=deadlines.remaining_working_days(due, today),
        level=deadlines.level(due, today, threshold=threshold),
    )


async def case_timeline(
    session: AsyncSession, case_id: str, *, today: date, threshold: int
) -> CaseTimelineRead:
    """A case's steps and deadlines and those of its sub-cases, with ``today``'s cards;
    404 for a case this service does not watch."""
    case = await session.get(CaseWatch, case_id) if len(case_id) <= 36 else None
    if case is None:
        raise case_not_found()
    entries = await entries_of(session, case_id)

    def entries_for(subcase_id: str | None) -> list[TimelineEntryRead]:
        return [
            TimelineEntryRead(event_type=e.event_type, at=e.at, summary=e.summary)
            for e in entries
            if e.subcase_id == subcase_id
        ]

    def subcase_read(sub: SubcaseWatch) -> SubcaseTimelineRead:
        return SubcaseTimelineRead(
            subcase_id=sub.subcase_id,
            matter_code=sub.matter_code,
            matter_name=sub.matter_name,
            department=sub.department,
            depends_on=json.loads(sub.depends_on),
            status=sub.status,
            decision=sub.decision,
            deadline=_deadline(
                sub.due_date, running=sub.status == RUNNING, today=today, threshold=threshold
            ),
            entries=entries_for(sub.subcase_id),
        )

    return CaseTimelineRead(
        case_id=case.case_id,
        matter_code=case.matter_code,
        matter_name=case.matter_name,
        department=case.department,
        channel=case.channel,
        status=case.status,
        outcome=case.outcome,
        submitted_at=case.submitted_at,
        accepted_at=case.accepted_at,
        deadline=_deadline(
            case.due_date, running=case.status == RUNNING, today=today, threshold=threshold
        ),
        entries=entries_for(None),
        subcases=[subcase_read(s) for s in await _subcases(session, case_id)],
    )
