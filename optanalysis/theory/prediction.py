"""Exact deterministic predictions for the linear rules (gd, heavy_ball, sgd_momentum, nesterov).

On a quadratic f(x) = 1/2 (x - x*)^T H (x - x*) every linear rule acts on each eigen-direction of H
separately.  With curvature h, minimiser coordinate y* and state s (the rule's state entries in that
direction) one step is the affine map

    s_t = A_t(h, lr_t) s_{t-1} + a_t(h, lr_t) y* + b_t(h, lr_t) xi

where A_t is the Jacobian of the rule's symbolic step with respect to the state, a_t its derivative
with respect to y* (the gradient is h (grad_point - y*)) and b_t its derivative with respect to an
additive gradient noise xi (used by :mod:`optanalysis.noisy`).  All three are derived by SymPy from
the rule's single definition (:func:`optanalysis.symbolic.core.update`) at t = 1 and t = 2 — torch
SGD's first momentum step (buffer = g) is then simply the t = 1 map — and lambdified once.  The
t = 3 map is checked to equal the t = 2 one, so the rule is stationary from its second step on.

The state after any lr sequence is the product of these maps, applied direction by direction
(vectorised over the eigen-directions with NumPy).  Dense Hessians go through their
eigendecomposition H = Q diag(h) Q^T: x0 and x* are rotated into the eigenbasis, and the final
iterate is rotated back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from ..checks import integer
from ..models.quadratic import float_or_inf, make_quadratic, real_array, vector
from ..rules import Rule, get_rule
from ..schedules import make_schedule
from ..symbolic.core import H, hyper_symbols, state_symbols, update

__all__ = ["LinearMaps", "linear_maps", "lr_sequence", "Prediction",
           "predict", "Phase", "phase_rates", "spectral_radius", "Floor", "stall_floor"]

MAX_STEPS = 10**7  # beyond this, prediction loops (one NumPy step per lr) are no longer practical
_XSTAR = sympy.Symbol("xstar", real=True)  # minimiser coordinate of the eigen-direction
_XI = sympy.Symbol("xi", real=True)  # additive gradient noise in the eigen-direction


# ----------------------------------------------------------------------------------------------
# Derived maps


@dataclass(frozen=True)
class LinearMaps:
    """Lambdified per-direction maps of one linear rule for given flags.

    ``A(t, h, lr, rest)`` -> (..., n, n), ``a(t, ...)`` and ``b(t, ...)`` -> (..., n, 1); ``t`` is
    1 (first step) or >= 2.  ``rest`` is the tuple of the other real hyperparameter values
    (``args`` names them; :meth:`rest` extracts them from a params dict).  ``symbolic[t]`` holds
    the SymPy matrices (A, a, b).
    """

    rule: str
    n: int
    args: tuple  # names of the real hyperparameters after lr that the functions take
    symbolic: dict  # t -> (A, a, b) SymPy matrices, for noisy.py's symbolic steady state
    _fns: dict

    def rest(self, params: dict) -> tuple:
        """The values of ``args`` taken from validated ``params``."""
        return tuple(float(params[n]) for n in self.args)

    def _eval(self, key, t, h, lr, rest):
        fns, shape = self._fns[(key, 1 if t == 1 else 2)]
        h = np.asarray(h, dtype=float)
        out = np.empty(h.shape + shape)
        flat = out.reshape(h.shape + (-1,))
        for i, f in enumerate(fns):
            flat[..., i] = f(h, lr, *rest)
        return out

    def A(self, t, h, lr, rest=()):
        """State Jacobian at curvatures ``h``: (..., n, n)."""
        return self._eval("A", t, h, lr, rest)

    def a(self, t, h, lr, rest=()):
        """Derivative with respect to the minimiser coordinate y*: (..., n, 1)."""
        return self._eval("a", t, h, lr, rest)

    def b(self, t, h, lr, rest=()):
        """Derivative with respect to an additive gradient noise: (..., n, 1)."""
        return self._eval("b", t, h, lr, rest)


def _require_linear(rule: Rule) -> None:
    if not rule.linear:
        raise ValueError(f"rule: {rule.name!r} is adaptive (not linear in its state), so it has no exact "
                         f"linear prediction; valid: gd, heavy_ball, sgd_momentum, nesterov. For a linearisation "
                         f"around a frozen preconditioner see `optanalysis derive {rule.name} --linearize`")


def _fixed_key(rule: Rule, params: dict) -> tuple:
    """Flags are concrete; real hyperparameters equal to 0 are fixed to 0 as well, because rules
    may branch on them (torch keeps no momentum buffer when momentum == 0) while the symbols are
    positive."""
    return tuple((p.name, params[p.name]) for p in rule.hyper[1:] if p.flag or params[p.name] == 0)


def linear_maps(rule, params: dict) -> LinearMaps:
    """The derived maps of a linear ``rule`` for the flags and zero-valued hyperparameters of ``params``.

    Parameters
    ----------
    rule : str or Rule
        A linear rule (``Rule.linear``); adaptive rules raise ``ValueError``.
    params : dict
        Validated hyperparameters (``Rule.params``); only flags and which reals are zero matter.
    """
    rule = get_rule(rule)
    _require_linear(rule)
    return _linear_maps(rule.name, _fixed_key(rule, params))


def _entries(matrix: sympy.Matrix, args: list) -> tuple:
    return [sympy.lambdify(args, e, modules="numpy") for e in matrix], matrix.shape


@lru_cache(maxsize=None)
def _linear_maps(name: str, fixed: tuple) -> LinearMaps:
    rule = get_rule(name)
    fixed_d = dict(fixed)
    s = sympy.Matrix(state_symbols(rule))
    derived = {}
    for t in (1, 2, 3):
        vals = rule.values(hyper_symbols(rule, **fixed_d))
        g = H * (rule.grad_point(*s, *vals) - _XSTAR) + _XI
        _, new, _ = update(rule, t=t, g=g, **fixed_d)
        new = sympy.Matrix(new)
        A = new.jacobian(s).applyfunc(sympy.expand)
        a = new.jacobian([_XSTAR]).applyfunc(sympy.expand)
        b = new.jacobian([_XI]).applyfunc(sympy.expand)
        rest = (new - A * s - a * _XSTAR - b * _XI).applyfunc(sympy.expand)
        if any(e != 0 for e in rest):  # the rule must be affine in (state, x*, noise)
            raise ValueError(f"rule {name!r} is not affine in its state; no exact linear prediction")
        derived[t] = (A, a, b)
    if any((derived[3][i] - derived[2][i]).applyfunc(sympy.simplify) != sympy.zeros(*derived[2][i].shape)
           for i in range(3)):
        raise ValueError(f"rule {name!r} changes its map after the second step; not supported")
    hp = hyper_symbols(rule, **fixed_d)
    lr = hp["lr"]
    others = tuple(p.name for p in rule.hyper[1:] if not p.flag and p.name not in fixed_d)
    args = [H, lr] + [hp[n] for n in others]
    fns = {}
    for t in (1, 2):
        A, a, b = derived[t]
        fns[("A", t)] = _entries(A, args)
        fns[("a", t)] = _entries(a, args)
        fns[("b", t)] = _entries(b, args)
    return LinearMaps(name, len(rule.state), others, {1: derived[1], 2: derived[2]}, fns)


# ----------------------------------------------------------------------------------------------
# Problem and lr sequence


def lr_sequence(base_lr: float, steps: int, schedule=None, lrs=None) -> np.ndarray:
    """The lr of each optimizer step: ``lrs`` as given, else the open-loop ``schedule``'s.

    A reduce-on-plateau schedule is closed loop: its lrs depend on the run, so the sequence the
    run actually used (``SimResult.lr``) must be passed as ``lrs``; the prediction conditioned on
    it is exact again.
    """
    if lrs is not None:
        if schedule is not None:
            raise ValueError("give either schedule or lrs, not both")
        seq = vector(lrs, "lrs")
        if seq.size != steps:
            raise ValueError(f"lrs must have length steps={steps}, got {seq.size}")
        if np.any(seq < 0):
            raise ValueError("lrs entries must be >= 0")
        return seq
    if schedule is None:
        return np.full(steps, float(base_lr))
    sched = make_schedule(schedule)
    if not hasattr(sched, "lrs"):
        raise ValueError("schedule: a reduce-on-plateau schedule is closed loop; pass lrs= the lr sequence "
                         "the run actually used (SimResult.lr) to predict conditioned on it")
    return np.asarray(sched.lrs(float(base_lr), steps), dtype=float)


# ----------------------------------------------------------------------------------------------
# Deterministic prediction


@dataclass(frozen=True)
class Prediction:
    """Predicted trajectory, with the fields of ``SimResult`` that theory determines.

    ``loss`` (n_rec+1,) at steps 0, record_every, ...; ``lr`` (steps,); ``x`` (d,) final iterate;
    ``state`` tuple of (d,) arrays in ``rule.state`` order (original coordinates); ``diverged_at``
    first step with a non-finite loss or None; ``xs`` (n_rec+1, d) iterates if asked;
    ``loss_directions`` (n_rec+1, d) the loss of each eigen-direction; ``h`` (d,) the curvatures.
    """

    loss: np.ndarray
    lr: np.ndarray
    x: np.ndarray
    state: tuple
    diverged_at: int | None
    xs: np.ndarray | None
    loss_directions: np.ndarray
    h: np.ndarray

    def _repr_html_(self) -> str:
        from ..display import fields_table

        return fields_table(self, f"exact prediction over {self.lr.size} steps",
                            ("loss", "lr", "x", "diverged_at", "h"))


def _init_state(rule: Rule, vals: tuple, y0: np.ndarray) -> np.ndarray:
    """The rule's own ``init`` evaluated on the eigen-coordinates (it is linear in x0): (d, n)."""
    return np.stack([np.broadcast_to(np.asarray(v, dtype=float), y0.shape) for v in rule.init(y0, *vals)], axis=-1)


