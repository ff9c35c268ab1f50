"""The adaptive rules' theory (RMSProp, Adam) and the runs of the same rules that observe it.

Thresholds
    The frozen-preconditioner linearisation (:mod:`optanalysis.symbolic.linearization`) predicts
    instability once lambda_max(P^-1 H) exceeds its derived threshold (Adam
    (2 + 2 beta1)/((1 - beta1) lr), RMSProp (2 + 2 momentum)/lr); :func:`critical_lr` turns it into
    the critical lr of a given preconditioned sharpness.  :func:`critical_lr_probe` measures the
    onset on a dense quadratic with :func:`optanalysis.simulation.simulate`, in two regimes:
    ``"warm"``: a first phase at a small lr builds the second moment v; the preconditioner P of
    that state (the linearisation's expression) gives the predicted critical lr; a probe phase
    continues from that state with the decay of v (beta2, alpha) = the largest float below 1 and
    t -> oo, so that P stays put, and bisects the lr at which the loss grows 1e8-fold.
    ``"large_eps"``: a cold start (v = 0) with sqrt(v) << eps, where P ~ eps or sqrt(eps)
    (small-gradient regime), in the steady state t -> oo: with bias correction the first steps of Adam take the
    larger effective step lr (1 - beta1)/(1 - beta1^t) (``Linearization.effective_lr_t``), whose
    transient growth would mask the onset.  :func:`small_gradient_threshold` does the same in
    the small-gradient regime with cold 1-D runs, for every adaptive rule without a first-moment
    bias correction, and so checks torch's and optax's eps placements (P = eps vs sqrt(eps)).
eps = 0
    :func:`rmsprop_orbit_run` (RMSProp lands on x = +-lr/2) and :func:`eps0_band` (Adam's late
    iterates in units of lr) against the derived period-2 orbit.
Adagrad
    :mod:`optanalysis.theory.adagrad`.

These functions return predicted and observed numbers; the claims, tolerances and verdicts built
on them are the studies ``edge_of_stability`` and ``adaptive_cycles``.

References
    J. M. Cohen et al. (2022) arXiv:2207.14484; docs/reference.md sections 5.2 and 6.1-6.3.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy

from ..checks import integer, vector
from ..models.quadratic import make_quadratic
from ..rules import RULES, get_rule
from ..simulation import simulate
from ..symbolic.core import T, source_key, update
from ..symbolic.cycles import period2_orbit
from ..symbolic.linearization import LAM, linearize

__all__ = ["Threshold", "critical_lr", "critical_lr_probe", "small_gradient_threshold", "eps0_band",
           "rmsprop_orbit_run"]

# Decay of the frozen state in the probe, the largest float below 1: g^2 moves v only once |g| has
# grown to ~1e7 sqrt(v), far beyond _GROWTH, so the probe sees the frozen P (the v-feedback that
# would otherwise re-stabilise the run is the edge-of-stability mechanism, not the onset measured).
_FROZEN_DECAY = 1.0 - 2.0**-53
_GROWTH = 1e8  # loss growth that marks an unstable run (|x| x 1e4; transients stay far below)
_T_INFINITY = 10**18  # first step count of a steady-state probe: beta**t underflows, corrections are 1


@dataclass(frozen=True)
class Threshold:
    """A critical learning rate, derived and observed.

    Attributes
    ----------
    predicted : float
        The lr at which lambda_max(P^-1 H) equals the linearisation's threshold.
    observed : float
        The lr the probe's bisection finds (relative resolution 1e-4).
    lambda_max : float
        lambda_max(P^-1 H) of the probed problem (preconditioned sharpness).
    preconditioner : str or None
        The derived P of the small-gradient regime (e.g. ``"1/100"``); None where P is the
        state of a warm run (a vector).
    """

    predicted: float
    observed: float
    lambda_max: float
    preconditioner: str | None = None


def _adaptive(rule):
    """The rule named ``rule``; ValueError unless it is adaptive (nonlinear, with a preconditioner)."""
    rule = get_rule(rule)
    if rule.linear:
        raise ValueError(f"rule {rule.name!r} is not adaptive (it has no preconditioner); valid: "
                         f"{', '.join(n for n, r in RULES.items() if not r.linear)}")
    return rule


def _flags(rule, params: dict) -> tuple:
    """The flag values of ``params``: the linearisation's form depends on them."""
    return tuple((p.name, params[p.name]) for p in rule.hyper if p.flag)


