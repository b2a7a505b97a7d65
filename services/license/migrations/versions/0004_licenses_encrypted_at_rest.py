"""licenses: holder name and data fields encrypted at rest

The holder's name and the license's fields move to encrypted columns. Encrypting the
existing rows needs the PII key, which migrations do not hold: the service does it when
it starts (license.storage.encrypt_legacy), then clears the old plaintext columns, which
stay (nullable) until a later revision drops them.

Revision ID: 0004
Revises: 0003
Create Date:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_name_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("fields_encrypted", sa.Text(), nullable=True))
        batch_op.alter_column("holder_name", existing_type=sa.String(length=200), nullable=True)
        batch_op.alter_column("fields", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    # Rows encrypted since hold no plaintext to restore: refuse rather than lose them.
    licenses = sa.table("licenses", sa.column("holder_name", sa.String()))
    bind = op.get_bind()
    if bind.execute(
        sa.select(sa.func.count()).select_from(licenses).where(licenses.c.holder_name.is_(None))
    ).scalar():
        raise RuntimeError("licenses are encrypted at rest: decrypt them before downgrading")
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.alter_column("fields", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("holder_name", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column("fields_encrypted")
        batch_op.drop_column("holder_name_encrypted")
