"""Testing grants: what a grant is for (an organization's access, or the authority's testing).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.add_column(
            sa.Column("purpose", sa.String(20), nullable=False, server_default="access")
        )
    op.create_index("ix_grants_purpose", "grants", ["purpose"])


def downgrade() -> None:
    op.drop_index("ix_grants_purpose", "grants")
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("purpose")
