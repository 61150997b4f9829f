"""Benchmark witnessing: a witness's cosigning rate on SQLite, and the register's appends with
three witnesses configured against none.

    python bench/witness.py --json bench/_work/witness.json
    python bench/witness.py --skip-register          # the witness alone

Witness: logs of our own (signed checkpoints and consistency proofs made up front) are fed to
`WitnessStore` (SQLite, WAL, synchronous=FULL: each answer waits for its commit) and to
`clearance witness` over HTTP (uvicorn, keep-alive connections, one per log, each log sending
its next checkpoint when the last is cosigned, as a log does), side by side with three
references measured in the same round: the crypto floor (one Ed25519 verification, the log's
signature, and one signing, the cosignature, per checkpoint, nothing else), the HTTP floor (the
same uvicorn settings and client against an app that answers a fixed cosignature line without
reading anything), and the disk (one SQLite commit with synchronous=FULL, and with NORMAL). For
each server the CPU time it used per checkpoint is read from /proc, a figure less hostage to
the machine's load than a rate.

Register: `clearance serve` on a fresh data folder, appends through `POST
/api/v1/organizations` (each a signed statement, a leaf and a checkpoint) from one keep-alive
client for a fixed time; with three `clearance witness` processes named in clearance.json
(cosigning in the background) and with none, in alternating pairs of runs (which goes first
alternating too). Reported: the appends/s of each, the ratio of the medians and the median of
the pairs' ratios, the register's CPU per append (from /proc) with and without witnesses, and
the share of a core the three witness processes used (on a real deployment they run elsewhere;
here they share the machine).

Every figure is printed with the load average; the last lines say whether the targets (1,000
checkpoints/s; three witnesses / none >= 0.90) are met by these medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from clearance.ledger import (
    AddCheckpoint,
    Checkpoint,
    Cosigner,
    MemoryTileStore,
    SigningKey,
    TreeState,
    append_entries,
    consistency_proof,
    open_checkpoint,
    sign_checkpoint,
)
from clearance.witness import WitnessStore

NOW = 1_780_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_log(origin: str, count: int, seed: int) -> tuple[SigningKey, list[AddCheckpoint]]:
    """`count` add-checkpoint requests for one log growing by one entry each time."""
    key = SigningKey.generate(origin, bytes([seed]) * 32)
    store, state = MemoryTileStore(), TreeState.empty()
    requests = []
    old = 0
    for size in range(1, count + 1):
        state = append_entries(store, state, [b"entry %d" % size])
        note = sign_checkpoint(Checkpoint(origin, size, state.root_hash), key)
        proof = consistency_proof(store, old, size) if old else []
        requests.append(AddCheckpoint(old, tuple(proof), note))
        old = size
    return key, requests


def null_app() -> Any:
    """The HTTP floor: an ASGI app that reads the body and answers one fixed cosignature line."""
    line = ("\u2014 bench/w " + "A" * 96 + "\n").encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", b"%d" % len(line)),
    ]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": line})

    return app


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def disk_commit(work: Path, synchronous: str, count: int = 200) -> tuple[float, float]:
    """One small SQLite commit in WAL mode: (wall ms, CPU µs) each, as the witness commits."""
    import sqlite3

    db = sqlite3.connect(work / f"disk-{synchronous}.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)")
    started, cpu = time.perf_counter(), time.process_time()
    for n in range(count):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR REPLACE INTO t VALUES (?, ?)", (str(n % 8), os.urandom(300)))
        db.execute("COMMIT")
    wall = (time.perf_counter() - started) / count * 1e3
    used = (time.process_time() - cpu) / count * 1e6
    db.close()
    return wall, used


def crypto_floor(key: SigningKey, requests: list[AddCheckpoint]) -> float:
    """Checkpoints/s for the two Ed25519 operations a cosignature needs, and nothing else."""
    cosigner = Cosigner(SigningKey.generate("bench/w", b"\x09" * 32))
    started = time.perf_counter()
    for request in requests:
        checkpoint = open_checkpoint(request.checkpoint, [key.verifier], origin=key.name)
        cosigner.cosign(checkpoint.text, NOW)
    return len(requests) / (time.perf_counter() - started)


def in_process(work: Path, logs: list[tuple[SigningKey, list[AddCheckpoint]]]) -> dict[str, float]:
    keys = {key.name: [key.verifier] for key, _ in logs}
    cosigner = Cosigner(SigningKey.generate("bench/w", b"\x09" * 32))
    figures = {}
    # one log, one request at a time: each waits for its own commit (fsync)
    store = WitnessStore(work / "seq.db", cosigner, lambda o: keys.get(o, ()))
    _, requests = logs[0]
    started = time.perf_counter()
    for request in requests:
        store.add_checkpoint(request, NOW)
    figures["store_sequential_one_log"] = len(requests) / (time.perf_counter() - started)
    store.close()
    # every log at once, requests in order per log: commits are shared (group commit)
    store = WitnessStore(work / "all.db", cosigner, lambda o: keys.get(o, ()))
    started = time.perf_counter()
    rounds = zip(*(r for _, r in logs), strict=True)
    futures = [store.submit(r, NOW) for batch in rounds for r in batch]
    for future in futures:
        future.result()
    figures["store_pipelined_all_logs"] = len(futures) / (time.perf_counter() - started)
    store.close()
    return figures


async def _feed(port: int, requests: list[AddCheckpoint]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for request in requests:
        body = request.to_text().encode()
        writer.write(
            b"POST /add-checkpoint HTTP/1.1\r\nHost: w\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace"))
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
    writer.close()


def over_http(
    work: Path, logs: list[tuple[SigningKey, list[AddCheckpoint]]], *, null: bool = False
) -> tuple[float, float]:
    """(checkpoints/s, server CPU µs per checkpoint) for `clearance witness` fed every log at
    once, or for the null app (the HTTP floor) when `null`."""
    port = free_port()
    if null:
        child = start([str(Path(__file__)), "--null-server", str(port)], port, "/", module=False)
    else:
        vkeys = work / f"logs{len(logs)}.vkey"
        vkeys.write_text("".join(key.vkey + "\n" for key, _ in logs))
        folder = work / f"w{len(logs)}"
        child = start(
            ["witness", "--data-dir", str(folder), "--name", "bench/w", "--log-key", str(vkeys),
             "--port", str(port)],
            port,
            "/",
        )  # fmt: skip
    try:

        async def everything() -> None:
            await asyncio.gather(*(_feed(port, requests) for _, requests in logs))

        count = sum(len(r) for _, r in logs)
        cpu = cpu_seconds(child.pid)
        started = time.perf_counter()
        asyncio.run(everything())
        rate = count / (time.perf_counter() - started)
        return rate, (cpu_seconds(child.pid) - cpu) / count * 1e6
    finally:
        stop(child)


def start(
    args: list[str], port: int, probe: str, *, module: bool = True
) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, *(["-m", "clearance"] if module else []), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1)
            return child
        except httpx.TransportError:
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"clearance {args[0]} did not start") from None
            time.sleep(0.1)


def stop(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=20)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def register_run(work: Path, name: str, witnesses: int, seconds: float) -> dict[str, Any]:
    """Appends/s through the REST API of a fresh register with `witnesses` witnesses."""
    data = work / name
    subprocess.run(
        [sys.executable, "-m", "clearance", "init", "--data-dir", str(data),
         "--example-framework", "--origin", "bench.example/log"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    children = []
    settings = json.loads((data / "clearance.json").read_text())
    settings["witnesses"] = []
    try:
        for n in range(witnesses):
            port = free_port()
            folder = work / f"{name}-w{n}"
            command = ["witness", "--data-dir", str(folder), "--name", f"bench/w{n}"]
            command += ["--log-key", str(data / "authority.vkey"), "--port", str(port)]
            children.append(start(command, port, "/"))
            vkey = (folder / "witness.vkey").read_text().strip()
            settings["witnesses"].append({"url": f"http://127.0.0.1:{port}", "vkey": vkey})
        settings["witness_quorum"] = witnesses
        (data / "clearance.json").write_text(json.dumps(settings))
        port = free_port()
        children.append(
            start(["serve", "--data-dir", str(data), "--port", str(port)], port, "/log/key")
        )
        admin = (data / "admin.key").read_text().strip()
        headers = {"Authorization": f"Bearer {admin}"}
        register, witness_pids = children[-1].pid, [c.pid for c in children[:-1]]
        appended = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            for n in range(20):  # warm up
                client.post("/api/v1/organizations", json=org(f"warm {n}"))
            cpu = cpu_seconds(register)
            witnesses_cpu = sum(cpu_seconds(pid) for pid in witness_pids)
            started = time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds:
                response = client.post("/api/v1/organizations", json=org(f"org {appended}"))
                assert response.status_code == 201, response.text
                appended += 1
            register_cpu = cpu_seconds(register) - cpu
            witnesses_cpu = sum(cpu_seconds(pid) for pid in witness_pids) - witnesses_cpu
            time.sleep(1.5)
            note = client.get("/log/checkpoint").text
        cosignatures = len(note.split("\n\n", 1)[1].splitlines()) - 1
        return {
            "appends_per_s": appended / elapsed,
            "register_cpu_us_per_append": register_cpu / appended * 1e6,
            "witnesses_cpu_share": witnesses_cpu / elapsed,
            "cosignatures_on_last": cosignatures,
        }
    finally:
        for child in reversed(children):
            stop(child)


def _short(result: dict[str, Any]) -> str:
    return (
        f"{result['appends_per_s']:.1f}/s, register CPU {result['register_cpu_us_per_append']:,.0f}"
        f" µs per append, witnesses {result['witnesses_cpu_share']:.3f} of a core, "
        f"{result['cosignatures_on_last']} cosignatures on the last checkpoint, "
        f"load {result['load']:.1f}"
    )


def _register_summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    none, three = median("none", "appends_per_s"), median("three", "appends_per_s")
    pairs = [
        t["appends_per_s"] / n["appends_per_s"]
        for n, t in zip(runs["none"], runs["three"], strict=True)
    ]
    none_cpu = median("none", "register_cpu_us_per_append")
    three_cpu = median("three", "register_cpu_us_per_append")
    return {
        "none_per_s": none,
        "three_per_s": three,
        "ratio_of_medians": three / none,
        "median_pair_ratio": statistics.median(pairs),
        "none_cpu_us": none_cpu,
        "three_cpu_us": three_cpu,
        "cpu_ratio": none_cpu / three_cpu,
        "witnesses_cpu_share": median("three", "witnesses_cpu_share"),
    }


def org(name: str) -> dict[str, str]:
    return {"name": name, "kind": "partner", "jurisdiction": "US"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--logs", type=int, default=8, help="logs fed at once (default 8)")
    parser.add_argument("--checkpoints", type=int, default=1000, help="per log (default 1000)")
    parser.add_argument(
        "--many-logs",
        type=int,
        default=64,
        help="logs fed at once in the wider HTTP case, the same checkpoints in all (default 64)",
    )
    parser.add_argument("--seconds", type=float, default=5, help="per register run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="witness rounds (default 3)")
    parser.add_argument(
        "--register-rounds", type=int, default=6, help="register pairs of runs (default 6)"
    )
    parser.add_argument("--skip-register", action="store_true")
    parser.add_argument("--skip-witness", action="store_true", help="the register part alone")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--null-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.null_server:
        from clearance.gateway import serve

        serve(null_app(), "127.0.0.1", args.null_server)
        return 0
    figures: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_witness:
            logs = [
                make_log(f"bench.example/log{n}", args.checkpoints, n + 1) for n in range(args.logs)
            ]
            each = max(1, args.checkpoints * args.logs // args.many_logs)
            many = [
                make_log(f"bench.example/many{n}", each, 100 + n) for n in range(args.many_logs)
            ]
            rates = ("crypto_floor", "store_sequential_one_log", "store_pipelined_all_logs",
                     "http_floor", "http_all_logs", "http_many_logs")  # fmt: skip
            cpus = ("crypto_floor_cpu_us", "http_floor_cpu_us", "http_all_logs_cpu_us",
                    "http_many_logs_cpu_us")  # fmt: skip
            disks = ("commit_full_ms", "commit_full_cpu_us", "commit_normal_ms",
                     "commit_normal_cpu_us")  # fmt: skip
            samples: dict[str, list[float]] = {name: [] for name in rates + cpus + disks}
            for round_ in range(args.rounds):
                # each round on fresh files, all side by side, so the machine's load hits all
                rounds = work / f"witness{round_}"
                rounds.mkdir()
                cpu = time.process_time()
                samples["crypto_floor"].append(crypto_floor(*logs[0]))
                samples["crypto_floor_cpu_us"].append(
                    (time.process_time() - cpu) / len(logs[0][1]) * 1e6
                )
                for synchronous in ("full", "normal"):
                    wall, used = disk_commit(rounds, synchronous.upper())
                    samples[f"commit_{synchronous}_ms"].append(wall)
                    samples[f"commit_{synchronous}_cpu_us"].append(used)
                for name, value in in_process(rounds, logs).items():
                    samples[name].append(value)
                for name, feed, null in (
                    ("http_floor", logs, True),
                    ("http_all_logs", logs, False),
                    ("http_many_logs", many, False),
                ):
                    rate, used = over_http(rounds, feed, null=null)
                    samples[name].append(rate)
                    samples[f"{name}_cpu_us"].append(used)
                print(
                    f"witness round {round_ + 1}: "
                    + ", ".join(f"{n} {samples[n][-1]:,.0f}/s" for n in rates)
                    + "; server CPU per checkpoint: "
                    + ", ".join(f"{n} {samples[n][-1]:,.0f}" for n in cpus)
                    + "; disk: "
                    + ", ".join(f"{n} {samples[n][-1]:,.2f}" for n in disks),
                    flush=True,
                )
            medians = {name: statistics.median(values) for name, values in samples.items()}
            for name, values in samples.items():
                figures[name] = values
            figures["medians"] = medians
            floor = medians["crypto_floor"]
            for name in rates:
                print(
                    f"witness {name}: median {medians[name]:,.0f} checkpoints/s "
                    f"({medians[name] / floor:.2f} of the crypto floor)"
                )
            for name in cpus:
                ratio = medians[name] / medians["crypto_floor_cpu_us"]
                print(f"CPU per checkpoint, {name}: median {medians[name]:,.0f} µs ({ratio:.2f} x)")
            figures["ratios_to_crypto_floor"] = {n: medians[n] / floor for n in rates}
            figures["checkpoints_per_s_per_core"] = {n: 1e6 / medians[n] for n in cpus}
            for name in ("http_all_logs", "http_many_logs"):
                rate, cpu = medians[name], medians[f"{name}_cpu_us"]
                print(
                    f"target, {name}: {rate:,.0f} checkpoints/s "
                    f"({'meets' if rate >= 1000 else 'misses'} 1,000/s), {rate / floor:.2f} of "
                    f"the crypto floor; {cpu:,.0f} µs of witness CPU per checkpoint, "
                    f"{1e6 / cpu:,.0f}/s per core, "
                    f"{medians['crypto_floor_cpu_us'] / cpu:.2f} of the crypto floor's"
                )
            print(
                f"SQLite commit, FULL: {medians['commit_full_ms']:.2f} ms "
                f"({medians['commit_full_cpu_us']:.0f} µs CPU); NORMAL: "
                f"{medians['commit_normal_ms']:.2f} ms "
                f"({medians['commit_normal_cpu_us']:.0f} µs CPU)"
            )
        if not args.skip_register:
            runs: dict[str, list[dict[str, Any]]] = {"none": [], "three": []}
            for round_ in range(args.register_rounds):
                # alternating, and which goes first alternating too: the machine's load drifts
                order = (("none", 0), ("three", 3))
                for kind, count in order if round_ % 2 == 0 else order[::-1]:
                    result = register_run(work, f"{kind}{round_}", count, args.seconds)
                    result["load"] = os.getloadavg()[0]
                    runs[kind].append(result)
                    print(f"register appends, {kind} witnesses: {_short(result)}", flush=True)
            register = _register_summary(runs)
            figures["register"] = {"runs": runs, **register}
            print(
                "register appends/s, medians: none {none_per_s:.1f}, three {three_per_s:.1f}; "
                "three / none: {ratio_of_medians:.3f} (median of the pairs' ratios "
                "{median_pair_ratio:.3f}); register CPU per append: none {none_cpu_us:,.0f} µs, "
                "three {three_cpu_us:,.0f} µs (none / three {cpu_ratio:.3f}); the three "
                "witness processes used {witnesses_cpu_share:.3f} of a core".format(**register)
            )
            verdict = "meets" if register["ratio_of_medians"] >= 0.9 else "misses"
            print(
                f"target, register: three / none {register['ratio_of_medians']:.3f}: {verdict} 0.90"
            )
    figures["load_after"] = os.getloadavg()[0]
    print(f"load average: {figures['load_before']:.1f} before, {figures['load_after']:.1f} after")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
