"""Linearisation of the adaptive rules (RMSProp, Adam, Adagrad, NAdam, Adamax, ...) around a frozen
preconditioner.

Method
    On f(x) = 1/2 h x^2 the adaptive rules are nonlinear only through their second-moment state
    (``v``, ``nu``, ``s``).  Holding that state fixed, the Jacobian of the rule's own symbolic
    update (:func:`optanalysis.symbolic.update`) with respect to the remaining state, at the
    minimiser, is a linear recurrence.  Its gradient coefficient factors into a constant part
    and a part depending on the frozen state: the latter is ``1/P``, the diagonal
    preconditioner (``sqrt(v_hat) + eps`` for torch Adam, ``sqrt(nu + eps)`` for optax RMSProp
    with ``eps_in_sqrt``).  Written in the preconditioned curvature ``lam = h/P``, the frozen
    state drops out; matching the characteristic polynomial against heavy ball's (or gradient
    descent's), both computed from :mod:`optanalysis.rules`, gives the equivalent linear rule,
    and the Jury conditions of that polynomial give the largest stable ``lam``.

    A frozen entry the gradient never reaches is a clock of t (NAdam's mu-product): it takes its
    steady value, the fixed point of its update as t -> oo (0).  A max in the frozen entry's
    update (Adamax's u <- max(beta2 u, |g| + eps)) is inverted branch by branch: frozen u is on
    the decaying branch, u >= eps, and P = max(u, eps).

Theoretical guarantee on quadratics
    Adam: heavy ball on P^-1 H with lr (1 - beta1) and momentum beta1, stable iff
    lambda_max(P^-1 H) < (2 + 2 beta1)/((1 - beta1) lr) (38/lr at beta1 = 0.9).  RMSProp without
    momentum: gradient descent on P^-1 H, threshold 2/lr; with momentum, heavy ball with lr and
    momentum (torch's buffer of g/d), threshold (2 + 2 momentum)/lr.  NAdam (steady state):
    Nesterov with lr (1 - beta1) and momentum beta1, threshold
    (2 + 2 beta1)/((1 + 2 beta1)(1 - beta1) lr) (Dozat 2016).  Adamax: Adam's map with
    P = max(u, eps), = eps at the minimiser.

References
    J. M. Cohen et al. (2022), Adaptive Gradient Methods at the Edge of Stability,
    arXiv:2207.14484 (38/lr); docs/reference.md §5.2 and §6.1–§6.2.
"""
from __future__ import annotations

from dataclasses import dataclass
import sympy

from ..rules import RULES, get_rule
from .core import H, T, Z, iteration_matrix, rule_cached, update
from .notation import Typeset, check_notation, latex, symbol_latex

__all__ = ["LAM", "Linearization", "linearize", "linearization_dict", "fixed_point"]

LAM = sympy.Symbol("lam", positive=True)  # preconditioned curvature h / P
_G = sympy.Symbol("g", real=True)  # a free gradient


