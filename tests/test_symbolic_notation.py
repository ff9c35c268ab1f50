"""LaTeX fit for slides: one method name (to_latex), polynomials in descending powers of z, and the
literature's notation taken from the rules' declarations.  The expected strings are written by
hand from the literature (Polyak's and Sutskever's polynomials, Cohen et al.'s Adam threshold)."""
import pytest

from optanalysis.symbolic import derive
from optanalysis.symbolic.analysis import characteristic_polynomial
from optanalysis.symbolic.cycles import Period2Orbit, period2_orbit
from optanalysis.symbolic.derivation import Derivation
from optanalysis.symbolic.equivalence import EquivalenceResult
from optanalysis.symbolic.linearization import Linearization, linearize
from optanalysis.symbolic.notation import latex
from optanalysis.symbolic.tuning import TuningResult

CHARPOLY = {  # rule -> (plain, literature)
    "gd": (r"z - \left(1 - \mathrm{lr} h\right)", r"z - \left(1 - \alpha h\right)"),
    "heavy_ball": (r"z^{2} - \left(1 + \mathrm{momentum} - \mathrm{lr} h\right) z + \mathrm{momentum}",
                   r"z^{2} - \left(1 + \beta - \alpha h\right) z + \beta"),
    "nesterov": (r"z^{2} - \left(1 + \mathrm{momentum}\right) \left(1 - \mathrm{lr} h\right) z"
                 r" + \mathrm{momentum} \left(1 - \mathrm{lr} h\right)",
                 r"z^{2} - \left(1 + \beta\right) \left(1 - \alpha h\right) z"
                 r" + \beta \left(1 - \alpha h\right)"),
}


@pytest.mark.parametrize("rule", sorted(CHARPOLY))
def test_characteristic_polynomial_in_both_notations(rule):
    d = derive(rule)
    plain, literature = CHARPOLY[rule]
    assert latex(d.charpoly, rule, "plain") == plain
    assert latex(d.charpoly, rule, "literature") == literature
    assert f"p(z) &= {plain}" in d.to_latex()
    assert f"p(z) &= {literature}" in d.to_latex(notation="literature")
    assert characteristic_polynomial(rule).to_latex("literature") == f"p(z) = {literature}"


def test_heavy_ball_bound_tuning_and_notebook_display():
    d = derive("heavy_ball")
    assert d.latex_parts("literature")["lr_bound"] == r"\alpha < \frac{2 \left(1 + \beta\right)}{h}"
    assert d.latex_parts()["lr_bound"] == r"\mathrm{lr} < \frac{2 \left(1 + \mathrm{momentum}\right)}{h}"
    polyak = d.optimal.to_latex("literature")
    assert polyak.startswith(r"\alpha = ") and r", \beta = " in polyak and r"\text{rate}" in polyak
    assert d.optimal.to_latex().startswith(r"\mathrm{lr} = ")
    shown = d._repr_latex_()
    assert shown.startswith("$$") and shown.endswith("$$")
    assert r"p(z) &= z^{2} - \left(1 + \beta - \alpha h\right) z + \beta" in shown
    assert r"$$p(z) = z^{2} - \left(1 + \beta - \alpha h\right) z + \beta$$" in d._repr_markdown_()


def test_sgd_momentum_literature_symbols_and_equivalence_mapping():
    d = derive("sgd_momentum")
    # torch's documentation: dampening tau, weight decay lambda
    assert d.latex_parts("literature")["lr_bound"] == (
        r"\alpha < \frac{2 \left(1 + \beta\right)}{\left(1 - \tau\right) \left(h + \lambda\right)}")
    solved = next(e for e in d.equivalences if e.mapping and "lr" in e.mapping)
    text = solved.to_latex("literature")
    assert text.startswith(r"\text{sgd\_momentum") and r"\alpha \mapsto " in text


def test_adam_linearisation_in_the_literature_notation():
    lin = linearize("adam")
    assert lin.to_latex("literature") == (
        r"P = \sqrt{v} + \epsilon,\quad "
        r"z^{2} - \left(1 + \beta_1 - \alpha \lambda \left(1 - \beta_1\right)\right) z + \beta_1 = 0,"
        r"\quad \lambda_{\max}(P^{-1}H) < \frac{2 \left(1 + \beta_1\right)}{\alpha \left(1 - \beta_1\right)}")
    assert r"P = \sqrt{v} + \mathrm{eps}" in lin.to_latex()
    assert lin._repr_latex_() == f"$${lin.to_latex('literature')}$$"
    assert "**heavy_ball**" in lin._repr_markdown_()


def test_rmsprop_orbit_in_the_literature_notation():
    orbit = period2_orbit("rmsprop")
    # x = +-lr/2, v = (h lr/2)^2; two-step polynomial z^2 - (1 - 8 alpha + 9 alpha^2) z + alpha^2
    assert orbit.to_latex("literature") == (
        r"x = \pm \frac{\eta}{2},\ v = \frac{\eta^{2} h^{2}}{4},\quad "
        r"z^{2} - \left(1 - 8 \alpha + 9 \alpha^{2}\right) z + \alpha^{2} = 0")
    assert orbit.to_latex().startswith(r"x = \pm \frac{\mathrm{lr}}{2}")
    assert orbit._repr_latex_().startswith("$$x = ") and "**rmsprop**" in orbit._repr_markdown_()


@pytest.mark.parametrize("cls", [Derivation, Linearization, Period2Orbit, EquivalenceResult, TuningResult])
def test_one_latex_method_name(cls):
    assert callable(getattr(cls, "to_latex")) and not hasattr(cls, "latex")


def test_bad_notation_names_the_parameter():
    with pytest.raises(ValueError, match="notation must be one of 'plain', 'literature'"):
        derive("gd").to_latex(notation="greek")
    with pytest.raises(ValueError, match="notation"):
        linearize("adam").to_latex("tex")
