"""Fixtures of the supervision tests: the running app on the test's backend, and helpers
to put events on its bus and read what reached a topic."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI

from supervision.main import create_app
from supervision.models import CaseWatch
from supervision.settings import Settings
from yiwang_platform.events import CloudEvent
from yiwang_platform.pii import PiiCipher
from yiwang_platform.testing import Publish, eventually, service_fixtures

CASE_TOPIC = "intake.case.v1"
CASE_SUBMITTED = "gov.intake.case.submitted.v1"
# Submitted on the last working day before the 2026 National Day holiday.
CASE = {
    "matter_code": "11000000000001",
    "matter_version": 1,
    "matter_name": "出生医学证明签发",
    "department": "市卫生健康委员会",
    "promised_days": 1,
    "channel": "online",
    "submitted_at": "2026-09-30T02:00:00Z",
}


def case_data(**changes: Any) -> dict[str, Any]:
    """The data of a CaseSubmitted event for a new case, with ``changes``."""
    return {**CASE, "case_id": str(uuid.uuid4()), **changes}


@pytest.fixture
def new_case() -> Callable[..., dict[str, Any]]:
    return case_data


app, publish = service_fixtures(create_app, Settings)


@pytest.fixture
def submit_case(app, publish) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Publish a CaseSubmitted event as intake would (with ``changes``) and wait for its watch."""

    async def _submit_case(**changes: Any) -> dict[str, Any]:
        data = case_data(**changes)
        await publish(CASE_TOPIC, CASE_SUBMITTED, data["case_id"], data)

        async def watched() -> bool:
            async with app.state.runtime.sessions() as s:
                return await s.get(CaseWatch, data["case_id"]) is not None

        await eventually(watched, timeout=30)
        return data

    return _submit_case


class CaseEvents:
    """Intake's case events, built to their contracts and put on the bus keyed by case id."""

    def __init__(self, app: FastAPI, publish: Publish) -> None:
        self.app = app
        self.publish = publish
        self.sent = 0

    def applicant_index(self, subject: str) -> str:
        return PiiCipher.from_settings(self.app.state.runtime.settings).blind_index(subject)

    async def send(
        self, kind: str, data: dict[str, Any] | None = None, again: CloudEvent | None = None
    ) -> CloudEvent:
        """Publish ``gov.intake.<kind>.v1``, or re-deliver the event ``again``."""
        if again is not None:
            return await self.publish(CASE_TOPIC, again.type, again.subject or "", event=again)
        assert data is not None
        self.sent += 1
        return await self.publish(CASE_TOPIC, f"gov.intake.{kind}.v1", data["case_id"], data)

    async def settle(self) -> None:
        """Wait until every event sent was applied or dead-lettered."""
        consumer = self.app.state.runtime.consumer

        async def done() -> bool:
            return consumer.applied + consumer.dead_lettered >= self.sent

        await eventually(done, timeout=30)

    async def submitted(self, applicant: str | None = None, **changes: Any) -> dict[str, Any]:
        data = case_data(**changes)
        if applicant is not None:
            data["applicant_index"] = self.applicant_index(applicant)
        await self.send("case.submitted", data)
        return data

    @staticmethod
    def subcase(subcase_id: str, department: str, due_date: str | None, **changes: Any) -> dict:
        return {
            "subcase_id": subcase_id,
            "matter_code": "11000000000002",
            "matter_version": 1,
            "matter_name": f"{department}审批事项",
            "department": department,
            "promised_days": 3,
            "depends_on": [],
            "due_date": due_date,
            "license_type": None,
            **changes,
        }

    async def case_event(self, kind: str, case_id: str, **data: Any) -> CloudEvent:
        """Publish ``gov.intake.<kind>.v1`` about ``case_id`` with the rest of its ``data``."""
        return await self.send(kind, {"case_id": case_id, **data})

    async def accepted(
        self, case_id: str, at: str, due_date: str, subcases: list[dict], **changes: Any
    ) -> CloudEvent:
        return await self.case_event(
            "case.accepted",
            case_id,
            **{
                "accepted_at": at,
                "accepted_by": "staff-window-1",
                "mode": "full",
                "due_date": due_date,
                "supplement_due": None,
                "missing_materials": [],
                "subcases": subcases,
                **changes,
            },
        )

    async def suspended(self, case_id: str, at: str, reason: str, materials: list[str]):
        return await self.case_event(
            "case.suspended", case_id, suspended_at=at, reason=reason, requested_materials=materials
        )

    async def resumed(self, case_id: str, at: str, paused: int, due_date: str) -> CloudEvent:
        return await self.case_event(
            "case.resumed", case_id, resumed_at=at, suspended_working_days=paused, due_date=due_date
        )

    async def routed(
        self, case_id: str, subcase_id: str, department: str, at: str, due_date: str
    ) -> CloudEvent:
        return await self.case_event(
            "subcase.routed",
            case_id,
            subcase_id=subcase_id,
            matter_code="11000000000002",
            department=department,
            routed_at=at,
            due_date=due_date,
        )

    async def decided(
        self,
        case_id: str,
        subcase_id: str,
        department: str,
        at: str,
        decision: str = "approved",
        reason: str | None = None,
    ) -> CloudEvent:
        return await self.case_event(
            "subcase.decided",
            case_id,
            subcase_id=subcase_id,
            matter_code="11000000000002",
            department=department,
            decision=decision,
            decided_at=at,
            decided_by="staff-dept-1",
            reason=reason,
        )

    async def completed(self, case_id: str, at: str, outcome: str = "approved") -> CloudEvent:
        return await self.case_event("case.completed", case_id, completed_at=at, outcome=outcome)

    async def refused(self, case_id: str, at: str, reason: str) -> CloudEvent:
        return await self.case_event("case.refused", case_id, refused_at=at, reason=reason)

    async def completed_case(self, applicant: str | None, **changes: Any) -> dict[str, Any]:
        """A case submitted by ``applicant``, accepted, decided and completed."""
        case = await self.submitted(applicant=applicant, **changes)
        sub = f"{case['case_id'][:8]}-1"
        await self.accepted(
            case["case_id"],
            "2026-09-30T03:00:00Z",
            "2026-10-09",
            [self.subcase(sub, case["department"], "2026-10-09")],
        )
        await self.decided(case["case_id"], sub, case["department"], "2026-10-08T02:00:00Z")
        await self.completed(case["case_id"], "2026-10-08T02:00:01Z")
        await self.settle()
        return case


@pytest.fixture
def case_events(app, publish) -> CaseEvents:
    return CaseEvents(app, publish)


@pytest.fixture
def on_day(app) -> Callable[[str], None]:
    """Put the service's clock at 10:00 China time on the given day."""

    def _on_day(day: str) -> None:
        moment = datetime.fromisoformat(f"{day}T02:00:00+00:00")
        app.state.runtime.clock = lambda: moment

    return _on_day