def _validated(rule, params, x0, hessian_diag, hessian, xstar, steps, record_every) -> tuple:
    """The arguments :func:`predict` and :func:`optanalysis.noisy.expected_loss` share, validated:
    (linear Rule, full params, Quadratic, x0 in its eigenbasis, steps, record_every)."""
    rule = get_rule(rule)
    _require_linear(rule)
    params = rule.params(**(params or {}))
    q = make_quadratic(hessian_diag=hessian_diag, hessian=hessian, xstar=xstar)
    y0 = q.to_eigen(vector(x0, "x0", q.d))
    steps = integer(steps, "steps", 1, MAX_STEPS)
    return rule, params, q, y0, steps, integer(record_every, "record_every", 1, steps)


def predict(rule, params=None, *, x0, hessian_diag=None, hessian=None, xstar=None, steps, schedule=None,
            lrs=None, record_every=1, record_x=False) -> Prediction:
    """Exact state and loss of a linear rule after ``steps`` steps of any lr sequence.

    Parameters
    ----------
    rule : str or Rule
        gd, heavy_ball, sgd_momentum or nesterov (adaptive rules raise ``ValueError``).
    params : dict, optional
        Hyperparameters, validated by ``Rule.params``; ``lr`` is the schedule's base value.
    x0, hessian_diag, hessian, xstar
        The quadratic (see :func:`optanalysis.models.quadratic.make_quadratic`).
    steps : int
        Number of optimizer steps, 1..1e7.
    schedule : optional
        Anything ``optanalysis.schedules.make_schedule`` accepts.  A reduce-on-plateau schedule is
        run closed loop on the *predicted* loss, which reproduces a kernel run as long as no
        evaluation falls within rounding of the plateau threshold (near the floating-point floor
        decisions are decided by rounding); ``lrs=SimResult.lr`` conditions on a run instead.
    lrs : array_like (steps,), optional
        The lr of each step instead of a schedule (e.g. the ``lr`` a plateau run used).
    record_every : int
        Record the loss every ``record_every`` steps (>= 1).
    record_x : bool
        Also return the iterates at the recorded steps.
    """
    rule, params, q, y0, steps, record_every = _validated(rule, params, x0, hessian_diag, hessian, xstar, steps,
                                                          record_every)
    h, ystar = q.eigenbasis[0], q.to_eigen(q.xstar)
    if not isinstance(record_x, bool):
        raise TypeError(f"record_x must be a bool, got {record_x!r}")
    sched = make_schedule(schedule) if schedule is not None and lrs is None else None
    closed = sched is not None and not hasattr(sched, "lrs")
    if closed:  # reduce-on-plateau fed with the predicted loss, as the kernels feed it the observed one
        from ..schedules import plateau_update

        control, memory = sched.controller(params["lr"])
        lr, seq = params["lr"], np.empty(steps)
    else:
        seq = lr_sequence(params["lr"], steps, schedule, lrs)
    maps = linear_maps(rule, params)
    rest = maps.rest(params)
    vals = rule.values(params)

    s = _init_state(rule, vals, y0)
    n_rec = steps // record_every
    loss_dir = np.empty((n_rec + 1, h.size))
    ys = np.empty((n_rec + 1, h.size)) if record_x else None
    loss_dir[0] = 0.5 * h * (s[:, 0] - ystar) ** 2
    if record_x:
        ys[0] = s[:, 0]
    cache = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            if closed:
                seq[k] = lr
            t = 1 if k == 0 else 2
            key = (t, seq[k])
            if key not in cache:  # piecewise-constant schedules reuse a handful of maps
                cache[key] = (maps.A(t, h, seq[k], rest), maps.a(t, h, seq[k], rest)[..., 0])
            A, a = cache[key]
            s = np.einsum("dij,dj->di", A, s) + a * ystar[:, None]
            if closed and (k + 1) % sched.interval == 0:
                lr = plateau_update(control, memory, float(0.5 * np.sum(h * (s[:, 0] - ystar) ** 2)), lr)
            if (k + 1) % record_every == 0:
                r = (k + 1) // record_every
                loss_dir[r] = 0.5 * h * (s[:, 0] - ystar) ** 2
                if record_x:
                    ys[r] = s[:, 0]
    loss = loss_dir.sum(axis=1)
    bad = np.flatnonzero(~np.isfinite(loss))
    diverged = int(bad[0] * record_every) if bad.size else None
    state = tuple(q.from_eigen(s[:, j]) for j in range(s.shape[1]))
    return Prediction(loss, seq, state[0], state, diverged, None if ys is None else q.from_eigen(ys), loss_dir, h)


