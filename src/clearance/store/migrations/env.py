"""Alembic environment: runs migrations on the connection clearance hands it."""

from __future__ import annotations

from alembic import context

from clearance.store._tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("clearance runs its migrations through clearance.store.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
