"""The seed catalogue (``matters/seed/*.yaml``): published at start when the catalogue
is empty, through the normal publish path, so every version has its event."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matters import catalogue
from matters.schemas import BundleCreate, MatterCreate
from yiwang_platform.outbox import Outbox

log = logging.getLogger(__name__)

SEED = Path(__file__).parent / "seed"


def seed_matters() -> list[MatterCreate]:
    raw = yaml.safe_load((SEED / "matters.yaml").read_text(encoding="utf-8"))
    return [MatterCreate.model_validate(m) for m in raw["matters"]]


def seed_bundles() -> list[BundleCreate]:
    raw = yaml.safe_load((SEED / "bundles.yaml").read_text(encoding="utf-8"))
    return [BundleCreate.model_validate(b) for b in raw["bundles"]]


async def seed_catalogue(sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> bool:
    """Publish the seed when the catalogue is empty; True when this call published it.

    Two replicas starting together both find it empty; the second one's first insert
    then hits the unique (code, version) of the first one's, and its whole transaction,
    events included, rolls back: the catalogue is published once.
    """
    matters, bundles = seed_matters(), seed_bundles()
    try:
        async with sessions() as session, session.begin():
            if not await catalogue.is_empty(session):
                return False
            for matter in matters:
                await catalogue.publish(session, outbox, data=matter)
            for bundle in bundles:
                await catalogue.publish_bundle(session, outbox, data=bundle)
    except IntegrityError:
        log.info("seed catalogue already published by another replica")
        return False
    log.info("seed catalogue published: %d matters, %d bundles", len(matters), len(bundles))
    return True
