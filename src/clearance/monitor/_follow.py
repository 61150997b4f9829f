"""Following a register's log: verify every checkpoint, rebuild its tree from the entries, and
report each new statement once.

Each round reads `/log/checkpoint`, fetches the entry bundles (C2SP tlog-tiles) from the size
already verified to the new size, hashes the new leaves onto the stored right edge of the tree
(`extend_tree`) and requires the checkpoint's root: that proves in one step that the new tree
extends the old one (no history rewritten) and that the entries read are the log's. The
checkpoint must carry a valid signature by a trusted key (the pinned one, or a successor a
logged key rotation signed by it names). Each reported statement is read from
`/log/statements/<index>`, checked against its leaf's digest and its DSSE signature.

A checkpoint of the size already verified with another root, from the log or from a source it
is compared with, is a split view: both signed checkpoints go into a proof file and the monitor
stops with an error.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clearance.errors import ClearanceError
from clearance.ledger import (
    IN_TOTO_PAYLOAD_TYPE,
    TILE_WIDTH,
    BundleKey,
    Checkpoint,
    ConsistencyProof,
    LeafRecord,
    LedgerError,
    SplitView,
    Statement,
    TreeState,
    VerifierKey,
    decode_entry_bundle,
    extend_tree,
    follow_rotations,
    leaf_hash,
    open_checkpoint,
    parse_checkpoint,
    parse_leaf,
    verify_consistency,
    verify_envelope,
)
from clearance.monitor._describe import Observed
from clearance.monitor._state import MonitorState

Fetch = Callable[[str], bytes | None]
"""GET a path under the register's URL: its body, or None for a 404 (raise if unreachable)."""

KEY_ROTATION_KIND = "key.rotated"
_SAVE_EVERY = 256


class MonitorFailure(ClearanceError):
    """The log is inconsistent, or something it served does not verify."""

    exit_code = 1
    code = "monitor_failed"


@dataclass(frozen=True)
class Filters:
    """Which verified entries to report (all are verified whatever the filters)."""

    since: dt.datetime | None = None
    kinds: tuple[str, ...] = ()
    models: tuple[str, ...] = ()

    def by_leaf(self, leaf: LeafRecord) -> bool:
        if self.kinds and not any(
            leaf.kind == k or leaf.kind.startswith(k + ".") for k in self.kinds
        ):
            return False
        if self.since is not None:
            at = leaf.extras.get("at")
            if isinstance(at, str):
                try:
                    moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
                except ValueError:
                    return True
                return moment >= self.since
        return True

    def by_statement(self, observed: Observed) -> bool:
        return not self.models or observed.model in self.models


