"""Per-scenario authorisation (场景授权): policy files in, decisions out.

Each ``policies/<scenario>.yaml`` declares a purpose, the routes it covers, who may use
it (principal types, roles, minimum assurance), what it may read (library -> fields),
the subject binding, a rate limit and validity dates. The files are validated and
compiled into a ``ScenarioRegistry`` (a per-method trie of path segments) at start;
``ScenarioStore`` polls them and swaps in a newly compiled registry when they change,
keeping the old one when an edit does not compile.

A route covered by at least one scenario needs one (header ``X-Scenario``); routes
covered by none pass without a grant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.identity.principal import PRINCIPAL_TYPES, Principal

log = logging.getLogger(__name__)

SCENARIO_HEADER = "x-scenario"

ASSURANCE_RANK = {"L1": 1, "L2": 2, "L3": 3}

Assurance = Literal["L1", "L2", "L3"]
Binding = Literal["self", "case", "org", "partner", "none"]
Library = Literal["population", "legal_person", "license"]

# The fields each library has; a policy may grant only these.
LIBRARY_FIELDS: dict[str, frozenset[str]] = {
    "population": frozenset(
        {"name", "sex", "ethnicity", "birth_date", "household_address", "marital_status"}
    ),
    "legal_person": frozenset(
        {
            "name",
            "uscc",
            "legal_representative",
            "registered_address",
            "business_scope",
            "established_on",
        }
    ),
}
# The license library is granted by license type (kebab-case slugs).
_LICENSE_TYPE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
_SEGMENT = re.compile(r"^([A-Za-z0-9._~-]+|\*)$")
_RATE = re.compile(r"^\s*(\d+)\s*/\s*min\s*$")


class PolicyError(ValueError):
    """A policy file that does not load: the message names the file and the field."""


class RateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_principal: str = Field(description='"N/min"')

    @field_validator("per_principal")
    @classmethod
    def _shape(cls, value: str) -> str:
        match = _RATE.match(value)
        if not match or int(match.group(1)) < 1:
            raise ValueError('must read "N/min" with N >= 1')
        return value

    def per_minute(self) -> int:
        match = _RATE.match(self.per_principal)
        assert match is not None
        return int(match.group(1))


class Validity(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date = Field(alias="from")
    until: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.until is not None and self.until < self.from_:
            raise ValueError("until is before from")
        return self


class ScenarioPolicy(BaseModel):
    """One policy file."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1, max_length=64)
    purpose: str = Field(min_length=1, max_length=500)
    principals: list[str] = Field(min_length=1)
    roles: list[str] = Field(default_factory=list)
    assurance: Assurance
    subject: Binding
    reads: dict[Library, list[str]] = Field(default_factory=dict)
    routes: list[str] = Field(min_length=1)
    rate: RateSpec | None = None
    valid: Validity

    @field_validator("scenario")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be kebab-case (a-z, 0-9, -)")
        return value

    @field_validator("principals")
    @classmethod
    def _principals(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - PRINCIPAL_TYPES)
        if unknown:
            raise ValueError(f"unknown principal types {unknown}; known: {sorted(PRINCIPAL_TYPES)}")
        return value

    @field_validator("reads")
    @classmethod
    def _reads(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for library, fields in value.items():
            if len(set(fields)) != len(fields):
                raise ValueError(f"{library}: a field is listed twice")
            if library == "license":
                bad = [f for f in fields if not _LICENSE_TYPE.match(f)]
                if bad:
                    raise ValueError(f"license: {bad} are not license-type slugs")
                continue
            unknown = sorted(set(fields) - LIBRARY_FIELDS[library])
            if unknown:
                raise ValueError(
                    f"{library}: unknown fields {unknown}; known: {sorted(LIBRARY_FIELDS[library])}"
                )
        return value

    @field_validator("routes")
    @classmethod
    def _routes(cls, value: list[str]) -> list[str]:
        for route in value:
            parse_route(route)
        return value


def parse_route(route: str) -> tuple[str, tuple[str, ...]]:
    """``"GET /api/v1/x/*"`` -> ``("GET", ("api", "v1", "x", "*"))``; ValueError if malformed."""
    method, _, path = route.strip().partition(" ")
    path = path.strip()
    if method not in _METHODS:
        raise ValueError(f"{route!r}: method must be one of {sorted(_METHODS)}")
    if not path.startswith("/") or path.endswith("/") or "//" in path:
        raise ValueError(f"{route!r}: path must start with / and have no empty segments")
    segments = tuple(path[1:].split("/"))
    for segment in segments:
        if not _SEGMENT.match(segment):
            raise ValueError(f"{route!r}: segment {segment!r} is neither a name nor *")
    return method, segments


@dataclass(frozen=True)
class Scenario:
    name: str
    purpose: str
    principals: frozenset[str]
    roles: frozenset[str]
    assurance: str
    binding: str
    grant: dict[str, list[str]]
    routes: tuple[str, ...]
    rate_per_minute: int | None
    valid_from: date
    valid_until: date | None

    @classmethod
    def of(cls, policy: ScenarioPolicy) -> Scenario:
        return cls(
            name=policy.scenario,
            purpose=policy.purpose,
            principals=frozenset(policy.principals),
            roles=frozenset(policy.roles),
            assurance=policy.assurance,
            binding=policy.subject,
            grant={library: list(fields) for library, fields in policy.reads.items()},
            routes=tuple(policy.routes),
            rate_per_minute=policy.rate.per_minute() if policy.rate else None,
            valid_from=policy.valid.from_,
            valid_until=policy.valid.until,
        )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason_code: str | None = None
    scenario_name: str | None = None
    grant: dict[str, list[str]] = field(default_factory=dict)
    binding: str | None = None
    rate: int | None = None
    detail: str | None = None
    # Extra members of the problem body on refusal (e.g. the required assurance level).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def covered(self) -> bool:
        """Whether the route needed a scenario (an allowed request without one did not)."""
        return self.scenario_name is not None


_OPEN = Decision(allowed=True)

# reason code -> (Chinese title, English title)
REASONS: dict[str, tuple[str, str]] = {
    "scenario_required": ("该接口须声明业务场景", "A scenario is required for this route"),
    "scenario_unknown": ("业务场景不存在", "Unknown scenario"),
    "scenario_route_mismatch": ("业务场景不涵盖该接口", "The scenario does not cover this route"),
    "scenario_principal_forbidden": (
        "当前身份无权使用该业务场景",
        "This caller may not use the scenario",
    ),
    "assurance_too_low": ("认证等级不足", "Assurance level too low"),
    "scenario_not_valid": ("业务场景不在有效期内", "The scenario is not in force"),
}


class _Node:
    __slots__ = ("children", "scenarios", "wildcard")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.wildcard: _Node | None = None
        self.scenarios: set[str] = set()


class ScenarioRegistry:
    """The compiled policies: look-up by method and path, then the checks of one scenario."""

    def __init__(self, scenarios: Iterable[Scenario]) -> None:
        self.scenarios: dict[str, Scenario] = {}
        self._roots: dict[str, _Node] = {}
        for scenario in scenarios:
            if scenario.name in self.scenarios:
                raise PolicyError(f"scenario {scenario.name!r} is declared twice")
            self.scenarios[scenario.name] = scenario
            for route in scenario.routes:
                method, segments = parse_route(route)
                node = self._roots.setdefault(method, _Node())
                for segment in segments:
                    if segment == "*":
                        node.wildcard = node.wildcard or _Node()
                        node = node.wildcard
                    else:
                        node = node.children.setdefault(segment, _Node())
                node.scenarios.add(scenario.name)

    def covering(self, method: str, path: str) -> set[str]:
        """The scenarios that cover ``method path`` (empty: the route needs none)."""
        root = self._roots.get(method.upper())
        if root is None:
            return set()
        segments = path.strip("/").split("/") if path.strip("/") else []
        found: set[str] = set()
        stack: list[tuple[_Node, int]] = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if depth == len(segments):
                found |= node.scenarios
                continue
            segment = segments[depth]
            if not segment:
                continue  # an empty segment ("//") matches no pattern
            child = node.children.get(segment)
            if child is not None:
                stack.append((child, depth + 1))
            if node.wildcard is not None:
                stack.append((node.wildcard, depth + 1))
        return found

    def decide(
        self,
        principal: Principal,
        method: str,
        *,
        path: str,
        requested: str | None,
        now: datetime | None = None,
    ) -> Decision:
        covering = self.covering(method, path)
        if not covering:
            return _OPEN
        requested = (requested or "").strip()
        if not requested:
            return _refuse("scenario_required", f"send X-Scenario: one of {sorted(covering)}")
        scenario = self.scenarios.get(requested)
        if scenario is None:
            return _refuse("scenario_unknown", "no scenario of that name")
        if scenario.name not in covering:
            return _refuse(
                "scenario_route_mismatch",
                f"{scenario.name} does not cover {method.upper()} {path}",
                scenario=scenario,
            )
        if principal.principal_type not in scenario.principals or (
            scenario.roles and not scenario.roles & set(principal.roles)
        ):
            return _refuse(
                "scenario_principal_forbidden",
                f"{scenario.name} is for {sorted(scenario.principals)}"
                + (f" with a role in {sorted(scenario.roles)}" if scenario.roles else ""),
                scenario=scenario,
            )
        if ASSURANCE_RANK.get(principal.acr, 0) < ASSURANCE_RANK[scenario.assurance]:
            return _refuse(
                "assurance_too_low",
                f"{scenario.name} needs assurance {scenario.assurance}",
                scenario=scenario,
                required_assurance=scenario.assurance,
                current_assurance=principal.acr,
            )
        today = (now or datetime.now(UTC)).astimezone(UTC).date()
        if today < scenario.valid_from or (
            scenario.valid_until is not None and today > scenario.valid_until
        ):
            return _refuse(
                "scenario_not_valid", f"{scenario.name} is not in force", scenario=scenario
            )
        return Decision(
            allowed=True,
            scenario_name=scenario.name,
            grant={library: list(fields) for library, fields in scenario.grant.items()},
            binding=scenario.binding,
            rate=scenario.rate_per_minute,
        )


def _refuse(code: str, detail: str, *, scenario: Scenario | None = None, **extra: Any) -> Decision:
    return Decision(
        allowed=False,
        reason_code=code,
        scenario_name=scenario.name if scenario else None,
        detail=detail,
        extra=extra,
    )


# ---- loading ----------------------------------------------------------------------------


def policy_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


def load_policy(path: Path) -> ScenarioPolicy:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise PolicyError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: must be a mapping of policy fields")
    try:
        policy = ScenarioPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(file)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise PolicyError(f"{path}: {problems}") from exc
    if path.stem != policy.scenario:
        raise PolicyError(f"{path}: scenario: {policy.scenario!r} must match the file name")
    return policy


def compile_directory(directory: Path) -> ScenarioRegistry:
    """Load, validate and compile every policy file; PolicyError names the bad file."""
    if not directory.is_dir():
        raise PolicyError(f"{directory}: policies directory not found")
    return ScenarioRegistry(Scenario.of(load_policy(p)) for p in policy_files(directory))


def _fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        files = policy_files(directory)
        return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return ()


class ScenarioStore:
    """The registry in force, reloaded in the background when the files change.

    Requests read ``store.current`` once and decide against that registry; a reload
    replaces the attribute in one step, so no request sees a half-built registry.
    """

    def __init__(self, directory: Path, poll_seconds: float = 2.0) -> None:
        self.directory = Path(directory)
        self.poll_seconds = poll_seconds
        self._fingerprint = _fingerprint(self.directory)
        self.current = compile_directory(self.directory)
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    def reload_if_changed(self) -> bool:
        """Recompile when the files changed; True when a new registry is in force."""
        fingerprint = _fingerprint(self.directory)
        if fingerprint == self._fingerprint:
            return False
        # Remember the attempt either way, so a broken edit is reported once, not every poll.
        self._fingerprint = fingerprint
        try:
            registry = compile_directory(self.directory)
        except PolicyError as exc:
            self.last_error = str(exc)
            log.error("scenario policies not reloaded, the previous ones stay in force: %s", exc)
            return False
        self.current = registry
        self.last_error = None
        log.info("scenario policies reloaded: %s", ", ".join(sorted(registry.scenarios)))
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                self.reload_if_changed()
            except Exception:
                log.exception("scenario policy reload failed")

    def start(self) -> None:
        if self._task is None and self.poll_seconds > 0:
            self._task = asyncio.create_task(self._watch(), name="scenario-policies")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
