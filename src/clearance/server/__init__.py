"""Running the register: the data folder, and the one-process server."""

from clearance.server._app import app_for, build_app, run_clock
from clearance.server._datadir import (
    ADMIN_KEY,
    AUTHORITY_KEY,
    AUTHORITY_VKEY,
    DataDir,
    init_data_dir,
    open_data_dir,
)

__all__ = [
    "ADMIN_KEY",
    "AUTHORITY_KEY",
    "AUTHORITY_VKEY",
    "DataDir",
    "app_for",
    "build_app",
    "init_data_dir",
    "open_data_dir",
    "run_clock",
]
