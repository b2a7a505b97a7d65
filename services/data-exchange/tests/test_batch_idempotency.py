"""A county batch retried with the same ``Idempotency-Key`` on both backends: the same
per-record answers, kept only encrypted (a batch's answer is not one resource to re-read)."""

from __future__ import annotations

import json

from sqlalchemy import select
from stdnum.cn import ric

from data_exchange.main import create_app
from data_exchange.models import idempotency
from data_exchange.settings import Settings
from yiwang_platform.pii import PiiCipher
from yiwang_platform.testing import client, running

RECORDS = "/api/v1/data-exchange/population/records"
BODY = "11010119900101123"
ZHANG = BODY + ric.calc_check_digit(BODY + "0")
BAD = BODY + ("1" if ZHANG[-1] != "1" else "2")  # wrong check digit: refused in the answer


def record(number: str) -> dict[str, object]:
    return {
        "source": "110101-hukou",
        "source_version": 1,
        "id_number": number,
        "name": "张三丰",
        "sex": "男",
        "ethnicity": "汉族",
        "birth_date": "1990-01-01",
        "household_address": "北京市东城区景山前街4号",
        "marital_status": "未婚",
    }


async def test_a_replayed_batch_answers_the_same_from_an_encrypted_record(
    backend, signer, verifier
):
    settings = await backend.settings(Settings)
    app = create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)
    batch = {"records": [record(ZHANG), record(BAD)]}
    async with (
        running(app),
        client(app, signer, audience="data-exchange", principal_type="county") as county,
    ):
        headers = {"Idempotency-Key": "batch-0001"}
        first = await county.post(RECORDS, json=batch, headers=headers)
        again = await county.post(RECORDS, json=batch, headers=headers)
        async with app.state.runtime.sessions() as s:
            [row] = [dict(r._mapping) for r in (await s.execute(select(idempotency))).all()]

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    stored = json.dumps(row, default=str, ensure_ascii=False)
    for personal in (ZHANG, BAD, "张三丰", "景山前街"):
        assert personal not in stored
    cipher = PiiCipher.from_settings(settings)
    assert json.loads(cipher.decrypt(row["body_encrypted"])) == first.json()
