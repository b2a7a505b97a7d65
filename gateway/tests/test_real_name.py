"""Real-name binding (``POST /api/v1/auth/real-name``) through the gateway in front of the
real data-exchange app, on both backends (in-memory store; real Redis): the check reads
the ``real-name-binding`` policy, attempts are limited per account and per ID number,
repeated mismatches lock (until the injected clock passes the lockout), and every
attempt lands in the audit chain without the number or the name."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from gateway.identity.sms import FileOutboxSms
from gateway.models import audit_entries
from gateway.settings import default_policies_dir
from gateway.tests.conftest import gateway_client, id_number, parts, person, push_people
from yiwang_platform.testing import eventually, running

REAL_NAME = "/api/v1/auth/real-name"
NAME = "王小明"


WANG = id_number(date(1992, 5, 17), 321)
# Valid numbers nobody in the library holds.
OTHERS = [id_number(date(1980, 1, 1 + n), 500 + n) for n in range(12)]
# 20 s into a one-minute window, so no test straddles two rate windows.
T0 = 60 * 29_000_000 + 20.0


class Platform:
    def __init__(self, api: httpx.AsyncClient, front, sms: FileOutboxSms) -> None:
        self.api = api
        self.front = front
        self.sms = sms
        self.now = T0
        parts(front).real_name_attempts.lockout.clock = lambda: self.now
        self._phones = iter(range(13900000000, 13999999999))

    async def citizen(self) -> dict[str, str]:
        """A new citizen account (SMS sign-up): its bearer header."""
        phone = str(next(self._phones))
        sent = await self.api.post("/api/v1/auth/sms-codes", json={"phone": phone})
        assert sent.status_code == 202, sent.text
        code = self.sms.last_code_for(phone)
        tokens = await self.api.post("/api/v1/auth/citizens", json={"phone": phone, "code": code})
        assert tokens.status_code == 201, tokens.text
        return {"Authorization": f"Bearer {tokens.json()['access_token']}"}

    async def bind(self, who: dict[str, str], id_number: str, name: str) -> httpx.Response:
        return await self.api.post(
            REAL_NAME, json={"id_number": id_number, "name": name}, headers=who
        )

    async def entries(self) -> list[dict[str, Any]]:
        async with self.front.state.runtime.sessions() as session:
            rows = (await session.execute(select(audit_entries.c.entry))).scalars().all()
        return [json.loads(row) for row in rows]

    async def attempts(self, count: int) -> list[dict[str, Any]]:
        """The audit entries of real-name attempts, once ``count`` are written."""

        async def written() -> bool:
            return len(await self._attempts()) >= count

        await eventually(written)
        return await self._attempts()

    async def _attempts(self) -> list[dict[str, Any]]:
        return [e for e in await self.entries() if e.get("scenario") == "real-name-binding"]


@contextlib.asynccontextmanager
async def _platform(
    service_app, gateway_app, signer, tmp_path: Path, policy_edit=None, **settings
) -> AsyncIterator[Platform]:
    policies = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), policies)
    if policy_edit is not None:
        path = policies / "real-name-binding.yaml"
        path.write_text(policy_edit(path.read_text()))
    exchange = await service_app("data_exchange")
    front = await gateway_app(
        {"data-exchange": exchange},
        timeout=10,
        own_redis=True,
        policies_dir=policies,
        sms_outbox=str(tmp_path / "sms.jsonl"),
        **settings,
    )
    async with running(exchange), running(front), gateway_client(front) as api:
        wang = person(WANG, date(1992, 5, 17), NAME)
        assert await push_people(exchange, signer, wang) == ["created"]
        yield Platform(api, front, FileOutboxSms(tmp_path / "sms.jsonl"))


def _problem(answer: httpx.Response) -> tuple[int, str]:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    return answer.status_code, answer.json()["code"]


async def test_binding_checks_the_library_and_audits_every_attempt(
    service_app, gateway_app, signer, tmp_path
):
    async with _platform(service_app, gateway_app, signer, tmp_path) as p:
        citizen = await p.citizen()
        assert _problem(await p.bind(citizen, WANG, "李四")) == (422, "real_name_mismatch")
        bound = await p.bind(citizen, WANG, NAME)
        assert bound.status_code == 200, bound.text
        assert bound.json()["acr"] == "L2"

        attempts = await p.attempts(2)
        assert [(e["status"], e["decision"], e["reason"]) for e in attempts] == [
            (422, "allowed", "real_name_mismatch"),
            (200, "allowed", None),
        ]
        assert all(e["fields"] == ["population.name"] for e in attempts)
        written = json.dumps(await p.entries(), ensure_ascii=False)
        assert WANG not in written and NAME not in written and "李四" not in written


async def test_a_policy_out_of_force_refuses_binding(service_app, gateway_app, signer, tmp_path):
    """The route decides by the policy file (not a grant written into the code)."""

    def expired(text: str) -> str:
        until_2020 = "valid: {from: 2020-01-01, until: 2020-12-31}"
        return text.replace("valid: {from: 2026-01-01}", until_2020)

    async with _platform(service_app, gateway_app, signer, tmp_path, expired) as p:
        citizen = await p.citizen()
        assert _problem(await p.bind(citizen, WANG, NAME)) == (403, "scenario_not_valid")


async def test_repeated_mismatches_lock_the_account_until_the_lockout_passes(
    service_app, gateway_app, signer, tmp_path
):
    async with _platform(
        service_app, gateway_app, signer, tmp_path, real_name_lockout_seconds=600
    ) as p:
        prober = await p.citizen()
        # 14 wrong pairs in a row (different numbers): five mismatches, then locked.
        answers = [_problem(await p.bind(prober, number, NAME)) for number in OTHERS[:12]]
        answers += [_problem(await p.bind(prober, WANG, "李四")) for _ in range(2)]
        assert answers == [(422, "real_name_mismatch")] * 5 + [(429, "real_name_locked")] * 9
        locked = await p.bind(prober, WANG, NAME)
        assert _problem(locked) == (429, "real_name_locked")
        assert locked.headers["Retry-After"] == "600"

        # The lock is the account's: another citizen binds the number at once.
        assert (await p.bind(await p.citizen(), WANG, NAME)).status_code == 200

        p.now += 599
        assert _problem(await p.bind(prober, OTHERS[0], NAME))[1] == "real_name_locked"
        p.now += 2
        assert _problem(await p.bind(prober, OTHERS[0], NAME)) == (422, "real_name_mismatch")

        attempts = await p.attempts(5 + 11 + 1 + 1)
        limited = [e for e in attempts if e["reason"] == "real_name_locked"]
        assert len(limited) == 11 and all(e["decision"] == "refused" for e in limited)


async def test_one_number_tried_from_many_accounts_locks_the_number(
    service_app, gateway_app, signer, tmp_path
):
    async with _platform(service_app, gateway_app, signer, tmp_path) as p:
        for _ in range(5):
            wrong = await p.bind(await p.citizen(), WANG, "李四")
            assert _problem(wrong) == (422, "real_name_mismatch")
        owner = await p.citizen()
        # Even the right name waits: the number is locked, not only the accounts.
        assert _problem(await p.bind(owner, WANG, NAME)) == (429, "real_name_locked")
        assert _problem(await p.bind(owner, OTHERS[0], NAME)) == (422, "real_name_mismatch")
        p.now += 1800 + 1
        assert (await p.bind(owner, WANG, NAME)).status_code == 200


async def test_the_policy_rate_limits_each_account_and_each_number(
    service_app, gateway_app, signer, tmp_path
):
    def three_per_minute(text: str) -> str:
        return text.replace("per_principal: 10/min", "per_principal: 3/min")

    async with _platform(
        service_app,
        gateway_app,
        signer,
        tmp_path,
        three_per_minute,
        real_name_max_failures=100,
    ) as p:
        one = await p.citizen()
        codes = [_problem(await p.bind(one, number, NAME)) for number in OTHERS[:4]]
        assert codes == [(422, "real_name_mismatch")] * 3 + [(429, "rate_limited")]
        limited = await p.bind(one, OTHERS[5], NAME)
        assert limited.headers["Retry-After"] == "40"

        # One number from many accounts: the number's own count.
        codes = [_problem(await p.bind(await p.citizen(), WANG, "李四")) for _ in range(4)]
        assert codes == [(422, "real_name_mismatch")] * 3 + [(429, "rate_limited")]

        # The next minute starts afresh.
        p.now += 60
        assert (await p.bind(await p.citizen(), WANG, NAME)).status_code == 200
