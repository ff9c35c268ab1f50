"""One :class:`Derivation` per linear rule: everything the symbolic side derives, with printers.

``derive("heavy_ball")`` computes, from the rule's single definition: the iteration matrix T(h),
the characteristic polynomial, the Jury conditions and their simplification, the largest
stable learning rate (and curvature), the root regimes and the spectral radius, the candidates
for the worst case over [mu, L], the optimal tunings and the equivalences with other rules.

Derivations are slow (seconds), so they are cached twice: in process (``functools.lru_cache``)
and on disk (:mod:`optanalysis.symbolic.disk`, under ``optanalysis.cache.cache_dir("derivations")``,
by default ``~/.cache/optanalysis/derivations``).  The key hashes the source of the rule's module
(and of the modules it uses, and of every rule its equivalences involve), the source of this
package and the SymPy version: editing a rule, or this package, invalidates the entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sympy

from ..checks import boolean
from ..rules import get_rule
from . import analysis, disk, equivalence, parsing, tuning
from .analysis import KAPPA, L, MU, Regime
from .core import H, Z, hyper_symbols, iteration_matrix, source_key, with_pinned
from .equivalence import EquivalenceResult
from .notation import check_notation, latex, symbol_latex
from .tuning import TuningResult

__all__ = ["Derivation", "derive", "cache_key", "symbol_table", "parse",
           "FORMAT_VERSION"]

FORMAT_VERSION = disk.FORMAT_VERSION  # of the on-disk entries (optanalysis.symbolic.disk)


@dataclass(frozen=True)
class Derivation:
    """Everything derived for one linear rule (with some hyperparameters possibly fixed).

    SymPy objects throughout; :meth:`to_dict` gives strings that :func:`parse` (``sympify`` with
    the right symbols) turns back into the same objects.
    """

    rule: str
    params: dict  # the fixed hyperparameters (as given, plus those a constraint pins)
    state: tuple
    hyper: dict  # name -> symbol or fixed value
    assumptions: tuple
    iteration_matrix: sympy.ImmutableMatrix
    charpoly: sympy.Expr
    degree: int
    zero_roots: int
    coefficients: dict  # "c1", "c0" -> expression
    jury: tuple  # expressions e, each condition e > 0
    stability: tuple  # simplified relationals
    lr_bound: object  # expression or None
    h_bound: object  # expression or None
    discriminant: object  # expression or None
    discriminant_zeros: dict  # variable name -> tuple of expressions (complex-root boundaries)
    regimes: tuple  # of Regime
    spectral_radius: sympy.Expr
    worst_case_candidates: tuple  # h-values: mu, L and the zeros of the discriminant in h
    worst_case_rate: sympy.Expr
    tunings: tuple  # of TuningResult
    equivalences: tuple  # of EquivalenceResult
    seconds: float = field(default=0.0, compare=False)
    methods: dict = field(default_factory=dict)  # how a result was obtained where not in closed form

    # ---------------------------------------------------------------------------------------
    @property
    def optimal(self):
        """The first (best) tuning, or None."""
        return self.tunings[0] if self.tunings else None

    @property
    def title(self) -> str:
        extra = ", ".join(f"{k}={_fmt_value(v)}" for k, v in self.params.items())
        return f"{self.rule}({extra})" if extra else self.rule

    def to_dict(self) -> dict:
        """JSON-able; every expression a string that :func:`parse` (or ``sympy.sympify``) reads."""
        s = _str
        opt = self.optimal
        return {
            "rule": self.rule,
            "params": {k: _fmt_value(v) for k, v in self.params.items()},
            "state": list(self.state),
            "hyperparameters": {k: s(v) for k, v in self.hyper.items()},
            "assumptions": list(self.assumptions),
            "iteration_matrix": [[s(x) for x in row] for row in self.iteration_matrix.tolist()],
            "charpoly": s(self.charpoly),
            "degree": self.degree,
            "zero_roots_dropped": self.zero_roots,
            "coefficients": {k: s(v) for k, v in self.coefficients.items()},
            "jury": [f"{c} > 0" for c in self.jury],
            "stability": [s(c) for c in self.stability],
            "lr_bound": s(self.lr_bound),
            "h_bound": s(self.h_bound),
            "discriminant": s(self.discriminant),
            "discriminant_zeros": {k: [s(x) for x in v] for k, v in self.discriminant_zeros.items()},
            "regimes": [{"name": r.name, "condition": s(r.condition),
                         "spectral_radius": s(r.spectral_radius), "description": r.description}
                        for r in self.regimes],
            "spectral_radius": s(self.spectral_radius),
            "worst_case": {"candidates": [s(x) for x in self.worst_case_candidates],
                           "rate": s(self.worst_case_rate)},
            "optimal": None if opt is None else {
                "lr": s(opt.values.get("lr")), "momentum": s(opt.values.get("momentum")),
                "rate": s(opt.rate)},
            "tunings": [{"name": t.name, "principle": t.principle, "conditions": list(t.conditions),
                         "values": {k: s(v) for k, v in t.values.items()}, "rate": s(t.rate),
                         "check": t.check} for t in self.tunings],
            "equivalences": [_equivalence_dict(e) for e in self.equivalences],
            "methods": dict(self.methods),
            "latex": self.latex_parts(),
        }

    def _printers(self, notation: str) -> tuple:
        """(LaTeX of an expression, LaTeX of a symbol name) in ``notation``."""
        check_notation(notation)
        return (lambda e: latex(e, self.rule, notation),
                lambda name: symbol_latex(name, self.rule, notation))

    def latex_parts(self, notation: str = "plain") -> dict:
        """The LaTeX of each derived object, by name (``to_dict()["latex"]``)."""
        lx, sym = self._printers(notation)
        out = {
            "iteration_matrix": lx(self.iteration_matrix),
            "charpoly": lx(self.charpoly) + " = 0",
            "jury": [lx(c) + " > 0" for c in self.jury],
            "stability": [lx(c) for c in self.stability],
            "spectral_radius": lx(self.spectral_radius),
        }
        if self.lr_bound is not None:
            out["lr_bound"] = sym("lr") + " < " + lx(self.lr_bound)
        if self.h_bound is not None:
            out["h_bound"] = r"h < " + lx(self.h_bound)
        if self.discriminant is not None:
            out["discriminant"] = r"\Delta = " + lx(self.discriminant)
        out["regimes"] = {r.name: {"condition": lx(r.condition),
                                   "spectral_radius": lx(r.spectral_radius)
                                   if r.spectral_radius is not None else r"\ge 1"}
                          for r in self.regimes}
        out["tunings"] = {t.name: {**{k: lx(v) for k, v in t.values.items()}, "rate": lx(t.rate)}
                          for t in self.tunings}
        return out

    def to_markdown(self, notation: str = "plain") -> str:
        """The derivation as a Markdown document with LaTeX math (``$...$``)."""
        lx, sym = self._printers(notation)
        lines = [f"# Derivation: `{self.title}`", ""]
        lines += [f"State: $({', '.join(sym(n) for n in self.state)})$; "
                  f"one eigen-direction of curvature $h$, gradient $g = h\\,y$ at the rule's "
                  f"gradient point.", ""]
        lines += ["Assumptions: " + "; ".join(self.assumptions) + ".", ""]
        lines += ["## Iteration matrix", "", f"$$T(h) = {lx(self.iteration_matrix)}$$", ""]
        lines += ["## Characteristic polynomial", "",
                  f"$$p(z) = {lx(self.charpoly)}$$", ""]
        if self.zero_roots:
            lines += [f"({self.zero_roots} trivial zero root(s) of $\\det(zI - T)$ dropped: they "
                      f"do not affect stability or the rate.)", ""]
        lines += ["Coefficients: " + ", ".join(f"${k[0]}_{k[1:]} = {lx(v)}$"
                                                for k, v in self.coefficients.items()), ""]
        lines += ["## Stability (Schur–Cohn / Jury)", "", "Conditions:", ""]
        lines += [f"- ${lx(c)} > 0$" for c in self.jury]
        lines += ["", "Simplified under the assumptions:", ""]
        lines += [f"- ${lx(c)}$" for c in self.stability]
        lines += [""]
        if self.lr_bound is not None:
            lines += [f"Largest stable learning rate: ${sym('lr')} < {lx(self.lr_bound)}$", ""]
        if self.h_bound is not None:
            lines += [f"Largest stable curvature (sharpness threshold): $h < {lx(self.h_bound)}$", ""]
        lines += ["## Regimes and spectral radius", ""]
        if self.discriminant is not None:
            lines += [f"Discriminant $\\Delta = {lx(self.discriminant)}$; it vanishes at", ""]
            for k, v in self.discriminant_zeros.items():
                lines += [f"- ${sym(k)} \\in \\{{{', '.join(lx(x) for x in v)}\\}}$"]
            lines += [""]
        lines += ["| regime | condition | spectral radius |", "|---|---|---|"]
        for r in self.regimes:
            rho = f"${lx(r.spectral_radius)}$" if r.spectral_radius is not None else r"$\ge 1$"
            lines += [f"| {r.name} ({r.description}) | ${lx(r.condition)}$ | {rho} |"]
        lines += ["", f"$$\\rho = {lx(self.spectral_radius)}$$", ""]
        lines += ["## Worst case over $h \\in [\\mu, L]$", "",
                  "The maximum of the spectral radius over an interval is attained at an endpoint "
                  "or where the discriminant vanishes (the characteristic polynomial is affine in "
                  "$h$, so no root is stationary in $h$): candidates "
                  + ", ".join(f"$h = {lx(x)}$" for x in self.worst_case_candidates) + ".", ""]
        lines += ["## Optimal tuning", ""]
        if not self.tunings:
            lines += ["No closed form derived for this variant.", ""]
        for t in self.tunings:
            lines += [f"**{t.name}** — {t.principle}.", ""]
            lines += [f"- ${sym(k)} = {lx(v)}$" for k, v in t.values.items()]
            lines += [f"- worst-case rate $= {lx(t.rate)}$", "",
                      f"(checked: at $\\kappa = {t.check['kappa']}$ the exact worst case is "
                      f"{t.check['worst_case']:.9g}, the derived rate {t.check['rate']:.9g}.)", ""]
        lines += ["## Equivalences", ""]
        for e in self.equivalences:
            lines += [f"- {e.statement}."]
            if e.counterexample:
                lines += [f"  Counterexample with the same hyperparameters "
                          f"({_kv(e.counterexample['values'])}): roots "
                          f"{', '.join(e.counterexample['roots_a'])} vs "
                          f"{', '.join(e.counterexample['roots_b'])}."]
            ex = e.schedule.get("example") if e.schedule else None
            if ex:
                lines += [f"  State map (library -> textbook) ${e.schedule['state_map']}$ depends on "
                          f"lr; two steps with lr = {ex['lr1']}, {ex['lr2']} ({_kv(ex['values'])}): "
                          f"products differ by {ex['difference']} (0 at constant lr)."]
            tr = e.schedule.get("trajectory") if e.schedule else None
            if tr:
                lines += [f"  From rest at x0 = 1, x after the two steps: library "
                          f"{tr['schedule']['library']:.6g}, textbook {tr['schedule']['textbook']:.6g} "
                          f"(constant lr: {tr['constant']['library']:.6g} vs "
                          f"{tr['constant']['textbook']:.6g})."]
        lines += [""]
        return "\n".join(lines)

    def to_text(self) -> str:
        """Plain readable text (the CLI's default output)."""
        lines = [f"{self.title}: state ({', '.join(self.state)}), one eigen-direction of curvature h"]
        lines += ["assuming " + "; ".join(self.assumptions)]
        lines += ["", "iteration matrix T(h):"]
        lines += [f"  [{', '.join(str(x) for x in row)}]" for row in self.iteration_matrix.tolist()]
        lines += ["", f"characteristic polynomial: p(z) = {self.charpoly}"]
        if self.zero_roots:
            lines += [f"  ({self.zero_roots} trivial zero root(s) dropped)"]
        lines += ["  " + ", ".join(f"{k} = {v}" for k, v in self.coefficients.items())]
        lines += ["", "Jury conditions: " + "; ".join(f"{c} > 0" for c in self.jury)]
        lines += ["stable iff: " + ("; ".join(str(c) for c in self.stability) or "always")]
        if self.lr_bound is not None:
            lines += [f"largest stable lr: {self.lr_bound}"]
        if self.h_bound is not None:
            lines += [f"largest stable curvature h: {self.h_bound}"]
        if self.discriminant is not None:
            lines += ["", f"discriminant: {self.discriminant}"]
            for k, v in self.discriminant_zeros.items():
                lines += [f"  = 0 at {k} in {{{', '.join(str(x) for x in v)}}}"]
        lines += ["", "regimes:"]
        for r in self.regimes:
            rho = r.spectral_radius if r.spectral_radius is not None else ">= 1"
            lines += [f"  {r.name}: rho = {rho}", f"      when {r.condition}"]
        lines += ["", "worst case over h in [mu, L]: max of rho at h in {"
                  + ", ".join(str(x) for x in self.worst_case_candidates) + "} (inside [mu, L])"]
        lines += ["", "optimal tuning:" if self.tunings else "optimal tuning: no closed form derived"]
        for t in self.tunings:
            lines += [f"  {t.name} ({t.principle}):"]
            lines += [f"    {k} = {v}" for k, v in t.values.items()]
            lines += [f"    rate = {t.rate}   [kappa = {t.check['kappa']}: {t.check['rate']:.9g}, "
                      f"exact worst case {t.check['worst_case']:.9g}]"]
        if self.equivalences:
            lines += ["", "equivalences:"]
            lines += [f"  - {e.statement}" for e in self.equivalences]
        if self.methods:
            lines += ["", "methods:"]
            lines += [f"  {k}: {v}" for k, v in self.methods.items()]
        return "\n".join(lines) + "\n"

    def to_latex(self, notation: str = "plain") -> str:
        """A LaTeX fragment (needs amsmath) with every derived object.

        ``notation``: ``"plain"`` (symbols named like the kernel arguments) or ``"literature"``
        (each hyperparameter's declared symbol, e.g. ``\\alpha`` for lr): see
        :mod:`optanalysis.symbolic.notation`."""
        lx, sym = self._printers(notation)
        name = self.title.replace("_", r"\_")
        out = [rf"\subsection*{{Derivation: \texttt{{{name}}}}}",
               r"\begin{align*}",
               rf"T(h) &= {lx(self.iteration_matrix)} \\",
               rf"p(z) &= {lx(self.charpoly)}"]
        out += [rf"\\ &{lx(c)} > 0" for c in self.jury]
        out += [r"\end{align*}", r"Stable iff", r"\begin{align*}"]
        out += [" \\\\\n".join(f"&{lx(c)}" for c in self.stability) or "&\\text{always}"]
        out += [r"\end{align*}"]
        if self.discriminant is not None:
            out += [rf"Discriminant: $\Delta = {lx(self.discriminant)}$.", ""]
        out += [r"\begin{align*}", rf"\rho &= {lx(self.spectral_radius)}", r"\end{align*}"]
        out += [rf"\paragraph{{{r.name}}} ${r.to_latex(notation)}$." for r in self.regimes]
        for t in self.tunings:
            out += [rf"\paragraph{{Tuning ({t.name})}} ${t.to_latex(notation)}$."]
        for e in self.equivalences:
            out += [r"\paragraph{Equivalence} " + e.statement.replace("_", r"\_") + "."]
        return "\n".join(out) + "\n"

    def _repr_latex_(self) -> str:
        """Jupyter: the recurrence, its polynomial and the stability bound, typeset."""
        lx, sym = self._printers("literature")
        rows = [rf"T(h) &= {lx(self.iteration_matrix)}", rf"p(z) &= {lx(self.charpoly)}"]
        if self.lr_bound is not None:
            rows.append(rf"{sym('lr')} &< {lx(self.lr_bound)}")
        if self.h_bound is not None:
            rows.append(rf"h &< {lx(self.h_bound)}")
        return r"$$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$$"

    def _repr_markdown_(self) -> str:
        return self.to_markdown(notation="literature")


def _kv(d: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in d.items())


def _fmt_value(v):
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return v
    return str(v)


def _str(x):
    return None if x is None else str(x)


def _equivalence_dict(e: EquivalenceResult) -> dict:
    return {"statement": e.statement, "holds": e.holds,
            "mapping": {k: str(v) for k, v in e.mapping.items()},
            "identity_holds": e.identity_holds, "zero_roots": list(e.zero_roots),
            "counterexample": e.counterexample or None, "schedule": e.schedule or None}


# --------------------------------------------------------------------------------------------
# Symbols and parsing


def symbol_table(rule=None, **fixed) -> dict:
    """Name -> SymPy symbol (with assumptions) for z, h, mu, L, kappa and the hyperparameters."""
    table = {"z": Z, "h": H, "mu": MU, "L": L, "kappa": KAPPA}
    if rule is not None:
        table.update({k: v for k, v in hyper_symbols(get_rule(rule), **fixed).items()
                      if isinstance(v, sympy.Symbol)})
    return table


def parse(text: str, rule=None, **fixed):
    """Read back an expression string of :meth:`Derivation.to_dict` with the derivation's symbols
    (checked token by token first: see :func:`optanalysis.symbolic.parsing.parse`)."""
    return parsing.parse(text, symbol_table(rule, **fixed))


# --------------------------------------------------------------------------------------------
# Computing a derivation


def _compute(rule_name: str, fixed: dict) -> Derivation:
    import time

    t0 = time.perf_counter()
    rule = get_rule(rule_name)
    if not rule.linear:
        raise ValueError(f"rule {rule.name!r} is adaptive (nonlinear): derive its linearisation with "
                         f"--linearize")
    hp = hyper_symbols(rule, **fixed)
    params = dict(fixed)  # as given, plus what the constraints pin (see derive)
    T = sympy.ImmutableMatrix(iteration_matrix(rule, **fixed))
    cp = analysis.characteristic_polynomial(rule, **fixed)
    coeffs = {f"c{cp.degree - 1 - i}": cp.compact(c) for i, c in enumerate(cp.coeffs)}
    jury = tuple(sympy.factor(e) for e in analysis.jury_conditions(cp))
    st = analysis.stability(rule, cp)
    lr = hp.get("lr")
    lr_bound = st.upper if isinstance(lr, sympy.Symbol) and st.var == lr else None
    sth = analysis.stability(rule, cp, var=H)
    h_bound = sth.upper
    stable = st.conditions
    D = cp.discriminant
    zeros = {}
    if D is not None:
        cs = analysis.coefficient_symbols(rule, hp)
        targets = [x for x in (lr, H) if isinstance(x, sympy.Symbol)]
        targets += [x for x in sorted(cp.c0.free_symbols - set(targets) - {H}, key=str)]
        for x in targets:
            zeros[x.name] = tuple(analysis.tidy(analysis.nice(z), cs)
                                  for z in analysis.zeros_of(D, x))
    regimes = analysis.regimes(cp, stable)
    rho = analysis.spectral_radius_expr(cp)
    methods = {}
    if cp.degree <= 2:
        hcands = tuple(zeros.get("h", ()))
        # at a zero of the discriminant the double root is -c1/2
        crit = [sympy.factor(sympy.Abs(cp.c1.subs(H, hv)) / 2) for hv in hcands]
    else:  # per factor in z: a quadratic factor's discriminant zeros in h, as above
        hcands, crit = (), []
        for q in analysis.factors(cp):
            if q.degree() == 2:
                c1, c0 = q.all_coeffs()[1:]
                for hv in (analysis.zeros_of(c1**2 - 4 * c0, H) if (c1**2 - 4 * c0).has(H) else ()):
                    hcands += (analysis.nice(hv),)
                    crit.append(sympy.factor(sympy.Abs(c1.subs(H, hv)) / 2))
        if any(q.degree() >= 3 for q in analysis.factors(cp)):
            methods["worst_case"] = (
                "an irreducible factor of p(z) has degree >= 3: the expression is max_abs_root at "
                "mu, L and the candidates; its interior maxima are found numerically "
                "(optanalysis.worst_case / symbolic.numeric.worst_case_rate: zeros of the "
                "discriminant and a log-spaced grid refined by Brent, see symbolic/schur.py)")
        if st.unresolved and lr_bound is not None:
            lr_bound = None  # the affine conditions alone do not give the bound
        if sth.unresolved:
            h_bound = None
        if lr_bound is None and isinstance(lr, sympy.Symbol):
            from .schur import StableLr

            methods["lr_bound"] = ("no closed form from Jury's conditions; certified numerically "
                                   "by optanalysis.largest_stable_lr(rule, h, **params): "
                                   + StableLr.method)
    cands = (MU, L) + hcands
    inner = [sympy.Piecewise((c, sympy.And(MU < hv, hv < L)), (0, True)) for c, hv in zip(crit, hcands)]
    worst = sympy.Max(rho.subs(H, MU), rho.subs(H, L), *inner)
    tunings, note = _tunings(rule, fixed)
    if note:
        methods["tuning"] = note
    eqs = tuple(equivalence.check_claim(c) for c in equivalence.claims_for(rule.name))
    ranges = []
    for p in rule.hyper:
        v = hp[p.name]
        if p.flag:
            ranges.append(f"{p.name} = {str(v).lower()}")
        elif isinstance(v, sympy.Symbol):
            ranges.append(f"{p.name} in {p.range} (generic interior value)")
        else:
            ranges.append(f"{p.name} = {v}")
    assumptions = ("h > 0 (curvature of the eigen-direction)", *ranges,
                   "steady state t >= 2 (the first step may differ)")
    return Derivation(
        rule=rule.name, params=params, state=tuple(rule.state), hyper=hp, assumptions=assumptions,
        iteration_matrix=T, charpoly=cp.display, degree=cp.degree, zero_roots=cp.zero_roots,
        coefficients=coeffs, jury=jury, stability=stable, lr_bound=lr_bound, h_bound=h_bound,
        discriminant=D, discriminant_zeros=zeros, regimes=regimes, spectral_radius=rho,
        worst_case_candidates=cands, worst_case_rate=worst, tunings=tunings, equivalences=eqs,
        seconds=time.perf_counter() - t0, methods=methods)


TUNING_BUDGET = 30.0  # seconds SymPy may spend on the tuning of a rule from outside the package


def _tunings(rule, fixed: dict) -> tuple:
    """(optimal tunings, note): a rule from outside the package gets ``TUNING_BUDGET`` seconds
    (SymPy's ``solve`` can run for minutes on some systems; a user's ``derive`` must return),
    enforced by ``SIGALRM`` when called from the main thread of a POSIX process."""
    import signal
    import threading

    builtin = rule.module.__name__.startswith("optanalysis.rules.")
    if builtin or not hasattr(signal, "setitimer") \
            or threading.current_thread() is not threading.main_thread():
        return tuning.optimal_tunings(rule, **fixed), ""

    class _Budget(Exception):
        pass

    def expire(signum, frame):
        raise _Budget

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, TUNING_BUDGET)
    try:
        return tuning.optimal_tunings(rule, **fixed), ""
    except _Budget:
        return (), (f"not derived: SymPy did not solve the tuning conditions within "
                    f"{TUNING_BUDGET:g} s (the budget of a rule from outside the package)")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------------------------
