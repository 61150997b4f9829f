"""The tiled log: tlog-tiles paths, incremental appends, proofs read from tiles, recovery."""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.ledger import (
    EMPTY_ROOT,
    TILE_WIDTH,
    BundleKey,
    LedgerError,
    MalformedData,
    MemoryTileStore,
    TileKey,
    TreeState,
    append_entries,
    consistency_proof,
    decode_entry_bundle,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    parse_tile_path,
    read_entry,
    recover_state,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from clearance.ledger._tiles import tile_width


def entries(start: int, end: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(start, end)]


def build(
    sizes: list[int], store: MemoryTileStore | None = None
) -> tuple[MemoryTileStore, TreeState]:
    """Append batches of the given sizes to `store` (a new one if None), numbering on."""
    store = MemoryTileStore() if store is None else store
    state = recover_state(store)
    for size in sizes:
        state = append_entries(store, state, entries(state.size, state.size + size))
    return store, state


def expected_tiles(hashes: list[bytes]) -> dict[TileKey, bytes]:
    """Tiles for a tree straight from the tlog-tiles definition, MTH over ranges of leaves."""
    tiles: dict[TileKey, bytes] = {}
    level, span = 0, 1
    while len(hashes) >= span:
        count = len(hashes) // span
        level_hashes = [merkle_root(hashes[i * span : (i + 1) * span]) for i in range(count)]
        for index in range(0, count, TILE_WIDTH):
            chunk = level_hashes[index : index + TILE_WIDTH]
            tiles[TileKey(level, index // TILE_WIDTH, len(chunk))] = b"".join(chunk)
        level, span = level + 1, span * TILE_WIDTH
    return tiles


@pytest.mark.parametrize(
    ("key", "path"),
    [
        (TileKey(0, 0), "tile/0/000"),
        (TileKey(0, 1234067), "tile/0/x001/x234/067"),
        (TileKey(1, 1000, 5), "tile/1/x001/000.p/5"),
        (TileKey(63, 999, 255), "tile/63/999.p/255"),
        (BundleKey(1234067), "tile/entries/x001/x234/067"),
        (BundleKey(3, 17), "tile/entries/003.p/17"),
    ],
)
def test_tile_paths_follow_tlog_tiles(key: TileKey | BundleKey, path: str) -> None:
    assert key.path == path
    assert parse_tile_path(path) == key


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/0/x000/001",
        "tile/0/001.p/256",
        "tile/0/001.p/0",
        "tile/0/001.p/300",
        "tile/64/000",
        "tile/01/000",
        "tile/0/001/",
        "tile/entries/x001",
        "/tile/0/000",
    ],
)
def test_non_canonical_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(MalformedData):
        parse_tile_path(path)


def test_tile_widths_match_the_spec_example_of_70000_entries() -> None:
    size = 70_000
    assert [tile_width(0, i, size) for i in (0, 272, 273, 274)] == [256, 256, 112, 0]
    assert [tile_width(1, i, size) for i in (0, 1, 2)] == [256, 17, 0]
    assert tile_width(2, 0, size) == 1
    assert tile_width(1, 0, 256) == 1


def test_incremental_appends_write_exactly_the_specified_tiles() -> None:
    store, state = build([1, 255, 300, 3, 65_000, 4_441])
    assert state.size == 70_000
    hashes = [leaf_hash(e) for e in entries(0, state.size)]
    assert state.root_hash == merkle_root(hashes)
    stored = store.paths()
    want = {key.path: data for key, data in expected_tiles(hashes).items()}
    assert {p: stored[p] for p in want} == want
    assert {p for p in stored if not p.startswith("tile/entries/")} == set(want)
    assert "tile/2/000.p/1" in stored
    bundle = decode_entry_bundle(stored["tile/entries/273.p/112"])
    assert bundle == entries(273 * 256, 70_000)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 700), min_size=1, max_size=8))
def test_any_batching_gives_the_same_tree_and_tiles(batches: list[int]) -> None:
    store, state = build(batches)
    one_store, one_state = build([sum(batches)])
    assert state == one_state
    assert state.root_hash == merkle_root([leaf_hash(e) for e in entries(0, state.size)])
    stored = store.paths()
    for path, data in one_store.paths().items():
        assert stored[path] == data
    assert recover_state(store) == state


def test_proofs_from_tiles_verify_for_every_size_and_index_up_to_600() -> None:
    store, _ = build([600])
    hashes = [leaf_hash(e) for e in entries(0, 600)]
    roots = [merkle_root(hashes[:n]) for n in range(601)]
    for size in [*range(1, 40), 255, 256, 257, 511, 512, 513, 600]:
        assert tree_root(store, size) == roots[size]
        step = 1 if size < 40 else 7
        for index in [*range(0, size, step), size - 1]:
            proof = inclusion_proof(store, index, size)
            verify_inclusion(hashes[index], index, size, proof, roots[size])
        for old in [*range(1, size, step), size]:
            proof = consistency_proof(store, old, size)
            verify_consistency(old, size, roots[old], roots[size], proof)
    assert tree_root(store, 0) == EMPTY_ROOT


