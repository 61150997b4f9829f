"""C2SP signed notes (https://c2sp.org/signed-note): text signed by one or more Ed25519 keys.

A note is its text (ending in a newline), a blank line, then one line per signature:
`— <key name> <base64(4-byte key ID || signature)>`, with an em dash (U+2014).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from clearance.ledger._codec import b64decode, b64encode
from clearance.ledger._errors import MalformedData, VerificationFailed
from clearance.ledger._keys import SigningKey, VerifierKey, check_key_name

MAX_SIGNATURES = 100
"""More signature lines than this make a note malformed (the spec asks verifiers for >= 16)."""

_DASH = "\u2014 "


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: key name, key ID and the signature bytes after the ID."""

    name: str
    key_id: int
    signature: bytes

    @property
    def line(self) -> str:
        """The signature line, ending in a newline."""
        payload = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_DASH}{self.name} {b64encode(payload)}\n"


@dataclass(frozen=True)
class Note:
    """A note's text with its signatures: verified by a known key, or from keys not known."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...] = ()


_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def _check_text(text: str, what: str) -> None:
    found = _CONTROL.search(text)
    if found is not None:
        raise MalformedData(f"{what} contains the control character {found.group()!r}")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise MalformedData(f"{what} is not valid Unicode text") from None


def sign_note(text: str, *keys: SigningKey) -> str:
    """Sign `text` (which must end in a newline) with each key; returns the signed note."""
    if not keys:
        raise MalformedData("a signed note needs at least one signing key")
    if not text.endswith("\n"):
        raise MalformedData("note text must end with a newline")
    _check_text(text, "note text")
    message = text.encode()
    lines = [NoteSignature(k.name, k.verifier.key_id, k.sign(message)).line for k in keys]
    return text + "\n" + "".join(lines)


def add_signatures(note: str | bytes, *keys: SigningKey) -> str:
    """Add signatures (for example a second key during rotation) to a note, keeping the others."""
    parsed = parse_note(note)
    signed = sign_note(parsed.text, *keys)
    # Keep the existing lines verbatim, then the new ones; drop exact re-signings by the same key.
    new = {(k.name, k.verifier.key_id) for k in keys}
    kept = [s.line for s in parsed.unverified if (s.name, s.key_id) not in new]
    return parsed.text + "\n" + "".join(kept) + signed[len(parsed.text) + 1 :]


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into text and signature lines without checking any signature.

    Every signature comes back in `unverified`; use `open_note` to verify.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode()
        except UnicodeDecodeError:
            raise MalformedData("signed note is not valid UTF-8") from None
    _check_text(note, "signed note")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedData("signed note has no blank line between its text and signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedData("signed note has no signature lines, or its last line has no newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedData(f"signed note has {len(lines)} signatures; at most {MAX_SIGNATURES}")
    return Note(text, (), tuple(_parse_signature(line) for line in lines))


def _parse_signature(line: str) -> NoteSignature:
    if not line.startswith(_DASH):
        raise MalformedData(f"signature line {line!r} does not start with an em dash and a space")
    name, space, encoded = line[len(_DASH) :].partition(" ")
    if not space:
        raise MalformedData(f"signature line {line!r} has no space between key name and signature")
    check_key_name(name)
    raw = b64decode(encoded, f"signature by {name}")
    if len(raw) < 5:
        raise MalformedData(f"signature by {name} is too short to hold a key ID and a signature")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def open_note(note: str | bytes, verifiers: Iterable[VerifierKey]) -> Note:
    """Parse a signed note and verify it: every signature by a known key must verify, and at
    least one must; signatures by unknown keys are ignored and returned as `unverified`."""
    return verify_note(parse_note(note), verifiers)


def verify_note(parsed: Note, verifiers: Iterable[VerifierKey]) -> Note:
    """`open_note` on a note already parsed (by `parse_note`): the same checks and result."""
    known: dict[tuple[str, int], VerifierKey] = {}
    for key in verifiers:
        slot = (key.name, key.key_id)
        if slot in known and known[slot] != key:
            raise VerificationFailed(
                f"two different verifier keys share {key.name}+{key.key_id:08x}"
            )
        known[slot] = key
    message = parsed.text.encode()
    verified: dict[tuple[str, int], NoteSignature] = {}
    unverified: dict[str, NoteSignature] = {}
    for sig in parsed.unverified:
        found = known.get((sig.name, sig.key_id))
        if found is None:
            unverified.setdefault(sig.line, sig)
            continue
        if not found.verify(message, sig.signature):
            raise VerificationFailed(
                f"the signature by {sig.name}+{sig.key_id:08x} does not verify: "
                "the note was altered or the signature is corrupt"
            )
        verified.setdefault((sig.name, sig.key_id), sig)
    if not verified:
        names = ", ".join(sorted({f"{s.name}+{s.key_id:08x}" for s in parsed.unverified}))
        raise VerificationFailed(
            f"no signature on the note is by a trusted key (signed by: {names})"
        )
    return Note(parsed.text, tuple(verified.values()), tuple(unverified.values()))


def merge_signatures(note: str | bytes, signatures: Iterable[NoteSignature]) -> str:
    """Add signature lines (for example witnesses' cosignatures) to a signed note.

    The note's own lines stay first and verbatim; a new line is skipped when the note already
    has one by the same key name and key ID. Nothing is verified here.
    """
    parsed = parse_note(note)
    seen = {(s.name, s.key_id) for s in parsed.unverified}
    lines = [s.line for s in parsed.unverified]
    for sig in signatures:
        if (sig.name, sig.key_id) not in seen:
            seen.add((sig.name, sig.key_id))
            lines.append(sig.line)
    if len(lines) > MAX_SIGNATURES:
        raise MalformedData(f"a signed note holds at most {MAX_SIGNATURES} signatures")
    return parsed.text + "\n" + "".join(lines)
