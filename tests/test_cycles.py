"""eps = 0 period-2 orbits: derived from the rules, checked with the rules' float step and the kernels."""
import numpy as np
import pytest
import sympy

from optanalysis.theory.adaptive import eps0_band, rmsprop_orbit_run
from optanalysis.rules import get_rule
from optanalysis.symbolic.cycles import period2_orbit

LR, ALPHA, BETA1, H = (sympy.Symbol(n, positive=True) for n in ("lr", "alpha", "beta1", "h"))


def test_rmsprop_orbit_is_half_lr_independent_of_h_and_alpha():
    orbit = period2_orbit("rmsprop")
    assert orbit.point["x"] == LR / 2
    assert sympy.simplify(orbit.point["v"] - (H * LR / 2) ** 2) == 0
    assert orbit.parity == (-1, 1)
    # charpoly2 = z^2 - (9 alpha^2 - 8 alpha + 1) z + alpha^2: a complex pair of modulus alpha
    # for alpha in (1/9, 1), two real roots inside (0, 1) below; attracting for every alpha.
    z = sympy.Symbol("z")
    assert sympy.expand(orbit.charpoly2 - (z**2 - (9 * ALPHA**2 - 8 * ALPHA + 1) * z + ALPHA**2)) == 0
    for alpha in (0.2, 0.5, 0.9, 0.99):
        rho = orbit.spectral_radius(lr=0.01, h=3.0, alpha=alpha)
        assert abs(rho - alpha) < 1e-12  # exact in theory; rounding of a 2x2 eigen-solve
    for alpha in (0.01, 0.05, 0.1):
        c1 = 9 * alpha**2 - 8 * alpha + 1
        larger = (c1 + np.sqrt(c1**2 - 4 * alpha**2)) / 2
        assert abs(orbit.spectral_radius(lr=0.01, h=3.0, alpha=alpha) - larger) < 1e-12 and larger < 1


@pytest.mark.parametrize("lr,h,alpha", [(0.01, 1.0, 0.99), (1e-3, 100.0, 0.9), (0.1, 0.5, 0.5)])
def test_orbit_is_an_orbit_of_the_float_step(lr, h, alpha):
    rule = get_rule("rmsprop")
    params = rule.values(rule.params(lr=lr, alpha=alpha, eps=0.0))
    x, v = lr / 2, (h * lr / 2) ** 2
    state = (x, v, 0.0, 0.0)
    for _ in range(2):
        state = rule.step(*state, h * state[0], *params, 1)
        x = -x
        # One step maps the point to its mirror image, to rounding (a few ulps of lr/2).
        assert abs(state[0] - x) <= 4e-16 * lr and abs(state[1] - v) <= 4e-16 * v


@pytest.mark.parametrize("lr,h,alpha", [(0.01, 1.0, 0.99), (1e-3, 100.0, 0.9), (0.01, 10.0, 0.5),
                                        (0.1, 0.5, 0.3)])
def test_kernels_land_on_the_rmsprop_orbit(lr, h, alpha):
    run = rmsprop_orbit_run(lr, h, alpha=alpha, steps=6000)
    assert run["orbit_x"] == lr / 2
    # Converged to rounding: the deviation shrinks by alpha every two steps (alpha^3000 < 1e-13).
    assert run["max_rel_dev"] < 1e-9
    assert np.all(run["signs"][1:] == -run["signs"][:-1])
    # The two-step modulus seen in the run (AR(2) fit of the deviation) is the derived spectral
    # radius: measured within 5e-4 relative (first-order fit of a map with O(d^2) remainders);
    # 0.5% allowed.
    assert abs(run["observed_contraction"] - run["two_step_radius"]) < 5e-3 * run["two_step_radius"]


def test_adam_orbit_and_its_stability():
    orbit = period2_orbit("adam")
    assert sympy.simplify(orbit.point["x"] - LR * (1 - BETA1) / (2 * (1 + BETA1))) == 0
    # beta1 = 0 reduces to RMSProp's orbit (alpha <-> beta2).
    assert period2_orbit("adam", beta1=0).point["x"] == LR / 2
    # The two-step radius does not depend on lr or h (homogeneity).
    r1 = orbit.spectral_radius(lr=0.01, h=1.0, beta1=0.9, beta2=0.999)
    r2 = orbit.spectral_radius(lr=0.3, h=70.0, beta1=0.9, beta2=0.999)
    assert abs(r1 - r2) < 1e-12 and r1 > 1.0  # beta1 = 0.9: the orbit repels
    assert orbit.spectral_radius(lr=0.01, h=1.0, beta1=0.1, beta2=0.999) < 1.0


def test_adam_eps0_lands_on_the_stable_orbit():
    # beta1 = 0.1: the orbit attracts (radius 0.9995 per two steps); x0 = lr.
    band = eps0_band(lrs=(1e-3, 1e-1), hs=(1.0, 7.0), x0_over_lr=1.0, beta1=0.1, steps=40000, window=2000)
    for row in band:
        # mean |x|/lr = amplitude to 1e-3: the approach is slow (0.9995^(k/2)).
        assert abs(row["mean_abs_over_lr"] - row["orbit_amplitude_over_lr"]) < 1e-3
        assert row["orbit_radius"] < 1