@dataclass(frozen=True)
class Linearization(Typeset):
    """The frozen-preconditioner linearisation of one adaptive rule (all fields SymPy objects).

    Attributes
    ----------
    rule : str
    fixed : tuple
        ``(name, value)`` pairs fixed by the caller (others are symbols named like the kernel
        arguments).
    tracked, frozen : tuple of str
        State entries of the linear map and the second-moment entries held fixed.
    preconditioner_t : sympy.Expr
        P at step ``t`` in the frozen symbols (their values after the step, e.g. raw ``v``).
    preconditioner : sympy.Expr
        P in the steady state ``t -> oo`` (bias corrections -> 1).
    effective_lr_t : sympy.Expr
        ``-d x_new / d g`` at step ``t``: the step taken per unit gradient (bias corrections
        included).
    matrix : sympy.Matrix
        Steady-state iteration matrix in ``lam = h/P`` (and P, where a momentum state in
        gradient units scales an off-diagonal entry).
    charpoly : sympy.Expr
        Its characteristic polynomial in ``z``.
    equivalent : str or None
        The canonical rule (declared ``canonical``: gd, heavy ball, Nesterov) with the same
        polynomial (None if no match, e.g. AdamW with weight decay).
    mapping : dict
        Hyperparameters of the equivalent rule (``lr``, ``momentum``) in this rule's symbols.
    jury : tuple
        Jury/Schur conditions (expressions that must be > 0) in ``lam``.
    threshold : sympy.Expr
        Largest stable ``lam`` (critical preconditioned sharpness).
    """

    rule: str
    fixed: tuple
    tracked: tuple
    frozen: tuple
    preconditioner_t: sympy.Expr
    preconditioner: sympy.Expr
    effective_lr_t: sympy.Expr
    matrix: sympy.Matrix
    charpoly: sympy.Expr
    equivalent: str
    mapping: dict
    jury: tuple
    threshold: sympy.Expr

    def frozen_symbols(self) -> tuple:
        return tuple(sympy.Symbol(n, positive=True) for n in self.frozen)

    def small_gradient_preconditioner(self) -> sympy.Expr:
        """P when the frozen state is negligible (sqrt(v_hat) << eps): ``eps`` for torch,
        ``sqrt(eps)`` for optax's eps inside the root."""
        return self.preconditioner.subs({s: 0 for s in self.frozen_symbols()})

    def bias_factor(self) -> sympy.Expr:
        """Effective step at step ``t`` over the steady-state one, for a given raw frozen state,
        with eps = 0: the bias-correction factor of the early steps."""
        if "eps" not in {str(s) for s in self.effective_lr_t.free_symbols}:
            return sympy.Integer(1)
        ratio = self.effective_lr_t / _steady(self.effective_lr_t)
        zero = {s: 0 for s in ratio.free_symbols if str(s).startswith("eps")}  # eps, eps_root
        return sympy.factor(sympy.simplify(ratio.subs(zero)))

    def to_latex(self, notation: str = "plain") -> str:
        """P, the characteristic polynomial (in ``z``, curvature ``lam = h/P``) and the threshold
        as one LaTeX line (``notation``: see :mod:`optanalysis.symbolic.notation`)."""
        check_notation(notation)
        lx = lambda e: latex(e, self.rule, notation)  # noqa: E731
        return (rf"P = {lx(self.preconditioner)},\quad {lx(self.charpoly)} = 0,\quad "
                rf"\lambda_{{\max}}(P^{{-1}}H) < {lx(self.threshold)}")

    def to_markdown(self, notation: str = "plain") -> str:
        """A short Markdown account: what is frozen, P, the polynomial, the equivalent rule, the
        threshold."""
        check_notation(notation)
        lx = lambda e: latex(e, self.rule, notation)  # noqa: E731
        lam = symbol_latex("lam", self.rule, notation)
        lines = [f"**{self.rule}** linearised around a frozen preconditioner "
                 f"(frozen {', '.join(self.frozen)}; tracked {', '.join(self.tracked)}).", "",
                 f"$$P = {lx(self.preconditioner)},\\qquad {lam} = h/P$$", "",
                 f"$$p(z) = {lx(self.charpoly)}$$", ""]
        if self.equivalent:
            target = ", ".join(f"`{k}` $= {lx(v)}$" for k, v in self.mapping.items())
            lines += [f"Equivalent to **{self.equivalent}** on $P^{{-1}}H$ with {target}.", ""]
        lines += [f"Stable iff $\\lambda_{{\\max}}(P^{{-1}}H) < {lx(self.threshold)}$.", ""]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown("literature")


def _steady(expr):
    """The limit t -> oo: every power ``c**t`` of a coefficient in [0, 1) vanishes."""
    return expr.replace(lambda e: e.is_Pow and e.exp.has(T), lambda e: sympy.Integer(0))


def _closure(state, new) -> list:
    """Indices of the state entries the new ``x`` depends on, transitively."""
    keep, todo = {0}, [0]
    while todo:
        i = todo.pop()
        for j, sym in enumerate(state):
            if j not in keep and new[i].has(sym):
                keep.add(j)
                todo.append(j)
    return sorted(keep)


