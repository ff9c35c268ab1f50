"""A sweep as data: the TOML file, its validation, its canonical form and hash.

The file is read by :mod:`tomllib` (never evaluated).  Every grid value is a scalar, a list, or
``{linspace = [a, b, n]}`` / ``{geomspace = [a, b, n]}``, expanded here to explicit floats: the
canonical form (:meth:`Sweep.to_dict`) holds the exact values every worker runs, so a worker never
recomputes a grid with its own NumPy.  Hyperparameters are checked by their rule's declarations
(``Rule.params``), schedules by ``make_schedule``, spectra by ``models.quadratic.spectrum`` and
noise by ``make_noise``: the same checks, and messages, as everywhere else.

The shape of the file: :data:`EXAMPLE`.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EXAMPLE", "QUANTITIES", "MAX_POINTS", "RuleGrid", "Problem", "Sweep", "load_spec", "parse_spec"]

# A sweep file (values: a scalar, a list, or linspace/geomspace); the CLI's help shows it too.
EXAMPLE = """\
steps = 500
record_every = 10            # the loss is recorded every k steps (must divide steps)
seeds = 4                    # a count (0..3) or a list of ints
quantities = ["final_loss", "rate", "diverged_at"]
chunk_size = 4096            # points (configs x seeds) per chunk at most (default 4096; see docs/sweeps.md)
schedules = ["constant", "step:step_size=100,gamma=0.5"]
noise = ["none", "hessian:sigma=0.1"]
batch = [1]
[[rule]]
name = "heavy_ball"
lr = {geomspace = [0.01, 1.0, 20]}
momentum = [0.0, 0.5, 0.9]
[[problem]]
name = "loguniform"
spectrum = "loguniform:mu=0.01,L=1,d=100,seed=0"   # or hessian_diag = [...]
x0 = 1.0                     # scalar (broadcast) or list; xstar likewise (default 0)
"""

QUANTITIES = ("final_loss", "loss", "rate", "diverged_at", "predicted_final_loss", "records")
# beyond this many points a sweep needs yes=True / --yes (a typo in a linspace count is costly)
MAX_POINTS = 10**9
_TOP = ("steps", "record_every", "seeds", "quantities", "chunk_size", "rate_floor", "schedules", "noise", "batch",
        "rule", "problem")
_MAX_SPACE = 10**7  # points of one linspace/geomspace: the expanded list lives in the spec
_MAX_CHECKED = 10**6  # cross-parameter constraints are checked up front on grids this small


@dataclass(frozen=True)
class RuleGrid:
    """One ``[[rule]]``: its name and, per swept hyperparameter (declaration order), the tuple of
    validated values; the grid is their product (the last one varies fastest)."""

    name: str
    params: tuple  # ((name, (v1, v2, ...)), ...)

    @property
    def n_configs(self) -> int:
        return math.prod(len(v) for _, v in self.params)

    def config(self, k: int) -> dict:
        """The ``k``-th hyperparameter dict of the product (mixed radix, last fastest)."""
        out = {}
        for name, values in reversed(self.params):
            k, r = divmod(k, len(values))
            out[name] = values[r]
        return dict(reversed(list(out.items())))


@dataclass(frozen=True)
class Problem:
    """One ``[[problem]]``: a label, a diagonal Hessian (``spectrum`` spec or ``hessian_diag``),
    ``x0`` and ``xstar`` (a float broadcast over the coordinates, or a tuple)."""

    name: str
    spectrum: str | None
    hessian_diag: tuple | None
    x0: object
    xstar: object = None

    def arrays(self) -> dict:
        """Keyword arguments of ``simulate_batch``/``predict``: hessian_diag, x0, xstar."""
        import numpy as np

        from ..checks import vector
        from ..models.quadratic import spectrum

        h = spectrum(self.spectrum) if self.spectrum is not None else np.array(self.hessian_diag, float)
        d = h.size
        x0 = vector(self.x0 if isinstance(self.x0, tuple) else [self.x0], f"problem {self.name}: x0", d,
                    broadcast=True)
        xs = None if self.xstar is None else vector(
            self.xstar if isinstance(self.xstar, tuple) else [self.xstar], f"problem {self.name}: xstar", d,
            broadcast=True)
        return {"hessian_diag": h, "x0": x0, "xstar": xs}


@dataclass(frozen=True)
class Sweep:
    """A validated sweep (see the module docstring); build it with :func:`parse_spec` or
    :func:`load_spec`.  ``noise`` entries are spec strings or ``"none"``."""

    steps: int
    record_every: int
    seeds: tuple
    quantities: tuple
    chunk_size: int
    schedules: tuple
    noise: tuple
    batch: tuple
    rules: tuple  # of RuleGrid
    problems: tuple  # of Problem
    # quantity "rate": fit_rate's relative floor (losses below rate_floor * loss_0 are not fitted);
    # default rates.FLOOR, omitted from the canonical form then (the hashes of older sweeps hold)
    rate_floor: float | None = None

    def to_dict(self) -> dict:
        """JSON-able canonical form; ``parse_spec(sweep.to_dict()) == sweep``."""
        def number_or_list(v):
            return list(v) if isinstance(v, tuple) else v

        problems = []
        for p in self.problems:
            entry = {"name": p.name, "x0": number_or_list(p.x0)}
            if p.spectrum is not None:
                entry["spectrum"] = p.spectrum
            else:
                entry["hessian_diag"] = list(p.hessian_diag)
            if p.xstar is not None:
                entry["xstar"] = number_or_list(p.xstar)
            problems.append(entry)
        out = {"steps": self.steps, "record_every": self.record_every, "seeds": list(self.seeds),
               "quantities": list(self.quantities), "chunk_size": self.chunk_size,
               "schedules": list(self.schedules), "noise": list(self.noise), "batch": list(self.batch),
               "rule": [{"name": r.name, **{k: list(v) for k, v in r.params}} for r in self.rules],
               "problem": problems}
        if self.rate_floor is not None:
            out["rate_floor"] = self.rate_floor
        return out

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON: the same on every process and machine (floats are written
        by repr, which round-trips exactly)."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    @property
    def n_points(self) -> int:
        per_rule = len(self.problems) * len(self.noise) * len(self.batch) * len(self.schedules) * len(self.seeds)
        return sum(r.n_configs for r in self.rules) * per_rule


# ----------------------------------------------------------------------------------------------
# Parsing


def load_spec(path) -> Sweep:
    """Read and validate a sweep TOML file; a malformed file names the file and the line."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ValueError("reading a TOML sweep needs Python >= 3.11 (tomllib) or the tomli package") from None
    path = os.fspath(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message says "(at line L, column C)"
        raise ValueError(f"{path}: malformed TOML: {exc}") from None
    try:
        return parse_spec(data)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{path}: {exc}") from None


def parse_spec(mapping) -> Sweep:
    """Validate a sweep given as a mapping (parsed TOML or :meth:`Sweep.to_dict`)."""
    from ..checks import INT64_MAX, integer

    if not isinstance(mapping, dict):
        raise TypeError(f"sweep spec must be a table (dict), got {type(mapping).__name__}")
    unknown = sorted(set(mapping) - set(_TOP))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} in the sweep spec; valid: {', '.join(_TOP)}")
    for key in ("steps", "rule", "problem"):
        if key not in mapping:
            raise ValueError(f"{key}: missing (the sweep spec needs steps, [[rule]] and [[problem]])")
    steps = integer(mapping["steps"], "steps", 1)
    record_every = integer(mapping.get("record_every", 1), "record_every", 1, steps)
    if steps % record_every:
        raise ValueError(f"record_every must divide steps ({steps}), got {record_every}")
    seeds = mapping.get("seeds", 1)
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = tuple(range(integer(seeds, "seeds", 1, MAX_POINTS)))
    else:
        seeds = tuple(integer(s, "seeds entry", 0, INT64_MAX) for s in _list(seeds, "seeds"))
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
    quantities = _strings(mapping.get("quantities", ["final_loss", "diverged_at"]), "quantities")
    for q in quantities:
        if q not in QUANTITIES:
            raise ValueError(f"unknown quantity {q!r}; valid: {', '.join(QUANTITIES)}")
    if len(set(quantities)) != len(quantities):
        raise ValueError("quantities must be distinct")
    # default: ~10 % per-chunk overhead at the cheapest points measured (d = 10, 100 steps), less for costlier ones
    chunk_size = integer(mapping.get("chunk_size", 4096), "chunk_size", 1, 2**24)
    rate_floor = mapping.get("rate_floor")
    if rate_floor is not None:
        from ..rates import FLOOR

        if isinstance(rate_floor, bool) or not isinstance(rate_floor, numbers.Real) or not 0 < rate_floor < 1:
            raise ValueError(f"rate_floor must be a number in (0, 1), got {rate_floor!r}")
        rate_floor = None if float(rate_floor) == FLOOR else float(rate_floor)
    schedules = _strings(mapping.get("schedules", ["constant"]), "schedules")
    noise = _strings(mapping.get("noise", ["none"]), "noise")
    batch = tuple(integer(b, "batch entry", 1, 2**62) for b in _list(mapping.get("batch", [1]), "batch"))
    for what, values in (("schedules", schedules), ("noise", noise), ("batch", batch)):
        if len(set(values)) != len(values):
            raise ValueError(f"{what} entries must be distinct")

    from ..schedules import make_schedule

    for s in schedules:
        make_schedule(s)
    rules = tuple(_rule(entry, i) for i, entry in enumerate(_tables(mapping["rule"], "rule")))
    problems = tuple(_problem(entry, i) for i, entry in enumerate(_tables(mapping["problem"], "problem")))
    names = [p.name for p in problems]
    if len(set(names)) != len(names):
        raise ValueError(f"problem names must be distinct, got {names}")
    _check_noise(noise, batch, problems)
    sweep = Sweep(steps, record_every, seeds, quantities, chunk_size, schedules, noise, batch, rules, problems,
                  rate_floor)
    if sweep.n_points == 0:  # unreachable with the checks above, kept as the last guard
        raise ValueError("the grid is empty")
    return sweep


