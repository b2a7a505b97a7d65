"""Crafted page cursors on the license lists answer 400 ``invalid_cursor``."""

from __future__ import annotations

from yiwang_platform.pagination import encode_cursor
from yiwang_platform.testing import client


async def test_crafted_wallet_and_list_cursors_are_400(app, signer, samples):
    crafted = [
        "2026-01-01T00:00:00|x",  # no zone
        "2026-01-01T00:00:00Z|a\x00b",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z|",
        "99999-01-01T00:00:00Z|x",
    ]
    async with (
        client(
            app, signer, audience="license", principal_type="citizen", subject=samples.citizen
        ) as me,
        client(app, signer, audience="license", principal_type="staff") as staff,
    ):
        for api, url in ((me, "/api/v1/license/wallet"), (staff, "/api/v1/license/licenses")):
            for text in crafted:
                response = await api.get(url, params={"cursor": encode_cursor(text)})
                assert (response.status_code, response.json()["code"]) == (
                    400,
                    "invalid_cursor",
                ), (url, text)
