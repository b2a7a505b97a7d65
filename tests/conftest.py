"""Fixtures for cross-service tests that run services as real processes on the
real Kafka and PostgreSQL (``deploy/local/stack.sh``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tools.distributed import ROOT, LocalPlatform
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import KAFKA, POSTGRES_URL, REDIS_URL, need_stack


@pytest.fixture
async def local_platform(tmp_path: Path) -> AsyncIterator[LocalPlatform]:
    need_stack("postgres", "kafka")
    platform = LocalPlatform(
        tmp_path,
        {
            "YIWANG_KAFKA_BOOTSTRAP": KAFKA,
            "YIWANG_POSTGRES_URL": POSTGRES_URL,
            "YIWANG_REDIS_URL": REDIS_URL,
        },
    )
    try:
        yield platform
    finally:
        await platform.close()


def kafka_script(command: str) -> None:
    import subprocess

    subprocess.run(["bash", str(ROOT / "deploy/local/kafka.sh"), command], check=True)


def matter_event(code: str, version: int = 1) -> tuple[str, CloudEvent]:
    data = {
        "code": code,
        "version": version,
        "name": f"测试事项{code}",
        "kind": "公共服务",
        "department": "市政务服务管理局",
        "promised_days": 5,
        "published_at": "2026-11-23T08:00:00+00:00",
    }
    return code, CloudEvent(
        type="gov.matters.matter.published.v1",
        source="/yiwang/matters",
        subject=code,
        data=data,
        dataschema="urn:yiwang:events:gov.matters.matter.published.v1",
    )


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
