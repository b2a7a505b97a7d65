"""Revoked licenses in the license library index: the revoked event marks the entry,
lists show the status and ``status=valid`` leaves revoked ones out; repeated and
out-of-order events are harmless."""

from __future__ import annotations

import functools
import uuid
from datetime import date

from sqlalchemy import func, select

from data_exchange.events import LicenseIssuedIn, LicenseRevokedIn
from data_exchange.models import LicenseIndexEntry
from yiwang_platform.bus import OutgoingMessage
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import client, eventually, running

from .factories import id_number as resident_id
from .factories import license_issued as issued
from .factories import make_app

WAIT = 60.0  # joining a Kafka consumer group takes a few seconds

id_number = functools.partial(resident_id, area="110105")


def revoked(license_id: str, holder_index: str) -> CloudEvent:
    data = {
        "license_id": license_id,
        "license_type": "CN-BIRTH-CERT",
        "holder_kind": "citizen",
        "holder_index": holder_index,
        "issuer": "杭州市卫生健康委员会",
        "revoked_at": "2026-04-01T10:00:00Z",
        "reason": "登记错误",
    }
    return CloudEvent(
        type=LicenseRevokedIn.event_type, source="/yiwang/license", data=data, subject=license_id
    )


async def handle(app, event: CloudEvent) -> None:
    """Call the service's handler for the event directly, in one transaction."""
    runtime = app.state.runtime
    model, handler = next(
        (m, h) for m, h in runtime.spec.handlers.items() if m.event_type == event.type
    )
    async with runtime.sessions() as session, session.begin():
        await handler(runtime.handler_context(session, event), model.model_validate(event.data))


async def entry(app, license_id: str) -> LicenseIndexEntry | None:
    async with app.state.runtime.sessions() as session:
        return await session.get(LicenseIndexEntry, license_id)


async def listed(app, signer, holder_index: str, **params: str) -> list[tuple[str, str]]:
    async with client(app, signer, audience="data-exchange", principal_type="staff") as staff:
        answer = await staff.get(
            "/api/v1/data-exchange/licenses", params={"holder_index": holder_index, **params}
        )
        assert answer.status_code == 200, answer.text
        return [(i["license_id"], i["status"]) for i in answer.json()["items"]]


async def test_a_revoked_license_is_marked_and_left_out_of_valid_licenses(
    backend, signer, verifier
):
    app = await make_app(backend, verifier)
    async with running(app):
        holder_index = app.state.runtime.cipher.blind_index(id_number(date(1990, 5, 17), 123))
        kept, gone = str(uuid.uuid4()), str(uuid.uuid4())
        await handle(app, issued(kept, holder_index))
        await handle(app, issued(gone, holder_index, issued_at="2026-03-02T08:30:00Z"))
        await handle(app, revoked(gone, holder_index))

        row = await entry(app, gone)
        assert row is not None
        assert (row.status, row.revoked_at.isoformat()) == ("revoked", "2026-04-01T10:00:00+00:00")
        assert await listed(app, signer, holder_index) == [(gone, "revoked"), (kept, "valid")]
        assert await listed(app, signer, holder_index, status="valid") == [(kept, "valid")]
        assert await listed(app, signer, holder_index, status="revoked") == [(gone, "revoked")]


async def test_a_repeated_revocation_changes_nothing(backend, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        holder_index = app.state.runtime.cipher.blind_index(id_number(date(1990, 5, 17), 123))
        license_id = str(uuid.uuid4())
        await handle(app, issued(license_id, holder_index))
        await handle(app, revoked(license_id, holder_index))
        again = revoked(license_id, holder_index)
        again.data["revoked_at"] = "2026-05-01T10:00:00Z"
        await handle(app, again)
        row = await entry(app, license_id)
        assert (row.status, row.revoked_at.isoformat()) == ("revoked", "2026-04-01T10:00:00+00:00")


async def test_a_revocation_before_its_issue_stays_revoked(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        holder_index = app.state.runtime.cipher.blind_index(id_number(date(1990, 5, 17), 123))
        license_id = str(uuid.uuid4())
        await handle(app, revoked(license_id, holder_index))
        await handle(app, issued(license_id, holder_index, valid_until="2046-03-01T00:00:00Z"))
        row = await entry(app, license_id)
        assert (row.status, row.issued_at.isoformat(), row.valid_until.year) == (
            "revoked",
            "2026-03-01T08:30:00+00:00",
            2046,
        )
        assert await listed(app, signer, holder_index, status="valid") == []


async def test_revocations_arrive_over_the_bus(backend, signer, verifier):
    app = await make_app(backend, verifier)
    async with running(app):
        holder_index = app.state.runtime.cipher.blind_index(id_number(date(1990, 5, 17), 123))
        license_id, marker = str(uuid.uuid4()), str(uuid.uuid4())
        events = [
            issued(license_id, holder_index),
            revoked(license_id, holder_index),
            issued(marker, holder_index, issued_at="2026-02-01T08:30:00Z"),
        ]
        await app.state.runtime.bus.publish(
            [OutgoingMessage(LicenseIssuedIn.topic, b"k", e.value(), e.headers()) for e in events]
        )

        async def marker_indexed() -> bool:
            return await entry(app, marker) is not None

        await eventually(marker_indexed, timeout=WAIT)
        assert await listed(app, signer, holder_index) == [
            (license_id, "revoked"),
            (marker, "valid"),
        ]
        async with app.state.runtime.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(LicenseIndexEntry))
        assert total == 2
