"""Reading the files the commands are given, with errors that name them."""

from __future__ import annotations

from pathlib import Path

from clearance.errors import InvalidInput
from clearance.framework import Framework, parse_framework


def read_text(path: Path) -> str:
    """The file's text, or an InvalidInput naming the file and why it could not be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read: {exc.strerror}") from None


def read_framework(path: Path) -> Framework:
    """Load and validate a framework file."""
    return parse_framework(read_text(path), str(path))
