"""Prediction next to observation: one :class:`Record` type for studies, the CLI and the tests.

A record says which configuration (rule, schedule, hyperparameters), which quantity, the
predicted and the observed value, the tolerance the two must agree within and the verdict.
:func:`compare` builds them for one configuration: the exact deterministic prediction against a
kernel run, or — with noise — the exact expected loss against a Monte Carlo mean over many seeds
(:func:`monte_carlo`).  :func:`write_records` exports CSV or JSON with provenance (package
versions, seeds, parameters), written atomically.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
from dataclasses import asdict, dataclass

import numpy as np

from .checks import integer
from .io import atomic_write
from .schedules import make_schedule
from .theory.prediction import MAX_STEPS, _require_linear, predict
from .theory.spectrum import spectral_radius
from .rates import NOISE, fit_rate
from .rules import get_rule

__all__ = ["Record", "Records", "FIELDS", "RELATIONS", "PASS", "FAIL", "MonteCarlo", "monte_carlo", "min_seeds", "compare",
           "provenance", "records_to_json", "records_to_csv", "write_records"]

PASS, FAIL = "pass", "fail"
FIELDS = ("rule", "schedule", "hyperparameters", "quantity", "predicted", "observed", "tolerance", "verdict",
          "relation")
# What a record's verdict tests: a two-sided agreement, a one-sided bound (the claim "stays below" is
# not hidden behind a two-sided tolerance), or a study's own stated criterion (lecture claims).
RELATIONS = {"within": "|observed - predicted| <= tolerance",
             "at_most": "observed <= predicted + tolerance",
             "at_least": "observed >= predicted - tolerance",
             "criterion": "the study's stated criterion"}
# Floating-point exactness of the deterministic prediction, relative to the initial loss: both sides
# compute the same product of maps and differ only by rounding (the brief's bar).
EXACT_RTOL = 1e-10


@dataclass(frozen=True)
class Record:
    """One compared quantity; ``verdict`` is ``"pass"`` iff ``relation`` holds (by default
    ``|predicted - observed|`` <= tolerance, see :data:`RELATIONS`), or a refusal reason when the
    quantity could not be observed."""

    rule: str
    schedule: str
    hyperparameters: dict
    quantity: str
    predicted: float
    observed: float
    tolerance: float
    verdict: str
    relation: str = "within"

    def __post_init__(self):
        if self.relation not in RELATIONS:
            raise ValueError(f"relation must be one of {', '.join(RELATIONS)}, got {self.relation!r}")

    def _repr_html_(self) -> str:
        return Records([self])._repr_html_()

    @classmethod
    def judge(cls, rule, schedule, hyperparameters, quantity, predicted, observed, tolerance,
              relation="within") -> "Record":
        """The record with its verdict: ``"pass"`` iff ``relation`` holds between the values.

        A non-finite value passes only a two-sided check equal to it (a predicted divergence
        observed); a NaN never passes a one-sided bound.
        """
        if relation == "within":
            ok = abs(predicted - observed) <= tolerance if math.isfinite(predicted) and math.isfinite(observed) \
                else predicted == observed
        elif relation == "at_most":
            ok = observed <= predicted + tolerance
        elif relation == "at_least":
            ok = observed >= predicted - tolerance
        else:
            raise ValueError(f"relation must be within, at_most or at_least for a judged record, got {relation!r}")
        return cls(rule, schedule, dict(hyperparameters), quantity, float(predicted), float(observed),
                   float(tolerance), PASS if ok else FAIL, relation)


class Records(list):
    """A list of :class:`Record` that shows itself as a table in a notebook."""

    def _repr_html_(self) -> str:
        from .display import html_table

        verdicts = {}
        for r in self:
            verdicts[r.verdict] = verdicts.get(r.verdict, 0) + 1
        caption = f"{len(self)} records: " + ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items()))
        return html_table(([getattr(r, f) for f in FIELDS] for r in self), FIELDS, caption)


def _schedule_name(schedule) -> str:
    if schedule is None:
        return "constant"
    return schedule if isinstance(schedule, str) else getattr(schedule, "spec", repr(schedule))


# ----------------------------------------------------------------------------------------------
# Monte Carlo


def min_seeds(level: float) -> int:
    """Fewest seeds for a two-sided ``level`` interval of a mean: 10/(1 - level), so that each tail
    holds >= 5 expected samples and the normal approximation of the (chi-square-like, skewed)
    loss mean is trustworthy; 1000 seeds for a 99 % interval."""
    return math.ceil(10.0 / (1.0 - level) - 1e-9)


@dataclass(frozen=True)
class MonteCarlo:
    """Monte Carlo mean loss over seeds: ``mean``, ``stderr``, interval ``low``/``high`` at ``level``
    (each (n_rec+1,)), ``seeds`` used, ``diverged`` count of diverged runs."""

    mean: np.ndarray
    stderr: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    seeds: int
    diverged: int

    def _repr_html_(self) -> str:
        from .display import fields_table

        return fields_table(self, f"Monte Carlo mean loss over {self.seeds} seeds ({self.level:g} interval)",
                            ("mean", "stderr", "low", "high", "diverged"))


def monte_carlo(rule, params=None, *, seeds, level=0.99, x0, hessian_diag=None, hessian=None, xstar=None, steps,
                schedule=None, noise, batch=1, record_every=1) -> MonteCarlo:
    """Mean loss of ``rule`` over ``seeds`` noisy kernel runs (``simulate_batch``) with a normal
    ``level`` confidence interval; ``seeds`` is a sequence of seeds or a count (0..count-1).

    Parameters
    ----------
    rule : str or Rule
    seeds : int or sequence of int
        A count (seeds 0..count-1) or distinct seeds; at least 10/(1 - level) of them.
    level : float in [0.5, 1)
        Confidence level of the interval.
    noise : str
        A noise spec (required).
    params, x0, hessian_diag, hessian, xstar, steps, schedule, batch, record_every
        As for :func:`optanalysis.simulate`.

    Returns
    -------
    MonteCarlo

    Raises
    ------
    ValueError
        Too few or repeated seeds, no noise, or a run that diverged (the mean is then infinite).
    """
    from scipy.stats import norm

    from .simulation import simulate_batch

    if not (isinstance(level, float) and 0.5 <= level < 1):
        raise ValueError(f"level must be a float in [0.5, 1), got {level!r}")
    if noise is None:
        raise ValueError("noise: a Monte Carlo mean needs gradient noise (a noise spec)")
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = list(range(integer(seeds, "seeds", 1, 2**24)))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__len__"):
        raise TypeError(f"seeds must be a count or a sequence of seeds, got {seeds!r}")
    need = min_seeds(level)
    if len(seeds) < need:
        raise ValueError(f"seeds: a {level:g} interval needs >= {need} seeds (10/(1 - level)), got {len(seeds)}")
    if len(set(np.asarray(seeds).tolist())) != len(seeds):  # repeated runs would shrink the interval
        raise ValueError("seeds must be distinct")
    res = simulate_batch(rule, [dict(params or {})], seeds=seeds, x0=x0, hessian_diag=hessian_diag, hessian=hessian,
                         xstar=xstar, steps=steps, schedule=schedule, noise=noise, batch=batch,
                         record_every=record_every)
    diverged = int(np.sum(res.diverged_at[0] >= 0))
    if diverged:
        raise ValueError(f"{diverged} of {len(seeds)} Monte Carlo runs diverged; the mean is infinite")
    loss = res.loss[0]
    mean = loss.mean(axis=0)
    se = loss.std(axis=0, ddof=1) / math.sqrt(loss.shape[0])
    z = float(norm.ppf(0.5 + level / 2))
    return MonteCarlo(mean, se, mean - z * se, mean + z * se, level, len(seeds), diverged)


# ----------------------------------------------------------------------------------------------
# Comparison of one configuration


def _checkpoints(n_rec: int, count: int) -> np.ndarray:
    return np.unique(np.linspace(0, n_rec, min(count, n_rec + 1)).round().astype(int))


def compare(rule, params=None, *, x0, hessian_diag=None, hessian=None, xstar=None, steps, schedule=None,
            noise=None, batch=1, seeds=None, level=0.99, record_every=1, checkpoints=10) -> Records:
    """Records comparing theory and kernels for one configuration.

    Without ``noise``: the exact loss at ``checkpoints`` evenly spaced recorded steps (tolerance
    1e-10 x initial loss: floating-point exactness) and, under a constant lr, the asymptotic loss
    rate (the recurrence fit of :func:`optanalysis.rates.fit_rate`) against the squared spectral radius of the
    slowest excited direction.  With ``noise``: the exact expected loss against the Monte Carlo
    mean over ``seeds`` at the checkpoints (tolerance: half-width of the ``level`` interval), plus a
    ``coverage`` record (fraction of checkpoints inside, predicted >= 0.95).

    Parameters
    ----------
    rule : str or Rule
        A linear rule (gd, heavy_ball, sgd_momentum, nesterov).
    params, x0, hessian_diag, hessian, xstar, steps, schedule, noise, batch, record_every
        As for :func:`optanalysis.simulate`.
    seeds : int or sequence of int, optional
        With ``noise``: the Monte Carlo runs (see :func:`monte_carlo`).
    level : float in [0.5, 1)
        Confidence level of the Monte Carlo intervals.
    checkpoints : int >= 1
        How many recorded steps are compared.

    Returns
    -------
    Records
        The judged records (a table in Jupyter); each has a ``verdict``.

    Examples
    --------
    gd with lr = 0.5 on H = diag(1, 0.1): ten exact-loss records, and the loss rate against the
    slowest direction's (1 - lr h)^2 = 0.95^2.

    >>> import optanalysis as oa
    >>> records = oa.compare("gd", {"lr": 0.5}, hessian_diag=[1.0, 0.1], x0=[1.0, 1.0], steps=50)
    >>> len(records), sorted({r.verdict for r in records})
    (11, ['pass'])
    >>> records[-1].quantity, records[-1].predicted
    ('loss_rate[17,50]', 0.9025)
    """
    from .simulation import simulate

    rule = get_rule(rule)
    _require_linear(rule)  # before any (costly) simulation
    prm = rule.params(**(params or {}))
    steps = integer(steps, "steps", 1, MAX_STEPS)
    checkpoints = integer(checkpoints, "checkpoints", 1, 10**6)
    name, hyper = rule.name, dict(prm)
    sched = _schedule_name(schedule)
    problem = dict(x0=x0, hessian_diag=hessian_diag, hessian=hessian, xstar=xstar)
    out = Records()
    if noise is None:
        if seeds is not None:
            raise ValueError("seeds: only used with noise")
        sim = simulate(rule, prm, steps=steps, schedule=schedule, record_every=record_every, **problem)
        closed = schedule is not None and not hasattr(make_schedule(schedule), "lrs")
        pred = predict(rule, prm, steps=steps, record_every=record_every, schedule=None if closed else schedule,
                       lrs=sim.lr if closed else None, **problem)
        tol = EXACT_RTOL * sim.loss[0]
        for i in _checkpoints(sim.loss.size - 1, checkpoints):
            out.append(Record.judge(name, sched, hyper, f"loss@{i * record_every}", pred.loss[i], sim.loss[i], tol))
        if np.all(pred.lr == prm["lr"]):
            out.append(_rate_record(rule, prm, pred, sim, record_every, sched))
        return out
    from .theory.noisy import expected_loss

    if seeds is None:
        raise ValueError(f"seeds: noise needs a Monte Carlo, give >= {min_seeds(level)} seeds")
    mc = monte_carlo(rule, prm, seeds=seeds, level=level, steps=steps, schedule=schedule, noise=noise, batch=batch,
                     record_every=record_every, **problem)
    ex = expected_loss(rule, prm, steps=steps, schedule=schedule, noise=noise, batch=batch,
                       record_every=record_every, **problem)
    inside = []
    for i in _checkpoints(mc.mean.size - 1, checkpoints):
        # half-width of the interval, plus the rounding of a sum of len(seeds) losses (the interval
        # is empty at step 0, where every run has the same deterministic loss)
        tol = mc.high[i] - mc.mean[i] + 1e-12 * abs(ex.loss[i])
        rec = Record.judge(name, sched, hyper, f"mean_loss@{i * record_every}", ex.loss[i], mc.mean[i], tol)
        inside.append(rec.verdict == PASS)
        out.append(rec)
    # nominal coverage `level`; passes iff the observed fraction is >= 0.95 (the brief's bar)
    out.append(Record.judge(name, sched, hyper, f"coverage@{level:g}", level, float(np.mean(inside)), level - 0.95))
    return out


def _rate_record(rule, prm, pred, sim, record_every, sched) -> Record:
    """Observed loss rate (the recurrence fit of :func:`optanalysis.rates.fit_rate` on the kernel
    run) vs rho^2 of the slowest excited direction.  Tolerance 3 stderr + 2 sqrt(NOISE) rate: the
    fit's model-error indicator, plus its worst case at a double root (critical damping), where a
    relative error NOISE of the losses splits the root by ~sqrt(NOISE) (rates module docstring)."""
    fit = fit_rate(sim.loss, record_every=record_every, diverged_at=sim.diverged_at)
    excited = pred.loss_directions[0] > 0
    rho = spectral_radius(rule, prm, pred.h[excited]) if excited.any() else np.zeros(1)
    predicted = float(np.max(rho) ** 2)
    if not fit.ok:
        return Record(rule.name, sched, dict(prm), "loss_rate", predicted, math.nan, math.nan, f"refused: {fit.reason}")
    tol = 3 * fit.stderr + 2 * math.sqrt(NOISE) * fit.rate
    return Record.judge(rule.name, sched, prm, f"loss_rate[{fit.window[0]},{fit.window[1]}]", predicted, fit.rate, tol)


# ----------------------------------------------------------------------------------------------
# Export


def provenance(**parameters) -> dict:
    """Package versions and the given parameters (seeds, configuration): the one provenance of every
    output.  Versions are read from the installed metadata, so nothing heavy is imported for them."""
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {"optanalysis": __version__, "python": platform.python_version(),
            **{name: installed(name) for name in _VERSIONED}, "parameters": _jsonable(parameters)}


_VERSIONED = ("numpy", "sympy", "numba", "scipy", "matplotlib")


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.integer, np.floating, np.bool_)):
        return v.item()
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return repr(v)


def records_to_json(records, prov: dict) -> str:
    """JSON text: {"provenance": ..., "records": [...]}; non-finite numbers become null."""
    rows = [{k: (None if isinstance(x, float) and not math.isfinite(x) else x) for k, x in asdict(r).items()}
            for r in records]
    return json.dumps({"provenance": prov, "records": _jsonable(rows)}, indent=2, allow_nan=False)


def records_to_csv(records, prov: dict) -> str:
    """CSV text with the provenance as leading ``# key: value`` comment lines; hyperparameters as JSON."""
    buf = io.StringIO()
    for k, v in prov.items():
        buf.write(f"# {k}: {json.dumps(v)}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FIELDS)
    for r in records:
        row = asdict(r)
        row["hyperparameters"] = json.dumps(_jsonable(r.hyperparameters), sort_keys=True)
        w.writerow([repr(row[f]) if isinstance(row[f], float) else row[f] for f in FIELDS])
    return buf.getvalue()


def write_records(records, path, prov: dict) -> None:
    """Write ``records`` to ``path`` (``.csv`` or ``.json``) atomically: temp file + os.replace."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".csv", ".json"):
        raise ValueError(f"path must end in .csv or .json, got {path!r}")
    atomic_write(path, records_to_csv(records, prov) if ext == ".csv" else records_to_json(records, prov))
