"""Households in the population library: a person's spouse (both records must name
each other, so one stale or wrong record discloses no one) and the others registered
under the same household number (户号)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from data_exchange.models import PopulationRecord

MAX_MEMBERS = 20


@dataclass(frozen=True)
class Household:
    spouse: PopulationRecord | None
    same_household: bool  # the spouses share a household number
    members: list[PopulationRecord]  # besides the person and their spouse, oldest first


async def household_of(session: AsyncSession, person: PopulationRecord) -> Household:
    spouse = None
    if person.spouse_index:
        candidate = await session.scalar(
            select(PopulationRecord).where(PopulationRecord.id_index == person.spouse_index)
        )
        if candidate is not None and candidate.spouse_index == person.id_index:
            spouse = candidate
    members: list[PopulationRecord] = []
    if person.household_number:
        excluded = [person.id_index] + ([spouse.id_index] if spouse else [])
        query = (
            select(PopulationRecord)
            .where(
                PopulationRecord.household_number == person.household_number,
                PopulationRecord.id_index.not_in(excluded),
            )
            .order_by(PopulationRecord.birth_date, PopulationRecord.record_id)
            .limit(MAX_MEMBERS)
        )
        members = list((await session.scalars(query)).all())
    same = (
        spouse is not None
        and person.household_number is not None
        and spouse.household_number == person.household_number
    )
    return Household(spouse, same, members)
