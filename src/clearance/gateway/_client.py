"""A small keep-alive HTTP/1.1 client for whole (not streamed) upstream answers: the hot path.

aiohttp's client costs more per request than the rest of the gateway together (URL objects,
header multidicts, cookie jars, tracing hooks), and a model call needs none of that. This client
writes one pre-built request head and the caller's body bytes, unchanged, on a pooled connection
and reads the answer with httptools (chunked bodies included). Streams still go through aiohttp,
where its per-request cost is small beside the time to a first token.
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
    """One connection to an upstream, reading one answer at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[None] | None = None
        self.body: list[bytes] = []
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
        if self.headers_done and not self.framed and not self.complete:
            # no length and not chunked: the body ends where the connection does
            self.on_message_complete()
            return
        self.fail(exc or UpstreamClosed("the upstream closed the connection"))

    # httptools callbacks
    def on_header(self, name: bytes, _: bytes) -> None:
        lowered = name.lower()
        if lowered in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = not self.closed and self.parser.should_keep_alive()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # the client's side
    def fail(self, exc: BaseException) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def timed_out(self) -> None:
        self.fail(asyncio.TimeoutError())

    def reset(self) -> None:
        """Ready for the next answer on this connection."""
        self.parser = httptools.HttpResponseParser(self)
        self.body = []
        self.framed = self.headers_done = self.complete = self.keep_alive = False
        self.received = False


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
        target = self._targets.get((url, api_key))
        if target is None:
            target = _Target(url, api_key)
            if len(self._targets) > 1024:
                self._targets.clear()
            self._targets[(url, api_key)] = target
        request = target.head + str(len(body)).encode() + b"\r\n\r\n" + body
        idle = self._idle.get(target.address)
        while idle:
            connection = idle.pop()
            if connection.closed:
                continue
            try:
                return await self._exchange(connection, target, request, timeout)
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
        return await self._exchange(connection, target, request, timeout)

    async def _exchange(
        self, connection: _Connection, target: _Target, request: bytes, timeout: float
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        connection.waiter = waiter
        transport = connection.transport
        assert transport is not None
        timer = loop.call_later(timeout, connection.timed_out)
        ok = False
        try:
            transport.write(request)
            await waiter
            ok = True
        finally:
            timer.cancel()
            connection.waiter = None
            if not ok:
                transport.close()
        status = connection.parser.get_status_code()
        body = connection.body[0] if len(connection.body) == 1 else b"".join(connection.body)
        if connection.keep_alive and not connection.closed:
            connection.reset()
            idle = self._idle.setdefault(target.address, [])
            if len(idle) < self.idle_per_host:
                idle.append(connection)
            else:
                transport.close()
        else:
            transport.close()
        return status, body

    def close(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for connection in idle:
                if connection.transport is not None:
                    connection.transport.close()
        self._idle.clear()
