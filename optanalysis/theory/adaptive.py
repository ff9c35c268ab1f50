"""Checks of the adaptive-rule theory (RMSProp, Adam, Adagrad) against runs of the same rules.

Claims and method
    1. Stability threshold (:func:`threshold_sweep`).  The frozen-preconditioner linearisation
       (:mod:`optanalysis.symbolic.linearization`) predicts instability once
       lambda_max(P^-1 H) exceeds the derived threshold (Adam (2 + 2 beta1)/((1 - beta1) lr),
       RMSProp (2 + 2 momentum)/lr).  Two regimes are run with the rule's own compiled step:
       ``"warm"``: a first phase at a small lr builds v on a dense quadratic; the preconditioner
       P of that state (the linearisation's expression) gives the predicted critical lr; a probe
       phase continues from that v with beta2 (alpha) = the largest float below 1 and t -> oo,
       so that P stays put, and bisects the lr at which the loss grows 1e8-fold.
       ``"large_eps"``: a cold start (v = 0) with the default beta2 and sqrt(v) << eps, where
       P ~ eps (small-gradient regime), in the steady state t -> oo: with bias correction the
       first steps of Adam take the larger effective step lr (1 - beta1)/(1 - beta1^t)
       (``Linearization.effective_lr_t``), whose transient growth would mask the onset.
       :func:`small_gradient_threshold` does the same in the small-gradient regime with cold
       runs of the compiled kernels, for every adaptive rule without a first-moment bias
       correction, and so checks torch's and optax's eps placements (P = eps vs sqrt(eps)).
    2. eps = 0 (:func:`eps0_band`, :func:`rmsprop_orbit_run`): RMSProp lands on x = +-lr/2;
       Adam's late iterates lock onto its orbit when that attracts (small beta1) and otherwise
       stay in a band measured in units of lr.
    3. Adagrad (:func:`adagrad_trajectory`): the kernel's iterates against the symbolic map
       iterated at 50 significant digits; the asymptotic rate 1 - lr h/(sqrt(s_oo) + eps), or
       with torch's built-in lr_decay the power law x_t ~ t^-a.

References
    J. M. Cohen et al. (2022) arXiv:2207.14484; REFERENCE.md sections 6.4 and 6.7.
"""
from __future__ import annotations

import math
from functools import lru_cache

import mpmath
import numba
import numpy as np
import sympy

from ..checks import integer
from ..comparison import Record
from ..rules import RULES, get_rule
from ..simulation import simulate
from ..symbolic.core import H, T, update
from ..symbolic.cycles import period2_orbit
from ..symbolic.linearization import LAM, linearize

__all__ = ["threshold_sweep", "small_gradient_threshold", "eps0_band", "rmsprop_orbit_run",
           "adagrad_trajectory"]

_ADAM_STEP = numba.njit(RULES["adam"].step)
_RMSPROP_STEP = numba.njit(RULES["rmsprop"].step)
_KIND = {"adam": 0, "rmsprop": 1}
# beta2 / alpha of the probe, the largest float below 1: g^2 moves v only once |g| has grown to
# ~1e7 sqrt(v), far beyond _GROWTH, so the probe sees the frozen P (the v-feedback that would otherwise
# re-stabilise the run is the edge-of-stability mechanism, not the onset measured here).
_FROZEN_DECAY = 1.0 - 2.0**-53
_GROWTH = 1e8  # loss growth that marks an unstable run (|x| x 1e4; transients stay far below)
_T_INFINITY = 1e18  # step count of the probe: beta**t underflows to 0, bias corrections are 1
_REL_TOL = 0.02  # tolerance of a critical lr, relative to the prediction (see _record)
_QUANTITY = {"warm": "critical lr|frozen-P probe", "large_eps": "critical lr|small-gradient probe"}


def _record(rule, quantity, predicted, observed, hyper) -> Record:
    """A critical-lr :class:`optanalysis.compare.Record` judged within 2 % of the prediction (the
    project's criterion for thresholds; the probes' measured bias is <= 0.2 %)."""
    return Record.judge(rule, "constant", hyper, quantity, predicted, observed, _REL_TOL * abs(predicted))


