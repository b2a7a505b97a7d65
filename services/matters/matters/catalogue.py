"""Publishing matters and bundles: every publication is a new version and an event.
Everyone authenticated reads the catalogue; operators and catalogue staff publish."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import RowMapping, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from matters.events import BundlePublished, MatterPublished
from matters.models import Bundle, Matter
from matters.schemas import (
    BundleCreate,
    BundleMaterial,
    BundleMemberRead,
    BundleRead,
    GuideQuestion,
    Material,
    MatterCreate,
)
from yiwang_platform.deps import PrincipalDep
from yiwang_platform.errors import ProblemError
from yiwang_platform.idempotency import Idempotency
from yiwang_platform.internal_token import InternalPrincipal
from yiwang_platform.outbox import Outbox
from yiwang_platform.pagination import decode_id, encode_key

# When one material is asked for in several forms, the set asks for the strongest.
FORM_STRENGTH = {"原件": 3, "复印件": 2, "电子": 1}

# Who may publish to the catalogue: operators, and staff who keep it (role ``catalogue``);
# a window clerk or a reviewer may not. Everyone authenticated may read it.
CATALOGUE_ROLE = "catalogue"

V = TypeVar("V", Matter, Bundle)


async def require_publisher(principal: PrincipalDep) -> InternalPrincipal:
    """The caller, when it may publish to the catalogue; 403 for anyone else."""
    keeper = principal.principal_type == "staff" and CATALOGUE_ROLE in principal.claims.get(
        "roles", []
    )
    if principal.principal_type != "operator" and not keeper:
        raise ProblemError(
            403, "forbidden", "无权访问", "publishing to the catalogue is for catalogue staff"
        )
    return principal


def matter_not_found() -> ProblemError:
    return ProblemError(404, "matter_not_found", "事项不存在", title_en="Matter not found")


def bundle_not_found() -> ProblemError:
    return ProblemError(404, "bundle_not_found", "一件事不存在", title_en="Bundle not found")


def _current_versions(model: type[V], codes: list[str] | None = None) -> Select[tuple[V]]:
    """The newest version of every code of ``model`` (of ``codes`` only, when given)."""
    newest = select(model.code, func.max(model.version).label("version")).group_by(model.code)
    if codes is not None:
        newest = newest.where(model.code.in_(codes))
    latest = newest.subquery()
    return select(model).join(
        latest, (model.code == latest.c.code) & (model.version == latest.c.version)
    )


async def _version(
    session: AsyncSession, model: type[V], *, code: str, version: int | None
) -> V | None:
    """The given version of ``code``, or its newest when ``version`` is None."""
    query = select(model).where(model.code == code)
    if version is not None:
        query = query.where(model.version == version)
    return await session.scalar(query.order_by(model.version.desc()).limit(1))


async def _next_version(session: AsyncSession, model: type[V], *, code: str) -> int:
    latest = await session.scalar(select(func.max(model.version)).where(model.code == code))
    return (latest or 0) + 1


async def publish(session: AsyncSession, outbox: Outbox, *, data: MatterCreate) -> Matter:
    """Publish a new version of a matter and its event in the caller's transaction."""
    matter = Matter(
        **data.model_dump(mode="json"),
        version=await _next_version(session, Matter, code=data.code),
        published_at=datetime.now(UTC),
    )
    session.add(matter)
    await session.flush()
    await outbox.add(
        session, MatterPublished.model_validate(matter_fields(matter)), key=matter.code
    )
    return matter


def matter_fields(matter: Matter) -> dict[str, Any]:
    return {
        name: getattr(matter, name)
        for name in MatterPublished.model_fields
        if hasattr(Matter, name) and name != "id"
    }


async def publish_once(
    session: AsyncSession,
    outbox: Outbox,
    *,
    idempotency: Idempotency,
    publisher: InternalPrincipal,
    data: MatterCreate,
) -> Matter:
    """Publish ``data``, or answer the version the first request with the same
    ``Idempotency-Key`` published."""
    prior = await idempotency.replay(session, publisher.subject, payload=data.model_dump())
    if prior is not None:
        return await session.get_one(Matter, int(prior.resource_id or 0))
    matter = await publish(session, outbox, data=data)
    await idempotency.remember(session, 201, resource_id=str(matter.id))
    return matter


async def current_versions(
    session: AsyncSession, after: str | None, *, limit: int, main_item: str | None = None
) -> list[Matter]:
    query = _current_versions(Matter).order_by(Matter.code).limit(limit)
    if after:
        query = query.where(Matter.code > after)
    if main_item:
        query = query.where(Matter.main_item_code == main_item)
    return list((await session.scalars(query)).all())


