"""Confidential evidence, who filed which evidence, and the salts of withheld names.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(
            sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("organization_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("uploaded_by", sa.String(64), nullable=True))
    op.create_table(
        "evidence_grants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("evidence.sha256"), nullable=False),
        sa.Column("principal_id", sa.String(64), sa.ForeignKey("principals.id"), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_index("ix_evidence_grants_sha256", "evidence_grants", ["sha256"])
    op.create_table(
        "application_evidence",
        sa.Column(
            "application_id",
            sa.String(64),
            sa.ForeignKey("applications.id"),
            primary_key=True,
        ),
        sa.Column("sha256", sa.String(64), primary_key=True),
    )
    op.create_index("ix_application_evidence_sha256", "application_evidence", ["sha256"])
    op.create_table(
        "organization_salts",
        sa.Column(
            "organization_id",
            sa.String(64),
            sa.ForeignKey("organizations.id"),
            primary_key=True,
        ),
        sa.Column("salt", sa.LargeBinary, nullable=False),
    )
    applications = sa.table("applications", sa.column("id", sa.String), sa.column("body", sa.JSON))
    links = sa.table(
        "application_evidence", sa.column("application_id", sa.String), sa.column("sha256")
    )
    connection = op.get_bind()
    rows: list[dict[str, str]] = []
    for row in connection.execute(sa.select(applications.c.id, applications.c.body)).all():
        body = row.body if isinstance(row.body, dict) else json.loads(row.body)
        digests = {e["sha256"] for e in body.get("evidence", [])}
        if body.get("safeguards_declaration"):
            digests.add(body["safeguards_declaration"])
        rows.extend({"application_id": row.id, "sha256": d} for d in sorted(digests))
    if rows:
        connection.execute(links.insert(), rows)


def downgrade() -> None:
    op.drop_table("organization_salts")
    op.drop_index("ix_application_evidence_sha256", "application_evidence")
    op.drop_table("application_evidence")
    op.drop_index("ix_evidence_grants_sha256", "evidence_grants")
    op.drop_table("evidence_grants")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("uploaded_by")
        batch.drop_column("organization_id")
        batch.drop_column("confidential")
