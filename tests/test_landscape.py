"""The curvature of a real model: Lanczos on Hessian-vector products against the dense Hessian
(torch.autograd.functional.hessian), SLQ against the dense spectrum, the preconditioned sharpness
against dense P^-1 H with P typed from torch's Adam/RMSprop formulas, the derived thresholds against
the papers' formulas, and one clear error per bad input."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from optanalysis.landscape import (HessianOperator, critical_lr, hessian_eigenvalues, load_model,  # noqa: E402
                                   local_rate, preconditioned_sharpness, preconditioner, sharpness_threshold,
                                   spectral_density)

REL = 1e-8  # the bar; eigsh at machine precision on products exact to ~1e-15


def _dense(op):
    """The exact Hessian by torch's own dense routine (a different code path: vmap of vjps)."""
    h = torch.autograd.functional.hessian(op.function, op.point, vectorize=True).numpy()
    return 0.5 * (h + h.T)


@pytest.fixture(scope="module")
def small():
    """Operators at seeded initial points (not minima: indefinite Hessians test both ends)."""
    torch.manual_seed(0)
    ops = {}
    for name in ("logistic", "mlp_regression", "cnn_digits"):
        rm = load_model(name)
        if name == "cnn_digits":  # 60 images keep the dense Hessian (1490 products) quick
            rm.inputs, rm.targets = rm.inputs[:60], rm.targets[:60]
        ops[name] = (rm, rm.operator())
    return ops


@pytest.mark.parametrize("name", ["logistic", "mlp_regression", "cnn_digits"])
def test_lanczos_eigenvalues_match_the_dense_hessian(small, name):
    rm, op = small[name]
    exact = np.linalg.eigvalsh(_dense(op))
    top = hessian_eigenvalues(op, 3, "largest")
    scale = np.abs(exact).max()
    assert np.allclose(top, exact[::-1][:3], rtol=0, atol=REL * scale)
    if name != "cnn_digits":  # the bottom of the CNN's spectrum is a tight cluster: many products, slow
        bottom = hessian_eigenvalues(op, 1, "smallest")
        assert abs(bottom[0] - exact[0]) <= REL * scale
    assert abs(top[0] - exact[-1]) <= REL * abs(exact[-1])
    assert op.n_hvp > 0


def test_hvp_equals_dense_hessian_times_vector(small):
    rm, op = small["mlp_regression"]
    v = np.random.default_rng(1).standard_normal(op.shape[0])
    assert np.allclose(op.matvec(v), _dense(op) @ v, rtol=0, atol=1e-12 * np.abs(_dense(op) @ v).max())


def test_slq_quadrature_is_exact_per_probe_and_full_lanczos_gives_the_spectrum(small):
    rm, op = small["logistic"]
    hess = _dense(op)
    exact = np.linalg.eigvalsh(hess)
    n = op.shape[0]
    dens = spectral_density(op, probes=3, steps=6, seed=4)
    # Gauss quadrature with 6 nodes is exact for degree < 12: the mean of v^T H^k v / |v|^2
    rng = np.random.default_rng(4)
    probes = [rng.standard_normal(n) for _ in range(3)]
    for k in (1, 2, 3, 5):
        hk = np.linalg.matrix_power(hess, k)
        want = np.mean([v @ hk @ v / (v @ v) for v in probes])
        assert abs(dens.moment(k) - want) <= 1e-9 * abs(exact).max() ** k
    full = spectral_density(op, probes=2, steps=n, seed=0)
    nodes = full.nodes[0][full.weights[0] > 1e-12]
    assert np.all(np.min(np.abs(nodes[:, None] - exact[None]), axis=1) <= 1e-8 * abs(exact).max())
    grid = np.linspace(exact.min() - 1, exact.max() + 1, 4001)
    smooth = full.smoothed(grid, 0.01)
    assert abs(np.trapezoid(smooth, grid) - 1) < 1e-6  # a probability density
    # Hutchinson: the mean of 40 probes' quadratic forms estimates tr(H)/n within 4 standard errors
    many = spectral_density(op, probes=40, steps=4, seed=1)
    sd = np.sqrt(2 * np.sum(exact ** 2) / n ** 2 / 40)
    assert abs(many.moment(1) - exact.mean()) <= 4 * sd + 0.05 * abs(exact.mean())


