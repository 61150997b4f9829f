"""A small keep-alive HTTP/1.1 client for the gateway's upstream calls: the hot path.

aiohttp's client costs more per request than the rest of the gateway together (URL objects,
header multidicts, cookie jars, tracing hooks; measured here: ~200 µs for a whole answer, ~500 µs
to a stream's first byte), and a model call needs none of that. This client writes one pre-built
request head and the body bytes on a pooled keep-alive connection and reads the answer with
httptools (chunked bodies included), whole or piece by piece as it arrives for streams.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import cast
from urllib.parse import urlsplit

import httptools


class UpstreamClosed(ConnectionError):
    """The upstream closed the connection before a whole answer arrived."""


class _Connection(asyncio.Protocol):
    """One connection to an upstream, reading one answer at a time.

    `waiter` is woken when the answer is complete or fails, and (for a stream) also when its
    head or a piece of its body arrives.
    """

    def __init__(self) -> None:
        # kept rather than asked for on every wait: on Python 3.11 get_running_loop() makes a
        # getpid() system call each time (its fork check), one per upstream answer
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[None] | None = None
        self.streaming = False
        self.body: list[bytes] = []
        self.error: BaseException | None = None
        self.framed = False
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.received = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except Exception as exc:
            self.fail(exc)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.complete:
            return
        if self.headers_done and not self.framed:
            # no length and not chunked: the body ends where the connection does
            self.on_message_complete()
            return
        self.fail(exc or UpstreamClosed("the upstream closed the connection"))

    # httptools callbacks
    def on_header(self, name: bytes, _: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.headers_done = True
        if self.streaming:
            self._wake()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        if self.streaming:
            self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = not self.closed and self.parser.should_keep_alive()
        self._wake()

    # the client's side
    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def timed_out(self) -> None:
        self.fail(TimeoutError())

    async def wait(self, timeout: float) -> None:
        """Until the next wake-up; raises what failed the connection, or TimeoutError."""
        if self.error is not None:
            raise self.error
        loop = self.loop
        waiter: asyncio.Future[None] = loop.create_future()
        self.waiter = waiter
        timer = loop.call_later(timeout, self.timed_out)
        try:
            await waiter
        finally:
            timer.cancel()
            self.waiter = None

    def reset(self) -> None:
        """Ready for the next answer on this connection."""
        self.parser = httptools.HttpResponseParser(self)
        self.body = []
        self.framed = self.headers_done = self.complete = self.keep_alive = False
        self.received = self.streaming = False
        self.error = None


class UpstreamStream:
    """An upstream answer being read as it arrives (server-sent events)."""

    def __init__(self, pool: UpstreamPool, connection: _Connection, target: _Target) -> None:
        self._pool = pool
        self._connection = connection
        self._target = target
        self.status = connection.parser.get_status_code()

    async def read(self, timeout: float) -> bytes:
        """The body bytes that arrived since the last read; b"" at the end."""
        connection = self._connection
        while not connection.body:
            if connection.complete:
                return b""
            await connection.wait(timeout)
        data = b"".join(connection.body)
        connection.body = []
        return data

    async def read_all(self, timeout: float) -> bytes:
        """The rest of the body."""
        parts = []
        while data := await self.read(timeout):
            parts.append(data)
        return b"".join(parts)

    def release(self) -> None:
        """Back to the pool when the answer was read to its end, else closed."""
        self._pool._release(self._connection, self._target)


class _Target:
    """An upstream endpoint: where to connect and the request head up to Content-Length."""

    __slots__ = ("address", "head", "host", "port", "ssl")

    def __init__(self, url: str, api_key: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        secure = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if secure else 80)
        self.ssl: ssl.SSLContext | None = ssl.create_default_context() if secure else None
        self.address = (self.host, self.port, secure)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {parts.netloc.rpartition('@')[2]}",
            "Content-Type: application/json",
            "Accept: application/json",
        ]
        if api_key:
            lines.append(f"Authorization: Bearer {api_key}")
        if any(c in url + api_key for c in "\r\n\0"):
            raise ValueError("an upstream URL or key contains a line break")
        self.head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")


class UpstreamPool:
    """Pooled keep-alive connections to upstreams; `post` sends one body, returns the answer."""

    def __init__(self, idle_per_host: int = 256) -> None:
        self.idle_per_host = idle_per_host
        self._idle: dict[tuple[str, int, bool], list[_Connection]] = {}
        self._targets: dict[tuple[str, str], _Target] = {}

    async def post(self, url: str, api_key: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        """(status, body) of POSTing `body` as JSON to `url`; raises on a failed exchange.

        asyncio.TimeoutError when no whole answer came within `timeout` seconds.
        """
        connection, target = await self._send(url, api_key, body, timeout, streaming=False)
        status = connection.parser.get_status_code()
        data = connection.body[0] if len(connection.body) == 1 else b"".join(connection.body)
        self._release(connection, target)
        return status, data

    async def stream(self, url: str, api_key: str, body: bytes, timeout: float) -> UpstreamStream:
        """POST `body` and return once the answer's head arrived; read the body from it."""
        connection, target = await self._send(url, api_key, body, timeout, streaming=True)
        return UpstreamStream(self, connection, target)

    def _target(self, url: str, api_key: str) -> _Target:
        target = self._targets.get((url, api_key))
        if target is None:
            target = _Target(url, api_key)
            if len(self._targets) > 1024:
                self._targets.clear()
            self._targets[(url, api_key)] = target
        return target

    async def _send(
        self, url: str, api_key: str, body: bytes, timeout: float, *, streaming: bool
    ) -> tuple[_Connection, _Target]:
        target = self._target(url, api_key)
        request = target.head + str(len(body)).encode() + b"\r\n\r\n" + body
        idle = self._idle.get(target.address)
        while idle:
            connection = idle.pop()
            if connection.closed:
                continue
            try:
                await self._exchange(connection, request, timeout, streaming)
                return connection, target
            except UpstreamClosed:
                if connection.received:
                    raise
                # a kept-alive connection the upstream had closed meanwhile: try a fresh one
        loop = asyncio.get_running_loop()
        _, connection = await asyncio.wait_for(
            loop.create_connection(
                _Connection,
                target.host,
                target.port,
                ssl=target.ssl,
                server_hostname=target.host if target.ssl else None,
            ),
            timeout,
        )
        await self._exchange(connection, request, timeout, streaming)
        return connection, target

    @staticmethod
    async def _exchange(
        connection: _Connection, request: bytes, timeout: float, streaming: bool
    ) -> None:
        transport = connection.transport
        assert transport is not None
        connection.streaming = streaming
        ok = False
        try:
            transport.write(request)
            while not (connection.complete or (streaming and connection.headers_done)):
                await connection.wait(timeout)
            ok = True
        finally:
            if not ok:
                transport.close()

    def _release(self, connection: _Connection, target: _Target) -> None:
        transport = connection.transport
        assert transport is not None
        if connection.complete and connection.keep_alive and not connection.closed:
            connection.reset()
            idle = self._idle.setdefault(target.address, [])
            if len(idle) < self.idle_per_host:
                idle.append(connection)
                return
        transport.close()

    def close(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for connection in idle:
                if connection.transport is not None:
                    connection.transport.close()
        self._idle.clear()