@lru_cache(maxsize=None)
def _critical_lr_fn(rule_name: str, flags: tuple, source: str = ""):
    """lr at which ``lam`` equals the linearisation's threshold, as a numeric function of
    (lam, remaining hyperparameters)."""
    lin = linearize(rule_name, **dict(flags))
    lr = sympy.Symbol("lr", positive=True)
    (crit,) = sympy.solve(sympy.Eq(lin.threshold, LAM), lr)
    args = sorted(crit.free_symbols - {LAM}, key=str)
    return sympy.lambdify([LAM, *args], crit, "math"), [str(a) for a in args]


def critical_lr(rule, lam, **params) -> float:
    """The lr at which the preconditioned sharpness ``lam`` = lambda_max(P^-1 H) reaches the
    frozen-preconditioner linearisation's threshold.

    Parameters
    ----------
    rule : str or Rule
        An adaptive rule (``adam``, ``rmsprop``, ...).
    lam : float > 0
    **params
        Hyperparameters other than ``lr`` (validated; defaults fill the rest).  Those the
        linearisation sets to 0 unless fixed (weight decay, ...) are taken as 0.

    Returns
    -------
    float
    """
    rule = _adaptive(rule)
    (lam,) = _positive_list((lam,), "lam")
    if "lr" in params:
        raise ValueError("lr is what critical_lr returns; give the other hyperparameters")
    full = rule.params(**params)
    fn, args = _critical_lr_fn(rule.name, _flags(rule, full), source_key(rule))
    return float(fn(lam, *[full[a] for a in args]))


@lru_cache(maxsize=None)
def _preconditioner_fn(rule_name: str, flags: tuple, source: str = ""):
    """(P_t as a function of (frozen state, t, hyperparameters), carry, names) where ``carry`` maps
    the frozen state at step t to the state giving the same P in the steady state (t -> oo); both
    derived from the linearisation's expressions."""
    lin = linearize(rule_name, **dict(flags))
    frozen = lin.frozen_symbols()[0]  # v
    later = sympy.Symbol("v_later", positive=True)
    (carry,) = sympy.solve(sympy.Eq(lin.preconditioner_t, lin.preconditioner.subs(frozen, later)), later)
    syms = sorted((lin.preconditioner_t.free_symbols | carry.free_symbols) - {frozen, T}, key=str)
    p_fn = sympy.lambdify([frozen, T, *syms], lin.preconditioner_t, "numpy")
    c_fn = sympy.lambdify([frozen, T, *syms], carry, "numpy")
    return p_fn, c_fn, [str(s) for s in syms]


@lru_cache(maxsize=None)
def _frozen_decay(rule_name: str, source: str = "") -> tuple:
    """(state row, hyperparameter name) of the frozen second moment and of its decay: the
    coefficient of v in v's own update (beta2 for Adam, alpha for RMSProp), read from the rule."""
    rule = get_rule(rule_name)
    name = linearize(rule).frozen[0]
    row = list(rule.state).index(name)
    state, new, hp = update(rule, t=T)
    decay = sympy.diff(new[row], state[row])
    names = [n for n, sym in hp.items() if sym == decay]
    if not names:
        raise ValueError(f"rule {rule.name!r}: its preconditioner state {name!r} is not a decaying average "
                         f"(d {name}_new / d {name} = {decay}), so the warm probe cannot freeze it")
    return row, names[0]


def _small_gradient_p(rule, params: dict) -> sympy.Expr:
    """P when the frozen state is negligible (e.g. eps, or sqrt(eps) inside the root), exact."""
    return linearize(rule, **{k: v for k, v in params.items() if k != "lr"}).small_gradient_preconditioner()


def _grew(res) -> bool:
    """An unstable probe: ``simulate`` reported divergence, or the loss grew _GROWTH-fold."""
    return res.diverged_at is not None or np.nanmax(res.loss) > _GROWTH * res.loss[0]


def _bisect(unstable, lo: float, hi: float, rel: float = 1e-4) -> float:
    if unstable(lo) or not unstable(hi):
        raise RuntimeError(f"threshold not bracketed by lr in [{lo:g}, {hi:g}]")
    while hi - lo > rel * lo:
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if unstable(mid) else (mid, hi)
    return math.sqrt(lo * hi)