def _solve(expr, rhs, var) -> list:
    """The values of ``var`` with ``expr == rhs``.  A max/min (Adamax's max(beta2 u, eps)) is
    solved branch by branch: a branch counts where its solution does not make its own condition
    false (inverting u_new = u: the decaying branch, frozen u >= eps; the fixed point u = eps)."""
    try:
        return sympy.solve(sympy.Eq(expr, rhs), var)
    except NotImplementedError:
        if not expr.has(sympy.Max, sympy.Min):  # other piecewise maps (ASGD's t = 1): no inverse
            return []
    pw = sympy.piecewise_fold(expr.rewrite(sympy.Piecewise))
    if not isinstance(pw, sympy.Piecewise):
        return []
    out, earlier = [], sympy.true  # a branch applies where no earlier condition holds
    for branch, cond in pw.args:
        try:
            sols = sympy.solve(sympy.Eq(branch, rhs), var) if (branch - rhs).has(var) else []
        except NotImplementedError:
            return []
        applies = sympy.And(cond, earlier)
        out += [s for s in sols if applies.subs(var, s) is not sympy.false]
        earlier = sympy.And(earlier, sympy.Not(cond))
    return out


def with_zeros(rule, params: dict, names) -> dict:
    """``params`` with each hyperparameter of ``names`` at 0 unless given, validated."""
    given = {**{n: 0 for n in names}, **params}
    rule.params(**given)  # validates names and ranges
    return given


def _check(rule, params: dict) -> dict:
    if not rule.preconditioner:
        valid = [n for n, r in RULES.items() if r.preconditioner]
        raise ValueError(f"rule {rule.name!r} is not adaptive (declares no preconditioner); "
                         f"linearize applies to {', '.join(valid)}")
    for flag in rule.linearize_excludes:
        if params.get(flag, False):
            raise ValueError(f"{flag}=true is not supported by the linearisation (valid: false)")
    # excluded flags are false unless given (NAdam's float32 mu-product is on by default)
    params = {**{f: False for f in rule.linearize_excludes}, **params}
    return with_zeros(rule, params, rule.zero_by_default)


def linearize(rule, **params) -> Linearization:
    """Frozen-preconditioner linearisation of an adaptive rule, derived from its definition.

    Parameters
    ----------
    rule : str or Rule
        An adaptive rule (one that declares a ``preconditioner``: ``adam``, ``rmsprop``, ...).
    **params
        Hyperparameters to fix (validated by ``Rule.params``); the others stay symbols.
        Those the rule declares ``zero_by_default`` (weight decay, initial values, ...) default
        to 0; the flags it declares ``linearize_excludes`` (``amsgrad``) must be false.

    Returns
    -------
    Linearization
    """
    rule = get_rule(rule)
    given = _check(rule, params)
    return _linearize(rule, **given)


