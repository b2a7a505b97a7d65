"""Crafted page cursors on intake's lists answer 400 ``invalid_cursor``, never reach the
database (a NUL byte made PostgreSQL fail with a 500)."""

from __future__ import annotations

from yiwang_platform.pagination import encode_cursor
from yiwang_platform.testing import client

APPLICANT = "110101199003074514"
CRAFTED = {
    # (submitted_at, case id): no zone, no id, a bad time, control bytes, one part.
    "/api/v1/intake/applications": [
        "2026-10-09T08:00:00|c-1",
        "2026-10-09T08:00:00Z|",
        "yesterday|c-1",
        "2026-10-09T08:00:00Z|a\x00b",
        "2026-10-09T08:00:00Z",
    ],
    "/api/v1/intake/cases": ["a\x00b", "c\x7f", "x" * 300],
    "/api/v1/intake/subcases": ["a\x00b", "\x1f"],
}
CALLERS = {
    "/api/v1/intake/applications": {"principal_type": "citizen", "subject": APPLICANT},
    "/api/v1/intake/cases": {"principal_type": "staff", "roles": ["window"]},
    "/api/v1/intake/subcases": {
        "principal_type": "staff",
        "roles": ["reviewer"],
        "dept": "市公安局",
    },
}


async def test_crafted_cursors_are_400_on_every_list(app, signer):
    for url, texts in CRAFTED.items():
        async with client(app, signer, audience="intake", **CALLERS[url]) as api:
            for text in [*texts, "%%%"]:
                cursor = text if text == "%%%" else encode_cursor(text)
                response = await api.get(url, params={"cursor": cursor})
                assert response.headers["content-type"] == "application/problem+json", (url, text)
                assert (response.status_code, response.json()["code"]) == (
                    400,
                    "invalid_cursor",
                ), (url, text)
