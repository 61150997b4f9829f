"""API keys in a table of their own: several per principal, revocable, rotated with a grace.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("principal_id", sa.String(64), sa.ForeignKey("principals.id"), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_api_keys_principal_id", "api_keys", ["principal_id"])
    principals = sa.table(
        "principals",
        sa.column("id", sa.String),
        sa.column("key_id", sa.String),
        sa.column("key_hash", sa.String),
    )
    keys = sa.table(
        "api_keys",
        sa.column("key_id", sa.String),
        sa.column("principal_id", sa.String),
        sa.column("key_hash", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"key_id": r.key_id, "principal_id": r.id, "key_hash": r.key_hash, "created_at": now}
        for r in connection.execute(sa.select(principals))
    ]
    if rows:
        connection.execute(sa.insert(keys), rows)
    with op.batch_alter_table("principals") as batch:
        batch.drop_column("key_id")
        batch.drop_column("key_hash")


def downgrade() -> None:
    # each principal keeps one key: its newest that is not revoked (a revoked one if none)
    with op.batch_alter_table("principals") as batch:
        batch.add_column(sa.Column("key_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("key_hash", sa.String(64), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT principal_id, key_id, key_hash FROM api_keys "
            "ORDER BY revoked_at IS NULL, created_at"
        )
    )
    for principal_id, key_id, key_hash in rows:
        connection.execute(
            sa.text("UPDATE principals SET key_id = :k, key_hash = :h WHERE id = :p"),
            {"k": key_id, "h": key_hash, "p": principal_id},
        )
    op.drop_index("ix_api_keys_principal_id", "api_keys")
    op.drop_table("api_keys")