def test_adam_eps0_band_is_homogeneous():
    """beta1 = 0.9: the orbit repels and the late iterates wander in a band.  Exact statements:
    independent of h (bit for bit for power-of-two ratios of h); at fixed x0/lr the band in units
    of lr has the same statistics for every lr."""
    band = eps0_band(lrs=(1e-3, 1e-2, 1e-1), hs=(1.0, 4.0, 10.0), x0_over_lr=10.0, steps=20000, window=5000)
    by = {(r["lr"], r["h"]): r for r in band}
    for lr in (1e-3, 1e-2, 1e-1):
        assert by[(lr, 1.0)]["max_abs_over_lr"] == by[(lr, 4.0)]["max_abs_over_lr"]
        assert by[(lr, 1.0)]["mean_abs_over_lr"] == by[(lr, 4.0)]["mean_abs_over_lr"]
    maxes = np.array([r["max_abs_over_lr"] for r in band])
    means = np.array([r["mean_abs_over_lr"] for r in band])
    # Statistics of an irregular sequence over 5000 steps: spread measured at ~8% (max) and
    # ~5% (mean) over 9 runs; 25% bounds.  The band is O(lr) and wider than the repelling orbit.
    assert maxes.max() < 1.25 * maxes.min() and means.max() < 1.25 * means.min()
    assert np.all(maxes > band[0]["orbit_amplitude_over_lr"]) and maxes.max() < 1.0
    assert all(r["orbit_radius"] > 1 for r in band)


def test_validation():
    with pytest.raises(ValueError, match="rule must be one of"):
        period2_orbit("gd")
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\)"):
        period2_orbit("rmsprop", alpha=1.0)
    with pytest.raises(ValueError, match="needs a value for"):
        period2_orbit("rmsprop").spectral_radius(lr=0.1)
    with pytest.raises(ValueError, match="lrs must be"):
        eps0_band(lrs=())
    with pytest.raises(ValueError, match="window must be"):
        eps0_band(steps=10, window=20)


def test_adam_orbit_stability_boundary():
    """Neimark-Sacker boundary of the Adam eps = 0 orbit, derived, checked against the numeric
    spectral radius and the kernels on both sides."""
    orbit = period2_orbit("adam")
    boundary = orbit.stability_boundary()
    b1, b2 = sympy.Symbol("beta1", positive=True), sympy.Symbol("beta2", positive=True)
    roots = [r for r in sympy.solve(boundary.subs(b2, sympy.Rational(999, 1000)), b1)
             if r.is_real and 0 < r < 1]
    assert len(roots) == 1
    crit = float(roots[0])
    # The radius crosses 1 there (numeric eigenvalues of the 3x3 two-step Jacobian).
    below = orbit.spectral_radius(lr=1.0, h=1.0, beta1=crit - 1e-4, beta2=0.999)
    above = orbit.spectral_radius(lr=1.0, h=1.0, beta1=crit + 1e-4, beta2=0.999)
    assert below < 1 < above
    # beta2 -> 1 limit: 3 - 2 sqrt(2) solves beta1^2 - 6 beta1 + 1 = 0.
    limit = [r for r in sympy.solve(sympy.factor(boundary / (1 - b2)).subs(b2, 1), b1) if 0 < r < 1]
    assert any(sympy.simplify(r - (3 - 2 * sympy.sqrt(2))) == 0 for r in limit)
    # Kernels, beta2 = 1/2 (boundary beta1* = 4.5 - sqrt(18.25) = 0.228, radii 0.94 and 1.05 at
    # 0.2 and 0.25): just below the run locks onto the orbit to rounding, just above it wanders.
    crit_half = [float(r) for r in sympy.solve(boundary.subs(b2, sympy.Rational(1, 2)), b1)
                 if r.is_real and 0 < r < 1]
    assert crit_half == [pytest.approx(4.5 - np.sqrt(18.25), abs=1e-12)]
    lands = eps0_band(lrs=(0.01,), hs=(1.0,), x0_over_lr=1.0, beta1=0.2, beta2=0.5, steps=20000, window=2000)[0]
    wanders = eps0_band(lrs=(0.01,), hs=(1.0,), x0_over_lr=1.0, beta1=0.25, beta2=0.5, steps=20000,
                        window=2000)[0]
    assert abs(lands["max_abs_over_lr"] - lands["orbit_amplitude_over_lr"]) < 1e-12
    assert abs(wanders["mean_abs_over_lr"] - wanders["orbit_amplitude_over_lr"]) > 0.03


def test_orbit_disk_cache_round_trip(tmp_path, monkeypatch):
    """A new process (here: a cleared in-process cache) reads the orbit back from disk equal to the
    solved one; a corrupt entry is solved again, not trusted."""
    from optanalysis.symbolic import cycles

    monkeypatch.setenv("OPTANALYSIS_CACHE_DIR", str(tmp_path))
    cycles._orbit.cache_clear()
    solved = period2_orbit("rmsprop", alpha=0.5)
    (entry,) = (tmp_path / "cycles").glob("rmsprop-*.json")
    cycles._orbit.cache_clear()

    def unsolvable(rule, **fixed):
        raise AssertionError("solved again although cached on disk")

    with monkeypatch.context() as m:
        m.setattr(cycles, "_solve", unsolvable)
        loaded = period2_orbit("rmsprop", alpha=0.5)
    assert loaded == solved and loaded.to_dict() == solved.to_dict()
    entry.write_text("{not json")
    cycles._orbit.cache_clear()
    assert period2_orbit("rmsprop", alpha=0.5) == solved
