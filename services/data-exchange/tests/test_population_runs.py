"""A run of county records applied set-based (the consumer's batch path) ends as the
same records applied one by one would: versions compared in arrival order, a record of
another source replacing the stored one, a stored face kept, bad records refused alone."""

from __future__ import annotations

import functools
from datetime import date

from sqlalchemy import func, select

from data_exchange import population
from data_exchange.models import PopulationRecord, outbox
from yiwang_platform.testing import running

from .factories import county_person as person
from .factories import id_number as resident_id
from .factories import make_app, resident

id_number = functools.partial(resident_id, area="110105")
BORN = date(1991, 4, 2)


async def test_a_run_applies_as_its_records_would_one_by_one(backend, verifier):
    a, c, d = (id_number(BORN, n) for n in (301, 302, 303))
    b = id_number(BORN, 304)
    b_bad = b[:-1] + ("1" if b[-1] != "1" else "2")
    app = await make_app(backend, verifier)
    async with running(app):
        runtime = app.state.runtime
        cipher = runtime.cipher
        matcher = runtime.collaborators.matcher
        async with runtime.sessions() as session, session.begin():
            for number, version in ((c, 5), (d, 9)):
                await population.upsert(
                    session,
                    runtime.outbox,
                    cipher=cipher,
                    record=population.parse(person(number, BORN, version=version, name="旧名")),
                    face_encoding="stored-face",
                )

        async def events() -> int:
            async with runtime.sessions() as s:
                return await s.scalar(select(func.count()).select_from(outbox))

        before = await events()
        run = [
            person(a, BORN, version=1),
            person(a, BORN, version=3, name="甲三"),
            person(a, BORN, version=2, name="过时"),
            person(b_bad, BORN),
            person(c, BORN, version=6, name="丙六"),
            person(c, BORN, version=6, name="再来一次"),
            resident(d, BORN, source="330108-hukou", name="迁入", sex="男"),
        ]
        async with runtime.sessions() as session, session.begin():
            refused = await population.upsert_received_many(
                session=session,
                outbox=runtime.outbox,
                cipher=cipher,
                matcher=matcher,
                records=[population.parse(r) for r in run],
            )

        assert refused == {3: "id_number: invalid checksum"}
        async with runtime.sessions() as s:
            rows = {
                cipher.decrypt(r.id_number): r for r in await s.scalars(select(PopulationRecord))
            }
        assert set(rows) == {a, c, d}
        found = {
            n: (cipher.decrypt(r.name), r.source, r.source_version, r.face_encoding)
            for n, r in rows.items()
        }
        assert found == {
            a: ("甲三", "330106-hukou", 3, None),
            c: ("丙六", "330106-hukou", 6, "stored-face"),
            d: ("迁入", "330108-hukou", 1, "stored-face"),
        }
        # One announcement per effective change: a v1, a v3, c v6, d.
        assert await events() - before == 4
