"""`clearance init` and `clearance serve` as a user runs them: real files, a real port."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx


def clearance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearance", *args], capture_output=True, text=True, check=False
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_init_writes_private_keys_and_refuses_twice(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = clearance("init", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    for name in ("admin.key", "authority.key"):
        mode = stat.S_IMODE((data / name).stat().st_mode)
        assert mode == 0o600, f"{name} is {oct(mode)}"
    assert (data / "admin.key").read_text().startswith("clr_")
    again = clearance("init", "--data-dir", str(data))
    assert again.returncode == 2
    assert "already initialized" in again.stderr and "Traceback" not in again.stderr


def test_init_with_a_bad_framework_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "fw.yaml"
    bad.write_text("id: [\n")
    result = clearance("init", "--data-dir", str(tmp_path / "data"), "--framework", str(bad))
    assert result.returncode == 2 and "not valid YAML" in result.stderr
    assert not (tmp_path / "data").exists()


def test_serve_answers_on_a_port(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert clearance("init", "--data-dir", str(data)).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "clearance", "serve", "--data-dir", str(data), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/frameworks", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["items"][0]["id"] == "frontier-example"
        key = (data / "admin.key").read_text().strip()
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/principals/me",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert me.json()["roles"] == ["admin"]
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
        if server.stdout:
            server.stdout.close()


def test_serve_without_init_is_a_clear_error(tmp_path: Path) -> None:
    result = clearance("serve", "--data-dir", str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert "not a clearance data folder" in result.stderr