@rule_cached  # keyed by the rule's source, like every derivation of optanalysis.symbolic
def _linearize(rule, **fixed) -> Linearization:
    name = rule.name
    state, new_free, _ = update(rule, t=T, g=_G, **fixed)
    _, new_quad, _ = update(rule, t=T, **fixed)
    frozen_idx = [i for i, n in enumerate(rule.state) if n in rule.preconditioner]
    active = _closure(state, new_quad)
    tracked = [i for i in active if i not in frozen_idx]
    frozen = [i for i in active if i in frozen_idx]
    at_min = {state[i]: 0 for i in tracked}
    # A frozen entry that the gradient never reaches is a clock (NAdam's mu-product, a function
    # of t alone): it takes its steady-state value, the fixed point of its update as t -> oo.
    for i in list(frozen):
        if not new_free[i].has(_G, *at_min):
            sol = sympy.solve(sympy.Eq(_steady(new_free[i]), state[i]), state[i])
            if len(sol) == 1 and not sol[0].has(T):  # not ASGD's eta(t): no steady value
                at_min[state[i]] = sol[0]
                frozen.remove(i)
    # Name the frozen state by its value after the step (what the step divides by): invert its
    # zero-gradient update, e.g. v_old = v / beta2.
    rename = {}
    for i in frozen:
        after = sympy.Symbol(rule.state[i], positive=True)
        sol = _solve(new_free[i].subs(at_min).subs(_G, 0), after, state[i])
        if len(sol) != 1:
            raise ValueError(f"rule {name!r}: cannot invert the zero-gradient update of {rule.state[i]!r}, "
                             "so the frozen-preconditioner linearisation does not apply")
        rename[state[i]] = sol[0]
    grad_coef = sympy.diff(new_free[0], _G).subs(at_min).subs(_G, 0).subs(rename)
    effective_lr_t = -grad_coef  # unsimplified: keeps the rule's own grouping, e.g. sqrt(v_hat) + eps
    frozen_syms = [sympy.Symbol(rule.state[i], positive=True) for i in frozen]
    product = effective_lr_t if effective_lr_t.is_Mul else sympy.factor_terms(effective_lr_t)
    _, dep = product.as_independent(*frozen_syms, as_Add=False)
    preconditioner_t = 1 / dep
    if frozen_syms and not preconditioner_t.has(*frozen_syms):
        raise ValueError(f"rule {name!r}: the step does not depend on the frozen state")
    preconditioner = _steady(preconditioner_t)
    # typical hyperparameter values (1/2 for those in [0, 1)), to decide signs SymPy cannot
    sample = {sympy.Symbol(p.name, positive=True): sympy.Rational(1, 2) if p.high == 1 else 1
              for p in rule.hyper if not p.flag}
    # a P without a sign there (RAdam's rectification switch, NAdam's rounded product) is refused
    if not preconditioner.subs({s: 1 for s in preconditioner.free_symbols} | sample).is_positive:
        raise ValueError(f"rule {name!r}: the frozen-preconditioner linearisation gives no positive "
                         f"preconditioner (P = {preconditioner}), so it does not apply")

    jac = sympy.Matrix([new_quad[i] for i in tracked]).jacobian(sympy.Matrix([state[i] for i in tracked]))
    jac = _steady(jac.subs(at_min).subs(rename))
    # The momentum state is in gradient units, so the matrix keeps P in an off-diagonal entry;
    # its characteristic polynomial (similarity invariant) must depend on lam alone.
    matrix = sympy.simplify(jac.subs(H, LAM * preconditioner))
    charpoly = sympy.expand(sympy.simplify(matrix.charpoly(Z).as_expr()))
    if charpoly.has(*frozen_syms):
        raise ValueError(f"rule {name!r}: the linearisation does not reduce to h/P")
    equivalent, mapping = _equivalent(charpoly)
    jury = _jury(charpoly)
    threshold = _threshold(jury, sample)
    return Linearization(name, tuple(sorted(fixed.items())), tuple(rule.state[i] for i in tracked),
                         tuple(rule.state[i] for i in frozen), preconditioner_t, preconditioner,
                         effective_lr_t, matrix, charpoly, equivalent, mapping, jury, threshold)


def _equivalent(charpoly) -> tuple:
    """Match ``charpoly`` with the polynomial of a canonical rule of the same degree (gd, heavy
    ball, Nesterov: those declared ``canonical``, in registry order) in the curvature ``lam``,
    solving for its hyperparameters and checking the match; the reference polynomials come from
    their own rule definitions.  ``(None, {})`` when none matches (e.g. AdamW's decoupled
    decay)."""
    degree = sympy.Poly(charpoly, Z).degree()
    for target in [n for n, r in RULES.items() if r.canonical]:
        ref = iteration_matrix(target).charpoly(Z).as_expr()
        if sympy.Poly(ref, Z).degree() != degree:
            continue
        names = get_rule(target).hyper_names
        unknowns = {n: sympy.Symbol(f"{n}_{target}", positive=True) for n in names}
        ref = ref.subs({sympy.Symbol(n, positive=True): u for n, u in unknowns.items()}).subs(H, LAM)
        diff = sympy.Poly(sympy.expand(charpoly - ref), Z, LAM).coeffs()
        for sol in sympy.solve(diff, list(unknowns.values()), dict=True):
            if len(sol) == len(unknowns) and sympy.simplify(sympy.expand(charpoly - ref.subs(sol))) == 0:
                return target, {n: sympy.factor(sol[u]) for n, u in unknowns.items()}
    return None, {}


