"""Several worker processes on one port: a small pre-fork supervisor under uvicorn.

The supervisor binds the address first (so that port 0 resolves once, and a busy port is an
error before anything forks), then forks each worker, which builds its own app (its own event
loop, database pool, snapshot follower) and serves it. Where the system has SO_REUSEPORT, each
worker listens on a socket of its own bound to the same port and the kernel spreads new
connections evenly across them; elsewhere the workers share the supervisor's listening socket.
A worker that dies (even by SIGKILL) is started again under the same index; SIGTERM or SIGINT to
the supervisor stops every worker gracefully. A worker whose supervisor is gone stops itself.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from clearance.errors import InvalidInput

log = logging.getLogger("clearance.workers")

AppFactory = Callable[[int], Any]
"""Builds the ASGI app of one worker, in that worker, from its index (0 is the first)."""

RESTART_PAUSE = 0.5


def default_workers() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        hint = (
            "; is another server there? choose another --port"
            if exc.errno == errno.EADDRINUSE
            else ""
        )
        raise InvalidInput(f"cannot listen on {host}:{port}: {reason}{hint}") from None
    sock.set_inheritable(True)
    return sock


def run_workers(
    make_app: AppFactory,
    host: str,
    port: int,
    workers: int,
    *,
    on_bound: Callable[[int], None] | None = None,
    **config: Any,
) -> None:
    """Serve `make_app(i)` in `workers` processes on one address; uvicorn `config` for each.

    With one worker nothing forks: the app is built and served in this process.
    """
    import uvicorn

    reuse_port = workers > 1 and hasattr(socket, "SO_REUSEPORT")
    first = _bind(host, port, reuse_port)
    bound_port = int(first.getsockname()[1])
    if on_bound is not None:
        on_bound(bound_port)
    if workers <= 1:
        first.listen(2048)
        server = uvicorn.Server(uvicorn.Config(make_app(0), **config))
        server.run(sockets=[first])
        return
    if not reuse_port:
        first.listen(2048)
    # the supervisor keeps `first` bound (not listening, with SO_REUSEPORT): the port stays
    # ours while a worker is being started again
    supervisor = os.getpid()
    children: dict[int, int] = {}
    stopping = threading.Event()

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _worker(
                    make_app, index, first, host, bound_port, reuse_port, supervisor, config
                )
            except BaseException:
                log.exception("worker %d failed", index)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = index

    def stop(signum: int, _: Any) -> None:
        stopping.set()
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for index in range(workers):
            spawn(index)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = children.pop(pid, -1)
            if index < 0 or stopping.is_set():
                continue
            log.warning(
                "worker %d (pid %d) ended (%s); starting it again", index, pid, _describe(status)
            )
            time.sleep(RESTART_PAUSE)
            if not stopping.is_set():
                spawn(index)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        first.close()


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _worker(
    make_app: AppFactory,
    index: int,
    first: socket.socket,
    host: str,
    port: int,
    reuse_port: bool,
    supervisor: int,
    config: dict[str, Any],
) -> int:
    import uvicorn

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    if reuse_port:
        # not listening yet: uvicorn listens once the app's startup is done (a gateway has its
        # first snapshot by then), so the kernel sends this worker no connection before
        sock = _bind(host, port, True)
        first.close()
    else:
        sock = first
    os.environ["CLEARANCE_WORKER"] = str(index)
    server = uvicorn.Server(uvicorn.Config(make_app(index), **config))

    def orphaned() -> None:
        while not server.should_exit:
            if os.getppid() != supervisor:
                server.should_exit = True
                return
            time.sleep(0.5)

    threading.Thread(target=orphaned, daemon=True).start()
    server.run(sockets=[sock])
    return 0
