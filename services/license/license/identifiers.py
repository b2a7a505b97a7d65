"""Holders' identifiers: resident ID numbers (GB 11643) and unified social credit
codes (GB 32100), checked with python-stdnum and never shown in full."""

from __future__ import annotations

from license.schemas import HolderKind
from yiwang_platform.errors import ProblemError
from yiwang_platform.identifiers import InvalidIdentifier, credit_code, resident_id


def normalise_holder_id(kind: HolderKind, value: str) -> str:
    """The identifier in its compact form; a 422 ``holder_id_invalid`` when it is not valid."""
    try:
        return resident_id(value) if kind == "citizen" else credit_code(value)
    except InvalidIdentifier as exc:
        expected = "公民身份号码" if kind == "citizen" else "统一社会信用代码"
        raise ProblemError(
            422,
            "holder_id_invalid",
            "持证主体证件号码无效",
            # The number itself stays out of the detail.
            detail=f"holder_id is not a valid {expected}: {exc.reason}",
            title_en="Invalid holder identifier",
        ) from exc


def mask_identifier(value: str) -> str:
    return f"{value[:6]}********{value[-1:]}"
