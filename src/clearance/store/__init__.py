"""Persistence of the register: SQLAlchemy 2 with Alembic migrations; SQLite or PostgreSQL."""

from clearance.store._db import (
    DatabaseUnavailable,
    make_engine,
    migrate,
    schema_is_current,
    sqlite_url,
)
from clearance.store._keys import key_digest, key_matches, new_api_key, split_key
from clearance.store._scheduler import due_transitions, run_due
from clearance.store._store import ChangeHook, Store, Transaction

__all__ = [
    "ChangeHook",
    "DatabaseUnavailable",
    "Store",
    "Transaction",
    "due_transitions",
    "key_digest",
    "key_matches",
    "make_engine",
    "migrate",
    "new_api_key",
    "run_due",
    "schema_is_current",
    "split_key",
    "sqlite_url",
]
