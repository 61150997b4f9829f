"""Rate-limit counters in shared memory: exact across the worker processes of one gateway.

The supervisor makes the table before it forks, so every worker maps the same pages. A slot
holds a grant's key (a 16-byte BLAKE2b of its id), its one-minute window and the two counts;
slots are found by linear probing, and one from a window that has turned is reused. Each
read-modify-write holds a POSIX record lock on the table's file: the kernel releases it when
its holder dies, so a worker killed mid-call cannot wedge the others.

It also serves as the fallback when Redis is unreachable, with each limit divided by `share`
(the number of replicas last seen), so that together the replicas stay within the limit.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import tempfile

from clearance.gateway._limits import WINDOW, retry_after

SLOT = struct.Struct("<16sqqq")  # key, window index, requests, tokens
EMPTY = bytes(16)
PROBES = 64


class TableFull(Exception):
    """Every slot near a grant's place holds a live window of another grant."""


class SharedLimiter:
    """Fixed one-minute windows per grant, in a table shared by forked processes."""

    def __init__(self, slots: int = 16384, directory: str | None = None) -> None:
        fd, path = tempfile.mkstemp(prefix="clearance-limits-", dir=directory)
        os.unlink(path)
        os.ftruncate(fd, slots * SLOT.size)
        self._fd = fd
        self._slots = slots
        self._table = mmap.mmap(fd, slots * SLOT.size)
        self.share = 1
        """Each limit is divided by this (at least 1): the fallback's per-replica share."""

    def close(self) -> None:
        """Unmap the table (in this process)."""
        self._table.close()
        os.close(self._fd)

    def _find(self, key: bytes, window: int) -> int:
        start = int.from_bytes(key[:8], "little") % self._slots
        reuse = -1
        for step in range(PROBES):
            slot = (start + step) % self._slots
            found, seen, _, _ = SLOT.unpack_from(self._table, slot * SLOT.size)
            if found == key:
                if seen != window:
                    SLOT.pack_into(self._table, slot * SLOT.size, key, window, 0, 0)
                return slot
            if found == EMPTY:
                reuse = slot if reuse < 0 else reuse
                break
            if seen != window and reuse < 0:
                reuse = slot
        if reuse < 0:
            raise TableFull("the shared rate-limit table is full")
        SLOT.pack_into(self._table, reuse * SLOT.size, key, window, 0, 0)
        return reuse

    def _limit(self, limit: int | None) -> int | None:
        return None if limit is None else limit // max(1, self.share)

    async def admit(
        self, grant_id: str, rpm: int | None, tpm: int | None, now: float
    ) -> float | None:
        rpm, tpm = self._limit(rpm), self._limit(tpm)
        key = hashlib.blake2b(grant_id.encode(), digest_size=16).digest()
        window = int(now // WINDOW)
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            try:
                slot = self._find(key, window)
            except TableFull:
                return retry_after(now)
            offset = slot * SLOT.size
            _, _, requests, tokens = SLOT.unpack_from(self._table, offset)
            if (rpm is not None and requests >= rpm) or (tpm is not None and tokens >= tpm):
                return retry_after(now)
            SLOT.pack_into(self._table, offset, key, window, requests + 1, tokens)
            return None
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    async def add_tokens(self, grant_id: str, tokens: int, now: float) -> None:
        key = hashlib.blake2b(grant_id.encode(), digest_size=16).digest()
        window = int(now // WINDOW)
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            try:
                slot = self._find(key, window)
            except TableFull:
                return
            offset = slot * SLOT.size
            _, _, requests, used = SLOT.unpack_from(self._table, offset)
            SLOT.pack_into(self._table, offset, key, window, requests, used + tokens)
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)
