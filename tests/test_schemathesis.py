"""schemathesis over every operation, with an administrator's key and with none.

All of schemathesis's checks: no server error, no status the OpenAPI description does not
list, every answer in its documented shape. Examples are bounded so that this runs in about a
minute on two cores. (Driven through hypothesis directly: schemathesis's pytest plugin does not
load under pytest 9.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from clearance.server import build_app, init_data_dir

EXAMPLES = 5
EXCLUDED = [positive_data_acceptance]
"""Schema-valid data may still be refused (422) by rules a JSON schema cannot state: a sector
from the current framework, an organization that exists, a tier the framework names."""


def run_all(tmp_path: Path, with_key: bool) -> list[str]:
    folder, admin = init_data_dir(
        tmp_path / "data", origin="test.example/log", now=dt.datetime.now(dt.UTC)
    )
    store = folder.open_store()
    headers = {"Authorization": f"Bearer {admin}"} if with_key else {}
    failures: list[str] = []
    try:
        schema = schemathesis.openapi.from_asgi(
            "/openapi.json", build_app(store, clock_interval=None)
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 50
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def check(case: Any) -> None:
                case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

            try:
                check()
            except BaseException as failure:  # a group of failures, found and shrunk
                failures.append(f"{operation.label}: {str(failure)[:1500]}")
    finally:
        store.engine.dispose()
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("with_key", [True, False], ids=["admin", "anonymous"])
def test_every_operation_conforms(tmp_path: Path, with_key: bool) -> None:
    failures = run_all(tmp_path, with_key)
    assert not failures, "\n\n".join(failures)