# Caches


def cache_key(rule, **fixed) -> str:
    """The key of a derivation: sources of the rule (and of the rules its equivalences involve),
    of this package, the fixed values, the SymPy version and the format version."""
    rule = get_rule(rule)
    names = {rule.name}
    for c in equivalence.claims_for(rule.name):
        names |= {c.rule_a, c.rule_b}
    parts = [f"{n} {source_key(rule if n == rule.name else n)}" for n in sorted(names)]
    return disk.key(*parts, repr(sorted((k, repr(v)) for k, v in fixed.items())))


@lru_cache(maxsize=None)
def _derive(rule_name: str, key: str, fixed: tuple, use_disk: bool) -> Derivation:
    if use_disk:
        hit = disk.load("derivations", rule_name, key, Derivation, (Regime, TuningResult, EquivalenceResult))
        if hit is not None:
            return hit
    d = _compute(rule_name, dict(fixed))
    if use_disk:
        disk.store("derivations", rule_name, key, d)
    return d


def derive(rule, *, cache: bool = True, **fixed) -> Derivation:
    """The :class:`Derivation` of a linear rule, from its definition (cached, see module doc).

    Parameters
    ----------
    rule : str or Rule
    cache : bool
        Use the on-disk cache (the in-process cache is always used; its key changes with the
        sources too).
    **fixed
        Hyperparameters to fix (flags such as ``nesterov=True``, or special values such as
        ``momentum=0``); the others stay symbols.

    Returns
    -------
    Derivation
        SymPy expressions; ``to_latex()`` typesets them, in Jupyter it displays as LaTeX.

    Examples
    --------
    >>> import optanalysis as oa
    >>> d = oa.derive("heavy_ball")
    >>> d.charpoly  # det(z I - T(h))
    momentum + z**2 + z*(h*lr - momentum - 1)
    >>> d.lr_bound  # Jury: stable iff lr < lr_bound
    2*(momentum + 1)/h
    >>> polyak = d.tunings[0]
    >>> polyak.name, polyak.rate
    ('Polyak', (sqrt(kappa) - 1)/(sqrt(kappa) + 1))
    """
    rule = get_rule(rule)
    boolean(cache, "cache")
    for k, v in fixed.items():  # validate names and values now (one-line errors in the CLI)
        p = next((q for q in rule.hyper if q.name == k), None)
        if p is None:
            raise ValueError(f"unknown hyperparameter {k!r} for rule {rule.name!r}; "
                             f"valid: {', '.join(rule.hyper_names)}")
        fixed[k] = p.validate(v)
    fixed = with_pinned(rule, fixed)
    key = cache_key(rule, **fixed)
    return _derive(rule.name, key, tuple(sorted(fixed.items())), cache)
