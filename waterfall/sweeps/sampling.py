"""Monte Carlo inputs: marginal distributions, a Gaussian copula for correlations, and
random numbers keyed by point index so results never depend on chunking.

Point i's standard normals come from block i // BLOCK, whose generator is seeded by
SeedSequence(seed, spawn_key=(block,)): any chunk [start, stop) regenerates exactly the
numbers of its points, whatever the chunk size or the worker that runs it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BLOCK = 4096


def _ndtr(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF."""
    try:
        from scipy.special import ndtr
        return ndtr(z)
    except ImportError:  # pragma: no cover - scipy is usually present
        return 0.5 * np.vectorize(math.erfc)(-np.asarray(z) / math.sqrt(2.0))


@dataclass(frozen=True)
class Dist:
    """A marginal distribution. kind: uniform(low, high), normal(mean, sd),
    triangular(low, mode, high), lognormal(mu, sigma) (of the log)."""

    kind: str
    params: tuple

    ARITY = {"uniform": 2, "normal": 2, "triangular": 3, "lognormal": 2}

    def __post_init__(self):
        if self.kind not in self.ARITY:
            raise ValueError(f"unknown distribution '{self.kind}' (known: {', '.join(self.ARITY)})")
        if len(self.params) != self.ARITY[self.kind]:
            raise ValueError(f"{self.kind} takes {self.ARITY[self.kind]} parameters, got {len(self.params)}")
        p = [float(x) for x in self.params]
        if not all(math.isfinite(x) for x in p):
            raise ValueError(f"{self.kind} parameters must be finite")
        if self.kind == "uniform" and not p[0] <= p[1]:
            raise ValueError("uniform needs low <= high")
        if self.kind in ("normal", "lognormal") and p[1] < 0:
            raise ValueError(f"{self.kind} needs a non-negative sd")
        if self.kind == "triangular" and not p[0] <= p[1] <= p[2]:
            raise ValueError("triangular needs low <= mode <= high")

    def __str__(self) -> str:
        return f"{self.kind}:" + ":".join(f"{float(x):g}" for x in self.params)

    def from_normal(self, z: np.ndarray, integer: bool = False) -> np.ndarray:
        """Transform standard normals to this distribution (the copula's last step)."""
        p = [float(x) for x in self.params]
        if self.kind == "normal":
            out = p[0] + p[1] * z
            return np.rint(out) if integer else out
        if self.kind == "lognormal":
            out = np.exp(p[0] + p[1] * z)
            return np.rint(out) if integer else out
        u = _ndtr(z)
        if self.kind == "uniform":
            if integer:  # each integer in [low, high] equally likely
                lo, hi = math.ceil(p[0]), math.floor(p[1])
                return np.minimum(lo + np.floor(u * (hi - lo + 1)), hi)
            return p[0] + (p[1] - p[0]) * u
        lo, mode, hi = p
        if hi == lo:
            return np.full_like(u, lo)
        cut = (mode - lo) / (hi - lo)
        out = np.where(u < cut, lo + np.sqrt(u * (hi - lo) * (mode - lo)),
                       hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mode)))
        return np.rint(out) if integer else out

    @property
    def center(self) -> float:
        p = [float(x) for x in self.params]
        return {"uniform": 0.5 * (p[0] + p[1]), "normal": p[0], "triangular": p[1],
                "lognormal": math.exp(p[0])}[self.kind]


def Uniform(low, high) -> Dist:
    return Dist("uniform", (low, high))


def Normal(mean, sd) -> Dist:
    return Dist("normal", (mean, sd))


def Triangular(low, mode, high) -> Dist:
    return Dist("triangular", (low, mode, high))


def LogNormal(mu, sigma) -> Dist:
    return Dist("lognormal", (mu, sigma))


def parse_dist(text: str) -> Dist:
    """'uniform:0.5:1.0', 'normal:0:50', 'triangular:0.2:0.5:0.9', 'lognormal:0:0.2'."""
    kind, *params = text.split(":")
    return Dist(kind.strip().lower(), tuple(float(x) for x in params))


def cholesky(names: list[str], correlations: dict | None) -> np.ndarray | None:
    """Lower Cholesky factor of the correlation matrix given as {(a, b): rho}; None if none."""
    if not correlations:
        return None
    d = len(names)
    corr = np.eye(d)
    for pair, rho in correlations.items():
        a, b = pair
        for x in (a, b):
            if x not in names:
                raise ValueError(f"correlation names '{x}', which is not a varied input")
        if not -1.0 <= float(rho) <= 1.0:
            raise ValueError(f"correlation of {a} and {b} must be in [-1, 1], got {rho}")
        i, j = names.index(a), names.index(b)
        if i == j:
            raise ValueError(f"correlation of {a} with itself")
        corr[i, j] = corr[j, i] = float(rho)
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        raise ValueError("the correlation matrix is not positive definite") from None


def normals(seed: int, dim: int, start: int, stop: int) -> np.ndarray:
    """Independent standard normals [stop - start, dim] for points start..stop-1."""
    out = np.empty((stop - start, dim))
    if stop <= start:
        return out
    for block in range(start // BLOCK, (stop - 1) // BLOCK + 1):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        z = rng.standard_normal((BLOCK, dim))
        b0 = block * BLOCK
        lo, hi = max(start, b0), min(stop, b0 + BLOCK)
        out[lo - start:hi - start] = z[lo - b0:hi - b0]
    return out
