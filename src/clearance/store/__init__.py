"""Persistence of the register: SQLAlchemy 2 with Alembic migrations; SQLite or PostgreSQL."""

from clearance.store._db import (
    DatabaseUnavailable,
    make_engine,
    migrate,
    schema_is_current,
    sqlite_url,
)
from clearance.store._evidence import (
    StoredEvidence,
    add_evidence,
    applications_citing,
    confidential_digests,
    evidence_bytes,
    evidence_summary,
    find_evidence,
    link_application,
    make_confidential,
    may_read,
)
from clearance.store._keys import key_digest, key_matches, new_api_key, split_key
from clearance.store._log import (
    KEY_ROTATION_KIND,
    LogEntry,
    TransparencyLog,
    checkpoint_history,
    key_rotations,
    latest_checkpoint,
    statement_envelope,
)
from clearance.store._scheduler import due_transitions, run_due
from clearance.store._statements import (
    MODEL_FIELDS,
    PREDICATE_PREFIX,
    event_statement,
    model_digest,
    predicate_type,
    record_digest,
)
from clearance.store._store import ChangeHook, Store, Transaction
from clearance.store._tilestore import SqlTileStore

__all__ = [
    "KEY_ROTATION_KIND",
    "MODEL_FIELDS",
    "PREDICATE_PREFIX",
    "ChangeHook",
    "DatabaseUnavailable",
    "LogEntry",
    "SqlTileStore",
    "Store",
    "StoredEvidence",
    "Transaction",
    "TransparencyLog",
    "add_evidence",
    "applications_citing",
    "checkpoint_history",
    "confidential_digests",
    "due_transitions",
    "event_statement",
    "evidence_bytes",
    "evidence_summary",
    "find_evidence",
    "key_digest",
    "key_matches",
    "key_rotations",
    "latest_checkpoint",
    "link_application",
    "make_confidential",
    "make_engine",
    "may_read",
    "migrate",
    "model_digest",
    "new_api_key",
    "predicate_type",
    "record_digest",
    "run_due",
    "schema_is_current",
    "split_key",
    "sqlite_url",
    "statement_envelope",
]
