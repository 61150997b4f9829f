"""Reading a framework from YAML text, with errors that name the place and the problem."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import rfc8785
import yaml
from pydantic import BaseModel, ValidationError

from clearance.errors import InvalidInput
from clearance.framework._schema import Framework

Path = tuple[str | int, ...]


def parse_framework(text: str, source: str = "<framework>") -> Framework:
    """Parse and validate a framework from YAML text; `source` names it in error messages."""
    if not text.strip():
        raise InvalidInput(f"{source}: the file is empty; a framework is a YAML mapping")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"{source}{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: a framework is a YAML mapping, not {type(data).__name__}")
    try:
        return Framework.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_describe(exc, node, source)) from None


def framework_digest(framework: Framework) -> str:
    """The framework's identity: SHA-256 of its RFC 8785 canonical JSON form, as hex."""
    return hashlib.sha256(canonical_json(framework)).hexdigest()


def canonical_json(framework: Framework) -> bytes:
    """The framework as RFC 8785 canonical JSON bytes (defaults filled in).

    A field added to the schema later is left out while it holds its default, so a framework
    published before it existed keeps its identity.
    """
    return bytes(rfc8785.dumps(_without_added_defaults(framework)))


def _without_added_defaults(value: Any) -> Any:
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        data = {}
        for name, info in fields.items():
            item = getattr(value, name)
            extra = info.json_schema_extra
            if isinstance(extra, dict) and "added" in extra and item == info.get_default():
                continue
            data[name] = _without_added_defaults(item)
        return data
    if isinstance(value, tuple | list):
        return [_without_added_defaults(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_added_defaults(item) for key, item in value.items()}
    return _json_value(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _describe(exc: ValidationError, root: yaml.Node | None, source: str) -> str:
    errors = exc.errors(include_url=False)
    # a condition is a string or a mapping with its terms: a mapping's problem is the one to name
    errors = [
        e for e in errors if e["loc"][-1:] != ("str",) or e["type"] != "string_type"
    ] or errors
    first = errors[0]
    path = _clean_path(first["loc"])
    line = _line_of(root, path)
    where = f"{source}:{line}" if line is not None else source
    location = _format_path(path) or "top level"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden" and path:
        message = f"unknown key {path[-1]!r}"
    elif first["type"] == "missing" and path:
        message = f"required key {path[-1]!r} is missing"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return f"{where}: at {location}: {message}{more if len(errors) > 1 else ''}"


def _clean_path(loc: tuple[Any, ...]) -> Path:
    # pydantic adds the tag of a union ("inspect", "RequiredCondition") to the location; YAML has
    # no such level, so it is dropped to keep the path pointing at real keys.
    return tuple(part for part in loc if part not in ("inspect", "lm_eval", "RequiredCondition"))


def _format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_of(node: yaml.Node | None, path: Path) -> int | None:
    """The 1-based line of the deepest YAML node along `path`."""
    if node is None:
        return None
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
            break
        node = child
    return line
