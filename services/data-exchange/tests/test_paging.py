"""Crafted page cursors on the data-exchange lists answer 400 ``invalid_cursor`` on both
backends, never a 500 from the database."""

from __future__ import annotations

import base64

from yiwang_platform.testing import client, running

from .factories import make_app

HOLDER = "a" * 64


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_crafted_cursors_are_400_on_every_list(backend, signer, verifier):
    app = await make_app(backend, verifier)
    crafted = {
        # A time without a zone reached the aware column and the database refused it.
        ("staff", "/api/v1/data-exchange/licenses"): [
            "2026-01-05T00:00:00|lic-1",
            "2026-01-05T00:00:00+08:00",
            "garbage|lic-1",
            "2026-01-05T00:00:00Z|a\x00b",
        ],
        ("staff", "/api/v1/data-exchange/population/records"): ["a\x00b", "r\x1f"],
        ("citizen", "/api/v1/data-exchange/access-log/mine"): ["9" * 30, "²", "-1", "12|3"],
    }
    async with running(app):
        for (ptype, url), texts in crafted.items():
            params = {"holder_index": HOLDER} if "licenses" in url else {}
            async with client(
                app,
                signer,
                audience="data-exchange",
                principal_type=ptype,
                subject="110101199003074514",
            ) as api:
                for text in texts:
                    response = await api.get(url, params={**params, "cursor": cursor(text)})
                    assert response.headers["content-type"] == "application/problem+json", text
                    assert (response.status_code, response.json()["code"]) == (
                        400,
                        "invalid_cursor",
                    ), (url, text)
