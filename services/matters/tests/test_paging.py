"""Crafted page cursors on the catalogue lists answer 400 ``invalid_cursor`` (a NUL byte
reached PostgreSQL and failed with a 500)."""

from __future__ import annotations

from yiwang_platform.pagination import encode_cursor
from yiwang_platform.testing import client, running


async def test_crafted_catalogue_cursors_are_400(matters_app, signer):
    app = await matters_app(seed=False)
    async with (
        running(app),
        client(app, signer, audience="matters", principal_type="citizen") as api,
    ):
        for url in ("/api/v1/matters/matters", "/api/v1/matters/bundles"):
            for text in ("a\x00b", "\x01", "x" * 300):
                response = await api.get(url, params={"cursor": encode_cursor(text)})
                assert (response.status_code, response.json()["code"]) == (
                    400,
                    "invalid_cursor",
                ), (url, text)
