"""County records, license events and callers the data-exchange tests start from."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI
from stdnum.cn import ric

from data_exchange.events import LicenseIssuedIn
from data_exchange.main import create_app
from data_exchange.settings import Settings
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import client


def id_number(birth: date, sequence: int, *, area: str = "110101") -> str:
    """A synthetic resident ID number with a correct GB 11643 check digit."""
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def resident(
    number: str,
    birth: date,
    *,
    source: str,
    name: str,
    sex: str,
    version: int = 1,
    **changes: object,
) -> dict[str, object]:
    """A county population record with the required fields only."""
    data: dict[str, object] = {
        "source": source,
        "source_version": version,
        "id_number": number,
        "name": name,
        "sex": sex,
        "birth_date": birth.isoformat(),
    }
    data.update(changes)
    return data


def county_person(
    number: str, birth: date, *, name: str = "张三", sex: str = "男", **changes: object
) -> dict[str, object]:
    """A record from ``330106-hukou`` (of 张三 unless ``name``), required fields only."""
    return resident(number, birth, source="330106-hukou", name=name, sex=sex, **changes)


def population_record(
    number: str, birth: date, *, version: int = 1, **changes: object
) -> dict[str, object]:
    """A full county population record of 张三 from ``110101-hukou``."""
    base: dict[str, object] = {
        "source": "110101-hukou",
        "source_version": version,
        "id_number": number,
        "name": "张三",
        "sex": "男",
        "ethnicity": "汉族",
        "birth_date": birth.isoformat(),
        "household_address": "北京市东城区景山前街4号",
        "marital_status": "未婚",
    }
    base.update(changes)
    return base


def license_issued(license_id: str, holder_index: str, **changes: object) -> CloudEvent:
    """A birth certificate issued to ``holder_index``, as the license service publishes it."""
    data: dict[str, object] = {
        "license_id": license_id,
        "license_type": "CN-BIRTH-CERT",
        "holder_kind": "citizen",
        "holder_index": holder_index,
        "issuer": "杭州市卫生健康委员会",
        "issued_at": "2026-03-01T08:30:00Z",
        "valid_until": None,
    }
    data.update(changes)
    return CloudEvent(
        type=LicenseIssuedIn.event_type, source="/yiwang/license", data=data, subject=license_id
    )


def window_staff(app: Any, signer: Any, **claims: Any) -> Any:
    """A client of staff member staff-7 at the window, with the token's other ``claims``."""
    return client(
        app, signer, audience="data-exchange", principal_type="staff", subject="staff-7", **claims
    )


async def make_app(backend: Any, verifier: Any, **overrides: Any) -> FastAPI:
    """The service on the test's backend (settings ``overrides`` applied)."""
    settings = await backend.settings(Settings, **overrides)
    return create_app(settings, bus=backend.bus(), verifier=verifier, configure_logs=False)


def county_client(app: Any, signer: Any, subject: str) -> Any:
    """A client of the county system ``subject``."""
    return client(app, signer, audience="data-exchange", principal_type="county", subject=subject)
