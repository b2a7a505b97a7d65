"""The two 一件事 journeys through the gateway, as the app, a window clerk and the
departments' reviewers do them: 出生一件事 (a newborn) and 企业开办一件事 (a company).

``make demo`` prints each step; the end-to-end tests run the same steps and check
every answer (each step asserts what it needs). The people and enterprises are the
synthetic ones of ``yiwang_standalone.seed_libraries``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import io
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageEnhance

import gateway.admin as admin
from gateway.settings import Settings
from yiwang_standalone import seed_libraries as seed

ROOT = Path(__file__).resolve().parent.parent
FACES = ROOT / "services" / "data-exchange" / "tests" / "faces"
PDF = b"%PDF-1.4\n% material scanned at the window\n"

Say = Callable[[str, str], None]
AddStaff = Callable[[str, str, list[str]], Awaitable[tuple[str, str]]]
SmsCode = Callable[[str], str]


class StepFailed(AssertionError):
    """A step got an answer the journey cannot go on with."""


def expect(response: httpx.Response, status: int, step: str) -> Any:
    if response.status_code != status:
        raise StepFailed(f"{step}: expected {status}, got {response.status_code}: {response.text}")
    return response.json() if response.content else None


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 60) -> Any:
    """Poll until ``check`` returns something truthy (events travel asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise StepFailed(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.2)


def jpeg_b64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return base64.b64encode(out.getvalue()).decode()


def reference_face() -> str:
    return jpeg_b64(Image.open(FACES / "grace_hopper.jpg"))


def selfie() -> str:
    """The same person, lit and held differently."""
    image = Image.open(FACES / "grace_hopper.jpg").convert("RGB")
    return jpeg_b64(ImageEnhance.Brightness(image).enhance(1.15).rotate(4))


@functools.cache
def _population() -> dict[str, dict[str, Any]]:
    return {person["id_number"]: person for person in seed.generate().population}


def seed_person(id_number: str) -> dict[str, Any]:
    """One of the synthetic people of ``yiwang_standalone.seed_libraries``, by ID number."""
    return _population()[id_number]


def new_credit_code() -> str:
    """A fresh, valid unified social credit code for the enterprise being registered."""
    return seed.credit_code("330106", f"{secrets.randbelow(10**8):08d}")


@dataclass
class Platform:
    """How a journey reaches the platform: the gateway, the development keys of the
    county system and the supervisor, the SMS outbox, and staff provisioning."""

    api: httpx.AsyncClient
    api_keys: dict[str, str]
    sms_code: SmsCode
    add_staff: AddStaff
    say: Say = field(default=lambda zh, en: None)
    staff_tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    citizens: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def local(
        cls,
        api: httpx.AsyncClient,
        api_keys: dict[str, str],
        *,
        gateway_settings: Settings,
        sms_outbox: Path,
        say: Say | None = None,
    ) -> Platform:
        """A platform on this machine: staff provisioned with the gateway's operator
        command, SMS codes read from the development SMS provider's outbox."""

        async def add_staff(staff_id: str, department: str, roles: list[str]) -> tuple[str, str]:
            password = secrets.token_urlsafe(16)
            return password, await admin.add_staff(
                gateway_settings, staff_id, department=department, roles=roles, password=password
            )

        def sms_code(phone: str) -> str:
            found = admin.sms_code_sent(sms_outbox, phone)
            if not found:
                raise StepFailed(f"no SMS code for {phone} in {sms_outbox}")
            return found

        return cls(api, api_keys, sms_code, add_staff, say or (lambda zh, en: None))

    async def citizen(self, phone: str, id_number: str, name: str) -> dict[str, str]:
        """Sign up by SMS and bind the real name (L2); once per person."""
        if id_number in self.citizens:
            return self.citizens[id_number]
        api = self.api
        # Someone who came before signs in with their password; a newcomer signs up by SMS.
        password = f"demo-{id_number[-6:]}-password"
        signed_in = await api.post(
            "/api/v1/auth/citizens/sessions", json={"phone": phone, "password": password}
        )
        if signed_in.status_code == 200:
            tokens = signed_in.json()
        else:
            expect(await api.post("/api/v1/auth/sms-codes", json={"phone": phone}), 202, "sms code")
            tokens = expect(
                await api.post(
                    "/api/v1/auth/citizens",
                    json={"phone": phone, "code": self.sms_code(phone), "password": password},
                ),
                201,
                "sign-up",
            )
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        if tokens["acr"] == "L1":
            bound = expect(
                await api.post(
                    "/api/v1/auth/real-name",
                    json={"id_number": id_number, "name": name},
                    headers=auth,
                ),
                200,
                "real-name binding",
            )
            self.say(
                f"{name} 短信注册并实名认证（{bound['acr']}）", f"{name} signed up, real name bound"
            )
        else:
            bound = tokens
            self.say(f"{name} 密码登录（{bound['acr']}）", f"{name} signed in with a password")
        self.citizens[id_number] = {"Authorization": f"Bearer {bound['access_token']}"}
        return self.citizens[id_number]

    async def staff(self, staff_id: str, department: str, roles: list[str]) -> dict[str, str]:
        """A staff member provisioned by the operator, signed in with password + personal key."""
        if staff_id in self.staff_tokens:
            return self.staff_tokens[staff_id]
        password, personal_key = await self.add_staff(staff_id, department, roles)
        tokens = expect(
            await self.api.post(
                "/api/v1/auth/staff/sessions",
                json={"staff_id": staff_id, "password": password, "personal_key": personal_key},
            ),
            200,
            "staff sign-in",
        )
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        self.staff_tokens[staff_id] = headers
        return headers

    async def reviewer(self, department: str) -> dict[str, str]:
        return await self.staff(
            f"reviewer-{abs(hash(department)) % 10**6:06d}", department, ["reviewer"]
        )

    async def upload(self, auth: dict[str, str]) -> str:
        answer = expect(
            await self.api.post(
                "/api/v1/intake/uploads",
                content=PDF,
                headers={**auth, "content-type": "application/pdf", "x-file-name": "scan.pdf"},
            ),
            201,
            "upload",
        )
        return str(answer["upload_id"])


@dataclass
class Outcome:
    """What a journey produced, for the tests to check further."""

    case_id: str
    applicant: dict[str, str]
    case: dict[str, Any]
    licenses: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


async def search_first(p: Platform, auth: dict[str, str], query: str) -> dict[str, Any]:
    found = expect(
        await p.api.get("/api/v1/matters/search", params={"q": query}, headers=auth), 200, "search"
    )
    items = found["items"]
    if not items:
        raise StepFailed(f"search {query!r} found nothing")
    p.say(f"搜索“{query}” → {items[0]['name']}", f"search {query!r} → {items[0]['code']}")
    return dict(items[0])


async def guide(p: Platform, auth: dict[str, str], bundle: str, answers: dict[str, Any]) -> Any:
    result = expect(
        await p.api.post(
            f"/api/v1/matters/bundles/{bundle}/guide", json={"answers": answers}, headers=auth
        ),
        200,
        "guide",
    )
    names = "、".join(m["name"] for m in result["matters"])
    p.say(f"智能导办：适用事项 {names}", f"guide: {len(result['matters'])} matters apply")
    return result


async def prefill(p: Platform, auth: dict[str, str], bundle: str, scenario: str) -> dict[str, Any]:
    """智能预填 under the bundle's scenario: the form fields the libraries filled."""
    answer = expect(
        await p.api.post(
            "/api/v1/intake/prefills",
            json={"bundle_code": bundle},
            headers={**auth, "X-Scenario": scenario},
        ),
        200,
        "pre-fill",
    )
    if answer["unavailable"]:
        raise StepFailed(f"pre-fill could not read {answer['unavailable']}")
    p.say(
        f"智能预填：{'、'.join(answer['prefilled']) or '无'}", f"pre-filled {answer['prefilled']}"
    )
    return {k: v for k, v in answer["form"].items() if v not in (None, "")}


async def apply(
    p: Platform,
    auth: dict[str, str],
    bundle: str,
    answers: dict[str, Any],
    form: dict[str, Any],
    materials: list[dict[str, Any]],
    leave_out: set[str],
) -> dict[str, Any]:
    """Upload every material of the list but ``leave_out``, pre-review, then submit."""
    attachments = []
    for material in materials:
        if material["code"] not in leave_out:
            attachments.append({"code": material["code"], "upload_id": await p.upload(auth)})
    body = {"bundle_code": bundle, "answers": answers, "form": form, "materials": attachments}
    review = expect(
        await p.api.post("/api/v1/intake/applications/pre-reviews", json=body, headers=auth),
        200,
        "pre-review",
    )
    if not review["passed"]:
        raise StepFailed(f"pre-review: {review['problems']}")
    p.say(
        f"智能预审通过（容缺材料：{'、'.join(review['missing_non_key']) or '无'}）",
        "pre-review passed",
    )
    case = expect(
        await p.api.post(
            "/api/v1/intake/applications",
            json=body,
            headers={**auth, "Idempotency-Key": secrets.token_hex(8)},
        ),
        201,
        "submit",
    )
    p.say(f"提交申请，办件号 {case['case_id']}", f"submitted case {case['case_id']}")
    return dict(case)


async def accept_at_window(p: Platform, case_id: str, mode: str) -> dict[str, Any]:
    clerk = await p.staff("window-001", "市政务服务中心", ["window"])
    queue = expect(await p.api.get("/api/v1/intake/cases", headers=clerk), 200, "window queue")
    if case_id not in {c["case_id"] for c in queue["items"]}:
        raise StepFailed("the case is not in the window's queue")
    accepted = expect(
        await p.api.post(
            f"/api/v1/intake/cases/{case_id}/acceptance", json={"mode": mode}, headers=clerk
        ),
        200,
        "acceptance",
    )
    label = {"full": "受理", "deficiency": "容缺受理", "commitment": "告知承诺受理"}[mode]
    p.say(
        f"综合窗口{label}，承诺办结日期 {accepted['due_date']}，子办件 {len(accepted['subcases'])} 个",
        f"window accepted ({mode}), due {accepted['due_date']}",
    )
    return dict(accepted)


async def decide_routed(
    p: Platform,
    auth: dict[str, str],
    case_id: str,
    decision_for: Callable[[dict[str, Any]], dict[str, Any]],
) -> int:
    """Every department with a routed sub-case of the case decides it, in parallel."""
    case = expect(
        await p.api.get(f"/api/v1/intake/applications/{case_id}", headers=auth), 200, "progress"
    )
    routed = [s for s in case["subcases"] if s["status"] == "routed"]

    async def one(subcase: dict[str, Any]) -> None:
        reviewer = await p.reviewer(subcase["department"])
        queue = expect(await p.api.get("/api/v1/intake/subcases", headers=reviewer), 200, "queue")
        if subcase["subcase_id"] not in {s["subcase_id"] for s in queue["items"]}:
            raise StepFailed(f"{subcase['matter_name']} is not in its department's queue")
        # The reviewer decides with the form, the materials and earlier results in view.
        detail = expect(
            await p.api.get(f"/api/v1/intake/subcases/{subcase['subcase_id']}", headers=reviewer),
            200,
            "sub-case",
        )
        files = [m for m in detail["materials"] if m["download"]]
        if files:
            got = await p.api.get(files[0]["download"], headers=reviewer)
            if got.status_code != 200 or got.content != PDF:
                raise StepFailed(f"material download: {got.status_code}")
        body = decision_for(subcase)
        expect(
            await p.api.post(
                f"/api/v1/intake/subcases/{subcase['subcase_id']}/decision",
                json=body,
                headers=reviewer,
            ),
            200,
            "decision",
        )
        verdict = "批准" if body["decision"] == "approved" else f"不予批准（{body.get('reason')}）"
        p.say(
            f"{subcase['department']}：{subcase['matter_name']} {verdict}",
            f"{subcase['matter_code']} {body['decision']}",
        )

    # Reviewers are provisioned one at a time (one operator), then decide concurrently.
    for subcase in routed:
        await p.reviewer(subcase["department"])
    await asyncio.gather(*(one(s) for s in routed))
    return len(routed)


async def decide_all(
    p: Platform,
    auth: dict[str, str],
    case_id: str,
    decision_for: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """Rounds of parallel decisions until no sub-case is open (dependencies route later)."""
    while await decide_routed(p, auth, case_id, decision_for):
        pass
    return dict(
        expect(
            await p.api.get(f"/api/v1/intake/applications/{case_id}", headers=auth),
            200,
            "progress",
        )
    )


async def supervised(p: Platform, case_id: str, status: str) -> dict[str, Any]:
    supervisor = {"X-Api-Key": p.api_keys["supervisor"]}

    async def reached() -> dict[str, Any] | None:
        answer = await p.api.get(
            f"/api/v1/supervision/cases/{case_id}/timeline", headers=supervisor
        )
        if answer.status_code == 200 and answer.json()["status"] == status:
            return dict(answer.json())
        return None

    timeline = await eventually(reached, f"supervision sees the case {status}")
    summary = expect(
        await p.api.get("/api/v1/supervision/warnings/summary", headers=supervisor),
        200,
        "warnings summary",
    )
    p.say(
        f"红黄牌：黄牌 {summary['yellow']} 件，红牌 {summary['red']} 件（{summary['today']}）",
        f"warnings: {summary['yellow']} yellow, {summary['red']} red",
    )
    p.say(
        f"电子监察：时间线 {len(timeline['entries'])} 条记录，状态 {timeline['status']}",
        f"supervision timeline: {len(timeline['entries'])} entries, {timeline['status']}",
    )
    return timeline


async def rate(p: Platform, auth: dict[str, str], case_id: str, rating: int) -> dict[str, Any]:
    async def rated() -> dict[str, Any] | None:
        answer = await p.api.post(
            "/api/v1/supervision/reviews",
            json={"case_id": case_id, "rating": rating, "channel": "app"},
            headers=auth,
        )
        if answer.status_code == 201:
            return dict(answer.json())
        if answer.status_code not in (404, 409) or answer.json().get("code") == "review_exists":
            raise StepFailed(f"review: {answer.status_code} {answer.text}")
        return None

    review = await eventually(rated, "the review is accepted")
    p.say(f"好差评：{review.get('rating_label', rating)}", f"rated {rating}")
    return review


async def wallet(
    p: Platform, auth: dict[str, str], case_id: str, count: int
) -> list[dict[str, Any]]:
    """The e-licenses the case put in the wallet, once all ``count`` are there."""

    async def filled() -> list[dict[str, Any]] | None:
        answer = expect(
            await p.api.get("/api/v1/license/wallet", params={"limit": 200}, headers=auth),
            200,
            "wallet",
        )
        items = [x for x in answer["items"] if x.get("case_id") == case_id]
        return items if len(items) >= count else None

    items = await eventually(filled, f"{count} e-licenses in the wallet")
    names = "、".join(str(i.get("license_type_name") or i["license_type"]) for i in items)
    p.say(f"证照夹：{names}", f"wallet: {len(items)} e-licenses")
    return items


async def show_and_verify(
    p: Platform, auth: dict[str, str], license: dict[str, Any], fields: list[str]
) -> dict[str, Any]:
    """亮证: a QR with chosen fields; a verifier accepts it and refuses a tampered copy."""
    shown = expect(
        await p.api.post(
            f"/api/v1/license/licenses/{license['license_id']}/presentations",
            json={"fields": fields, "ttl_seconds": 120},
            headers=auth,
        ),
        201,
        "presentation",
    )
    presentation = str(shown["presentation"])
    verifier = {"X-Api-Key": p.api_keys["operator"]}
    ok = expect(
        await p.api.post(
            "/api/v1/license/presentations/verify",
            json={"presentation": presentation},
            headers=verifier,
        ),
        200,
        "verify",
    )
    if not ok["valid"] or set(ok["fields"]) != set(fields):
        raise StepFailed(f"a fresh presentation was not accepted as shown: {ok}")
    middle = len(presentation) // 2
    flipped = (
        presentation[:middle]
        + ("A" if presentation[middle] != "A" else "B")
        + presentation[middle + 1 :]
    )
    tampered = expect(
        await p.api.post(
            "/api/v1/license/presentations/verify",
            json={"presentation": flipped},
            headers=verifier,
        ),
        200,
        "verify tampered",
    )
    if tampered["valid"]:
        raise StepFailed("a tampered presentation was accepted")
    p.say(
        f"亮证：出示 {'、'.join(fields)}，核验通过；篡改后核验不通过（{tampered['reason']}）",
        "QR verified; tampered copy refused",
    )
    return {"shown": shown, "verified": ok, "tampered": tampered}


BIRTH_ANSWERS = {
    "born_in_city": True,
    "parents_household": "both",
    "need_social_security_card": True,
}


async def birth(p: Platform) -> Outcome:
    """出生一件事: the mother applies once; four departments decide in turn; the
    e-licenses land in her wallet."""
    mother = seed_person(seed.MOTHER_ID)
    p.say("—— 出生一件事 ——", "— birth bundle —")
    county = {"X-Api-Key": p.api_keys["county"], "X-Scenario": "county-record-push"}
    # The county system sends the mother's record again with her reference photo.
    record = {**mother, "source_version": int(mother["source_version"]) + 1}
    record["reference_face"] = reference_face()
    pushed = expect(
        await p.api.post(
            "/api/v1/data-exchange/population/records", json={"records": [record]}, headers=county
        ),
        200,
        "county push",
    )
    if pushed["results"][0]["status"] not in ("created", "updated", "unchanged"):
        raise StepFailed(f"county push: {pushed}")
    auth = await p.citizen("13800000001", mother["id_number"], mother["name"])
    challenge = expect(await p.api.post("/api/v1/auth/face/challenges", headers=auth), 201, "face")
    verified = expect(
        await p.api.post(
            "/api/v1/auth/face/verifications",
            json={**{k: challenge[k] for k in ("challenge_id", "nonce")}, "image": selfie()},
            headers=auth,
        ),
        200,
        "face verification",
    )
    if not verified["match"]:
        raise StepFailed("the selfie did not match the reference face")
    p.say(
        f"人脸核验通过（距离 {verified['score']:.2f}，{verified['acr']}）", "face check passed: L3"
    )

    hit = await search_first(p, auth, "孩子出生要办什么")
    if hit["code"] != "BIRTH":
        raise StepFailed(f"search found {hit['code']} first")
    resolved = await guide(p, auth, "BIRTH", BIRTH_ANSWERS)
    form = {
        **await prefill(p, auth, "BIRTH", "birth-registration"),
        "child_name": "陈安然",
        "child_sex": "女",
        "child_birth_time": "2026-11-28T08:30",
        "birth_hospital": "杭州市妇产科医院",
        "other_parent_name": "陈志远",
        "settle_with": "随父",
    }
    non_key = {m["code"] for m in resolved["materials"] if not m["key"]}
    case = await apply(p, auth, "BIRTH", BIRTH_ANSWERS, form, resolved["materials"], non_key)
    accepted = await accept_at_window(p, case["case_id"], "deficiency" if non_key else "full")
    # 容缺: the missing non-key materials arrive later.
    late = [{"code": code, "upload_id": await p.upload(auth)} for code in sorted(non_key)]
    if late:
        supplied = expect(
            await p.api.post(
                f"/api/v1/intake/cases/{case['case_id']}/supplements",
                json={"materials": late},
                headers=auth,
            ),
            200,
            "late supplement",
        )
        p.say(f"补齐容缺材料，剩余缺件 {supplied['missing_materials']}", "late materials supplied")

    def decision(subcase: dict[str, Any]) -> dict[str, Any]:
        """Each department sets what its e-license records (the rest comes from the form)."""
        fields = {
            "birth-medical-certificate": {
                "certificate_number": "Q330106" + secrets.token_hex(3).upper(),
                "newborn_name": form["child_name"],
                "sex": form["child_sex"],
                "birth_time": form["child_birth_time"],
                "birth_place": form["birth_hospital"],
                "mother_name": mother["name"],
                "father_name": form["other_parent_name"],
            },
            "household-register": {
                "household_number": mother["household_number"],
                "householder_name": form["other_parent_name"],
                "name": form["child_name"],
                "relation_to_householder": "女",
                "address": mother["household_address"],
                "registration_authority": "杭州市公安局西湖区分局",
            },
            "social-security-card": {
                "card_number": "A" + secrets.token_hex(4).upper(),
                "name": form["child_name"],
                "issuing_region": "杭州市",
                "issue_date": "2026-12-02",
            },
        }.get(subcase["license_type"] or "", {})
        return {"decision": "approved", "fields": fields}

    done = await decide_all(p, auth, case["case_id"], decision)
    p.say(f"办结：{done['outcome']}", f"completed: {done['outcome']}")
    license_types = [s["license_type"] for s in accepted["subcases"] if s["license_type"]]
    licenses = await wallet(p, auth, case["case_id"], len(license_types))
    birth_certificate = next(
        x for x in licenses if x["license_type"] == "birth-medical-certificate"
    )
    shown = await show_and_verify(p, auth, birth_certificate, ["newborn_name", "birth_place"])
    timeline = await supervised(p, case["case_id"], "completed")
    review = await rate(p, auth, case["case_id"], 5)
    return Outcome(
        case["case_id"],
        auth,
        done,
        licenses,
        {"timeline": timeline, "review": review, "presentation": shown, "accepted": accepted},
    )


COMPANY_ANSWERS = {
    "need_seal": True,
    "need_tax_ukey": True,
    "has_employees": True,
    "need_housing_fund": True,
    "need_bank_account": True,
}


async def issued_for(p: Platform, staff: dict[str, str], *, subcase_id: str) -> str | None:
    """The id of the license issued on approval of a sub-case, once it is issued: the
    newest licenses, as staff see them, name the sub-case that yielded each."""
    answer = expect(
        await p.api.get("/api/v1/license/licenses", params={"limit": 200}, headers=staff),
        200,
        "licenses",
    )
    found = [x["license_id"] for x in answer["items"] if x.get("subcase_id") == subcase_id]
    return found[0] if found else None


async def company(p: Platform, refuse_license: bool = False) -> Outcome:
    """企业开办一件事: the business license first, then five departments in parallel
    (N+1); the 营业执照 e-license goes to the new enterprise."""
    founder = seed_person(seed.FOUNDER_ID)
    p.say("—— 企业开办一件事 ——", "— company-opening bundle —")
    auth = await p.citizen("13800000002", founder["id_number"], founder["name"])
    for query in ("我要开公司", "开理发店"):
        hit = await search_first(p, auth, query)
        if hit["code"] != "COMPANY-OPENING":
            raise StepFailed(f"search {query!r} found {hit['code']} first")
    resolved = await guide(p, auth, "COMPANY-OPENING", COMPANY_ANSWERS)
    prefilled = await prefill(p, auth, "COMPANY-OPENING", "company-opening")
    credit_code = new_credit_code()
    name = "杭州一网理发有限公司" if not refuse_license else "杭州重名测试有限公司"
    form = {
        **prefilled,
        "company_name": name,
        "legal_representative": founder["name"],
        "registered_address": "浙江省杭州市西湖区文三路100号",
        "business_scope": "理发服务；美容服务",
        "registered_capital": "50",
        "shareholders": f"{founder['name']} 100%",
    }
    case = await apply(
        p, auth, "COMPANY-OPENING", COMPANY_ANSWERS, form, resolved["materials"], set()
    )
    await accept_at_window(p, case["case_id"], "full")

    def decision(subcase: dict[str, Any]) -> dict[str, Any]:
        if subcase["license_type"] != "business-license":
            return {"decision": "approved"}
        if refuse_license:
            return {"decision": "refused", "reason": "企业名称与已登记企业相同"}
        return {
            "decision": "approved",
            "fields": {
                "uscc": credit_code,
                "company_type": "有限责任公司（自然人独资）",
                "established_on": "2026-12-02",
                "address": form["registered_address"],
            },
        }

    done = await decide_all(p, auth, case["case_id"], decision)
    p.say(f"办结：{done['outcome']}", f"completed: {done['outcome']}")
    licenses: list[dict[str, Any]] = []
    first = next(s for s in done["subcases"] if s["license_type"] == "business-license")
    if first["status"] == "approved":
        # The e-license belongs to the new enterprise; its registrar can read it.
        registrar = await p.reviewer(first["department"])
        license_id = await eventually(
            functools.partial(issued_for, p, registrar, subcase_id=first["subcase_id"]),
            "the business license is issued",
        )
        licenses.append(
            expect(
                await p.api.get(f"/api/v1/license/licenses/{license_id}", headers=registrar),
                200,
                "the business license",
            )
        )
        p.say(
            f"电子营业执照已签发给 {licenses[0]['holder_name']}（{licenses[0]['holder_id']}）",
            "business e-license issued to the enterprise",
        )
    timeline = await supervised(p, case["case_id"], "completed")
    return Outcome(
        case["case_id"], auth, done, licenses, {"timeline": timeline, "credit_code": credit_code}
    )


@contextlib.asynccontextmanager
async def standalone(var_dir: Path, *, say: Say | None = None) -> AsyncIterator[Platform]:
    """The whole platform in this process (``make run``'s app) with its state in
    ``var_dir``, reached in-process."""
    from yiwang_standalone.main import build

    app, keys = build(var_dir)
    settings = Settings(var_dir=var_dir, database_url="")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://yiwang", timeout=60
        ) as api,
    ):
        yield Platform.local(
            api, keys, gateway_settings=settings, sms_outbox=var_dir / "sms-outbox.jsonl", say=say
        )
