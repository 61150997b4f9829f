"""The register's first schema.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _records(name: str, *columns: sa.Column, indexes: tuple[str, ...] = ()) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column("id", sa.String(64), primary_key=True),
        *columns,
        sa.Column("body", sa.JSON, nullable=False),
    )
    for column in indexes:
        op.create_index(f"ix_{name}_{column}", name, [column])


def _fk(column: str, target: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(column, sa.String(64), sa.ForeignKey(f"{target}.id"), nullable=False)


def upgrade() -> None:
    _records(
        "organizations",
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
    )
    _records(
        "principals",
        _fk("organization_id", "organizations"),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        indexes=("organization_id",),
    )
    _records(
        "models",
        _fk("organization_id", "organizations"),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        indexes=("organization_id",),
    )
    _records(
        "applications",
        _fk("model_id", "models"),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("filed_at", TS, nullable=False),
        indexes=("model_id", "state", "deadline", "filed_at"),
    )
    _records(
        "information_requests",
        _fk("application_id", "applications"),
        indexes=("application_id",),
    )
    _records(
        "decisions",
        _fk("model_id", "models"),
        _fk("application_id", "applications"),
        sa.Column("final", sa.Boolean, nullable=False),
        sa.Column("appeal_deadline", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        indexes=("model_id", "final", "decided_at"),
    )
    _records(
        "appeals",
        _fk("decision_id", "decisions"),
        sa.Column("state", sa.String(20), nullable=False),
        indexes=("decision_id",),
    )
    _records(
        "directives",
        _fk("model_id", "models"),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("sunset_at", TS, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        indexes=("model_id", "state", "sunset_at"),
    )
    _records(
        "access_requests",
        _fk("model_id", "models"),
        _fk("organization_id", "organizations"),
        sa.Column("state", sa.String(20), nullable=False),
        indexes=("model_id", "state"),
    )
    _records(
        "grants",
        _fk("model_id", "models"),
        _fk("organization_id", "organizations"),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        indexes=("model_id", "organization_id", "state", "expires_at"),
    )
    _records(
        "reports",
        _fk("model_id", "models"),
        sa.Column("filed_at", TS, nullable=False),
        indexes=("model_id",),
    )
    _records(
        "model_status",
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        indexes=("status",),
    )
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_events_model_id_seq", "events", ["model_id", "seq"])
    op.create_index("ix_events_subject", "events", ["subject"])
    op.create_table(
        "clock_applied",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("subject", sa.String(128), primary_key=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "frameworks",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("framework_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.UniqueConstraint("framework_id", "version", name="uq_frameworks_id_version"),
    )
    op.create_table(
        "evidence",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("parsed", sa.JSON, nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "evidence", "frameworks", "clock_applied", "events", "model_status", "reports", "grants",
        "access_requests", "directives", "appeals", "decisions", "information_requests",
        "applications", "models", "principals", "organizations",
    ):  # fmt: skip
        op.drop_table(table)
