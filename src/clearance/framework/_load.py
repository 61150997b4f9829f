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

YAML_MAX_BYTES = 1024 * 1024
"""A framework's YAML text is at most this many bytes (UTF-8)."""
YAML_MAX_DEPTH = 32
"""Collections nest at most this deep."""
YAML_MAX_NODES = 20_000
"""At most this many YAML nodes (keys, values, items): the example framework has under 600."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with limits on depth and node count, and without aliases.

    The limits are checked while the document is composed, so a hostile text is refused before
    it costs more than the limits allow; aliases are refused since one alias can stand for a
    whole subtree, many times over ("a billion laughs").
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise _Limit("YAML aliases (*name) are not accepted in a framework")
        self.nodes += 1
        if self.nodes > YAML_MAX_NODES:
            raise _Limit(f"more than {YAML_MAX_NODES} YAML nodes (the limit)")
        self.depth += 1
        try:
            if self.depth > YAML_MAX_DEPTH:
                raise _Limit(f"nested deeper than {YAML_MAX_DEPTH} levels (the limit)")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Limit(Exception):
    """A framework text beyond one of the YAML limits."""


def _load(text: str) -> tuple[yaml.Node | None, Any]:
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def parse_framework(text: str, source: str = "<framework>") -> Framework:
    """Parse and validate a framework from YAML text; `source` names it in error messages.

    Texts beyond the YAML limits (size, depth, node count; no aliases) are refused.
    """
    if not text.strip():
        raise InvalidInput(f"{source}: the file is empty; a framework is a YAML mapping")
    if len(text) > YAML_MAX_BYTES or len(text.encode("utf-8")) > YAML_MAX_BYTES:
        raise InvalidInput(f"{source}: larger than {YAML_MAX_BYTES} bytes (the limit)")
    try:
        node, data = _load(text)
    except _Limit as exc:
        raise InvalidInput(f"{source}: {exc}") from None
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
