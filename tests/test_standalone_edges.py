"""Bad paths through the standalone platform (the gateway faces clients directly):
problem+json answers, never plain text, and no redirect to an internal address."""

from __future__ import annotations

from pathlib import Path

import httpx

from yiwang_standalone.main import build


async def test_bad_paths_get_problem_json_and_no_internal_redirect(tmp_path: Path):
    app, keys = build(tmp_path)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://yiwang",
            headers={"X-Api-Key": keys["citizen"]},
        ) as api,
    ):
        for path, status, code in [
            ("/api/v1/intake/applications/abc%00def", 400, "invalid_path"),
            ("/api/v1/intake/applications/abc%0adef", 400, "invalid_path"),
            ("/api/v1/intake/applications/abc/", 404, "not_found"),
            ("/nowhere", 404, "not_found"),
        ]:
            answer = await api.get(path)
            assert answer.headers["content-type"] == "application/problem+json", path
            assert (answer.status_code, answer.json()["code"]) == (status, code), path
            assert "location" not in answer.headers
