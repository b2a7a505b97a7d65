"""Sustained 一件事 submissions on the real stack, up to where their first event reaches
supervision.

Six processes as in the distributed run (PostgreSQL, Kafka, Redis). Citizens signed
in by SMS and real-name bound submit 企业开办一件事 applications through the gateway:
for each, intake asks matters' guide for the members and the material list, pre-reviews
against it, writes the case and ``gov.intake.case.submitted.v1`` in one transaction,
the relay publishes it, and supervision opens the case's timeline. The lag of one case
is supervision's inbox ``processed_at`` minus the moment the client sent the request
(one machine, one clock).

Baseline in the same run: the same submissions sent straight to intake with the
internal token the gateway would mint, so the ratio shows what the gateway costs.

    make bench-bundles                       # 300 cases per path, 8 concurrent clients
    BENCH_CASES=1000 make bench-bundles
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from gateway.admin import sms_code_sent  # noqa: E402
from tools.distributed import LocalPlatform  # noqa: E402
from tools.journeys import COMPANY_ANSWERS  # noqa: E402
from yiwang_standalone import seed_libraries as seed  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", "300"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
FORM = {
    "company_name": "杭州基准测试有限公司",
    "legal_representative": "基准",
    "registered_address": "浙江省杭州市西湖区文三路100号",
    "business_scope": "软件开发",
    "registered_capital": "100",
    "shareholders": "基准 100%",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def post(api: aiohttp.ClientSession, url: str, body: Any, **headers: str) -> Any:
    async with api.post(url, json=body, headers=headers) as response:
        text = await response.text()
        if response.status >= 300:
            raise RuntimeError(f"POST {url}: {response.status} {text}")
        return json.loads(text) if text else None


async def sign_in(
    api: aiohttp.ClientSession, gateway: str, sms: Path, i: int, person: dict[str, Any]
) -> str:
    phone = f"1370000{i:04d}"
    await post(api, f"{gateway}/api/v1/auth/sms-codes", {"phone": phone})
    code = sms_code_sent(sms, phone)
    tokens = await post(api, f"{gateway}/api/v1/auth/citizens", {"phone": phone, "code": code})
    bound = await post(
        api,
        f"{gateway}/api/v1/auth/real-name",
        {"id_number": person["id_number"], "name": person["name"]},
        authorization=f"Bearer {tokens['access_token']}",
    )
    return str(bound["access_token"])


async def materials(api: aiohttp.ClientSession, base: str, auth: str) -> list[dict[str, str]]:
    """One upload per material of the list, reused by every application of this citizen."""
    async with api.post(
        f"{base}/api/v1/matters/bundles/COMPANY-OPENING/guide",
        json={"answers": COMPANY_ANSWERS},
        headers={"authorization": auth},
    ) as response:
        guide = await response.json()
    attached = []
    for material in guide["materials"]:
        async with api.post(
            f"{base}/api/v1/intake/uploads",
            data=b"%PDF-1.4 bench",
            headers={"authorization": auth, "content-type": "application/pdf"},
        ) as response:
            upload = await response.json()
        attached.append({"code": material["code"], "upload_id": upload["upload_id"]})
    return attached


async def submit_all(
    base: str, auths: list[str], attached: list[list[dict[str, str]]], count: int
) -> tuple[float, dict[str, float]]:
    """``count`` submissions from ``CLIENTS`` concurrent clients; returns the seconds taken
    and the send time of each case."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    sent: dict[str, float] = {}

    async def client(api: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            who = i % len(auths)
            body = {
                "bundle_code": "COMPANY-OPENING",
                "answers": COMPANY_ANSWERS,
                "form": FORM,
                "materials": attached[who],
            }
            at = time.time()
            case = await post(
                api, f"{base}/api/v1/intake/applications", body, authorization=auths[who]
            )
            sent[case["case_id"]] = at

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CLIENTS)) as api:
        await asyncio.gather(*(client(api) for _ in range(CLIENTS)))
    return time.perf_counter() - started, sent


