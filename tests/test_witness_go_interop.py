"""Witness cosignatures checked by code not written here, and our witness fed by a log not
written here.

tests/interop/cosigcheck verifies the register's cosigned checkpoint with Go's
golang.org/x/mod/sumdb/note (note parsing, key-hash matching, the log's Ed25519 signature) and
crypto/ed25519. Its cosignature/v1 verifier is a dozen lines written from the C2SP spec's text,
in Go, apart from the Python code: what is independent is x/mod's note handling and the Ed25519
library; the message layout is the spec's, read twice. In the other direction, cosigcheck
builds a log with x/mod's tlog (hashes, consistency proofs) and signs its checkpoints with
x/mod's note, and our witness must cosign them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clearance.ledger import Cosigner, SigningKey, VerifierKey, WitnessKey, check_quorum
from clearance.witness import WitnessApp, WitnessStore
from tests.test_log_go_interop import GOPATH_DEFAULT, XMOD, missing
from tests.test_log_witnessing import closed_port_url, make_register

CHECKER = Path(__file__).parent / "interop" / "cosigcheck"


@pytest.fixture(scope="module")
def cosigcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go checker, built once per test module (GOPATH mode, no module proxy)."""
    go = shutil.which("go")
    if go is None:
        missing("Go is not installed (apt-get install golang-go golang-golang-x-mod-dev)")
    gopath = [Path(p) for p in os.environ.get("GOPATH", "").split(os.pathsep) if p]
    gopath.append(GOPATH_DEFAULT)
    if not any((p / XMOD / "note" / "note.go").is_file() for p in gopath):
        missing("the golang.org/x/mod sources are not on the GOPATH")
    out = tmp_path_factory.mktemp("cosigcheck") / "cosigcheck"
    env = os.environ | {
        "GO111MODULE": "off",
        "GOPATH": os.pathsep.join(map(str, gopath)),
        "GOPROXY": "off",
        "GOFLAGS": "",
    }
    if not env.get("HOME") and not env.get("XDG_CACHE_HOME") and not env.get("GOCACHE"):
        env["GOCACHE"] = str(out.parent / "cache")
    built = subprocess.run(
        [go, "build", "-o", str(out), "."],
        cwd=CHECKER,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return out


def run(checker: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(checker), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_go_verifies_the_registers_cosigned_checkpoint(cosigcheck: Path, tmp_path: Path) -> None:
    down = Cosigner(SigningKey.generate("witness.example/down", b"\x63" * 32))
    extra = [{"url": closed_port_url(), "vkey": down.verifier.vkey}]
    with make_register(tmp_path, f"sqlite:///{tmp_path / 'r.db'}", quorum=2, extra=extra) as reg:
        reg.add_org("Lab")
        reg.step(0, 1)
        note = reg.client.get("/log/checkpoint").text
        log_vkey = reg.client.get("/log/key").text
    files = tmp_path / "go"
    files.mkdir()
    (files / "log.vkey").write_text(log_vkey)
    (files / "checkpoint").write_text(note)
    witness_args = []
    for n, witness in enumerate(reg.folder.witnesses):
        (files / f"w{n}.vkey").write_text(witness.key.vkey + "\n")
        witness_args += ["-witness-vkey", str(files / f"w{n}.vkey")]
    base = ["-log-vkey", str(files / "log.vkey"), "-checkpoint", str(files / "checkpoint")]

    ok = run(cosigcheck, *base, *witness_args, "-quorum", "2")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0].startswith("ok: log signature by test.example/log")
    assert sum(line.startswith("ok: cosignature/v1 by witness.example/w") for line in lines) == 2
    assert lines[-1] == "ok: 2 of 3 witnesses cosigned (quorum 2)"
    assert run(cosigcheck, *base, *witness_args, "-quorum", "3").returncode == 1

    # one byte of a cosignature changed: x/mod's note.Open refuses the note
    w1 = next(x for x in note.split("\n") if x.startswith("— witness.example/w1 "))
    name, encoded = w1.rsplit(" ", 1)
    bent = encoded[:30] + ("A" if encoded[30] != "A" else "B") + encoded[31:]
    (files / "checkpoint").write_text(note.replace(w1, f"{name} {bent}"))
    refused = run(cosigcheck, *base, *witness_args)
    assert refused.returncode == 1 and "note.Open" in refused.stderr
    # the cosignature moved onto another checkpoint text
    text, sigs = note.split("\n\n", 1)
    lines_text = text.split("\n")
    lines_text[1] = str(int(lines_text[1]) + 1)
    (files / "checkpoint").write_text("\n".join(lines_text) + "\n\n" + sigs)
    assert run(cosigcheck, *base, *witness_args).returncode == 1


def test_our_witness_cosigns_a_log_made_by_go(cosigcheck: Path, tmp_path: Path) -> None:
    made = tmp_path / "golog"
    sizes = [1, 7, 256, 300, 1000]
    result = run(
        cosigcheck, "-make-log", str(made), "-origin", "go.example/log",
        "-sizes", ",".join(map(str, sizes)),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    log_key = VerifierKey.parse((made / "vkey").read_text())
    cosigner = Cosigner(SigningKey.generate("witness.example/w1", b"\x11" * 32))
    store = WitnessStore(
        tmp_path / "w.db", cosigner, lambda o: [log_key] if o == log_key.name else []
    )
    (tmp_path / "w.vkey").write_text(cosigner.verifier.vkey + "\n")
    try:
        with TestClient(WitnessApp(store, {log_key.name: [log_key]})) as client:
            old = 0
            for size in sizes:
                checkpoint = (made / f"checkpoint-{size}").read_text()
                proof = (made / f"proof-{old}-{size}").read_text() if old else ""
                answer = client.post("/add-checkpoint", content=f"old {old}\n{proof}\n{checkpoint}")
                assert answer.status_code == 200, (size, answer.text)
                cosigned = checkpoint + answer.text
                check_quorum(cosigned, [WitnessKey.parse(cosigner.verifier.vkey)], 1)
                (tmp_path / "cosigned").write_text(cosigned)
                go = run(
                    cosigcheck, "-log-vkey", str(made / "vkey"), "-checkpoint",
                    str(tmp_path / "cosigned"), "-witness-vkey", str(tmp_path / "w.vkey"),
                    "-quorum", "1",
                )  # fmt: skip
                assert go.returncode == 0, go.stdout + go.stderr
                old = size
            # a Go proof for other sizes than the witness holds is refused, not cosigned
            bad = (made / "proof-256-300").read_text()
            stale = client.post(
                "/add-checkpoint",
                content=f"old 256\n{bad}\n{(made / 'checkpoint-300').read_text()}",
            )
            assert (stale.status_code, stale.text) == (409, "1000\n")
    finally:
        store.close()
