"""The seed catalogue, published once however often and however many replicas start,
and the smart guide's outcomes on it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from matters.models import Bundle, Matter, outbox
from yiwang_platform.events import CloudEvent
from yiwang_platform.testing import client, running

SEEDED_MATTERS = 33
SEEDED_BUNDLES = 2

BIRTH_CERTIFICATE, HOUSEHOLD, MEDICAL_INSURANCE, SOCIAL_SECURITY_CARD = (
    "0700101000",
    "0700201001",
    "2000301001",
    "2000401001",
)
BUSINESS_LICENSE, SEAL, TAX_UKEY, EMPLOYEE_INSURANCE, HOUSING_FUND, BANK_ACCOUNT = (
    "0100501001",
    "1000601000",
    "2000701000",
    "2000801001",
    "2000901000",
    "2001001000",
)


async def counts(app) -> tuple[int, int, int]:
    async with app.state.runtime.sessions() as s:
        return (
            await s.scalar(select(func.count()).select_from(Matter)),
            await s.scalar(select(func.count()).select_from(Bundle)),
            await s.scalar(select(func.count()).select_from(outbox)),
        )


async def test_seed_is_published_once_with_an_event_per_version(matters_app, read_topic):
    first = await matters_app()
    async with running(first):
        assert await counts(first) == (SEEDED_MATTERS, SEEDED_BUNDLES, 35)
    again = await matters_app()
    async with running(again):
        assert await counts(again) == (SEEDED_MATTERS, SEEDED_BUNDLES, 35)

    messages = await read_topic("matters.matter.v1", 35)
    events = [CloudEvent.from_message(m.headers, m.value) for m in messages]
    types = sorted(e.type for e in events)
    assert types.count("gov.matters.matter.published.v1") == SEEDED_MATTERS
    assert types.count("gov.matters.bundle.published.v1") == SEEDED_BUNDLES
    bundle_keys = sorted(
        m.key
        for m, e in zip(messages, events, strict=True)
        if e.type.endswith("bundle.published.v1")
    )
    assert bundle_keys == [b"BIRTH", b"COMPANY-OPENING"]
    birth = next(e.data for e in events if e.subject == "BIRTH")
    assert [m["matter"] for m in birth["members"]] == [
        BIRTH_CERTIFICATE,
        HOUSEHOLD,
        MEDICAL_INSURANCE,
        SOCIAL_SECURITY_CARD,
    ]
    assert birth["scenario"] == "birth-registration"
    assert {"form", "materials", "flow", "instructions", "guide"} <= set(birth)


async def test_two_replicas_starting_together_seed_once(matters_app):
    migrated = await matters_app(seed=False)
    async with running(migrated):
        pass
    replicas = [await matters_app(), await matters_app()]
    ready = [asyncio.Event() for _ in replicas]
    stop = asyncio.Event()

    async def replica(app, started: asyncio.Event) -> None:
        async with running(app):
            started.set()
            await stop.wait()

    tasks = [asyncio.create_task(replica(a, e)) for a, e in zip(replicas, ready, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), 60)
    stop.set()
    await asyncio.gather(*tasks)
    assert await counts(migrated) == (SEEDED_MATTERS, SEEDED_BUNDLES, 35)


# What the business license and the seal ask for, however the company guide is answered.
LICENSE_MATERIALS = [
    "COMPANY-APPLICATION",
    "ARTICLES",
    "LEGAL-REP-ID-CARD",
    "SHAREHOLDER-ID",
    "PREMISES-PROOF",
    "AGENT-AUTHORISATION",
]
SEAL_MATERIALS = ["BUSINESS-LICENSE", "LEGAL-REP-ID-CARD", "AGENT-AUTHORISATION"]


def company_answers(**yes: bool) -> dict[str, bool]:
    """The company guide's answers: no to every question but those in ``yes``."""
    questions = [
        "need_seal",
        "need_tax_ukey",
        "has_employees",
        "need_housing_fund",
        "need_bank_account",
    ]
    return {question: yes.get(question, False) for question in questions}


