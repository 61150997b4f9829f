"""The append-only log over a TileStore: incremental appends, state recovery, proofs from tiles.

An append touches only the right edge of the tree: the partial tile at each tile level, the new
full tiles, and the partial entry bundle. The right-edge "frontier" (one complete subtree hash per
set bit of the tree size) lives in a small immutable `TreeState`, which `recover_state` rebuilds
from the store alone after a crash or in another process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from clearance.ledger._errors import LedgerError
from clearance.ledger._merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    consistency_path,
    fold_subtrees,
    inclusion_path,
    leaf_hash,
    node_hash,
    range_hash,
)
from clearance.ledger._store import TileStore
from clearance.ledger._tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    BundleKey,
    TileKey,
    decode_entry_bundle,
    encode_entry,
    subtree_root,
    tile_width,
)

_TILE_BYTES = TILE_WIDTH * HASH_SIZE


@dataclass(frozen=True)
class TreeState:
    """The log's size and right-edge subtree hashes (largest first): enough to append and sign."""

    size: int
    frontier: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.size < 0:
            raise LedgerError(f"tree size {self.size} is negative")
        if len(self.frontier) != self.size.bit_count():
            raise LedgerError(
                f"a tree of size {self.size} has {self.size.bit_count()} frontier hashes, "
                f"not {len(self.frontier)}"
            )
        if any(len(h) != HASH_SIZE for h in self.frontier):
            raise LedgerError("frontier hashes must be 32 bytes each")

    @classmethod
    def empty(cls) -> TreeState:
        """The state of a log with no entries."""
        return cls(0, ())

    @cached_property
    def root_hash(self) -> bytes:
        """The RFC 6962 root hash of the tree."""
        return fold_subtrees(self.frontier)


def append_entries(store: TileStore, state: TreeState, entries: Sequence[bytes]) -> TreeState:
    """Append entries to the log in one store write; returns the new state (the old stays valid)."""
    stored = store.tree_size()
    if stored != state.size:
        raise LedgerError(
            f"the store holds {stored} entries but the tree state is for {state.size}: "
            "another writer appended, or a write was lost; call recover_state and retry"
        )
    if not entries:
        return state
    encoded = [encode_entry(entry) for entry in entries]
    hashes = [leaf_hash(entry) for entry in entries]
    new_size = state.size + len(entries)

    grown = extend_tree(state, hashes)

    bundles = _extend_bundles(store, state.size, encoded)
    tiles: dict[TileKey, bytes] = {}
    level, level_hashes = 0, hashes
    while level_hashes:
        existing = state.size >> (TILE_HEIGHT * level)
        level_hashes = _extend_level(store, level, existing, level_hashes, tiles)
        level += 1
    store.write(new_size, tiles, bundles)
    return grown


def extend_tree(state: TreeState, leaf_hashes: Sequence[bytes]) -> TreeState:
    """The state after appending leaves with these hashes: no store needed (a monitor that
    keeps the frontier checks each new checkpoint's root by this, from the entries alone)."""
    frontier = list(state.frontier)
    position = state.size
    for h in leaf_hashes:
        # A new leaf at `position` closes one complete subtree per trailing 1 bit of position.
        bits = position
        while bits & 1:
            h = node_hash(frontier.pop(), h)
            bits >>= 1
        frontier.append(h)
        position += 1
    return TreeState(position, tuple(frontier))


