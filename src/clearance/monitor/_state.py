"""What a monitor remembers between runs, in one JSON file replaced atomically.

    {"format": "https://clearance.dev/monitor-state/v1",
     "url": <the log's register URL>, "origin": <log origin>,
     "keys": [<trusted log vkeys: the first pinned, then those logged rotations handed over to>],
     "checkpoint": <the newest verified signed checkpoint, or null>,
     "size": N, "frontier": [<base64 right-edge subtree hashes of the tree of size N>],
     "base_size": B, "base_frontier": [...], "next": K}

Entries [B, N) were verified against the checkpoint (by rebuilding its root from the frontier of
B); those before K have been reported. A run that stops while reporting resumes at K, after
verifying [B, N) again, so no entry is reported twice or skipped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from clearance.errors import InvalidInput
from clearance.ledger import LedgerError, TreeState, VerifierKey
from clearance.ledger._codec import b64decode, b64encode

STATE_FORMAT = "https://clearance.dev/monitor-state/v1"


@dataclass
class MonitorState:
    """The monitor's position in one log."""

    url: str
    origin: str
    keys: list[VerifierKey]
    checkpoint: str | None = None
    tree: TreeState = field(default_factory=TreeState.empty)
    base: TreeState = field(default_factory=TreeState.empty)
    next: int = 0

    def save(self, path: Path, *, durable: bool = False) -> None:
        """Write the state file (via a temporary file and a rename: never half-written)."""
        body = {
            "format": STATE_FORMAT,
            "url": self.url,
            "origin": self.origin,
            "keys": [k.vkey for k in self.keys],
            "checkpoint": self.checkpoint,
            "size": self.tree.size,
            "frontier": [b64encode(h) for h in self.tree.frontier],
            "base_size": self.base.size,
            "base_frontier": [b64encode(h) for h in self.base.frontier],
            "next": self.next,
        }
        partial = path.with_name(path.name + ".tmp")
        with partial.open("w") as handle:
            handle.write(json.dumps(body, indent=2) + "\n")
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> MonitorState | None:
        """The state in `path`, None if there is no such file, InvalidInput if it is damaged."""
        try:
            body = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"--state {path}: not a monitor state file: {exc}") from None
        try:
            if body.get("format") != STATE_FORMAT:
                raise ValueError(f"format is not {STATE_FORMAT}")
            state = cls(
                url=str(body["url"]),
                origin=str(body["origin"]),
                keys=[VerifierKey.parse(k) for k in body["keys"]],
                checkpoint=body["checkpoint"],
                tree=TreeState(
                    int(body["size"]), tuple(b64decode(h, "frontier") for h in body["frontier"])
                ),
                base=TreeState(
                    int(body["base_size"]),
                    tuple(b64decode(h, "frontier") for h in body["base_frontier"]),
                ),
                next=int(body["next"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError, LedgerError) as exc:
            raise InvalidInput(f"--state {path}: damaged monitor state: {exc}") from None
        if not state.base.size <= state.next <= state.tree.size:
            raise InvalidInput(f"--state {path}: damaged monitor state: positions out of order")
        return state
