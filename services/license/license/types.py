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


def _type(
    code: str,
    name: str,
    *,
    holder_kind: HolderKind,
    required: dict[str, str],
    optional: dict[str, str],
    validity_years: int | None = None,
) -> LicenseType:
    """A type whose fields are its required ones, then its optional ones (name: label)."""
    fields = [FieldSpec(n, label) for n, label in required.items()]
    fields += [FieldSpec(n, label, required=False) for n, label in optional.items()]
    return LicenseType(code, name, holder_kind, tuple(fields), validity_years)


TYPES: dict[str, LicenseType] = {
    t.code: t
    for t in (
        _type(
            "birth-medical-certificate",
            "出生医学证明",
            holder_kind="citizen",
            required={
                "certificate_number": "出生医学证明编号",
                "newborn_name": "新生儿姓名",
                "sex": "性别",
                "birth_time": "出生时间",
                "birth_place": "出生地点",
                "mother_name": "母亲姓名",
            },
            optional={"father_name": "父亲姓名", "institution": "接生机构"},
        ),
        _type(
            "household-register",
            "居民户口簿",
            holder_kind="citizen",
            required={
                "household_number": "户号",
                "householder_name": "户主姓名",
                "name": "姓名",
                "relation_to_householder": "与户主关系",
                "address": "住址",
                "registration_authority": "登记机关",
            },
            optional={"sex": "性别", "ethnicity": "民族", "birth_date": "出生日期"},
        ),
        _type(
            "social-security-card",
            "社会保障卡",
            holder_kind="citizen",
            required={
                "card_number": "卡号",
                "name": "姓名",
                "issuing_region": "发卡地区",
                "issue_date": "发卡日期",
            },
            optional={"bank": "开户银行"},
            validity_years=10,
        ),
        _type(
            "business-license",
            "营业执照",
            holder_kind="enterprise",
            required={
                "company_name": "名称",
                "company_type": "类型",
                "legal_representative": "法定代表人",
                "registered_capital": "注册资本",
                "established_on": "成立日期",
                "address": "住所",
                "business_scope": "经营范围",
            },
            optional={"business_term": "营业期限"},
        ),
    )
}


def lookup(code: str) -> LicenseType | None:
    return TYPES.get(code)
