"""The witness's memory: the latest cosigned checkpoint of each log it follows, in SQLite.

tlog-witness asks that checking a request against the stored size and storing the new checkpoint
be one atomic step, persisted before the cosignature is returned: otherwise two racing requests
could roll a log's record back, or a crash could make the witness forget what it cosigned and
later cosign a different history. Here every decision and its write happen inside one SQLite
transaction (`BEGIN IMMEDIATE`, so concurrent witnesses on one file serialize too), committed
with `synchronous=FULL` in WAL mode: a commit is on disk before anyone is answered.

A commit costs an fsync (about 2 ms here), so requests that arrive while one commits are
decided together in the next transaction, in arrival order, each against the state the ones
before it left (group commit); every answer waits for the commit that covers it.

Checkpoints the witness refused because they conflict with what it holds (another root for the
same size, or no consistency with it) are kept too, as evidence of a log that showed two
histories.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from clearance.ledger import (
    AddCheckpoint,
    Cosigner,
    NoteSignature,
    VerifierKey,
    Witnessed,
    WitnessRefusal,
    check_add_checkpoint,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    old_size INTEGER NOT NULL,
    note TEXT NOT NULL,
    held_size INTEGER NOT NULL,
    held_note TEXT NOT NULL,
    reason TEXT NOT NULL,
    seen_at INTEGER NOT NULL
);
"""

LogKeys = Callable[[str], Sequence[VerifierKey]]
"""The log keys the witness trusts for an origin (empty: a log it does not follow)."""


@dataclass(frozen=True)
class Conflict:
    """A refused checkpoint that contradicts the one the witness held."""

    origin: str
    note: str
    held_note: str
    reason: str


class _Job:
    def __init__(self, request: AddCheckpoint, now: int) -> None:
        self.request = request
        self.now = now
        self.future: Future[list[NoteSignature]] = Future()


class WitnessStore:
    """The witness's SQLite database and the one thread that writes it."""

    def __init__(self, path: Path, cosigner: Cosigner, log_keys: LogKeys) -> None:
        self.path = path
        self.cosigner = cosigner
        self.log_keys = log_keys
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._run, name="witness-writer", daemon=True)
        self._writer.start()

    def close(self) -> None:
        """Stop the writer after the requests already queued, and close the database."""
        self._jobs.put(None)
        self._writer.join()
        with self._lock:
            self._db.close()

    def submit(self, request: AddCheckpoint, now: int) -> Future[list[NoteSignature]]:
        """Queue a request; the future holds the cosignature lines once the new state is on
        disk, or raises WitnessRefusal."""
        job = _Job(request, now)
        self._jobs.put(job)
        return job.future

    def add_checkpoint(self, request: AddCheckpoint, now: int) -> list[NoteSignature]:
        """Decide, store and cosign one request (waits for its commit)."""
        return self.submit(request, now).result()

    def latest(self, origin: str) -> Witnessed | None:
        """The latest checkpoint cosigned for `origin`, as committed."""
        with self._lock:
            return self._latest(origin)

    def conflicts(self) -> list[Conflict]:
        """Every refused checkpoint that contradicted the witness's record, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT origin, note, held_note, reason FROM conflicts ORDER BY id"
            ).fetchall()
        return [Conflict(*row) for row in rows]

    def _latest(self, origin: str) -> Witnessed | None:
        row = self._db.execute(
            "SELECT size, root_hash, note FROM checkpoints WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else Witnessed(int(row[0]), bytes(row[1]), str(row[2]))

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while True:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._decide(batch)
            if stop:
                return

    def _decide(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[_Job, list[NoteSignature] | BaseException]] = []
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for job in batch:
                        outcomes.append((job, self._one(job)))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except BaseException as exc:
            for job in batch:
                job.future.set_exception(exc)
            return
        for job, outcome in outcomes:
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)

    def _one(self, job: _Job) -> list[NoteSignature] | WitnessRefusal:
        request = job.request
        origin = request.parsed.origin
        latest = self._latest(origin)
        try:
            checkpoint = check_add_checkpoint(request, self.log_keys(origin), latest)
        except WitnessRefusal as refusal:
            if latest is not None and _contradicts(refusal, latest, request):
                self._db.execute(
                    "INSERT INTO conflicts (origin, old_size, note, held_size, held_note, "
                    "reason, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        origin,
                        request.old_size,
                        request.checkpoint,
                        latest.size,
                        latest.note,
                        refusal.message,
                        job.now,
                    ),
                )
            return refusal
        if latest is None or checkpoint.size != latest.size:
            self._db.execute(
                "INSERT INTO checkpoints (origin, size, root_hash, note, cosigned_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET size = excluded.size, "
                "root_hash = excluded.root_hash, note = excluded.note, "
                "cosigned_at = excluded.cosigned_at",
                (origin, checkpoint.size, checkpoint.root_hash, request.checkpoint, job.now),
            )
        return [self.cosigner.cosign(checkpoint.text, job.now)]


def _contradicts(refusal: WitnessRefusal, latest: Witnessed, request: AddCheckpoint) -> bool:
    """Whether a refusal shows the log contradicting itself (not a stale or bad request)."""
    if refusal.status == 422:
        return request.old_size == latest.size
    if refusal.status != 409:
        return False
    checkpoint = request.parsed
    return checkpoint.size == latest.size and checkpoint.root_hash != latest.root_hash