def license_materials(
    *, legal_rep_for: list[str], agent_for: list[str]
) -> list[tuple[str, list[str]]]:
    """The business license's materials, as the guide lists them: the legal representative's
    ID card and the agent's authorisation also serve the matters named."""
    return [
        ("COMPANY-APPLICATION", [BUSINESS_LICENSE]),
        ("ARTICLES", [BUSINESS_LICENSE]),
        ("LEGAL-REP-ID-CARD", [BUSINESS_LICENSE, *legal_rep_for]),
        ("SHAREHOLDER-ID", [BUSINESS_LICENSE]),
        ("PREMISES-PROOF", [BUSINESS_LICENSE]),
        ("AGENT-AUTHORISATION", [BUSINESS_LICENSE, *agent_for]),
    ]


GUIDE_CASES = [
    pytest.param(
        "BIRTH",
        {"born_in_city": True, "parents_household": "both", "need_social_security_card": True},
        [
            (BIRTH_CERTIFICATE, []),
            (HOUSEHOLD, [BIRTH_CERTIFICATE]),
            (MEDICAL_INSURANCE, [HOUSEHOLD]),
            (SOCIAL_SECURITY_CARD, [MEDICAL_INSURANCE]),
        ],
        {
            BIRTH_CERTIFICATE: ["PARENTS-ID-CARD", "BIRTH-DELIVERY-RECORD", "MARRIAGE-CERT"],
            HOUSEHOLD: ["BIRTH-MED-CERT", "HOUSEHOLD-BOOK", "PARENTS-ID-CARD", "MARRIAGE-CERT"],
            MEDICAL_INSURANCE: ["HOUSEHOLD-BOOK", "BIRTH-MED-CERT", "PARENTS-ID-CARD"],
            SOCIAL_SECURITY_CARD: ["PHOTO", "HOUSEHOLD-BOOK", "PARENTS-ID-CARD"],
        },
        # The birth certificate and the updated household register come from this
        # application, so the applicant brings only the old register, for 户口登记 itself.
        [
            (
                "PARENTS-ID-CARD",
                [BIRTH_CERTIFICATE, HOUSEHOLD, MEDICAL_INSURANCE, SOCIAL_SECURITY_CARD],
            ),
            ("BIRTH-DELIVERY-RECORD", [BIRTH_CERTIFICATE]),
            ("MARRIAGE-CERT", [BIRTH_CERTIFICATE, HOUSEHOLD]),
            ("HOUSEHOLD-BOOK", [HOUSEHOLD]),
            ("PHOTO", [SOCIAL_SECURITY_CARD]),
        ],
        id="birth-local-with-card",
    ),
    pytest.param(
        "BIRTH",
        {"born_in_city": False, "parents_household": "one", "need_social_security_card": False},
        [(HOUSEHOLD, []), (MEDICAL_INSURANCE, [HOUSEHOLD])],
        {
            HOUSEHOLD: [
                "BIRTH-MED-CERT",
                "HOUSEHOLD-BOOK",
                "PARENTS-ID-CARD",
                "MARRIAGE-CERT",
                "OTHER-PARENT-HOUSEHOLD",
                "BIRTH-PLACE-STATEMENT",
            ],
            MEDICAL_INSURANCE: ["HOUSEHOLD-BOOK", "BIRTH-MED-CERT", "PARENTS-ID-CARD"],
        },
        # Born elsewhere: the birth certificate is brought, for both matters.
        [
            ("BIRTH-MED-CERT", [HOUSEHOLD, MEDICAL_INSURANCE]),
            ("HOUSEHOLD-BOOK", [HOUSEHOLD]),
            ("PARENTS-ID-CARD", [HOUSEHOLD, MEDICAL_INSURANCE]),
            ("MARRIAGE-CERT", [HOUSEHOLD]),
            ("OTHER-PARENT-HOUSEHOLD", [HOUSEHOLD]),
            ("BIRTH-PLACE-STATEMENT", [HOUSEHOLD]),
        ],
        id="birth-elsewhere-one-parent-local",
    ),
    pytest.param(
        "BIRTH",
        {"born_in_city": True, "parents_household": "none", "need_social_security_card": True},
        [
            (BIRTH_CERTIFICATE, []),
            (MEDICAL_INSURANCE, []),
            (SOCIAL_SECURITY_CARD, [MEDICAL_INSURANCE]),
        ],
        {
            BIRTH_CERTIFICATE: ["PARENTS-ID-CARD", "BIRTH-DELIVERY-RECORD", "MARRIAGE-CERT"],
            MEDICAL_INSURANCE: [
                "HOUSEHOLD-BOOK",
                "BIRTH-MED-CERT",
                "PARENTS-ID-CARD",
                "RESIDENCE-PERMIT",
            ],
            SOCIAL_SECURITY_CARD: ["PHOTO", "HOUSEHOLD-BOOK", "PARENTS-ID-CARD"],
        },
        [
            (
                "PARENTS-ID-CARD",
                [BIRTH_CERTIFICATE, MEDICAL_INSURANCE, SOCIAL_SECURITY_CARD],
            ),
            ("BIRTH-DELIVERY-RECORD", [BIRTH_CERTIFICATE]),
            ("MARRIAGE-CERT", [BIRTH_CERTIFICATE]),
            ("HOUSEHOLD-BOOK", [MEDICAL_INSURANCE, SOCIAL_SECURITY_CARD]),
            ("RESIDENCE-PERMIT", [MEDICAL_INSURANCE]),
            ("PHOTO", [SOCIAL_SECURITY_CARD]),
        ],
        id="birth-parents-not-local",
    ),
    pytest.param(
        "COMPANY-OPENING",
        company_answers(
            need_seal=True,
            need_tax_ukey=True,
            has_employees=True,
            need_housing_fund=True,
            need_bank_account=True,
        ),
        [
            (BUSINESS_LICENSE, []),
            (SEAL, [BUSINESS_LICENSE]),
            (TAX_UKEY, [BUSINESS_LICENSE]),
            (EMPLOYEE_INSURANCE, [BUSINESS_LICENSE]),
            (HOUSING_FUND, [BUSINESS_LICENSE]),
            (BANK_ACCOUNT, [BUSINESS_LICENSE]),
        ],
        {
            BUSINESS_LICENSE: LICENSE_MATERIALS,
            SEAL: SEAL_MATERIALS,
            TAX_UKEY: ["BUSINESS-LICENSE", "LEGAL-REP-ID-CARD", "TAX-INFO-CONFIRMATION"],
            EMPLOYEE_INSURANCE: ["BUSINESS-LICENSE", "EMPLOYEE-LIST", "LABOUR-CONTRACT"],
            HOUSING_FUND: [
                "BUSINESS-LICENSE",
                "HOUSING-FUND-REGISTRATION",
                "AGENT-AUTHORISATION",
            ],
            BANK_ACCOUNT: ["BUSINESS-LICENSE", "LEGAL-REP-ID-CARD", "COMPANY-SEAL"],
        },
        # The business license is issued by the first matter: nobody brings it.
        [
            *license_materials(
                legal_rep_for=[SEAL, TAX_UKEY, BANK_ACCOUNT], agent_for=[SEAL, HOUSING_FUND]
            ),
            ("TAX-INFO-CONFIRMATION", [TAX_UKEY]),
            ("EMPLOYEE-LIST", [EMPLOYEE_INSURANCE]),
            ("LABOUR-CONTRACT", [EMPLOYEE_INSURANCE]),
            ("HOUSING-FUND-REGISTRATION", [HOUSING_FUND]),
            ("COMPANY-SEAL", [BANK_ACCOUNT]),
        ],
        id="company-everything",
    ),
    pytest.param(
        "COMPANY-OPENING",
        # need_housing_fund sits below has_employees=true: answered here, but not asked.
        company_answers(need_seal=True, need_housing_fund=True),
        [(BUSINESS_LICENSE, []), (SEAL, [BUSINESS_LICENSE])],
        {
            BUSINESS_LICENSE: LICENSE_MATERIALS,
            SEAL: SEAL_MATERIALS,
        },
        license_materials(legal_rep_for=[SEAL], agent_for=[SEAL]),
        id="company-seal-only",
    ),
]