def test_proofs_from_tiles_across_three_tile_levels() -> None:
    store, state = build([70_000])
    hashes = [leaf_hash(e) for e in entries(0, state.size)]
    rng = random.Random(7)
    sizes = [65_535, 65_536, 65_537, 70_000, *rng.sample(range(1, 70_000), 8)]
    roots = {n: merkle_root(hashes[:n]) for n in sizes}
    for size in sizes:
        for index in [0, size - 1, *rng.sample(range(size), 5)]:
            proof = inclusion_proof(store, index, size)
            verify_inclusion(hashes[index], index, size, proof, roots[size])
        for old in sizes:
            if old <= size:
                proof = consistency_proof(store, old, size)
                verify_consistency(old, size, roots[old], roots[size], proof)


def test_proofs_for_old_sizes_survive_partial_tiles_filling_up() -> None:
    store, old = build([100, 20])
    _, new = build([400], store)
    hashes = [leaf_hash(e) for e in entries(0, new.size)]
    assert store.read_tile(TileKey(0, 0, 120)) is None  # the full tile replaced it
    verify_inclusion(hashes[7], 7, 120, inclusion_proof(store, 7, 120), old.root_hash)
    verify_consistency(120, 520, old.root_hash, new.root_hash, consistency_proof(store, 120, 520))


class CurrentVersionOnlyStore(MemoryTileStore):
    """A store that keeps only the newest version of each partial tile (allowed by TileStore)."""

    def write(
        self,
        tree_size: int,
        tiles: Mapping[TileKey, bytes],
        bundles: Mapping[BundleKey, bytes],
    ) -> None:
        super().write(tree_size, tiles, bundles)
        for slot, versions in self._data.items():
            newest = max(versions)
            self._data[slot] = {newest: versions[newest]}


def test_proofs_for_old_sizes_work_when_the_store_keeps_only_current_partials() -> None:
    store, old = build([300, 30], CurrentVersionOnlyStore())
    _, new = build([50], store)
    hashes = [leaf_hash(e) for e in entries(0, new.size)]
    assert store.read_tile(TileKey(0, 1, 74)) is None  # the tile as it was at size 330
    verify_inclusion(hashes[299], 299, 330, inclusion_proof(store, 299, 330), old.root_hash)
    verify_consistency(330, 380, old.root_hash, new.root_hash, consistency_proof(store, 330, 380))
    assert recover_state(store) == new


def test_entries_read_back_from_bundles() -> None:
    store, _ = build([3, 300])
    assert read_entry(store, 0) == b"entry 0"
    assert read_entry(store, 302) == b"entry 302"
    with pytest.raises(LedgerError, match="outside"):
        read_entry(store, 303)


def test_recovered_state_continues_like_the_original() -> None:
    store, state = build([17, 1000, 5])
    recovered = recover_state(store)
    assert recovered == state
    assert recovered.root_hash == state.root_hash
    more = entries(state.size, state.size + 400)
    twin, _ = build([17, 1000, 5])
    assert append_entries(store, recovered, more) == append_entries(twin, state, more)
    assert recover_state(MemoryTileStore()) == TreeState.empty()


class FailingStore(MemoryTileStore):
    """A store whose writes fail while `failing` is set, as a full disk would."""

    failing = False

    def write(
        self,
        tree_size: int,
        tiles: Mapping[TileKey, bytes],
        bundles: Mapping[BundleKey, bytes],
    ) -> None:
        if self.failing:
            raise OSError("disk full")
        super().write(tree_size, tiles, bundles)


def test_a_failed_write_leaves_store_and_state_usable() -> None:
    store, state = build([10], FailingStore())
    store.failing = True
    with pytest.raises(OSError, match="disk full"):
        append_entries(store, state, entries(10, 20))
    store.failing = False
    assert recover_state(store) == state
    assert append_entries(store, state, entries(10, 20)).size == 20


def test_a_stale_state_is_refused() -> None:
    store, state = build([10])
    append_entries(store, state, entries(10, 11))
    with pytest.raises(LedgerError, match="recover_state"):
        append_entries(store, state, entries(10, 11))


def test_missing_or_damaged_tiles_are_reported_by_path() -> None:
    store, _ = build([300])
    del store._data[(0, 1)]
    with pytest.raises(LedgerError, match=r"tile/0/001\.p/44 is missing"):
        recover_state(store)
    with pytest.raises(LedgerError, match="no tree of size"):
        inclusion_proof(store, 0, 301)


def test_oversized_entries_and_bad_states_are_refused() -> None:
    store = MemoryTileStore()
    with pytest.raises(LedgerError, match="at most 65535"):
        append_entries(store, TreeState.empty(), [b"x" * 65_536])
    assert store.tree_size() == 0
    with pytest.raises(LedgerError, match="frontier"):
        TreeState(3, (EMPTY_ROOT,))
    assert append_entries(store, TreeState.empty(), []) == TreeState.empty()
