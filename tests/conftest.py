"""Shared fixtures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.inspect_logs import make_inspect_log

pytest_plugins = ["tests.register_fixtures", "tests.gateway_fixtures"]


@dataclass(frozen=True)
class InspectLogs:
    """Real Inspect logs, made once per session; 20 questions, 10 always answered right."""

    eval: Path
    json: Path
    no_stderr_eval: Path
    no_stderr_json: Path
    reducers: Path
    """3 epochs; 4 more questions right on the first epoch only; mean, at_least_1, pass_at_2."""
    reducers_no_stderr: Path
    default_reducer_eval: Path
    """3 epochs, no reducer declared (Inspect's default mean)."""
    default_reducer_json: Path
    failed: Path
    """A solver raised: status "error"."""


@pytest.fixture(scope="session")
def inspect_logs(tmp_path_factory: pytest.TempPathFactory) -> InspectLogs:
    logs = tmp_path_factory.mktemp("inspect-logs")
    reducers = ["mean", "at_least_1", "pass_at_2"]
    return InspectLogs(
        eval=make_inspect_log(logs),
        json=make_inspect_log(logs, fmt="json"),
        no_stderr_eval=make_inspect_log(logs, with_stderr=False),
        no_stderr_json=make_inspect_log(logs, with_stderr=False, fmt="json"),
        reducers=make_inspect_log(logs, epochs=3, flaky=4, reducers=reducers),
        reducers_no_stderr=make_inspect_log(
            logs, epochs=3, flaky=4, reducers=reducers, with_stderr=False
        ),
        default_reducer_eval=make_inspect_log(logs, epochs=3, flaky=4),
        default_reducer_json=make_inspect_log(logs, epochs=3, flaky=4, fmt="json"),
        failed=make_inspect_log(logs, fail=True),
    )
