"""Real training logs: read the JSON logs of Schaipp et al. (2025), pack the fields the studies need into one
compressed archive, and load it back.

The archive shipped with the package, ``optanalysis/data/lr_scheduling_124m/runs.npz`` (provenance and
license beside it), holds per run the logged training steps with their lr and training loss, and the
validation steps with their validation loss (float64, as logged).  :func:`load_runs` reads it;
:func:`read_log` reads one original JSON log (clear errors for a missing field); :func:`build_archive`
makes the archive from a directory of logs.

Resumed runs: a run restarted from a checkpoint logs a stretch of steps twice.  The *last* record of each
step is kept (the resumed run's, whose model the rest of the run continues from).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import atomic_path

__all__ = ["Run", "read_log", "build_archive", "load_runs", "ARCHIVE"]

ARCHIVE = Path(__file__).resolve().parent / "lr_scheduling_124m" / "runs.npz"
_NAME = re.compile(r"^(?P<group>[a-z0-9.\-]+?)_slimpajama_.*_lr(?P<lr>[0-9.e\-]+)_sched_(?P<sched>wsd|cos)_")


@dataclass(frozen=True)
class Run:
    """One training run.

    Attributes
    ----------
    name : str
        The log's file name without ``.json``.
    base_lr : float
        AdamW's peak lr (``config.lr``).
    scheduler : str
        ``"wsd"`` (constant when ``cooldown_fraction`` is 0) or ``"cos"``.
    shape : str
        Cooldown shape ``"linear"`` or ``"sqrt"`` (wsd); ``"cos"`` for cosine runs.
    cooldown_fraction : float
        Share of the steps in the cooldown (wsd), 0 for constant and cosine runs.
    final_factor : float
        Final lr over the base lr: 0 (wsd, cos-zero), 0.1 (cos-10).
    total_steps, warmup_steps : int
        ``config.iterations``, ``config.warmup_steps``.
    train_step, train_lr, train_loss : numpy.ndarray
        Logged training steps (increasing, one record each), the lr logged there, the training loss.
    val_step, val_loss : numpy.ndarray
        Validation steps (increasing) and validation loss.
    """

    name: str
    base_lr: float
    scheduler: str
    shape: str
    cooldown_fraction: float
    final_factor: float
    total_steps: int
    warmup_steps: int
    train_step: np.ndarray
    train_lr: np.ndarray
    train_loss: np.ndarray
    val_step: np.ndarray
    val_loss: np.ndarray

    @property
    def kind(self) -> str:
        """``"constant"``, ``"wsd"`` or ``"cosine"``."""
        if self.scheduler == "cos":
            return "cosine"
        return "wsd" if self.cooldown_fraction > 0 else "constant"


_ARRAYS = ("train_step", "train_lr", "train_loss", "val_step", "val_loss")


def _field(tree, path: str, where: str):
    node = tree
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            raise ValueError(f"{where}: missing field {path!r}")
        node = node[key]
    return node


def _dedupe(steps, *columns, where: str):
    """Keep the last record of each step, in increasing step order."""
    steps = np.asarray(steps, dtype=np.int64)
    cols = [np.asarray(c, dtype=np.float64) for c in columns]
    if any(c.shape != steps.shape for c in cols):
        raise ValueError(f"{where}: the logged fields have different lengths")
    last = {int(s): i for i, s in enumerate(steps)}  # later records overwrite earlier ones
    keep = np.array([last[s] for s in sorted(last)], dtype=np.int64)
    return (steps[keep], *(c[keep] for c in cols))


def read_log(path) -> Run:
    """One JSON training log of ``fabian-sp/lr-scheduling`` as a :class:`Run`.

    Parameters
    ----------
    path : str or path-like
        The ``.json`` log.

    Returns
    -------
    Run

    Raises
    ------
    ValueError
        The file is not JSON, or a field is missing (named, e.g. ``history.train.train_loss``), or the
        logged fields have different lengths.
    """
    path = Path(path)
    where = f"log {path.name}"
    try:
        tree = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    cfg = {k: _field(tree, f"config.{k}", where) for k in ("lr", "scheduler", "iterations", "warmup_steps",
                                                          "wsd_fract_decay", "decay_type")}
    train = [_field(tree, f"history.train.{k}", where) for k in ("iter", "train_lr", "train_loss")]
    val = [_field(tree, f"history.val.{k}", where) for k in ("iter", "val_loss")]
    ts, tl, tloss = _dedupe(*train, where=where)
    vs, vloss = _dedupe(*val, where=where)
    sched = str(cfg["scheduler"])
    if sched == "cos":
        shape, fraction = "cos", 0.0
        final = 0.1 if path.name.startswith("cos-10") else 0.0  # the group name says the floor
    else:
        shape, fraction, final = str(cfg["decay_type"]), float(cfg["wsd_fract_decay"]), 0.0
    return Run(path.stem, float(cfg["lr"]), sched, shape, fraction, final, int(cfg["iterations"]),
               int(cfg["warmup_steps"]), ts, tl, tloss, vs, vloss)


def build_archive(source, dest=ARCHIVE) -> int:
    """Pack every ``*.json`` log of directory ``source`` into the compressed archive ``dest``.

    Parameters
    ----------
    source : str or path-like
        Directory of JSON logs.
    dest : str or path-like
        The ``.npz`` written (atomically).

    Returns
    -------
    int
        Number of runs packed.

    Raises
    ------
    ValueError
        A log with a missing field (see :func:`read_log`), or no log in ``source``.
    """
    files = sorted(Path(source).glob("*.json"))
    if not files:
        raise ValueError(f"source: no *.json log in {source}")
    arrays, meta = {}, []
    for i, f in enumerate(files):
        run = read_log(f)
        meta.append({k: getattr(run, k) for k in ("name", "base_lr", "scheduler", "shape", "cooldown_fraction",
                                                  "final_factor", "total_steps", "warmup_steps")})
        for key in _ARRAYS:
            arrays[f"{i}.{key}"] = getattr(run, key)
    arrays["meta"] = np.array(json.dumps(meta))
    with atomic_path(Path(dest)) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return len(files)


def load_runs(path=ARCHIVE) -> list:
    """The runs of an archive made by :func:`build_archive` (by default the shipped one).

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` archive.

    Returns
    -------
    list of Run
        In file-name order.

    Raises
    ------
    ValueError
        The archive lacks a field.
    """
    with np.load(path, allow_pickle=False) as z:
        if "meta" not in z.files:
            raise ValueError(f"archive {path}: missing field 'meta'")
        runs = []
        for i, m in enumerate(json.loads(str(z["meta"]))):
            missing = [k for k in _ARRAYS if f"{i}.{k}" not in z.files]
            if missing:
                raise ValueError(f"archive {path}: run {m.get('name')} lacks field {missing[0]!r}")
            runs.append(Run(**m, **{k: z[f"{i}.{k}"] for k in _ARRAYS}))
    return runs
