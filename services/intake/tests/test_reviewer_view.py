"""A department's reviewer decides with the case in front of them: the form, the
materials (downloads, each logged on the case for the applicant to see) and the
results of the sub-cases theirs depends on — their own department's sub-cases only.
Uploads are kept under generated ids, with sanitised display names."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from intake import materials
from intake.models import Case, Upload
from intake.schemas import MaterialAttachment
from yiwang_platform.pagination import encode_cursor

from .factories import (
    LICENSE_FIELDS,
    OTHER_CITIZEN,
    accept_in_full,
    approve_business_license,
    make_case,
)

PDF = b"%PDF-1.4\n% the articles of association\n"
FORM = {"company_name": "杭州示例理发有限公司", "registered_capital": "50"}


async def _upload(
    api, name: str = quote("章程.pdf"), content: bytes = PDF, media: str = "application/pdf"
):
    return await api.post(
        "/api/v1/intake/uploads",
        content=content,
        headers={"content-type": media, "x-file-name": name},
    )


async def _accepted_case_with_license_approved(app, upload_id: str) -> dict[str, str]:
    """A company-opening case with the upload attached, accepted, the business license
    approved (setting its credit code): SEAL and TAX are routed. Sub-case ids by code."""
    runtime = app.state.runtime
    now = datetime(2026, 11, 30, 2, tzinfo=UTC)
    attached = MaterialAttachment(code="ARTICLES", upload_id=upload_id)
    created = await make_case(app, form=FORM, materials=[attached])
    async with runtime.sessions() as s, s.begin():
        case = await s.get_one(Case, created.id)
        subcases = await accept_in_full(s, case, outbox=runtime.outbox, now=now)
        ids = {x.matter_code: x.id for x in subcases}
        await approve_business_license(
            s,
            case,
            subcases=subcases,
            outbox=runtime.outbox,
            cipher=runtime.cipher,
            reviewer="registrar-1",
            now=now,
        )
    return {"case": case.id, **ids}


async def test_a_reviewer_sees_form_materials_and_dependency_results_and_downloads_are_logged(
    app, citizen, window, reviewer
):
    async with citizen() as api:
        uploaded = await _upload(api)
        assert uploaded.status_code == 201, uploaded.text
    upload_id = uploaded.json()["upload_id"]
    ids = await _accepted_case_with_license_approved(app, upload_id)
    seal = f"/api/v1/intake/subcases/{ids['SEAL']}"

    async with reviewer("市公安局", "police-reviewer-9") as police:
        view = await police.get(seal)
        assert view.status_code == 200, view.text
        detail = view.json()
        assert (detail["case_id"], detail["status"], detail["form"]) == (
            ids["case"],
            "routed",
            FORM,
        )
        [material] = detail["materials"]
        assert material == {
            "code": "ARTICLES",
            "kind": "upload",
            "upload_id": upload_id,
            "license_id": None,
            "name": "章程.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
            "sha256": uploaded.json()["sha256"],
            "download": f"{seal}/materials/{upload_id}",
        }
        [dependency] = detail["dependencies"]
        assert (dependency["subcase_id"], dependency["status"], dependency["department"]) == (
            ids["BIZ-LICENSE"],
            "approved",
            "市市场监督管理局",
        )
        # What the registrar set — the credit code the seal is engraved with.
        assert dependency["fields"] == LICENSE_FIELDS

        downloaded = await police.get(material["download"])
        assert downloaded.status_code == 200, downloaded.text
        assert downloaded.content == PDF
        assert downloaded.headers["content-type"] == "application/pdf"
        assert downloaded.headers["x-content-type-options"] == "nosniff"
        assert "attachment" in downloaded.headers["content-disposition"]

        # A file not among this case's materials is not reachable through it.
        async with citizen(OTHER_CITIZEN) as other:
            foreign = (await _upload(other)).json()["upload_id"]
        stray = await police.get(f"{seal}/materials/{foreign}")
        assert (stray.status_code, stray.json()["code"]) == (404, "upload_not_found")

    # Another department sees neither the sub-case nor its files.
    async with reviewer("市税务局") as tax:
        assert (await tax.get(seal)).json()["code"] == "subcase_not_found"
        other_dept = await tax.get(f"{seal}/materials/{upload_id}")
        assert (other_dept.status_code, other_dept.json()["code"]) == (404, "subcase_not_found")
    async with window() as clerk:
        assert (await clerk.get(seal)).status_code == 403
        assert (await clerk.get(f"{seal}/materials/{upload_id}")).status_code == 403

    # The applicant sees who looked, newest first; nobody else does.
    log_url = f"/api/v1/intake/applications/{ids['case']}/access-log"
    async with citizen() as me:
        log = await me.get(log_url)
        assert log.status_code == 200, log.text
        entries = [
            (e["accessor"], e["department"], e["action"], e["subcase_id"], e["material"])
            for e in log.json()["items"]
        ]
        assert entries == [
            ("police-reviewer-9", "市公安局", "download", ids["SEAL"], "ARTICLES"),
            ("police-reviewer-9", "市公安局", "view", ids["SEAL"], None),
        ]
        page = await me.get(log_url, params={"limit": 1})
        rest = await me.get(log_url, params={"cursor": page.json()["next_cursor"]})
        assert [e["action"] for e in page.json()["items"] + rest.json()["items"]] == [
            "download",
            "view",
        ]
        for cursor in (encode_cursor("9" * 40), encode_cursor("x"), "%%%"):
            bad = await me.get(log_url, params={"cursor": cursor})
            assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")
        own = await me.get(f"/api/v1/intake/uploads/{upload_id}/content")
        assert (own.status_code, own.content) == (200, PDF)
    async with citizen(OTHER_CITIZEN) as other:
        assert (await other.get(log_url)).json()["code"] == "case_not_found"
        theirs = await other.get(f"/api/v1/intake/uploads/{upload_id}/content")
        assert (theirs.status_code, theirs.json()["code"]) == (404, "upload_not_found")


async def test_upload_names_are_sanitised_and_content_must_match_its_type(app, citizen):
    async with citizen() as api:
        traversal = await _upload(api, "../../../../etc/passwd")
        assert traversal.status_code == 201, traversal.text
        assert traversal.json()["name"] == "passwd"
        windows = await _upload(api, "..\\..\\boot.ini")
        assert windows.json()["name"] == "boot.ini"
        chinese = await _upload(api, "%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf")
        assert chinese.json()["name"] == "营业执照.pdf"
        dots = await _upload(api, "../..")
        assert dots.json()["name"] == materials.DEFAULT_NAME
        disguised = await _upload(api, "photo.png", PDF, "image/png")
        assert (disguised.status_code, disguised.json()["code"]) == (415, "content_type_mismatch")
        html = await _upload(api, "x.html", b"<html>", "text/html")
        assert (html.status_code, html.json()["code"]) == (415, "unsupported_media_type")
        too_big = await _upload(api, content=b"%PDF-" + b"0" * materials.MAX_UPLOAD_BYTES)
        assert (too_big.status_code, too_big.json()["code"]) == (413, "upload_size")
    # Stored under its generated id; the display name names nothing on disk.
    async with app.state.runtime.sessions() as s:
        stored = await s.get(Upload, traversal.json()["upload_id"])
        assert stored is not None and stored.name == "passwd"
        assert await s.get(Case, traversal.json()["upload_id"]) is None


def test_display_names_lose_control_characters_and_keep_their_extension():
    assert materials.display_name("a\x00b\x1fc\x7f\u202ed.pdf") == "abcd.pdf"
    assert materials.display_name("%00%0a../x.pdf") == "x.pdf"
    long = materials.display_name("营" * 300 + ".pdf")
    assert len(long) == materials.MAX_NAME_CHARS and long.endswith(".pdf")
    assert materials.display_name("  .hidden  ") == "hidden"