@numba.njit(cache=True)
def _loss(hess, x):
    """1/2 x^T H x."""
    out = 0.0
    for i in range(x.size):
        for j in range(x.size):
            out += 0.5 * x[i] * hess[i, j] * x[j]
    return out


@numba.njit(cache=True)
def _run(kind, hess, state, hyper, flag, t0, steps):
    """Run ``steps`` steps in place; returns (initial loss, largest loss, diverged step or -1).

    ``kind`` 0 = adam (lr, beta1, beta2, eps, weight_decay, amsgrad), 1 = rmsprop (lr, alpha,
    eps, weight_decay, momentum, centered); step k uses t = t0 + k.
    """
    d = hess.shape[0]
    g = np.empty(d)
    loss0 = _loss(hess, state[0])
    top = loss0
    for k in range(steps):
        for i in range(d):
            acc = 0.0
            for j in range(d):
                acc += hess[i, j] * state[0, j]
            g[i] = acc
        for i in range(d):
            if kind == 0:
                a, b, c, e = _ADAM_STEP(state[0, i], state[1, i], state[2, i], state[3, i], g[i], hyper[0],
                                        hyper[1], hyper[2], hyper[3], hyper[4], flag, t0 + k)
            else:
                a, b, c, e = _RMSPROP_STEP(state[0, i], state[1, i], state[2, i], state[3, i], g[i],
                                           hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], flag, t0 + k)
            state[0, i], state[1, i], state[2, i], state[3, i] = a, b, c, e
        loss = _loss(hess, state[0])
        top = max(top, loss)
        if not (loss < 1e30 * max(1.0, loss0)):
            return loss0, top, k
    return loss0, top, -1


def _hyper(rule, params) -> tuple:
    vals = rule.values(params)
    return np.array(vals[:5], dtype=np.float64), bool(vals[5])


def _state(rule, x0) -> np.ndarray:
    init = rule.init(x0, *rule.values(rule.defaults))
    return np.array([np.asarray(s, dtype=np.float64) + 0 * x0 for s in init])


def _rotated_hessian(kappa: float, d: int, rng) -> np.ndarray:
    """Q diag(geometric spectrum 1..kappa) Q^T with a random orthogonal Q."""
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (q * np.geomspace(1.0, kappa, d)) @ q.T


@lru_cache(maxsize=None)
def _critical_lr_fn(rule_name: str, fixed: tuple):
    """lr at which ``lam`` equals the linearisation's threshold, as a numeric function of
    (lam, remaining hyperparameters)."""
    lin = linearize(rule_name, **dict(fixed))
    lr = sympy.Symbol("lr", positive=True)
    (crit,) = sympy.solve(sympy.Eq(lin.threshold, LAM), lr)
    args = sorted(crit.free_symbols - {LAM}, key=str)
    return sympy.lambdify([LAM, *args], crit, "math"), [str(a) for a in args]


@lru_cache(maxsize=None)
def _preconditioner_fn(rule_name: str, fixed: tuple):
    """(P_t as a function of (frozen state, hyperparameters, t), carry) where ``carry`` maps the
    frozen state at step t to the state giving the same P in the steady state (t -> oo); both
    derived from the linearisation's expressions."""
    lin = linearize(rule_name, **dict(fixed))
    (frozen,) = lin.frozen_symbols()  # v
    later = sympy.Symbol("v_later", positive=True)
    (carry,) = sympy.solve(sympy.Eq(lin.preconditioner_t, lin.preconditioner.subs(frozen, later)), later)
    syms = sorted((lin.preconditioner_t.free_symbols | carry.free_symbols) - {frozen, T}, key=str)
    p_fn = sympy.lambdify([frozen, T, *syms], lin.preconditioner_t, "numpy")
    c_fn = sympy.lambdify([frozen, T, *syms], carry, "numpy")
    return p_fn, c_fn, [str(s) for s in syms]


