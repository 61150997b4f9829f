"""RFC 6962 hashing and proofs against a line-by-line transcription of the RFC's definitions."""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearance.ledger import (
    EMPTY_ROOT,
    LedgerError,
    VerificationFailed,
    leaf_hash,
    merkle_root,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)
from clearance.ledger._merkle import consistency_path, inclusion_path

MAX = 70
LEAVES = tuple(f"leaf {i}".encode() for i in range(MAX))


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def mth(start: int, end: int) -> bytes:
    """MTH(D[start:end]) exactly as RFC 6962 section 2.1 defines it."""
    n = end - start
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + LEAVES[start]).digest()
    k = _k(n)
    return hashlib.sha256(b"\x01" + mth(start, start + k) + mth(start + k, end)).digest()


def ref_path(m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end]), RFC 6962 section 2.1.1."""
    n = end - start
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, start, start + k), mth(start + k, end)]
    return [*ref_path(m - k, start + k, end), mth(start, start + k)]


def ref_subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b), RFC 6962 section 2.1.2."""
    n = end - start
    if m == n:
        return [] if whole else [mth(start, end)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, start, start + k, whole), mth(start + k, end)]
    return [*ref_subproof(m - k, start + k, end, False), mth(start, start + k)]


def source(level: int, index: int) -> bytes:
    return mth(index << level, (index + 1) << level)


HASHES = [leaf_hash(leaf) for leaf in LEAVES]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert merkle_root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_leaf_and_node_hashes_use_rfc6962_domain_separation() -> None:
    assert leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert merkle_root(HASHES[:2]) == hashlib.sha256(b"\x01" + HASHES[0] + HASHES[1]).digest()


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_roots_and_inclusion_proofs_match_rfc6962(size: int) -> None:
    root = mth(0, size)
    assert merkle_root(HASHES[:size]) == root
    for index in range(size):
        path = inclusion_path(index, size, source)
        assert path == ref_path(index, 0, size)
        verify_inclusion(HASHES[index], index, size, path, root)


@pytest.mark.parametrize("new", range(1, MAX + 1))
def test_consistency_proofs_match_rfc6962(new: int) -> None:
    for old in range(1, new + 1):
        path = consistency_path(old, new, source)
        assert path == ref_subproof(old, 0, new, True)
        verify_consistency(old, new, mth(0, old), mth(0, new), path)


def test_inclusion_proof_for_wrong_leaf_index_or_root_fails() -> None:
    size = 37
    root = mth(0, size)
    path = inclusion_path(5, size, source)
    with pytest.raises(VerificationFailed, match="does not lead to the root"):
        verify_inclusion(HASHES[6], 5, size, path, root)
    with pytest.raises(VerificationFailed):
        verify_inclusion(HASHES[5], 4, size, path, root)
    with pytest.raises(VerificationFailed, match="does not lead to the root"):
        verify_inclusion(HASHES[5], 5, size, path, mth(0, size - 1))
    with pytest.raises(VerificationFailed, match="fewer"):
        verify_inclusion(HASHES[5], 5, size, path[:-1], root)
    with pytest.raises(VerificationFailed, match="more"):
        verify_inclusion(HASHES[5], 5, size, [*path, root], root)
    with pytest.raises(VerificationFailed, match="outside"):
        verify_inclusion(HASHES[5], size, size, path, root)
    with pytest.raises(VerificationFailed, match="32-byte"):
        verify_inclusion(HASHES[5][:31], 5, size, path, root)


def test_consistency_edge_cases() -> None:
    verify_consistency(0, 5, EMPTY_ROOT, mth(0, 5), [])
    verify_consistency(5, 5, mth(0, 5), mth(0, 5), [])
    with pytest.raises(VerificationFailed, match="rewritten"):
        verify_consistency(5, 5, mth(0, 5), mth(0, 6), [])
    with pytest.raises(VerificationFailed, match="shrank"):
        verify_consistency(6, 5, mth(0, 6), mth(0, 5), [])
    with pytest.raises(VerificationFailed, match="empty"):
        verify_consistency(3, 5, mth(0, 3), mth(0, 5), [])
    with pytest.raises(VerificationFailed, match="empty tree"):
        verify_consistency(0, 5, mth(0, 1), mth(0, 5), [])
    with pytest.raises(LedgerError):
        inclusion_path(3, 3, source)
    with pytest.raises(LedgerError):
        consistency_path(4, 3, source)


@given(
    st.integers(1, MAX).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))),
    st.integers(0, 40),
    st.integers(0, 255),
)
def test_any_changed_consistency_hash_fails(sizes: tuple[int, int], pick: int, flip: int) -> None:
    old, new = sizes
    path = consistency_path(old, new, source)
    if not path:
        return
    i = pick % len(path)
    bad = bytearray(path[i])
    bad[flip % 32] ^= 1 << (flip % 8)
    tampered = [*path[:i], bytes(bad), *path[i + 1 :]]
    with pytest.raises(VerificationFailed):
        verify_consistency(old, new, mth(0, old), mth(0, new), tampered)


@given(
    st.integers(1, MAX).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.just(n))),
    st.integers(1, MAX),
)
def test_inclusion_proof_never_verifies_for_another_size(
    where: tuple[int, int], other: int
) -> None:
    index, size = where
    path = inclusion_path(index, size, source)
    if other == size:
        assert root_from_inclusion(HASHES[index], index, size, path) == mth(0, size)
        return
    with pytest.raises(VerificationFailed):
        verify_inclusion(HASHES[index], index, other, path, mth(0, other))


# The RFC 6962 vectors published with the Certificate Transparency implementations
# (transparency-dev/merkle testonly), used here as data.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def test_published_rfc6962_vectors() -> None:
    hashes = [leaf_hash(leaf) for leaf in CT_LEAVES]

    def ct_source(level: int, index: int) -> bytes:
        return merkle_root(hashes[index << level : (index + 1) << level])

    assert [merkle_root(hashes[:n]).hex() for n in range(1, 9)] == CT_ROOTS
    for (index, size), want in CT_INCLUSION.items():
        assert [h.hex() for h in inclusion_path(index, size, ct_source)] == want
    for (old, new), want in CT_CONSISTENCY.items():
        assert [h.hex() for h in consistency_path(old, new, ct_source)] == want
        verify_consistency(
            old,
            new,
            bytes.fromhex(CT_ROOTS[old - 1]),
            bytes.fromhex(CT_ROOTS[new - 1]),
            [bytes.fromhex(h) for h in want],
        )
