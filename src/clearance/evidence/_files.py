"""Reading an evidence file once: its bytes, their SHA-256, and JSON that says where it is wrong."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from clearance.errors import EvidenceRefused

_DETAIL_LIMIT = 200


@dataclass(frozen=True)
class EvidenceFile:
    """The bytes of one evidence file as read, named by their SHA-256."""

    path: Path
    data: bytes
    digest: str

    @property
    def name(self) -> str:
        """The file name, as evidence is listed to people."""
        return self.path.name

    def refuse(self, problem: str) -> EvidenceRefused:
        """The one error for this file: its path, then what is wrong with it."""
        return EvidenceRefused(f"{self.path}: {problem}")

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> EvidenceFile:
        """Bytes that arrived without a file (an upload): messages name them by `name` alone."""
        return cls(path=Path(Path(name).name), data=data, digest=hashlib.sha256(data).hexdigest())


def read_file(path: Path) -> EvidenceFile:
    """Read a file whole, so the digest names exactly the bytes that are parsed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise EvidenceRefused(f"{path}: no such file") from None
    except IsADirectoryError:
        raise EvidenceRefused(f"{path}: is a directory, not an evidence file") from None
    except PermissionError:
        raise EvidenceRefused(f"{path}: permission denied") from None
    except OSError as error:
        raise EvidenceRefused(f"{path}: cannot be read ({error.strerror or error})") from None
    return EvidenceFile(path=path, data=data, digest=hashlib.sha256(data).hexdigest())


def parse_json(file: EvidenceFile, *, unique_keys: bool = True) -> Any:
    """Parse JSON; with `unique_keys`, refuse a repeated key, as which value counts is a guess."""
    try:
        return json.loads(file.data, object_pairs_hook=_unique_keys if unique_keys else None)
    except _DuplicateKey as error:
        raise file.refuse(f"is ambiguous JSON: the key {error.key!r} appears twice") from None
    except UnicodeDecodeError:
        raise file.refuse("is not JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise file.refuse(
            f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except RecursionError:
        raise file.refuse(
            "is JSON nested deeper than the parser's limit (about 1,000 levels)"
        ) from None


def validate(file: EvidenceFile, document: Any, schema: str) -> None:
    """Check a document against our JSON Schema `schema` (findings, safeguards); name the field."""
    expected = f"clearance/{schema}/v1"
    found = document.get("schema") if isinstance(document, dict) else None
    if isinstance(found, str) and found != expected:
        raise file.refuse(f"is a {found} file, not {expected}")
    error = best_match(_validator(schema).iter_errors(document))
    if error is not None:
        detail = error.message
        if len(detail) > _DETAIL_LIMIT:
            detail = detail[: _DETAIL_LIMIT - 3] + "..."
        raise file.refuse(f"does not follow the {schema} schema: at {error.json_path}: {detail}")


def refuse_repeated_ids(file: EvidenceFile, ids: list[str], where: str) -> None:
    """Refuse a list whose items repeat an id: citations of that id would be ambiguous."""
    seen: set[str] = set()
    for index, id_ in enumerate(ids):
        if id_ in seen:
            raise file.refuse(f"at {where}[{index}].id: the id {id_!r} is used twice")
        seen.add(id_)


@cache
def _validator(schema: str) -> Draft202012Validator:
    text = files("clearance.schemas").joinpath(f"{schema}.schema.json").read_text("utf-8")
    return Draft202012Validator(json.loads(text))


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result
