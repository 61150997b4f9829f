"""Benchmark the register's log on SQLite: batched appends, then proofs read from SQL tiles.

    python bench/log_sqlite.py                          # 1,000,000 entries, the default
    python bench/log_sqlite.py --entries 100000 --json bench/_work/log_sqlite.json

Appends go through `TransparencyLog.append`, as the register's hook does: envelopes into
`statements`, leaves into the tiles, one checkpoint signed per batch (one transaction). The
"with signing" row also signs each DSSE statement. The big tree for the proof timings is built
with the same SQL tile store in batches, without the statements rows (proofs only read tiles).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from clearance.ledger import (
    SigningKey,
    Statement,
    Subject,
    append_entries,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    read_entry,
    sign_statement,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from clearance.store import LogEntry, SqlTileStore, TransparencyLog, make_engine, migrate

ORIGIN = "bench.clearance.example/log"
KEY = SigningKey.generate(ORIGIN, hashlib.sha256(b"bench").digest())
SUBJECT = hashlib.sha256(b"subject").hexdigest()
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def statement(n: int) -> Statement:
    return Statement(
        (Subject.sha256_of("model:bench", SUBJECT),),
        "https://clearance.dev/predicates/decision.made/v1",
        {"event": {"kind": "decision.made", "subject": f"dec_{n:012d}"}, "records": []},
    )


def entries(start: int, count: int, *, sign: bool) -> list[LogEntry]:
    """Log entries; envelopes signed here when `sign`, else one signed envelope reused."""
    fixed = sign_statement(statement(0), KEY).to_json()
    return [
        LogEntry(
            "decision.made",
            sign_statement(statement(n), KEY).to_json() if sign else fixed,
            SUBJECT,
            "model:bench",
            NOW,
        )
        for n in range(start, start + count)
    ]


def fresh_engine(folder: Path, name: str):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{folder / name}")
    migrate(engine)
    return engine


def append_rate(folder: Path, name: str, batch: int, total: int, *, sign: bool) -> float:
    """Entries per second through TransparencyLog.append, one transaction per batch."""
    engine = fresh_engine(folder, name)
    log = TransparencyLog(ORIGIN, lambda: KEY)
    start = time.perf_counter()
    for first in range(0, total, batch):
        made = entries(first, min(batch, total - first), sign=sign)
        with engine.begin() as connection:
            log.append(connection, made, NOW)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return total / elapsed


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "median_ms": statistics.median(ordered) * 1e3,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
        "max_ms": ordered[-1] * 1e3,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="tree size for proofs")
    parser.add_argument("--batch", type=int, default=10_000, help="batch size for the big build")
    parser.add_argument("--rate-entries", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=500, help="proofs of each kind to time")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    rng = random.Random(1)
    results: dict[str, object] = {"entries": args.entries, "batch": args.batch}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rates = {
            b: append_rate(folder, f"rate{b}.db", b, args.rate_entries, sign=False)
            for b in (100, 1000, 10_000)
        }
        results["appends_per_s_by_batch"] = rates
        results["appends_per_s_signing_batch_1000"] = append_rate(
            folder, "signed.db", 1000, min(args.rate_entries, 20_000), sign=True
        )

        engine = fresh_engine(folder, "big.db")
        leaf = entries(0, 1, sign=False)[0].leaf
        build = 0.0
        for first in range(0, args.entries, args.batch):
            count = min(args.batch, args.entries - first)
            t0 = time.perf_counter()
            with engine.begin() as connection:
                tiles = SqlTileStore(connection, lock=True)
                tiles.save_state(append_entries(tiles, tiles.state, [leaf] * count))
            build += time.perf_counter() - t0
        results["build_s"] = build
        results["build_appends_per_s"] = args.entries / build

        with engine.connect() as connection:
            n = SqlTileStore(connection).tree_size()
            root = tree_root(SqlTileStore(connection), n)
            gen, ver = [], []
            for index in (rng.randrange(n) for _ in range(args.samples)):
                hashed = leaf_hash(read_entry(SqlTileStore(connection), index))
                t0 = time.perf_counter()
                tiles = SqlTileStore(connection)
                tiles.prefetch(index, n)
                proof = inclusion_proof(tiles, index, n)
                t1 = time.perf_counter()
                verify_inclusion(hashed, index, n, proof, root)
                gen.append(t1 - t0)
                ver.append(time.perf_counter() - t1)
            results["inclusion_generate"] = summary(gen)
            results["inclusion_verify"] = summary(ver)
            old_sizes = sorted(rng.sample(range(1, n), min(args.samples, n - 1)))
            roots = {size: tree_root(SqlTileStore(connection), size) for size in old_sizes}
            gen, ver = [], []
            for old in old_sizes:
                t0 = time.perf_counter()
                tiles = SqlTileStore(connection)
                tiles.prefetch(old - 1, n)
                proof = consistency_proof(tiles, old, n)
                t1 = time.perf_counter()
                verify_consistency(old, n, roots[old], root, proof)
                gen.append(t1 - t0)
                ver.append(time.perf_counter() - t1)
            results["consistency_generate"] = summary(gen)
            results["consistency_verify"] = summary(ver)
        engine.dispose()
    _print(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _print(r: dict[str, object]) -> None:
    rates = r["appends_per_s_by_batch"]
    assert isinstance(rates, dict)
    print(f"log on SQLite benchmark (python {sys.version.split()[0]})")
    print()
    print(f"{'appends: statements + leaves + checkpoint':<44}{'entries/s':>14}")
    for batch, rate in rates.items():
        print(f"  batch {batch:<36}{rate:>14,.0f}")
    print(f"  {'batch 1000, signing each DSSE statement':<42}"
          f"{r['appends_per_s_signing_batch_1000']:>14,.0f}")  # fmt: skip
    build = f"tree of {r['entries']:,}, batches of {r['batch']:,}"
    print(f"  {build:<42}{r['build_appends_per_s']:>14,.0f}   ({r['build_s']:.1f} s)")
    print()
    at = f"proofs from SQLite tiles at {r['entries']:,}"
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


if __name__ == "__main__":
    raise SystemExit(main())