def _unstable(rule, params, hess, x_probe, state_frozen, t0, steps) -> bool:
    st = _state(rule, x_probe)
    frozen_row = list(rule.state).index(linearize(rule.name).frozen[0])
    st[frozen_row] = state_frozen
    hyper, flag = _hyper(rule, params)
    loss0, top, div = _run(_KIND[rule.name], hess, st, hyper, flag, t0, steps)
    return div >= 0 or top > _GROWTH * loss0


def _bisect(unstable, lo: float, hi: float, rel: float = 1e-4) -> float:
    if unstable(lo) or not unstable(hi):
        raise RuntimeError(f"threshold not bracketed by lr in [{lo:g}, {hi:g}]")
    while hi - lo > rel * lo:
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if unstable(mid) else (mid, hi)
    return math.sqrt(lo * hi)


def _momentum_name(rule) -> str:
    return "beta1" if rule.name == "adam" else "momentum"


def threshold_sweep(rule="adam", *, momenta=(0.0, 0.5, 0.9), kappas=(10.0, 1000.0), regime="warm",
                    d=6, warm_lr=1e-3, warm_steps=2000, probe_steps=10000, seed=0) -> tuple:
    """Predicted vs observed critical learning rate for Adam or RMSProp on dense quadratics.

    Parameters
    ----------
    rule : {"adam", "rmsprop"}
    momenta : sequence of float in [0, 1)
        beta1 (Adam) or momentum (RMSProp) values.
    kappas : sequence of float >= 1
        Condition numbers of H (geometric spectrum 1..kappa, random rotation).
    regime : {"warm", "large_eps"}
        See the module docstring.  ``large_eps`` uses eps = 1 and |H x0| = 1e-8.
    d : int >= 2
        Dimension.
    warm_lr, warm_steps : float > 0, int >= 1
        First phase of the warm regime (warm_steps also sets the bias-correction step t).
    probe_steps : int >= 100
        Steps of each stability probe.
    seed : int >= 0
        Seed of the rotations and starting points.

    Returns
    -------
    records : list of optanalysis.compare.Record
        One per (momentum, kappa), hyperparameters ``{beta1 or momentum, kappa, regime}``,
        quantity ``"critical lr|frozen-P probe"`` (warm) or ``"critical lr|small-gradient probe"``
        (large_eps), tolerance 2 % of the prediction.
    lambda_max : list of float
        lambda_max(P^-1 H) of each record's problem (data for plots and sanity checks).
    """
    rule = get_rule(rule)
    if rule.name not in _KIND:
        raise ValueError(f"rule must be 'adam' or 'rmsprop', got {rule.name!r}")
    if regime not in ("warm", "large_eps"):
        raise ValueError(f"regime must be 'warm' or 'large_eps', got {regime!r}")
    for name, value, low in (("d", d, 2), ("warm_steps", warm_steps, 1), ("probe_steps", probe_steps, 100),
                             ("seed", seed, 0)):
        integer(value, name, low)
    if not (isinstance(warm_lr, (int, float)) and math.isfinite(warm_lr) and warm_lr > 0):
        raise ValueError(f"warm_lr must be a finite number > 0, got {warm_lr!r}")
    for k in kappas:
        if not (isinstance(k, (int, float)) and math.isfinite(k) and k >= 1):
            raise ValueError(f"kappas entries must be finite numbers >= 1, got {k!r}")
    mom = _momentum_name(rule)
    rng = np.random.default_rng(seed)
    records, lambda_max = [], []
    for beta in momenta:
        rule.params(**{mom: beta})  # validates the range [0, 1)
        for kappa in kappas:
            hess = _rotated_hessian(float(kappa), d, rng)
            x0 = rng.standard_normal(d)
            rec, lam = _threshold_one(rule, mom, float(beta), float(kappa), hess, x0, regime, warm_lr,
                                      warm_steps, probe_steps)
            records.append(rec)
            lambda_max.append(lam)
    return records, lambda_max


