"""Reasons for a decision, from a YAML or Markdown file citing rules and evidence digests.

YAML: a list of reasons, or a mapping with `reasons` (and optionally `outcome`, `tier`,
`tiers`, `jurisdictions`, `conditions`, `justification`); each reason has `text`, `rules` and
`evidence` (digests as `sha256:<hex>` or hex).

Markdown: each bullet (`- ` or `* `) is one reason; `sha256:<hex>` in it cites evidence and a
rule id in backticks cites a rule; other lines are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from clearance.cli._files import read_text
from clearance.errors import InvalidInput

DIGEST = re.compile(r"sha256:([0-9a-fA-F]{64})")
RULE = re.compile(r"`([A-Za-z0-9_.:-]+)`")


def read_reasons(path: Path) -> dict[str, Any]:
    """The decision's fields the file gives, `reasons` at least."""
    text = read_text(path)
    if path.suffix.lower() in (".md", ".markdown"):
        return {"reasons": _markdown(text, path)}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InvalidInput(f"{path}{line}: not YAML: {getattr(exc, 'problem', exc)}") from None
    if isinstance(data, list):
        data = {"reasons": data}
    if not isinstance(data, dict) or not isinstance(data.get("reasons"), list):
        raise InvalidInput(f"{path}: give a list of reasons, or a mapping with `reasons`")
    for n, reason in enumerate(data["reasons"], 1):
        if isinstance(reason, str):
            data["reasons"][n - 1] = {"text": reason}
        elif not isinstance(reason, dict) or "text" not in reason:
            raise InvalidInput(f"{path}: reason {n}: give `text` (and `rules`, `evidence`)")
    return data


def _markdown(text: str, path: Path) -> list[dict[str, Any]]:
    reasons = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith(("- ", "* ")):
            continue
        body = stripped[2:].strip()
        reasons.append(
            {
                "text": body,
                "rules": RULE.findall(body),
                "evidence": [d.lower() for d in DIGEST.findall(body)],
            }
        )
    if not reasons:
        raise InvalidInput(f"{path}: no reasons: write each as a bullet (`- ...`)")
    return reasons
