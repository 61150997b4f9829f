"""The rules for values that arrive from outside and are kept: one definition of each.

The REST API's request bodies and the register's records both use these types, so the API can
never accept what the store refuses (a 422 at the edge, not a 500 at the insert). The patterns
also go into the OpenAPI description as they are.

No value kept here holds a control character (NUL, CR, LF, tab, DEL, the C1 range): a NUL is
refused by PostgreSQL, and CR or LF would break the headers and log lines these values end up in.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

_CONTROL = r"\x00-\x1f\x7f-\x9f"

NAME_PATTERN = rf"^[^\s{_CONTROL}](?:[^{_CONTROL}]*[^\s{_CONTROL}])?$"
"""Printable, neither starting nor ending with white space."""

MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
"""What a gateway caller writes as `model`: starts with a letter or digit, no spaces."""

FILE_NAME_PATTERN = rf"^[^/\\\s{_CONTROL}](?:[^/\\{_CONTROL}]*[^/\\\s{_CONTROL}])?$"
"""One path component: no slash or backslash, printable, no outer space (and not `.` or `..`)."""


PATTERN_RULES = {
    NAME_PATTERN: "must be printable (no control characters such as NUL, CR or LF) and must "
    "not start or end with white space",
    MODEL_NAME_PATTERN: "must start with a letter or digit and hold only letters, digits and "
    "`._:/-`",
    FILE_NAME_PATTERN: "must be one file name: no `/` or `\\`, no control characters, no "
    "leading or trailing white space",
}
"""What each pattern asks, in words, for error messages."""


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _not_dots(value: str) -> str:
    if value in (".", ".."):
        raise ValueError("must name a file, not `.` or `..`")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN)]
"""A name people read: an organization's, a principal's, a version."""

ModelName = Annotated[str, Field(min_length=1, max_length=128, pattern=MODEL_NAME_PATTERN)]
"""A model's name as gateway callers write it; unique in the register."""

FileName = Annotated[
    str,
    Field(min_length=1, max_length=255, pattern=FILE_NAME_PATTERN),
    AfterValidator(_not_dots),
]
"""An evidence file's name: one path component, shown in `Content-Disposition`."""

Text = Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(_no_nul)]
"""Reasons, grounds, questions: free text, bounded."""

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer a limit may hold: it goes into the snapshot's canonical JSON (RFC 8785),
which holds no integer a double cannot."""


def bare_digest(value: Any) -> Any:
    """A SHA-256 digest as hex: `sha256:<hex>` (as pages show it) and bare hex both accepted."""
    if isinstance(value, str):
        return value.strip().lower().removeprefix("sha256:")
    return value


Sha256 = Annotated[
    str,
    BeforeValidator(bare_digest),
    Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 as hex, or `sha256:<hex>`."),
]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
