"""The `clearance` command line: assess, check and compare frameworks, and run the register."""

from __future__ import annotations

import sys

import typer

from clearance.cli._assess import assess_command
from clearance.cli._cases import appeal_app, application_app
from clearance.cli._demo import demo_command
from clearance.cli._evaluate import evaluate_command
from clearance.cli._examples import examples_command
from clearance.cli._framework import framework_app
from clearance.cli._gateway import fake_upstream_command, gateway_command
from clearance.cli._local_model import local_model_command
from clearance.cli._log import bundle_command, consistency_command, key_app, verify_command
from clearance.cli._monitor import monitor_command
from clearance.cli._obligations import obligation_app
from clearance.cli._orders import access_app, clock_app, directive_app, grant_app, report_app
from clearance.cli._parties import (
    evidence_app,
    framework_publish,
    model_app,
    org_app,
    principal_app,
)
from clearance.cli._server import init_command, serve_command
from clearance.cli._witness import witness_command
from clearance.errors import ClearanceError

app = typer.Typer(
    name="clearance",
    help="Published release criteria, a register of decisions, and an enforcing gateway.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("assess")(assess_command)
app.command("examples")(examples_command)
app.add_typer(framework_app, name="framework")
app.command("init")(init_command)
app.command("serve")(serve_command)
app.command("gateway")(gateway_command)
app.command("fake-upstream")(fake_upstream_command)
app.command("local-model")(local_model_command)
app.command("bundle")(bundle_command)
app.command("verify")(verify_command)
app.command("consistency")(consistency_command)
app.add_typer(key_app, name="key")
app.command("witness")(witness_command)
app.command("monitor")(monitor_command)
app.command("demo")(demo_command)
framework_app.command("publish")(framework_publish)
for noun, group in (
    ("org", org_app),
    ("principal", principal_app),
    ("model", model_app),
    ("evidence", evidence_app),
    ("application", application_app),
    ("appeal", appeal_app),
    ("obligation", obligation_app),
    ("directive", directive_app),
    ("access", access_app),
    ("grant", grant_app),
    ("report", report_app),
    ("clock", clock_app),
):
    group.info.no_args_is_help = True
    app.add_typer(group, name=noun)
app.command("evaluate")(evaluate_command)


def main() -> None:
    """Entry point: runs the app and turns a ClearanceError into a message and an exit status."""
    try:
        app()
    except ClearanceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)


__all__ = ["app", "main"]
