"""Benchmark witnessing: a witness's cosigning rate on SQLite, and the register's appends with
three witnesses configured against none.

    python bench/witness.py --json bench/_work/witness.json
    python bench/witness.py --skip-register          # the witness alone (about 30 s)

Witness: a log of our own (signed checkpoints and consistency proofs made up front) is fed to
`WitnessStore` (SQLite, WAL, synchronous=FULL: each answer waits for its commit) and to
`clearance witness` over HTTP (uvicorn, keep-alive connections, one per log), side by side with
the crypto floor: one Ed25519 verification (the log's signature) and one signing (the
cosignature) per checkpoint, nothing else.

Register: `clearance serve` on a fresh data folder, appends through `POST
/api/v1/organizations` (each a signed statement, a leaf and a checkpoint) from one keep-alive
client for a fixed time; with three `clearance witness` processes named in clearance.json
(cosigning in the background) and with none, in alternating runs.
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


def over_http(work: Path, logs: list[tuple[SigningKey, list[AddCheckpoint]]]) -> float:
    vkeys = work / "logs.vkey"
    vkeys.write_text("".join(key.vkey + "\n" for key, _ in logs))
    port = free_port()
    child = start(
        ["witness", "--data-dir", str(work / "w"), "--name", "bench/w", "--log-key", str(vkeys),
         "--port", str(port)],
        port,
        "/",
    )  # fmt: skip
    try:

        async def everything() -> None:
            await asyncio.gather(*(_feed(port, requests) for _, requests in logs))

        started = time.perf_counter()
        asyncio.run(everything())
        return sum(len(r) for _, r in logs) / (time.perf_counter() - started)
    finally:
        stop(child)


def start(args: list[str], port: int, probe: str) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-m", "clearance", *args],
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
        [sys.executable, "-m", "clearance", "init", "--data-dir", str(data), "--origin",
         "bench.example/log"],
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
        appended = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            for n in range(20):  # warm up
                client.post("/api/v1/organizations", json=org(f"warm {n}"))
            started = time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds:
                response = client.post("/api/v1/organizations", json=org(f"org {appended}"))
                assert response.status_code == 201, response.text
                appended += 1
            time.sleep(1.5)
            note = client.get("/log/checkpoint").text
        cosignatures = len(note.split("\n\n", 1)[1].splitlines()) - 1
        return {"appends_per_s": appended / elapsed, "cosignatures_on_last": cosignatures}
    finally:
        for child in reversed(children):
            stop(child)


def org(name: str) -> dict[str, str]:
    return {"name": name, "kind": "partner", "jurisdiction": "US"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--logs", type=int, default=8, help="logs fed at once (default 8)")
    parser.add_argument("--checkpoints", type=int, default=1000, help="per log (default 1000)")
    parser.add_argument("--seconds", type=float, default=10, help="per register run")
    parser.add_argument("--rounds", type=int, default=3, help="register runs of each kind")
    parser.add_argument("--skip-register", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        work = Path(tmp)
        logs = [
            make_log(f"bench.example/log{n}", args.checkpoints, n + 1) for n in range(args.logs)
        ]
        names = ("crypto_floor", "store_sequential_one_log", "store_pipelined_all_logs",
                 "http_all_logs")  # fmt: skip
        samples: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(args.rounds):
            # each round on fresh files, the four side by side, so the machine's load hits all
            rounds = work / f"witness{round_}"
            rounds.mkdir()
            samples["crypto_floor"].append(crypto_floor(*logs[0]))
            for name, value in in_process(rounds, logs).items():
                samples[name].append(value)
            samples["http_all_logs"].append(over_http(rounds, logs))
            print(
                f"witness round {round_ + 1}: "
                + ", ".join(f"{n} {samples[n][-1]:,.0f}/s" for n in names),
                flush=True,
            )
        for name in names:
            figures[name] = samples[name]
            median = statistics.median(samples[name])
            ratio = median / statistics.median(samples["crypto_floor"])
            print(f"witness {name}: median {median:,.0f} checkpoints/s ({ratio:.2f} of the floor)")
        if not args.skip_register:
            runs: dict[str, list[float]] = {"none": [], "three": []}
            for round_ in range(args.rounds):
                for kind, count in (("none", 0), ("three", 3)):
                    result = register_run(work, f"{kind}{round_}", count, args.seconds)
                    runs[kind].append(result["appends_per_s"])
                    print(f"register appends, {kind} witnesses: {result}", flush=True)
            figures["register_appends_none"] = runs["none"]
            figures["register_appends_three"] = runs["three"]
            ratio = statistics.median(runs["three"]) / statistics.median(runs["none"])
            figures["register_ratio_three_over_none"] = ratio
            print(f"register appends with 3 witnesses / none (medians): {ratio:.3f}")
    figures["load_after"] = os.getloadavg()[0]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
