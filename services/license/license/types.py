"""The license types (证照类型) the service issues from approved cases: their Chinese
name, who holds them, the fields they carry and how long they are valid.

Field names are the keys intake puts in ``fields_encrypted``; an approved case whose
fields miss a required one, or carry one the type does not know, is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from license.schemas import HolderKind


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    required: bool = True


@dataclass(frozen=True)
class LicenseType:
    code: str
    name: str
    holder_kind: HolderKind
    fields: tuple[FieldSpec, ...]
    # None: long-term (长期有效).
    validity_years: int | None = None

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def field_names(self) -> set[str]:
        return {f.name for f in self.fields}

    def problems(self, fields: Mapping[str, object]) -> list[str]:
        """Why ``fields`` do not fit this type (empty when they do). Names only, never values."""
        out: list[str] = []
        missing = [n for n in self.required if not _present(fields.get(n))]
        if missing:
            out.append(f"missing required fields: {', '.join(missing)}")
        unknown = sorted(set(fields) - self.field_names)
        if unknown:
            out.append(f"unknown fields: {', '.join(unknown)}")
        not_text = sorted(n for n, v in fields.items() if not isinstance(v, str))
        if not_text:
            out.append(f"fields must be strings: {', '.join(not_text)}")
        too_long = sorted(n for n, v in fields.items() if isinstance(v, str) and len(v) > 500)
        if too_long:
            out.append(f"fields longer than 500 characters: {', '.join(too_long)}")
        return out

    def valid_until(self, issued_at: datetime) -> datetime | None:
        if self.validity_years is None:
            return None
        try:
            return issued_at.replace(year=issued_at.year + self.validity_years)
        except ValueError:  # issued on 29 February
            return issued_at.replace(year=issued_at.year + self.validity_years, day=28)


def _present(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


TYPES: dict[str, LicenseType] = {
    t.code: t
    for t in (
        LicenseType(
            code="birth-medical-certificate",
            name="出生医学证明",
            holder_kind="citizen",
            fields=(
                FieldSpec("certificate_number", "出生医学证明编号"),
                FieldSpec("newborn_name", "新生儿姓名"),
                FieldSpec("sex", "性别"),
                FieldSpec("birth_time", "出生时间"),
                FieldSpec("birth_place", "出生地点"),
                FieldSpec("mother_name", "母亲姓名"),
                FieldSpec("father_name", "父亲姓名", required=False),
                FieldSpec("institution", "接生机构", required=False),
            ),
        ),
        LicenseType(
            code="household-register",
            name="居民户口簿",
            holder_kind="citizen",
            fields=(
                FieldSpec("household_number", "户号"),
                FieldSpec("householder_name", "户主姓名"),
                FieldSpec("name", "姓名"),
                FieldSpec("relation_to_householder", "与户主关系"),
                FieldSpec("address", "住址"),
                FieldSpec("registration_authority", "登记机关"),
                FieldSpec("sex", "性别", required=False),
                FieldSpec("ethnicity", "民族", required=False),
                FieldSpec("birth_date", "出生日期", required=False),
            ),
        ),
        LicenseType(
            code="social-security-card",
            name="社会保障卡",
            holder_kind="citizen",
            fields=(
                FieldSpec("card_number", "卡号"),
                FieldSpec("name", "姓名"),
                FieldSpec("issuing_region", "发卡地区"),
                FieldSpec("issue_date", "发卡日期"),
                FieldSpec("bank", "开户银行", required=False),
            ),
            validity_years=10,
        ),
        LicenseType(
            code="business-license",
            name="营业执照",
            holder_kind="enterprise",
            fields=(
                FieldSpec("company_name", "名称"),
                FieldSpec("company_type", "类型"),
                FieldSpec("legal_representative", "法定代表人"),
                FieldSpec("registered_capital", "注册资本"),
                FieldSpec("established_on", "成立日期"),
                FieldSpec("address", "住所"),
                FieldSpec("business_scope", "经营范围"),
                FieldSpec("business_term", "营业期限", required=False),
            ),
        ),
    )
}


def lookup(code: str) -> LicenseType | None:
    return TYPES.get(code)
