"""The register commands against a register served on a real port: each one's --help, and the
happy path of every act through them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from clearance.cli import app
from clearance.examples import example_path
from clearance.server import build_app, init_data_dir
from tests.test_docs import commands
from tests.web_fixtures import serving

WEIGHTS = "ab" * 32
NOUNS = (
    "org",
    "principal",
    "model",
    "evidence",
    "application",
    "appeal",
    "obligation",
    "directive",
    "access",
    "grant",
    "report",
    "clock",
    "framework publish",
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A fresh register with the example framework, on a port: (URL, admin key)."""
    folder, admin_key = init_data_dir(
        tmp_path / "data", origin="test.example/log", now=dt.datetime.now(dt.UTC)
    )
    store = folder.open_store()
    try:
        with serving(build_app(store, clock_interval=None)) as url:
            yield url, admin_key
    finally:
        store.engine.dispose()


def test_every_register_command_has_help() -> None:
    runner = CliRunner()
    found = sorted(
        c
        for c in commands(typer.main.get_command(app))
        if any(c.startswith(f"clearance {noun}") for noun in NOUNS)
    )
    assert len(found) >= 30
    for command in found:
        result = runner.invoke(app, [*command.split()[1:], "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "--url" in result.output and "--json" in result.output, command


class Cli:
    """Run commands as one principal or another."""

    def __init__(self, url: str, keys: dict[str, str]) -> None:
        self.url = url
        self.keys = keys
        self.runner = CliRunner()

    def run(self, who: str | None, *args: str) -> Any:
        env = {"CLEARANCE_URL": self.url, "CLEARANCE_API_KEY": self.keys.get(who or "", "")}
        result = self.runner.invoke(app, [*args, "--json"], env=env)
        assert result.exit_code == 0, (args, result.output)
        return json.loads(result.stdout)

    def table(self, who: str | None, *args: str) -> str:
        env = {"CLEARANCE_URL": self.url, "CLEARANCE_API_KEY": self.keys.get(who or "", "")}
        result = self.runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, (args, result.output)
        return result.stdout


def test_every_act_through_the_commands(served: tuple[str, str], tmp_path: Path) -> None:
    url, admin_key = served
    cli = Cli(url, {"admin": admin_key})
    authority = cli.run("admin", "principal", "me")["organization_id"]
    atlas = cli.run(
        "admin", "org", "add", "Atlas Labs", "--kind", "developer", "--jurisdiction", "US"
    )
    assert atlas["log_index"] is not None and atlas["bundle_url"].startswith("/log/bundle/")
    cli.run("admin", "org", "add", "Agency One", "--kind", "partner", "--jurisdiction", "US")
    assert "Agency One" in cli.table(None, "org", "list")
    for who, org, role in (
        ("dev", "Atlas Labs", "developer"),
        ("reviewer", authority, "reviewer"),
        ("partner", "Agency One", "partner"),
    ):
        made = cli.run("admin", "principal", "add", org, who, "--role", role)
        cli.keys[who] = made["api_key"]

    # keys: the partner rotates its own (the old one ends at once), lists them; a spare is revoked
    rotated = cli.run("partner", "principal", "rotate", "me")
    cli.keys["partner"] = rotated["api_key"]
    assert sorted(k["active"] for k in cli.run("partner", "principal", "keys")) == [False, True]
    spare = cli.run("admin", "principal", "add", "Agency One", "spare", "--role", "partner")
    assert cli.run("admin", "principal", "revoke", spare["id"])["revoked"] == 1

    cli.run("dev", "model", "add", "atlas-2", "--version", "2.0", "--weights", f"sha256:{WEIGHTS}")
    assert "atlas-2" in cli.table(None, "model", "list")
    assert cli.run(None, "model", "show", "atlas-2")["name"] == "atlas-2"

    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "findings.json").write_bytes(
        (example_path("evidence") / "red-team-findings.json").read_bytes()
    )
    uploaded = cli.table("dev", "evidence", "upload", str(folder))
    digest = uploaded.split()[0]
    assert digest.startswith("sha256:")
    assert cli.run(None, "evidence", "show", digest)["sha256"] == digest.removeprefix("sha256:")

    # filing with a folder: its file is already there, so it is cited, not uploaded again
    filed = cli.run(
        "dev", "application", "file", "atlas-2", "--tier", "public",
        "--jurisdiction", "tier-1", "--evidence", str(folder),
    )  # fmt: skip
    assert filed["evidence"][0]["sha256"] == digest.removeprefix("sha256:")
    app_id = filed["id"]
    assert app_id in cli.table(None, "application", "list")
    cli.run("reviewer", "application", "assign", app_id)
    asked = cli.run("reviewer", "application", "ask", app_id, "Send the cyber range results.")
    cli.run("dev", "application", "answer", asked["id"], "Attached.")
    assert cli.run(None, "application", "show", app_id)["state"] == "under_review"

    reasons = tmp_path / "reasons.md"
    reasons.write_text(f"# Reasons\n\n- Partners only while cyber results are missing: {digest}\n")
    decision = cli.run(
        "reviewer", "application", "decide", app_id, "--reasons", str(reasons),
        "--outcome", "approved_with_conditions", "--tier", "approved_partners",
        "--jurisdiction", "tier-1",
        "--justification", "Vetted partners under monitoring.",
        "--condition", "Report usage monthly.",
    )  # fmt: skip
    assert decision["reasons"][0]["evidence"] == [digest.removeprefix("sha256:")]
    assert decision["log_index"] is not None

    obligation = decision["obligations"][0]["id"]
    assert obligation in cli.table(None, "obligation", "list", "atlas-2")
    fulfilled = cli.run(
        "dev", "obligation", "fulfil", obligation, "--text", "June report.", "--evidence", digest
    )
    cli.run(
        "reviewer", "obligation", "review", obligation, fulfilled["fulfilments"][-1]["id"],
        "--accept", "--reasons", "Complete.",
    )  # fmt: skip
    shown = cli.run(None, "obligation", "show", obligation)
    assert shown["fulfilments"][-1]["state"] == "accepted"

    bundle = tmp_path / "decision.bundle"
    result = CliRunner().invoke(app, ["bundle", decision["id"], "-o", str(bundle), "--url", url])
    assert result.exit_code == 0, result.output
    assert f"entry {decision['log_index']}" in result.output

    appeal = cli.run("dev", "appeal", "file", decision["id"], "--grounds", "Too restrictive.")
    assert cli.run(None, "appeal", "show", appeal["id"])["state"] == "filed"

    asked = cli.run(
        "partner", "access", "request", "atlas-2", "--use-case", "cyber-defense",
        "--jurisdiction", "US",
    )  # fmt: skip
    assert asked["id"] in cli.table("reviewer", "access", "list")
    grant = cli.run("reviewer", "access", "grant", asked["id"], "--reasons", "Vetted partner.")
    assert grant["state"] == "active"
    assert grant["id"] in cli.table("partner", "grant", "list")
    revoked = cli.run("admin", "grant", "revoke", grant["id"], "--grounds", "Misuse.", "--urgent")
    assert revoked["grant"]["state"] == "revoked"

    halted = cli.run(
        "admin", "directive", "halt", "atlas-2", "--grounds", "Jailbreak in the wild.", "--urgent"
    )
    assert halted["state"] == "active" and halted["log_index"] is not None
    assert halted["id"] in cli.table(None, "directive", "list")
    restored = cli.run("admin", "directive", "restore", "atlas-2", "--grounds", "Patched.")
    assert restored["action"] == "restore"

    report = cli.run(
        "partner", "report", "file", "atlas-2", "--title", "Jailbreak", "--summary", "Role play."
    )
    assert report["id"] in cli.table(None, "report", "list")
    assert cli.run("admin", "clock", "run") == []


def test_a_missing_url_or_key_is_one_error_line(served: tuple[str, str]) -> None:
    url, _ = served
    runner = CliRunner()
    result = runner.invoke(app, ["org", "list"], env={"CLEARANCE_URL": ""})
    assert result.exit_code != 0
    result = runner.invoke(app, ["model", "add", "m", "--version", "1", "--weights", WEIGHTS],
                           env={"CLEARANCE_URL": url, "CLEARANCE_API_KEY": ""})  # fmt: skip
    assert result.exit_code != 0
