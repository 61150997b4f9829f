"""The shipped deployment (deploy/compose.yaml, deploy/k8s/*.yaml) uses only commands and flags
that exist: every `clearance` invocation in it is parsed by the CLI itself."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import typer.main
import yaml

from clearance.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in [DEPLOY / "compose.yaml", *sorted((DEPLOY / "k8s").glob("*.yaml"))]:
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append((path.name, document))
    return found


def argvs(document: dict[str, Any]) -> list[list[str]]:
    """Each container's command line: compose services, k8s containers and init containers."""
    lines = []
    for service in (document.get("services") or {}).values():
        command = service.get("command")
        if command:
            lines.append(shlex.split(command) if isinstance(command, str) else list(command))
    spec = document.get("spec", {}).get("template", {}).get("spec", {})
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        line = [*container.get("command", []), *container.get("args", [])]
        if line:
            lines.append(line)
    return lines


def invocations(argv: list[str]) -> list[list[str]]:
    """The `clearance ...` calls in a command line, through `sh -c` scripts too."""
    if argv[:2] == ["sh", "-c"]:
        found = []
        for part in re.split(r"&&|\|\||;", " ".join(argv[2:])):
            words = shlex.split(part)
            if words[:1] == ["exec"]:
                words = words[1:]
            if words and words[0] == "clearance":
                found.append(words)
        return found
    return [argv] if argv and argv[0] == "clearance" else []


def placeholders(word: str) -> str:
    # k8s $(VAR), shell "$VAR" and compose $$VAR stand for values given at run time
    return re.sub(r"\$\$?\(?[A-Z_]+\)?", "value", word)


def all_invocations() -> list[tuple[str, list[str]]]:
    return [
        (name, call)
        for name, document in documents()
        for argv in argvs(document)
        for call in invocations(argv)
    ]


def test_every_clearance_command_and_flag_in_the_deployment_exists() -> None:
    cli = typer.main.get_command(app)
    calls = all_invocations()
    assert {call[1] for _, call in calls} >= {"init", "serve", "gateway"}
    for name, call in calls:
        args = [placeholders(word) for word in call[1:]]
        # Typer may carry its own copy of click: groups are known by their `commands`
        command = getattr(cli, "commands", {}).get(args[0])
        assert command is not None, f"{name}: no command `clearance {args[0]}`"
        # the CLI's own parser: an unknown flag, a missing required one or a bad value fails
        command.make_context(f"clearance {args[0]}", args[1:], resilient_parsing=False)


def test_an_unknown_flag_would_be_caught() -> None:
    gateway = getattr(typer.main.get_command(app), "commands", {})["gateway"]
    try:
        gateway.make_context("clearance gateway", ["--register=x", "--vkey=y", "--workerz=2"])
    except Exception as exc:
        assert "no such option" in str(exc).lower()
        return
    raise AssertionError("an unknown flag was accepted")


def test_the_deployment_has_replicas_ready_on_healthz() -> None:
    found = {(d.get("kind"), d.get("metadata", {}).get("name")): d for _, d in documents()}
    assert found["Deployment", "clearance-gateway"]["spec"]["replicas"] >= 2
    for name in ("clearance-gateway", "clearance-register"):
        container = found["Deployment", name]["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    compose = next(d for n, d in documents() if n == "compose.yaml")
    assert compose["services"]["gateway"]["deploy"]["replicas"] >= 2
    for service in ("register", "gateway"):
        assert "/healthz" in " ".join(compose["services"][service]["healthcheck"]["test"])
    uses = {call[1] for _, call in all_invocations() if "--workers" in " ".join(call)}
    assert uses == {"serve", "gateway"}
