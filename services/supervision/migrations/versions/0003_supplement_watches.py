"""supplement watches

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supplement_watches",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("matter_code", sa.String(length=40), nullable=False),
        sa.Column("matter_name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("missing", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    with op.batch_alter_table("supplement_watches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_supplement_watches_status_due", ["status", "due_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supplement_watches", schema=None) as batch_op:
        batch_op.drop_index("ix_supplement_watches_status_due")

    op.drop_table("supplement_watches")
