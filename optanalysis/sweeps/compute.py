"""One chunk's results: a pure function of the canonical spec and the chunk index.

``run_chunk(sweep_dict, index)`` rebuilds the sweep from its JSON-able dict, takes chunk ``index``
and runs it with one ``simulate_batch`` call, so it can be shipped to any process or machine and
gives the same columns and values there (``simulate_batch`` is bit-identical whatever the thread
count and the batch composition).
"""
from __future__ import annotations

import json
import math
from collections import OrderedDict
from threading import Lock

import numpy as np

from .grid import chunk
from .spec import parse_spec

__all__ = ["run_chunk", "hyper_columns"]

_CACHE: OrderedDict = OrderedDict()  # canonical JSON -> Sweep: a worker validates a spec once
_LOCK = Lock()


def _sweep(sweep_dict: dict):
    key = json.dumps(sweep_dict, sort_keys=True, separators=(",", ":"))
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    sweep = parse_spec(sweep_dict)
    with _LOCK:
        _CACHE[key] = sweep
        while len(_CACHE) > 4:
            _CACHE.popitem(last=False)
    return sweep


def hyper_columns(sweep) -> list:
    """Names of the hyperparameter columns: every declared hyperparameter of the sweep's rules
    (first appearance order); NaN where a point's rule has no such parameter."""
    from ..rules import get_rule

    names = []
    for r in sweep.rules:
        for n in get_rule(r.name).hyper_names:
            if n not in names:
                names.append(n)
    return names


def run_chunk(sweep_dict: dict, index: int) -> dict:
    """Columns (equal-length NumPy arrays, ``loss`` 2-D) of chunk ``index`` of the sweep
    ``sweep_dict`` (:meth:`Sweep.to_dict`)."""
    from ..rules import get_rule
    from ..simulation import simulate_batch

    sweep = _sweep(sweep_dict)
    c = chunk(sweep, index)
    rule = get_rule(c.rule)
    arrays = c.problem.arrays()
    noise = None if c.noise == "none" else c.noise
    schedule = None if c.schedule == "constant" else c.schedule
    want = set(sweep.quantities)
    # the recorded loss is only kept when asked for (final_loss is the loss at step `steps` either way)
    record_every = sweep.record_every if want & {"loss", "rate", "records"} else sweep.steps
    res = simulate_batch(rule, c.params, seeds=list(c.seeds), steps=sweep.steps, schedule=schedule, noise=noise,
                         batch=c.batch, record_every=record_every, **arrays)
    P, S = len(c.params), len(c.seeds)
    n = P * S
    cols = {"point": np.arange(c.first, c.first + n, dtype=np.int64),
            "chunk": np.full(n, c.index, np.int64),
            "rule": np.full(n, c.rule, dtype=object), "schedule": np.full(n, c.schedule, dtype=object),
            "problem": np.full(n, c.problem.name, dtype=object), "noise": np.full(n, c.noise, dtype=object),
            "batch": np.full(n, c.batch, np.int64),
            "seed": np.tile(np.array(c.seeds, np.int64), P)}
    table = rule.params_table(c.params)  # validated values with defaults, flags 0.0/1.0
    for name in hyper_columns(sweep):
        col = np.full(n, np.nan)
        if name in rule.hyper_names:
            col[:] = np.repeat(table[:, rule.hyper_names.index(name)], S)
        cols[f"hp.{name}"] = col
    loss = res.loss.reshape(n, -1)
    div = res.diverged_at.reshape(n)
    for q in sweep.quantities:
        if q == "final_loss":
            cols[q] = loss[:, -1].copy()
        elif q == "loss":
            cols[q] = loss.copy()
        elif q == "diverged_at":
            cols[q] = div.astype(np.int64)
        elif q == "rate":
            cols["rate"], cols["rate_indicator"], cols["rate_refused"] = _rates(loss, div, record_every,
                                                                                 sweep.rate_floor)
        elif q == "predicted_final_loss":
            pred, why = zip(*(_predicted(rule, prm, arrays, sweep.steps, schedule, noise, c.batch)
                              for prm in c.params))
            cols[q] = np.repeat(np.array(pred, np.float64), S)
            cols["predicted_refused"] = np.repeat(np.array(why, dtype=object), S)
        elif q == "records":
            recs, why = zip(*(_records(rule, prm, arrays, sweep.steps, schedule, noise, record_every)
                              for prm in c.params))
            cols[q] = np.repeat(np.array(recs, dtype=object), S)
            cols["records_refused"] = np.repeat(np.array(why, dtype=object), S)
    return cols


def _rates(loss: np.ndarray, div: np.ndarray, record_every: int, floor=None) -> tuple:
    from ..rates import FLOOR, fit_rate

    floor = FLOOR if floor is None else floor
    rate, indicator = np.full(loss.shape[0], np.nan), np.full(loss.shape[0], np.nan)
    why = np.full(loss.shape[0], "", dtype=object)
    for i in range(loss.shape[0]):
        fit = fit_rate(loss[i], record_every=record_every, floor=floor,
                       diverged_at=None if div[i] < 0 else int(div[i]))
        if fit.ok:  # the indicator (RateFit.stderr) lets a reader refuse fits it cannot trust
            rate[i], indicator[i] = fit.rate, fit.stderr
        else:
            why[i] = fit.reason
    return rate, indicator, why


def _predicted(rule, prm, arrays, steps, schedule, noise, batch) -> tuple:
    """(exact final loss or expected final loss, "") for a linear rule; (NaN, reason) otherwise."""
    if not rule.linear:
        return math.nan, f"{rule.name} is adaptive: no exact prediction"
    from ..theory.prediction import MAX_STEPS

    if steps > MAX_STEPS:
        return math.nan, f"steps > {MAX_STEPS}: beyond the prediction's range"
    try:
        if noise is None:
            from ..theory.prediction import predict

            out = predict(rule, prm, steps=steps, schedule=schedule, record_every=steps, **arrays)
        else:
            from ..theory.noisy import expected_loss

            out = expected_loss(rule, prm, steps=steps, schedule=schedule, noise=noise, batch=batch,
                                record_every=steps, **arrays)
    except ValueError as exc:  # e.g. a closed-loop schedule under noise: not predictable
        return math.nan, str(exc).splitlines()[0]
    return float(out.loss[-1]), ""


def _records(rule, prm, arrays, steps, schedule, noise, record_every) -> tuple:
    """(compare's records as JSON, "") for a linear rule without noise; ("", reason) otherwise."""
    if not rule.linear:
        return "", f"{rule.name} is adaptive: no exact prediction to compare"
    if noise is not None:
        return "", "records under noise need a Monte Carlo; not computed in a sweep"
    from dataclasses import asdict

    from ..comparison import compare
    from ..io import finite_or_null

    try:
        recs = compare(rule, prm, steps=steps, schedule=schedule, record_every=record_every, **arrays)
    except ValueError as exc:
        return "", str(exc).splitlines()[0]
    rows = [finite_or_null(asdict(r)) for r in recs]
    return json.dumps(rows, sort_keys=True, allow_nan=False), ""