def _jury(charpoly) -> tuple:
    """Schur-Cohn/Jury conditions (each expression > 0) for a monic polynomial of degree 1 or 2."""
    c = sympy.Poly(charpoly, Z).all_coeffs()
    if len(c) == 2:  # z + c0
        return (sympy.factor(1 - c[1]), sympy.factor(1 + c[1]))
    if len(c) != 3:
        raise ValueError(f"linearised recurrence of degree {len(c) - 1}: only degrees 1 and 2 are handled")
    _, c1, c0 = c
    return (sympy.factor(1 - c0), sympy.factor(1 + c0), sympy.factor(1 + c1 + c0),
            sympy.factor(1 - c1 + c0))


def _threshold(jury, sample: dict) -> sympy.Expr:
    """Largest stable ``lam``: the positive root(s) of the Jury boundaries (Min if several).

    A root is kept when it is positive at ``sample`` (typical hyperparameter values), since with
    symbolic hyperparameters SymPy cannot always decide its sign."""
    roots = set()
    for cond in jury:
        if cond.has(LAM):
            for r in sympy.solve(sympy.Eq(cond, 0), LAM):
                value = r.subs(sample)
                if r != 0 and value.is_real and value > 0:
                    roots.add(r)
    if not roots:
        return sympy.oo
    coefs = {s for s, v in sample.items() if v == sympy.Rational(1, 2)}  # those in [0, 1)
    roots = [r for r in roots if not any(r != q and _larger(r, q, coefs) for q in roots)]
    return sympy.factor(sympy.Min(*roots)) if len(roots) > 1 else sympy.factor(roots.pop())


def _larger(a, b, coefs) -> bool:
    """``a > b`` for every coefficient in (0, 1) and every other symbol positive (proven by SymPy
    with each coefficient c = 1/(1 + w), w > 0), so that Min(a, b) is b (NAdam's Nesterov
    threshold against the 1 + c0 > 0 boundary)."""
    w = {c: sympy.Symbol(f"_w_{c}", positive=True) for c in coefs & (a - b).free_symbols}
    return sympy.factor(sympy.simplify((a - b).subs({c: 1 / (1 + w[c]) for c in w}))).is_positive is True


def linearization_dict(rule, **params) -> dict:
    """JSON-able summary of :func:`linearize` (strings parse with ``sympy.sympify``).

    Keys: ``rule``, ``fixed``, ``tracked``, ``frozen``, ``preconditioner``,
    ``preconditioner_t``, ``effective_lr_t``, ``bias_factor``, ``matrix``, ``charpoly``,
    ``equivalent``, ``mapping``, ``jury``, ``threshold`` (largest stable lambda_max(P^-1 H), in
    the hyperparameters' names), ``threshold_h_small_gradient`` (largest stable h when
    sqrt(v_hat) << eps), ``fixed_point`` (:func:`fixed_point` without its ``rule``),
    ``latex``.
    """
    lin = linearize(rule, **params)
    small = lin.small_gradient_preconditioner()
    return {
        "rule": lin.rule,
        "fixed": {k: (v if isinstance(v, bool) else float(v)) for k, v in lin.fixed},
        "tracked": list(lin.tracked),
        "frozen": list(lin.frozen),
        "preconditioner": str(lin.preconditioner),
        "preconditioner_t": str(lin.preconditioner_t),
        "effective_lr_t": str(lin.effective_lr_t),
        "bias_factor": str(lin.bias_factor()),
        "matrix": [[str(e) for e in row] for row in lin.matrix.tolist()],
        "charpoly": str(lin.charpoly),
        "equivalent": lin.equivalent,
        "mapping": {k: str(v) for k, v in lin.mapping.items()},
        "jury": [f"{c} > 0" for c in lin.jury],
        "threshold": str(lin.threshold),
        "threshold_h_small_gradient": str(sympy.factor(lin.threshold * small)),
        "fixed_point": {k: v for k, v in fixed_point(rule, **params).items() if k != "rule"},
        "latex": lin.to_latex(),
    }


