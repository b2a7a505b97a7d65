"""Masking of personal identifiers in anything that leaves a service as text (logs, reasons)."""

from __future__ import annotations

import re

# 18-character resident ID numbers (GB 11643), 18-character credit codes (GB 32100)
# and mainland mobile numbers.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_CREDIT_CODE = re.compile(
    r"(?<![0-9A-Z])([0-9A-HJ-NPQRTUWXY]{2}\d{6})[0-9A-HJ-NPQRTUWXY]{9}(?=[0-9A-HJ-NPQRTUWXY](?![0-9A-Z]))"
)
_PHONE = re.compile(r"(?:(?<=\+86)|(?<!\d))(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)[-1]}", text)
    text = _CREDIT_CODE.sub(lambda m: f"{m.group(1)}*********", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
