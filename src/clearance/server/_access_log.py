"""The access log without query strings: a key sent as `?api_key=` must not reach the log.

The register takes keys only in the Authorization header, but a client may still put one in a
URL; uvicorn's access log writes the whole path with its query. This filter cuts each logged
path at `?`, so no query string of any request is ever written.
"""

from __future__ import annotations

import copy
import logging
from typing import Any


class DropQueryStrings(logging.Filter):
    """Cut the path in uvicorn's access-log records at `?`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with query strings dropped from the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query"] = {"()": DropQueryStrings}
    config["handlers"]["access"]["filters"] = ["no_query"]
    return config
