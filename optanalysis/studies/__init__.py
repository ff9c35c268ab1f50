"""The studies: one file per claim, and the runner that writes their figures, data and verdicts."""
from ._runner import *  # noqa: F401,F403
from ._runner import __all__  # noqa: F401
