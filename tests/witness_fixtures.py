"""A small log of our own to feed witnesses: entries, signed checkpoints, add-checkpoint bodies."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from clearance.ledger import (
    AddCheckpoint,
    Checkpoint,
    MemoryTileStore,
    SigningKey,
    TreeState,
    append_entries,
    consistency_proof,
    sign_checkpoint,
)


@dataclass
class GrowingLog:
    """An in-memory log that signs a checkpoint at each size it grows to."""

    key: SigningKey
    store: MemoryTileStore = field(default_factory=MemoryTileStore)
    state: TreeState = field(default_factory=TreeState.empty)
    signed: dict[int, str] = field(default_factory=dict)

    @classmethod
    def new(cls, origin: str = "test.example/log", seed: bytes = b"\x01" * 32) -> GrowingLog:
        return cls(SigningKey.generate(origin, seed))

    @property
    def origin(self) -> str:
        return self.key.name

    def grow(self, size: int) -> str:
        """Append entries up to `size` and sign (and remember) that checkpoint."""
        entries = [b"entry %d" % n for n in range(self.state.size, size)]
        self.state = append_entries(self.store, self.state, entries)
        note = sign_checkpoint(Checkpoint(self.origin, size, self.state.root_hash), self.key)
        self.signed[size] = note
        return note

    def request(self, old: int, new: int) -> AddCheckpoint:
        """The add-checkpoint request from `old` to the checkpoint of `new`."""
        proof = consistency_proof(self.store, old, new) if 0 < old < new else []
        return AddCheckpoint(old, tuple(proof), self.signed[new])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_witness(folder: Path, name: str, vkey_file: Path, port: int) -> subprocess.Popen[str]:
    """`clearance witness` in a child process, once it answers on `port`."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clearance",
            "witness",
            "--data-dir",
            str(folder),
            "--name",
            name,
            "--log-key",
            str(vkey_file),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return child
        except httpx.TransportError:
            if child.poll() is not None:
                output = child.stdout.read() if child.stdout else ""
                raise AssertionError(f"the witness exited: {output}") from None
            assert time.monotonic() < deadline, "the witness did not start"
            time.sleep(0.1)


def stop(child: subprocess.Popen[str]) -> str:
    """Stop a child process and return what it printed."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    output = child.stdout.read() if child.stdout else ""
    if child.stdout:
        child.stdout.close()
    return output
