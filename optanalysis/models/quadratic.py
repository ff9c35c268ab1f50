"""Quadratic models f(x) = 1/2 (x - x*)^T H (x - x*) and their gradient noise.

The Hessian is either diagonal (its spectrum ``hessian_diag``) or dense (``hessian``, e.g. a
spectrum rotated by a seeded random orthogonal matrix).  It must be symmetric positive
semi-definite: a convex quadratic, so that "converges" and "diverges" mean what the theory says.

Spectrum specs (grammar of :mod:`optanalysis.spec`)::

    uniform:mu=M,L=L,d=D             D eigenvalues equally spaced in [M, L]
    loguniform:mu=M,L=L,d=D,seed=S   D eigenvalues log-uniformly random in [M, L], sorted
    twopoint:mu=M,L=L,d=D            D//2 eigenvalues M, the others L
    powerlaw:d=D                     h_i = 1/i, i = 1..D (the noisy quadratic model's spectrum)

Noise specs (noisy quadratic model, Zhang et al. 2019): the gradient is H (x - x*) + xi with
xi ~ N(0, C / batch) and::

    isotropic:sigma=S    C = S^2 I
    hessian:sigma=S      C = S^2 H   (c_i = S^2 h_i on a diagonal H)
    diag:c=[c1,...,cd]   C = diag(c)
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..checks import integer, real_array, vector
from ..spec import parse_spec

__all__ = ["Quadratic", "GradientNoise", "make_quadratic",  "spectrum",
           "random_orthogonal", "rotated_hessian", "make_noise", "SYMMETRY_RTOL", "PSD_RTOL"]

SYMMETRY_RTOL = 1e-10  # |H - H^T| <= SYMMETRY_RTOL * max|H|: rounding noise from a rotation, no more
PSD_RTOL = 1e-10  # eigenvalues >= -PSD_RTOL * max|eig| count as 0 (rounding), below is an error


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, inf), got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be in (0, inf), got {value!r}")
    return float(value)


def _keys(name: str, given: dict, required: tuple, optional: tuple = ()) -> None:
    unknown = sorted(set(given) - set(required) - set(optional))
    missing = [k for k in required if k not in given]
    if unknown or missing:
        need = ",".join(f"{k}=" for k in required + optional)
        raise ValueError(f"{name}: expected {name}:{need} "
                         f"({'unknown ' + unknown[0] if unknown else 'missing ' + missing[0]})")


def spectrum(spec: str) -> np.ndarray:
    """Eigenvalues (float64, shape (d,)) from a spectrum spec (see the module docstring)."""
    kind, p = parse_spec(spec, what="spectrum")
    if kind == "powerlaw":
        _keys("powerlaw", p, ("d",))
        return 1.0 / np.arange(1, integer(p["d"], "powerlaw d", 1) + 1, dtype=np.float64)
    if kind not in ("uniform", "loguniform", "twopoint"):
        raise ValueError(f"spectrum: unknown kind {kind!r}; valid: uniform, loguniform, twopoint, powerlaw")
    _keys(kind, p, ("mu", "L", "d"), ("seed",) if kind == "loguniform" else ())
    mu, L = _positive(p["mu"], f"{kind} mu"), _positive(p["L"], f"{kind} L")
    d = integer(p["d"], f"{kind} d", 1)
    if mu > L:
        raise ValueError(f"{kind}: mu must be <= L, got mu={mu:g}, L={L:g}")
    if kind == "uniform":
        return np.linspace(mu, L, d)
    if kind == "twopoint":
        return np.where(np.arange(d) < d // 2, mu, L).astype(np.float64)
    seed = integer(p.get("seed", 0), "loguniform seed", 0)
    u = np.random.default_rng(seed).random(d)
    return np.sort(np.exp(math.log(mu) + u * (math.log(L) - math.log(mu))))


def random_orthogonal(d: int, seed: int) -> np.ndarray:
    """A Haar-random orthogonal (d, d) matrix: QR of a seeded Gaussian, signs fixed by diag(R)."""
    d = integer(d, "d", 1)
    seed = integer(seed, "seed", 0)
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def rotated_hessian(eigenvalues, seed: int) -> np.ndarray:
    """Q diag(eigenvalues) Q^T with Q = ``random_orthogonal(d, seed)``, exactly symmetric."""
    lam = vector(eigenvalues, "eigenvalues")
    q = random_orthogonal(lam.size, seed)
    h = (q * lam) @ q.T
    return (h + h.T) / 2


@dataclass(frozen=True)
class Quadratic:
    """f(x) = 1/2 (x - xstar)^T H (x - xstar); exactly one of ``hessian_diag``/``hessian`` is set."""

    xstar: np.ndarray
    hessian_diag: np.ndarray | None = None
    hessian: np.ndarray | None = None

    @property
    def d(self) -> int:
        return self.xstar.size

    @property
    def diagonal(self) -> bool:
        return self.hessian_diag is not None

    def eigenvalues(self) -> np.ndarray:
        """The spectrum of H, ascending."""
        return np.sort(self.hessian_diag) if self.diagonal else np.linalg.eigvalsh(self.hessian)

    @cached_property
    def eigenbasis(self) -> tuple:
        """``(h, Q)``: the curvatures and the orthonormal eigenvectors (columns) of H, in which
        every linear rule decouples into one small system per direction.  ``Q`` is None for a
        diagonal H (the coordinates are its eigenbasis, ``h`` its diagonal in order)."""
        if self.diagonal:
            return self.hessian_diag, None
        h, q = np.linalg.eigh(self.hessian)
        return np.maximum(h, 0.0), q  # H was accepted as PSD: eigenvalues below 0 are rounding

    def to_eigen(self, x) -> np.ndarray:
        """Coordinates (last axis) in the eigenbasis."""
        q = self.eigenbasis[1]
        return np.array(x, dtype=np.float64) if q is None else np.asarray(x, dtype=np.float64) @ q

    def from_eigen(self, y) -> np.ndarray:
        """Back from the eigenbasis to the original coordinates (last axis)."""
        q = self.eigenbasis[1]
        return y if q is None else y @ q.T

    def grad(self, x) -> np.ndarray:
        e = np.asarray(x, dtype=np.float64) - self.xstar
        return self.hessian_diag * e if self.diagonal else self.hessian @ e

    def loss(self, x) -> float:
        e = np.asarray(x, dtype=np.float64) - self.xstar
        return float(0.5 * e @ (self.hessian_diag * e if self.diagonal else self.hessian @ e))


def make_quadratic(*, hessian_diag=None, hessian=None, xstar=None) -> Quadratic:
    """A validated :class:`Quadratic` (``xstar`` defaults to 0).

    ``hessian_diag``: the diagonal of H (finite, >= 0) or a spectrum spec string.
    ``hessian``: a square, finite, symmetric (within ``SYMMETRY_RTOL`` relative to max|H|),
    positive semi-definite (eigenvalues >= ``-PSD_RTOL`` max|eig|) matrix; it is symmetrised.
    """
    if (hessian_diag is None) == (hessian is None):
        raise ValueError("give exactly one of hessian_diag (diagonal H) and hessian (dense H)")
    if hessian_diag is not None:
        h = spectrum(hessian_diag) if isinstance(hessian_diag, str) else vector(hessian_diag, "hessian_diag")
        if (h < 0).any():
            raise ValueError("hessian_diag must be >= 0 (a convex quadratic), got "
                             f"{h.min():g}")
        d, dense = h.size, None
    else:
        m = real_array(hessian, "hessian", "a square matrix of finite numbers")
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
            raise ValueError(f"hessian must be a non-empty square matrix, got shape {m.shape}")
        if not np.all(np.isfinite(m)):
            raise ValueError("hessian must be finite")
        scale = max(np.abs(m).max(), np.finfo(float).tiny)
        asym = np.abs(m - m.T).max()
        if asym > SYMMETRY_RTOL * scale:
            raise ValueError(f"hessian must be symmetric: max|H - H^T| = {asym:g} > "
                             f"{SYMMETRY_RTOL:g} * max|H|")
        dense = (m + m.T) / 2
        lam = np.linalg.eigvalsh(dense)
        if lam[0] < -PSD_RTOL * np.abs(lam).max():
            raise ValueError(f"hessian must be positive semi-definite (a convex quadratic), "
                             f"smallest eigenvalue {lam[0]:g}")
        d, h = dense.shape[0], None
    xs = np.zeros(d) if xstar is None else vector(xstar, "xstar", d)
    return Quadratic(xstar=xs, hessian_diag=h, hessian=dense)


@dataclass(frozen=True)
class GradientNoise:
    """Gaussian gradient noise xi = scale z, z ~ N(0, I): ``scale`` is a vector (diagonal
    covariance, xi_i = scale_i z_i) or a matrix A with A A^T = covariance (dense H)."""

    spec: str
    scale: np.ndarray

    def covariance(self) -> np.ndarray:
        s = self.scale
        return np.diag(s * s) if s.ndim == 1 else s @ s.T


def make_noise(spec, quadratic: Quadratic, batch: int = 1) -> GradientNoise | None:
    """The noise model of ``spec`` (see the module docstring) on ``quadratic``, covariance / batch.

    ``None`` means no noise.  On a dense H, ``hessian`` noise uses A = sigma H^(1/2) / sqrt(batch).
    """
    if spec is None:
        return None
    if not isinstance(spec, str):
        raise TypeError(f"noise must be None or a spec string, got {spec!r}")
    batch = integer(batch, "batch", 1)
    kind, p = parse_spec(spec, what="noise")
    d = quadratic.d
    if kind in ("isotropic", "hessian"):
        _keys(kind, p, ("sigma",))
        sigma = p["sigma"]
        if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not (
                math.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"noise {kind}: sigma must be a real number in [0, inf), got {sigma!r}")
        if kind == "isotropic":
            scale = np.full(d, sigma / math.sqrt(batch))
        elif quadratic.diagonal:
            scale = sigma * np.sqrt(quadratic.hessian_diag / batch)
        else:
            lam, vec = np.linalg.eigh(quadratic.hessian)
            scale = sigma * (vec * np.sqrt(np.maximum(lam, 0.0) / batch)) @ vec.T
    elif kind == "diag":
        _keys("diag", p, ("c",))
        c = p["c"]
        if not isinstance(c, tuple):
            raise ValueError("noise diag: c must be a list [c1,...,cd]")
        c = vector(c, "noise diag c", d)
        if np.any(c < 0):
            raise ValueError("noise diag: every c_i must be >= 0 (a covariance)")
        scale = np.sqrt(c / batch)
    else:
        raise ValueError(f"noise: unknown kind {kind!r}; valid: isotropic, hessian, diag")
    if not quadratic.diagonal and scale.ndim == 1:
        scale = np.diag(scale)
    return GradientNoise(spec=spec, scale=scale)