async def supervised_at(
    platform: LocalPlatform, expected: int, timeout: float = 600
) -> dict[str, float]:
    """When supervision applied each case's submitted event, by case id."""
    base = platform.postgres.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0]
    deadline = time.monotonic() + timeout
    while True:
        intake = await asyncpg.connect(f"{base}/{platform.database('intake')}")
        supervision = await asyncpg.connect(f"{base}/{platform.database('supervision')}")
        try:
            events = {
                r["event_id"]: r["message_key"]
                for r in await intake.fetch(
                    "SELECT event_id, message_key FROM outbox WHERE headers LIKE '%case.submitted%'"
                )
            }
            applied = {
                events[r["event_id"]]: r["processed_at"].timestamp()
                for r in await supervision.fetch(
                    "SELECT event_id, processed_at FROM inbox "
                    "WHERE event_type = 'gov.intake.case.submitted.v1'"
                )
                if r["event_id"] in events
            }
        finally:
            await intake.close()
            await supervision.close()
        if len(applied) >= expected or time.monotonic() > deadline:
            return applied
        await asyncio.sleep(0.5)


def figures(
    name: str, seconds: float, sent: dict[str, float], applied: dict[str, float]
) -> tuple[float, float, list[str]]:
    lags = [applied[c] - at for c, at in sent.items() if c in applied]
    missing = len(sent) - len(lags)
    rate = len(sent) / seconds
    p50, p99 = (percentile(lags, q) * 1000 for q in (0.5, 0.99))
    line = (
        f"  {name:<8} {rate:7.1f} cases/s   submit→supervised lag p50 {p50:6.0f} ms   "
        f"p99 {p99:6.0f} ms   max {max(lags) * 1000:6.0f} ms"
        + (f"   ({missing} never supervised)" if missing else "")
    )
    return rate, p99, [line]


async def main() -> None:
    stack = {
        "YIWANG_KAFKA_BOOTSTRAP": os.environ["YIWANG_KAFKA_BOOTSTRAP"],
        "YIWANG_POSTGRES_URL": os.environ["YIWANG_POSTGRES_URL"],
        "YIWANG_REDIS_URL": os.environ.get("YIWANG_REDIS_URL", ""),
    }
    people = [p for p in seed.generate().population if 1960 < int(p["birth_date"][:4]) < 2005][
        :CLIENTS
    ]
    lines = [
        f"bundle submission benchmark: {CASES} 企业开办 cases per path, {CLIENTS} concurrent "
        f"clients, {os.cpu_count()} cores, load average before {os.getloadavg()[0]:.2f}"
    ]
    with tempfile.TemporaryDirectory() as tmp:
        platform = LocalPlatform(Path(tmp), stack)
        try:
            sms = Path(tmp) / "sms-outbox.jsonl"
            processes, gateway = await platform.start_all(
                common={"log_level": "WARNING"},
                sms_outbox=str(sms),
                rate_limit_per_minute=str(100_000_000),
            )
            intake = processes["intake"]

            async with aiohttp.ClientSession() as api:
                tokens = [
                    await sign_in(api, gateway.url(), sms, i, person)
                    for i, person in enumerate(people)
                ]
                via_gateway = [f"Bearer {t}" for t in tokens]
                # What the gateway mints for intake, for the direct path.
                signer = platform.keys.signer()
                direct = [
                    "Bearer "
                    + signer.mint(
                        ["intake", "matters", "data-exchange", "license"],
                        person["id_number"],
                        principal_type="citizen",
                        ttl=1800,
                        acr="L2",
                    )
                    for person in people
                ]
                attached = [await materials(api, gateway.url(), auth) for auth in via_gateway]

            # Warm-up, then the measured runs; the first events of each run reach supervision.
            await submit_all(gateway.url(), via_gateway, attached, 2 * CLIENTS)
            seconds, sent = await submit_all(gateway.url(), via_gateway, attached, CASES)
            applied = await supervised_at(platform, CASES + 2 * CLIENTS)
            gateway_rate, gateway_p99, gateway_lines = figures("gateway", seconds, sent, applied)
            seconds, sent = await submit_all(intake.url(), direct, attached, CASES)
            applied = await supervised_at(platform, 2 * CASES + 2 * CLIENTS)
            direct_rate, _, direct_lines = figures("direct", seconds, sent, applied)
        finally:
            await platform.close()
    lines += gateway_lines + direct_lines
    lines.append(f"  ratio (cases/s): gateway/direct {gateway_rate / direct_rate:.3f}")
    print("\n".join(lines))
    results.save(
        "bundles",
        {"gateway_cps": gateway_rate, "gateway_lag_p99_ms": gateway_p99, "direct_cps": direct_rate},
    )


if __name__ == "__main__":
    asyncio.run(main())
