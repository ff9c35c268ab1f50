"""Period-2 orbits of the adaptive rules with eps = 0 (sign-like behaviour), derived from the rules.

Method
    With eps = 0 RMSProp and Adam are homogeneous: on f(x) = 1/2 h x^2 the map F is equivariant
    under the sign flip S (x and the first-moment state odd, the second moment even), and has
    no differentiable fixed point at the minimiser.  A period-2 orbit alternating in sign is a
    solution of ``F(s) = S s``; it is solved from the rule's own symbolic update (steady state,
    bias corrections -> 1).  Its stability is decided by the Jacobian of the two-step map
    ``F o F`` at the orbit, ``J(S s) J(s)``: the orbit attracts nearby iterates iff every
    eigenvalue lies inside the unit circle.

Theoretical guarantee on quadratics
    RMSProp (eps = 0, no momentum): the orbit is x = +-lr/2 with v = (h lr/2)^2, independent of
    h and alpha; the two-step Jacobian has the characteristic polynomial
    z^2 - (9 alpha^2 - 8 alpha + 1) z + alpha^2 (a complex pair of modulus alpha for alpha in
    (1/9, 1), two real roots in (0, 1) below): its Jury conditions 8 alpha (1 - alpha) > 0,
    10 alpha^2 - 8 alpha + 2 > 0, alpha^2 < 1 hold, so the orbit attracts for every alpha in
    (0, 1).  Adam (eps = 0) has the orbit x = +-lr (1 - beta1)/(2 (1 + beta1)); its two-step
    characteristic polynomial is a cubic in (beta1, beta2) alone, and a complex pair leaves the
    unit circle where beta2 beta1^2 - 3 (1 + beta2) beta1 + 1 = 0
    (:meth:`Period2Orbit.stability_boundary`): the orbit attracts locally iff
    beta1 < (3 (1 + beta2) - sqrt(9 (1 + beta2)^2 - 4 beta2))/(2 beta2) (0.1717 at
    beta2 = 0.999, 3 - 2 sqrt 2 as beta2 -> 1).  At the default beta1 = 0.9 it repels and the
    iterates wander in a band (see :func:`optanalysis.theory.adaptive.eps0_band`).

References
    docs/reference.md §6.3; C. Ma, L. Wu, W. E (2022), A qualitative study of the dynamic
    behavior for adaptive gradient algorithms, MSML (sign-like late phase of Adam).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import sympy

from ..rules import RULES, get_rule
from . import disk
from .core import T, Z, rule_cached, source_key, update
from .linearization import _closure, _steady, with_zeros
from .notation import Typeset, check_notation, latex, symbol_latex

__all__ = ["Period2Orbit", "period2_orbit"]


@dataclass(frozen=True)
class Period2Orbit(Typeset):
    """A sign-alternating period-2 orbit ``s, S s, s, ...`` of a rule on 1/2 h x^2.

    Attributes
    ----------
    rule : str
    fixed : tuple
        ``(name, value)`` pairs fixed for the derivation (eps = 0 among them).
    state : tuple of str
        The state entries the iterate depends on.
    parity : tuple of int
        +1 / -1 per entry: how it transforms under x -> -x.
    point : dict
        State name -> SymPy expression at the orbit point with x > 0.
    jacobian2 : sympy.Matrix
        Jacobian of the two-step map at that point.
    charpoly2 : sympy.Expr
        Its characteristic polynomial in ``z``.
    """

    rule: str
    fixed: tuple
    state: tuple
    parity: tuple
    point: dict
    jacobian2: sympy.Matrix
    charpoly2: sympy.Expr

    def spectral_radius(self, **values) -> float:
        """Largest ``|eigenvalue|`` of the two-step Jacobian at numeric hyperparameters (and ``h``)."""
        missing = sorted(str(s) for s in self.jacobian2.free_symbols if str(s) not in values)
        if missing:
            raise ValueError(f"spectral_radius needs a value for {', '.join(missing)}")
        sub = {s: values[str(s)] for s in self.jacobian2.free_symbols}
        return float(np.max(np.abs(np.linalg.eigvals(np.array(self.jacobian2.subs(sub), dtype=float)))))

    def stability_boundary(self) -> sympy.Expr:
        """The factored expression whose zeros are where a complex pair of two-step eigenvalues
        crosses the unit circle (Neimark-Sacker): c0 - 1 for z^2 + c1 z + c0; for the cubic
        z^3 + a z^2 + b z + c (roots e^{+-i theta}, r = -c): 1 + a c - c^2 - b."""
        coeffs = sympy.Poly(self.charpoly2, Z).all_coeffs()
        if len(coeffs) == 3:
            return sympy.factor(coeffs[2] - 1)
        if len(coeffs) == 4:
            _, a, b, c = coeffs
            return sympy.factor(1 + a * c - c**2 - b)
        raise ValueError(f"two-step map of dimension {len(coeffs) - 1}: only 2 and 3 are handled")

    def amplitude(self) -> sympy.Expr:
        """``|x|`` on the orbit."""
        return self.point["x"]

    def to_latex(self, notation: str = "plain") -> str:
        """The orbit point and the two-step characteristic polynomial as one LaTeX line
        (``notation``: see :mod:`optanalysis.symbolic.notation`)."""
        check_notation(notation)
        def value(v, parity):  # odd entries alternate in sign along the orbit
            text = latex(v, self.rule, notation)
            if parity == 1:
                return text
            return r"\mp " + text[2:] if text.startswith("- ") else r"\pm " + text

        point = ",\\ ".join(f"{symbol_latex(k, self.rule, notation)} = {value(v, p)}"
                             for (k, v), p in zip(self.point.items(), self.parity))
        return rf"{point},\quad {latex(self.charpoly2, self.rule, notation)} = 0"

    def _repr_markdown_(self) -> str:
        fixed = ", ".join(f"{k} = {v}" for k, v in self.fixed)
        return (f"Period-2 orbit of **{self.rule}** ({fixed}) on $\\frac{{1}}{{2}} h x^2$, "
                f"alternating in sign, and the characteristic polynomial of its two-step map:"
                f"\n\n{self._repr_latex_()}\n")

    def to_dict(self) -> dict:
        """JSON-able form (SymPy-parsable strings)."""
        return {
            "rule": self.rule,
            "fixed": {k: (v if isinstance(v, bool) else float(v)) for k, v in self.fixed},
            "state": list(self.state),
            "parity": list(self.parity),
            "point": {k: str(v) for k, v in self.point.items()},
            "jacobian2": [[str(e) for e in row] for row in self.jacobian2.tolist()],
            "charpoly2": str(self.charpoly2),
            "latex": self.to_latex(),
        }


def period2_orbit(rule="rmsprop", **params) -> Period2Orbit:
    """The sign-alternating period-2 orbit of an adaptive rule with eps = 0, and its stability.

    Parameters
    ----------
    rule : str or Rule
        A rule that declares ``orbit=True`` (``rmsprop``, ``adam``, ...).
    **params
        Hyperparameters to fix (validated); those the rule declares ``zero_by_default`` or
        ``orbit_zero`` (``eps``, ``weight_decay``, ``momentum``, ...) default to 0; the others
        stay symbols.

    Returns
    -------
    Period2Orbit

    Raises
    ------
    ValueError
        For another rule, invalid hyperparameters, or if no unique orbit with x > 0 exists.
    """
    rule = get_rule(rule)
    if not rule.orbit:
        valid = [n for n, r in RULES.items() if r.orbit]
        raise ValueError(f"rule must be one of {', '.join(valid)} (declared orbit=True), "
                         f"got {rule.name!r}")
    return _orbit(rule, **with_zeros(rule, params, rule.zero_by_default + rule.orbit_zero))


def _refine(expr, coefs):
    # Coefficients are in [0, 1): |beta - 1| = 1 - beta.
    return sympy.refine(expr, sympy.And(*[sympy.Q.lt(c, 1) for c in coefs]))


@rule_cached  # keyed by the rule's source, like every derivation of optanalysis.symbolic
def _orbit(rule, **fixed) -> Period2Orbit:
    """The orbit from the on-disk cache (seconds of SymPy otherwise; see
    :mod:`optanalysis.symbolic.disk`), solved and stored on a miss."""
    key = disk.key(source_key(rule), repr(sorted((k, repr(v)) for k, v in fixed.items())))
    orbit = disk.load("cycles", rule.name, key, Period2Orbit)
    if orbit is None:
        orbit = _solve(rule, **fixed)
        disk.store("cycles", rule.name, key, orbit)
    return orbit


def _solve(rule, **fixed) -> Period2Orbit:
    name = rule.name
    state, new, hp = update(rule, t=T, **fixed)
    new = [_steady(e) for e in new]
    active = _closure(state, new)
    sym = [state[i] for i in active]
    mapped = [new[i] for i in active]
    parity = _parity(sym, mapped)
    # The orbit point with x > 0: even entries (v) are positive, odd ones (m) of either sign.
    unknowns = [sympy.Symbol(f"{s}_o", positive=True) if p == 1 or k == 0 else sympy.Symbol(f"{s}_o", real=True)
                for k, (s, p) in enumerate(zip(sym, parity))]
    at = dict(zip(sym, unknowns))
    eqs = [sympy.simplify(e.subs(at) - p * u) for e, p, u in zip(mapped, parity, unknowns)]
    sols = sympy.solve(eqs, unknowns, dict=True)
    if len(sols) != 1:
        raise ValueError(f"{name}: no unique period-2 orbit with x > 0 for {fixed} "
                         f"(found {len(sols)})")
    point = {s: sols[0][u] for s, u in zip(sym, unknowns)}
    jac = sympy.Matrix(mapped).jacobian(sympy.Matrix(sym))
    flipped = {s: p * v for (s, v), p in zip(point.items(), parity)}
    coefs = [v for v in hp.values() if isinstance(v, sympy.Symbol) and str(v) != "lr"]
    # J(S s) J(s): the second step starts from the mirror image of the orbit point.
    two_step = jac.subs(flipped, simultaneous=True) * jac.subs(point, simultaneous=True)
    two_step = _refine(sympy.simplify(two_step), coefs)
    two_step = two_step.applyfunc(sympy.simplify)
    charpoly = sympy.collect(sympy.expand(two_step.charpoly(Z).as_expr()), Z)
    return Period2Orbit(name, tuple(sorted(fixed.items())), tuple(str(s) for s in sym), parity,
                        {str(s): sympy.factor(v) for s, v in point.items()}, two_step, charpoly)


def _parity(sym, mapped) -> tuple:
    """Signs S (x odd) with F(S s) = S F(s), found by trying every pattern."""
    for signs in itertools.product((-1, 1), repeat=len(sym) - 1):
        par = (-1, *signs)
        flip = {s: p * s for s, p in zip(sym, par)}
        if all(sympy.simplify(e.subs(flip, simultaneous=True) - p * e) == 0 for e, p in zip(mapped, par)):
            return par
    raise ValueError("the map is not sign-equivariant")