@pytest.mark.parametrize("kind", ["adam", "rmsprop"])
def test_preconditioned_sharpness_matches_dense_p_inverse_h(small, kind):
    rm, op = small["mlp_regression"]
    model = rm.model
    params = list(model.parameters())
    opt = (torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.99), eps=1e-3) if kind == "adam"
           else torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-3))
    saved = [p.detach().clone() for p in params]
    for _ in range(3):
        opt.zero_grad()
        rm.loss_fn(model(rm.inputs), rm.targets).backward()
        opt.step()
    here = rm.operator()
    p = preconditioner(opt, here)
    # torch's formulas, typed: Adam sqrt(v / (1 - beta2^t)) + eps, RMSprop sqrt(v) + eps
    key = "exp_avg_sq" if kind == "adam" else "square_avg"
    v = torch.cat([opt.state[q][key].reshape(-1) for q in params]).numpy()
    want = np.sqrt(v / (1 - 0.99 ** 3)) + 1e-3 if kind == "adam" else np.sqrt(v) + 1e-3
    assert np.allclose(p, want, rtol=1e-14, atol=0)
    dense = np.linalg.eigvals(_dense(here) / p[:, None]).real.max()
    got = preconditioned_sharpness(here, opt)[0]
    assert abs(got - dense) <= REL * abs(dense)
    with torch.no_grad():
        for q, s in zip(params, saved):
            q.copy_(s)


def test_derived_thresholds_are_the_papers_formulas():
    lam = 7.0
    assert critical_lr("sgd", lam) == pytest.approx(2 / lam, rel=1e-12)
    assert critical_lr("sgd_momentum", lam, momentum=0.9) == pytest.approx(3.8 / lam, rel=1e-12)
    assert critical_lr("nesterov", lam, momentum=0.9) == pytest.approx(3.8 / 2.8 / lam, rel=1e-12)
    assert critical_lr("adam", lam, beta1=0.9) == pytest.approx(38 / lam, rel=1e-12)
    assert critical_lr("rmsprop", lam) == pytest.approx(2 / lam, rel=1e-12)
    assert sharpness_threshold("adam", 0.01, beta1=0.9) == pytest.approx(3800, rel=1e-12)
    assert sharpness_threshold("sgd_momentum", 0.1, momentum=0.5) == pytest.approx(30, rel=1e-12)
    # heavy ball in its complex regime over the whole interval: rate sqrt(b)
    assert local_rate("sgd_momentum", 1.0, 10.0, lr=0.19, momentum=0.9) == pytest.approx(0.9 ** 0.5, rel=1e-12)


class Empty(torch.nn.Module):
    def forward(self, x):
        return x


BAD = {
    "no parameters": (lambda: (Empty(), torch.nn.functional.mse_loss, torch.ones(3, 2), torch.ones(3, 2)),
                      "model has no parameters"),
    "a non-scalar loss": (lambda: (torch.nn.Linear(2, 1), lambda o, t: (o - t) ** 2, torch.ones(3, 2),
                                   torch.ones(3, 1)), "must return a scalar tensor"),
    "NaN in the data": (lambda: (torch.nn.Linear(2, 1), torch.nn.functional.mse_loss,
                                 torch.tensor([[1.0, float("nan")]]), torch.ones(1, 1)), "inputs must be finite"),
    "a non-differentiable loss": (lambda: (torch.nn.Linear(2, 1), lambda o, t: (o.detach() - t).pow(2).mean(),
                                           torch.ones(3, 2), torch.ones(3, 1)), "not differentiable"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_clear_error(case):
    make, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        HessianOperator(*make())


def test_bad_arguments_name_the_parameter(small):
    rm, op = small["logistic"]
    with pytest.raises(ValueError, match="k must be"):
        hessian_eigenvalues(op, 0)
    with pytest.raises(ValueError, match="steps must be"):
        spectral_density(op, steps=10**6)
    with pytest.raises(TypeError, match="torch.optim.Adam or torch.optim.RMSprop"):
        preconditioned_sharpness(op, torch.optim.SGD(rm.model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="unknown model"):
        load_model("resnet")
    with pytest.raises(ValueError, match="sharpness must be"):
        critical_lr("sgd", -1.0)


def test_without_the_extra_an_import_error_names_it(monkeypatch):
    import sys

    from optanalysis.landscape._deps import require

    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r'pip install "optanalysis\[models\]"'):
        require("torch", "sklearn")
    with pytest.raises(ImportError, match="scikit-learn"):
        load_model("logistic")