def _threshold_one(rule, mom, beta, kappa, hess, x0, regime, warm_lr, warm_steps, probe_steps) -> tuple:
    crit_fn, crit_args = _critical_lr_fn(rule.name, ())
    decay = "beta2" if rule.name == "adam" else "alpha"
    if regime == "large_eps":
        params = rule.params(**{mom: beta, "eps": 1.0})
        x0 = x0 * 1e-8 / np.linalg.norm(hess @ x0)  # sqrt(v_hat) ~ 1e-8 eps until |x| grew 1e6-fold
        lam = float(np.linalg.eigvalsh(hess)[-1]) / params["eps"]  # P = eps
        predicted = crit_fn(lam, *[params[a] for a in crit_args])

        def unstable(lr):
            st = _state(rule, x0)
            hyper, flag = _hyper(rule, {**params, "lr": lr})
            loss0, top, div = _run(_KIND[rule.name], hess, st, hyper, flag, _T_INFINITY, probe_steps)
            return div >= 0 or top > _GROWTH * loss0
    else:
        warm = rule.params(**{mom: beta, "lr": warm_lr})
        st = _state(rule, x0)
        hyper, flag = _hyper(rule, warm)
        _run(_KIND[rule.name], hess, st, hyper, flag, 1.0, warm_steps)
        p_fn, c_fn, p_args = _preconditioner_fn(rule.name, ())
        frozen_row = list(rule.state).index(linearize(rule.name).frozen[0])
        vals = [warm[a] for a in p_args]
        p = p_fn(st[frozen_row], float(warm_steps), *vals)
        v_probe = c_fn(st[frozen_row], float(warm_steps), *vals)
        scaled = hess / np.sqrt(np.outer(p, p))  # similar to P^-1 H, symmetric
        lam = float(np.linalg.eigvalsh(scaled)[-1])
        params = rule.params(**{mom: beta, decay: _FROZEN_DECAY})
        predicted = crit_fn(lam, *[params[a] for a in crit_args])
        # The probe is linear in (x, m) while v is frozen: start it small (|H x| = 1e-8 min P) so
        # that g^2 stays negligible against v long after the growth criterion has fired.
        x_probe = st[0] + 1e-3 * np.linalg.norm(st[0]) * np.ones_like(x0)
        x_probe *= 1e-8 * p.min() / np.abs(hess @ x_probe).max()

        def unstable(lr):
            return _unstable(rule, {**params, "lr": lr}, hess, x_probe, v_probe, _T_INFINITY, probe_steps)
    observed = _bisect(unstable, 0.8 * predicted, 1.25 * predicted)
    hyper = {mom: beta, "kappa": kappa, "regime": regime}
    return _record(rule.name, _QUANTITY[regime], predicted, observed, hyper), lam


