"""masking.mask: identifiers are masked, ordinary numbers are left alone."""

from __future__ import annotations

import pytest

from yiwang_platform.masking import mask

ID_NUMBER = "110101199003071234"
ID_NUMBER_X = "11010519491231002X"
CREDIT_CODE = "91350100M000100Y43"
MOBILE = "13812345678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ID_NUMBER, "110101********4"),
        (f"身份证号{ID_NUMBER}已核验", "身份证号110101********4已核验"),
        (f"id_number={ID_NUMBER}&page=2", "id_number=110101********4&page=2"),
        (ID_NUMBER_X, "110105********X"),
        ("11010519491231002x", "110105********x"),
        (f"申请人 {ID_NUMBER_X} 提交", "申请人 110105********X 提交"),
    ],
)
def test_id_numbers_are_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CREDIT_CODE, "91350100*********3"),
        ("统一社会信用代码91110000MA01ABCD2X。", "统一社会信用代码91110000*********X。"),
    ],
)
def test_credit_codes_are_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MOBILE, "138****5678"),
        (f"联系电话:{MOBILE}", "联系电话:138****5678"),
        ("call 19912345678 now", "call 199****5678 now"),
        ("tel 15000000000, 17712345678", "tel 150****0000, 177****5678"),
    ],
)
def test_mobile_numbers_are_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_several_identifiers_in_one_text_are_all_masked() -> None:
    text = f"{ID_NUMBER} / {CREDIT_CODE} / {MOBILE}"

    masked = mask(text)

    assert masked == "110101********4 / 91350100*********3 / 138****5678"
    for raw in (ID_NUMBER, CREDIT_CODE, MOBILE):
        assert raw not in masked


@pytest.mark.parametrize(
    "text",
    [
        "order 20240115000123",  # 14-digit order id
        "ORD-2024011500012345",  # 16-digit order id
        "12345678901234567",  # 17 digits
        "1234567890123456789",  # 19 digits
        "12345678901",  # 11 digits, not a mobile prefix
        "10086100861",  # 11 digits starting with 10
        "138123456789",  # 12 digits starting like a mobile
        "2024-01-15",
        "20240115",
        "2024-01-15T10:30:00+08:00",
        "amount 1380.00, page 13",
        "",
    ],
)
def test_ordinary_numbers_are_not_masked(text: str) -> None:
    assert mask(text) == text


def test_mobile_number_with_country_code_is_masked() -> None:
    assert mask("+8613812345678") == "+86138****5678"