def _extend_level(
    store: TileStore, level: int, existing: int, new: list[bytes], out: dict[TileKey, bytes]
) -> list[bytes]:
    """Write tiles for `new` hashes after `existing` ones at `level`; return full tiles' roots."""
    first = existing // TILE_WIDTH
    kept = existing % TILE_WIDTH
    prefix = _read_tile(store, TileKey(level, first, kept)) if kept else b""
    data = prefix + b"".join(new)
    roots = []
    for offset in range(0, len(data), _TILE_BYTES):
        chunk = data[offset : offset + _TILE_BYTES]
        width = len(chunk) // HASH_SIZE
        out[TileKey(level, first + offset // _TILE_BYTES, width)] = chunk
        if width == TILE_WIDTH:
            roots.append(subtree_root(chunk))
    return roots


def _extend_bundles(store: TileStore, size: int, encoded: list[bytes]) -> dict[BundleKey, bytes]:
    first = size // TILE_WIDTH
    kept = size % TILE_WIDTH
    prefix = b""
    if kept:
        key = BundleKey(first, kept)
        found = store.read_entry_bundle(key)
        if found is None:
            raise LedgerError(f"entry bundle {key.path} is missing from the store")
        prefix = found
    bundles = {}
    index, width, parts = first, kept, [prefix]
    for entry in encoded:
        parts.append(entry)
        width += 1
        if width == TILE_WIDTH:
            bundles[BundleKey(index, width)] = b"".join(parts)
            index, width, parts = index + 1, 0, []
    if width:
        bundles[BundleKey(index, width)] = b"".join(parts)
    return bundles


def _stored_tile(store: TileStore, key: TileKey) -> bytes | None:
    data = store.read_tile(key)
    if data is not None and len(data) != key.width * HASH_SIZE:
        raise LedgerError(f"tile {key.path} holds {len(data)} bytes, not {key.width * HASH_SIZE}")
    return data


def _read_tile(store: TileStore, key: TileKey) -> bytes:
    data = _stored_tile(store, key)
    if data is None:
        raise LedgerError(f"tile {key.path} is missing from the store")
    return data


class _TileHashes:
    """Complete subtree hashes of the tree of `size`, read from tiles and memoized."""

    def __init__(self, store: TileStore, size: int) -> None:
        stored = store.tree_size()
        if size > stored:
            raise LedgerError(f"the log has {stored} entries; there is no tree of size {size}")
        self._store = store
        self._size = size
        self._stored = stored
        self._tiles: dict[tuple[int, int], bytes] = {}
        self._memo: dict[tuple[int, int], bytes] = {}

    def __call__(self, level: int, index: int) -> bytes:
        found = self._memo.get((level, index))
        if found is not None:
            return found
        tile_level, sublevel = divmod(level, TILE_HEIGHT)
        first = index << sublevel
        tile = self._tile(tile_level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH * HASH_SIZE
        hashes = tile[offset : offset + (HASH_SIZE << sublevel)]
        if len(hashes) != HASH_SIZE << sublevel:
            raise LedgerError(f"subtree ({level}, {index}) is not complete in the stored tiles")
        result = subtree_root(hashes)
        self._memo[(level, index)] = result
        return result

    def _tile(self, level: int, index: int) -> bytes:
        found = self._tiles.get((level, index))
        if found is not None:
            return found
        # The version of this tree size, else the current one: a store may keep only that, and
        # a wider version of a tile starts with the same hashes.
        wanted = TileKey(level, index, tile_width(level, index, self._size))
        data = _stored_tile(self._store, wanted)
        if data is None:
            data = _read_tile(
                self._store, TileKey(level, index, tile_width(level, index, self._stored))
            )
        self._tiles[(level, index)] = data
        return data


def recover_state(store: TileStore) -> TreeState:
    """Rebuild the tree state from the store alone (after a crash, or in another process)."""
    size = store.tree_size()
    subtree = _TileHashes(store, size)
    frontier = []
    position = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            frontier.append(subtree(level, position >> level))
            position += 1 << level
    return TreeState(size, tuple(frontier))


def tree_root(store: TileStore, size: int) -> bytes:
    """The root hash of the log when it had `size` entries, from the stored tiles."""
    if size == 0:
        return EMPTY_ROOT
    return range_hash(0, size, _TileHashes(store, size))


def inclusion_proof(store: TileStore, index: int, size: int) -> list[bytes]:
    """The inclusion proof of entry `index` in the tree of `size`, from the stored tiles."""
    return inclusion_path(index, size, _TileHashes(store, size))


def consistency_proof(store: TileStore, old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof from tree size `old_size` to `new_size`, from the stored tiles."""
    return consistency_path(old_size, new_size, _TileHashes(store, new_size))


def read_entry(store: TileStore, index: int) -> bytes:
    """The entry at `index`, from its entry bundle."""
    size = store.tree_size()
    if not 0 <= index < size:
        raise LedgerError(f"entry {index} is outside a log of {size} entries")
    key = BundleKey(index // TILE_WIDTH, tile_width(0, index // TILE_WIDTH, size))
    bundle = store.read_entry_bundle(key)
    if bundle is None:
        raise LedgerError(f"entry bundle {key.path} is missing from the store")
    entries = decode_entry_bundle(bundle)
    if len(entries) != key.width:
        raise LedgerError(f"entry bundle {key.path} holds {len(entries)} entries, not {key.width}")
    return entries[index % TILE_WIDTH]