@dataclass
class Monitor:
    """One monitor on one log, with its state file."""

    url: str
    state_path: Path
    fetch: Fetch
    report: Callable[[Observed], None]
    pinned: Sequence[VerifierKey] = ()
    filters: Filters = field(default_factory=Filters)
    compare: Sequence[tuple[str, Fetch]] = ()
    """Other sources of the same log's checkpoint: (name, fetch of its checkpoint)."""
    split_view_path: Path | None = None
    warn: Callable[[str], None] = lambda text: print(f"warning: {text}", file=sys.stderr)

    def run_once(self) -> int:
        """One round: verify and report what is new; returns how many entries were verified."""
        state = self._state()
        if state.next < state.tree.size:
            assert state.checkpoint is not None
            checkpoint = parse_checkpoint(state.checkpoint)
            entries = self._entries(state.base.size, state.tree.size, state.tree.size)
            self._check_tree(state.base, entries, checkpoint)
            self._report(state, entries, state.base.size)
        note = self._get("/log/checkpoint", "the checkpoint")
        new = self._open(state, note.decode(errors="replace"))
        verified = 0
        if new.size > state.tree.size:
            old = state.tree
            entries = self._entries(old.size, new.size, new.size)
            state.keys = self._rotations(state.keys, entries, old.size)
            checkpoint = self._verify(state, note.decode(), state.keys)
            tree = self._check_tree(old, entries, checkpoint)
            state.base, state.tree, state.next = old, tree, old.size
            state.checkpoint = note.decode()
            state.save(self.state_path, durable=True)
            self._report(state, entries, old.size)
            verified = new.size - old.size
        elif new.size == state.tree.size:
            checkpoint = self._verify(state, note.decode(), state.keys)
            if state.checkpoint is None:
                state.checkpoint = note.decode()
                state.save(self.state_path, durable=True)
            elif checkpoint.root_hash != state.tree.root_hash:
                self._split_view(state.checkpoint, note.decode(), self.url, self.url)
        else:
            self._verify(state, note.decode(), state.keys)
            self._older(state, note.decode(), self.url)
        for name, fetch in self.compare:
            self._compare(state, name, fetch)
        return verified

    def _state(self) -> MonitorState:
        state = MonitorState.load(self.state_path)
        if state is None:
            keys = list(self.pinned)
            if not keys:
                vkey = self._get("/log/key", "the log's key").decode().strip()
                try:
                    keys = [VerifierKey.parse(vkey)]
                except LedgerError as exc:
                    raise MonitorFailure(f"{self.url}/log/key: {exc.message}") from None
                self.warn(f"trusting the log key {vkey} as served on first use; pin it with --key")
            state = MonitorState(self.url, keys[0].name, keys)
            state.save(self.state_path, durable=True)
            return state
        if state.url != self.url.rstrip("/"):
            raise MonitorFailure(
                f"--state {self.state_path} follows {state.url}, not {self.url}; use another file"
            )
        unknown = [k.vkey for k in self.pinned if k not in state.keys]
        if unknown:
            raise MonitorFailure(
                f"--key {unknown[0]} is not among the keys {self.state_path} trusts"
            )
        return state

    def _get(self, path: str, what: str) -> bytes:
        data = self.fetch(path)
        if data is None:
            raise MonitorFailure(f"{self.url}{path}: the log serves no {what} (404)")
        return data

    def _open(self, state: MonitorState, note: str) -> Checkpoint:
        try:
            checkpoint = parse_checkpoint(note)
        except LedgerError as exc:
            raise MonitorFailure(f"{self.url}/log/checkpoint: {exc.message}") from None
        if checkpoint.origin != state.origin:
            raise MonitorFailure(
                f"{self.url} serves the log {checkpoint.origin!r}, not {state.origin!r}"
            )
        return checkpoint

    def _verify(self, state: MonitorState, note: str, keys: Sequence[VerifierKey]) -> Checkpoint:
        try:
            return open_checkpoint(note, keys, origin=state.origin)
        except LedgerError as exc:
            raise MonitorFailure(
                f"the checkpoint from {self.url} does not verify: {exc.message}"
            ) from None

    def _entries(self, start: int, end: int, size: int) -> list[bytes]:
        """Entries [start, end) of the tree of `size`, from the entry bundles."""
        entries: list[bytes] = []
        for tile in range(start // TILE_WIDTH, -(-end // TILE_WIDTH)):
            width = min(TILE_WIDTH, size - tile * TILE_WIDTH)
            key = BundleKey(tile, width)
            data = self._get(f"/log/{key.path}", f"entry bundle {key.path}")
            try:
                bundle = decode_entry_bundle(data)
            except LedgerError as exc:
                raise MonitorFailure(f"entry bundle {key.path}: {exc.message}") from None
            if len(bundle) != width:
                raise MonitorFailure(
                    f"entry bundle {key.path} holds {len(bundle)} entries, not {width}"
                )
            first = tile * TILE_WIDTH
            entries.extend(bundle[max(start - first, 0) : end - first])
        return entries

    def _check_tree(self, old: TreeState, entries: list[bytes], new: Checkpoint) -> TreeState:
        tree = extend_tree(old, [leaf_hash(e) for e in entries])
        if tree.size != new.size or tree.root_hash != new.root_hash:
            raise MonitorFailure(
                f"the log's entries {old.size}..{new.size - 1} do not make the root of its "
                f"signed checkpoint of size {new.size}: it does not extend the tree of size "
                f"{old.size} this monitor verified before (history rewritten), or the tiles "
                "served are not the log's"
            )
        return tree

    def _rotations(
        self, keys: list[VerifierKey], entries: list[bytes], first: int
    ) -> list[VerifierKey]:
        rotations = []
        for offset, entry in enumerate(entries):
            leaf = self._leaf(entry, first + offset)
            if leaf.kind == KEY_ROTATION_KIND:
                rotations.append(self._envelope(leaf, first + offset))
        return follow_rotations(keys, rotations) if rotations else keys

    def _leaf(self, entry: bytes, index: int) -> LeafRecord:
        try:
            return parse_leaf(entry)
        except LedgerError as exc:
            raise MonitorFailure(f"log entry {index}: {exc.message}") from None

    def _envelope(self, leaf: LeafRecord, index: int) -> bytes:
        envelope = self._get(f"/log/statements/{index}", f"statement {index}")
        try:
            leaf.check_envelope(envelope)
        except LedgerError as exc:
            raise MonitorFailure(f"statement {index}: {exc.message}") from None
        return envelope

    def _statement(self, state: MonitorState, leaf: LeafRecord, index: int) -> Statement:
        envelope = self._envelope(leaf, index)
        try:
            verified, _ = verify_envelope(envelope, state.keys, payload_type=IN_TOTO_PAYLOAD_TYPE)
            return Statement.from_json(verified.payload)
        except LedgerError as exc:
            raise MonitorFailure(f"statement {index} does not verify: {exc.message}") from None

    def _report(self, state: MonitorState, entries: list[bytes], first: int) -> None:
        unsaved = 0
        for index in range(state.next, first + len(entries)):
            leaf = self._leaf(entries[index - first], index)
            if self.filters.by_leaf(leaf):
                observed = Observed(index, leaf, self._statement(state, leaf, index))
                if self.filters.by_statement(observed):
                    self.report(observed)
                    unsaved = _SAVE_EVERY
            state.next = index + 1
            unsaved += 1
            if unsaved >= _SAVE_EVERY:
                state.save(self.state_path)
                unsaved = 0
        state.base = state.tree
        state.save(self.state_path, durable=True)

    def _split_view(self, held: str, other: str, held_from: str, other_from: str) -> None:
        view = SplitView(held, other, (held_from, other_from))
        path = self.split_view_path or self.state_path.with_name(
            self.state_path.name + ".split-view.json"
        )
        path.write_bytes(view.to_json())
        size = parse_checkpoint(held).size
        raise MonitorFailure(
            f"split view: the log signed two different trees of size {size} ({held_from} and "
            f"{other_from}); both signed checkpoints are in {path}"
        )

    def _older(self, state: MonitorState, note: str, source: str) -> None:
        """A checkpoint smaller than the verified one: fine only if the log proves it is a
        prefix of the tree already verified."""
        older = parse_checkpoint(note)
        path = f"/log/proof/consistency?old={older.size}&new={state.tree.size}"
        data = self.fetch(path)
        try:
            if data is None:
                raise LedgerError("the log has no consistency proof for these sizes")
            proof = ConsistencyProof.from_json(data)
            verify_consistency(
                older.size, state.tree.size, older.root_hash, state.tree.root_hash, proof.hashes
            )
        except LedgerError as exc:
            raise MonitorFailure(
                f"{source} shows a tree of size {older.size} that is not a prefix of the tree "
                f"of size {state.tree.size} verified before: {exc.message}"
            ) from None
        self.warn(f"{source} serves an older checkpoint (size {older.size}); it is consistent")

    def _compare(self, state: MonitorState, name: str, fetch: Fetch) -> None:
        data = fetch("/log/checkpoint")
        if data is None or state.checkpoint is None:
            self.warn(f"{name}: no checkpoint to compare with")
            return
        note = data.decode(errors="replace")
        other = self._verify(state, note, state.keys)
        if other.size == state.tree.size:
            if other.root_hash != state.tree.root_hash:
                self._split_view(state.checkpoint, note, self.url, name)
        elif other.size < state.tree.size:
            self._older(state, note, name)
        else:
            self.warn(
                f"{name} shows size {other.size}, ahead of {self.url} (size {state.tree.size}); "
                "compared on a later round"
            )
