"""A framework's first schema problem in words, with its line, and the likely cause.

Two newcomer traps are named: a misspelled key (reported by pydantic as a required key missing
and an unknown key present, each on its own), and YAML 1.1 reading an unquoted `NO`, `yes`,
`1.10` or `2026-07-01` as a boolean, number or date where text was expected.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from clearance.framework._schema import Framework

Path = tuple[str | int, ...]
Error = Mapping[str, Any]
"""One of pydantic's error details (its `ErrorDetails`)."""

TEXT_EXPECTED = {"string_type", "literal_error", "string_pattern_mismatch", "enum"}
"""Error types that mean a string was wanted (a literal or a pattern is a string too)."""

_READ_AS: list[tuple[type | tuple[type, ...], str]] = [
    (bool, "the boolean {value} (YAML reads unquoted yes/no/on/off/true/false as booleans)"),
    ((int, float), "the number {value}"),
    ((dt.date, dt.datetime), "a date"),
]


def describe(exc: ValidationError, root: yaml.Node | None, source: str) -> str:
    """`SOURCE:LINE: at PATH: PROBLEM[; hint] [(and N more problems)]` for the first error."""
    errors = exc.errors(include_url=False)
    # a condition is a string or a mapping with its terms: a mapping's problem is the one to name
    errors = [
        e for e in errors if e["loc"][-1:] != ("str",) or e["type"] != "string_type"
    ] or errors
    first = errors[0]
    path = _clean_path(first["loc"])
    node, line = _node_at(root, path)
    where = f"{source}:{line}" if line is not None else source
    location = _format_path(path) or "top level"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden" and path:
        message = f"unknown key {path[-1]!r}"
        near = _close(path[-1], _fields_at(first["loc"][:-1]) | _missing_beside(errors, first))
        if near:
            message += f"; did you mean {near!r}?"
    elif first["type"] == "missing" and path:
        message = f"required key {path[-1]!r} is missing"
        unknown = _unknown_beside(errors, first)
        near = _close(path[-1], unknown)
        if near:
            _, near_line = _node_at(root, (*path[:-1], near))
            at = f" (line {near_line})" if near_line is not None else ""
            message += f"; found {near!r}{at}: did you mean {path[-1]!r}?"
    elif first["type"] in TEXT_EXPECTED:
        message += _yaml_trap(first, node)
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return f"{where}: at {location}: {message}{more if len(errors) > 1 else ''}"


def _yaml_trap(error: Error, node: yaml.Node | None) -> str:
    """Why an unquoted scalar was not text, when YAML read it as something else."""
    value = error.get("input")
    if not isinstance(node, yaml.ScalarNode) or node.style or isinstance(value, str):
        return ""  # quoted (style '"' or "'"), a block, or text after all: no trap
    written = node.value
    if value is None:
        read = "null (YAML reads an empty value, ~ or null as nothing)"
    else:
        read = next(
            (
                text.format(value=str(value).lower() if isinstance(value, bool) else value)
                for kinds, text in _READ_AS
                if isinstance(value, kinds)
            ),
            "",
        )
        if not read:
            return ""
    return f"; YAML read {written or 'the empty value'!s} as {read}: quote it, as {written!r}"


def _missing_beside(errors: Sequence[Error], error: Error) -> set[str]:
    parent = error["loc"][:-1]
    return {str(e["loc"][-1]) for e in errors if e["type"] == "missing" and e["loc"][:-1] == parent}


def _unknown_beside(errors: Sequence[Error], error: Error) -> set[str]:
    parent = error["loc"][:-1]
    return {
        e["loc"][-1]
        for e in errors
        if e["type"] == "extra_forbidden"
        and e["loc"][:-1] == parent
        and isinstance(e["loc"][-1], str)
    }


def _close(word: object, candidates: set[str]) -> str | None:
    if not isinstance(word, str):
        return None
    found = difflib.get_close_matches(word, sorted(candidates - {word}), n=1, cutoff=0.7)
    return found[0] if found else None


def _fields_at(loc: tuple[int | str, ...]) -> set[str]:
    """The keys the schema allows at `loc` (pydantic's location, union tags included)."""
    kinds: list[Any] = [Framework]
    for part in loc:
        kinds = [step for kind in kinds for step in _step(kind, part)]
    return {name for kind in kinds for model in _models(kind) for name in model.model_fields}


def _models(kind: Any) -> list[type[BaseModel]]:
    return [k for k in _alternatives(kind) if isinstance(k, type) and issubclass(k, BaseModel)]


def _alternatives(kind: Any) -> list[Any]:
    """A type with Annotated, Optional and unions taken apart."""
    origin = typing.get_origin(kind)
    if origin is typing.Annotated:
        return _alternatives(typing.get_args(kind)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [alt for arg in typing.get_args(kind) for alt in _alternatives(arg)]
    return [kind]


def _step(kind: Any, part: int | str) -> list[Any]:
    steps: list[Any] = []
    for alt in _alternatives(kind):
        origin = typing.get_origin(alt)
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            field = alt.model_fields.get(str(part))
            if field is not None:
                steps.append(field.annotation)
            elif part == alt.__name__ or any(f.default == part for f in alt.model_fields.values()):
                steps.append(alt)  # a discriminated union's tag names the member it chose
        elif origin in (tuple, list) and isinstance(part, int):
            steps.append(typing.get_args(alt)[0])
        elif origin is dict:
            steps.append(typing.get_args(alt)[1])
    return steps


def _clean_path(loc: tuple[Any, ...]) -> Path:
    # pydantic adds the tag of a union ("inspect", "RequiredCondition") to the location; YAML has
    # no such level, so it is dropped to keep the path pointing at real keys.
    return tuple(part for part in loc if part not in ("inspect", "lm_eval", "RequiredCondition"))


def _format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _node_at(node: yaml.Node | None, path: Path) -> tuple[yaml.Node | None, int | None]:
    """The YAML node at `path` (None where the path leaves the document) and the 1-based line
    of the deepest node along it (a key's own line for a mapping value)."""
    if node is None:
        return None, None
    line = node.start_mark.line + 1
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            return None, line
        node = child
    return node, line
