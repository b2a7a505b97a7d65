"""The applicant's presence for a case a window clerk opened on their behalf.

A clerk can type any valid ID number; only a sign that the person is there lets
anyone read that person's library data for the case: the hall's ID-card reader read
their card, or its face terminal matched them (recorded by the clerk with the
reader's serial or the check's proof reference), or the applicant confirmed the case
in their own app. A case the applicant submitted themself is present from the start.
The gateway's case binding (``GET /cases/{id}/binding``) answers the presence, and
refuses staff reads without it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from intake.models import Case
from intake.schemas import PresenceCreate
from yiwang_platform.errors import ProblemError
from yiwang_platform.pii import PiiCipher

# A card read or face check a little ahead of the service's clock is accepted (skew).
CLOCK_SKEW = timedelta(minutes=5)


def of_applicant(now: datetime) -> dict[str, Any]:
    """The applicant submitted the case themself."""
    return {"method": "applicant", "recorded_at": now.isoformat()}


def at_window(
    applicant_index: str,
    evidence: PresenceCreate,
    *,
    cipher: PiiCipher,
    clerk: str,
    max_age: timedelta,
    now: datetime,
) -> dict[str, Any]:
    """Checked evidence of the applicant at the window, as stored on the case."""
    if cipher.blind_index(evidence.id_number.upper()) != applicant_index:
        raise ProblemError(
            422,
            "presence_mismatch",
            "读取的身份证件与申请人不符",
            "the card or face check names someone other than the applicant",
            title_en="Presence evidence names another person",
        )
    read_at = evidence.read_at
    if read_at.tzinfo is None or not now - max_age <= read_at <= now + CLOCK_SKEW:
        raise ProblemError(
            422,
            "presence_stale",
            "读卡或人脸核验时间无效，请重新读取",
            f"read_at must carry a time zone and lie within the last {max_age}",
            title_en="Presence evidence too old or in the future",
        )
    return {
        "method": evidence.method,
        "reference": evidence.reference,
        "read_at": read_at.isoformat(),
        "recorded_by": clerk,
        "recorded_at": now.isoformat(),
    }


def record_at_window(
    case: Case,
    evidence: PresenceCreate,
    *,
    cipher: PiiCipher,
    clerk: str,
    max_age: timedelta,
    now: datetime,
) -> None:
    case.presence = at_window(
        case.applicant_index, evidence, cipher=cipher, clerk=clerk, max_age=max_age, now=now
    )


def confirm_in_app(case: Case, caller_index: str, *, now: datetime) -> None:
    """The applicant confirms, from their own app, the case a clerk opened for them."""
    if case.applicant_index != caller_index:
        raise ProblemError(
            403,
            "not_the_applicant",
            "仅申请人本人可确认该办件",
            "only the case's applicant may confirm it",
            title_en="Only the applicant may confirm",
        )
    if case.presence is None:
        case.presence = {"method": "app_confirmation", "recorded_at": now.isoformat()}