def _list(value, what: str) -> list:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{what}: empty list (the grid would be empty)")
        return list(value)
    if isinstance(value, dict):
        raise TypeError(f"{what} must be a value or a list, got a table {value!r}")
    return [value]


def _strings(value, what: str) -> tuple:
    out = tuple(_list(value, what))
    for s in out:
        if not isinstance(s, str) or not s.strip():
            raise TypeError(f"{what} entries must be non-empty strings, got {s!r}")
    return out


def _tables(value, what: str) -> list:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError(f"{what}: give at least one [[{what}]] table (the grid would be empty)")
    for t in value:
        if not isinstance(t, dict):
            raise TypeError(f"{what} entries must be tables, got {t!r}")
    return value


def _values(value, what: str) -> list:
    """A grid value: scalar, list, {linspace = [a, b, n]} or {geomspace = [a, b, n]}."""
    if isinstance(value, dict):
        import numpy as np

        if len(value) != 1 or next(iter(value)) not in ("linspace", "geomspace"):
            raise ValueError(f"{what}: a table value must be {{linspace = [a, b, n]}} or "
                             f"{{geomspace = [a, b, n]}}, got {value!r}")
        kind, args = next(iter(value.items()))
        if not (isinstance(args, list) and len(args) == 3):
            raise ValueError(f"{what}: {kind} takes [a, b, n], got {args!r}")
        a, b, n = args
        for x in (a, b):
            if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
                raise TypeError(f"{what}: {kind} endpoints must be finite numbers, got {x!r}")
        from ..checks import integer

        n = integer(n, f"{what}: {kind} n", 1, _MAX_SPACE)
        if kind == "geomspace" and not (a > 0 and b > 0):
            raise ValueError(f"{what}: geomspace endpoints must be > 0, got {a!r}, {b!r}")
        grid = np.linspace(a, b, n) if kind == "linspace" else np.geomspace(a, b, n)
        return [float(x) for x in grid]
    return _list(value, what)


