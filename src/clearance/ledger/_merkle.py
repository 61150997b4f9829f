"""RFC 6962 Merkle tree hashing, proof construction over any source of subtree hashes, and checks.

Proof construction follows RFC 6962 section 2.1.1 (PATH) and 2.1.2 (SUBPROOF); verification
follows RFC 9162 sections 2.1.3.2 and 2.1.4.2. A proof builder needs only the hashes of complete
subtrees, `(level, index) -> MTH(D[index * 2**level : (index + 1) * 2**level])`, so the same code
serves an in-memory list and a tile store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from clearance.ledger._errors import LedgerError, VerificationFailed

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]
"""(level, index) -> hash of the complete subtree of 2**level leaves from index * 2**level."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle Tree Hash of a list of leaf hashes (EMPTY_ROOT for none)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    # Pairing level by level and carrying an odd last node up unchanged builds exactly the
    # RFC 6962 tree, whose left subtree is always the largest power of two.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """Combine the complete subtrees of a tree, given left to right, into its root hash."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def range_hash(start: int, end: int, subtree: SubtreeHash) -> bytes:
    """MTH(D[start:end]) for a range starting at a multiple of its largest power-of-two part."""
    if end <= start:
        raise LedgerError(f"empty or inverted leaf range [{start}, {end})")
    parts: list[bytes] = []
    pos = start
    for level in range((end - start).bit_length() - 1, -1, -1):
        if (end - start) >> level & 1:
            parts.append(subtree(level, pos >> level))
            pos += 1 << level
    return fold_subtrees(parts)


def _split(n: int) -> int:
    """The largest power of two strictly below n (n >= 2): the size of the left subtree."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_path(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    """The RFC 6962 audit path for leaf `index` in the tree of `size` leaves, leaf side first."""
    if not 0 <= index < size:
        raise LedgerError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start += k
    path.reverse()
    return path


def consistency_path(old_size: int, new_size: int, subtree: SubtreeHash) -> list[bytes]:
    """The RFC 6962 consistency proof from tree size `old_size` to `new_size`."""
    if not 0 <= old_size <= new_size:
        raise LedgerError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []
    start, end, m = 0, new_size, old_size
    whole_old_tree = True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start += k
            m -= k
            whole_old_tree = False
    if not whole_old_tree:
        path.append(range_hash(start, end, subtree))
    path.reverse()
    return path


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationFailed(f"{what} is {len(value)} bytes, not a 32-byte SHA-256 hash")


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root an audit path implies for `leaf` at `index`; VerificationFailed if ill-shaped."""
    _check_hash(leaf, "the leaf hash")
    if not 0 <= index < size:
        raise VerificationFailed(f"leaf index {index} is outside a tree of size {size}")
    fn, sn = index, size - 1
    root = leaf
    for n, sibling in enumerate(path):
        _check_hash(sibling, f"inclusion proof hash {n}")
        if sn == 0:
            raise VerificationFailed(
                f"inclusion proof has {len(path)} hashes, more than a tree of size {size} needs"
            )
        if fn & 1 or fn == sn:
            root = node_hash(sibling, root)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            root = node_hash(root, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationFailed(
            f"inclusion proof has {len(path)} hashes, fewer than a tree of size {size} needs"
        )
    return root


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf` (a leaf hash) is at `index` in the tree of `size` with `root`."""
    if root_from_inclusion(leaf, index, size, path) != root:
        raise VerificationFailed(
            f"inclusion proof for leaf {index} does not lead to the root of the tree of size {size}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    """Check that the tree of `new_size` with `new_root` extends the one of `old_size`."""
    _check_hash(old_root, "the old root hash")
    _check_hash(new_root, "the new root hash")
    for n, value in enumerate(path):
        _check_hash(value, f"consistency proof hash {n}")
    if not 0 <= old_size <= new_size:
        raise VerificationFailed(
            f"a tree of size {new_size} cannot extend a tree of size {old_size}: history shrank"
        )
    if old_size == 0 or old_size == new_size:
        if path:
            raise VerificationFailed("consistency proof must be empty for these tree sizes")
        if old_size == new_size and old_root != new_root:
            raise VerificationFailed(
                f"two different root hashes for tree size {old_size}: history was rewritten"
            )
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise VerificationFailed("the root hash of an empty tree must be SHA-256 of nothing")
        return
    if not path:
        raise VerificationFailed("consistency proof is empty")
    hashes = list(path)
    if old_size & (old_size - 1) == 0:
        hashes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = hashes[0]
    for value in hashes[1:]:
        if sn == 0:
            raise VerificationFailed("consistency proof has more hashes than these sizes need")
        if fn & 1 or fn == sn:
            fr = node_hash(value, fr)
            sr = node_hash(value, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, value)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationFailed("consistency proof has fewer hashes than these sizes need")
    if fr != old_root:
        raise VerificationFailed(
            f"consistency proof does not reproduce the root of size {old_size}: "
            "the log's history was rewritten"
        )
    if sr != new_root:
        raise VerificationFailed(
            f"consistency proof does not reproduce the root of size {new_size}"
        )
