"""window presence, sub-case results and the case access log

Cases the applicant submitted online count as present (``applicant``); window cases
already open wait for presence to be recorded before anyone reads the applicant's data.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accessor_type", sa.String(length=20), nullable=False),
        sa.Column("accessor", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("subcase_id", sa.String(length=36), nullable=True),
        sa.Column("material", sa.String(length=64), nullable=True),
        sa.Column("upload_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_access_log_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("presence", sa.JSON(), nullable=True))
    cases = sa.table("cases", sa.column("channel", sa.String()), sa.column("presence", sa.JSON()))
    op.execute(
        cases.update().where(cases.c.channel == "online").values(presence={"method": "applicant"})
    )

    with op.batch_alter_table("subcases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result_encrypted", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subcases", schema=None) as batch_op:
        batch_op.drop_column("result_encrypted")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("presence")
    with op.batch_alter_table("case_access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_access_log_case_id"))
    op.drop_table("case_access_log")