def _rule(entry: dict, i: int) -> RuleGrid:
    from ..rules import get_rule

    if "name" not in entry:
        raise ValueError(f"rule #{i + 1}: missing name")
    rule = get_rule(entry["name"])
    decl = {p.name: p for p in rule.hyper}
    given = {k: v for k, v in entry.items() if k != "name"}
    for k in given:
        if k not in decl:
            raise ValueError(f"unknown hyperparameter {k!r} for rule {rule.name!r}; "
                             f"valid: {', '.join(rule.hyper_names)}")
    params = []
    for name in rule.hyper_names:  # declaration order: the grid's order does not depend on the file's
        if name in given:
            values = tuple(decl[name].validate(v) for v in _values(given[name], f"{rule.name} {name}"))
            if len(set(values)) != len(values):
                raise ValueError(f"{rule.name} {name}: values must be distinct, got {list(values)}")
            params.append((name, values))
    # a rule from a file or module keeps that spelling: a Dask worker resolves it on its own
    grid = RuleGrid(rule.name if entry["name"] == rule.name else entry["name"], tuple(params))
    if rule.constraints and grid.n_configs <= _MAX_CHECKED:  # bigger grids: checked chunk by chunk
        names = [n for n, _ in params]
        for combo in itertools.product(*(v for _, v in params)):
            rule.params(**dict(zip(names, combo)))
    return grid


