"""Running the register: the data folder, and the one-process server."""

from clearance.server._app import app_for, build_app, run_clock
from clearance.server._datadir import (
    ADMIN_KEY,
    AUTHORITY_KEY,
    AUTHORITY_VKEY,
    EXAMPLE_FRAMEWORK,
    DataDir,
    WitnessConfig,
    init_data_dir,
    open_data_dir,
)
from clearance.server._keys import Rotation, rotate_authority_key
from clearance.server._log_routes import entry_index, find_log, log_router, make_bundle

__all__ = [
    "ADMIN_KEY",
    "AUTHORITY_KEY",
    "AUTHORITY_VKEY",
    "EXAMPLE_FRAMEWORK",
    "DataDir",
    "Rotation",
    "WitnessConfig",
    "app_for",
    "build_app",
    "entry_index",
    "find_log",
    "init_data_dir",
    "log_router",
    "make_bundle",
    "open_data_dir",
    "rotate_authority_key",
    "run_clock",
]
