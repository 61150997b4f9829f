"""Client reads of the transparency log: checkpoint, key, tiles, statements, proofs, bundles."""

from __future__ import annotations

from clearance.client._http import Session, operation


class Log(Session):
    """The log's public files (no key needed); verify them offline with `clearance verify`."""

    def _text(self, path: str, params: dict[str, int | None] | None = None) -> bytes:
        return self.request("GET", path, prefix="", params=params).content

    @operation("GET", "/log/checkpoint")
    def checkpoint(self) -> str:
        """The published checkpoint (a signed note)."""
        return self._text("/log/checkpoint").decode()

    @operation("GET", "/log/key")
    def log_key(self) -> str:
        """The log's verifier key (a vkey)."""
        return self._text("/log/key").decode().strip()

    @operation("GET", "/log/tile/{path}")
    def tile(self, path: str) -> bytes:
        """A Merkle tile or entry bundle by its tlog-tiles path (after `tile/`)."""
        return self._text(f"/log/tile/{path}")

    @operation("GET", "/log/statements/{index}")
    def statement(self, index: int) -> bytes:
        """The DSSE envelope logged at `index`."""
        return self._text(f"/log/statements/{index}")

    @operation("GET", "/log/proof/consistency")
    def consistency(self, old: int, new: int | None = None) -> bytes:
        """A consistency file from tree size `old` to the published (or a given) checkpoint."""
        return self._text("/log/proof/consistency", {"old": old, "new": new})

    @operation("GET", "/log/bundle/{reference}")
    def bundle(self, reference: int | str) -> bytes:
        """The offline bundle of a log entry, by index or by a decision's (directive's...) id."""
        return self._text(f"/log/bundle/{reference}")

    @operation("GET", "/log/key-rotations")
    def key_rotations(self) -> list[str]:
        """The logged key-rotation envelopes, oldest first."""
        rotations: list[str] = self.json("GET", "/log/key-rotations", prefix="")
        return rotations
