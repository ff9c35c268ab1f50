"""Argument checks shared by the public functions: one rule and one message for integer arguments."""
from __future__ import annotations

import numbers

__all__ = ["integer", "INT64_MAX"]

INT64_MAX = 2**63 - 1


def integer(value, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an ``int``, checked to be an integer (not a bool) in ``[low, high]``.

    Parameters
    ----------
    value
        The argument (Python or NumPy integer).
    name : str
        Its name, for the message.
    low : int
        Smallest valid value.
    high : int, optional
        Largest valid value (if None: 2**63 - 1, as counts and sizes go into int64 arrays).

    Raises
    ------
    TypeError
        If ``value`` is not an integer: "<name> must be an integer >= low" (or "in [low, high]").
    ValueError
        If it is out of range (same message).
    """
    bound = f">= {low}" if high is None else f"in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer {bound}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    if high is None and value > INT64_MAX:  # counts and sizes end up in int64 arrays
        raise ValueError(f"{name} must be an integer {bound} and <= 2**63 - 1, got {value!r}")
    return int(value)
