"""Real processes for fault tests: clearance commands on a port, their workers, load, services."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.gateway_fixtures import Deployment, chat


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Command:
    """A clearance command running in its own process, its output read in a thread."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clearance", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output)
            if found:
                return found
            assert self.process.poll() is None, f"the command ended:\n{self.output}"
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} did not appear:\n{self.output}")

    def workers(self) -> list[int]:
        """The worker processes (children) of this command."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.append(int(entry.name))
        return sorted(found)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def wait_http(url: str, timeout: float = 60, status: int = 200) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == status:
                return
        assert time.monotonic() < deadline, f"{url} did not answer {status}"
        time.sleep(0.1)


@dataclass
class Load:
    """Callers on fresh connections in threads: each answer counted by status, or by error."""

    url: str
    key: str
    model: str
    threads: int = 4
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _running: list[threading.Thread] = field(default_factory=list)

    def _call(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        while not self._stop.is_set():
            try:
                response = httpx.post(self.url, json=chat(self.model), headers=headers, timeout=10)
            except httpx.TransportError:
                with self._lock:
                    self.errors += 1
                time.sleep(0.01)
                continue
            with self._lock:
                self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1

    def __enter__(self) -> Load:
        for _ in range(self.threads):
            thread = threading.Thread(target=self._call, daemon=True)
            thread.start()
            self._running.append(thread)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._running:
            thread.join(timeout=30)

    def served(self) -> int:
        with self._lock:
            return self.statuses.get(200, 0)


def usage_of(deployment: Deployment, model: str) -> tuple[int, dict[str, int]]:
    """(calls, refusals) the register holds for a model."""
    items = deployment.reg.ok("admin", "GET", "/usage")["items"]
    calls = sum(i["calls"] for i in items if i["model"] == model)
    refusals: dict[str, int] = {}
    for item in items:
        if item["model"] == model:
            for code, count in (item["refusals"] or {}).items():
                refusals[code] = refusals.get(code, 0) + count
    return calls, refusals


def gateway_command(deployment: Deployment, tmp_path: Path, upstream: str, *extra: str) -> Command:
    """`clearance gateway` following a deployment, on a free port; waits until it serves."""
    upstreams = tmp_path / f"upstreams-{len(list(tmp_path.glob('upstreams-*')))}.json"
    upstreams.write_text(f'{{"*": {{"base_url": "{upstream}"}}}}')
    command = Command(
        "gateway",
        "--register", deployment.served.url,
        "--vkey", str(deployment.data / "authority.vkey"),
        "--token-file", str(deployment.data / "gateway.token"),
        "--upstreams", str(upstreams),
        "--port", "0",
        "--poll", "0.1",
        *extra,
    )  # fmt: skip
    return command


def started_url(command: Command) -> str:
    found = command.wait_for(r"clearance gateway on (http://127\.0\.0\.1:\d+)/v1")
    url = found.group(1)
    wait_http(f"{url}/healthz")
    return url


@contextlib.contextmanager
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own on a free port (the shared one is never stopped)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


class OwnPostgres:
    """A PostgreSQL server of this test's own (initdb, pg_ctl) on a free port in a temporary
    folder: it may be restarted; the shared one at 5432 never is."""

    def __init__(self) -> None:
        import tempfile

        bindir = _postgres_bindir()
        self.bindir = bindir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="clearance-pg-"))
        self.data = self.folder / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run it as the postgres user
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self._as, str(Path(self.bindir) / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", action, "-D", str(self.data), "-w", "-o", options,
            "-l", str(self.folder / "log"), *extra,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self._ctl("stop", "-m", "fast")
        shutil.rmtree(self.folder, ignore_errors=True)


def _postgres_bindir() -> str:
    found = shutil.which("pg_config")
    candidates = []
    if found:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            candidates.append(
                subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
            )
    candidates += sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin"))
    for bindir in candidates:
        if bindir and (Path(bindir) / "initdb").exists():
            return bindir
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("PostgreSQL's initdb is not installed")
    pytest.skip("PostgreSQL's initdb is not installed")
    raise AssertionError  # pragma: no cover
