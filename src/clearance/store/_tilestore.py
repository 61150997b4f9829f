"""The ledger's TileStore on SQL tables, inside the register's own transaction.

Only the widest version of each tile and entry bundle is kept: an older, narrower (partial)
version is a prefix of it, so it is cut out on read. Appends thus rewrite one row per tile level
instead of piling up partial versions, and every old checkpoint's tiles can still be served.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, update
from sqlalchemy.dialects import postgresql, sqlite

from clearance.ledger import BundleKey, LedgerError, TileKey, TreeState, decode_entry_bundle
from clearance.store import _tables as t

HASH_SIZE = 32
TILE_HEIGHT = 8
_LOG_ROW = 1


def _upsert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={"width": statement.excluded.width, "data": statement.excluded.data},
    )
    connection.execute(statement, rows)


class SqlTileStore:
    """A TileStore over the log tables, read and written through one connection."""

    def __init__(self, connection: Connection, *, lock: bool = False) -> None:
        self.connection = connection
        # PostgreSQL: the row lock makes concurrent appenders take turns; SQLite already holds
        # the database's write lock since BEGIN IMMEDIATE (and has no FOR UPDATE).
        locking = " FOR UPDATE" if lock and connection.dialect.name == "postgresql" else ""
        row = self._read("log_state", "id = {}" + locking, (_LOG_ROW,), "tree_size, frontier")
        if row is None:
            raise LedgerError("the log_state row is missing: the database is not migrated")
        frontier = bytes(row[1])
        self.state = TreeState(
            int(row[0]),
            tuple(frontier[i : i + HASH_SIZE] for i in range(0, len(frontier), HASH_SIZE)),
        )
        self._size = self.state.size
        self._tiles: dict[tuple[int, int], tuple[int, bytes]] = {}

    def prefetch(self, index: int, size: int) -> None:
        """Read in one query the tiles a proof about `index` in the tree of `size` needs.

        Those are the tiles holding the entry's ancestors and the tree's right edge at each
        tile level; any other tile a proof asks for is still read on demand.
        """
        wanted = set()
        level = 0
        while size >> (TILE_HEIGHT * level):
            shift = TILE_HEIGHT * (level + 1)
            wanted.add((level, index >> shift))
            wanted.add((level, ((size >> (TILE_HEIGHT * level)) - 1) >> TILE_HEIGHT))
            level += 1
        if not wanted:
            return
        marker = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"
        where = " OR ".join([f"(level = {marker} AND idx = {marker})"] * len(wanted))
        params = tuple(value for pair in sorted(wanted) for value in pair)
        sql = f"SELECT level, idx, width, data FROM log_tiles WHERE {where}"
        for row in self.connection.exec_driver_sql(sql, params):
            self._tiles[(int(row[0]), int(row[1]))] = (int(row[2]), bytes(row[3]))

    def tree_size(self) -> int:
        """The number of entries committed so far (as this transaction sees it)."""
        return self._size

    def read_tile(self, key: TileKey) -> bytes | None:
        """The tile `key`, cut from the widest stored version of its tile."""
        row = self._tiles.get((key.level, key.index)) or self._read(
            "log_tiles", "level = {} AND idx = {}", (key.level, key.index)
        )
        if row is None or row[0] < key.width:
            return None
        return bytes(row[1][: key.width * HASH_SIZE])

    def read_entry_bundle(self, key: BundleKey) -> bytes | None:
        """The entry bundle `key`, cut from the widest stored version of its bundle."""
        row = self._read("log_entry_bundles", "idx = {}", (key.index,))
        if row is None or row[0] < key.width:
            return None
        data = bytes(row[1])
        if row[0] == key.width:
            return data
        entries = decode_entry_bundle(data)[: key.width]
        return b"".join(len(e).to_bytes(2, "big") + e for e in entries)

    def _read(
        self, table: str, where: str, params: tuple[int, ...], columns: str = "width, data"
    ) -> Any:
        # Proofs read a handful of tiles each; the driver's own SQL skips SQLAlchemy's
        # statement building, which costs more than the lookup itself.
        marker = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"
        sql = f"SELECT {columns} FROM {table} WHERE " + where.format(*[marker] * len(params))
        return self.connection.exec_driver_sql(sql, params).first()

    def write(
        self,
        tree_size: int,
        tiles: Mapping[TileKey, bytes],
        bundles: Mapping[BundleKey, bytes],
    ) -> None:
        """Write tiles, bundles and the new size in the caller's transaction."""
        if tree_size < self._size:
            raise LedgerError(f"a write may not shrink the log from {self._size} to {tree_size}")
        self._tiles.clear()
        _upsert(
            self.connection,
            t.log_tiles,
            [
                {"level": k.level, "idx": k.index, "width": k.width, "data": v}
                for k, v in tiles.items()
            ],
        )
        _upsert(
            self.connection,
            t.log_entry_bundles,
            [{"idx": k.index, "width": k.width, "data": v} for k, v in bundles.items()],
        )
        self.connection.execute(
            update(t.log_state).where(t.log_state.c.id == _LOG_ROW).values(tree_size=tree_size)
        )
        self._size = tree_size

    def save_state(self, state: TreeState) -> None:
        """Record the tree state (size and frontier) that the last write produced."""
        if state.size != self._size:
            raise LedgerError(f"tree state of size {state.size} does not match {self._size}")
        self.connection.execute(
            update(t.log_state)
            .where(t.log_state.c.id == _LOG_ROW)
            .values(tree_size=state.size, frontier=b"".join(state.frontier))
        )
        self.state = state
