"""The gateway's scenario decision for one request, turned into internal-token claims.

Order: the scenario policy (403 with its reason code), the rate limit (429), then the
subject binding — for ``case`` the case in ``X-Case-Id`` must be assigned to the
calling staff member and the applicant's presence recorded there (an ID-card read or
face check at the window, the applicant's confirmation in their app, or their own
submission), and the applicant's blind index travels to the service as
``bind_subject_index`` (how presence was shown: ``bind_presence``). ``self`` adds
nothing: the subject is the caller's own.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request

from gateway.identity import Principal
from gateway.scenarios import REASONS, SCENARIO_HEADER, Decision
from gateway.upstreams import UpstreamUnavailable
from yiwang_platform.errors import ProblemError
from yiwang_platform.tracing import current_traceparent

if TYPE_CHECKING:
    from gateway.proxy import Forwarder

CASE_HEADER = "x-case-id"
_CASE_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
BINDING_TOKEN_TTL = 30
REAL_NAME_SCENARIO = "real-name-binding"


def refusal(decision: Decision) -> ProblemError:
    code = decision.reason_code or "forbidden"
    zh, en = REASONS.get(code, ("无权访问", "Forbidden"))
    extra = dict(decision.extra)
    if decision.scenario_name:
        extra.setdefault("scenario", decision.scenario_name)
    return ProblemError(403, code, zh, decision.detail, title_en=en, **extra)


async def authorise(
    forwarder: Forwarder, request: Request, service: str, principal: Principal
) -> dict[str, Any]:
    """The extra internal-token claims for this request; ProblemError when refused."""
    claims: dict[str, Any] = {"acr": principal.acr}
    decision = Decision(allowed=True)
    if forwarder.scenarios is not None:
        decision = forwarder.scenarios.decide(
            principal,
            request.method,
            request.url.path,
            request.headers.get(SCENARIO_HEADER),
            datetime.now(UTC),
        )
    # For whoever records decisions (audit) further down the request.
    request.state.scenario_decision = decision
    if not decision.allowed:
        raise refusal(decision)
    if forwarder.limiter is not None:
        await forwarder.limiter.check(principal, decision)
    if not decision.covered:
        return claims
    claims.update(scn=decision.scenario_name, grant=decision.grant, bind=decision.binding)
    if decision.binding == "case":
        case_id = request.headers.get(CASE_HEADER, "").strip()
        if not case_id:
            raise ProblemError(
                403,
                "case_required",
                "该业务场景须指明办件",
                f"{decision.scenario_name} reads only the applicant of a case: send X-Case-Id",
                title_en="A case is required for this scenario",
            )
        binding = await case_binding(forwarder, principal, case_id)
        claims["bind_subject_index"] = str(binding["applicant_index"])
        claims["bind_presence"] = str(binding["presence"])
        claims["bind_case_id"] = case_id
    return claims


def _not_assigned() -> ProblemError:
    return ProblemError(
        403,
        "case_not_assigned",
        "该办件未分配给当前经办人员",
        "the case does not exist or is not assigned to the caller",
        title_en="The case is not assigned to the caller",
    )


def _presence_required() -> ProblemError:
    return ProblemError(
        403,
        "applicant_presence_required",
        "申请人到场核验后方可查询申请人信息",
        "record the applicant's ID-card read or face check on the case, or have the "
        "applicant confirm it in their app",
        title_en="The applicant's presence is required",
    )


async def case_binding(forwarder: Forwarder, principal: Principal, case_id: str) -> dict[str, Any]:
    """Intake's binding of a case assigned to this staff member whose applicant's presence
    is recorded (``applicant_index``, ``presence``), else 403."""
    if principal.principal_type != "staff" or not _CASE_ID.match(case_id):
        raise _not_assigned()
    upstream = forwarder.upstreams["intake"]
    token = forwarder.signer.mint(
        audience="intake", subject="gateway", principal_type="gateway", ttl=BINDING_TOKEN_TTL
    )
    headers = [("authorization", f"Bearer {token}"), ("accept", "application/json")]
    traceparent = current_traceparent()
    if traceparent:
        headers.append(("traceparent", traceparent))
    try:
        answer = await upstream.send(
            "GET", f"/api/v1/intake/cases/{case_id}/binding", "", headers, b""
        )
    except UpstreamUnavailable as exc:
        raise ProblemError(
            503,
            "upstream_unavailable",
            "后端服务暂不可用",
            "intake did not answer the case look-up",
            headers={"Retry-After": "2"},
        ) from exc
    if answer.status == 404:
        raise _not_assigned()
    if answer.status != 200:
        raise ProblemError(
            503,
            "upstream_unavailable",
            "后端服务暂不可用",
            f"case look-up answered {answer.status}",
            headers={"Retry-After": "2"},
        )
    binding = json.loads(answer.body)
    if binding.get("assigned_to") != principal.subject:
        raise _not_assigned()
    if not binding.get("presence"):
        raise _presence_required()
    return dict(binding)


VERIFY_PATH = "/api/v1/data-exchange/verify"


def real_name_decision(forwarder: Forwarder, principal: Principal) -> Decision:
    """The ``real-name-binding`` policy's decision for this caller: who may bind, at
    what assurance, while in force, reading which fields, at what rate. 403 when refused."""
    if forwarder.scenarios is None:
        raise RuntimeError("scenario policies are not loaded")
    decision = forwarder.scenarios.decide(
        principal, "POST", VERIFY_PATH, REAL_NAME_SCENARIO, datetime.now(UTC)
    )
    if not decision.allowed:
        raise refusal(decision)
    return decision


async def verify_identity(
    forwarder: Forwarder, decision: Decision, id_number: str, claims: dict[str, str]
) -> dict[str, bool]:
    """核验 for real-name binding: does the population library hold ``claims`` (e.g.
    ``{"name": ...}``) for ``id_number``? Answers per field, never the values. The
    token carries what ``decision`` (``real_name_decision``) grants."""
    token = forwarder.signer.mint(
        audience="data-exchange",
        subject=id_number,
        principal_type="citizen",
        ttl=BINDING_TOKEN_TTL,
        scn=decision.scenario_name,
        grant=decision.grant,
        bind=decision.binding,
        acr="L1",
    )
    headers = [
        ("authorization", f"Bearer {token}"),
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ]
    traceparent = current_traceparent()
    if traceparent:
        headers.append(("traceparent", traceparent))
    body = json.dumps({"claims": claims}, ensure_ascii=False).encode()
    unavailable = ProblemError(
        503,
        "upstream_unavailable",
        "后端服务暂不可用",
        "data-exchange could not verify the identity",
        headers={"Retry-After": "2"},
    )
    try:
        answer = await forwarder.upstreams["data-exchange"].send(
            "POST", VERIFY_PATH, "", headers, body
        )
    except UpstreamUnavailable as exc:
        raise unavailable from exc
    if answer.status != 200:
        raise unavailable
    try:
        result = json.loads(answer.body)
    except ValueError as exc:
        raise unavailable from exc
    if not isinstance(result, dict):
        raise unavailable
    return {str(k): v is True for k, v in result.items()}
