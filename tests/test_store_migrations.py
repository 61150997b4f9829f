"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from clearance.store import make_engine, migrate, schema_is_current
from clearance.store._tables import metadata


def test_migrations_match_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    assert schema_is_current(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


def test_migrating_twice_is_harmless(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)
    assert schema_is_current(engine)
    engine.dispose()


def test_proceedings_migration_keeps_existing_frameworks_and_appeals(database_url: str) -> None:
    """0007 on a register made before it: versions get their state, appeals their act."""
    import datetime as dt

    from alembic import command
    from sqlalchemy import select, text

    from clearance.examples import example_path
    from clearance.store import _tables as t
    from clearance.store._db import _alembic_config

    engine = make_engine(database_url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    appeal_body = '{"model_id": "m", "decide_by": "2026-07-31T09:00:00+00:00"}'
    rows = (
        (
            "frameworks",
            {
                "digest": "d1",
                "framework_id": "f",
                "version": "1",
                "source": example_path().read_text(),
                "published_at": now,
                "current": True,
            },
        ),
        ("organizations", {"id": "o", "name": "O", "kind": "developer", "body": "{}"}),
        ("models", {"id": "m", "organization_id": "o", "name": "m", "body": "{}"}),
        (
            "applications",
            {"id": "a", "model_id": "m", "state": "decided", "deadline": now, "filed_at": now},
        ),
        (
            "decisions",
            {
                "id": "d",
                "model_id": "m",
                "application_id": "a",
                "final": False,
                "appeal_deadline": now,
                "decided_at": now,
                "valid_until": now,
                "lapsed": False,
            },
        ),
        ("appeals", {"id": "p", "decision_id": "d", "state": "filed", "body": appeal_body}),
    )
    with engine.begin() as connection:
        for table, values in rows:
            row = {"body": "{}"} | values if table != "frameworks" else values
            columns = ", ".join(row)
            marks = ", ".join(f":{c}" for c in row)
            connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), row)
    migrate(engine)
    with engine.connect() as connection:
        version = connection.execute(select(t.frameworks)).one()
        appeal = connection.execute(select(t.appeals)).one()
    engine.dispose()
    assert (version.state, version.effective_date) == ("current", dt.date(2026, 6, 1))
    assert (appeal.act, appeal.act_id, appeal.model_id) == ("decision", "d", "m")
    decide_by = appeal.decide_by
    decide_by = decide_by if decide_by.tzinfo else decide_by.replace(tzinfo=dt.UTC)
    assert decide_by == dt.datetime(2026, 7, 31, 9, tzinfo=dt.UTC)