def _number_or_tuple(value, what: str):
    if isinstance(value, list):
        if not value:
            raise ValueError(f"{what}: empty list")
        vals = tuple(value)
    else:
        vals = (value,)
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise TypeError(f"{what} must be a finite number or a list of them, got {v!r}")
    vals = tuple(float(v) for v in vals)
    return vals if isinstance(value, list) else vals[0]


def _problem(entry: dict, i: int) -> Problem:
    valid = ("name", "spectrum", "hessian_diag", "x0", "xstar")
    unknown = sorted(set(entry) - set(valid))
    if unknown:
        raise ValueError(f"problem #{i + 1}: unknown key {unknown[0]!r}; valid: {', '.join(valid)}")
    name = entry.get("name", f"problem{i + 1}")
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"problem #{i + 1}: name must be a non-empty string, got {name!r}")
    if ("spectrum" in entry) == ("hessian_diag" in entry):
        raise ValueError(f"problem {name}: give exactly one of spectrum (a spec) and hessian_diag (a list)")
    spec = entry.get("spectrum")
    if spec is not None and not isinstance(spec, str):
        raise TypeError(f"problem {name}: spectrum must be a spec string, got {spec!r}")
    hd = None if "hessian_diag" not in entry else _number_or_tuple(entry["hessian_diag"], f"problem {name}: hessian_diag")
    if hd is not None and not isinstance(hd, tuple):
        hd = (hd,)
    x0 = _number_or_tuple(entry.get("x0", 1.0), f"problem {name}: x0")
    xstar = None if "xstar" not in entry else _number_or_tuple(entry["xstar"], f"problem {name}: xstar")
    p = Problem(name, spec, hd, x0, xstar)
    from ..models.quadratic import make_quadratic

    a = p.arrays()  # the spectrum's and vectors' own checks
    make_quadratic(hessian_diag=a["hessian_diag"], xstar=a["xstar"])
    return p


def _check_noise(noise: tuple, batch: tuple, problems: tuple) -> None:
    from ..models.quadratic import make_noise, make_quadratic

    for p in problems:
        a = p.arrays()
        q = make_quadratic(hessian_diag=a["hessian_diag"], xstar=a["xstar"])
        for nz in noise:
            if nz != "none":
                try:
                    make_noise(nz, q, batch[0])
                except (ValueError, TypeError) as exc:
                    raise type(exc)(f"problem {p.name}: {exc}") from None
