"""Benchmark the ledger: batched appends to the in-memory tile store, and proofs at 1M entries.

    python bench/ledger.py                      # 1,000,000 entries, the default
    python bench/ledger.py --entries 100000 --json bench/_work/ledger.json

Entries are leaf-record-sized byte strings made before timing starts, so the figures measure the
log (hashing, tiles, proofs) rather than JSON encoding.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from clearance.ledger import (
    Checkpoint,
    MemoryTileStore,
    SigningKey,
    TreeState,
    append_entries,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    open_checkpoint,
    read_entry,
    recover_state,
    sign_checkpoint,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

ORIGIN = "bench.clearance.example/log"
SUBJECT = hashlib.sha256(b"subject").hexdigest()


def make_entries(start: int, count: int) -> list[bytes]:
    """Leaf-record-shaped entries (~200 bytes), the size the register will append."""
    return [
        (
            f'{{"envelope_sha256":"{hashlib.sha256(i.to_bytes(8, "big")).hexdigest()}",'
            f'"kind":"decision","seq":{i},"subject_sha256":"{SUBJECT}","v":1}}'
        ).encode()
        for i in range(start, start + count)
    ]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def append_rate(batch: int, total: int) -> float:
    """Entries per second appending `total` entries in batches of `batch` to a fresh store."""
    store, state = MemoryTileStore(), TreeState.empty()
    batches = [make_entries(i, batch) for i in range(0, total, batch)]
    start = time.perf_counter()
    for entries in batches:
        state = append_entries(store, state, entries)
    return state.size / (time.perf_counter() - start)


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "median_ms": statistics.median(ordered) * 1e3,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
        "max_ms": ordered[-1] * 1e3,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="tree size for proofs")
    parser.add_argument("--batch", type=int, default=1000, help="batch size for the big build")
    parser.add_argument("--samples", type=int, default=500, help="proofs of each kind to time")
    parser.add_argument(
        "--rate-entries",
        type=int,
        default=50_000,
        help="entries per batch-size row of the append table",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    results: dict[str, object] = {"entries": args.entries, "batch": args.batch}

    rates = {b: append_rate(b, args.rate_entries) for b in (1, 10, 100, 1000)}
    results["appends_per_s_by_batch"] = rates

    store, state = MemoryTileStore(), TreeState.empty()
    build = 0.0
    for start in range(0, args.entries, args.batch):
        entries = make_entries(start, min(args.batch, args.entries - start))
        t0 = time.perf_counter()
        state = append_entries(store, state, entries)
        build += time.perf_counter() - t0
    n = state.size
    results["build_s"] = build
    results["build_appends_per_s"] = n / build
    results["recover_state_ms"] = timed(lambda: recover_state(store)) * 1e3

    key = SigningKey.generate(ORIGIN, hashlib.sha256(b"bench").digest())
    results["checkpoint_sign_verify_ms"] = (
        timed(
            lambda: open_checkpoint(
                sign_checkpoint(Checkpoint(ORIGIN, n, state.root_hash), key),
                [key.verifier],
                origin=ORIGIN,
            )
        )
        * 1e3
    )

    gen, ver = [], []
    for index in (rng.randrange(n) for _ in range(args.samples)):
        leaf = leaf_hash(read_entry(store, index))
        t0 = time.perf_counter()
        proof = inclusion_proof(store, index, n)
        t1 = time.perf_counter()
        verify_inclusion(leaf, index, n, proof, state.root_hash)
        t2 = time.perf_counter()
        gen.append(t1 - t0)
        ver.append(t2 - t1)
    results["inclusion_generate"] = summary(gen)
    results["inclusion_verify"] = summary(ver)

    # Old sizes: a sample of earlier tree heads, as a monitor catching up would present.
    old_sizes = sorted(rng.sample(range(1, n), min(args.samples, n - 1)))
    roots = {size: tree_root(store, size) for size in old_sizes}
    gen, ver = [], []
    for old in old_sizes:
        t0 = time.perf_counter()
        proof = consistency_proof(store, old, n)
        t1 = time.perf_counter()
        verify_consistency(old, n, roots[old], state.root_hash, proof)
        t2 = time.perf_counter()
        gen.append(t1 - t0)
        ver.append(t2 - t1)
    results["consistency_generate"] = summary(gen)
    results["consistency_verify"] = summary(ver)

    _print(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _print(r: dict[str, object]) -> None:
    rates = r["appends_per_s_by_batch"]
    assert isinstance(rates, dict)
    print(f"ledger benchmark (python {sys.version.split()[0]})")
    print()
    print(f"{'appends, in-memory tile store':<44}{'entries/s':>14}")
    for batch, rate in rates.items():
        print(f"  batch {batch:<36}{rate:>14,.0f}")
    build = f"build of {r['entries']:,} in batches of {r['batch']}"
    print(f"  {build:<42}{r['build_appends_per_s']:>14,.0f}   ({r['build_s']:.1f} s)")
    print()
    at = f"at {r['entries']:,} entries"
    print(f"{at:<44}{'median ms':>12}{'p99 ms':>10}{'max ms':>10}")
    for name in (
        "inclusion_generate",
        "inclusion_verify",
        "consistency_generate",
        "consistency_verify",
    ):
        s = r[name]
        assert isinstance(s, dict)
        label = name.replace("_", " proof ", 1)
        print(f"  {label:<42}{s['median_ms']:>12.3f}{s['p99_ms']:>10.3f}{s['max_ms']:>10.3f}")
    print(f"  {'recover_state from tiles':<42}{r['recover_state_ms']:>12.3f}")
    print(f"  {'checkpoint sign + verify':<42}{r['checkpoint_sign_verify_ms']:>12.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
