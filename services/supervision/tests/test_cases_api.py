"""Watched cases on both backends: deadlines from CaseSubmitted events and today's card."""

from __future__ import annotations

from datetime import UTC, datetime

from yiwang_platform.testing import client

URL = "/api/v1/supervision/cases"


async def test_cases_show_their_deadline_and_card(app, signer, submit_case):
    overdue = await submit_case(submitted_at="2026-09-30T02:00:00Z", promised_days=1)
    due_today = await submit_case(submitted_at="2026-10-08T02:00:00Z", promised_days=1)
    # Received in the holiday: 10-08 is its first working day, 10-10 (Saturday) its third.
    due_tomorrow = await submit_case(
        submitted_at="2026-10-03T02:00:00Z", promised_days=3, channel="window"
    )
    on_time = await submit_case(submitted_at="2026-10-09T02:00:00Z", promised_days=5)
    real_clock = app.state.runtime.clock
    app.state.runtime.clock = lambda: datetime(2026, 10, 9, 2, tzinfo=UTC)

    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        listed = (await api.get(URL)).json()
        assert listed["next_cursor"] is None
        assert listed["items"][0] == {
            "case_id": overdue["case_id"],
            "matter_code": "11000000000001",
            "matter_name": "出生医学证明签发",
            "department": "市卫生健康委员会",
            "channel": "online",
            "promised_days": 1,
            "submitted_at": "2026-09-30T02:00:00Z",
            "due_date": "2026-10-08",
            "yellow_at": "2026-09-30",
            "status": "open",
            "card": "red",
        }
        assert [
            (c["case_id"], c["due_date"], c["yellow_at"], c["card"]) for c in listed["items"]
        ] == [
            (overdue["case_id"], "2026-10-08", "2026-09-30", "red"),
            (due_today["case_id"], "2026-10-09", "2026-10-08", "yellow"),
            (due_tomorrow["case_id"], "2026-10-10", "2026-10-09", "yellow"),
            (on_time["case_id"], "2026-10-15", "2026-10-14", "green"),
        ]

        for card, cases in (
            ("red", [overdue]),
            ("yellow", [due_today, due_tomorrow]),
            ("green", [on_time]),
        ):
            filtered = (await api.get(URL, params={"card": card})).json()["items"]
            assert [(c["case_id"], c["card"]) for c in filtered] == [
                (case["case_id"], card) for case in cases
            ]

        first = (await api.get(URL, params={"limit": 3})).json()
        second = (await api.get(URL, params={"limit": 3, "cursor": first["next_cursor"]})).json()
        assert [c["case_id"] for c in first["items"] + second["items"]] == [
            overdue["case_id"],
            due_today["case_id"],
            due_tomorrow["case_id"],
            on_time["case_id"],
        ]
        assert second["next_cursor"] is None

        # Without the fixed date, today is real: these October deadlines have all passed.
        app.state.runtime.clock = real_clock
        assert {c["card"] for c in (await api.get(URL)).json()["items"]} == {"red"}


async def test_bad_queries_are_problems_not_500s(app, signer):
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        for cursor in ("%%%", "bm90LWEtZGF0ZQ", "MjAyNi0xMC0wOHw"):  # junk, no date, no id
            response = await api.get(URL, params={"cursor": cursor})
            assert response.status_code == 400
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "invalid_cursor"
        for params in ({"card": "blue"}, {"limit": 0}, {"limit": 201}):
            response = await api.get(URL, params=params)
            assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    async with client(app, None, audience="supervision") as anonymous:
        assert (await anonymous.get(URL)).status_code == 401
    async with client(app, signer, audience="intake") as wrong_audience:
        assert (await wrong_audience.get(URL)).status_code == 401