@pytest.mark.parametrize(
    ("bundle", "answers", "expected_matters", "matter_materials", "expected_materials"),
    GUIDE_CASES,
)
async def test_guide_outcomes(
    matters_app,
    signer,
    bundle,
    answers,
    expected_matters,
    matter_materials,
    expected_materials,
):
    app = await matters_app()
    async with (
        running(app),
        client(app, signer, audience="matters", principal_type="citizen") as api,
    ):
        response = await api.post(
            f"/api/v1/matters/bundles/{bundle}/guide", json={"answers": answers}
        )
        assert response.status_code == 200, response.text
        result = response.json()
    assert (result["bundle_code"], result["bundle_version"]) == (bundle, 1)
    assert (result["complete"], result["next_questions"]) == (True, [])
    assert [(m["code"], m["depends_on"]) for m in result["matters"]] == expected_matters
    assert {m["code"]: [x["code"] for x in m["materials"]] for m in result["matters"]} == (
        matter_materials
    )
    assert [(m["code"], m["for_matters"]) for m in result["materials"]] == expected_materials
    assert set(result["matters"][0]) == {
        "code",
        "version",
        "name",
        "department",
        "promised_days",
        "legal_days",
        "license_type",
        "commitment_allowed",
        "depends_on",
        "materials",
    }
    assert set(result["materials"][0]) == {
        "code",
        "name",
        "form",
        "key",
        "license_type",
        "for_matters",
    }


