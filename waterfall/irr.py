"""Internal rate of return: the periodic rate r at which the cash flows' NPV is zero.

Solved on v = 1/(1+r) so the NPV is a polynomial evaluated by Horner's rule:
- no sign change in the flows: no root, None (NaN in arrays);
- one sign change: exactly one root with r > -1 (Descartes); damped Halley iteration
  (Newton's step where Halley's correction is large) from a one-pass estimate (see
  initial_v), stopping once a step is below 1e-9 (the error after such a step is
  already at machine precision), and
  bisection on a bracket from a fixed grid when the iteration leaves the domain or stalls;
- several sign changes: every root found on the fixed grid of brackets is refined by
  bisection and the one closest to zero is returned (numpy-financial's choice).
A root above 10 per period (1,000% a period) is no meaningful rate of return and is
reported as undefined (NaN). Grid points where the NPV overflows (v large, long series) are skipped. Flows smaller
than 1e-9 in magnitude (a thousandth of a dollar in USD millions) are rounding noise
and count as zero.
The Cython kernel implements the same algorithm (ext/_kernel.pyx: irr_periodic).
"""
from __future__ import annotations

import math

import numpy as np

# Bracket grid in r per period for flows with several sign changes.
R_GRID = (-0.99, -0.9, -0.75, -0.5, -0.3, -0.2, -0.1, -0.05, -0.02, -0.005, 0.0, 0.005,
          0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 100.0)
MAX_NEWTON = 60
MAX_BRACKET = 200
NOISE = 1e-9
MAX_RATE = 10.0
TOL_V = 1e-15
TOL_STEP = 1e-9


def npv_v(cf, v: float) -> float:
    """NPV at discount factor v = 1/(1+r): sum cf[t] v^t, Horner from the end."""
    acc = 0.0
    for t in range(len(cf) - 1, -1, -1):
        acc = acc * v + cf[t]
    return acc


def _npv_and_derivatives(cf, v: float):
    """NPV at v and its first and second derivatives in v (Horner's rule; the kernel
    runs eight interleaved chains in v^8, the same values to rounding)."""
    acc = slope = half_curvature = 0.0
    for t in range(len(cf) - 1, -1, -1):
        half_curvature = half_curvature * v + slope
        slope = slope * v + acc
        acc = acc * v + cf[t]
    return acc, slope, 2.0 * half_curvature


def sign_changes(cf) -> int:
    changes, last = 0, 0.0
    for x in cf:
        if x != 0.0:
            if last != 0.0 and (x > 0.0) != (last > 0.0):
                changes += 1
            last = x
    return changes


def _bisect(cf, lo: float, hi: float, f_lo: float) -> float:
    """Root in v between lo and hi (f changes sign): Illinois false position, which
    converges superlinearly, to machine precision."""
    f_hi = npv_v(cf, hi)
    side = 0
    x = lo
    for _ in range(MAX_BRACKET):
        x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not (lo < x < hi):
            x = 0.5 * (lo + hi)
        f_x = npv_v(cf, x)
        if f_x == 0.0 or hi - lo <= TOL_V * max(1.0, x):
            return x
        if (f_x > 0.0) == (f_lo > 0.0):
            lo, f_lo = x, f_x
            if side == 1:
                f_hi *= 0.5
            side = 1
        else:
            hi, f_hi = x, f_x
            if side == -1:
                f_lo *= 0.5
            side = -1
    return x


