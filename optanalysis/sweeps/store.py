"""Results that last: one Parquet file per chunk under DIR plus ``manifest.json``.

The manifest holds the canonical spec, its hash, the package versions and, per chunk, its file,
the file's sha256, its point count, its status ("done" or "failed") and the error of a failed
chunk.  Every file is written atomically (:mod:`optanalysis.io`).  Rerunning the same sweep into
the same DIR resumes: a chunk whose file matches its recorded sha256 is skipped, a missing or
corrupted one is recomputed; a DIR holding another spec is refused before anything is written.

The manifest is rewritten at most once a second while chunks finish (a sweep of thousands of
chunks would otherwise rewrite it thousands of times) and always at the end, also when the run is
interrupted by an exception; after a hard kill the chunks of the last second are recomputed.
"""
from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..io import atomic_write
from . import compute as _compute
from .grid import chunk, n_chunks
from .spec import Sweep

__all__ = ["SweepRun", "run_sweep", "load_sweep", "check_out", "MANIFEST"]

MANIFEST = "manifest.json"
FORMAT = 2  # the chunks' columns; bumped when they change (2: rate_indicator), so no resume mixes them
_SAVE_EVERY = 1.0  # seconds between manifest rewrites during a run


@dataclass(frozen=True)
class SweepRun:
    """What :func:`run_sweep` did: ``computed``/``skipped`` chunk counts, ``failed`` {chunk: error}."""

    out: Path
    hash: str
    n_points: int
    n_chunks: int
    computed: int
    skipped: int
    failed: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def table(self):
        """The results (:func:`load_sweep`)."""
        return load_sweep(self.out)


def _file(index: int) -> str:
    return f"chunk-{index:05d}.parquet"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    if not path.exists():
        return None
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"out: {path} is not a readable sweep manifest ({exc})") from None
    if not isinstance(m, dict) or "hash" not in m or "chunks" not in m:
        raise ValueError(f"out: {path} is not a sweep manifest")
    return m


