"""The values the register keeps from outside: names, model names, file names, text, digests.

One definition of each serves the REST API and the records, so these are the limits a user
meets: no name holds a control character (NUL, CR, LF, tab, DEL, C1) or starts or ends with
white space; a model name is what a gateway caller writes; a file name is one path component
and not `.` or `..`; free text holds no NUL; a digest is 64 lower-case hex digits, given bare or
as `sha256:<hex>`; a country is two capital letters.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from clearance.register._values import (
    FILE_NAME_PATTERN,
    MAX_SAFE_INTEGER,
    MODEL_NAME_PATTERN,
    NAME_PATTERN,
    PATTERN_RULES,
    Country,
    FileName,
    ModelName,
    Name,
    Sha256,
    Text,
    bare_digest,
)

HEX = "0123456789abcdef" * 4


def valid(kind: Any, value: Any) -> Any:
    return TypeAdapter(kind).validate_python(value)


def refusal(kind: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(kind).validate_python(value)
    return str(caught.value.errors()[0]["msg"])


@pytest.mark.parametrize("value", ["Ada", "Dev Lab", "Laboratoire Été", "x", "a\u00a0b", "名前"])
def test_a_printable_name_is_kept(value: str) -> None:
    assert valid(Name, value) == value


@pytest.mark.parametrize(
    "value",
    ["Ada\x00", "Ada\nLovelace", "Ada\rX", "Ada\tX", "\x1fAda", "Ada\x7f", "Ada\x85", "A\x9f"],
)
def test_a_name_with_a_control_character_is_refused(value: str) -> None:
    assert refusal(Name, value).startswith("String should match pattern")


@pytest.mark.parametrize("value", [" Ada", "Ada ", "\u3000Ada", "", " "])
def test_a_name_starting_or_ending_with_white_space_or_empty_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        valid(Name, value)


def test_a_name_holds_at_most_200_characters() -> None:
    assert valid(Name, "n" * 200) == "n" * 200
    assert refusal(Name, "n" * 201) == "String should have at most 200 characters"


@pytest.mark.parametrize("value", ["frontier-1", "org/model:v1.2_b", "7b", "M" * 128])
def test_a_model_name_is_what_a_gateway_caller_writes(value: str) -> None:
    assert valid(ModelName, value) == value


@pytest.mark.parametrize(
    "value", ["-frontier", ".hidden", "front ier", "frontier\n", "mödel", "a@b", "M" * 129, ""]
)
def test_a_model_name_otherwise_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        valid(ModelName, value)


@pytest.mark.parametrize("value", ["eval.json", "a b.log", "x", ".env", "...", "n" * 255])
def test_a_file_name_is_one_path_component(value: str) -> None:
    assert valid(FileName, value) == value


@pytest.mark.parametrize(
    "value", ["a/b", "a\\b", " a", "a ", "a\x00b", "a\nb", "n" * 256, "", "/", "\\"]
)
def test_a_file_name_with_a_path_separator_control_or_outer_space_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        valid(FileName, value)


@pytest.mark.parametrize("value", [".", ".."])
def test_a_file_name_is_not_dot_or_dot_dot(value: str) -> None:
    assert refusal(FileName, value) == "Value error, must name a file, not `.` or `..`"


def test_free_text_keeps_lines_but_no_nul() -> None:
    assert valid(Text, "line one\nline two\ttab") == "line one\nline two\ttab"
    assert refusal(Text, "grounds\x00") == "Value error, must not contain a NUL character"
    assert refusal(Text, "") == "String should have at least 1 character"
    assert valid(Text, "t" * 20_000) == "t" * 20_000
    assert refusal(Text, "t" * 20_001) == "String should have at most 20000 characters"


def test_a_digest_is_given_bare_or_prefixed_and_kept_bare_in_lower_case() -> None:
    assert valid(Sha256, HEX) == HEX
    assert valid(Sha256, "sha256:" + HEX) == HEX
    assert valid(Sha256, " sha256:" + HEX.upper() + " ") == HEX
    assert valid(Sha256, HEX.upper()) == HEX


@pytest.mark.parametrize("value", [HEX[:63], HEX + "0", "g" * 64, "sha512:" + HEX, 7])
def test_anything_else_is_not_a_digest(value: Any) -> None:
    with pytest.raises(ValidationError):
        valid(Sha256, value)


def test_bare_digest_leaves_what_is_not_a_string() -> None:
    assert bare_digest(None) is None
    assert bare_digest(12) == 12
    assert bare_digest(" sha256:AB ") == "ab"
    assert bare_digest("SHA256:AB") == "ab"  # the prefix in any case, as hex is
    assert bare_digest("ab:sha256:cd") == "ab:sha256:cd"


def test_a_country_is_two_capital_letters() -> None:
    assert valid(Country, "GB") == "GB"
    for value in ("gb", "GBR", "G", "G1"):
        with pytest.raises(ValidationError):
            valid(Country, value)


def test_a_limit_fits_a_double_exactly() -> None:
    assert MAX_SAFE_INTEGER == 9_007_199_254_740_991
    assert float(MAX_SAFE_INTEGER) == MAX_SAFE_INTEGER


def test_every_pattern_is_explained_in_words() -> None:
    assert set(PATTERN_RULES) == {NAME_PATTERN, MODEL_NAME_PATTERN, FILE_NAME_PATTERN}
    assert "control characters" in PATTERN_RULES[NAME_PATTERN]
    assert "`._:/-`" in PATTERN_RULES[MODEL_NAME_PATTERN]
    assert "no `/` or `\\`" in PATTERN_RULES[FILE_NAME_PATTERN]