# ----------------------------------------------------------------------------------------------
# Rates of the phases of a schedule


def spectral_radius(rule, params=None, h=None, *, lr=None, t=2) -> np.ndarray:
    """Spectral radius of a linear rule's derived iteration map at curvatures ``h``: the one
    spectral-radius function of the package.

    Parameters
    ----------
    rule : str or Rule
        A linear rule.
    params : dict, optional
        Hyperparameters (validated; defaults for the others).  Real ones may be arrays: they
        broadcast with ``h`` (a whole (lr, momentum) grid in one call), for t >= 2 and lr > 0.
    h : array_like
        Curvatures, by keyword or third; the result has the broadcast shape of
        ``np.atleast_1d(h)`` and the array hyperparameters.
    lr : float or array_like >= 0, optional
        Step size, instead of ``params["lr"]``; 0 (a schedule's end, e.g. cosine's minimum) is
        allowed here although outside the rule's range.
    t : int >= 1
        Step index: t >= 2 is the stationary map, t = 1 the first step (torch SGD's first
        momentum step, buffer = g, has a map of its own).

    Notes
    -----
    For t >= 2 and lr > 0 this is the largest modulus of the roots of the derived characteristic
    polynomial (:func:`optanalysis.symbolic.numeric.root_radius`), in closed form up to degree 2:
    accurate to machine eps at nilpotent maps (e.g. torch's Nesterov momentum at lr h = 1,
    rho = 0), where the eigenvalues of the defective matrix are only accurate to
    sqrt(machine eps) ~ 1e-8.  The eigenvalues of the derived matrix A_t serve what the roots do
    not: t = 1 (the characteristic polynomial is the t = 2 map's) and lr = 0 (outside the rule's
    range), with scalar hyperparameters.
    """
    rule = get_rule(rule)
    _require_linear(rule)
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict of hyperparameters, got {type(params).__name__} "
                        "(curvatures go in h=)")
    given = dict(params or {})
    integer(t, "t", 1)
    if h is None:
        raise ValueError("h (the curvatures) is required")
    h = np.atleast_1d(real_array(h, "h", "an array of curvatures"))
    if lr is not None:
        lrs = np.asarray(lr, dtype=float) if not isinstance(lr, (bool, str, bytes)) else None
        if lrs is None or lrs.dtype.kind != "f" or not np.all(np.isfinite(lrs) & (lrs >= 0)):
            raise ValueError(f"lr must be a finite number >= 0 (or an array of them), got {lr!r}")
        given["lr"] = lr if np.ndim(lr) else float(lr)
    lr_all = np.asarray(given.get("lr", rule.defaults["lr"]), dtype=float)
    if t >= 2 and np.all(lr_all > 0):
        from ..symbolic.numeric import root_radius  # lazy: SymPy lambdify on first use

        return root_radius(rule, h, **given)
    if any(np.ndim(v) for v in given.values()):
        raise ValueError("array hyperparameters need t >= 2 and lr > 0 (the characteristic polynomial)")
    lr = float(lr_all)
    params = rule.params(**{**given, "lr": rule.defaults["lr"] if lr == 0 else lr})
    maps = linear_maps(rule, params)
    return np.max(np.abs(np.linalg.eigvals(maps.A(t, h, lr, maps.rest(params)))), axis=-1)


