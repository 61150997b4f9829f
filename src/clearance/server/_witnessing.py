"""Collecting cosignatures: each new checkpoint goes to every witness, off the append path.

One task per witness watches the newest signed checkpoint (a cheap indexed read every `poll`
seconds, so it works the same when another process appends) and sends it with the consistency
proof from the size that witness holds. The size is learnt from the witness itself: the first
request says `old 0`, and a 409 answer names the witness's size, after which the request is
made again from there (C2SP tlog-witness). A witness that is down or refuses is tried again
with a growing delay (1 s doubling to 60 s); it never holds up appends, the other witnesses, or
the log. Cosignatures are checked against the witness's key before they are stored. Each
follower keeps one HTTP connection to its witness open between requests.

Under a stream of appends only the newest checkpoint is sent, and to one witness at most once
per `interval` (1 s): a cosignature says "the largest consistent tree I have seen", so the
skipped ones are covered by it, and the register's work for its witnesses does not grow with
its append rate. Each round costs the register a consistency proof, a request, a cosignature
check and a small transaction, 1.5 to 3 ms of CPU, in the same process as the appends: once
per `poll` (0.25 s) to each of three witnesses, that added 8 to 15% to the register's CPU per
append at 80 appends/s; once a second, about 3% (bench/README.md). A checkpoint signed after a
quiet spell (nothing sent to that witness for `interval`) still goes out within one `poll`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import logging
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clearance.ledger import (
    TLOG_SIZE_TYPE,
    AddCheckpoint,
    LedgerError,
    consistency_proof,
    cosignatures,
)
from clearance.server._datadir import WitnessConfig
from clearance.store import (
    SignedCheckpoint,
    SqlTileStore,
    Store,
    newest_checkpoint,
    record_cosignature,
)

log = logging.getLogger("clearance.witnessing")

MAX_DELAY = 60.0
_CLOSED_BY_PEER = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
"""How a kept-alive connection that the witness closed shows (http.client's RemoteDisconnected
is a ConnectionResetError); a timeout is not one of them."""


@dataclass
class _Answer:
    status: int
    content_type: str
    body: str


class WitnessFollower:
    """Keeps one witness up to date with the register's newest checkpoint."""

    def __init__(
        self,
        store: Store,
        witness: WitnessConfig,
        clock: Callable[[], dt.datetime],
        *,
        poll: float = 0.25,
        interval: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.witness = witness
        self.clock = clock
        self.poll = poll
        self.interval = max(poll, interval)
        """The least time between two requests to this witness (after a cosignature)."""
        self.timeout = timeout
        self.held: int = 0
        """The size the witness holds, as far as this register knows (0 until it says)."""
        self.done: int | None = None
        """The id of the newest checkpoint this witness cosigned for us."""
        self._connection: http.client.HTTPConnection | None = None
        self._path = urllib.parse.urlsplit(witness.url).path.rstrip("/") + "/add-checkpoint"

    async def run(self) -> None:
        """Follow the log until cancelled."""
        try:
            await self._follow()
        finally:
            self.close()

    async def _follow(self) -> None:
        delay = 0.0
        while True:
            try:
                cosigned = await asyncio.to_thread(self.step)
                delay = 0.0
                # under a stream of appends each witness gets one request per `interval`, for
                # the newest checkpoint, not one per append
                await asyncio.sleep(self.interval if cosigned else self.poll)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a witness's failure must never stop the register
                delay = min(MAX_DELAY, max(1.0, delay * 2))
                log.warning(
                    "witness %s (%s): %s; trying again in %.0f s",
                    self.witness.key.name,
                    self.witness.url,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)

    def step(self) -> bool:
        """Send the newest checkpoint if this witness has not cosigned it; True if it now has.

        Raises on a witness that cannot be reached or refuses (the caller waits and retries).
        """
        with self.store.read() as tx:
            newest = newest_checkpoint(tx.connection)
        if newest is None or newest.id == self.done:
            return False
        for _ in range(3):
            if self.held > newest.size:
                raise WitnessError(
                    f"the witness holds size {self.held}, beyond this register's newest "
                    f"checkpoint ({newest.size}): it was shown a larger tree than this log has"
                )
            answer = self._send(self._request(newest))
            if answer.status == 200:
                self._record(newest, answer.body)
                return True
            if answer.status == 409 and answer.content_type.startswith(TLOG_SIZE_TYPE):
                size = answer.body.strip()
                if not size.isdigit() or int(size) == self.held:
                    raise WitnessError(f"409 with size {size!r} for old size {self.held}")
                self.held = int(size)
                continue
            raise WitnessError(f"HTTP {answer.status}: {answer.body.strip()[:300]}")
        raise WitnessError("the witness's size kept changing under this register")

    def _request(self, newest: SignedCheckpoint) -> AddCheckpoint:
        proof: list[bytes] = []
        if 0 < self.held < newest.size:
            with self.store.read() as tx:
                tiles = SqlTileStore(tx.connection)
                tiles.prefetch(self.held - 1, newest.size)
                proof = consistency_proof(tiles, self.held, newest.size)
        return AddCheckpoint(self.held, tuple(proof), newest.signed)

    def _send(self, request: AddCheckpoint) -> _Answer:
        body = request.to_text().encode()
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        # one kept-alive connection per witness: a request every poll would otherwise cost both
        # sides a TCP connection each time. A connection the witness closed while idle shows
        # only when used: then once more on a new one (a replayed request is harmless: the
        # witness answers 409 with its size, or cosigns the same checkpoint again)
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self._connect()
            connection = self._connection
            try:
                connection.request("POST", self._path, body=body, headers=headers)
                response = connection.getresponse()
                answer = _Answer(
                    response.status,
                    response.getheader("Content-Type", ""),
                    response.read().decode(errors="replace"),
                )
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if reused and attempt == 1 and isinstance(exc, _CLOSED_BY_PEER):
                    continue
                raise
            if response.will_close:
                self.close()
            return answer
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        url = urllib.parse.urlsplit(self.witness.url)
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        return kind(url.netloc, timeout=self.timeout)

    def close(self) -> None:
        """Close the connection to the witness, if one is open."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _record(self, newest: SignedCheckpoint, body: str) -> None:
        try:
            found = cosignatures(newest.signed + body, [self.witness.key])
        except LedgerError as exc:
            raise WitnessError(f"its answer does not hold a valid cosignature: {exc}") from None
        if not found:
            raise WitnessError("its answer holds no cosignature by its key")
        cosignature = found[0]
        with self.store.transaction() as tx:
            record_cosignature(
                tx.connection,
                newest.id,
                self.witness.key.vkey,
                cosignature.signature.line,
                cosignature.timestamp,
                self.clock(),
            )
        self.held = newest.size
        self.done = newest.id
        log.info(
            "witness %s cosigned the checkpoint of size %d", self.witness.key.name, newest.size
        )


class WitnessError(Exception):
    """A witness that did not cosign; the follower waits and tries again."""


async def run_witnessing(
    store: Store,
    witnesses: Sequence[WitnessConfig],
    clock: Callable[[], dt.datetime],
    *,
    poll: float = 0.25,
    interval: float = 1.0,
) -> None:
    """Follow every witness at once, until cancelled."""
    followers = [WitnessFollower(store, w, clock, poll=poll, interval=interval) for w in witnesses]
    await asyncio.gather(*(f.run() for f in followers))
