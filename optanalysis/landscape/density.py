"""The spectral density of a Hessian by stochastic Lanczos quadrature (SLQ).

For a unit random vector v, m steps of Lanczos on H from v give a tridiagonal T_m whose eigenvalues
theta_j and squared first eigenvector components tau_j are the nodes and weights of the m-point
Gauss quadrature of the measure sum_i (q_i^T v)^2 delta(lambda - lambda_i): exact for every
polynomial of degree < 2m, so v^T H^k v = sum_j tau_j theta_j^k for k < 2m.  Averaged over
probes, E[(q_i^T v)^2] = 1/n makes it the density (1/n) sum_i delta(lambda - lambda_i) (Ghorbani,
Krishnan & Xiao 2019; Golub & Meurant).  Lanczos is run with full reorthogonalisation, as Ghorbani
et al. do, so that no ghost eigenvalues appear.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SpectralDensity", "spectral_density", "lanczos"]


@dataclass(frozen=True)
class SpectralDensity:
    """Gauss quadrature nodes and weights, one row per probe (each row's weights sum to 1).

    Attributes
    ----------
    nodes, weights : numpy.ndarray, shape (probes, steps)
    n_hvp : int
        Hessian-vector products spent.
    """

    nodes: np.ndarray
    weights: np.ndarray
    n_hvp: int

    def moment(self, k: int) -> float:
        """Estimate of tr(H^k)/n: the mean over probes of sum_j tau_j theta_j^k."""
        return float(np.mean(np.sum(self.weights * self.nodes ** k, axis=1)))

    def smoothed(self, grid, sigma: float) -> np.ndarray:
        """The density convolved with a Gaussian of width ``sigma``, on ``grid``."""
        if not (isinstance(sigma, (int, float)) and sigma > 0):
            raise ValueError(f"sigma must be a number > 0, got {sigma!r}")
        g = np.asarray(grid, dtype=float)[:, None, None]
        kern = np.exp(-0.5 * ((g - self.nodes[None]) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
        return np.mean(np.sum(kern * self.weights[None], axis=2), axis=1)


def lanczos(matvec, v0: np.ndarray, steps: int) -> tuple:
    """(alpha, beta) of ``steps`` Lanczos iterations from ``v0``, fully reorthogonalised; stops early
    (fewer steps) when an invariant subspace is found."""
    n = v0.size
    q = np.zeros((steps, n))
    alpha, beta = [], []
    q[0] = v0 / np.linalg.norm(v0)
    for j in range(steps):
        w = matvec(q[j])
        alpha.append(float(q[j] @ w))
        w = w - q[: j + 1].T @ (q[: j + 1] @ w)  # twice is enough (Kahan, Parlett)
        w = w - q[: j + 1].T @ (q[: j + 1] @ w)
        b = float(np.linalg.norm(w))
        if j + 1 == steps or b <= 1e-12 * max(abs(a) for a in alpha):
            break
        beta.append(b)
        q[j + 1] = w / b
    return np.array(alpha), np.array(beta)


def spectral_density(operator, *, probes=10, steps=80, seed=0) -> SpectralDensity:
    """Stochastic Lanczos quadrature of a symmetric operator (Ghorbani, Krishnan & Xiao 2019).

    Parameters
    ----------
    operator : scipy.sparse.linalg.LinearOperator
        Symmetric, n x n (e.g. a :class:`optanalysis.landscape.HessianOperator`).
    probes : int >= 1
        Random starting vectors (Gaussian, seeded), averaged.
    steps : int >= 1
        Lanczos steps per probe (at most n): nodes per probe; moments of degree < 2 steps are
        exact per probe.
    seed : int

    Returns
    -------
    SpectralDensity
        Rows shorter than ``steps`` (an invariant subspace found early) are padded with zero weights.

    Raises
    ------
    ValueError
        ``probes`` or ``steps`` out of range.
    """
    n = operator.shape[0]
    for value, name, high in ((probes, "probes", None), (steps, "steps", n)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1 or (
                high is not None and value > high):
            raise ValueError(f"{name} must be an integer in [1, {high if high else 'inf'}], got {value!r}")
    rng = np.random.default_rng(seed)
    nodes, weights = np.zeros((probes, steps)), np.zeros((probes, steps))
    count = 0
    for p in range(probes):
        alpha, beta = lanczos(operator.matvec, rng.standard_normal(n), steps)
        count += alpha.size
        t = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        theta, vec = np.linalg.eigh(t)
        nodes[p, :theta.size], weights[p, :theta.size] = theta, vec[0] ** 2
    return SpectralDensity(nodes, weights, count)