def initial_v(cf) -> float:
    """Starting point for Halley: the rate at which what comes in, discounted, matches
    what goes out, to second order in the spread of their times. With m and s^2 the
    money-weighted mean and variance of the times of the inflows (and of the outflows),
    log(sum x e^(-d t)) ~ log(total) - d m + d^2 s^2 / 2, so d solves
    (s_in^2 - s_out^2)/2 d^2 - (m_in - m_out) d + log(in/out) = 0 (the root nearest the
    first-order log(in/out) / (m_in - m_out)); v = e^(-d). One pass; within about 1% of
    the root for loan and equity flows (the first-order estimate alone: about 10%)."""
    inflow = outflow = t_in = t_out = tt_in = tt_out = 0.0
    for t, x in enumerate(cf):
        if x > 0.0:
            inflow += x
            t_in += t * x
            tt_in += t * t * x
        elif x < 0.0:
            outflow -= x
            t_out -= t * x
            tt_out -= t * t * x
    if inflow <= 0.0 or outflow <= 0.0:
        return 1.0
    mean_in, mean_out = t_in / inflow, t_out / outflow
    gap = mean_in - mean_out
    if gap == 0.0:
        return 1.0
    c = math.log(inflow / outflow)
    a = 0.5 * ((tt_in / inflow - mean_in * mean_in) - (tt_out / outflow - mean_out * mean_out))
    delta = c / gap
    disc = gap * gap - 4.0 * a * c
    if disc >= 0.0:
        delta = 2.0 * c / (gap + math.sqrt(disc) if gap > 0.0 else gap - math.sqrt(disc))
    try:
        v = math.exp(-delta)
    except OverflowError:  # C's exp gives inf here; clamped to 2 below
        v = math.inf
    return min(max(v, 0.5), 2.0)


def _single_root(cf) -> float:
    v = initial_v(cf)
    for _ in range(MAX_NEWTON):
        f, slope, curvature = _npv_and_derivatives(cf, v)
        if slope == 0.0 or not math.isfinite(f):
            break
        step = f / slope  # Newton
        q = step * curvature / (2.0 * slope)
        if abs(q) <= 0.5:
            step = step / (1.0 - q)  # Halley: cubic convergence, one pass fewer
        v_new = v - step
        if not math.isfinite(v_new):
            break
        v_new = min(max(v_new, 0.5 * v), 2.0 * v)  # damped: at most halve or double v
        if abs(v_new - v) <= TOL_STEP * max(1.0, v_new):
            # the error after a step of size d is O(d^2) or less: already at machine precision
            return 1.0 / v_new - 1.0
        v = v_new
    return _closest_root(cf)


def _closest_root(cf) -> float:
    """Roots bracketed by consecutive finite grid points, refined by bisection; the one
    closest to zero."""
    best = math.nan
    prev_r = prev_v = prev_f = math.nan
    for r in R_GRID:
        v = 1.0 / (1.0 + r)
        f = npv_v(cf, v)
        if not math.isfinite(f):
            continue
        root = math.nan
        if f == 0.0:
            root = r
        elif not math.isnan(prev_f) and prev_f != 0.0 and (f > 0.0) != (prev_f > 0.0):
            root = 1.0 / _bisect(cf, v, prev_v, f) - 1.0  # v < prev_v
        if not math.isnan(root) and (math.isnan(best) or abs(root) < abs(best)):
            best = root
        prev_r, prev_v, prev_f = r, v, f
    return best


def irr(cash_flows) -> float:
    """Periodic IRR of cash flows at t = 0, 1, ...; NaN where there is no root."""
    cf = [float(x) if abs(x) > NOISE else 0.0 for x in cash_flows]
    changes = sign_changes(cf)
    if changes == 0:
        return math.nan
    root = _single_root(cf) if changes == 1 else _closest_root(cf)
    return root if root <= MAX_RATE else math.nan


def annualise(periodic: float, periods_per_year: float) -> float:
    """(1 + r)^periods_per_year - 1; NaN stays NaN."""
    if math.isnan(periodic):
        return math.nan
    try:
        return (1.0 + periodic) ** periods_per_year - 1.0
    except OverflowError:  # C's pow gives inf here; so do we
        return math.inf


def irr_or_none(cash_flows, periods_per_year: float = 1.0):
    value = annualise(irr(np.asarray(cash_flows, dtype=float)), periods_per_year)
    return None if math.isnan(value) else value
