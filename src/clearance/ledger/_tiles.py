"""The C2SP tlog-tiles layout: tile and entry-bundle names, widths, and their byte encodings.

Tiles are 8 levels high, so each holds up to 256 hashes; a tile at tile level L holds hashes of
Merkle level 8 * L. The paths are those of https://c2sp.org/tlog-tiles, relative to the log's
prefix: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from clearance.ledger._errors import LedgerError, MalformedData
from clearance.ledger._merkle import HASH_SIZE

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_TILE_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
"""Entries in a bundle carry a big-endian uint16 length, so none may be longer."""


@dataclass(frozen=True, order=True)
class TileKey:
    """A Merkle tree tile: its tile level, its index within that level, and its width (1..256)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        _check_key(self.index, self.width)
        if not 0 <= self.level <= MAX_TILE_LEVEL:
            raise LedgerError(f"tile level {self.level} is outside 0..{MAX_TILE_LEVEL}")

    @property
    def path(self) -> str:
        """The tile's path under the log prefix, for example `tile/0/x001/x234/067.p/5`."""
        return f"tile/{self.level}/{_encode_index(self.index)}{_width_suffix(self.width)}"


@dataclass(frozen=True, order=True)
class BundleKey:
    """An entry bundle: the level-0 tile index it matches and its width (1..256)."""

    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        _check_key(self.index, self.width)

    @property
    def path(self) -> str:
        """The bundle's path under the log prefix, for example `tile/entries/x001/234.p/7`."""
        return f"tile/entries/{_encode_index(self.index)}{_width_suffix(self.width)}"


def _check_key(index: int, width: int) -> None:
    if index < 0:
        raise LedgerError(f"tile index {index} is negative")
    if not 1 <= width <= TILE_WIDTH:
        raise LedgerError(f"tile width {width} is outside 1..{TILE_WIDTH}")


def _encode_index(index: int) -> str:
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def _width_suffix(width: int) -> str:
    return "" if width == TILE_WIDTH else f".p/{width}"


_PATH = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


def parse_tile_path(path: str) -> TileKey | BundleKey:
    """Parse a tlog-tiles path (`tile/...`) into its key; MalformedData if it is not canonical."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise MalformedData(f"{path!r} is not a tlog-tiles path")
    index = int(match["index"].replace("x", "").replace("/", ""))
    width = int(match["width"]) if match["width"] else TILE_WIDTH
    try:
        key: TileKey | BundleKey = (
            BundleKey(index, width)
            if match["level"] == "entries"
            else TileKey(int(match["level"]), index, width)
        )
    except LedgerError as exc:
        raise MalformedData(f"{path!r} is not a tlog-tiles path: {exc.message}") from None
    # The index must have one spelling only: no leading zero groups, and a full tile has no .p/256.
    if key.path != path:
        raise MalformedData(f"{path!r} is not the canonical spelling {key.path!r}")
    return key


def tile_width(level: int, index: int, tree_size: int) -> int:
    """The width of tile (level, index) in a tree of `tree_size`; 0 if the tile is empty there."""
    hashes = tree_size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, hashes - index * TILE_WIDTH))


def subtree_root(hashes: bytes) -> bytes:
    """The root over 2**k hashes laid end to end (a full tile, or an aligned part of one)."""
    sha256 = hashlib.sha256
    # Adjacent hashes are already a node's left || right, so each node costs one slice; this
    # loop is the hot path of proof building, hence no per-node function call.
    while len(hashes) > HASH_SIZE:
        pair = 2 * HASH_SIZE
        hashes = b"".join(
            [sha256(b"\x01" + hashes[i : i + pair]).digest() for i in range(0, len(hashes), pair)]
        )
    return hashes


def encode_entry(entry: bytes) -> bytes:
    """One entry as stored in a bundle: big-endian uint16 length, then the bytes."""
    if len(entry) > MAX_ENTRY_SIZE:
        raise LedgerError(
            f"log entry is {len(entry)} bytes; an entry bundle holds at most {MAX_ENTRY_SIZE}"
        )
    return len(entry).to_bytes(2, "big") + entry


def decode_entry_bundle(bundle: bytes) -> list[bytes]:
    """The entries of an entry bundle, in order; MalformedData if the lengths do not add up."""
    entries = []
    pos = 0
    while pos < len(bundle):
        if pos + 2 > len(bundle):
            raise MalformedData("entry bundle ends inside a length prefix")
        length = int.from_bytes(bundle[pos : pos + 2], "big")
        pos += 2
        if pos + length > len(bundle):
            raise MalformedData("entry bundle ends inside an entry")
        entries.append(bundle[pos : pos + length])
        pos += length
    return entries
