"""case timelines, sub-cases, review handlings; one review per case and channel

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

# SQLite keeps 0001's unique constraint on reviews.case_id unnamed; batch mode names it so.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _old_unique() -> str:
    return "uq_reviews_case_id" if _sqlite() else "reviews_case_id_key"


def _reviews_unique(drop: str, create: str, columns: list[str]) -> None:
    if _sqlite():
        with op.batch_alter_table("reviews", naming_convention=_SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint(drop, type_="unique")
            batch_op.create_unique_constraint(create, columns)
    else:
        op.drop_constraint(drop, "reviews", type_="unique")
        op.create_unique_constraint(create, "reviews", columns)


def upgrade() -> None:
    op.create_table(
        "review_handlings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("review_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("matter_code", sa.String(length=40), nullable=False),
        sa.Column("matter_name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("review_id"),
    )
    with op.batch_alter_table("review_handlings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_handlings_status_due", ["status", "due_date", "id"], unique=False
        )

    op.create_table(
        "subcase_watches",
        sa.Column("subcase_id", sa.String(length=80), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("matter_code", sa.String(length=40), nullable=False),
        sa.Column("matter_name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("promised_days", sa.Integer(), nullable=False),
        sa.Column("depends_on", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subcase_id"),
    )
    with op.batch_alter_table("subcase_watches", schema=None) as batch_op:
        batch_op.create_index("ix_subcase_watches_case", ["case_id"], unique=False)
        batch_op.create_index("ix_subcase_watches_status_due", ["status", "due_date"], unique=False)

    op.create_table(
        "timeline_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("subcase_id", sa.String(length=80), nullable=True),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.create_index("ix_timeline_entries_case", ["case_id", "id"], unique=False)

    # The yellow day now follows the configured threshold, so it is computed when read.
    with op.batch_alter_table("case_watches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applicant_index", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_case_watches_status_due", ["status", "due_date"], unique=False)
        batch_op.drop_column("yellow_at")

    _reviews_unique(_old_unique(), "uq_reviews_case_channel", ["case_id", "channel"])


def downgrade() -> None:
    # Fails if a case has reviews on several channels, as the old key allows one.
    _reviews_unique("uq_reviews_case_channel", _old_unique(), ["case_id"])

    with op.batch_alter_table("case_watches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("yellow_at", sa.Date(), nullable=True))
        batch_op.drop_index("ix_case_watches_status_due")
        batch_op.drop_column("outcome")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("applicant_index")
    op.execute("UPDATE case_watches SET yellow_at = due_date")
    with op.batch_alter_table("case_watches", schema=None) as batch_op:
        batch_op.alter_column("yellow_at", existing_type=sa.Date(), nullable=False)

    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_timeline_entries_case")
    op.drop_table("timeline_entries")
    with op.batch_alter_table("subcase_watches", schema=None) as batch_op:
        batch_op.drop_index("ix_subcase_watches_status_due")
        batch_op.drop_index("ix_subcase_watches_case")
    op.drop_table("subcase_watches")
    with op.batch_alter_table("review_handlings", schema=None) as batch_op:
        batch_op.drop_index("ix_review_handlings_status_due")
    op.drop_table("review_handlings")
