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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.identity.principal import Principal
from gateway.routing.calls import Services, call_service, unavailable
from gateway.routing.ratelimit import RateLimiter
from gateway.routing.scenarios import REASONS, Decision, ScenarioStore
from gateway.routing.upstreams import UpstreamUnavailable
from yiwang_platform.errors import ProblemError

CASE_HEADER = "x-case-id"
_CASE_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
BINDING_TOKEN_TTL = 30
REAL_NAME_SCENARIO = "real-name-binding"
VERIFY_PATH = "/api/v1/data-exchange/verify"


def refusal(decision: Decision) -> ProblemError:
    code = decision.reason_code or "forbidden"
    zh, en = REASONS.get(code, ("无权访问", "Forbidden"))
    extra = dict(decision.extra)
    if decision.scenario_name:
        extra.setdefault("scenario", decision.scenario_name)
    return ProblemError(403, code, zh, decision.detail, title_en=en, **extra)


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


@dataclass(frozen=True)
class Authoriser:
    """Scenario policies, rate limits, and the services asked about subject bindings."""

    scenarios: ScenarioStore
    limiter: RateLimiter
    services: Services

    def decide(
        self, principal: Principal, *, method: str, path: str, requested: str | None
    ) -> Decision:
        return self.scenarios.current.decide(
            principal, method, path=path, requested=requested, now=datetime.now(UTC)
        )

    async def claims(
        self, principal: Principal, decision: Decision, *, case_id: str
    ) -> dict[str, Any]:
        """The extra internal-token claims for a request ``decision`` was made on;
        ProblemError when it is refused. ``case_id``: the ``X-Case-Id`` sent, if any."""
        claims: dict[str, Any] = {"acr": principal.acr}
        if not decision.allowed:
            raise refusal(decision)
        await self.limiter.check(principal, decision)
        if not decision.covered:
            return claims
        claims.update(scn=decision.scenario_name, grant=decision.grant, bind=decision.binding)
        if decision.binding == "case":
            case_id = case_id.strip()
            if not case_id:
                raise ProblemError(
                    403,
                    "case_required",
                    "该业务场景须指明办件",
                    f"{decision.scenario_name} reads only the applicant of a case: send X-Case-Id",
                    title_en="A case is required for this scenario",
                )
            binding = await self.case_binding(principal, case_id)
            claims["bind_subject_index"] = str(binding["applicant_index"])
            claims["bind_presence"] = str(binding["presence"])
            claims["bind_case_id"] = case_id
        return claims

    async def case_binding(self, principal: Principal, case_id: str) -> dict[str, Any]:
        """Intake's binding of a case assigned to this staff member whose applicant's
        presence is recorded (``applicant_index``, ``presence``), else 403."""
        if principal.principal_type != "staff" or not _CASE_ID.match(case_id):
            raise _not_assigned()
        try:
            answer = await call_service(
                self.services,
                "intake",
                method="GET",
                path=f"/api/v1/intake/cases/{case_id}/binding",
                subject="gateway",
                principal_type="gateway",
                ttl=BINDING_TOKEN_TTL,
            )
        except UpstreamUnavailable as exc:
            raise unavailable("intake did not answer the case look-up") from exc
        if answer.status == 404:
            raise _not_assigned()
        if answer.status != 200:
            raise unavailable(f"case look-up answered {answer.status}")
        binding = json.loads(answer.body)
        if binding.get("assigned_to") != principal.subject:
            raise _not_assigned()
        if not binding.get("presence"):
            raise _presence_required()
        return dict(binding)

    def real_name_decision(self, principal: Principal) -> Decision:
        """The ``real-name-binding`` policy's decision for this caller: who may bind, at
        what assurance, while in force, reading which fields, at what rate. 403 when refused."""
        decision = self.decide(
            principal, method="POST", path=VERIFY_PATH, requested=REAL_NAME_SCENARIO
        )
        if not decision.allowed:
            raise refusal(decision)
        return decision

    async def verify_identity(
        self, decision: Decision, *, id_number: str, claims: dict[str, str]
    ) -> dict[str, bool]:
        """核验 for real-name binding: does the population library hold ``claims`` (e.g.
        ``{"name": ...}``) for ``id_number``? Answers per field, never the values. The
        token carries what ``decision`` (``real_name_decision``) grants."""
        failed = unavailable("data-exchange could not verify the identity")
        try:
            answer = await call_service(
                self.services,
                "data-exchange",
                method="POST",
                path=VERIFY_PATH,
                subject=id_number,
                principal_type="citizen",
                ttl=BINDING_TOKEN_TTL,
                claims={
                    "scn": decision.scenario_name,
                    "grant": decision.grant,
                    "bind": decision.binding,
                    "acr": "L1",
                },
                body={"claims": claims},
            )
        except UpstreamUnavailable as exc:
            raise failed from exc
        if answer.status != 200:
            raise failed
        try:
            result = json.loads(answer.body)
        except ValueError as exc:
            raise failed from exc
        if not isinstance(result, dict):
            raise failed
        return {str(k): v is True for k, v in result.items()}
