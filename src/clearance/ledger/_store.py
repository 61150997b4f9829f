"""Where tiles live: the storage protocol the log writes through, and an in-memory store.

The ledger never touches files or databases; a persistence package implements `TileStore`
(for example on SQL tables keyed by tile path) and hands it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from clearance.ledger._errors import LedgerError
from clearance.ledger._tiles import TILE_WIDTH, BundleKey, TileKey


@runtime_checkable
class TileStore(Protocol):
    """Storage for a tiled log's tiles and entry bundles, written one atomic batch at a time.

    Contract:
    - `write` commits the tiles and bundles of one append together with the new tree size, all
      or nothing; `tree_size` returns the size of the last committed write (0 when empty).
    - `read_tile` / `read_entry_bundle` return the bytes stored under exactly that key, or None.
    - A store must keep every full tile and bundle, and the current version (at the width for
      `tree_size()`) of each partial one. It may drop older partial versions, best once the
      full version exists (tlog-tiles allows that); keep them to serve old checkpoints' tiles.
    """

    def tree_size(self) -> int:
        """The number of entries committed so far."""
        ...

    def read_tile(self, key: TileKey) -> bytes | None:
        """The tile stored under `key`, or None."""
        ...

    def read_entry_bundle(self, key: BundleKey) -> bytes | None:
        """The entry bundle stored under `key`, or None."""
        ...

    def write(
        self,
        tree_size: int,
        tiles: Mapping[TileKey, bytes],
        bundles: Mapping[BundleKey, bytes],
    ) -> None:
        """Commit new tiles and bundles and the tree size they make up, atomically."""
        ...


class MemoryTileStore:
    """A TileStore in dictionaries, for tests and benchmarks; drops partials once a tile fills."""

    def __init__(self) -> None:
        self._size = 0
        # (tile level or -1 for entry bundles, index) -> width -> bytes
        self._data: dict[tuple[int, int], dict[int, bytes]] = {}

    def tree_size(self) -> int:
        """The number of entries committed so far."""
        return self._size

    def read_tile(self, key: TileKey) -> bytes | None:
        """The tile stored under `key`, or None."""
        return self._data.get((key.level, key.index), {}).get(key.width)

    def read_entry_bundle(self, key: BundleKey) -> bytes | None:
        """The entry bundle stored under `key`, or None."""
        return self._data.get((_BUNDLES, key.index), {}).get(key.width)

    def write(
        self,
        tree_size: int,
        tiles: Mapping[TileKey, bytes],
        bundles: Mapping[BundleKey, bytes],
    ) -> None:
        """Commit new tiles and bundles and the tree size they make up."""
        if tree_size < self._size:
            raise LedgerError(f"a write may not shrink the log from {self._size} to {tree_size}")
        for key, data in tiles.items():
            self._put((key.level, key.index), key.width, data)
        for bkey, data in bundles.items():
            self._put((_BUNDLES, bkey.index), bkey.width, data)
        self._size = tree_size

    def _put(self, slot: tuple[int, int], width: int, data: bytes) -> None:
        if width == TILE_WIDTH:
            self._data[slot] = {width: data}
        else:
            self._data.setdefault(slot, {})[width] = data

    def paths(self) -> dict[str, bytes]:
        """Every stored tile and bundle by its tlog-tiles path, as a static server serves them."""
        out: dict[str, bytes] = {}
        for (level, index), versions in self._data.items():
            for width, data in versions.items():
                key = BundleKey(index, width) if level == _BUNDLES else TileKey(level, index, width)
                out[key.path] = data
        return out


_BUNDLES = -1
