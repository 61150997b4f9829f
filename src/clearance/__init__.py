"""clearance: published release criteria, a register of decisions, and an enforcing gateway."""

from clearance.errors import ClearanceError

__all__ = ["ClearanceError", "__version__"]

__version__ = "0.1.0.dev0"
