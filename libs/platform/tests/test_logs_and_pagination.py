"""JSON log records with masking, and opaque pagination cursors."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, date, datetime

import pytest

from yiwang_platform import tracing
from yiwang_platform.errors import ProblemError
from yiwang_platform.logs import JsonFormatter, MaskingFormatter
from yiwang_platform.pagination import (
    Page,
    decode_cursor,
    decode_id,
    decode_key,
    encode_cursor,
    encode_key,
)

ID_NUMBER = "110101199003071234"


def record(message: str, *args: object, exc_info=None, level: int = logging.WARNING):
    return logging.getLogger("yiwang.test").makeRecord(
        "yiwang.test", level, __file__, 1, message, args, exc_info
    )


# ---- logs ---------------------------------------------------------------------------------


def test_json_formatter_writes_one_json_object() -> None:
    entry_record = record("case %s opened by %s", "c-1", "clerk-7")

    entry = json.loads(JsonFormatter("intake").format(entry_record))

    assert entry == {
        "time": datetime.fromtimestamp(entry_record.created, UTC).isoformat(),
        "level": "WARNING",
        "service": "intake",
        "logger": "yiwang.test",
        "message": "case c-1 opened by clerk-7",
    }


def test_json_formatter_masks_identifiers_in_the_message() -> None:
    output = JsonFormatter("intake").format(
        record("applicant %s called from %s", ID_NUMBER, "13812345678", level=logging.ERROR)
    )

    entry = json.loads(output)
    assert entry["level"] == "ERROR"
    assert entry["message"] == "applicant 110101********4 called from 138****5678"
    assert ID_NUMBER not in output
    assert "13812345678" not in output


def test_json_formatter_masks_identifiers_in_the_exception() -> None:
    try:
        raise ValueError("no such applicant " + ID_NUMBER)
    except ValueError:
        output = JsonFormatter("intake").format(record("lookup failed", exc_info=sys.exc_info()))

    entry = json.loads(output)
    assert entry["message"] == "lookup failed"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].endswith("ValueError: no such applicant 110101********4")
    assert ID_NUMBER not in output


def test_json_formatter_keeps_chinese_text_readable() -> None:
    output = JsonFormatter("intake").format(record("张三提交了申请"))

    assert "张三提交了申请" in output
    assert json.loads(output)["message"] == "张三提交了申请"


def test_json_formatter_adds_the_trace_id_inside_a_span() -> None:
    tracing.configure("test")
    with tracing.tracer("test").start_as_current_span("work") as span:
        output = JsonFormatter("intake").format(record("inside"))

    assert json.loads(output)["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    assert "trace_id" not in json.loads(JsonFormatter("intake").format(record("outside")))


def test_masking_formatter_masks_the_formatted_line() -> None:
    formatter = MaskingFormatter("%(levelname)s %(name)s %(message)s")

    assert formatter.format(record("GET /people/%s", ID_NUMBER)) == (
        "WARNING yiwang.test GET /people/110101********4"
    )


# ---- pagination ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "42",
        "2024-01-15T10:30:00+08:00|c-000123",
        "张三|北京市朝阳区",
        "a",
        "ab",
        "abc",
        "?&=/+ ~",
    ],
)
def test_cursor_round_trip(value: str) -> None:
    cursor = encode_cursor(value)

    assert decode_cursor(cursor) == value
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)


def test_cursor_is_not_the_plain_value() -> None:
    assert encode_cursor("张三|42") != "张三|42"
    assert "42" not in encode_cursor("张三|42")


@pytest.mark.parametrize("cursor", [None, ""])
def test_no_cursor_decodes_to_none(cursor: str | None) -> None:
    assert decode_cursor(cursor) is None


@pytest.mark.parametrize("cursor", ["%%%", "!!!", "a", "abc$", "a b", "__8"])
def test_garbage_cursor_is_a_400_problem(cursor: str) -> None:
    with pytest.raises(ProblemError) as exc:
        decode_cursor(cursor)

    assert exc.value.status == 400
    assert exc.value.code == "invalid_cursor"
    assert exc.value.title == "分页游标无效"
    assert exc.value.title_en == "Invalid cursor"


def test_page_serialises_items_and_next_cursor() -> None:
    page = Page[int](items=[1, 2], next_cursor=encode_cursor("2"))

    assert page.model_dump() == {"items": [1, 2], "next_cursor": "Mg"}
    assert Page[int](items=[]).next_cursor is None


def test_a_typed_key_round_trips() -> None:
    at = datetime(2026, 10, 9, 8, 30, 0, 123456, tzinfo=UTC)
    cursor = encode_key(at, date(2026, 10, 9), 2**63 - 1, "supplement", "id|with|bars")

    assert decode_key(cursor, datetime, date, int, {"case", "supplement"}, str) == (
        at,
        date(2026, 10, 9),
        2**63 - 1,
        "supplement",
        "id|with|bars",
    )
    assert decode_key(None, datetime, str) is None
    assert decode_id(encode_key("c-1")) == "c-1"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("2026-10-09T08:00:00|x", (datetime, str)),  # naive time
        ("2026-10-09T08:00:00+08:00", (datetime, str)),  # too few parts
        ("2026-10-09|x|y", (date, str, str, str)),
        ("yesterday|x", (date, str)),
        ("2026-02-30|x", (date, str)),
        ("9223372036854775808", (int,)),  # past BIGINT
        ("9" * 40, (int,)),
        ("-1", (int,)),
        ("²", (int,)),
        ("１２", (int,)),  # full-width digits
        ("|x", (date, str)),  # empty part
        ("2026-10-09|x", (date, {"case", "subcase"}, str)),
        ("2026-10-09|planet|x", (date, {"case", "subcase"}, str)),
        ("a\x00b", (str,)),
        ("a\x1fb", (str,)),
        ("x" * 300, (str,)),
    ],
)
def test_a_crafted_key_is_a_400_problem(text: str, parts: tuple) -> None:
    with pytest.raises(ProblemError) as exc:
        decode_key(encode_cursor(text), *parts)

    assert (exc.value.status, exc.value.code) == (400, "invalid_cursor")


def test_only_the_last_part_may_hold_the_separator() -> None:
    with pytest.raises(ValueError):
        encode_key("a|b", "c")
