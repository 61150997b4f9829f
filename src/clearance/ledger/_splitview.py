"""Proof of a split view: two checkpoints of one log, both validly signed, of the same size and
different root hashes. Such a pair can only come from a log that showed two histories; anyone
holding the log's key can check the file:

    {"format": "https://clearance.dev/split-view/v1",
     "origin": <log origin>, "size": <tree size>,
     "checkpoints": [<signed checkpoint>, <signed checkpoint>],
     "sources": [<where the first was read>, <where the second was read>]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from clearance.ledger._checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from clearance.ledger._codec import load_json_object
from clearance.ledger._errors import MalformedData, VerificationFailed
from clearance.ledger._keys import VerifierKey

SPLIT_VIEW_FORMAT = "https://clearance.dev/split-view/v1"


@dataclass(frozen=True)
class SplitView:
    """Two signed checkpoints of one size with different roots, and where each was seen."""

    first: str
    second: str
    sources: tuple[str, str] = ("", "")

    def __post_init__(self) -> None:
        a, b = parse_checkpoint(self.first), parse_checkpoint(self.second)
        if a.origin != b.origin or a.size != b.size or a.root_hash == b.root_hash:
            raise MalformedData(
                "a split view needs two checkpoints of one log and size with different roots"
            )

    def to_json(self) -> bytes:
        """The proof file's bytes (indented JSON)."""
        a = parse_checkpoint(self.first)
        body = {
            "format": SPLIT_VIEW_FORMAT,
            "origin": a.origin,
            "size": a.size,
            "checkpoints": [self.first, self.second],
            "sources": list(self.sources),
        }
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> SplitView:
        """Parse a proof file; MalformedData if a field is missing or mistyped."""
        obj = load_json_object(data, "split-view proof")
        if obj.get("format") != SPLIT_VIEW_FORMAT:
            raise MalformedData(f"split-view proof format is not {SPLIT_VIEW_FORMAT!r}")
        notes, sources = _two_strings(obj, "checkpoints"), _two_strings(obj, "sources")
        view = cls(notes[0], notes[1], (sources[0], sources[1]))
        a = parse_checkpoint(view.first)
        if obj.get("origin") != a.origin or obj.get("size") != a.size:
            raise MalformedData("split-view proof origin or size differs from its checkpoints")
        return view


def _two_strings(obj: dict[str, object], name: str) -> list[str]:
    value = obj.get(name)
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise MalformedData(f"split-view proof field {name!r} must be a list of two strings")
    return [str(v) for v in value]


def verify_split_view(
    view: SplitView | bytes | str, keys: Iterable[VerifierKey]
) -> tuple[Checkpoint, Checkpoint]:
    """Check that both checkpoints are signed by the log's key; returns them.

    Raises VerificationFailed if either signature does not verify: then the file proves nothing.
    """
    if not isinstance(view, SplitView):
        view = SplitView.from_json(view)
    keys = list(keys)
    origin = parse_checkpoint(view.first).origin
    first = open_checkpoint(view.first, keys, origin=origin)
    second = open_checkpoint(view.second, keys, origin=origin)
    if first.size != second.size or first.root_hash == second.root_hash:
        raise VerificationFailed("the two checkpoints do not disagree")
    return first, second
