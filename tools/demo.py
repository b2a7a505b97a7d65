"""``make demo``: both 一件事 journeys through the gateway, each step printed in Chinese
and English — on the standalone platform (in this process, files under a temporary
folder) by default, or against the distributed run of ``make up`` with
``make demo MODE=distributed``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gateway.settings  # noqa: E402
from tools import journeys  # noqa: E402
from tools.distributed import LOCAL, database_url, stack_env  # noqa: E402


def say(zh: str, en: str) -> None:
    print(f"  {zh}\n    {en}", flush=True)


@contextlib.asynccontextmanager
async def standalone() -> AsyncIterator[journeys.Platform]:
    with tempfile.TemporaryDirectory(prefix="yiwang-demo-") as tmp:
        async with journeys.standalone(Path(tmp), say=say) as platform:
            yield platform


@contextlib.asynccontextmanager
async def distributed(url: str) -> AsyncIterator[journeys.Platform]:
    keys = json.loads((LOCAL / "keys" / "dev-api-keys.json").read_text())
    admin_url = stack_env()["YIWANG_POSTGRES_URL"]
    settings = gateway.settings.Settings(database_url=database_url(admin_url, "yiwang_gateway"))
    async with httpx.AsyncClient(base_url=url, timeout=60) as api:
        try:
            status = (await api.get("/status")).json()
        except (httpx.HTTPError, ValueError):
            status = {}
        if status.get("status") != "ok":
            raise SystemExit(
                f"the distributed run is not ready at {url} ({status}): run `make up` first"
            )
        yield journeys.Platform.local(
            api,
            keys,
            gateway_settings=settings,
            sms_outbox=LOCAL / "var" / "sms-outbox.jsonl",
            say=say,
        )


async def main(mode: str, url: str) -> None:
    runner = standalone() if mode == "standalone" else distributed(url)
    async with runner as platform:
        birth = await journeys.birth(platform)
        company = await journeys.company(platform)
        refused = await journeys.company(platform, refuse_license=True)
    print(
        f"\n出生一件事 {birth.case_id}: {birth.case['outcome']}, {len(birth.licenses)} e-licenses; "
        f"企业开办 {company.case_id}: {company.case['outcome']}; "
        f"refused registration {refused.case_id}: {refused.case['outcome']}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="make demo")
    parser.add_argument("--mode", choices=["standalone", "distributed"], default="standalone")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    asyncio.run(main(args.mode, args.url))
