"""Fixtures of the license tests: the running app on the test's backend, holders with
valid identifiers, and a helper that publishes a sub-case decision as intake would."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from stdnum.cn import ric, uscc

from license.main import create_app
from license.settings import Settings
from yiwang_platform.bus.base import OutgoingMessage
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import running

CASE_TOPIC = "intake.case.v1"
SUBCASE_DECIDED = "gov.intake.subcase.decided.v1"
ISSUER = "杭州市卫生健康委员会"


def id_number(birth: date, sequence: int, area: str = "110105") -> str:
    """A synthetic resident ID number with a correct GB 11643 check digit."""
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(organisation: str = "MA2H7QXK0") -> str:
    body = f"91330106{organisation}"
    return body + uscc.calc_check_digit(body)


CITIZEN = id_number(date(1990, 5, 17), 123)
OTHER_CITIZEN = id_number(date(1985, 11, 2), 246)
ENTERPRISE = credit_code()

BIRTH_FIELDS = {
    "certificate_number": "Q330106202600123",
    "newborn_name": "王小明",
    "sex": "男",
    "birth_time": "2026-02-27 10:05",
    "birth_place": "浙江省杭州市西湖区",
    "mother_name": "李梅",
    "father_name": "王强",
}
BUSINESS_FIELDS = {
    "company_name": "杭州示例科技有限公司",
    "company_type": "有限责任公司(自然人投资或控股)",
    "legal_representative": "王小明",
    "registered_capital": "100万元人民币",
    "established_on": "2026-03-01",
    "address": "浙江省杭州市西湖区文三路1号",
    "business_scope": "软件开发；信息技术咨询服务",
}
SSC_FIELDS = {
    "card_number": "A12345678",
    "name": "王小明",
    "issuing_region": "杭州市",
    "issue_date": "2026-03-01",
}


@pytest.fixture
def samples() -> SimpleNamespace:
    """Holders and license fields the tests share."""
    return SimpleNamespace(
        citizen=CITIZEN,
        other_citizen=OTHER_CITIZEN,
        enterprise=ENTERPRISE,
        birth_fields=dict(BIRTH_FIELDS),
        business_fields=dict(BUSINESS_FIELDS),
        ssc_fields=dict(SSC_FIELDS),
        issuer=ISSUER,
        case_topic=CASE_TOPIC,
    )


@pytest.fixture
def make_app(backend, verifier) -> Callable[..., Awaitable[FastAPI]]:
    """A new app of the service on the test's backend, not yet running."""

    async def _make(seal_issuer: str = "杭州市电子证照中心") -> FastAPI:
        settings = await backend.settings(Settings, seal_issuer=seal_issuer)
        return create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)

    return _make


@pytest.fixture
async def app(make_app) -> AsyncIterator[FastAPI]:
    application = await make_app()
    async with running(application):
        yield application


@pytest.fixture
def issue_license() -> Callable[..., Awaitable[dict[str, Any]]]:
    """Issue a birth certificate (``changes``: another license) through a staff client."""

    async def _issue(
        staff: AsyncClient, holder: str, fields: dict[str, str], **changes: Any
    ) -> dict[str, Any]:
        response = await staff.post(
            "/api/v1/license/licenses",
            json={
                "license_type": "birth-medical-certificate",
                "holder_kind": "citizen",
                "holder_id": holder,
                "holder_name": "王小明",
                "fields": fields,
                **changes,
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return _issue


Publish = Callable[..., Awaitable[CloudEvent]]


@pytest.fixture
def publish(app) -> Publish:
    """Put a CloudEvent on the app's bus as another service would (``event`` re-sends one)."""

    async def _publish(
        data: dict[str, Any] | None = None,
        event: CloudEvent | None = None,
        key: str = "case-key",
    ) -> CloudEvent:
        ce = event or CloudEvent(
            type=SUBCASE_DECIDED, source="/yiwang/intake", data=data or {}, subject=key
        )
        message = OutgoingMessage(CASE_TOPIC, key.encode(), ce.value(), ce.headers())
        await app.state.runtime.bus.publish([message])
        return ce

    return _publish


@pytest.fixture
def decision(app) -> Callable[..., dict[str, Any]]:
    """The data of a SubCaseDecided event, the license part encrypted as intake does."""

    def _decision(
        license_type: str = "birth-medical-certificate",
        holder: str = CITIZEN,
        holder_name: str = "王小明",
        fields: dict[str, Any] | None = None,
        holder_kind: str = "citizen",
        with_license: bool = True,
        **changes: Any,
    ) -> dict[str, Any]:
        cipher = app.state.runtime.cipher
        data: dict[str, Any] = {
            "case_id": str(uuid.uuid4()),
            "subcase_id": str(uuid.uuid4()),
            "matter_code": "11330100000000001",
            "department": ISSUER,
            "decision": "approved",
            "decided_at": "2026-03-02T01:00:00Z",
            "decided_by": "staff-0571",
            "reason": None,
            "license": None,
        }
        if with_license:
            data["license"] = {
                "license_type": license_type,
                "holder_kind": holder_kind,
                "holder_index": cipher.blind_index(holder),
                "holder_encrypted": cipher.encrypt(holder),
                "holder_name_encrypted": cipher.encrypt(holder_name),
                "fields_encrypted": cipher.encrypt(
                    json.dumps(BIRTH_FIELDS if fields is None else fields, ensure_ascii=False)
                ),
                "issuer": ISSUER,
            }
        data.update(changes)
        return data

    return _decision
