"""The notice outbox: webhook messages written with the act, delivered later, never lost.

`NoticeHook` is a ChangeHook: in the act's own transaction it writes one message per event and
registered endpoint of every organization the event touches (`notice_recipients`). The delivery
worker (`deliver_due`) claims due messages with a lease, so that two workers never send the same
one, signs them by the Standard Webhooks specification and records every attempt. A message a
receiver answered with 2xx is delivered and never sent again; any other answer is retried with
exponential backoff (`retry_delay`) up to `MAX_ATTEMPTS`, then marked failed until the
organization asks for it again.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from clearance.errors import Conflict, NotFound
from clearance.register import Change, ModelConfig, Record, notice_recipients
from clearance.store import _tables as t
from clearance.store._statements import _public, _records_for
from clearance.store._store import Store, Transaction

MAX_ATTEMPTS = 10
FIRST_RETRY = dt.timedelta(seconds=10)
BACKOFF_FACTOR = 3
LONGEST_WAIT = dt.timedelta(hours=24)
LEASE = dt.timedelta(seconds=60)
"""How long a worker holds a message it is sending before another may take it."""

Send = Callable[[str, dict[str, str], bytes], tuple[int | None, str | None]]
"""Posts a body with headers to a URL; returns the answer's status, or why there was none."""


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of "id.timestamp.body"."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 10 s, 30 s, 90 s, ... at most a day."""
    delay: dt.timedelta = FIRST_RETRY * BACKOFF_FACTOR ** (attempts - 1)
    return min(delay, LONGEST_WAIT)


def _rfc3339(moment: dt.datetime) -> str:
    # SQLite gives back naive datetimes; every time the register writes is UTC
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class NoticeHook:
    """The ChangeHook that writes the outbox in the act's transaction."""

    def __call__(self, connection: Connection, change: Change) -> None:
        """Write one message per event, endpoint and organization the event touches."""
        if not change.events:
            return
        endpoints: dict[str, list[str]] = {}
        for row in connection.execute(
            select(t.webhook_endpoints.c.id, t.webhook_endpoints.c.organization_id)
        ):
            endpoints.setdefault(row.organization_id, []).append(row.id)
        if not endpoints:
            return
        models: dict[str, ModelConfig] = {}

        def model(model_id: str) -> ModelConfig:
            if model_id not in models:
                body = connection.scalar(select(t.models.c.body).where(t.models.c.id == model_id))
                if body is None:
                    raise NotFound(f"no model with id {model_id!r}")
                models[model_id] = ModelConfig.model_validate(body)
            return models[model_id]

        rows = []
        for event in change.events:
            records = _records_for(event, change)
            told = notice_recipients(event, records, lambda m: model(m).organization_id)
            for organization, shown in told.items():
                if organization not in endpoints:
                    continue
                payload = _payload(event.kind, event.at, _data(event, shown, model))
                for endpoint in endpoints[organization]:
                    rows.append(
                        {
                            "id": f"msg_{secrets.token_hex(12)}",
                            "endpoint_id": endpoint,
                            "organization_id": organization,
                            "kind": event.kind,
                            "payload": payload,
                            "created_at": event.at,
                            "state": "pending",
                            "attempts": 0,
                            "next_attempt_at": event.at,
                        }
                    )
        if rows:
            connection.execute(insert(t.outbox), rows)


def _data(event: Any, shown: list[Record], model: Callable[[str], ModelConfig]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "subject": event.subject,
        "actor": event.actor,
        "event": _public(event.data),
        "records": [_public(r.model_dump(mode="json")) for r in shown],
    }
    if event.model_id is not None:
        data["model"] = {"id": event.model_id, "name": model(event.model_id).name}
    return data


def _payload(kind: str, at: dt.datetime, data: dict[str, Any]) -> str:
    body = {"type": kind, "timestamp": _rfc3339(at), "data": data}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Message:
    """A claimed message, ready to send."""

    id: str
    url: str
    secret: str
    payload: str
    attempts: int


