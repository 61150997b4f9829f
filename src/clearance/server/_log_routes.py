"""The transparency log over HTTP, in the C2SP tlog-tiles layout, plus statements and proofs.

    /log/checkpoint                         the published checkpoint, with the witnesses'
                                            cosignatures as extra signature lines (text/plain)
    /log/key                                the log's verifier key as a C2SP vkey string
    /log/tile/<L>/<N>[.p/<W>]               Merkle tiles (application/octet-stream)
    /log/tile/entries/<N>[.p/<W>]           entry bundles: the leaf records
    /log/statements/<index>                 the DSSE envelope logged at index (JSON)
    /log/proof/consistency?old=N[&new=M]    a consistency file from size N to a checkpoint
    /log/bundle/<index or id>               an offline bundle for entry index, or for the
                                            act that made a record (a decision, directive,
                                            grant... by its id)
    /log/key-rotations                      the logged key-rotation envelopes, oldest first

The published checkpoint is the newest signed one, or with a witness quorum K the newest one at
least K witnesses have cosigned; bundles and consistency files carry it, cosignatures included.
Full tiles, full entry bundles and statements never change, so they are cached for a year as
immutable; partial tiles briefly (the widest version replaces them); the checkpoint not at all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import PlainTextResponse

from clearance.errors import ClearanceError, InvalidInput, NotFound
from clearance.ledger import (
    TILE_WIDTH,
    Bundle,
    BundleKey,
    MalformedData,
    TileKey,
    make_consistency,
    make_tlog_proof,
    parse_checkpoint,
    parse_tile_path,
)
from clearance.store import (
    SqlTileStore,
    Store,
    TransparencyLog,
    entry_of,
    key_rotations,
    published_checkpoint,
    statement_envelope,
)

log = logging.getLogger("clearance.log")

IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=60"
NO_CACHE = "no-cache"
TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"
MAX_INDEX = 2**63 - 1
"""Log indexes and sizes are 64-bit (as in C2SP tlog-tiles); larger ones are refused at once."""
MAX_LEVEL = 63
LogIndex = Annotated[int, Path(ge=0, le=MAX_INDEX, description="An entry's index in the log.")]


class NotYetLogged(ClearanceError):
    """The entry exists but no signed checkpoint covers it yet."""

    http_status = 503
    code = "not_yet_checkpointed"


def find_log(store: Store) -> TransparencyLog | None:
    """The transparency log hooked into a store, if any."""
    return next((h for h in store.hooks if isinstance(h, TransparencyLog)), None)


def entry_index(store: Store, reference: str) -> int:
    """A log index given as digits, or the index of the act that made the record with this id."""
    if reference.isdigit():
        if len(reference) > len(str(MAX_INDEX)) or int(reference) > MAX_INDEX:
            raise InvalidInput(f"index: at most {MAX_INDEX}")
        return int(reference)
    with store.read() as tx:
        found = entry_of(tx.connection, reference)
    if found is None:
        raise NotFound(f"the log has no entry about {reference!r}")
    return found


def make_bundle(store: Store, index: int) -> Bundle:
    """The offline bundle of entry `index`, proved against the published checkpoint."""
    log_hook = find_log(store)
    quorum = log_hook.witness_quorum if log_hook is not None else 0
    with store.read() as tx:
        connection = tx.connection
        envelope = statement_envelope(connection, index)
        if envelope is None:
            raise NotFound(f"the log has no entry {index}")
        published = published_checkpoint(connection, quorum)
        checkpoint = published.note if published is not None else None
        if checkpoint is None or parse_checkpoint(checkpoint).size <= index:
            covered = (
                f"a checkpoint cosigned by {quorum} witnesses" if quorum else "a signed checkpoint"
            )
            raise NotYetLogged(
                f"entry {index} is logged but not yet covered by {covered}; try again "
                "after the next checkpoint"
            )
        tiles = SqlTileStore(connection)
        tiles.prefetch(index, parse_checkpoint(checkpoint).size)
        proof = make_tlog_proof(tiles, index, checkpoint)
        origin = parse_checkpoint(checkpoint).origin
        size = parse_checkpoint(checkpoint).size
        return Bundle(origin, index, envelope, proof, tuple(key_rotations(connection, size)))


def log_router(store: Store, transparency: TransparencyLog) -> APIRouter:
    """Routes serving the log of `store` under /log."""
    router = APIRouter(prefix="/log", tags=["log"])

    @router.get("/checkpoint", response_class=PlainTextResponse)
    def checkpoint() -> Response:
        quorum = transparency.witness_quorum
        with store.read() as tx:
            published = published_checkpoint(tx.connection, quorum)
        if published is None:
            if quorum:
                raise NotYetLogged(f"no checkpoint is cosigned by {quorum} witnesses yet")
            raise NotFound("the log has no signed checkpoint yet")
        return Response(published.note, media_type=TEXT, headers={"Cache-Control": NO_CACHE})

    @router.get("/key", response_class=PlainTextResponse)
    def key() -> Response:
        vkey = transparency.key().vkey
        return Response(vkey + "\n", media_type=TEXT, headers={"Cache-Control": NO_CACHE})

    @router.get("/tile/{path:path}", responses={200: {"content": {BINARY: {}}}})
    def tile(path: str) -> Response:
        try:
            key = parse_tile_path(f"tile/{path}")
        except MalformedData as exc:
            raise NotFound(exc.message) from None
        if key.index > MAX_INDEX or (isinstance(key, TileKey) and key.level > MAX_LEVEL):
            raise NotFound(f"no tile {path} in the log")
        with store.read() as tx:
            tiles = SqlTileStore(tx.connection)
            data = (
                tiles.read_entry_bundle(key) if isinstance(key, BundleKey) else tiles.read_tile(key)
            )
        if data is None:
            raise NotFound(f"no tile {key.path} in the log")
        cache = IMMUTABLE if key.width == TILE_WIDTH else PARTIAL
        return Response(data, media_type=BINARY, headers={"Cache-Control": cache})

    @router.get("/statements/{index}")
    def statement(index: LogIndex) -> Response:
        with store.read() as tx:
            envelope = statement_envelope(tx.connection, index)
        if envelope is None:
            raise NotFound(f"the log has no entry {index}")
        return Response(
            envelope, media_type="application/json", headers={"Cache-Control": IMMUTABLE}
        )

    @router.get("/proof/consistency")
    def consistency(
        old: int = Query(ge=0, le=MAX_INDEX), new: int | None = Query(None, ge=0, le=MAX_INDEX)
    ) -> Response:
        with store.read() as tx:
            # only what the log publishes: with a quorum, a checkpoint the quorum cosigned
            quorum = transparency.witness_quorum
            published = published_checkpoint(tx.connection, quorum, size=new)
            if published is None:
                signed = f"cosigned by {quorum} witnesses" if quorum else "signed"
                raise NotFound(
                    f"no checkpoint of size {new} is {signed}"
                    if new is not None
                    else f"no checkpoint is {signed} yet"
                )
            note = published.note
            if old > parse_checkpoint(note).size:
                raise InvalidInput(f"old: {old} is beyond the checkpoint's tree size")
            tiles = SqlTileStore(tx.connection)
            tiles.prefetch(max(old - 1, 0), parse_checkpoint(note).size)
            proof = make_consistency(tiles, old, note)
        return Response(proof.to_json(), media_type="application/json")

    @router.get("/bundle/{reference}")
    def bundle(
        reference: Annotated[
            str,
            Path(
                min_length=1,
                max_length=200,
                description="An entry's index in the log, or the id of the record an act made.",
            ),
        ],
    ) -> Response:
        index = entry_index(store, reference)
        return Response(make_bundle(store, index).to_json(), media_type="application/json")

    @router.get("/key-rotations")
    def rotations() -> list[str]:
        with store.read() as tx:
            return [e.decode() for e in key_rotations(tx.connection)]

    return router


async def run_checkpoints(
    store: Store, transparency: TransparencyLog, clock: Callable[[], dt.datetime]
) -> None:
    """Sign a checkpoint every interval when the log grew, until cancelled."""
    while True:
        await asyncio.sleep(transparency.checkpoint_interval)
        try:
            await asyncio.to_thread(_checkpoint, store, transparency, clock())
        except Exception:
            log.exception("the log could not sign a checkpoint; it will try again")


def _checkpoint(store: Store, transparency: TransparencyLog, now: dt.datetime) -> None:
    with store.transaction() as tx:
        transparency.checkpoint(tx.connection, now)