def _limit(e, sym, value, rule):
    """lim e as ``sym`` -> ``value``+.  Where SymPy has no series (Adamax's max(eps, beta2 u), a
    continuous function of u > 0) it is the value at ``value``.  A max, min or step function
    left is decided by the ranges of the coefficients in [0, 1) (beta2 = 1/(1 + w), w > 0, so
    max(eps, beta2 eps) = eps and Heaviside(beta2 eps - eps) = 0)."""
    try:
        e = sympy.limit(e, sym, value, "+")
    except (NotImplementedError, ValueError):
        e = e.subs(sym, value)
    if not e.has(sympy.Max, sympy.Min, sympy.Heaviside):
        return e
    coefs = [sympy.Symbol(p.name, positive=True) for p in rule.hyper
             if not p.flag and p.low == 0 and p.high == 1]
    w = {c: sympy.Symbol(f"_w_{c}", positive=True) for c in coefs}
    e = sympy.simplify(e.subs({c: 1 / (1 + w[c]) for c in coefs}))
    return sympy.simplify(e.subs({w[c]: 1 / c - 1 for c in coefs}))


def fixed_point(rule, **params) -> dict:
    """The full (not frozen) Jacobian of the nonlinear map at its fixed points, steady state.

    The fixed points on 1/2 h x^2 are the minimiser with the second-moment state at a fixed
    point of its zero-gradient update: ``v = 0`` for the exponential averages (a point), any
    ``s >= 0`` for Adagrad's sum (a neutral family, eigenvalue 1).  At ``v = 0`` the Jacobian is
    the limit ``v -> 0+``: finite for eps > 0 (then P = eps: the small-gradient regime), infinite
    for eps = 0, where the map is not differentiable (it is homogeneous of degree one in
    (x, m, sqrt(v)) and the linearisation predicts nothing).

    Returns
    -------
    dict
        ``state``, ``point`` (state name -> value), ``jacobian`` (rows of strings),
        ``charpoly`` (factored, in ``z``), ``singular_at_eps0`` (bool), ``stable_if`` (the
        condition on ``h`` for local stability of the tracked directions, strings).
    """
    rule = get_rule(rule)
    given = _check(rule, params)
    lin = linearize(rule, **params)
    state, new_quad, _ = update(rule, t=T, **given)
    active = _closure(state, new_quad)
    names = [rule.state[i] for i in active]
    point, limits = {}, {}
    for i in active:
        if rule.state[i] not in lin.frozen:
            point[state[i]] = 0
            continue
        at_zero = new_quad[i].subs({state[j]: 0 for j in active if rule.state[j] in lin.tracked})
        eq = sympy.simplify(at_zero - state[i])
        if eq == 0:  # every value is a fixed point (Adagrad's sum)
            point[state[i]] = sympy.Symbol(rule.state[i], positive=True)
        else:
            (value,) = _solve(at_zero, state[i], state[i])
            pos = sympy.Symbol(rule.state[i], positive=True)
            point[state[i]] = pos
            limits[pos] = value
    jac = sympy.Matrix([new_quad[i] for i in active]).jacobian(sympy.Matrix([state[i] for i in active]))
    jac = _steady(jac.subs(point))
    for sym, value in limits.items():
        jac = jac.applyfunc(lambda e: _limit(e, sym, value, rule))
    eps = sympy.Symbol("eps", positive=True)
    singular = any(e.subs(eps, 0).has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan)
                   for e in jac.applyfunc(lambda e: sympy.limit(e, eps, 0, "+")))
    p_at = lin.preconditioner.subs({sympy.Symbol(n, positive=True): point_value
                                    for n, point_value in
                                    ((rule.state[i], limits.get(point[state[i]], point[state[i]]))
                                     for i in active if rule.state[i] in lin.frozen)})
    return {
        "rule": rule.name,
        "state": names,
        "point": {rule.state[i]: str(limits.get(point[state[i]], point[state[i]])) for i in active},
        "jacobian": [[str(e) for e in row] for row in jac.tolist()],
        "charpoly": str(sympy.factor(jac.charpoly(Z).as_expr())),
        "singular_at_eps0": bool(singular),
        "stable_if": f"h < {sympy.factor(lin.threshold * p_at)}",
    }
