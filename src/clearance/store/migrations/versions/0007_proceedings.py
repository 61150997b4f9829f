"""Proceedings: hearings, appeals of any act, framework effective dates, webhook notices.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
import yaml
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _body(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else dict(json.loads(value))


def upgrade() -> None:
    op.create_table(
        "hearings",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("model_id", sa.String(64), sa.ForeignKey("models.id"), nullable=False),
        sa.Column("act_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("hold_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    for column in ("model_id", "act_id", "state", "hold_by"):
        op.create_index(f"ix_hearings_{column}", "hearings", [column])

    with op.batch_alter_table("appeals") as batch:
        batch.alter_column("decision_id", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("act", sa.String(20), nullable=False, server_default="decision"))
        batch.add_column(sa.Column("act_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("model_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("decide_by", sa.DateTime(timezone=True), nullable=True))
        for column in ("act_id", "model_id", "decide_by"):
            batch.create_index(f"ix_appeals_{column}", [column])
    appeals = sa.table(
        "appeals",
        sa.column("id", sa.String),
        sa.column("body", sa.JSON),
        sa.column("decision_id", sa.String),
        sa.column("act_id", sa.String),
        sa.column("model_id", sa.String),
        sa.column("decide_by", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    for row in connection.execute(
        sa.select(appeals.c.id, appeals.c.body, appeals.c.decision_id)
    ).all():
        body = _body(row.body)
        connection.execute(
            appeals.update()
            .where(appeals.c.id == row.id)
            .values(
                act_id=body.get("act_id") or row.decision_id,
                model_id=body.get("model_id"),
                decide_by=dt.datetime.fromisoformat(body["decide_by"]),
            )
        )

    with op.batch_alter_table("frameworks") as batch:
        batch.add_column(sa.Column("state", sa.String(20), nullable=True))
        batch.add_column(sa.Column("effective_date", sa.Date, nullable=True))
    frameworks = sa.table(
        "frameworks",
        sa.column("digest", sa.String),
        sa.column("source", sa.Text),
        sa.column("current", sa.Boolean),
        sa.column("state", sa.String),
        sa.column("effective_date", sa.Date),
    )
    published = connection.execute(
        sa.select(frameworks.c.digest, frameworks.c.source, frameworks.c.current)
    ).all()
    for version in published:
        effective = yaml.safe_load(version.source).get("effective_date")
        if not isinstance(effective, dt.date):
            effective = dt.date.fromisoformat(str(effective))
        connection.execute(
            frameworks.update()
            .where(frameworks.c.digest == version.digest)
            .values(state="current" if version.current else "superseded", effective_date=effective)
        )
    with op.batch_alter_table("frameworks") as batch:
        batch.alter_column("state", existing_type=sa.String(20), nullable=False)
        batch.alter_column("effective_date", existing_type=sa.Date, nullable=False)

    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "organization_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False
        ),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_webhook_endpoints_organization_id", "webhook_endpoints", ["organization_id"]
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "endpoint_id", sa.String(64), sa.ForeignKey("webhook_endpoints.id"), nullable=False
        ),
        sa.Column("organization_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_organization_id", "outbox", ["organization_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("message_id", sa.String(64), sa.ForeignKey("outbox.id"), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_webhook_deliveries_message_id", "webhook_deliveries", ["message_id"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("outbox")
    op.drop_table("webhook_endpoints")
    with op.batch_alter_table("frameworks") as batch:
        batch.drop_column("effective_date")
        batch.drop_column("state")
    with op.batch_alter_table("appeals") as batch:
        for column in ("act_id", "model_id", "decide_by"):
            batch.drop_index(f"ix_appeals_{column}")
        batch.drop_column("decide_by")
        batch.drop_column("model_id")
        batch.drop_column("act_id")
        batch.drop_column("act")
        batch.alter_column("decision_id", existing_type=sa.String(64), nullable=False)
    op.drop_table("hearings")