def claim_due(store: Store, now: dt.datetime, limit: int = 50) -> list[Message]:
    """Take the messages due at `now` (a lease keeps other workers off them while they go out)."""
    claimed: list[Message] = []
    with store.read() as tx:
        # a read first: most polls find nothing, and need not take SQLite's write lock
        due = tx.connection.scalar(
            select(t.outbox.c.id)
            .where(t.outbox.c.state == "pending", t.outbox.c.next_attempt_at <= now)
            .limit(1)
        )
    if due is None:
        return claimed
    with store.transaction() as tx:
        rows = tx.connection.execute(
            select(
                t.outbox.c.id,
                t.outbox.c.payload,
                t.outbox.c.attempts,
                t.outbox.c.lease_until,
                t.webhook_endpoints.c.url,
                t.webhook_endpoints.c.secret,
            )
            .join(t.webhook_endpoints, t.webhook_endpoints.c.id == t.outbox.c.endpoint_id)
            .where(t.outbox.c.state == "pending", t.outbox.c.next_attempt_at <= now)
            .order_by(t.outbox.c.next_attempt_at, t.outbox.c.id)
            .limit(limit)
        ).all()
        for row in rows:
            taken = tx.connection.execute(
                update(t.outbox)
                .where(
                    t.outbox.c.id == row.id,
                    t.outbox.c.state == "pending",
                    (t.outbox.c.lease_until.is_(None)) | (t.outbox.c.lease_until <= now),
                )
                .values(lease_until=now + LEASE)
            ).rowcount
            if taken:
                claimed.append(Message(row.id, row.url, row.secret, row.payload, row.attempts))
    return claimed


def record_attempt(
    store: Store, message: Message, now: dt.datetime, status: int | None, error: str | None
) -> None:
    """Log one attempt; a 2xx answer delivers the message, anything else schedules a retry."""
    attempt = message.attempts + 1
    delivered = status is not None and 200 <= status < 300
    with store.transaction() as tx:
        logged = tx.connection.scalar(
            select(func.count())
            .select_from(t.webhook_deliveries)
            .where(t.webhook_deliveries.c.message_id == message.id)
        )
        tx.connection.execute(
            insert(t.webhook_deliveries).values(
                message_id=message.id,
                attempt=int(logged or 0) + 1,
                at=now,
                status=status,
                error=error,
            )
        )
        if delivered:
            values: dict[str, Any] = {"state": "delivered", "delivered_at": now}
        elif attempt >= MAX_ATTEMPTS:
            values = {"state": "failed", "next_attempt_at": None}
        else:
            values = {"next_attempt_at": now + retry_delay(attempt)}
        tx.connection.execute(
            update(t.outbox)
            .where(t.outbox.c.id == message.id)
            .values(attempts=attempt, lease_until=None, **values)
        )


def deliver_due(store: Store, now: dt.datetime, send: Send, stamp: Callable[[], float]) -> int:
    """Send every due message once; returns how many were delivered.

    `now` is the register's clock (when messages fall due); `stamp` is the wall clock for the
    `webhook-timestamp` header, which receivers check against their own.
    """
    delivered = 0
    for message in claim_due(store, now):
        timestamp = int(stamp())
        body = message.payload.encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(message.secret, message.id, timestamp, body),
        }
        status, error = send(message.url, headers, body)
        record_attempt(store, message, now, status, error)
        delivered += status is not None and 200 <= status < 300
    return delivered


def redeliver(tx: Transaction, organization_id: str, message_id: str, now: dt.datetime) -> None:
    """Try a message that was not delivered again now, its attempts counted afresh."""
    row = tx.connection.execute(
        select(t.outbox.c.state, t.outbox.c.delivered_at).where(
            t.outbox.c.id == message_id, t.outbox.c.organization_id == organization_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no webhook message {message_id!r} for this organization")
    if row.state == "delivered":
        raise Conflict(
            f"message {message_id} was delivered (the receiver answered 2xx) at "
            f"{_rfc3339(row.delivered_at)}; it is not sent twice"
        )
    tx.connection.execute(
        update(t.outbox)
        .where(t.outbox.c.id == message_id)
        .values(state="pending", attempts=0, next_attempt_at=now, lease_until=None)
    )
