"""Decisions' validity as indexed columns, so the clock finds lapsing approvals.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lapsed", sa.Boolean, nullable=True))
        batch.create_index("ix_decisions_valid_until", ["valid_until"])
    decisions = sa.table(
        "decisions",
        sa.column("id", sa.String),
        sa.column("body", sa.JSON),
        sa.column("valid_until", sa.DateTime(timezone=True)),
        sa.column("lapsed", sa.Boolean),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(decisions.c.id, decisions.c.body)).all():
        body = row.body if isinstance(row.body, dict) else json.loads(row.body)
        connection.execute(
            decisions.update()
            .where(decisions.c.id == row.id)
            .values(
                valid_until=dt.datetime.fromisoformat(body["valid_until"]),
                lapsed=bool(body.get("lapsed", False)),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_index("ix_decisions_valid_until")
        batch.drop_column("lapsed")
        batch.drop_column("valid_until")