async def test_guide_asks_what_is_still_open(matters_app, signer):
    app = await matters_app()
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        empty = (await api.post("/api/v1/matters/bundles/COMPANY-OPENING/guide", json={})).json()
        assert empty["complete"] is False
        assert [q["id"] for q in empty["next_questions"]] == [
            "need_seal",
            "need_tax_ukey",
            "has_employees",
            "need_bank_account",
        ]
        assert [m["code"] for m in empty["matters"]] == [BUSINESS_LICENSE]
        assert empty["next_questions"][0]["options"] == [
            {"value": True, "label": "是"},
            {"value": False, "label": "否"},
        ]

        employees = (
            await api.post(
                "/api/v1/matters/bundles/COMPANY-OPENING/guide",
                json={"answers": {"has_employees": True}},
            )
        ).json()
        assert [q["id"] for q in employees["next_questions"]] == [
            "need_seal",
            "need_tax_ukey",
            "need_housing_fund",
            "need_bank_account",
        ]
        assert [m["code"] for m in employees["matters"]] == [BUSINESS_LICENSE, EMPLOYEE_INSURANCE]

        birth = (
            await api.post(
                "/api/v1/matters/bundles/BIRTH/guide", json={"answers": {"born_in_city": True}}
            )
        ).json()
        assert [q["id"] for q in birth["next_questions"]] == [
            "parents_household",
            "need_social_security_card",
        ]
        assert birth["next_questions"][0]["kind"] == "choice"
        assert [o["value"] for o in birth["next_questions"][0]["options"]] == [
            "both",
            "one",
            "none",
        ]


