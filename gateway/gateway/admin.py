"""Operator commands against the gateway's database (``python -m gateway.admin ...``):

    add-staff STAFF_ID --department 市市场监督管理局 --roles reviewer [--hall 一楼综合窗口]

reads the password from ``YIWANG_STAFF_PASSWORD`` (never from the command line, which
other users of the machine can see), creates or updates the staff account, and prints
a new personal key (专属密钥) once: only its digest is stored. ``add_staff`` and
``sms_code_sent`` are also what the local tools, benchmarks and tests use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from gateway.identity.accounts import set_staff
from gateway.identity.sms import FileOutboxSms
from gateway.settings import Settings
from yiwang_platform.db import create_engine, session_factory


async def add_staff(
    settings: Settings,
    staff_id: str,
    *,
    department: str,
    roles: list[str],
    password: str,
    hall: str | None = None,
) -> str:
    """Create or reset a staff account; returns the new personal key."""
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session, session.begin():
            return await set_staff(
                session,
                staff_id,
                department=department,
                roles=roles,
                password=password,
                hall=hall,
            )
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    staff = commands.add_parser("add-staff", help="create or reset a staff account")
    staff.add_argument("staff_id")
    staff.add_argument("--department", required=True)
    staff.add_argument("--roles", required=True, help="comma-separated: window,reviewer")
    staff.add_argument("--hall")
    args = parser.parse_args(argv)
    password = os.environ.get("YIWANG_STAFF_PASSWORD", "")
    if len(password) < 12:
        print("set YIWANG_STAFF_PASSWORD (at least 12 characters)", file=sys.stderr)
        return 2
    key = asyncio.run(
        add_staff(
            Settings(),
            args.staff_id,
            department=args.department,
            roles=[r.strip() for r in args.roles.split(",") if r.strip()],
            password=password,
            hall=args.hall,
        )
    )
    print(key)
    return 0


def sms_code_sent(outbox: Path, phone: str) -> str | None:
    """The newest one-time code the development SMS provider wrote to ``outbox`` for
    ``phone`` (``make run`` and the local tools sign citizens in with it)."""
    return FileOutboxSms(outbox).last_code_for(phone)


if __name__ == "__main__":
    sys.exit(main())
