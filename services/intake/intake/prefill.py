"""智能预填: a bundle's combined form (一表) filled from the base libraries under the
bundle's scenario, which the gateway must have granted. A library that cannot be read
is said in the answer, never swallowed: an empty field must not look like an empty record."""

from __future__ import annotations

from typing import Any

from intake.guide import bundle_definition, form_fields
from intake.schemas import Prefill, UnavailableReason, UnavailableSource
from yiwang_platform.errors import ProblemError
from yiwang_platform.peers import PeerClient

# A form field's ``prefill`` source starts with the library read it comes from.
SOURCES = {
    "population": "/api/v1/data-exchange/population/people/self",
    "household": "/api/v1/data-exchange/population/household/self",
    "legal_person": "/api/v1/data-exchange/legal-persons/self",
}
# How a library's refusal shows in the answer's ``unavailable`` list.
REASONS: dict[int, UnavailableReason] = {403: "forbidden", 404: "not_found"}


def _pick(data: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def source_of(field: dict[str, Any]) -> str:
    return str(field.get("prefill") or field.get("source") or "")


async def fill_form(
    *,
    bundle_code: str,
    scenario: str | None,
    matters: PeerClient,
    data_exchange: PeerClient,
    token: str,
) -> Prefill:
    """The bundle's form with what the libraries hold for the caller (``scenario``: the
    one the caller's token was granted)."""
    bundle = await bundle_definition(matters, bundle_code, token=token)
    wanted_scenario = bundle.get("scenario")
    if not wanted_scenario or scenario != wanted_scenario:
        raise ProblemError(
            403,
            "scenario_required",
            "预填须在该一件事的业务场景下进行",
            detail=f"send X-Scenario: {wanted_scenario}",
            title_en="The bundle's scenario is required",
            scenario=wanted_scenario,
        )
    fields = form_fields(bundle)
    wanted = sorted({source_of(f).split(".")[0] for f in fields if source_of(f)})
    libraries: dict[str, Any] = {}
    missing: dict[str, tuple[UnavailableReason, str | None]] = {}
    for library in wanted:
        if library not in SOURCES:
            missing[library] = ("unavailable", "unknown_source")
            continue
        try:
            status, answer = await data_exchange.call("GET", SOURCES[library], token=token)
        except ProblemError as exc:  # the peer did not answer
            missing[library] = ("unavailable", exc.code)
            continue
        if status == 200:
            libraries[library] = answer
        else:
            code = answer.get("code") if isinstance(answer, dict) else None
            missing[library] = (REASONS.get(status, "unavailable"), code)
    form: dict[str, Any] = {}
    filled: list[str] = []
    for field in fields:
        name = str(field["name"])
        source = source_of(field)
        value = _pick(libraries, source.split(".")) if source else None
        form[name] = value
        if value not in (None, ""):
            filled.append(name)
    unavailable = [
        UnavailableSource(
            source=library,
            reason=reason,
            code=code,
            fields=[str(f["name"]) for f in fields if source_of(f).split(".")[0] == library],
        )
        for library, (reason, code) in missing.items()
    ]
    return Prefill(bundle_code=bundle_code, form=form, prefilled=filled, unavailable=unavailable)