async def list_matters(
    session: AsyncSession, cursor: str | None, *, limit: int, main_item: str | None
) -> tuple[list[Matter], str | None]:
    """A page of current versions by code, after the page ``cursor`` ends; and the next
    page's cursor when this one is full."""
    rows = await current_versions(session, decode_id(cursor), limit=limit, main_item=main_item)
    return rows, encode_key(rows[-1].code) if len(rows) == limit else None


async def get_matter(session: AsyncSession, code: str, *, version: int | None) -> RowMapping:
    """The given (or the current) version of a matter, as its row's columns; 404 when
    there is none. A row, not an ORM object: the catalogue's hottest read, and the ORM's
    identity map and instance state cost it more than the query (0.6 ms against 0.2 ms)."""
    table = Matter.__table__
    query = select(table).where(table.c.code == code)
    if version is not None:
        query = query.where(table.c.version == version)
    row = (await session.execute(query.order_by(table.c.version.desc()).limit(1))).mappings()
    matter = row.first()
    if matter is None:
        raise matter_not_found()
    return matter


async def current_of(session: AsyncSession, codes: Iterable[str]) -> dict[str, Matter]:
    """The current version of each of ``codes`` that exists."""
    wanted = sorted(set(codes))
    rows = await session.scalars(_current_versions(Matter, wanted))
    return {m.code: m for m in rows}


# ---- bundles ----------------------------------------------------------------------------


def walk(questions: list[GuideQuestion]) -> Iterator[GuideQuestion]:
    """Every question of a guide tree, depth first in asking order."""
    for question in questions:
        yield question
        for option in question.options:
            yield from walk(option.questions)


def bundle_problems(data: BundleCreate, matters: dict[str, Matter]) -> list[dict[str, str]]:
    """Every rule a bundle breaks, so the operator can fix them all at once."""
    problems: list[dict[str, str]] = []

    def problem(where: str, msg: str) -> None:
        problems.append({"loc": where, "msg": msg})

    seen: list[str] = []
    for i, member in enumerate(data.members):
        if member.matter in seen:
            problem(f"members/{i}", f"{member.matter} is listed twice")
        if member.matter not in matters:
            problem(f"members/{i}", f"matter {member.matter} is not published")
        for dependency in member.depends_on:
            if dependency not in seen:
                problem(
                    f"members/{i}/depends_on",
                    f"{dependency} must be a member listed before {member.matter}",
                )
        seen.append(member.matter)
    members = set(seen)

    def member_refs(where: str, codes: list[str]) -> None:
        for code in codes:
            if code not in members:
                problem(where, f"{code} is not a member of the bundle")

    names = [f.name for f in data.form]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problem("form", f"field {name} is listed twice")
    for i, step in enumerate(data.flow):
        member_refs(f"flow/{i}/matters", step.matters)
    member_refs("guide/base", data.guide.base)
    ids: list[str] = []
    for question in walk(data.guide.questions):
        where = f"guide/{question.id}"
        if question.id in ids:
            problem(where, "question id is used twice")
        ids.append(question.id)
        values = [option.value for option in question.options]
        if question.kind == "boolean" and sorted(values, key=str) != [False, True]:
            problem(where, "a boolean question has exactly the options true and false")
        if question.kind == "choice" and (
            not all(isinstance(v, str) for v in values) or len(set(values)) != len(values)
        ):
            problem(where, "a choice question has distinct text option values")
        for option in question.options:
            at = f"{where}/{option.value}"
            member_refs(at, option.include + option.exclude)
            for ref in option.situations:
                matter = matters.get(ref.matter)
                if ref.matter not in members or matter is None:
                    problem(at, f"{ref.matter} is not a published member of the bundle")
                elif ref.situation not in {s["code"] for s in matter.situations}:
                    problem(at, f"matter {ref.matter} has no situation {ref.situation}")
    return problems


def material_set(
    materials: Iterable[tuple[str, Material]], produced: Mapping[str, str] | None = None
) -> list[BundleMaterial]:
    """The union of (matter code, material) pairs, one entry per material code.

    A material asked for by several matters is asked for once: in its strongest form,
    as key if any matter holds it key. ``produced`` maps e-license types to the matter
    of the same application that issues them: the applicant does not bring those.
    """
    produced = produced or {}
    merged: dict[str, BundleMaterial] = {}
    for matter_code, material in materials:
        issuer = produced.get(material.license_type or "")
        if issuer is not None and issuer != matter_code:
            continue
        known = merged.get(material.code)
        if known is None:
            merged[material.code] = BundleMaterial(
                **material.model_dump(), for_matters=[matter_code]
            )
            continue
        if FORM_STRENGTH[material.form] > FORM_STRENGTH[known.form]:
            known.form = material.form
        known.key = known.key or material.key
        known.license_type = known.license_type or material.license_type
        if matter_code not in known.for_matters:
            known.for_matters.append(matter_code)
    return list(merged.values())


