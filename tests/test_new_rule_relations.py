"""The relations the adaptive rules of issue 24 state with other rules, proven on their symbolic steps.

What kind of relation: NAdam and Adamax are nonlinear, so no identity of trajectories holds; what
is proven is that, with the preconditioner held fixed (``v``, ``u`` frozen at a value P), the map
of the remaining state (x, m) on f = h x^2/2 is exactly that of a linear rule:
* NAdam in the steady state (t -> oo: mu_t -> beta1, mu_prod -> 0) is QHM with nu = momentum =
  beta1 and lr/P, hence (proven by the engine on the ``qhm`` rule) Nesterov with lr (1 - beta1)/P
  and momentum beta1: "Nesterov + Adam" (Dozat 2016);
* Adamax, u frozen, is Adam with sqrt(v_hat) + eps frozen at the same P (both heavy ball on h/P
  with lr (1 - beta1) lr / (1 - beta1^t) and momentum beta1): the infinity-norm Adam differs from
  Adam only in how P is formed (Kingma & Ba 2015, Sec. 7.1).
"""
import sympy

from optanalysis.rules import get_rule
from optanalysis.symbolic.core import T, update


def _frozen_map(rule, tracked, frozen_values, **fixed):
    """Jacobian of the tracked state's update w.r.t. the tracked state at the minimiser (tracked
    state 0, as the engine's linearisation), the other entries given their frozen values."""
    s, new, hp = update(rule, t=T, **fixed)
    names = get_rule(rule).state
    sub = {sym: frozen_values[n] for sym, n in zip(s, names) if n in frozen_values}
    idx = [names.index(n) for n in tracked]
    vec = sympy.Matrix([new[i].subs(sub) for i in idx])
    return vec.jacobian([s[i] for i in idx]).subs({s[i]: 0 for i in idx}), hp


def _steady(e):
    """t -> oo in NAdam's coefficients: the momentum warm-up 0.96^(t psi) (psi > 0) vanishes."""
    return e.replace(lambda a: a.is_Pow and a.base.is_Number and 0 < a.base < 1, lambda a: sympy.Integer(0))


def test_nadam_frozen_steady_state_is_qhm_with_nu_equal_beta1():
    Q = sympy.Symbol("Q", positive=True)  # the frozen den = sqrt(v_hat) + eps is P = Q + eps
    b1, lr = sympy.Symbol("beta1", positive=True), sympy.Symbol("lr", positive=True)
    eps, b2 = sympy.Symbol("eps", positive=True), sympy.Symbol("beta2", positive=True)
    J, _ = _frozen_map("nadam", ("x", "m"), {"mu_prod": 0, "v": Q**2 * (1 - b2**T) / b2},
                       float32_scalars=False, weight_decay=0)
    J = J.applyfunc(lambda e: sympy.simplify(_steady(e)))
    Jq, _ = _frozen_map("qhm", ("x", "buf"), {}, nu=b1, momentum=b1)
    Jq = Jq.subs(lr, lr / (Q + eps), simultaneous=True)
    assert (J - Jq).applyfunc(sympy.simplify) == sympy.zeros(2, 2)


def test_adamax_frozen_is_adam_frozen_at_the_same_preconditioner():
    P = sympy.Symbol("P", positive=True)
    Ja, hp = _frozen_map("adamax", ("x", "m"), {"u": P / sympy.Symbol("beta2", positive=True)}, weight_decay=0)
    eps, b2 = sympy.Symbol("eps", positive=True), sympy.Symbol("beta2", positive=True)
    # adam with sqrt(v_new)/sqrt(1 - beta2^t) + eps = P at g = 0 (v_new = beta2 v): v = Q^2 (1 - beta2^t)/beta2,
    # P = Q + eps; adamax's u frozen at P as well (u_new = max(beta2 P, eps) at g = 0: freeze beta2 u = P)
    Q = sympy.Symbol("Q", positive=True)
    Ja = Ja.subs(P, Q + eps)
    Jd, _ = _frozen_map("adam", ("x", "m"), {"v": Q**2 * (1 - b2**T) / b2, "vmax": 0}, weight_decay=0)
    assert (Ja - Jd).applyfunc(sympy.simplify) == sympy.zeros(2, 2)
