"""Reading a framework from YAML text, with errors that name the place and the problem."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import rfc8785
import yaml
from pydantic import BaseModel, ValidationError

from clearance.errors import FrameworkError
from clearance.framework._explain import describe
from clearance.framework._schema import Framework

YAML_MAX_BYTES = 1024 * 1024
"""A framework's YAML text is at most this many bytes (UTF-8)."""
YAML_MAX_DEPTH = 32
"""Collections nest at most this deep."""
YAML_MAX_NODES = 20_000
"""The most YAML nodes (keys, values, items) a framework may expand to, aliases counted at each
use: the example has under 2,000, and an alias bomb (each anchor used ten times by the next) is
refused before it is turned into Python values."""


class _UnreadableValue(yaml.constructor.ConstructorError):
    """A scalar YAML recognized (by its pattern) but could not turn into a value."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (on libyaml where installed, ten times faster); a scalar it cannot
    turn into a value is a YAML error with its place.

    PyYAML lets the constructors' own errors through (`2026-02-30` matches the date pattern, then
    fails in `datetime.date` with a ValueError); here they carry the node's line and column.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception as exc:  # e.g. `!!timestamp x`: PyYAML's constructors fail in Python
            if node.tag == "tag:yaml.org,2002:timestamp":
                why = f" ({exc})" if isinstance(exc, ValueError) else ""
                problem = f"{node.value} is not a valid date{why}; write dates as YYYY-MM-DD"
            else:
                problem = f"{_short(node.value)} cannot be read as {node.tag.rsplit(':', 1)[-1]}"
            raise _UnreadableValue(None, None, problem, node.start_mark) from None


def parse_framework(text: str, source: str = "<framework>") -> Framework:
    """Parse and validate a framework from YAML text; `source` names it in error messages.

    Every problem is a FrameworkError whose message names the place: bad YAML, a value YAML
    cannot read (an impossible date), a document beyond the YAML limits (size, depth, node
    count with aliases counted at each use), or one that does not follow the schema.
    """
    if not text.strip():
        raise FrameworkError(f"{source}: the file is empty; a framework is a YAML mapping")
    if len(text) > YAML_MAX_BYTES or len(text.encode("utf-8")) > YAML_MAX_BYTES:
        raise FrameworkError(f"{source}: larger than {YAML_MAX_BYTES} bytes (the limit)")
    node, data = _read_yaml(text, source)
    if not isinstance(data, dict):
        raise FrameworkError(f"{source}: a framework is a YAML mapping, not {type(data).__name__}")
    try:
        return Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(describe(exc, node, source)) from None
    except RecursionError:
        raise FrameworkError(f"{source}: the document is nested too deeply") from None


def _read_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its value, composed once."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is not None:
            _check_size(node, source)
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise FrameworkError(
            f"{source}:{line}: not valid YAML: character {exc.character:#06x} is not allowed"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).replace("\n", " ")
        if "maximum nesting depth" in problem:  # libyaml's own bound, far above ours
            raise FrameworkError(
                f"{source}{where}: nested deeper than {YAML_MAX_DEPTH} levels (the limit)"
            ) from None
        if not isinstance(exc, _UnreadableValue):
            problem = f"not valid YAML: {problem}"
        raise FrameworkError(f"{source}{where}: {problem}") from None
    except RecursionError:
        raise FrameworkError(f"{source}: the document is nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    return node, data


def _check_size(root: yaml.Node, source: str) -> None:
    """Refuse a document nested deeper than YAML_MAX_DEPTH, an alias that contains itself, and
    a document that expands past YAML_MAX_NODES (aliases counted at each use)."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            line = node.start_mark.line + 1
            raise FrameworkError(f"{source}:{line}: an anchor is used inside itself (a cycle)")
        if depth > YAML_MAX_DEPTH:
            line = node.start_mark.line + 1
            raise FrameworkError(
                f"{source}:{line}: nested deeper than {YAML_MAX_DEPTH} levels (the limit)"
            )
        open_.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                total += size(key_node, depth + 1) + size(value_node, depth + 1)
        open_.discard(key)
        if total > YAML_MAX_NODES:
            raise FrameworkError(
                f"{source}: more than {YAML_MAX_NODES} YAML nodes (the limit; aliases counted "
                "at each use); a framework is far smaller"
            )
        sizes[key] = total
        return total

    size(root, 0)


def _short(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


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
