"""The framework loader on arbitrary YAML: it loads, or it says why in a FrameworkError.

Nothing else may escape it: an exception of another kind is a traceback on the command line and
a 500 from the API. Three kinds of document are fed: arbitrary text made of YAML's own tokens,
arbitrary values dumped as YAML, and the shipped example with one part replaced by an arbitrary
value or an unquoted scalar YAML reads its own way (dates that do not exist, NO, 1.10, ~).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.errors import FrameworkError
from clearance.examples import example_path
from clearance.framework import Framework, parse_framework

EXAMPLE: dict[str, Any] = yaml.safe_load(example_path().read_text())
HOLE = "__hole__"


def dump(value: Any) -> str:
    """YAML text, written by libyaml (the pure-Python dumper is the slow part of these tests)."""
    return yaml.dump(value, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


# unquoted scalars YAML 1.1 reads as something other than text, or cannot read at all
TRICKY = [
    "2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "2026-07-01 25:00:00",
    "2026-6-1", "NO", "no", "yes", "On", "off", "y", "~", "null", "", "1.10", "1e400",
    "-.inf", ".nan", "0x1F", "0o17", "0b101", "1_000", "190:20:30", "!!binary aGk=",
    "!!binary 'not base64!'", "!!float abc", "!!int 1.5", "!!timestamp 2026-02-30",
    "!!set {a, b}", "!!omap [a: 1]", "!!python/object:os.system x", "!!str", "*nowhere",
    "&a [*a]", "{[1]: 2}", "[[[[[[]]]]]]", "'", "\"\\x\"", "? [a]\n: b", "- - -",
]  # fmt: skip

TOKENS = [
    *TRICKY, "id:", "title:", "version:", "effective_date:", "domains:", "metrics:",
    "levels:", "thresholds:", "tresholds:", "jurisdictions:", "members:", "procedure:",
    "- ", ": ", "\n", "\n  ", "\n    ", "[", "]", "{", "}", ",", "&x ", "*x", "<<: *x", "---",
    "...", "#", "|", ">", "!", "%YAML 1.1\n", "\t", "\ufeff", "\x00", "é",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.dates()
    | st.datetimes()
    | st.sampled_from(["public", "internal", "cyber", "NO", "2026-07-01", "inspect", "mean"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12) | st.sampled_from(list(EXAMPLE)), inner, max_size=4)
    ),
    max_leaves=20,
)


def loads_or_says_why(text: str) -> None:
    try:
        framework = parse_framework(text, "fw.yaml")
    except FrameworkError as exc:
        assert exc.message.startswith("fw.yaml"), exc.message
        assert "\n" not in exc.message.split(": ", 1)[0]
    else:
        assert isinstance(framework, Framework)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=6), max_size=40))
def test_arbitrary_yaml_text(parts: list[str]) -> None:
    loads_or_says_why("".join(parts))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_arbitrary_values_dumped_as_yaml(value: Any) -> None:
    loads_or_says_why(dump(value))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


PATHS = _paths(EXAMPLE)[1:]


def _replace(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    document = copy.deepcopy(document)
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    if new is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return document


_DELETE = object()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS),
    new=values | st.just(_DELETE) | st.just(HOLE),
    raw=st.sampled_from(TRICKY),
)
def test_the_example_with_one_part_replaced(path: tuple[Any, ...], new: Any, raw: str) -> None:
    text = dump(_replace(EXAMPLE, path, new))
    loads_or_says_why(text.replace(HOLE, raw))


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from([p for p in PATHS if isinstance(p[-1], str)]), data=st.data())
def test_the_example_with_one_key_renamed(path: tuple[Any, ...], data: st.DataObject) -> None:
    document = copy.deepcopy(EXAMPLE)
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    new_name = data.draw(st.text(min_size=1, max_size=12))
    parent[new_name] = parent.pop(path[-1])
    loads_or_says_why(dump(document))


def test_the_example_itself_loads() -> None:
    assert parse_framework(example_path().read_text(), "fw.yaml").effective_date == dt.date(
        2026, 6, 1
    )
