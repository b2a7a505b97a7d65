"""bundles, sub-cases and window decisions

Existing rows get server defaults: citizen applicants, no materials, no pause.

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
        "uploads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_index", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uploads_owner_index"), ["owner_index"], unique=False)

    op.create_table(
        "subcases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("matter_code", sa.String(length=40), nullable=False),
        sa.Column("matter_version", sa.Integer(), nullable=False),
        sa.Column("matter_name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("promised_days", sa.Integer(), nullable=False),
        sa.Column("license_type", sa.String(length=60), nullable=True),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subcases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subcases_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_subcases_department_status", ["department", "status"], unique=False
        )

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bundle_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("bundle_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "applicant_kind", sa.String(length=20), nullable=False, server_default="citizen"
            )
        )
        batch_op.add_column(sa.Column("materials", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("plan", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("required_materials", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("accepted_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("acceptance_mode", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("supplement_due", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("missing_materials", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("requested_materials", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("suspended_working_days", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))

    with op.batch_alter_table("matter_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("elements", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("matter_versions", schema=None) as batch_op:
        batch_op.drop_column("elements")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("outcome")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("suspended_working_days")
        batch_op.drop_column("requested_materials")
        batch_op.drop_column("suspended_at")
        batch_op.drop_column("missing_materials")
        batch_op.drop_column("supplement_due")
        batch_op.drop_column("acceptance_mode")
        batch_op.drop_column("accepted_by")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("required_materials")
        batch_op.drop_column("plan")
        batch_op.drop_column("materials")
        batch_op.drop_column("applicant_kind")
        batch_op.drop_column("bundle_version")
        batch_op.drop_column("bundle_code")

    with op.batch_alter_table("subcases", schema=None) as batch_op:
        batch_op.drop_index("ix_subcases_department_status")
        batch_op.drop_index(batch_op.f("ix_subcases_case_id"))

    op.drop_table("subcases")
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uploads_owner_index"))

    op.drop_table("uploads")
