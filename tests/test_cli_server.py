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
import openai


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
    assert "framework: none published" in result.stdout
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


def test_init_publishes_the_example_only_when_asked(tmp_path: Path) -> None:
    result = clearance("init", "--data-dir", str(tmp_path / "a"), "--example-framework")
    assert result.returncode == 0, result.stderr
    assert "framework: frontier-example 1.0.0 (the shipped example" in result.stdout
    both = clearance(
        "init", "--data-dir", str(tmp_path / "b"), "--example-framework", "--framework", "x.yaml"
    )
    assert both.returncode == 2 and both.stderr.startswith("error: give --framework")
    assert not (tmp_path / "b").exists()


def test_serve_on_a_busy_port_is_one_error_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert clearance("init", "--data-dir", str(data)).returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = clearance("serve", "--data-dir", str(data), "--port", str(port))
    assert result.returncode == 2
    assert result.stdout == ""  # no address announced
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: address already in use; is another "
        "server there? choose another --port"
    ]


def test_serve_answers_on_a_port(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert clearance("init", "--data-dir", str(data), "--example-framework").returncode == 0
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
        check_wrong_base_urls(f"http://127.0.0.1:{port}", key)
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


def check_wrong_base_urls(root: str, key: str) -> None:
    """An OpenAI client given the wrong base URL is told, in OpenAI's error shape, to use /v1."""
    calls = [
        ("GET", "/v1", "/v1 is the gateway's base URL"),
        ("GET", "/v1/", "/v1 is the gateway's base URL"),
        ("POST", "/chat/completions", "base URL ends in /v1"),
        ("GET", "/models", "base URL ends in /v1"),
        ("POST", "/api/v1/chat/completions", "so this call goes to /v1/chat/completions"),
        ("POST", "/v1/chat/completion", "no such endpoint: /v1/chat/completion; the gateway"),
    ]
    for method, path, hint in calls:
        response = httpx.request(method, root + path, json={}, timeout=5)
        assert response.status_code == 404, (path, response.text)
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}, path
        assert error["code"] == "unknown_url" and hint in error["message"], (path, error)
    # the REST API's own list of models is still the API's
    assert httpx.get(f"{root}/api/v1/models", timeout=5).status_code == 200
    client = openai.OpenAI(base_url=root, api_key=key, max_retries=0)
    try:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    except openai.NotFoundError as exc:
        assert "base URL ends in /v1" in str(exc)
    else:
        raise AssertionError("a call without /v1 was served")
    finally:
        client.close()


def test_a_register_without_a_framework_serves_and_says_so(tmp_path: Path) -> None:
    import datetime as dt

    from fastapi.testclient import TestClient

    from clearance.server import app_for, init_data_dir, open_data_dir

    _, key = init_data_dir(tmp_path / "d", framework_text=None, now=dt.datetime.now(dt.UTC))
    with TestClient(app_for(open_data_dir(tmp_path / "d"))) as client:
        assert client.get("/api/v1/frameworks").json() == {"items": []}
        health = client.get("/healthz").json()
        assert health["gateway"]["serving"] is True  # a snapshot without groups: nothing served
        assert client.get("/").status_code == 200
        headers = {"Authorization": f"Bearer {key}"}
        body = {"name": "Atlas Labs", "kind": "developer", "jurisdiction": "US"}
        assert client.post("/api/v1/organizations", json=body, headers=headers).status_code == 201