async def test_guide_refuses_unknown_questions_and_invalid_values_all_at_once(matters_app, signer):
    app = await matters_app()
    async with running(app), client(app, signer, audience="matters", roles=["catalogue"]) as api:
        bad = await api.post(
            "/api/v1/matters/bundles/BIRTH/guide",
            json={
                "answers": {
                    "favourite_colour": "blue",
                    "born_in_city": 1,  # a number is not true
                    "parents_household": "abroad",
                    "need_social_security_card": "yes",
                }
            },
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        body = bad.json()
        assert body["code"] == "guide_answers_invalid"
        assert [(e["loc"], e["type"]) for e in body["errors"]] == [
            (["answers", "favourite_colour"], "unknown_question"),
            (["answers", "born_in_city"], "invalid_answer"),
            (["answers", "parents_household"], "invalid_answer"),
            (["answers", "need_social_security_card"], "invalid_answer"),
        ]
        assert body["errors"][2]["allowed"] == ["both", "one", "none"]

        not_an_object = await api.post(
            "/api/v1/matters/bundles/BIRTH/guide", json={"answers": ["born_in_city"]}
        )
        assert (not_an_object.status_code, not_an_object.json()["code"]) == (
            422,
            "validation_failed",
        )
        missing = await api.post("/api/v1/matters/bundles/NOPE/guide", json={"answers": {}})
        assert (missing.status_code, missing.json()["code"]) == (404, "bundle_not_found")


async def test_bundle_reads_carry_members_form_flow_and_one_material_set(matters_app, signer):
    app = await matters_app()
    async with (
        running(app),
        client(app, signer, audience="matters", principal_type="citizen") as api,
    ):
        listed = (await api.get("/api/v1/matters/bundles", params={"limit": 1})).json()
        assert [b["code"] for b in listed["items"]] == ["BIRTH"]
        rest = (
            await api.get("/api/v1/matters/bundles", params={"cursor": listed["next_cursor"]})
        ).json()
        assert [b["code"] for b in rest["items"]] == ["COMPANY-OPENING"]

        company = (await api.get("/api/v1/matters/bundles/COMPANY-OPENING")).json()
        assert company["scenario"] == "company-opening"
        assert [(m["matter"], m["depends_on"]) for m in company["members"]] == [
            (BUSINESS_LICENSE, []),
            (SEAL, [BUSINESS_LICENSE]),
            (TAX_UKEY, [BUSINESS_LICENSE]),
            (EMPLOYEE_INSURANCE, [BUSINESS_LICENSE]),
            (HOUSING_FUND, [BUSINESS_LICENSE]),
            (BANK_ACCOUNT, [BUSINESS_LICENSE]),
        ]
        codes = [m["code"] for m in company["materials"]]
        assert len(codes) == len(set(codes))
        # The unpersonalised set is the plain union: the license appears, for five matters.
        business_license = next(m for m in company["materials"] if m["code"] == "BUSINESS-LICENSE")
        assert business_license["for_matters"] == [
            SEAL,
            TAX_UKEY,
            EMPLOYEE_INSURANCE,
            HOUSING_FUND,
            BANK_ACCOUNT,
        ]
        assert business_license["license_type"] == "business-license"
        assert {"name": "company_name", "label": "企业名称", "required": True} | {
            "prefill": "legal_person.name"
        } in company["form"]
        assert company["flow"][1]["matters"] == [BUSINESS_LICENSE]

        birth = (await api.get("/api/v1/matters/bundles/BIRTH")).json()
        assert birth["scenario"] == "birth-registration"
        assert [q["id"] for q in birth["guide"]["questions"]] == [
            "born_in_city",
            "parents_household",
            "need_social_security_card",
        ]
        license_types = {}
        for member in birth["members"]:
            matter = (await api.get(f"/api/v1/matters/matters/{member['matter']}")).json()
            license_types[matter["code"]] = matter["license_type"]
        assert license_types == {
            BIRTH_CERTIFICATE: "birth-medical-certificate",
            HOUSEHOLD: "household-register",
            MEDICAL_INSURANCE: None,
            SOCIAL_SECURITY_CARD: "social-security-card",
        }
