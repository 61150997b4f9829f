"""The notice worker: posts due webhook messages from the outbox, in the background."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx

from clearance.api import Context
from clearance.store import Store, deliver_due

log = logging.getLogger("clearance.server")

TIMEOUT = 10.0


def deliver(store: Store, context: Context, client: httpx.Client) -> int:
    """Send the due messages once with `client`; returns how many were delivered."""

    def send(url: str, headers: dict[str, str], body: bytes) -> tuple[int | None, str | None]:
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return response.status_code, None

    return deliver_due(store, context.clock(), send, time.time)


def http_client() -> httpx.Client:
    """The client notices are posted with: no redirects followed, a short timeout."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


async def run_notices(context: Context, interval: float) -> None:
    """Deliver due notices every `interval` seconds until cancelled."""
    with http_client() as client:
        while True:
            try:
                await asyncio.to_thread(deliver, context.store, context, client)
            except Exception:
                log.exception("notices could not be delivered; the worker will try again")
            await asyncio.sleep(interval)