def critical_lr_probe(rule, hessian, x0, *, regime="warm", warm_lr=1e-3, warm_steps=2000, probe_steps=10000,
                      **params) -> Threshold:
    """Predicted vs observed critical lr of an adaptive rule on the dense quadratic 1/2 x^T H x.

    Parameters
    ----------
    rule : str or Rule
        An adaptive rule whose preconditioner state is a decaying average (``adam``,
        ``rmsprop``, ...).
    hessian : (d, d) array_like
        Symmetric positive semi-definite H.
    x0 : (d,) array_like
        Starting point (with H x0 != 0).
    regime : {"warm", "large_eps"}
        See the module docstring.  ``large_eps`` uses eps = 1 unless given and rescales x0 so
        that ``|H x0|`` = 1e-8 P (P: the preconditioner with the second moment at 0).
    warm_lr, warm_steps : float > 0, int >= 1
        First phase of the warm regime (warm_steps also sets the bias-correction step t).
    probe_steps : int >= 100
        Steps of each stability probe.
    **params
        Hyperparameters other than ``lr`` (validated); in the warm regime the decay of the
        second moment is replaced by the largest float below 1 during the probe.

    Returns
    -------
    Threshold
    """
    rule = _adaptive(rule)
    if regime not in ("warm", "large_eps"):
        raise ValueError(f"regime must be 'warm' or 'large_eps', got {regime!r}")
    if "lr" in params:
        raise ValueError("lr is what is measured; give the other hyperparameters")
    integer(warm_steps, "warm_steps", 1)
    integer(probe_steps, "probe_steps", 100)
    (warm_lr,) = _positive_list((warm_lr,), "warm_lr")
    hess = make_quadratic(hessian=hessian).hessian
    x0 = vector(x0, "x0", hess.shape[0])
    if not np.any(hess @ x0):
        raise ValueError("x0 must not be a minimiser (H x0 = 0): the probe starts from its gradient")
    problem = dict(hessian=hess, steps=probe_steps, start_step=_T_INFINITY)
    if regime == "large_eps":
        full = rule.params(**{"eps": 1.0, **params})
        p0 = float(_small_gradient_p(rule, full))
        x0 = x0 * 1e-8 * p0 / np.linalg.norm(hess @ x0)  # sqrt(v_hat) ~ 1e-8 P until |x| grew 1e6-fold
        lam = float(np.linalg.eigvalsh(hess)[-1]) / p0
        start = None
    else:
        row, decay = _frozen_decay(rule.name, source_key(rule))
        full = rule.params(**{**params, "lr": warm_lr})
        state = np.array(simulate(rule, full, x0=x0, hessian=hess, steps=warm_steps).state)
        p_fn, c_fn, p_args = _preconditioner_fn(rule.name, _flags(rule, full), source_key(rule))
        vals = [full[a] for a in p_args]
        p = p_fn(state[row], float(warm_steps), *vals)
        scaled = hess / np.sqrt(np.outer(p, p))  # similar to P^-1 H, symmetric
        lam = float(np.linalg.eigvalsh(scaled)[-1])
        full = rule.params(**{**params, decay: _FROZEN_DECAY})
        # The probe is linear in (x, m) while v is frozen: start it small (|H x| = 1e-8 min P) so
        # that g^2 stays negligible against v long after the growth criterion has fired.
        x0 = state[0] + 1e-3 * np.linalg.norm(state[0]) * np.ones_like(x0)
        x0 *= 1e-8 * p.min() / np.abs(hess @ x0).max()
        start = np.array([np.broadcast_to(np.asarray(s, dtype=np.float64), x0.shape)
                          for s in rule.init(x0, *rule.values(full))])
        start[row] = c_fn(state[row], float(warm_steps), *vals)  # the same P at t -> oo
    full = {k: v for k, v in full.items() if k != "lr"}
    predicted = critical_lr(rule, lam, **full)

    def unstable(lr):
        return _grew(simulate(rule, {**full, "lr": lr}, x0=x0, initial_state=start, **problem))

    return Threshold(predicted, _bisect(unstable, 0.8 * predicted, 1.25 * predicted), lam)


