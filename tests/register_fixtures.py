"""Fixtures for register tests: a fake clock, both databases, and an HTTP client per principal."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearance.server import DataDir, build_app, init_data_dir

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
POSTGRES_URL = os.environ.get(
    "CLEARANCE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def service_missing(what: str, error: Exception) -> None:
    """Fail in CI (the service must be there), skip visibly elsewhere."""
    message = f"{what} is not reachable: {error}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'register.db'}"
        return
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL", exc)
    url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    yield f"{url}?options=-csearch_path%3D{schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


@dataclass
class Register:
    """A running register for one test: its client, clock, data folder and keys by name."""

    client: TestClient
    clock: FakeClock
    data_dir: DataDir
    keys: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def call(self, who: str | None, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API as a named principal (None: no key) and return the response."""
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers["Authorization"] = f"Bearer {self.keys[who]}"
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def ok(self, who: str | None, method: str, path: str, **kwargs: Any) -> Any:
        """Call and insist on success; returns the JSON body."""
        response = self.call(who, method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def add_org(self, name: str, kind: str, jurisdiction: str = "US", **extra: Any) -> str:
        body = {"name": name, "kind": kind, "jurisdiction": jurisdiction} | extra
        self.ids[name] = self.ok("admin", "POST", "/organizations", json=body)["id"]
        return self.ids[name]

    def add_principal(self, name: str, org: str, *roles: str, **extra: Any) -> str:
        body = {"organization_id": self.ids[org], "name": name, "roles": list(roles)} | extra
        created = self.ok("admin", "POST", "/principals", json=body)
        self.keys[name] = created["api_key"]
        self.ids[name] = created["id"]
        return created["id"]

    def event_count(self) -> int:
        events = self.ok(None, "GET", "/events?limit=500")["items"]
        return len(events)


@pytest.fixture
def register(database_url: str, tmp_path: Path) -> Iterator[Register]:
    """An initialized register with the example framework and a cast of principals."""
    clock = FakeClock()
    folder, admin_key = init_data_dir(
        tmp_path / "data", database_url=database_url, origin="test.example/log", now=clock()
    )
    store = folder.open_store()
    app = build_app(store, clock=clock, clock_interval=None)
    with TestClient(app) as client:
        reg = Register(client, clock, folder, keys={"admin": admin_key})
        authority = reg.ok("admin", "GET", "/principals/me")["organization_id"]
        reg.ids["Release Authority"] = authority
        reg.add_org("Atlas Labs", "developer")
        reg.add_org("Rival AI", "developer")
        reg.add_org("Agency One", "partner", sector="government")
        reg.add_org("Quiet Partner", "partner", "GB", name_public=False)
        reg.add_org("Watchdog", "reporter")
        reg.add_principal("dev", "Atlas Labs", "developer")
        reg.add_principal("rival", "Rival AI", "developer")
        reg.add_principal("reviewer", "Release Authority", "reviewer", expertise=["cyber", "cbrn"])
        reg.add_principal(
            "conflicted", "Release Authority", "reviewer", conflicts=[reg.ids["Atlas Labs"]]
        )
        reg.add_principal("panelist", "Release Authority", "appeal_panel")
        reg.add_principal("partner", "Agency One", "partner")
        reg.add_principal("reporter", "Watchdog", "reporter")
        yield reg
    store.engine.dispose()
