"""Smart guide (智能导办): a bundle's question tree and the answers so far → the member
matters that apply, in the order they are done, and the applicant's material list."""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue
from sqlalchemy.ext.asyncio import AsyncSession

from matters.catalogue import current_of, get_bundle, material_set, materials_of, walk
from matters.models import Bundle, Matter
from matters.schemas import (
    Guide,
    GuideMatter,
    GuideMatterMaterial,
    GuideOption,
    GuideQuestion,
    GuideQuestionOption,
    GuideResult,
    Material,
    NextQuestion,
)
from yiwang_platform.errors import ProblemError


def chosen_option(question: GuideQuestion, value: JsonValue) -> GuideOption | None:
    # type() as well as ==, so that 1 is not taken for true.
    for option in question.options:
        if type(option.value) is type(value) and option.value == value:
            return option
    return None


def check_answers(questions: dict[str, GuideQuestion], answers: dict[str, JsonValue]) -> None:
    """422 listing every unknown question and every value a question does not offer."""
    problems: list[dict[str, Any]] = []
    for question_id, value in answers.items():
        question = questions.get(question_id)
        if question is None:
            problems.append(
                {
                    "loc": ["answers", question_id],
                    "type": "unknown_question",
                    "msg": "this bundle's guide has no such question",
                }
            )
        elif chosen_option(question, value) is None:
            problems.append(
                {
                    "loc": ["answers", question_id],
                    "type": "invalid_answer",
                    "msg": "the answer is not one of the question's options",
                    "allowed": [o.value for o in question.options],
                }
            )
    if problems:
        raise ProblemError(
            422,
            "guide_answers_invalid",
            "导办回答有误",
            title_en="Invalid guide answers",
            errors=problems,
        )


async def answer(
    session: AsyncSession, code: str, *, version: int | None, answers: dict[str, JsonValue]
) -> GuideResult:
    """The guide of the given (or the current) version of bundle ``code`` on ``answers``,
    against the current versions of its members; 404 when there is no such bundle."""
    bundle = await get_bundle(session, code, version=version)
    matters = await current_of(session, [m["matter"] for m in bundle.members])
    return evaluate(bundle, matters, answers=answers)


def evaluate(
    bundle: Bundle, matters: dict[str, Matter], *, answers: dict[str, JsonValue]
) -> GuideResult:
    guide = Guide.model_validate(bundle.guide)
    check_answers({q.id: q for q in walk(guide.questions)}, answers)

    included = set(guide.base)
    excluded: set[str] = set()
    situations: dict[str, set[str]] = {}
    unanswered: list[GuideQuestion] = []

    def visit(questions: list[GuideQuestion]) -> None:
        # Answers to questions below an option not chosen are ignored, not refused:
        # a caller may send every answer it has collected.
        for question in questions:
            if question.id not in answers:
                unanswered.append(question)
                continue
            option = chosen_option(question, answers[question.id])
            assert option is not None  # checked above
            included.update(option.include)
            excluded.update(option.exclude)
            for ref in option.situations:
                situations.setdefault(ref.matter, set()).add(ref.situation)
            visit(option.questions)

    visit(guide.questions)
    members = [m for m in bundle.members if m["matter"] in included and m["matter"] not in excluded]
    applicable = {m["matter"] for m in members}

    result_matters: list[GuideMatter] = []
    pairs: list[tuple[str, Material]] = []
    for member in members:
        matter = matters[member["matter"]]
        needed = own_materials(matter, situations.get(matter.code, set()))
        pairs.extend((matter.code, material) for material in needed)
        result_matters.append(
            GuideMatter(
                code=matter.code,
                version=matter.version,
                name=matter.name,
                department=matter.department,
                promised_days=matter.promised_days,
                legal_days=matter.legal_days,
                license_type=matter.license_type,
                commitment_allowed=matter.commitment_allowed,
                depends_on=[d for d in member["depends_on"] if d in applicable],
                materials=[GuideMatterMaterial(**m.model_dump()) for m in needed],
            )
        )
    produced: dict[str, str] = {}
    for code in applicable:
        if matters[code].license_type:
            produced[str(matters[code].license_type)] = code
    return GuideResult(
        bundle_code=bundle.code,
        bundle_version=bundle.version,
        complete=not unanswered,
        next_questions=[
            NextQuestion(
                id=q.id,
                text=q.text,
                kind=q.kind,
                options=[GuideQuestionOption(value=o.value, label=o.label) for o in q.options],
            )
            for q in unanswered
        ],
        matters=result_matters,
        materials=material_set(pairs, produced),
    )


def own_materials(matter: Matter, situation_codes: set[str]) -> list[Material]:
    """The matter's materials plus those of its chosen situations, each code once."""
    needed = materials_of(matter)
    seen = {m.code for m in needed}
    for situation in matter.situations:
        if situation["code"] not in situation_codes:
            continue
        for raw in situation["materials"]:
            material = Material.model_validate(raw)
            if material.code not in seen:
                seen.add(material.code)
                needed.append(material)
    return needed