def small_gradient_threshold(rule, h=1.0, *, steps=4000, **params) -> Threshold:
    """Critical lr in the small-gradient regime (sqrt(v) << eps), predicted vs one compiled run
    per probe (:func:`optanalysis.simulation.simulate`, cold start as the library runs it).

    P is the linearisation's preconditioner with the frozen state at 0: ``eps`` for torch's
    eps outside the root, ``sqrt(eps)`` for optax's default eps inside it, so the two
    placements differ by the factor sqrt(eps) in the critical lr.  The run starts at
    ``|g|`` = 1e-8 P, so the second moment stays negligible until the loss has grown 1e8-fold.
    Rules with bias correction of the first moment (Adam with beta1 > 0) take larger early
    steps (``Linearization.effective_lr_t``) that this cold start would mistake for the onset;
    use :func:`critical_lr_probe` for them.

    Parameters
    ----------
    rule : str or Rule
        An adaptive rule (``rmsprop``, ``rmsprop_optax``, ``adagrad``, ``adam`` with beta1 = 0, ...).
    h : float > 0
        Curvature of the 1-D quadratic.
    steps : int >= 100
        Steps of each probe.
    **params
        Hyperparameters other than ``lr`` (validated); ``eps`` must be > 0.

    Returns
    -------
    Threshold
        With ``lambda_max = h/P`` and ``preconditioner`` the derived P in this regime (e.g.
        ``"1/100"`` for eps = 1e-2 outside the root).
    """
    rule = _adaptive(rule)
    (h,) = _positive_list((h,), "h")
    integer(steps, "steps", 100)
    if "lr" in params:
        raise ValueError("lr is what is measured; give the other hyperparameters")
    full = rule.params(**params)
    if not full.get("eps", 0) > 0:
        raise ValueError(f"eps must be > 0 for the small-gradient regime, got {full.get('eps')!r}")
    p0 = _small_gradient_p(rule, full)
    lam = h / float(p0)
    predicted = critical_lr(rule, lam, **params)
    x0 = np.array([1e-8 * float(p0) / h])

    def unstable(value):
        return _grew(simulate(rule, {**params, "lr": value}, x0=x0, hessian_diag=np.array([h]), steps=steps))

    return Threshold(predicted, _bisect(unstable, 0.8 * predicted, 1.25 * predicted), lam, str(p0))


def _positive_list(values, name: str) -> list:
    vals = list(values) if isinstance(values, (list, tuple, np.ndarray)) else None
    if not vals or any(isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not
                       (math.isfinite(v) and v > 0) for v in vals):
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers > 0, got {values!r}")
    return [float(v) for v in vals]


def _value(expr, **values) -> float:
    """A SymPy expression at numeric values given by symbol name."""
    return float(expr.subs({s: values[str(s)] for s in expr.free_symbols}))


def _steps_window(steps, window) -> tuple:
    steps = integer(steps, "steps", 2)
    return steps, integer(window, "window", 2, steps)


def eps0_band(lrs=(1e-3, 1e-2, 1e-1), hs=(1.0, 10.0, 100.0), *, x0_over_lr=10.0, beta1=0.9,
              beta2=0.999, steps=20000, window=5000) -> list:
    """Adam with eps = 0 on 1/2 h x^2: the late iterates measured in units of lr.

    With eps = 0 the map is homogeneous: h -> c h (with m -> c m, v -> c^2 v) leaves the
    iterates unchanged, and (x0, lr) -> (c x0, c lr) scales them by c.  So ``|x_k|``/lr depends only
    on x0/lr, beta1, beta2 and k: exactly independent of h and, at fixed x0/lr, of lr (bit for bit
    when c is a power of 2; otherwise rounding differs and, the late dynamics being irregular,
    only the statistics agree).  A run first converges linearly while v remembers the large early
    gradients; the band starts once the preconditioned sharpness h/sqrt(v_hat) has grown to the
    threshold (2 + 2 beta1)/((1 - beta1) lr), later for larger x0/lr.

    Parameters
    ----------
    lrs, hs : sequences of float > 0
    x0_over_lr : float > 0
        Starting point of every coordinate, in units of lr.
    beta1, beta2 : float in [0, 1)
    steps : int >= 2
    window : int in [2, steps]
        The last ``window`` steps form the late window.

    Returns
    -------
    list of dict
        Per (lr, h): ``lr``, ``h``, ``x0_over_lr``, ``max_abs_over_lr``, ``mean_abs_over_lr``
        over the window, ``orbit_amplitude_over_lr`` (the period-2 orbit ``|x|``/lr of
        :func:`optanalysis.symbolic.cycles.period2_orbit`) and ``orbit_radius`` (spectral radius of
        its two-step Jacobian: > 1 means the orbit repels).
    """
    lrs, hs = _positive_list(lrs, "lrs"), _positive_list(hs, "hs")
    (x0_over_lr,) = _positive_list((x0_over_lr,), "x0_over_lr")
    steps, window = _steps_window(steps, window)
    get_rule("adam").params(beta1=beta1, beta2=beta2)
    orbit = period2_orbit("adam")
    amp = _value(orbit.amplitude(), lr=1.0, beta1=beta1)
    out = []
    for lr in lrs:
        params = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": 0.0}
        # Coordinates of a diagonal quadratic are independent 1-D runs: one run covers every h.
        res = simulate("adam", params, x0=np.full(len(hs), x0_over_lr * lr), hessian_diag=np.array(hs),
                       steps=steps, record_x=True)
        late = np.abs(res.xs[-window:])
        for j, h in enumerate(hs):
            out.append({"lr": lr, "h": h, "x0_over_lr": x0_over_lr,
                        "max_abs_over_lr": float(late[:, j].max() / lr),
                        "mean_abs_over_lr": float(late[:, j].mean() / lr),
                        "orbit_amplitude_over_lr": amp,
                        "orbit_radius": orbit.spectral_radius(lr=lr, h=h, beta1=beta1, beta2=beta2)})
    return out


