"""Errors never reveal where the server keeps things: evidence refusals name the upload's name.

An upload is parsed from its bytes, never from a file on the server, so no refusal can carry a
server path; the CLI names a file as the user typed it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from clearance.examples import example_path
from tests.conftest import InspectLogs
from tests.framework_data import as_yaml, small
from tests.register_fixtures import Register


def server_places(reg: Register) -> list[str]:
    import inspect_ai

    return [
        tempfile.gettempdir(),
        str(reg.data_dir.path),
        os.getcwd(),
        sys.prefix,
        str(Path(inspect_ai.__file__).parent),
        str(Path.home()),
    ]


def broken_uploads(logs: InspectLogs) -> dict[str, bytes]:
    good = logs.eval.read_bytes()
    findings = json.loads((example_path("evidence") / "red-team-findings.json").read_text())
    findings["findings"][0]["severity"] = "apocalyptic"
    return {
        "truncated.eval": good[: len(good) // 2],
        "corrupt.eval": b"PK\x03\x04" + b"\x00" * 200,
        "not-json.json": b"{this is not json",
        "failed.json": logs.failed.read_bytes(),
        "findings.json": json.dumps(findings).encode(),
        "safeguards.json": json.dumps({"schema": "clearance/safeguards/v1", "x": 1}).encode(),
        "other.json": b'{"schema": "someone/else/v9"}',
        "binary.json": b"\x00\x01 binary",
    }


def test_evidence_refusals_name_the_upload_never_a_server_path(
    register: Register, inspect_logs: InspectLogs
) -> None:
    places = server_places(register)
    for name, data in broken_uploads(inspect_logs).items():
        response = register.call("dev", "POST", f"/evidence?name={name}", content=data)
        assert response.status_code == 422, (name, response.text)
        message = response.json()["error"]["message"]
        assert message.startswith(f"{Path(name).name}: "), message
        for place in places:
            assert place not in message, (name, place, message)
        assert "/" not in message.split(": ", 1)[0], message
    # a name with path components is refused as a name, before the bytes are looked at
    response = register.call("dev", "POST", "/evidence?name=../../../etc/passwd", content=b"{}")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "query.name" and "one file name" in error["message"]


def test_the_cli_names_a_file_as_it_was_given(tmp_path: Path) -> None:
    (tmp_path / "fw.yaml").write_text(as_yaml(small()))
    (tmp_path / "cut.eval").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    result = subprocess.run(
        [sys.executable, "-m", "clearance", "assess", "fw.yaml", "cut.eval"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: cut.eval: ")
    assert str(tmp_path) not in result.stderr and "Traceback" not in result.stderr
