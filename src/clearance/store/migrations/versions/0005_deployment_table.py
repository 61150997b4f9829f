"""Decisions carry a deployment table: one tier becomes the same tier in every permitted group.

A decision recorded before the table existed said one tier for all its jurisdiction groups; it
now says that tier in each of them, with no sector cells and no departures recorded per cell (a
justified departure stays marked on the decision as a whole). Models' stored statuses get the
same table, so the gateway keeps serving exactly what it served before the upgrade.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _table(name: str) -> sa.TableClause:
    return sa.table(name, sa.column("id", sa.String), sa.column("body", sa.JSON))


def _with_table(body: dict[str, Any], denied: bool) -> dict[str, Any]:
    tier = body.get("tier")
    groups = body.get("jurisdictions") or []
    tiers = {} if denied or tier in (None, "halted", "internal") else dict.fromkeys(groups, tier)
    return body | {"tiers": tiers, "sector_tiers": {}}


def upgrade() -> None:
    connection = op.get_bind()
    for name in ("decisions", "model_status"):
        table = _table(name)
        for row in connection.execute(sa.select(table.c.id, table.c.body)).all():
            body = row.body if isinstance(row.body, dict) else json.loads(row.body)
            if "tiers" in body:
                continue
            if name == "decisions":
                upgraded = _with_table(body, body.get("outcome") == "denied") | {"departures": []}
            else:
                upgraded = _with_table(body, body.get("tier") is None)
            connection.execute(table.update().where(table.c.id == row.id).values(body=upgraded))


def downgrade() -> None:
    connection = op.get_bind()
    for name in ("decisions", "model_status"):
        table = _table(name)
        for row in connection.execute(sa.select(table.c.id, table.c.body)).all():
            body = row.body if isinstance(row.body, dict) else json.loads(row.body)
            for key in ("tiers", "sector_tiers", "departures"):
                body.pop(key, None)
            connection.execute(table.update().where(table.c.id == row.id).values(body=body))