def materials_of(matter: Matter) -> list[Material]:
    return [Material.model_validate(m) for m in matter.materials]


def bundle_read(bundle: Bundle, matters: dict[str, Matter]) -> BundleRead:
    """A bundle version with its members' current names, versions and material set."""
    members = [
        BundleMemberRead(
            matter=m["matter"],
            depends_on=m["depends_on"],
            name=matters[m["matter"]].name,
            version=matters[m["matter"]].version,
        )
        for m in bundle.members
    ]
    pairs = [(m.matter, x) for m in members for x in materials_of(matters[m.matter])]
    return BundleRead.model_validate(
        {
            "code": bundle.code,
            "version": bundle.version,
            "name": bundle.name,
            "department": bundle.department,
            "scenario": bundle.scenario,
            "description": bundle.description,
            "keywords": bundle.keywords,
            "members": members,
            "form": bundle.form,
            "flow": bundle.flow,
            "instructions": bundle.instructions,
            "guide": bundle.guide,
            "published_at": bundle.published_at,
            "materials": material_set(pairs),
        }
    )


async def publish_bundle(
    session: AsyncSession, outbox: Outbox, *, data: BundleCreate
) -> BundleRead:
    """Publish a new version of a bundle and its event in the caller's transaction."""
    matters = await current_of(session, [m.matter for m in data.members])
    problems = bundle_problems(data, matters)
    if problems:
        raise ProblemError(
            422, "bundle_invalid", "一件事配置有误", title_en="Invalid bundle", errors=problems
        )
    fields = data.model_dump(mode="json")
    bundle = Bundle(
        **fields,
        version=await _next_version(session, Bundle, code=data.code),
        published_at=datetime.now(UTC),
    )
    session.add(bundle)
    await session.flush()
    read = bundle_read(bundle, matters)
    await outbox.add(session, BundlePublished.model_validate(read.model_dump()), key=bundle.code)
    return read


async def publish_bundle_once(
    session: AsyncSession,
    outbox: Outbox,
    *,
    idempotency: Idempotency,
    publisher: InternalPrincipal,
    data: BundleCreate,
) -> BundleRead:
    """Publish ``data``, or answer the version the first request with the same
    ``Idempotency-Key`` published."""
    prior = await idempotency.replay(session, publisher.subject, payload=data.model_dump())
    if prior is not None:
        code, _, version = (prior.resource_id or "").rpartition("@")
        return await read_bundle(session, await get_bundle(session, code, version=int(version)))
    bundle = await publish_bundle(session, outbox, data=data)
    await idempotency.remember(session, 201, resource_id=f"{bundle.code}@{bundle.version}")
    return bundle


async def get_bundle(session: AsyncSession, code: str, *, version: int | None) -> Bundle:
    """The given (or the current) version of a bundle; 404 when there is none."""
    bundle = await _version(session, Bundle, code=code, version=version)
    if bundle is None:
        raise bundle_not_found()
    return bundle


async def current_bundles(session: AsyncSession, after: str | None, *, limit: int) -> list[Bundle]:
    query = _current_versions(Bundle).order_by(Bundle.code).limit(limit)
    if after:
        query = query.where(Bundle.code > after)
    return list((await session.scalars(query)).all())


async def list_bundles(
    session: AsyncSession, cursor: str | None, *, limit: int
) -> tuple[list[BundleRead], str | None]:
    """A page of current bundle versions by code, after the page ``cursor`` ends; and the
    next page's cursor when this one is full."""
    rows = await current_bundles(session, decode_id(cursor), limit=limit)
    next_cursor = encode_key(rows[-1].code) if len(rows) == limit else None
    return [await read_bundle(session, r) for r in rows], next_cursor


async def read_bundle(session: AsyncSession, bundle: Bundle) -> BundleRead:
    matters = await current_of(session, [m["matter"] for m in bundle.members])
    return bundle_read(bundle, matters)


async def is_empty(session: AsyncSession) -> bool:
    matters = await session.scalar(select(func.count()).select_from(Matter))
    bundles = await session.scalar(select(func.count()).select_from(Bundle))
    return not matters and not bundles
