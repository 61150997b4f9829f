"""The witness's memory: the latest cosigned checkpoint of each log it follows, in SQLite.

tlog-witness asks that checking a request against the stored size and storing the new checkpoint
be one atomic step, persisted before the cosignature is returned: otherwise two racing requests
could roll a log's record back, or a crash could make the witness forget what it cosigned and
later cosign a different history. Here every decision and its write happen inside one SQLite
transaction (`BEGIN IMMEDIATE`, so concurrent witnesses on one file serialize too), committed
with `synchronous=FULL` in WAL mode: a commit is on disk before anyone is answered.

A commit costs an fsync (0.4 to 9 ms on the development machine), so requests that arrive while
one commits are decided together in the next transaction, in arrival order, each against the
state the ones before it left (group commit); every answer waits for the commit that covers it.
The log's signature is checked before a request is queued (`verify`: it needs no state, and so
runs while the previous batch waits on the disk), and the cosignatures are signed once the
commit is on disk (`answers`). `submit` feeds this store's own writer thread; an event loop
instead calls `stage` itself and runs only `commit` on a thread (see `WitnessApp`).

Why `synchronous=FULL` and not NORMAL: in WAL mode both survive the witness process being
killed at any point (a commit is in the operating system's hands once `COMMIT` returns), but
with NORMAL the last commits can be lost when the machine itself stops (power cut, kernel
panic). A witness that forgets a checkpoint it cosigned can then be led to cosign another
history of the same size, which is the one thing a witness exists never to do; tlog-witness
asks that the new checkpoint be persisted before the cosignature is returned. Group commit
pays the fsync once per batch rather than once per checkpoint.

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
    Checkpoint,
    Cosigner,
    NoteSignature,
    VerifierKey,
    Witnessed,
    WitnessRefusal,
    check_extends,
    verify_add_checkpoint,
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
    def __init__(
        self,
        request: AddCheckpoint,
        checkpoint: Checkpoint,
        now: int,
        future: Future[list[NoteSignature]],
    ) -> None:
        self.request = request
        self.checkpoint = checkpoint
        """The request's checkpoint, its log signature verified."""
        self.now = now
        self.future = future


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
        """Queue a request for the writer thread; the future holds the cosignature lines once
        the new state is on disk, or raises WitnessRefusal.

        The checks that need no state run here, in the caller's thread, before anything is
        queued (see `verify`).
        """
        future: Future[list[NoteSignature]] = Future()
        try:
            checkpoint = self.verify(request)
        except WitnessRefusal as refusal:
            future.set_exception(refusal)
            return future
        self._jobs.put(_Job(request, checkpoint, now, future))
        return future

    def verify(self, request: AddCheckpoint) -> Checkpoint:
        """The checks that need no stored state: a log this witness follows (404), its
        signature (403), the old size within the checkpoint's (400). Any thread may call it."""
        return verify_add_checkpoint(request, self.log_keys(request.parsed.origin))

    def decide(
        self, batch: Sequence[tuple[AddCheckpoint, Checkpoint, int]]
    ) -> list[list[NoteSignature] | BaseException]:
        """Decide verified requests (`verify`'s checkpoint, and the time) in order, in one
        transaction, in the caller's thread; returns each one's cosignature lines or its
        WitnessRefusal once the commit is on disk (or the error that stopped the commit, for
        every one): `record`, then `answers`."""
        try:
            refusals = self.record(batch)
        except BaseException as exc:
            return [exc] * len(batch)
        return self.answers(batch, refusals)

    def record(
        self, batch: Sequence[tuple[AddCheckpoint, Checkpoint, int]]
    ) -> list[WitnessRefusal | None]:
        """Decide verified requests in order, each against the state the ones before it left,
        and store the accepted ones in one transaction; returns each one's refusal (None:
        accepted) once the commit is on disk, or raises the error that stopped the commit.
        The fsync is shared by the batch: callers batch the requests that arrive together."""
        refusals = self.stage(batch)
        self.commit()
        return refusals

    def stage(
        self, batch: Sequence[tuple[AddCheckpoint, Checkpoint, int]]
    ) -> list[WitnessRefusal | None]:
        """`record` up to its commit: the transaction stays open (and the store locked) until
        `commit` is called, on any thread. Nothing it decided may be answered before then.

        An event loop stages a batch in its own thread (reads and small writes, quick) and
        runs only `commit`, one call that waits for the disk without the GIL, on another."""
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            return [self._one(request, checkpoint, now) for request, checkpoint, now in batch]
        except BaseException:
            self._end()
            raise

    def commit(self) -> None:
        """Commit the transaction `stage` opened (an fsync) and unlock the store; on failure it
        is rolled back and the error raised: none of the batch's decisions stand."""
        try:
            self._db.execute("COMMIT")
        finally:
            self._end()

    def _end(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        finally:
            self._lock.release()

    def answers(
        self,
        batch: Sequence[tuple[AddCheckpoint, Checkpoint, int]],
        refusals: Sequence[WitnessRefusal | None],
    ) -> list[list[NoteSignature] | BaseException]:
        """Each request's cosignature lines, or its refusal: only for a batch whose `record`
        has returned, as a cosignature may leave the witness only once its state is on disk."""
        outcomes: list[list[NoteSignature] | BaseException] = []
        for (_, checkpoint, now), refusal in zip(batch, refusals, strict=True):
            if refusal is not None:
                outcomes.append(refusal)
                continue
            try:
                outcomes.append([self.cosigner.cosign(checkpoint.text, now)])
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

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
        outcomes = self.decide([(job.request, job.checkpoint, job.now) for job in batch])
        for job, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)

    def _one(
        self, request: AddCheckpoint, checkpoint: Checkpoint, now: int
    ) -> WitnessRefusal | None:
        origin = checkpoint.origin
        latest = self._latest(origin)
        try:
            check_extends(request, checkpoint, latest)
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
                        now,
                    ),
                )
            return refusal
        if latest is None or checkpoint.size != latest.size:
            self._db.execute(
                "INSERT INTO checkpoints (origin, size, root_hash, note, cosigned_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET size = excluded.size, "
                "root_hash = excluded.root_hash, note = excluded.note, "
                "cosigned_at = excluded.cosigned_at",
                (origin, checkpoint.size, checkpoint.root_hash, request.checkpoint, now),
            )
        return None


def _contradicts(refusal: WitnessRefusal, latest: Witnessed, request: AddCheckpoint) -> bool:
    """Whether a refusal shows the log contradicting itself (not a stale or bad request)."""
    if refusal.status == 422:
        return request.old_size == latest.size
    if refusal.status != 409:
        return False
    checkpoint = request.parsed
    return checkpoint.size == latest.size and checkpoint.root_hash != latest.root_hash
