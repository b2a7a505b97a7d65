"""Publishing versions of matters and bundles (one event each, new elements included),
search ranking in Chinese, and bad input answered with problems, never a 500."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from matters.models import outbox
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import client, running

HAIRDRESSING = {
    "code": "0103101000",
    "main_item_code": "0103100000",
    "main_item_name": "美容美发场所备案",
    "name": "美容美发场所卫生备案",
    "kind": "行政许可",
    "department": "市卫生健康委员会",
    "department_credit_code": "11330100002481012L",
    "service_object": "法人",
    "description": "美容美发场所开业前向卫生健康部门备案。",
    "keywords": ["发廊", "美发店备案"],
    "legal_basis": ["《公共场所卫生管理条例》第八条"],
    "conditions": ["已领取营业执照"],
    "materials": [
        {
            "code": "BUSINESS-LICENSE",
            "name": "营业执照",
            "form": "原件",
            "key": True,
            "license_type": "business-license",
        },
        {
            "code": "FLOOR-PLAN",
            "name": "场所平面图",
            "form": "电子",
            "key": False,
            "license_type": None,
        },
    ],
    "situations": [
        {
            "code": "CHAIN",
            "name": "连锁门店",
            "materials": [
                {
                    "code": "CHAIN-PROOF",
                    "name": "连锁经营证明",
                    "form": "复印件",
                    "key": False,
                    "license_type": None,
                }
            ],
        }
    ],
    "legal_days": 20,
    "promised_days": 5,
    "fees": [],
    "online_depth": "全程网办",
    "visits": 0,
    "cross_province": False,
    "commitment_allowed": True,
    "license_type": None,
}

SHOP = {
    "code": "SALON-OPENING",
    "name": "美发店开业一件事",
    "department": "市政务服务管理局",
    "scenario": "company-opening",
    "keywords": ["开发廊"],
    "members": [{"matter": "0103101000", "depends_on": []}],
    "form": [{"name": "shop_name", "label": "门店名称", "required": True}],
    "flow": [{"name": "备案", "matters": ["0103101000"]}],
    "instructions": "一次申请。",
    "guide": {
        "base": ["0103101000"],
        "questions": [
            {
                "id": "chain",
                "text": "是否连锁经营？",
                "kind": "boolean",
                "options": [
                    {
                        "value": True,
                        "label": "是",
                        "situations": [{"matter": "0103101000", "situation": "CHAIN"}],
                    },
                    {"value": False, "label": "否"},
                ],
            }
        ],
    },
}


@pytest.mark.parametrize(
    ("query", "top_code"),
    [
        ("孩子出生要办什么", "BIRTH"),
        ("我要开公司", "COMPANY-OPENING"),
        ("开理发店", "COMPANY-OPENING"),
        ("社保卡怎么办", "2000401001"),
        ("二手房过户", "0701401002"),
    ],
)
async def test_search_ranks_the_intended_result_first(matters_app, signer, query, top_code):
    app = await matters_app()
    async with (
        running(app),
        client(app, signer, audience="matters", principal_type="citizen") as api,
    ):
        response = await api.get("/api/v1/matters/search", params={"q": query})
        assert response.status_code == 200
        items = response.json()["items"]
    assert items[0]["code"] == top_code
    assert items[0]["kind"] == ("bundle" if top_code.isalpha() or "-" in top_code else "matter")
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)


async def test_search_without_meaningful_words_finds_nothing_and_bad_queries_are_422(
    matters_app, signer
):
    app = await matters_app()
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        nothing = await api.get("/api/v1/matters/search", params={"q": "我要办什么？"})
        assert (nothing.status_code, nothing.json()["items"]) == (200, [])
        for params in ({}, {"q": ""}, {"q": "出生", "limit": 0}, {"q": "长" * 101}):
            bad = await api.get("/api/v1/matters/search", params=params)
            assert (bad.status_code, bad.json()["code"]) == (422, "validation_failed"), params


async def test_each_publish_is_a_version_and_one_event_with_every_element(
    matters_app, signer, read_topic
):
    app = await matters_app(seed=False)
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        assert (await api.get("/api/v1/matters/search", params={"q": "发廊"})).json()["items"] == []
        first = await api.post("/api/v1/matters/matters", json=HAIRDRESSING)
        second = await api.post("/api/v1/matters/matters", json={**HAIRDRESSING, "visits": 1})
        assert (first.status_code, second.status_code) == (201, 201), first.text
        assert (first.json()["version"], second.json()["version"]) == (1, 2)
        read = (await api.get("/api/v1/matters/matters/0103101000")).json()
        assert {k: read[k] for k in HAIRDRESSING} == {**HAIRDRESSING, "visits": 1}
        old = (await api.get("/api/v1/matters/matters/0103101000", params={"version": 1})).json()
        assert (old["version"], old["visits"]) == (1, 0)
        by_main_item = (
            await api.get("/api/v1/matters/matters", params={"main_item": "0103100000"})
        ).json()
        assert [m["code"] for m in by_main_item["items"]] == ["0103101000"]

        # The index follows publishing: the new matter is found by its keyword.
        found = (await api.get("/api/v1/matters/search", params={"q": "发廊"})).json()["items"]
        assert [(i["kind"], i["code"], i["version"]) for i in found] == [
            ("matter", "0103101000", 2)
        ]

        bundle_one = await api.post("/api/v1/matters/bundles", json=SHOP)
        assert bundle_one.status_code == 201, bundle_one.text
        bundle_two = await api.post(
            "/api/v1/matters/bundles", json={**SHOP, "instructions": "一次申请，当日办结。"}
        )
        assert bundle_two.json()["version"] == 2
        assert bundle_two.json()["members"] == [
            {"matter": "0103101000", "depends_on": [], "name": "美容美发场所卫生备案", "version": 2}
        ]
        guided = (
            await api.post(
                "/api/v1/matters/bundles/SALON-OPENING/guide", json={"answers": {"chain": True}}
            )
        ).json()
        assert guided["bundle_version"] == 2
        assert [m["code"] for m in guided["materials"]] == [
            "BUSINESS-LICENSE",
            "FLOOR-PLAN",
            "CHAIN-PROOF",
        ]
        found = (await api.get("/api/v1/matters/search", params={"q": "开发廊"})).json()["items"]
        assert found[0]["code"] == "SALON-OPENING"

        async with app.state.runtime.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(outbox)) == 4

    messages = await read_topic("matters.matter.v1", 4)
    events = [CloudEvent.from_message(m.headers, m.value) for m in messages]
    # Kafka keeps order per key (partition), not across keys: compare each key's sequence.
    by_key: dict[bytes, list[tuple[str, int]]] = {}
    for e, m in zip(events, messages, strict=True):
        by_key.setdefault(m.key, []).append((e.type, e.data["version"]))
    assert by_key == {
        b"0103101000": [
            ("gov.matters.matter.published.v1", 1),
            ("gov.matters.matter.published.v1", 2),
        ],
        b"SALON-OPENING": [
            ("gov.matters.bundle.published.v1", 1),
            ("gov.matters.bundle.published.v1", 2),
        ],
    }
    matter_event = next(
        e.data
        for e in events
        if e.type == "gov.matters.matter.published.v1" and e.data["version"] == 1
    )
    for element in ("materials", "situations", "legal_days", "department_credit_code"):
        assert matter_event[element] == HAIRDRESSING[element]
    assert matter_event["online_depth"] == "全程网办"
    bundle_event = next(
        e.data
        for e in events
        if e.type == "gov.matters.bundle.published.v1" and e.data["version"] == 2
    )
    assert bundle_event["instructions"] == "一次申请，当日办结。"
    assert bundle_event["guide"]["questions"][0]["id"] == "chain"
    assert [m["code"] for m in bundle_event["materials"]] == [
        "BUSINESS-LICENSE",
        "FLOOR-PLAN",
    ]


async def test_the_first_minimal_matter_body_still_publishes(matters_app, signer, read_topic):
    app = await matters_app(seed=False)
    minimal = {
        "code": "11000000000001",
        "name": "出生医学证明签发",
        "kind": "行政确认",
        "department": "市卫生健康委员会",
        "promised_days": 5,
    }
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        created = await api.post("/api/v1/matters/matters", json=minimal)
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["materials"], body["legal_days"], body["commitment_allowed"]) == (
            [],
            None,
            False,
        )
    [message] = await read_topic("matters.matter.v1", 1)
    data = CloudEvent.from_message(message.headers, message.value).data
    assert {k: data[k] for k in minimal} == minimal


def with_changes(base: dict, **changes) -> dict:
    body = copy.deepcopy(base)
    body.update(changes)
    return body


@pytest.mark.parametrize(
    "body",
    [
        with_changes(HAIRDRESSING, department_credit_code="11330100002481012M"),  # bad check
        with_changes(HAIRDRESSING, promised_days=30),  # more than legal_days
        with_changes(HAIRDRESSING, kind="公共服务"),  # basic code 01 is 行政许可
        with_changes(HAIRDRESSING, materials=HAIRDRESSING["materials"] * 2),
        with_changes(HAIRDRESSING, online_depth="半程网办"),
        with_changes(HAIRDRESSING, visits=-1),
        with_changes(
            HAIRDRESSING,
            materials=[{"code": "X1", "name": "某材料", "form": "扫描件", "key": True}],
        ),
        with_changes(HAIRDRESSING, unexpected="field"),
    ],
)
async def test_bad_matters_are_refused_with_a_problem(matters_app, signer, body):
    app = await matters_app(seed=False)
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        refused = await api.post("/api/v1/matters/matters", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "validation_failed"
        async with app.state.runtime.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(outbox)) == 0


async def test_a_bad_bundle_is_refused_with_every_problem(matters_app, signer):
    app = await matters_app(seed=False)
    broken = copy.deepcopy(SHOP)
    broken["members"] = [
        {"matter": "0103101000", "depends_on": ["9999999999"]},
        {"matter": "9999999999", "depends_on": []},
    ]
    broken["flow"] = [{"name": "备案", "matters": ["0100000001"]}]
    broken["guide"]["questions"][0]["options"][0]["situations"] = [
        {"matter": "0103101000", "situation": "NOPE"}
    ]
    broken["guide"]["questions"].append(
        {
            "id": "chain",
            "text": "又问一次？",
            "kind": "boolean",
            "options": [{"value": True, "label": "是"}, {"value": "maybe", "label": "也许"}],
        }
    )
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        assert (await api.post("/api/v1/matters/matters", json=HAIRDRESSING)).status_code == 201
        refused = await api.post("/api/v1/matters/bundles", json=broken)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "bundle_invalid"
        assert [e["loc"] for e in problem["errors"]] == [
            "members/0/depends_on",
            "members/1",
            "flow/0/matters",
            "guide/chain/True",
            "guide/chain",
            "guide/chain",
        ]
        shape = await api.post("/api/v1/matters/bundles", json={**SHOP, "code": "lower"})
        assert (shape.status_code, shape.json()["code"]) == (422, "validation_failed")
        assert (await api.get("/api/v1/matters/bundles")).json()["items"] == []
        async with app.state.runtime.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(outbox)) == 1


async def test_citizens_read_bundles_and_use_the_guide_but_do_not_publish(matters_app, signer):
    app = await matters_app()
    async with (
        running(app),
        client(app, signer, audience="matters", principal_type="citizen") as citizen,
    ):
        refused = await citizen.post("/api/v1/matters/bundles", json=SHOP)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        assert (await citizen.get("/api/v1/matters/bundles/BIRTH")).status_code == 200
        missing = await citizen.get("/api/v1/matters/bundles/NOPE")
        assert (missing.status_code, missing.json()["code"]) == (404, "bundle_not_found")
        guided = await citizen.post("/api/v1/matters/bundles/BIRTH/guide", json={"answers": {}})
        assert guided.status_code == 200
    async with running(app), client(app, None, audience="matters") as anonymous:
        assert (
            await anonymous.get("/api/v1/matters/search", params={"q": "出生"})
        ).status_code == 401


async def test_only_operators_and_catalogue_staff_publish(matters_app, signer):
    app = await matters_app()
    body = {
        "code": "2000000099000",
        "name": "测试事项",
        "kind": "公共服务",
        "department": "市政务服务管理局",
        "promised_days": 3,
    }
    async with running(app):
        for claims, status in (
            ({"principal_type": "staff", "roles": ["window"]}, 403),
            ({"principal_type": "staff", "roles": ["reviewer"]}, 403),
            ({"principal_type": "citizen"}, 403),
            ({"principal_type": "operator"}, 201),
        ):
            async with client(app, signer, audience="matters", **claims) as api:
                response = await api.post("/api/v1/matters/matters", json=body)
            assert response.status_code == status, (claims, response.text)
