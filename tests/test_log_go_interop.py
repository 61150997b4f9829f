"""Go's verifiers (golang.org/x/mod/sumdb/note and sumdb/tlog) accept the register's log as
served over HTTP: the vkey, the signed checkpoint, the tiles, tlog-proofs and consistency proofs;
and they reject a tampered checkpoint, proof, consistency proof or tile.

The checker is tests/interop/tlogcheck, built in GOPATH mode against Debian's x/mod sources
(apt-get install golang-go golang-golang-x-mod-dev), with no module proxy and no network.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import select

from clearance.ledger import BundleKey, SigningKey, TileKey, parse_checkpoint
from clearance.server import find_log
from clearance.store import LogEntry, checkpoint_history
from clearance.store import _tables as t
from tests.register_fixtures import Register

CHECKER = Path(__file__).parent / "interop" / "tlogcheck"
GOPATH_DEFAULT = Path("/usr/share/gocode")
XMOD = Path("src/golang.org/x/mod/sumdb")
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


def missing(reason: str) -> NoReturn:
    """Fail in CI (.ci/run installs Go), skip visibly elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go checker, built once per test module."""
    go = shutil.which("go")
    if go is None:
        missing("Go is not installed (apt-get install golang-go golang-golang-x-mod-dev)")
    gopath = [Path(p) for p in os.environ.get("GOPATH", "").split(os.pathsep) if p]
    gopath.append(GOPATH_DEFAULT)
    if not any((p / XMOD / "tlog" / "tlog.go").is_file() for p in gopath):
        missing(
            "the golang.org/x/mod sources are not on the GOPATH "
            f"({os.pathsep.join(map(str, gopath))}); apt-get install golang-golang-x-mod-dev"
        )
    out = tmp_path_factory.mktemp("tlogcheck") / "tlogcheck"
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


@dataclass
class Exported:
    """The log as a third party fetched it, written to files for the Go checker."""

    folder: Path
    vkey: Path
    checkpoint: Path
    tiles: Path
    proofs: dict[int, Path]
    consistency: list[tuple[Path, Path]]
    size: int


def tile_paths(size: int) -> list[str]:
    """Every Merkle tile and entry bundle path of the tree of `size` (C2SP layout)."""
    paths = []
    level = 0
    while hashes := size >> (TILE_HEIGHT * level):
        for index in range(0, -(-hashes // TILE_WIDTH)):
            width = min(TILE_WIDTH, hashes - index * TILE_WIDTH)
            paths.append(TileKey(level, index, width).path)
            if level == 0:
                paths.append(BundleKey(index, width).path)
        level += 1
    return paths


def grow(reg: Register) -> None:
    """A few dozen register entries, then a batch that crosses a full tile, then a few more."""
    for n in range(20):
        reg.add_org(f"Lab {n}", "developer")
    store = reg.client.app.state.context.store  # type: ignore[attr-defined]
    log = find_log(store)
    assert log is not None
    with store.transaction() as tx:
        size = tx.connection.scalar(select(t.log_state.c.tree_size))
        batch = [
            LogEntry("test.entry", b'{"n":%d}' % n, "ab" * 32, f"entry {n}", reg.clock())
            for n in range(TILE_WIDTH + 20 - size)
        ]
        log.append(tx.connection, batch, reg.clock())
    for n in range(5):
        reg.add_org(f"Late Lab {n}", "partner")


@pytest.fixture
def exported(register: Register, tmp_path: Path) -> Exported:
    reg = register
    grow(reg)

    def get(path: str) -> bytes:
        response = reg.client.get(path)
        assert response.status_code == 200, f"{path}: {response.text}"
        return response.content

    folder = tmp_path / "go"
    folder.mkdir()
    vkey = folder / "vkey"
    vkey.write_bytes(get("/log/key"))
    checkpoint = folder / "checkpoint"
    checkpoint.write_bytes(get("/log/checkpoint"))
    size = parse_checkpoint(checkpoint.read_text()).size
    assert size > TILE_WIDTH + 20

    tiles = folder / "log"
    for path in tile_paths(size):
        target = tiles / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(get(f"/log/{path}"))

    proofs = {}
    for index in sorted({0, 1, 2, 13, 37, TILE_WIDTH - 1, TILE_WIDTH, size - 2, size - 1}):
        proofs[index] = folder / f"proof-{index}"
        proofs[index].write_text(json.loads(get(f"/log/bundle/{index}"))["tlog_proof"])

    store = reg.client.app.state.context.store  # type: ignore[attr-defined]
    with store.read() as tx:
        history = checkpoint_history(tx.connection)
    by_size = {parse_checkpoint(note).size: note for note in history}
    olds = sorted(by_size)
    batch = min(old for old in olds if old >= TILE_WIDTH)
    chosen = sorted({olds[0], olds[1], olds[len(olds) // 2], batch, *olds[-3:]})
    consistency = []
    for old in chosen:
        old_file = folder / f"checkpoint-{old}"
        old_file.write_text(by_size[old])
        proof_file = folder / f"consistency-{old}.json"
        proof_file.write_bytes(get(f"/log/proof/consistency?old={old}"))
        consistency.append((old_file, proof_file))
    return Exported(folder, vkey, checkpoint, tiles, proofs, consistency, size)


def check(
    tlogcheck: Path,
    ex: Exported,
    *,
    vkey: Path | None = None,
    checkpoint: Path | None = None,
    tiles: bool = True,
    proofs: list[Path] | None = None,
    consistency: list[tuple[Path, Path]] | None = None,
) -> subprocess.CompletedProcess[str]:
    command = [
        str(tlogcheck),
        "-vkey",
        str(vkey or ex.vkey),
        "-checkpoint",
        str(checkpoint or ex.checkpoint),
    ]
    if tiles:
        command += ["-tiles", str(ex.tiles)]
    for proof in ex.proofs.values() if proofs is None else proofs:
        command += ["-proof", str(proof)]
    for old, proof in ex.consistency if consistency is None else consistency:
        command += ["-consistency", f"{old},{proof}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_go_x_mod_accepts_our_checkpoint_tiles_and_proofs(
    tlogcheck: Path, exported: Exported
) -> None:
    result = check(tlogcheck, exported)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert f"ok: checkpoint of test.example/log, size {exported.size}," in "\n".join(lines)
    assert (
        f"ok: tlog.TreeHash over the {exported.size} entries of the entry bundles equals the "
        "checkpoint root"
    ) in lines
    assert "ok: tlog.TreeHash through tlog.TileHashReader equals the checkpoint root" in lines
    assert any(
        line.endswith("tiles (tlog.NewTiles) equal tlog.ReadTileData over the entries")
        for line in lines
    )
    assert sum(line.startswith("ok: tlog.CheckRecord:") for line in lines) == len(exported.proofs)
    assert sum(line.startswith("ok: tlog.CheckTree:") for line in lines) == len(
        exported.consistency
    )


def rejected(result: subprocess.CompletedProcess[str], *reasons: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("tlogcheck: "), result.stderr
    assert all(reason in result.stderr for reason in reasons), result.stderr


def other_hash(encoded: str) -> str:
    raw = base64.b64decode(encoded)
    return base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()


def test_go_x_mod_rejects_tampering(tlogcheck: Path, exported: Exported) -> None:
    ex = exported
    tampered = ex.folder / "tampered"
    tampered.mkdir()
    # the checkpoint: its root hash changed, the signature kept
    text = ex.checkpoint.read_text()
    origin, size, root, rest = text.split("\n", 3)
    bad_checkpoint = tampered / "checkpoint"
    bad_checkpoint.write_text("\n".join([origin, size, other_hash(root), rest]))
    rejected(check(tlogcheck, ex, checkpoint=bad_checkpoint), "note.Open: invalid signature")
    # ... or its size
    bad_checkpoint.write_text("\n".join([origin, str(int(size) - 1), root, rest]))
    rejected(check(tlogcheck, ex, checkpoint=bad_checkpoint), "note.Open: invalid signature")
    # a key of the same name that is not the log's
    stranger = tampered / "vkey"
    stranger.write_text(SigningKey.generate(origin, b"\x05" * 32).vkey)
    rejected(check(tlogcheck, ex, vkey=stranger), "note.Open: note has no verifiable signatures")

    # an inclusion proof with one hash changed (its checkpoint intact), with or without tiles
    lines = ex.proofs[37].read_text().split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[2] == "index 37"
    lines[4] = other_hash(lines[4])
    bad_proof = tampered / "proof"
    bad_proof.write_text("\n".join(lines))
    for tiles in (False, True):
        result = check(tlogcheck, ex, tiles=tiles, proofs=[bad_proof], consistency=[])
        rejected(result, "tlog.CheckRecord of entry 37")
    # ... or for another entry than it proves
    lines = ex.proofs[37].read_text().split("\n")
    lines[2] = "index 36"
    bad_proof.write_text("\n".join(lines))
    rejected(check(tlogcheck, ex, proofs=[bad_proof], consistency=[]), "tlog.CheckRecord")

    # a consistency proof with one hash changed
    old, proof = ex.consistency[2]
    body = json.loads(proof.read_text())
    assert body["proof"], "the chosen consistency proof has hashes"
    body["proof"][-1] = other_hash(body["proof"][-1])
    bad_consistency = tampered / "consistency.json"
    bad_consistency.write_text(json.dumps(body))
    result = check(tlogcheck, ex, proofs=[], consistency=[(old, bad_consistency)])
    rejected(result, "tlog.CheckTree")

    # one byte of a tile, or of an entry in an entry bundle, changed
    edge = ex.size - TILE_WIDTH
    # (x/mod 0.7.0's NewTiles also lists the narrower versions of a partial tile, cut from it)
    differs = "differs from tlog.ReadTileData"
    for path, reasons in [
        (TileKey(0, 0).path, ("tile/0/000 " + differs,)),
        (TileKey(0, 1, edge).path, ("tile/0/001.p/", differs)),
        (TileKey(1, 0, 1).path, ("tile/1/000.p/1 " + differs,)),
        (BundleKey(1, edge).path, (f"tlog.TreeHash over the {ex.size} entries of the entry",)),
    ]:
        file = ex.tiles / path
        good = file.read_bytes()
        file.write_bytes(good[:10] + bytes([good[10] ^ 1]) + good[11:])
        rejected(check(tlogcheck, ex, proofs=[], consistency=[]), *reasons)
        file.write_bytes(good)
    assert check(tlogcheck, ex).returncode == 0
