"""matter implementation-list elements and bundles

Revision ID: 0002
Revises: 0001

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Versions published before these elements existed get empty lists and "no".
EMPTY_LIST = sa.text("'[]'")

LIST_COLUMNS = ["keywords", "legal_basis", "conditions", "materials", "situations", "fees"]


def upgrade() -> None:
    with op.batch_alter_table("matters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("main_item_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("main_item_name", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("department_credit_code", sa.String(length=18), nullable=True)
        )
        batch_op.add_column(sa.Column("service_object", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
        for name in LIST_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.JSON(), nullable=False, server_default=EMPTY_LIST)
            )
        batch_op.add_column(sa.Column("legal_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("online_depth", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("visits", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("cross_province", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("commitment_allowed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("license_type", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_matters_main_item_code"), ["main_item_code"], unique=False
        )

    op.create_table(
        "bundles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("scenario", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("flow", sa.JSON(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("guide", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", "version"),
    )
    with op.batch_alter_table("bundles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bundles_code"), ["code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bundles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bundles_code"))
    op.drop_table("bundles")
    with op.batch_alter_table("matters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matters_main_item_code"))
        for name in [
            "license_type",
            "commitment_allowed",
            "cross_province",
            "visits",
            "online_depth",
            "legal_days",
            *reversed(LIST_COLUMNS),
            "description",
            "service_object",
            "department_credit_code",
            "main_item_name",
            "main_item_code",
        ]:
            batch_op.drop_column(name)
