"""Internal rate of return: the periodic rate r at which the cash flows' NPV is zero.

Solved on v = 1/(1+r) so the NPV is a polynomial evaluated by Horner's rule:
- no sign change in the flows: no root, None (NaN in arrays);
- one sign change: exactly one root with r > -1 (Descartes); Newton from r = 10%,
  and bisection on a bracket when Newton leaves the domain or stalls;
- several sign changes: every root found on a fixed grid of brackets is refined by
  bisection and the one closest to zero is returned (numpy-financial's choice).
The Cython kernel implements the same algorithm (ext/_kernel.pyx: irr_periodic).
"""
from __future__ import annotations

import math

import numpy as np

# Bracket grid in r per period for flows with several sign changes.
R_GRID = (-0.99, -0.9, -0.75, -0.5, -0.3, -0.2, -0.1, -0.05, -0.02, -0.005, 0.0, 0.005,
          0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 100.0)
MAX_NEWTON = 60
TOL_V = 1e-15


def npv_v(cf, v: float) -> float:
    """NPV at discount factor v = 1/(1+r): sum cf[t] v^t, Horner from the end."""
    acc = 0.0
    for t in range(len(cf) - 1, -1, -1):
        acc = acc * v + cf[t]
    return acc


def _npv_and_slope(cf, v: float):
    acc = slope = 0.0
    for t in range(len(cf) - 1, -1, -1):
        slope = slope * v + acc
        acc = acc * v + cf[t]
    return acc, slope


def sign_changes(cf) -> int:
    changes, last = 0, 0.0
    for x in cf:
        if x != 0.0:
            if last != 0.0 and (x > 0.0) != (last > 0.0):
                changes += 1
            last = x
    return changes


def _bisect(cf, lo: float, hi: float, f_lo: float) -> float:
    """Root in v between lo and hi (f changes sign), to machine precision."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        f_mid = npv_v(cf, mid)
        if f_mid == 0.0:
            return mid
        if (f_mid > 0.0) == (f_lo > 0.0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _single_root(cf) -> float:
    v = 1.0 / 1.1
    for _ in range(MAX_NEWTON):
        f, slope = _npv_and_slope(cf, v)
        if slope == 0.0 or not math.isfinite(f):
            break
        step = f / slope
        v_new = v - step
        if not (v_new > 0.0) or not math.isfinite(v_new):
            break
        if abs(v_new - v) <= TOL_V * max(1.0, v_new):
            return 1.0 / v_new - 1.0
        v = v_new
    # bisection on [1e-9, 1e9] in v, i.e. r from about 1e9 down to -1 + 1e-9
    lo, hi = 1e-9, 1e9
    f_lo, f_hi = npv_v(cf, lo), npv_v(cf, hi)
    if not (math.isfinite(f_lo) and math.isfinite(f_hi)) or (f_lo > 0.0) == (f_hi > 0.0):
        return math.nan
    return 1.0 / _bisect(cf, lo, hi, f_lo) - 1.0


def _closest_root(cf) -> float:
    best = math.nan
    vs = [1.0 / (1.0 + r) for r in R_GRID]
    fs = [npv_v(cf, v) for v in vs]
    for i in range(len(vs) - 1):
        if fs[i] == 0.0:
            root = R_GRID[i]
        elif (fs[i] > 0.0) != (fs[i + 1] > 0.0) and fs[i + 1] != 0.0:
            # vs decreasing: bisect on [vs[i+1], vs[i]]
            root = 1.0 / _bisect(cf, vs[i + 1], vs[i], fs[i + 1]) - 1.0
        else:
            continue
        if math.isnan(best) or abs(root) < abs(best):
            best = root
    return best


def irr(cash_flows) -> float:
    """Periodic IRR of cash flows at t = 0, 1, ...; NaN where there is no root."""
    cf = [float(x) for x in cash_flows]
    changes = sign_changes(cf)
    if changes == 0:
        return math.nan
    if changes == 1:
        return _single_root(cf)
    return _closest_root(cf)


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
