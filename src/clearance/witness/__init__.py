"""A C2SP tlog-witness: cosigns a log's checkpoints when each extends the last one it saw.

It can run anywhere a third party likes (a court, a parliament office, a civil-society group):
it needs only the logs' verifier keys, keeps one row per log in SQLite, and never trusts the log
beyond its signature and its consistency proofs.
"""

from clearance.witness._app import MAX_BODY, WitnessApp
from clearance.witness._folder import (
    WITNESS_DB,
    WITNESS_KEY,
    WITNESS_VKEY,
    open_witness_folder,
    read_log_keys,
)
from clearance.witness._store import Conflict, WitnessStore

__all__ = [
    "MAX_BODY",
    "WITNESS_DB",
    "WITNESS_KEY",
    "WITNESS_VKEY",
    "Conflict",
    "WitnessApp",
    "WitnessStore",
    "open_witness_folder",
    "read_log_keys",
]
