"""JSON log records with masking, and opaque pagination cursors."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

import pytest

from yiwang_platform import tracing
from yiwang_platform.errors import ProblemError
from yiwang_platform.logs import JsonFormatter, MaskingFormatter
from yiwang_platform.pagination import Page, decode_cursor, encode_cursor

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
