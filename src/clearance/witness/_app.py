"""The witness over HTTP: `POST /add-checkpoint` as C2SP tlog-witness defines it.

    200  text/plain         one cosignature/v1 line per witness key (here: one)
    400  text/plain         a malformed body, or an old size beyond the checkpoint's
    403  text/plain         no signature by a key the witness trusts for that origin
    404  text/plain         a log (origin) the witness does not follow
    409  text/x.tlog.size   the old size is not the witness's: the body is its size and a newline
    409  text/plain         the same size as the witness's with another root hash (a split view)
    422  text/plain         the consistency proof does not verify

`GET /` says who the witness is (name, vkey) and which logs it follows. A plain ASGI app: one
route, and nothing between the socket and the decision that is not needed.

Commits are pipelined: the requests that arrive together are decided in the event loop, in one
transaction, and only its `COMMIT` (an fsync, a single call that waits for the disk without the
GIL) runs on a writer thread; meanwhile the loop goes on reading and verifying the requests that
form the next batch. One thread hand-off per batch, not per request, and no other GIL contention;
an answer (its cosignature is signed then) still waits for the commit that covers it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from clearance.ledger import (
    TLOG_SIZE_TYPE,
    AddCheckpoint,
    Checkpoint,
    LedgerError,
    NoteSignature,
    VerifierKey,
    WitnessRefusal,
)
from clearance.witness._store import WitnessStore

MAX_BODY = 64 * 1024
"""A checkpoint with its signatures and 63 proof lines fits many times over."""

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class WitnessApp:
    """The ASGI app of one witness over its store."""

    def __init__(
        self,
        store: WitnessStore,
        logs: Mapping[str, Sequence[VerifierKey]],
        *,
        clock: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.store = store
        self.logs = logs
        self.clock = clock
        self._pending: list[
            tuple[AddCheckpoint, Checkpoint, int, asyncio.Future[list[NoteSignature]]]
        ] = []
        self._committer: asyncio.Task[None] | None = None
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="witness-commit")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/add-checkpoint":
            if method != "POST":
                await _answer(send, 405, "use POST\n", extra=[(b"allow", b"POST")])
                return
            status, kind, body = await self._add_checkpoint(receive)
            await _answer(send, status, body, kind)
        elif path == "/" and method in ("GET", "HEAD"):
            await _answer(send, 200, self._about())
        else:
            await _answer(send, 404, "not found: this witness serves POST /add-checkpoint\n")

    async def _add_checkpoint(self, receive: Receive) -> tuple[int, str, str]:
        body = await _read_body(receive)
        if body is None:
            return 400, "text/plain", f"the request body is larger than {MAX_BODY} bytes\n"
        try:
            request = AddCheckpoint.from_text(body)
        except LedgerError as exc:
            return 400, "text/plain", exc.message + "\n"
        try:
            checkpoint = self.store.verify(request)
            waiter: asyncio.Future[list[NoteSignature]] = asyncio.get_running_loop().create_future()
            self._pending.append((request, checkpoint, self.clock(), waiter))
            if self._committer is None:
                self._committer = asyncio.create_task(self._commit())
            lines = await waiter
        except WitnessRefusal as refusal:
            if refusal.status == 409 and refusal.size is not None:
                return 409, TLOG_SIZE_TYPE, f"{refusal.size}\n"
            return refusal.status, "text/plain", refusal.message + "\n"
        return 200, "text/plain", "".join(line.line for line in lines)

    async def _commit(self) -> None:
        # started by the first request of a batch; by the time this task runs, the requests
        # that arrived in the same turn of the loop are pending too; those that arrive while a
        # batch commits make the next one
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                pending, self._pending = self._pending, []
                batch = [(r, c, now) for r, c, now, _ in pending]
                outcomes: list[list[NoteSignature] | BaseException]
                try:
                    refusals = self.store.stage(batch)
                    # the one call that waits for the disk, without the GIL: the loop goes on
                    await loop.run_in_executor(self._writer, self.store.commit)
                except Exception as exc:
                    outcomes = [exc] * len(batch)
                else:
                    outcomes = self.store.answers(batch, refusals)
                for (*_, waiter), outcome in zip(pending, outcomes, strict=True):
                    if waiter.done():
                        continue
                    if isinstance(outcome, BaseException):
                        waiter.set_exception(outcome)
                    else:
                        waiter.set_result(outcome)
        finally:
            self._committer = None

    def _about(self) -> str:
        verifier = self.store.cosigner.verifier
        logs = "".join(f"  {origin}\n" for origin in sorted(self.logs))
        return (
            f"C2SP tlog-witness {verifier.name}\nvkey: {verifier.vkey}\n"
            f"submission: POST /add-checkpoint\nlogs followed:\n{logs}"
        )


async def _read_body(receive: Receive) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


async def _answer(
    send: Send,
    status: int,
    body: str,
    kind: str = "text/plain",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    data = body.encode()
    content_type = kind + ("; charset=utf-8" if kind == "text/plain" else "")
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(data)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
