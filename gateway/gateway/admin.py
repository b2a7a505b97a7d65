"""Operator commands against the gateway's database (``python -m gateway.admin ...``):

    add-staff STAFF_ID --department 市市场监督管理局 --roles reviewer [--hall 一楼综合窗口]

reads the password from ``YIWANG_STAFF_PASSWORD`` (never from the command line, which
other users of the machine can see), creates or updates the staff account, and prints
a new personal key (专属密钥) once: only its digest is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys

from gateway.accounts import hash_password, personal_key_digest
from gateway.identity_models import StaffAccount
from gateway.settings import Settings
from yiwang_platform.db import create_engine, session_factory


async def add_staff(
    settings: Settings,
    staff_id: str,
    department: str,
    roles: list[str],
    password: str,
    hall: str | None = None,
) -> str:
    """Create or reset a staff account; returns the new personal key."""
    personal_key = secrets.token_urlsafe(24)
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session, session.begin():
            account = await session.get(StaffAccount, staff_id)
            if account is None:
                account = StaffAccount(staff_id=staff_id)
                session.add(account)
            account.password_hash = hash_password(password)
            account.personal_key_hash = personal_key_digest(personal_key)
            account.department = department
            account.hall = hall
            account.roles = roles
            account.active = True
    finally:
        await engine.dispose()
    return personal_key


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
            args.department,
            [r.strip() for r in args.roles.split(",") if r.strip()],
            password,
            args.hall,
        )
    )
    print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
