"""Persistence of the register: SQLAlchemy 2 with Alembic migrations; SQLite or PostgreSQL."""

from clearance.store._cosignatures import (
    Cosigned,
    SignedCheckpoint,
    newest_checkpoint,
    published_checkpoint,
    record_cosignature,
)
from clearance.store._db import (
    DatabaseUnavailable,
    make_engine,
    migrate,
    schema_is_current,
    sqlite_url,
)
from clearance.store._frameworks import effective_at
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
from clearance.store._outbox import (
    MAX_ATTEMPTS,
    Message,
    NoticeHook,
    deliver_due,
    new_secret,
    redeliver,
    retry_delay,
    sign,
)
from clearance.store._proceedings import appeal_framework, appealed_act, heard_act, interested
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
    "MAX_ATTEMPTS",
    "MODEL_FIELDS",
    "PREDICATE_PREFIX",
    "ChangeHook",
    "Cosigned",
    "DatabaseUnavailable",
    "LogEntry",
    "Message",
    "NoticeHook",
    "SignedCheckpoint",
    "SqlTileStore",
    "Store",
    "Transaction",
    "TransparencyLog",
    "appeal_framework",
    "appealed_act",
    "checkpoint_history",
    "deliver_due",
    "due_transitions",
    "effective_at",
    "event_statement",
    "heard_act",
    "interested",
    "key_digest",
    "key_matches",
    "key_rotations",
    "latest_checkpoint",
    "make_engine",
    "migrate",
    "model_digest",
    "new_api_key",
    "new_secret",
    "newest_checkpoint",
    "predicate_type",
    "published_checkpoint",
    "record_cosignature",
    "record_digest",
    "redeliver",
    "retry_delay",
    "run_due",
    "schema_is_current",
    "sign",
    "split_key",
    "sqlite_url",
    "statement_envelope",
]
