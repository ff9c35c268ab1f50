"""Notebook display: the one HTML table helper behind every ``_repr_html_`` of optanalysis.

Results and record lists show themselves in Jupyter as a table; this module only formats (no
NumPy, SymPy or matplotlib import), so that a result can be shown without loading anything heavy.
"""
from __future__ import annotations

import html
import math
import numbers

__all__ = ["html_table", "cell", "fields_table"]

_MAX_ROWS = 60  # longer tables show their head and tail: a notebook cell is not a data viewer


def cell(value) -> str:
    """One value as table text: floats with 6 significant digits, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        v = float(value)
        return f"{v:.6g}" if math.isfinite(v) else str(v)
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    return str(value)


def html_table(rows, columns, caption: str | None = None) -> str:
    """An HTML ``<table>`` of ``rows`` (sequences of values, one per column), escaped.

    Parameters
    ----------
    rows : iterable of sequences
        One sequence of cell values per row, in the order of ``columns``.
    columns : sequence of str
        Header names.
    caption : str, optional
        A line above the table.
    """
    rows = [list(r) for r in rows]
    if len(rows) > _MAX_ROWS:
        half = _MAX_ROWS // 2
        rows = rows[:half] + [["…"] * len(columns)] + rows[-half:]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(v))}</td>" for v in r) + "</tr>"
                   for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary(value) -> str:
    """Arrays (anything with ``shape`` and ``ravel``) as their shape and end values, not in full."""
    shape = getattr(value, "shape", None)
    if shape is None or not hasattr(value, "ravel") or len(shape) == 0:
        return cell(value.item() if hasattr(value, "item") and shape == () else value)
    flat = value.ravel()
    if flat.size <= 4:
        return "[" + ", ".join(cell(v) for v in flat.tolist()) + "]"
    return f"array{tuple(shape)}: {cell(flat[0].item())} … {cell(flat[-1].item())}"


def fields_table(obj, caption: str, names) -> str:
    """A two-column table (field, value) of ``obj``'s attributes ``names``; arrays summarised."""
    rows = [(n, _summary(getattr(obj, n))) for n in names]
    return html_table(rows, ("field", "value"), caption)