@dataclass(frozen=True)
class Phase:
    """One constant-lr phase ``[start, stop)`` of a schedule and its per-step contraction ``rate``
    of the iterate (spectral radius), attained at curvature ``worst_h``."""

    start: int
    stop: int
    lr: float
    rate: float
    worst_h: float


def phase_rates(rule, params=None, lrs=None, *, h=None, mu=None, L=None) -> list:
    """Per-phase worst spectral radius of a piecewise-constant lr sequence.

    Parameters
    ----------
    rule, params
        A linear rule and its hyperparameters (``lr`` is replaced by each phase's lr).
    lrs : array_like (steps,)
        The lr of each step; phases are the maximal runs of equal lr.
    h : array_like, optional
        A problem's spectrum: the worst case is the max over these curvatures.
    mu, L : float, optional
        Instead of ``h``: the worst case over the interval [mu, L], exact, from the symbolic side
        (:func:`optanalysis.symbolic.numeric.worst_case_candidates`: the endpoints and the zeros of
        the characteristic polynomial's discriminant in between).
    """
    rule = get_rule(rule)
    params = rule.params(**(params or {}))
    seq = vector(lrs, "lrs")
    if (h is None) == (mu is None or L is None):
        raise ValueError("give either h (a spectrum) or both mu and L")
    if h is not None:
        pts = vector(h, "h")
    else:
        from ..symbolic.numeric import worst_case_candidates

        mu, L = _interval(mu, L)
    edges = np.flatnonzero(np.diff(seq) != 0) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [seq.size]))
    out = []
    for a, b in zip(starts, stops):
        lr = float(seq[a])
        if h is None:  # (an lr of 0, e.g. a cosine's minimum, is outside the rule's range: rate 1)
            pts = worst_case_candidates(rule, mu, L, **(params | {"lr": lr})) if lr > 0 else np.array([mu, L])
        rho = spectral_radius(rule, params, pts, lr=lr)
        i = int(np.argmax(rho))
        out.append(Phase(int(a), int(b), lr, float(rho[i]), float(pts[i])))
    return out


