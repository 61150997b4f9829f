"""Obligations: each decision's conditions as typed records with due dates and consequences.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "obligations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("model_id", sa.String(64), sa.ForeignKey("models.id"), nullable=False),
        sa.Column("decision_id", sa.String(64), sa.ForeignKey("decisions.id"), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("body", sa.JSON, nullable=False),
    )
    for column in ("model_id", "decision_id", "state", "due_at"):
        op.create_index(f"ix_obligations_{column}", "obligations", [column])


def downgrade() -> None:
    for column in ("due_at", "state", "decision_id", "model_id"):
        op.drop_index(f"ix_obligations_{column}", "obligations")
    op.drop_table("obligations")