def rmsprop_orbit_run(lr=1e-2, h=1.0, *, alpha=0.99, x0=1e-2, steps=6000, window=200) -> dict:
    """RMSProp with eps = 0 on 1/2 h x^2 against its derived period-2 orbit.

    Parameters
    ----------
    lr, h : float > 0
    alpha : float in [0, 1)
    x0 : float > 0
    steps : int >= 2
    window : int in [2, steps]

    Returns
    -------
    dict
        ``orbit_x`` (derived amplitude), ``late_abs_x`` (the last ``window`` ``|x_k|``), ``signs``
        (their signs), ``max_rel_dev`` (max ||x_k| - orbit_x| / orbit_x over the window),
        ``two_step_radius`` (derived ``|eigenvalue|`` of the two-step Jacobian) and
        ``observed_contraction`` (modulus of the two-step eigenvalues seen in the run: AR(2)
        fit of the deviation from the orbit while it is between 1e-11 and 1e-4 of orbit_x; NaN
        if the eigenvalues look real or the window is too short).
    """
    (lr, h, x0), (steps, window) = _positive_list((lr, h, x0), "lr, h, x0"), _steps_window(steps, window)
    get_rule("rmsprop").params(alpha=alpha)
    orbit = period2_orbit("rmsprop")
    amp = _value(orbit.amplitude(), lr=lr)
    res = simulate("rmsprop", {"lr": lr, "alpha": alpha, "eps": 0.0}, x0=np.array([x0]),
                   hessian_diag=np.array([h]), steps=steps, record_x=True)
    xs = res.xs[:, 0]
    signed = np.abs(xs) - amp
    dev = np.abs(signed) / amp
    # Near the orbit the two-step deviation is Re(c mu^j) for the complex pair mu, conj(mu) of the
    # two-step Jacobian, so d_(j+2) = 2 Re(mu) d_(j+1) - |mu|^2 d_j: a least-squares AR(2) fit over
    # every other step (while 1e-11 < |d|/orbit_x < 1e-4) reads |mu| without the bias that the
    # rotation gives a log-linear slope.
    idx = np.flatnonzero((dev < 1e-4) & (dev > 1e-11))
    d = signed[idx[0]:idx[-1] + 1:2] if len(idx) else signed[:0]
    contraction = math.nan
    if len(d) >= 8:
        (_, b), *_ = np.linalg.lstsq(np.stack([d[1:-1], d[:-2]], axis=1), d[2:], rcond=None)
        contraction = float(np.sqrt(-b)) if b < 0 else math.nan
    return {"orbit_x": amp, "late_abs_x": np.abs(xs[-window:]), "signs": np.sign(xs[-window:]),
            "max_rel_dev": float(dev[-window:].max()),
            "two_step_radius": orbit.spectral_radius(lr=lr, h=h, alpha=alpha),
            "observed_contraction": contraction}