def _interval(mu, L) -> tuple:
    for name, v in (("mu", mu), ("L", L)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
            raise TypeError(f"{name} must be a real number in (0, inf), got {v!r}")
    mu, L = float_or_inf(mu), float_or_inf(L)
    if not (math.isfinite(mu) and mu > 0):
        raise ValueError(f"mu must be in (0, inf), got {mu!r}")
    if not (math.isfinite(L) and L >= mu):
        raise ValueError(f"L must be in [mu, inf) = [{mu:g}, inf), got {L!r}")
    return mu, L


# ----------------------------------------------------------------------------------------------
# Stall of a decaying schedule


@dataclass(frozen=True)
class Floor:
    """The limit of a run whose lr decays so fast that its sum is finite: ``loss`` the predicted floor,
    ``loss_directions`` (d,) per eigen-direction, ``steps`` after which every further step changes
    the state by less than ``tol`` relative (lr_k * max h < tol from then on)."""

    loss: float
    loss_directions: np.ndarray
    steps: int


def stall_floor(rule, params=None, *, x0, hessian_diag=None, hessian=None, xstar=None, schedule,
                tol=1e-18, max_steps=2**20) -> Floor:
    """Where a decaying schedule stalls: the loss of the infinite product of iteration matrices.

    For gd this is prod_k (1 - lr_k h)^2 * loss_0 per direction.  The horizon is doubled until the
    lr has fallen below ``tol / max(h)`` for good (checked on the last half of the horizon); for a
    geometric decay lr_k = lr_0 gamma^k the neglected tail then moves log|x| by at most
    tol / (1 - gamma).  A schedule whose lr does not fall that low within ``max_steps`` (e.g. an
    inverse-time decay, whose lr sum diverges) raises ``ValueError``.
    """
    rule = get_rule(rule)
    params = rule.params(**(params or {}))
    q = make_quadratic(hessian_diag=hessian_diag, hessian=hessian, xstar=xstar)
    max_steps = integer(max_steps, "max_steps", 2, MAX_STEPS)
    if not (isinstance(tol, float) and 0 < tol < 1):
        raise ValueError(f"tol must be a float in (0, 1), got {tol!r}")
    hmax = float(np.max(q.eigenbasis[0])) or 1.0
    n = 256
    while True:
        n = min(2 * n, max_steps)
        seq = lr_sequence(params["lr"], n, schedule)
        small = seq * hmax < tol
        if np.all(small[n // 2:]):
            first = int(np.flatnonzero(~small)[-1] + 1) if np.any(~small) else 0
            break
        if n == max_steps:
            raise ValueError(f"schedule: the lr does not fall below tol/max(h) = {tol / hmax:.3g} within "
                             f"max_steps={max_steps}; its sum may be infinite (no stall floor)")
    steps = max(first, 1)
    p = predict(rule, params, x0=x0, hessian_diag=q.hessian_diag, hessian=q.hessian, xstar=q.xstar, steps=steps,
                lrs=seq[:steps], record_every=steps)
    return Floor(float(p.loss[-1]), p.loss_directions[-1], steps)
