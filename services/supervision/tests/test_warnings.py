"""Red and yellow cards (红黄牌) on both backends, on chosen days around the 2026 National
Day holiday (10-01..10-07) and the adjusted working Saturday 10-10: thresholds, 补正
stopping the clock, resumption moving deadlines, and bad-review handling items."""

from __future__ import annotations

import base64

from yiwang_platform.testing import client

URL = "/api/v1/supervision/warnings"
SUMMARY = URL + "/summary"
HANDLINGS = "/api/v1/supervision/review-handlings"
HEALTH = "市卫生健康委员会"
POLICE = "市公安局"
CITIZEN = "110101199003074514"


def _cards(listed: dict) -> list[tuple[str, str, int, str]]:
    return [(w["kind"], w["id"], w["remaining_working_days"], w["level"]) for w in listed["items"]]


async def _accepted_case(case_events, due: str, department: str = HEALTH) -> str:
    case = await case_events.submitted(department=department)
    await case_events.accepted(case["case_id"], "2026-09-28T02:00:00Z", due, [])
    return case["case_id"]


async def test_yellow_at_the_threshold_and_red_when_overdue_over_national_day(
    app, signer, case_events, on_day
):
    a = await _accepted_case(case_events, "2026-09-30")
    b = await _accepted_case(case_events, "2026-10-08")
    c = await _accepted_case(case_events, "2026-10-10", POLICE)  # the working Saturday
    d = await _accepted_case(case_events, "2026-10-12", POLICE)
    await case_events.settle()

    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:

        async def cards(day: str, **params: str) -> list[tuple[str, str, int, str]]:
            on_day(day)
            response = await api.get(URL, params=params)
            assert response.status_code == 200
            return _cards(response.json())

        assert await cards("2026-09-28") == []
        assert await cards("2026-09-29") == [("case", a, 1, "yellow")]
        # Over the holiday 10-08 is the next working day: one left for b.
        assert await cards("2026-09-30") == [("case", a, 0, "yellow"), ("case", b, 1, "yellow")]
        assert await cards("2026-10-05") == [("case", a, 0, "red"), ("case", b, 1, "yellow")]
        # The working Saturday counts: c has one day left on Friday, d still two.
        assert await cards("2026-10-09") == [
            ("case", a, -2, "red"),
            ("case", b, -1, "red"),
            ("case", c, 1, "yellow"),
        ]
        assert await cards("2026-10-09", level="red") == [
            ("case", a, -2, "red"),
            ("case", b, -1, "red"),
        ]
        assert await cards("2026-10-09", level="yellow") == [("case", c, 1, "yellow")]
        assert await cards("2026-10-09", department=POLICE) == [("case", c, 1, "yellow")]
        assert await cards("2026-10-09", department="市民政局") == []

        on_day("2026-10-09")
        first = (await api.get(URL)).json()["items"][0]
        assert first == {
            "kind": "case",
            "id": a,
            "case_id": a,
            "subcase_id": None,
            "department": HEALTH,
            "matter_code": "11000000000001",
            "matter_name": "出生医学证明签发",
            "due_date": "2026-09-30",
            "remaining_working_days": -2,
            "level": "red",
        }
        assert (await api.get(SUMMARY)).json() == {
            "today": "2026-10-09",
            "yellow": 1,
            "red": 2,
            "departments": [
                {"department": POLICE, "yellow": 1, "red": 0},
                {"department": HEALTH, "yellow": 0, "red": 2},
            ],
        }

        # A threshold of two working days: d turns yellow on Friday.
        app.state.runtime.settings.yellow_working_days = 2
        assert await cards("2026-10-09", level="yellow") == [
            ("case", c, 1, "yellow"),
            ("case", d, 2, "yellow"),
        ]
        seen, cursor = [], None
        while True:
            params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
            page = (await api.get(URL, params=params)).json()
            seen += [w["id"] for w in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [a, b, c, d]


async def test_suspension_stops_warnings_and_resumption_moves_the_deadline(
    app, signer, case_events, on_day
):
    case = await case_events.submitted()
    case_id = case["case_id"]
    sub, waiting = f"{case_id[:8]}-1", f"{case_id[:8]}-2"
    await case_events.accepted(
        case_id,
        "2026-09-28T02:00:00Z",
        "2026-10-09",
        [
            case_events.subcase(sub, POLICE, "2026-10-09"),
            case_events.subcase(waiting, HEALTH, None, depends_on=[sub]),
        ],
    )
    await case_events.settle()

    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:

        async def cards(day: str) -> list[tuple[str, str, int, str]]:
            on_day(day)
            return _cards((await api.get(URL)).json())

        # The waiting sub-case has no deadline yet, so no card.
        assert await cards("2026-10-08") == [
            ("case", case_id, 1, "yellow"),
            ("subcase", sub, 1, "yellow"),
        ]

        await case_events.suspended(case_id, "2026-10-08T02:00:00Z", "缺少材料", ["户口簿"])
        await case_events.settle()
        assert await cards("2026-10-08") == []
        assert await cards("2026-10-13") == []  # would be red with the clock running
        on_day("2026-10-12")
        timeline = (await api.get(f"/api/v1/supervision/cases/{case_id}/timeline")).json()
        assert timeline["status"] == "suspended"
        assert timeline["deadline"] == {
            "due_date": "2026-10-09",
            "remaining_working_days": None,
            "level": "none",
        }
        assert [s["status"] for s in timeline["subcases"]] == ["suspended", "waiting"]
        assert (await api.get(SUMMARY)).json()["departments"] == []

        # Two working days suspended: the case's deadline comes with the event, the
        # sub-case's moves by two working days (10-09 -> the working Saturday, 10-12).
        await case_events.resumed(case_id, "2026-10-12T01:00:00Z", 2, "2026-10-13")
        await case_events.settle()
        assert await cards("2026-10-12") == [
            ("subcase", sub, 0, "yellow"),
            ("case", case_id, 1, "yellow"),
        ]
        assert await cards("2026-10-13") == [
            ("subcase", sub, -1, "red"),
            ("case", case_id, 0, "yellow"),
        ]

        await case_events.decided(case_id, sub, POLICE, "2026-10-13T02:00:00Z")
        await case_events.settle()
        assert await cards("2026-10-13") == [("case", case_id, 0, "yellow")]
        await case_events.refused(case_id, "2026-10-13T03:00:00Z", "申请人撤回")
        await case_events.settle()
        assert await cards("2026-10-20") == []


async def test_a_bad_review_opens_a_handling_item_that_turns_red_when_late(
    app, signer, case_events, on_day
):
    case = await case_events.completed_case(applicant=CITIZEN)
    case_id = case["case_id"]
    on_day("2026-09-30")
    async with client(
        app, signer, audience="supervision", subject=CITIZEN, principal_type="citizen"
    ) as api:
        bad = await api.post("/api/v1/supervision/reviews", json={"case_id": case_id, "rating": 1})
        good = await api.post(
            "/api/v1/supervision/reviews",
            json={"case_id": case_id, "rating": 3, "channel": "window"},
        )
        assert (bad.status_code, good.status_code) == (201, 201)
        assert (await api.get(HANDLINGS)).status_code == 403

    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        on_day("2026-10-12")
        listed = (await api.get(HANDLINGS, params={"status": "open"})).json()
        assert listed["next_cursor"] is None
        [handling] = listed["items"]
        # Five working days from 09-30: 10-08, 10-09, the working Saturday 10-10, 10-12, 10-13.
        assert handling == {
            "id": handling["id"],
            "review_id": bad.json()["id"],
            "case_id": case_id,
            "matter_code": "11000000000001",
            "matter_name": "出生医学证明签发",
            "department": HEALTH,
            "rating": 1,
            "rating_label": "非常不满意",
            "opened_at": "2026-09-30T02:00:00Z",
            "due_date": "2026-10-13",
            "status": "open",
            "remaining_working_days": 1,
            "level": "yellow",
            "resolution_note": None,
            "resolved_by": None,
            "resolved_at": None,
        }
        assert _cards((await api.get(URL)).json()) == [
            ("review_handling", handling["id"], 1, "yellow")
        ]
        on_day("2026-10-14")
        assert _cards((await api.get(URL, params={"level": "red"})).json()) == [
            ("review_handling", handling["id"], -1, "red")
        ]
        assert (await api.get(SUMMARY)).json()["departments"] == [
            {"department": HEALTH, "yellow": 0, "red": 1}
        ]
        assert (await api.get(HANDLINGS, params={"status": "closed"})).json()["items"] == []

    resolution = f"{HANDLINGS}/{handling['id']}/resolution"
    note = {"note": "已电话回访申请人并优化叫号流程"}
    async with client(
        app,
        signer,
        audience="supervision",
        subject="staff-police",
        principal_type="staff",
        dept=POLICE,
    ) as api:
        assert (await api.get(HANDLINGS)).json()["items"] == []
        response = await api.get(HANDLINGS, params={"department": HEALTH})
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
        response = await api.post(resolution, json=note)
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    async with client(app, signer, audience="supervision", principal_type="staff") as api:
        assert (await api.get(HANDLINGS)).status_code == 403  # staff without a department
        assert (await api.post(resolution, json=note)).status_code == 403
    async with client(
        app,
        signer,
        audience="supervision",
        subject="staff-health",
        principal_type="staff",
        dept=HEALTH,
    ) as api:
        assert [h["id"] for h in (await api.get(HANDLINGS)).json()["items"]] == [handling["id"]]
        for body in ({}, {"note": ""}, {"note": "x" * 1001}, {**note, "extra": 1}):
            response = await api.post(resolution, json=body)
            assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
        response = await api.post(f"{HANDLINGS}/nope/resolution", json=note)
        assert (response.status_code, response.json()["code"]) == (404, "handling_not_found")
        closed = await api.post(resolution, json=note)
        assert closed.status_code == 200
        assert {k: closed.json()[k] for k in ("status", "level", "remaining_working_days")} == {
            "status": "closed",
            "level": "none",
            "remaining_working_days": None,
        }
        assert closed.json()["resolution_note"] == note["note"]
        assert closed.json()["resolved_by"] == "staff-health"
        assert closed.json()["resolved_at"] == "2026-10-14T02:00:00Z"
        again = await api.post(resolution, json=note)
        assert (again.status_code, again.json()["code"]) == (409, "handling_closed")

    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        assert (await api.get(URL)).json()["items"] == []
        closed_items = (await api.get(HANDLINGS, params={"status": "closed"})).json()["items"]
        assert [h["id"] for h in closed_items] == [handling["id"]]


async def test_supervisors_resolve_any_handling_item(app, signer, case_events, on_day):
    case = await case_events.completed_case(applicant=CITIZEN)
    on_day("2026-10-08")
    async with client(
        app, signer, audience="supervision", subject=CITIZEN, principal_type="citizen"
    ) as api:
        body = {"case_id": case["case_id"], "rating": 2}
        assert (await api.post("/api/v1/supervision/reviews", json=body)).status_code == 201
    async with client(app, signer, audience="supervision", principal_type="operator") as api:
        [handling] = (await api.get(HANDLINGS)).json()["items"]
        assert handling["due_date"] == "2026-10-14"  # 10-09, 10-10 (Saturday), 10-12..14
        resolution = f"{HANDLINGS}/{handling['id']}/resolution"
        response = await api.post(resolution, json={"note": "已整改"})
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        response = await api.post(resolution, json={"note": "已督办整改"})
        assert (response.status_code, response.json()["status"]) == (200, "closed")


async def test_bad_warning_queries_are_problems_not_500s(app, signer):
    def cursor(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        for params, status, code in (
            ({"level": "blue"}, 422, "validation_failed"),
            ({"limit": 0}, 422, "validation_failed"),
            ({"limit": 201}, 422, "validation_failed"),
            ({"department": ""}, 422, "validation_failed"),
            ({"cursor": "%%%"}, 400, "invalid_cursor"),
            ({"cursor": cursor("2026-10-09|planet|x")}, 400, "invalid_cursor"),
            ({"cursor": cursor("yesterday|case|x")}, 400, "invalid_cursor"),
            ({"cursor": cursor("2026-10-09|case")}, 400, "invalid_cursor"),
        ):
            response = await api.get(URL, params=params)
            assert response.headers["content-type"] == "application/problem+json"
            assert (response.status_code, response.json()["code"]) == (status, code)
        for params, status, code in (
            ({"status": "pending"}, 422, "validation_failed"),
            ({"cursor": cursor("2026-10-09")}, 400, "invalid_cursor"),
        ):
            response = await api.get(HANDLINGS, params=params)
            assert (response.status_code, response.json()["code"]) == (status, code)
    async with client(app, signer, audience="supervision", principal_type="citizen") as api:
        for url in (URL, SUMMARY):
            response = await api.get(url)
            assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    async with client(app, None, audience="supervision") as anonymous:
        for url in (URL, SUMMARY, HANDLINGS):
            assert (await anonymous.get(url)).status_code == 401


async def test_a_page_ending_on_a_supplement_card_leads_to_the_next_page(
    app, signer, case_events, on_day
):
    # 容缺: the materials owed by 12-04 give a supplement card before the case's own.
    case = await case_events.submitted(submitted_at="2026-11-30T01:00:00Z", promised_days=10)
    case_id = case["case_id"]
    await case_events.accepted(
        case_id,
        "2026-11-30T02:00:00Z",
        "2026-12-07",
        [],
        mode="deficiency",
        supplement_due="2026-12-04",
        missing_materials=["PHOTO"],
    )
    await case_events.settle()
    on_day("2026-12-07")

    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        first = await api.get(URL, params={"limit": "1"})
        assert [w["kind"] for w in first.json()["items"]] == ["supplement"]
        second = await api.get(URL, params={"limit": "1", "cursor": first.json()["next_cursor"]})
        assert second.status_code == 200
        assert [(w["kind"], w["id"]) for w in second.json()["items"]] == [("case", case_id)]


async def test_crafted_cursors_are_400_on_every_supervision_list(app, signer):
    def cursor(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    crafted = {
        URL: ["2026-10-09|case", "2026-10-09T00:00:00|case|x", "2026-10-09|case|a\x00b"],
        HANDLINGS: ["2026-10-09", "2026-10-09|", "9" * 30 + "|x"],
        "/api/v1/supervision/cases": ["|x", "2026-13-01|x", "2026-10-09"],
        "/api/v1/supervision/reviews": ["2026-10-09T08:00:00|r", "2026-10-09T08:00:00Z", "zz|r"],
    }
    async with client(app, signer, audience="supervision", principal_type="supervisor") as api:
        for url, texts in crafted.items():
            for text in [*texts, "not base64!"]:
                value = text if text == "not base64!" else cursor(text)
                response = await api.get(url, params={"cursor": value})
                assert response.headers["content-type"] == "application/problem+json", (url, text)
                assert (response.status_code, response.json()["code"]) == (400, "invalid_cursor")
