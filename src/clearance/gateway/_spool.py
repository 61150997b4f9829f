"""A journal of metered calls on local disk, so that each call reaches the register exactly once.

Each gateway process appends one line per metered call or refusal to a segment file of its own
before the answer goes out, so a SIGKILL loses nothing the caller saw completed (the page cache
outlives the process). Its reporter sends the lines not yet acknowledged, summed, with the
segment's name and the byte range they cover; the register applies a range only when it starts
where the last one it applied ended, and answers where it now stands, so a report repeated after
a lost answer counts once. The writer holds a POSIX record lock on its segment; a segment whose
writer is gone (killed, or rotated past `segment_bytes`) is claimed by whichever process locks it
first, reported to its end, and deleted.

The POSIX lock is dropped when its holder closes *any* descriptor of the file, so a process
reads a segment only through the one descriptor it holds it by.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearance.gateway._metering import NO_GRANT, UsageRow

log = logging.getLogger("clearance.gateway")

SUFFIX = ".usage"
CURSOR = ".cursor"
MAX_BATCH = 4 * 1024 * 1024

Send = Callable[[str, int, int, list[UsageRow]], Awaitable[int]]
"""Report (segment, from, to, rows); returns the register's position for that segment."""


@dataclass
class _Segment:
    name: str
    path: Path
    fd: int

    @property
    def cursor_path(self) -> Path:
        return self.path.with_suffix(CURSOR)

    def cursor(self) -> int:
        try:
            return int(self.cursor_path.read_text())
        except (FileNotFoundError, ValueError):
            return 0

    def set_cursor(self, position: int) -> None:
        temporary = self.cursor_path.with_suffix(".cursor-new")
        temporary.write_text(str(position))
        os.replace(temporary, self.cursor_path)

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def remove(self) -> None:
        for path in (self.path, self.cursor_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        os.close(self.fd)


class Spool:
    """This process's journal segment, and the reporting of every unclaimed segment."""

    def __init__(self, directory: Path, *, segment_bytes: int = 8 * 1024 * 1024) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory = directory
        self.segment_bytes = segment_bytes
        self._claimed: dict[str, _Segment] = {}
        self._current = self._new_segment()
        self._written = 0

    def _new_segment(self) -> _Segment:
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        path = self.directory / (name + SUFFIX)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return _Segment(name, path, fd)

    def write(self, record: list[Any]) -> None:
        """Append one record (before the answer it meters is sent)."""
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        os.write(self._current.fd, line)
        self._written += len(line)
        if self._written >= self.segment_bytes:
            # the full segment is handed over: its lock goes with the descriptor, and the
            # reporter (this one or another process's) claims it like any orphan
            done = self._current
            self._current = self._new_segment()
            self._written = 0
            os.close(done.fd)

    def _claim_orphans(self) -> None:
        for path in sorted(self.directory.glob("*" + SUFFIX)):
            name = path.name.removesuffix(SUFFIX)
            if name == self._current.name or name in self._claimed:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    raise
                continue
            if not path.exists():  # reported and deleted by its claimant meanwhile
                os.close(fd)
                continue
            self._claimed[name] = _Segment(name, path, fd)

    async def report(self, send: Send) -> int:
        """Send what no register has acknowledged yet, segment by segment; returns lines sent.

        A failure to send leaves the lines in place for the next call.
        """
        self._claim_orphans()
        sent = 0
        for segment in [self._current, *self._claimed.values()]:
            orphan = segment is not self._current
            while True:
                start = segment.cursor()
                end = segment.size()
                if start >= end:
                    break
                data = os.pread(segment.fd, min(end - start, MAX_BATCH), start)
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    break
                rows, lines = parse_lines(data[:cut])
                position = await send(segment.name, start, start + cut, rows)
                if position == start:  # the register refused to move: try again later
                    break
                segment.set_cursor(max(0, min(position, end)))
                sent += lines
            if orphan and segment.cursor() >= segment.size():
                del self._claimed[segment.name]
                segment.remove()
        return sent

    def close(self) -> None:
        """Release this process's segment (for a claimant to report, if lines remain)."""
        with contextlib.suppress(OSError):
            os.close(self._current.fd)
        for segment in self._claimed.values():
            with contextlib.suppress(OSError):
                os.close(segment.fd)
        self._claimed.clear()


def parse_lines(data: bytes) -> tuple[list[UsageRow], int]:
    """Journal lines summed per (model, organization, grant), and how many lines there were."""
    usage: dict[tuple[str, str, str], list[int]] = {}
    refusals: dict[tuple[str, str], dict[str, int]] = {}
    lines = 0
    for line in data.splitlines():
        lines += 1
        try:
            record = json.loads(line)
            kind = record[0]
            if kind == "r":
                _, code, model, org = record
                codes = refusals.setdefault((str(model), str(org)), {})
                codes[str(code)] = codes.get(str(code), 0) + 1
                continue
            key = (str(record[1]), str(record[2]), str(record[3]))
            row = usage.setdefault(key, [0, 0, 0, 0])
            row[0] += 1
            if kind == "f":
                row[1] += 1
            else:
                row[2] += int(record[4])
                row[3] += int(record[5])
        except (ValueError, IndexError, TypeError):
            log.error("a usage journal line could not be read and is skipped: %r", line[:200])
    rows = {
        key: UsageRow(*key, calls, failures, prompt, completion, {})
        for key, (calls, failures, prompt, completion) in usage.items()
    }
    for (model, org), codes in refusals.items():
        at = (model, org, NO_GRANT)
        found = rows.get(at) or UsageRow(model, org, NO_GRANT, 0, 0, 0, 0, {})
        for code, count in codes.items():
            found.refusals[code] = found.refusals.get(code, 0) + count
        rows[at] = found
    return list(rows.values()), lines
