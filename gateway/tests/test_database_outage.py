"""The gateway's own database going away (PostgreSQL): requests that need it answer 503
problem+json with Retry-After, not 500, and work again once it is back."""

from __future__ import annotations

import httpx
import pytest

from gateway.tests.conftest import parts
from yiwang_platform.testing import database_outage, running

PHONE = "13912345678"


@pytest.fixture
async def gateway(backend, gateway_app, tmp_path):
    if backend.database_kind != "postgres":
        pytest.skip("the outage is made on PostgreSQL")
    front = await gateway_app(sms_outbox=str(tmp_path / "sms.jsonl"))
    async with running(front):
        yield front


async def test_sign_in_during_an_outage_answers_503_then_works(gateway):
    transport = httpx.ASGITransport(app=gateway, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        await client.post("/api/v1/auth/sms-codes", json={"phone": PHONE})
        code = parts(gateway).sms.last_code_for(PHONE)
        body = {"phone": PHONE, "code": code, "password": "a long passphrase"}
        assert (await client.post("/api/v1/auth/citizens", json=body)).status_code == 201

        sign_in = {"phone": PHONE, "password": "a long passphrase"}
        url = "/api/v1/auth/citizens/sessions"
        async with database_outage(gateway.state.runtime.settings.database_url):
            down = await client.post(url, json=sign_in)
        back = await client.post(url, json=sign_in)

    assert down.status_code == 503, down.text
    assert down.headers["content-type"] == "application/problem+json"
    assert down.headers["retry-after"] == "5"
    assert down.json()["code"] == "dependency_unavailable"
    assert back.status_code == 200, back.text
