"""Holders' identifiers: resident ID numbers (GB 11643) and unified social credit
codes (GB 32100), checked with python-stdnum and never shown in full."""

from __future__ import annotations

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from license.schemas import HolderKind
from yiwang_platform.errors import ProblemError


def normalise_holder_id(kind: HolderKind, value: str) -> str:
    """The identifier in its compact form; a 422 ``holder_id_invalid`` when it is not valid."""
    try:
        return ric.validate(value) if kind == "citizen" else uscc.validate(value)
    except (ValidationError, KeyError) as exc:
        expected = "公民身份号码" if kind == "citizen" else "统一社会信用代码"
        raise ProblemError(
            422,
            "holder_id_invalid",
            "持证主体证件号码无效",
            # The number itself stays out of the detail.
            detail=f"holder_id is not a valid {expected}: {type(exc).__name__}",
            title_en="Invalid holder identifier",
        ) from exc


def mask_identifier(value: str) -> str:
    return f"{value[:6]}********{value[-1:]}"
