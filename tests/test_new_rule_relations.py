"""The relations the adaptive rules of issue 24 state with other rules, proven by the engine
(:mod:`optanalysis.symbolic.adaptive_relations`) and checked here against the literature.

What kind of relation: NAdam and Adamax are nonlinear, so no identity of trajectories holds; what
is proven is that, with the preconditioner held fixed (``v``, ``u`` frozen at a value P), the map
of the remaining state (x, m) on f = h x^2/2 is exactly that of a linear rule:
* NAdam in the steady state (t -> oo: mu_t -> beta1, mu_prod -> 0) is QHM with nu = momentum =
  beta1 and lr/P, hence Nesterov with lr (1 - beta1)/P and momentum beta1: "Nesterov + Adam"
  (Dozat 2016);
* Adamax, u frozen, is Adam with sqrt(v_hat) + eps frozen at the same P (both heavy ball on h/P
  with lr (1 - beta1) lr / (1 - beta1^t) and momentum beta1): the infinity-norm Adam differs from
  Adam only in how P is formed (Kingma & Ba 2015, Sec. 7.1).
The oracles are the papers' update equations written out by hand below, not the engine's code.
"""
import dataclasses
import json

import numpy as np
import pytest
import sympy

from optanalysis.cli import main
from optanalysis.rules import Relation, get_rule
from optanalysis.symbolic import H, T, Z
from optanalysis.symbolic.adaptive_relations import Q, check_relation, relations_for

b1, lr, eps = (sympy.Symbol(n, positive=True) for n in ("beta1", "lr", "eps"))
P = Q + eps  # the frozen preconditioner, as the rules declare it


def _result(rule, other):
    (rel,) = [r for r in get_rule(rule).relations if r.other == other]
    return rel, check_relation(rule, rel)


def _zero(m) -> bool:
    return m.applyfunc(sympy.simplify).is_zero_matrix


def test_nadam_is_dozat_nesterov_on_the_frozen_preconditioner():
    # Dozat (2016), Alg. 2 in the steady state (mu_t = mu_{t+1} = beta1, no bias corrections of m
    # left), den frozen at P: m <- beta1 m + (1 - beta1) g; x <- x - lr ((1 - beta1) g + beta1 m)/P
    # on g = h x, written out by hand as a matrix on (x, m).
    a = lr * H / P
    dozat = sympy.Matrix([[1 - a * (1 - b1) - a * b1 * (1 - b1), -lr * b1**2 / P],
                          [(1 - b1) * H, b1]])
    _, qhm = _result("nadam", "qhm")
    assert qhm.holds and qhm.same_matrix and _zero(qhm.matrix - dozat)
    _, nag = _result("nadam", "nesterov")
    assert nag.holds and not nag.same_matrix  # Nesterov's state is (x, velocity), not (x, m)
    # Sutskever's Nesterov, z^2 - (1 + beta)(1 - a') z + beta (1 - a'), with a' = lr (1 - beta1) h/P
    # and beta = beta1 (Sutskever et al. 2013), is the polynomial of Dozat's map.
    a1 = lr * (1 - b1) * H / P
    textbook = Z**2 - (1 + b1) * (1 - a1) * Z + b1 * (1 - a1)
    assert sympy.simplify(dozat.charpoly(Z).as_expr() - textbook) == 0


def test_adamax_is_adam_frozen_at_the_same_preconditioner_at_every_step():
    # Kingma & Ba (2015), Alg. 2: m <- beta1 m + (1 - beta1) g; x <- x - lr/(1 - beta1^t) m/u, u = P
    c = lr / ((1 - b1**T) * P)
    kingma = sympy.Matrix([[1 - c * (1 - b1) * H, -c * b1], [(1 - b1) * H, b1]])
    _, res = _result("adamax", "adam")
    assert res.holds and res.same_matrix
    assert _zero(res.matrix - kingma) and _zero(res.other_matrix - kingma)