def check_out(sweep: Sweep, out) -> dict | None:
    """The manifest of ``out`` if it is a sweep of this spec (None if ``out`` is new or empty);
    ``ValueError`` if ``out`` holds something else.  Writes nothing."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {out} exists and is not a directory")
    if not out.exists() or not any(out.iterdir()):
        return None
    m = _read_manifest(out)
    if m is None:
        raise ValueError(f"out: {out} is not empty and holds no {MANIFEST}; give an empty or new directory")
    if m.get("format") != FORMAT:
        raise ValueError(f"out: {out} holds chunks of sweep format {m.get('format')} (this version writes "
                         f"{FORMAT}, with other columns); give another --out or remove it")
    if m["hash"] != sweep.hash:
        raise ValueError(f"out: {out} holds a sweep of another spec (hash {m['hash'][:12]}, this spec "
                         f"{sweep.hash[:12]}); give another --out or remove it")
    return m


def _versions() -> dict:
    from ..comparison import provenance

    prov = provenance()
    prov.pop("parameters", None)
    from importlib.metadata import PackageNotFoundError, version

    for name in ("pyarrow", "pandas", "dask", "distributed"):
        try:
            prov[name] = version(name)
        except PackageNotFoundError:
            prov[name] = None
    return prov


def _to_table(cols: dict):
    import numpy as np
    import pyarrow as pa

    arrays, names = [], []
    for name, v in cols.items():
        if v.ndim == 2:  # the recorded loss: one fixed-size list per point
            arr = pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1), pa.float64()), v.shape[1])
        elif v.dtype == object:
            arr = pa.array([str(x) for x in v], pa.string())
        else:
            arr = pa.array(np.ascontiguousarray(v))
        arrays.append(arr)
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def _write_chunk(out: Path, index: int, cols: dict) -> str:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(_to_table(cols), buf, compression="zstd")
    data = buf.getvalue()
    atomic_write(out / _file(index), data)
    return hashlib.sha256(data).hexdigest()


def _fallback_map(fn, args_list):
    """In-process execution when no executor is given: (i, result | exception) in order, one
    retry of a chunk that raised (as the executors of :mod:`optanalysis.sweeps.execute` do)."""
    for i, args in enumerate(args_list):
        try:
            result = fn(*args)
        except Exception:
            try:
                result = fn(*args)
            except Exception as exc:
                result = exc
        yield i, result


def _default_executor():
    try:
        from .execute import InProcess
    except ImportError:
        return None
    return InProcess()


class _Progress:
    """One line on ``stream``: chunks done/total, points per second, time left (\\r-updated on a
    terminal, a line every few seconds otherwise)."""

    def __init__(self, stream, total_chunks: int, total_points: int, done_chunks: int, done_points: int):
        self.stream, self.total, self.total_points = stream, total_chunks, total_points
        self.done, self.points, self.start_points = done_chunks, done_points, done_points
        self.t0 = self.last = time.monotonic()
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def line(self) -> str:
        dt = max(time.monotonic() - self.t0, 1e-9)
        rate = (self.points - self.start_points) / dt
        left = (self.total_points - self.points) / rate if rate > 0 else float("nan")
        eta = "?" if left != left else time.strftime("%H:%M:%S", time.gmtime(left))
        return f"sweep: {self.done}/{self.total} chunks, {rate:.0f} points/s, {eta} left"

    def update(self, points: int, force: bool = False) -> None:
        self.done += 1
        self.points += points
        now = time.monotonic()
        if force or self.tty or now - self.last >= 5.0 or self.done == self.total:
            self.last = now
            self.stream.write(("\r" if self.tty else "") + self.line() + ("" if self.tty else "\n"))
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def run_sweep(sweep: Sweep, out, *, executor=None, progress=True, stream=None, yes=False) -> SweepRun:
    """Run ``sweep`` into directory ``out`` (resuming what a previous run of the same spec left).

    ``executor``: an object with ``map(fn, args_list)`` yielding (i, result | exception) in
    completion order (:mod:`optanalysis.sweeps.execute`); default: in-process.  A chunk whose
    computation raised (twice: the executor retries once) is recorded with its error and the
    others finish.  ``progress`` writes a progress line to ``stream`` (default stderr).
    """
    if not isinstance(sweep, Sweep):
        raise TypeError(f"sweep must be a Sweep (see load_spec/parse_spec), got {type(sweep).__name__}")
    check_size(sweep, yes)
    out = Path(out)
    old = check_out(sweep, out)  # refuses before anything is written
    total = n_chunks(sweep)
    spec = sweep.to_dict()
    entries = {} if old is None else {int(k): v for k, v in old["chunks"].items()}
    todo, skipped = [], 0
    for i in range(total):
        e = entries.get(i)
        path = out / _file(i)
        if e is not None and e.get("status") == "done" and path.exists() and _sha256(path) == e.get("sha256"):
            skipped += 1
        else:
            entries.pop(i, None)  # missing, corrupted or failed before: computed again
            todo.append(i)
    manifest = {"format": FORMAT, "hash": sweep.hash, "spec": spec, "versions": _versions(),
                "n_points": sweep.n_points, "n_chunks": total, "chunks": entries}
    out.mkdir(parents=True, exist_ok=True)

    def save():
        manifest["chunks"] = {str(k): entries[k] for k in sorted(entries)}
        atomic_write(out / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, allow_nan=False) + "\n")

    save()
    stream = sys.stderr if stream is None else stream
    done_points = sum(e["points"] for e in entries.values())
    bar = _Progress(stream, total, sweep.n_points, skipped, done_points) if progress else None
    own = executor is None
    if own:
        executor = _default_executor()
    mapper = _fallback_map if executor is None else executor.map
    t0 = time.monotonic()
    failed, computed, last_save = {}, 0, time.monotonic()
    try:
        for j, result in mapper(_compute.run_chunk, [(spec, i) for i in todo]):
            i = todo[j]
            c_points = chunk(sweep, i).points
            if isinstance(result, BaseException):
                msg = f"{type(result).__name__}: {str(result).splitlines()[0] if str(result) else ''}".rstrip(": ")
                entries[i] = {"file": None, "sha256": None, "points": c_points, "status": "failed", "error": msg}
                failed[i] = msg
            else:
                sha = _write_chunk(out, i, result)
                entries[i] = {"file": _file(i), "sha256": sha, "points": c_points, "status": "done", "error": None}
                computed += 1
            if bar is not None:
                bar.update(c_points if i not in failed else 0)
            if time.monotonic() - last_save >= _SAVE_EVERY:
                save()
                last_save = time.monotonic()
    finally:
        save()  # also on Ctrl-C: every chunk written so far stays readable
        if bar is not None:
            bar.close()
        if own and executor is not None and hasattr(executor, "close"):
            executor.close()
    return SweepRun(out, sweep.hash, sweep.n_points, total, computed, skipped, failed, time.monotonic() - t0)


def check_size(sweep: Sweep, yes: bool) -> None:
    """``ValueError`` for a grid over MAX_POINTS points unless ``yes``."""
    from .spec import MAX_POINTS

    if sweep.n_points > MAX_POINTS and not yes:
        raise ValueError(f"the grid has {sweep.n_points:.3g} points (> {MAX_POINTS:.0e}); "
                         f"confirm with yes=True (--yes) if this is intended")


def load_sweep(out):
    """The finished points of the sweep in ``out`` as a pandas DataFrame ordered by point.

    ``DataFrame.attrs``: ``hash``, ``spec``, ``n_points``, ``failed`` {chunk: error} and
    ``missing`` (chunks not finished, or whose file no longer matches its checksum).
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    m = _read_manifest(out)
    if m is None:
        raise ValueError(f"out: {out} holds no sweep ({MANIFEST} not found)")
    tables, failed, missing = [], {}, []
    for i in range(m["n_chunks"]):
        e = m["chunks"].get(str(i))
        if e is None:
            missing.append(i)
        elif e["status"] == "failed":
            failed[i] = e["error"]
        else:
            path = out / e["file"]
            data = path.read_bytes() if path.exists() else b""
            if hashlib.sha256(data).hexdigest() != e["sha256"]:
                missing.append(i)  # corrupted since: a rerun recomputes it
                continue
            tables.append(pq.read_table(pa.BufferReader(data)))
    if tables:
        df = pa.concat_tables(tables).to_pandas()
        df = df.sort_values("point", kind="stable").reset_index(drop=True)
    else:
        df = pd.DataFrame({"point": pd.Series([], dtype="int64")})
    df.attrs.update({"hash": m["hash"], "spec": m["spec"], "n_points": m["n_points"], "failed": failed,
                     "missing": missing})
    return df
