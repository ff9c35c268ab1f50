"""Quadratic models: spectra, rotations, validation of user matrices, loss and gradient."""
import numpy as np
import pytest

from optanalysis.models.quadratic import (PSD_RTOL, SYMMETRY_RTOL, make_quadratic, random_orthogonal,
                                   rotated_hessian, spectrum)


def test_spectra():
    assert np.array_equal(spectrum("uniform:mu=1,L=3,d=5"), [1, 1.5, 2, 2.5, 3])
    assert np.array_equal(spectrum("twopoint:mu=0.5,L=4,d=5"), [0.5, 0.5, 4, 4, 4])
    assert np.array_equal(spectrum("powerlaw:d=4"), [1, 1 / 2, 1 / 3, 1 / 4])
    lu = spectrum("loguniform:mu=0.01,L=100,d=2000,seed=7")
    assert lu.size == 2000 and np.all(np.diff(lu) >= 0) and lu[0] >= 0.01 and lu[-1] <= 100
    # log-uniform: log10 uniform on [-2, 2], mean 0 (SE 4/sqrt(12*2000) = 0.026), quartiles -1, 1
    logs = np.log10(lu)
    assert abs(logs.mean()) < 5 * 0.026
    assert np.allclose(np.quantile(logs, [0.25, 0.75]), [-1, 1], atol=0.15)
    assert np.array_equal(lu, spectrum("loguniform:mu=0.01,L=100,d=2000,seed=7"))
    assert not np.array_equal(lu, spectrum("loguniform:mu=0.01,L=100,d=2000,seed=8"))


@pytest.mark.parametrize("spec,match", [
    ("uniform:mu=1,L=3", "missing d"),
    ("uniform:mu=1,L=3,d=5,seed=1", "unknown seed"),
    ("uniform:mu=3,L=1,d=5", "mu must be <= L"),
    ("uniform:mu=0,L=1,d=5", "uniform mu must be in"),
    ("powerlaw:d=0", "powerlaw d must be an integer >= 1"),
    ("cauchy:d=3", "unknown kind 'cauchy'"),
])
def test_bad_spectra(spec, match):
    with pytest.raises(ValueError, match=match):
        spectrum(spec)


def test_rotation_is_orthogonal_seeded_and_preserves_the_spectrum():
    q = random_orthogonal(6, seed=2)
    assert np.allclose(q @ q.T, np.eye(6), atol=1e-14)
    assert np.array_equal(q, random_orthogonal(6, seed=2))
    lam = np.array([0.1, 0.5, 1.0, 2.0, 3.0, 10.0])
    H = rotated_hessian(lam, seed=2)
    assert np.array_equal(H, H.T)
    assert np.allclose(np.linalg.eigvalsh(H), lam, rtol=1e-13)
    assert np.abs(H - np.diag(np.diag(H))).max() > 0.1  # really rotated


def test_user_matrix_validation():
    good = rotated_hessian([1.0, 2.0, 3.0], seed=0)
    nearly = good.copy()
    nearly[0, 1] += SYMMETRY_RTOL * 0.5 * np.abs(good).max()  # rounding-level asymmetry is accepted
    q = make_quadratic(hessian=nearly)
    assert np.array_equal(q.hessian, q.hessian.T)
    asym = good.copy()
    asym[0, 1] += 1e-6
    with pytest.raises(ValueError, match="hessian must be symmetric"):
        make_quadratic(hessian=asym)
    with pytest.raises(ValueError, match="positive semi-definite"):
        make_quadratic(hessian=rotated_hessian([-1e-3, 1.0, 2.0], seed=0))
    # a rounding-level negative eigenvalue (below PSD_RTOL) is a zero eigenvalue
    make_quadratic(hessian=rotated_hessian([-0.1 * PSD_RTOL, 1.0, 2.0], seed=0))
    with pytest.raises(ValueError, match="square"):
        make_quadratic(hessian=np.ones((2, 3)))
    with pytest.raises(ValueError, match="hessian must be finite"):
        make_quadratic(hessian=[[1.0, np.nan], [np.nan, 1.0]])
    with pytest.raises(TypeError, match="hessian must be a square matrix"):
        make_quadratic(hessian=[["a", 1], [1, 1]])
    with pytest.raises(ValueError, match="xstar must have length d = 3"):
        make_quadratic(hessian=good, xstar=[1.0])


def test_loss_and_gradient():
    H = rotated_hessian([1.0, 4.0], seed=5)
    xs = np.array([1.0, -1.0])
    q = make_quadratic(hessian=H, xstar=xs)
    x = np.array([0.5, 2.0])
    assert np.isclose(q.loss(x), 0.5 * (x - xs) @ H @ (x - xs), rtol=1e-15)
    assert np.allclose(q.grad(x), H @ (x - xs), rtol=1e-15)
    assert np.allclose(q.eigenvalues(), [1.0, 4.0], rtol=1e-14)
    qd = make_quadratic(hessian_diag="uniform:mu=1,L=2,d=3")
    assert qd.diagonal and qd.d == 3 and qd.loss([1.0, 1.0, 1.0]) == 0.5 * (1 + 1.5 + 2)