@pytest.mark.parametrize("rule,other,change,why", [
    ("nadam", "nesterov", {"mapping": (("lr", "lr*(1 - beta1)/Q"), ("momentum", "beta1"))},
     "P without eps"),
    ("nadam", "qhm", {"steady": False}, "mu_t is not beta1 at finite t: the warm-up 0.96^(t psi)"),
    ("adamax", "adam", {"other_frozen": (("v", "Q**2/beta2"), ("vmax", "0"))},
     "Adam's v without its bias correction is a different P"),
])
def test_a_wrong_relation_fails_with_a_counterexample(rule, other, change, why):
    rel, _ = _result(rule, other)
    res = check_relation(rule, dataclasses.replace(rel, **change))
    assert not res.holds and not res.same_matrix and "different characteristic polynomials" in res.statement
    ce = res.counterexample
    # the counterexample's eigenvalues are those of the two matrices at its values (recomputed)
    values = {s: sympy.Rational(ce["values"][str(s)]) for s in
              res.matrix.free_symbols | res.other_matrix.free_symbols}
    for mat, key in ((res.matrix, "eigenvalues"), (res.other_matrix, "other_eigenvalues")):
        eig = sorted(np.linalg.eigvals(np.array(mat.subs(values), dtype=float)), key=lambda c: (c.real, c.imag))
        np.testing.assert_allclose(eig, [complex(c) for c in ce[key]], atol=1e-10)
    assert not np.allclose(sorted(complex(c).real for c in ce["eigenvalues"]),
                           sorted(complex(c).real for c in ce["other_eigenvalues"]), atol=1e-6), why


def test_the_proof_matches_one_float_step_of_nadam():
    """The proven steady-state map predicts one step of the real NAdam (float32_scalars off) from
    x, m ~ 1e-9 with v giving den = P: the neglected change of v is (1 - beta2) g^2/v ~ 1e-16
    relative and 0.96^(t psi) at t = 1e6, psi = 4e-3 is 0.96^4000 ~ 1e-71, so the agreement is to
    rounding (1e-12 relative)."""
    rule = get_rule("nadam")
    params = rule.params(lr=0.03, beta1=0.7, beta2=0.99, eps=1e-3, float32_scalars=False)
    h, q, t = 3.0, 0.2, 10**6
    v_before = q**2 * (1 - 0.99**t) / 0.99
    x, m = 1e-9, -2e-9
    new = rule.step(x, m, v_before, 0.0, h * x, *rule.values(params), t)
    _, res = _result("nadam", "qhm")
    vals = {sympy.Symbol(k, positive=True): v for k, v in params.items() if not isinstance(v, bool)}
    mat = np.array(res.matrix.subs(vals).subs({Q: q, H: h}), dtype=float)
    np.testing.assert_allclose(new[:2], mat @ [x, m], rtol=1e-12, atol=0)


def test_relations_are_listed_on_both_sides():
    assert {r.other for _, r in relations_for("nadam")} == {"qhm", "nesterov"}
    assert [a for a, _ in relations_for("nesterov")] == ["nadam"]
    assert [a for a, _ in relations_for("adam")] == ["adamax"]
    assert relations_for("rmsprop") == ()


def test_declaration_errors_name_the_field():
    base = get_rule("adamax")
    with pytest.raises(ValueError, match="frozen names 'w'; valid: m, u"):
        dataclasses.replace(base, module=None, relations=(Relation("adam", "k", frozen={"w": "0"}),))
    with pytest.raises(TypeError, match="relations must be Relation records"):
        dataclasses.replace(base, module=None, relations=("adam",))
    bad = Relation("adam", "k", frozen={"u": "Q"}, mapping={"momentum": "beta1"})
    with pytest.raises(ValueError, match="maps 'momentum'; valid: lr, "):
        check_relation("adamax", bad)
    with pytest.raises(ValueError, match="'__import__' is not allowed"):
        check_relation("adamax", Relation("adam", "k", frozen={"u": "__import__('os')"}))


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_lists_the_relations(capsys):
    code, out, err = _run(capsys, "derive", "nadam")
    assert code == 0 and not err
    assert "[proven] nadam" in out and "same iteration matrix as qhm" in out
    assert "characteristic polynomial of nesterov with lr -> lr*(1 - beta1)/(Q + eps)" in out
    assert "derive nadam --linearize" in out
    code, out, _ = _run(capsys, "derive", "adamax", "--json")
    data = json.loads(out)
    assert code == 0 and [(r["other"], r["holds"], r["same_matrix"]) for r in data["relations"]] == \
        [("adam", True, True)]
    code, out, _ = _run(capsys, "derive", "nesterov", "--json")
    assert code == 0 and [(r["rule"], r["holds"]) for r in json.loads(out)["relations"]] == [("nadam", True)]
    code, out, _ = _run(capsys, "derive", "adam", "--linearize")
    assert code == 0 and "[proven] adamax" in out and "same iteration matrix as adam" in out
