"""A monitor: follows a register's log over HTTP, verifies it never rewrites history, and
reports every new statement (in words or as JSON lines), resuming from a state file."""

from clearance.monitor._describe import Observed
from clearance.monitor._follow import Fetch, Filters, Monitor, MonitorFailure
from clearance.monitor._state import STATE_FORMAT, MonitorState

__all__ = [
    "STATE_FORMAT",
    "Fetch",
    "Filters",
    "Monitor",
    "MonitorFailure",
    "MonitorState",
    "Observed",
]