def small_gradient_threshold(rule, h=1.0, *, steps=4000, **params) -> tuple:
    """Critical lr in the small-gradient regime (sqrt(v) << eps), predicted vs one compiled run
    per probe (:func:`optanalysis.simulate.simulate`, cold start as the library runs it).

    P is the linearisation's preconditioner with the frozen state at 0: ``eps`` for torch's
    eps outside the root, ``sqrt(eps)`` for optax's default eps inside it, so the two
    placements differ by the factor sqrt(eps) in the critical lr.  The run starts at
    |g| = 1e-8 P, so the second moment stays negligible until the loss has grown 1e8-fold.
    Rules with bias correction of the first moment (Adam with beta1 > 0) take larger early
    steps (``Linearization.effective_lr_t``) that this cold start would mistake for the onset;
    use :func:`threshold_sweep` for them.

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
    record : optanalysis.compare.Record
        Quantity ``"critical lr|small-gradient probe"``, hyperparameters ``{h, **params}``,
        tolerance 2 % of the prediction.
    preconditioner : str
        The derived P in this regime (e.g. ``"1/100"`` for eps = 1e-2 outside the root).
    """
    rule = get_rule(rule)
    if rule.linear:
        raise ValueError(f"rule {rule.name!r} is not adaptive (it has no eps); valid: "
                         f"{', '.join(n for n, r in RULES.items() if not r.linear)}")
    (h,) = _positive_list((h,), "h")
    integer(steps, "steps", 100)
    if "lr" in params:
        raise ValueError("lr is what is measured; give the other hyperparameters")
    full = rule.params(**params)
    if not full.get("eps", 0) > 0:
        raise ValueError(f"eps must be > 0 for the small-gradient regime, got {full.get('eps')!r}")
    lin = linearize(rule, **{k: v for k, v in full.items() if k != "lr"})
    p0 = float(lin.small_gradient_preconditioner())
    lr = sympy.Symbol("lr", positive=True)
    (crit,) = sympy.solve(sympy.Eq(lin.threshold, LAM), lr)
    predicted = float(crit.subs(LAM, h / p0))
    x0 = np.array([1e-8 * p0 / h])

    def unstable(value):
        res = simulate(rule, {**params, "lr": value}, x0=x0, hessian_diag=np.array([h]), steps=steps)
        return res.diverged_at is not None or np.nanmax(res.loss) > _GROWTH * res.loss[0]

    observed = _bisect(unstable, 0.8 * predicted, 1.25 * predicted)
    record = _record(rule.name, _QUANTITY["large_eps"], predicted, observed, {"h": h, **params})
    return record, str(lin.small_gradient_preconditioner())


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
    iterates unchanged, and (x0, lr) -> (c x0, c lr) scales them by c.  So |x_k|/lr depends only
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
        over the window, ``orbit_amplitude_over_lr`` (the period-2 orbit |x|/lr of
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
        ``orbit_x`` (derived amplitude), ``late_abs_x`` (the last ``window`` |x_k|), ``signs``
        (their signs), ``max_rel_dev`` (max ||x_k| - orbit_x| / orbit_x over the window),
        ``two_step_radius`` (derived |eigenvalue| of the two-step Jacobian) and
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


@lru_cache(maxsize=None)
def _adagrad_map():
    """The symbolic Adagrad update (weight_decay = 0) as an mpmath function of
    (x, s, h, lr, lr_decay, eps, t)."""
    state, new, hp = update("adagrad", t=T, weight_decay=0)
    args = [*state, H, hp["lr"], hp["lr_decay"], hp["eps"], T]
    return sympy.lambdify(args, list(new), "mpmath")


@lru_cache(maxsize=None)
def _adagrad_asymptotics(lr_decay: float):
    """From the frozen-s linearisation x <- m(lam, t) x (lam = h/P, P = sqrt(s) + eps): the
    asymptotic contraction |m| (lr_decay = 0) or the power-law exponent lim t (1 - m)
    (lr_decay > 0: x_t ~ t^-exponent), as functions of (lam, hyperparameters)."""
    lin = linearize("adagrad", lr_decay=lr_decay)
    (m,) = lin.matrix
    expr = sympy.Abs(m) if lr_decay == 0 else sympy.limit(T * (1 - m), T, sympy.oo)
    # x_{t+1} = (1 - a/tau_t) x_t with tau_t = a/(1 - m): x_t ~ tau_t^-a (tau = t - 1 + 1/lr_decay).
    tau = expr / (1 - m)
    args = sorted((expr.free_symbols | tau.free_symbols) - {LAM, T}, key=str)
    frozen = lin.frozen_symbols()[0]
    p_args = sorted(lin.preconditioner.free_symbols - {frozen}, key=str)
    return (sympy.lambdify([LAM, *args], expr, "mpmath"), sympy.lambdify([LAM, T, *args], tau, "numpy"),
            [str(a) for a in args],
            sympy.lambdify([frozen, *p_args], lin.preconditioner, "mpmath"), [str(a) for a in p_args])


def adagrad_trajectory(lr=0.1, h=2.0, *, x0=1.0, eps=0.0, s0=0.0, lr_decay=0.0, steps=400, dps=50) -> dict:
    """Adagrad on 1/2 h x^2: the kernel against the symbolic map iterated at ``dps`` digits.

    The per-coordinate recursion (torch: x <- x - clr_t h x/(sqrt(s) + eps), s <- s + h^2 x^2,
    clr_t = lr/(1 + (t - 1) lr_decay)) is 1-D.  Its effective lr clr_t/(sqrt(s_t) + eps) is
    non-increasing.  With lr_decay = 0 it tends to lr/(sqrt(s_oo) + eps) and the iterates converge
    linearly at the rate |1 - lr h/(sqrt(s_oo) + eps)|; with the built-in decay lr_decay > 0 the
    step falls like 1/t and x_t decays like a power tau_t^-a, a = lr h/(lr_decay (sqrt(s_oo) + eps)),
    tau_t = t - 1 + 1/lr_decay; consistent when a > 1/2 (then sum x_t^2, hence s, converges; for
    a <= 1/2 s grows without bound and x decays more slowly than the frozen-s power).  Both come
    from the frozen-s linearisation (:func:`optanalysis.symbolic.linearization.linearize`).

    Parameters
    ----------
    lr, h, x0 : float > 0
    eps, s0, lr_decay : float >= 0
        Adagrad's eps, initial accumulator and built-in inverse-time decay.
    steps : int >= 8
    dps : int >= 20
        Significant digits of the reference iteration.

    Returns
    -------
    dict
        ``predicted`` and ``observed`` (steps + 1,) iterates, ``max_rel_err`` (relative to
        max |x|), ``s_final`` (high-precision s after ``steps``), and over the last quarter:
        lr_decay = 0: ``rate_predicted`` (from s_final) and ``rate_observed`` (geometric mean of
        |x_{k+1}/x_k|); lr_decay > 0: ``exponent_predicted`` and ``exponent_observed`` (slope of
        -log|x_t| against log tau_t).  Observed values are NaN if x reached 0 exactly.
    """
    lr, h, x0 = _positive_list((lr, h, x0), "lr, h, x0")
    params = get_rule("adagrad").params(lr=lr, eps=eps, initial_accumulator_value=s0, lr_decay=lr_decay)
    integer(steps, "steps", 8)  # the rate uses the last quarter
    integer(dps, "dps", 20)
    step = _adagrad_map()
    asym, tau_fn, asym_args, precond, p_args = _adagrad_asymptotics(params["lr_decay"])
    with mpmath.workdps(dps):
        x, s = mpmath.mpf(x0), mpmath.mpf(s0)
        pred = [x]
        for t in range(1, steps + 1):
            x, s = step(x, s, mpmath.mpf(h), mpmath.mpf(lr), mpmath.mpf(params["lr_decay"]),
                        mpmath.mpf(params["eps"]), t)
            pred.append(x)
        lam = h / precond(s, *[mpmath.mpf(params[a]) for a in p_args])
        theory = float(asym(lam, *[mpmath.mpf(params[a]) for a in asym_args]))
        predicted = np.array([float(v) for v in pred])
        s_final = float(s)
    res = simulate("adagrad", params, x0=np.array([x0]), hessian_diag=np.array([h]), steps=steps,
                   record_x=True)
    observed = res.xs[:, 0]
    q = steps - steps // 4
    late = observed[q:]
    out = {"predicted": predicted, "observed": observed,
           "max_rel_err": float(np.max(np.abs(observed - predicted)) / np.max(np.abs(predicted))),
           "s_final": s_final}
    reached_zero = bool(np.any(late == 0))  # e.g. x0 = lr with eps = 0: one sign step lands on 0
    if params["lr_decay"] == 0:
        out["rate_predicted"] = theory
        out["rate_observed"] = math.nan if reached_zero else float(
            np.exp(np.mean(np.log(np.abs(late[1:] / late[:-1])))))
    else:
        out["exponent_predicted"] = theory
        tau = tau_fn(float(lam), np.arange(q, steps + 1, dtype=float), *[params[a] for a in asym_args])
        out["exponent_observed"] = math.nan if reached_zero else float(
            -np.polyfit(np.log(tau), np.log(np.abs(late)), 1)[0])
    return out
