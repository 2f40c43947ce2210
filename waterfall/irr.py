"""Internal rate of return: the rate r > -1 at which the cash flows' NPV is zero, per
period (`irr`, flows at t = 0, 1, ...) or per year on actual dates (`xirr`, flows at
times tau_i in years, ACT/365F from the first flow: pyxirr.xirr's and the spreadsheet
XIRR's definition).

Every real root in r in (-1, +inf) is searched, in two halves that never overflow:
- losses, r in (-1, 0]: u = 1 + r in (0, 1] and q(u) = sum c_i u^(tau_N - tau_i);
- gains, r in [0, +inf): v = 1/(1 + r) in (0, 1] and p(v) = sum c_i v^(tau_i - tau_0),
where c_0 .. c_N are the flows from the first to the last non-zero one. Both are the NPV
times a positive factor (same sign, same roots), both are bounded by sum |c_i|, and
their limits are known exactly: q(0+) = c_N (r -> -1), p(0+) = c_0 (r -> +inf), and
q(1) = p(1) = sum c_i (r = 0). A deep loss (v = 1/(1+r) large: -96.9% a quarter is
v = 32) is an ordinary point u = 0.031 of the loss half.

- No sign change in the flows: no root, NaN.
- One sign change: exactly one root (Descartes' rule of signs, which holds for real
  exponents too), in the half where the sign at r = 0 differs from the limit. Halley's
  method (Newton's step where Halley's correction is large) from a one-pass estimate
  (initial_v), kept inside the bracket [0, 1] of that half (a bisection step when a
  step leaves it); it stops once a Halley or Newton step is below 1e-9 relative to the
  iterate (the error after such a step is already at machine precision). Where it has not
  after MAX_NEWTON passes (from v = 0.5 a degree-n polynomial whose top flow dominates
  shrinks v only by (n - 1)/(n + 1) a pass: -1 then 1e308 forty periods on has its root at
  v = 2e-8), the bracket it kept is refined by Illinois, then by bisection in log v where
  that creeps across the decades: a root is returned only converged, else NaN.
- Several sign changes: the number of roots in each half is bounded by the sign changes
  of the flows' partial sums (Laguerre's rule of signs: from the first flow on for the
  gain half, from the last flow back for the loss half). A half with no possible root is
  skipped; a half with at most one, whose ends differ in sign, holds exactly one: the
  bracketed Halley above. Otherwise the half is scanned on a fixed grid including its end
  points; each sign change is refined by Illinois false position to machine precision
  (relative in u or v), and while fewer roots are found than the bound, every grid cell
  whose end slopes show an extremum turned towards zero is split at that extremum (a pair
  of roots inside one cell). Roots closer together than that (two extrema in one cell)
  are not resolved. The gain half is searched first; the loss half only if it has none.

Root choice where there are several (one rule, the same in the Cython kernel): the
smallest non-negative root if there is one, else the negative root closest to zero.
This is numpy-financial's current rule (`_irr_default_selection` on its main branch:
keep the non-negative roots when roots of both signs exist, then the one smallest in
magnitude), which we follow. The installed numpy-financial 1.0.0 instead returns the
root closest to zero whatever its sign, from np.roots keeping only roots whose
imaginary part is exactly 0; the two agree whenever all roots have one sign.

There is no cap on the rate: a root above 1,000% a period is reported like any other,
up to the largest double (about 1.8e308). A root beyond it (v = 1/(1+r) below about
5.6e-309, or underflowing to 0: -1 then 1e10 a day later is r = 1e10^365 - 1 a year) is
not representable and is reported as NaN, as the spreadsheet XIRR gives #NUM!; so is an
annualised IRR (1 + r)^n - 1 that overflows. Inside the search such a root is +inf (the
limit of the gain half at v = 0), so the root choice is unchanged: it is NaN only as the
answer (never the loss half's root instead, where the chosen root is beyond the range).
The dated NPV is evaluated term by term (exp in the reference; the kernel builds
x^tau_i from a table over the few distinct gaps between payment dates, the same to
rounding); the engine starts each XIRR from the annualised periodic IRR.
Flows smaller than 1e-9 in magnitude (a thousandth of a dollar in USD millions) are
rounding noise and count as zero. The Cython kernel implements the same algorithm
(ext/_kernel.pyx: irr_periodic, irr_dated).
"""
from __future__ import annotations

import math

import numpy as np

# Grids of the two halves for flows with several sign changes, each from its end
# point 0 (r = -1, r = +inf) to 1 (r = 0) exclusive. Loss half: u = 1 + r.
U_GRID = (0.0, 1e-6, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8,
          0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998)
# Gain half: v = 1/(1 + r) for r = +inf, 1e6, 1000, 100, 30, 10, 5, 3, 2, 1.5, 1, 0.75, 0.5,
# 0.3, 0.2, 0.15, 0.1, 0.075, 0.05, 0.03, 0.02, 0.01, 0.005, 0.002.
V_GRID = (0.0,) + tuple(1.0 / (1.0 + r) for r in (
    1e6, 1000.0, 100.0, 30.0, 10.0, 5.0, 3.0, 2.0, 1.5, 1.0, 0.75, 0.5, 0.3, 0.2, 0.15, 0.1,
    0.075, 0.05, 0.03, 0.02, 0.01, 0.005, 0.002))
LOSS, GAIN = 0, 1
MAX_NEWTON = 60
MAX_BRACKET = 200
NOISE = 1e-9
TOL_V = 1e-15
TOL_STEP = 1e-9
# The smallest discount factor v whose rate 1/v - 1 is a finite double (2^-1024 + 2^-1074,
# r = 1.8e308): a gain-half root below it is beyond the range (+inf, reported NaN).
V_MIN = 5.56268464626801e-309
# The smallest positive double (2^-1074): the log-bisection's stand-in for an end at 0.
X_TINY = 5e-324
DBL_MIN, DBL_MAX = 2.2250738585072014e-308, 1.7976931348623157e308  # the normal doubles


def npv_v(cf, v: float) -> float:
    """NPV at discount factor v = 1/(1+r): sum cf[t] v^t, Horner from the end."""
    acc = 0.0
    for t in range(len(cf) - 1, -1, -1):
        acc = acc * v + cf[t]
    return acc


class _Flows:
    """Flows c_0..c_N (first to last non-zero) at times tau (None: 0, 1, ..., N), with
    the halves' functions q (LOSS) and p (GAIN) of u or v and their derivatives."""

    def __init__(self, c, tau=None):
        self.c, self.tau = c, tau
        self.rev = c[::-1]
        if tau is not None:
            self.exps = ([tau[-1] - x for x in tau], [x - tau[0] for x in tau])

    def at(self, side: int, x: float, derivatives: bool = False):
        """(f, f', f'') of the half `side` at x in [0, 1] (f' and f'' in x; 0 unless asked)."""
        if x == 0.0:  # the limit r -> -1 (LOSS) or r -> +inf (GAIN)
            return (self.c[-1] if side == LOSS else self.c[0]), 0.0, 0.0
        if self.tau is None:
            coef = self.rev if side == LOSS else self.c
            if not derivatives:
                return npv_v(coef, x), 0.0, 0.0
            return _horner3(coef, x)
        f = f1 = f2 = 0.0
        lx = math.log(x)
        for ci, e in zip(self.c, self.exps[side]):
            term = ci * math.exp(e * lx)
            f += term
            f1 += e * term
            f2 += e * (e - 1.0) * term
        # (x * x underflows first for a rate near -100%; an infinite slope there, as a Python
        # float, is the same value numpy gives, without its overflow warning)
        x = float(x)
        return float(f), float(f1) / x, float(f2) / x / x


def _horner3(coef, x: float):
    """Polynomial sum coef[t] x^t and its first and second derivatives (Horner's rule;
    the kernel runs eight interleaved chains in x^8, the same values to rounding)."""
    acc = slope = half_curvature = 0.0
    for t in range(len(coef) - 1, -1, -1):
        half_curvature = half_curvature * x + slope
        slope = slope * x + acc
        acc = acc * x + coef[t]
    return acc, slope, 2.0 * half_curvature


def rate_of(side: int, x: float) -> float:
    """The rate r of the point x of a half: u - 1 (LOSS) or 1/v - 1 (GAIN); +inf at v = 0,
    the limit r -> +inf (as C's 1/0; also where 1/v overflows, v below ~5.6e-309); NaN
    (no root found) stays NaN."""
    if side == LOSS:
        return x - 1.0
    if x > 0.0:
        return 1.0 / x - 1.0
    return math.inf if x == 0.0 else math.nan


def reported(r: float) -> float:
    """The IRR as reported: NaN where the root is beyond the largest double (+-inf), a
    rate no analyst can read (the spreadsheet's #NUM!); NaN and finite rates unchanged."""
    return r if math.isfinite(r) else math.nan


def sign_changes(cf) -> int:
    changes, last = 0, 0.0
    for x in cf:
        if x != 0.0:
            if last != 0.0 and (x > 0.0) != (last > 0.0):
                changes += 1
            last = x
    return changes


def _bisect(fl: _Flows, side: int, lo: float, hi: float, f_lo: float, f_hi: float, which: int = 0) -> float:
    """Root in x between lo < hi of the half's f (which = 0) or of its slope f'
    (which = 1), which changes sign there: Illinois false position, which converges
    superlinearly, to machine precision relative to x; where it has not after MAX_BRACKET
    steps (a bracket over many decades), bisection in log x (_log_bisect) from the bracket
    it reached. NaN only where neither converges."""
    pick = (lambda x: fl.at(side, x)[0]) if which == 0 else (lambda x: fl.at(side, x, True)[1])
    side_ = 0
    x = lo
    for _ in range(MAX_BRACKET):
        x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not (lo < x < hi):
            x = 0.5 * (lo + hi)
        f_x = pick(x)
        if f_x == 0.0 or hi - lo <= TOL_V * x:
            return x
        if (f_x > 0.0) == (f_lo > 0.0):
            lo, f_lo = x, f_x
            if side_ == 1:
                f_hi *= 0.5
            side_ = 1
        else:
            hi, f_hi = x, f_x
            if side_ == -1:
                f_lo *= 0.5
            side_ = -1
    return _log_bisect(pick, lo, hi, f_lo)


def _log_bisect(pick, lo: float, hi: float, f_lo: float) -> float:
    """The root in x of `pick` between lo < hi (f_lo: the sign at lo) where Illinois false
    position ran MAX_BRACKET steps unconverged (a bracket spanning hundreds of decades, as
    [1e-300, 1] for a rate near 1e300: each secant step creeps from the flat end): bisection
    in log x, the geometric midpoint halving the decades left (lo = 0 counts as the smallest
    double, 5e-324: ~60 steps take [0, 1] to machine precision), the arithmetic one once the
    bracket is within rounding of a factor 1. The same stopping rule as Illinois (a bracket
    1e-15 of x wide, or f = 0); adjacent doubles are converged (hi). NaN, no root found,
    where it does not converge (unreachable: the step count is bounded well within the cap)."""
    for _ in range(MAX_BRACKET):
        x = math.sqrt(max(lo, X_TINY)) * math.sqrt(hi)
        if not lo < x < hi:
            x = 0.5 * (lo + hi)
            if not lo < x < hi:
                return hi
        f_x = pick(x)
        if f_x == 0.0:
            return x
        if (f_x > 0.0) == (f_lo > 0.0):
            lo, f_lo = x, f_x
        else:
            hi = x
        if hi - lo <= TOL_V * x:
            return x
    return math.nan


def initial_v(cf, times=None) -> float:
    """Starting discount factor per unit of time (a period, or a year for dated flows):
    the rate at which what comes in, discounted, matches what goes out, to second
    order in the spread of their times. With m and s^2 the money-weighted mean and
    variance of the times of the inflows (and of the outflows),
    log(sum x e^(-d t)) ~ log(total) - d m + d^2 s^2 / 2, so d solves
    (s_in^2 - s_out^2)/2 d^2 - (m_in - m_out) d + log(in/out) = 0 (the root nearest the
    first-order log(in/out) / (m_in - m_out)); v = e^(-d). One pass; within about 1% of
    the root for loan and equity flows (the first-order estimate alone: about 10%).
    Where a sum overflows (1e308 forty periods out: t x = 4e309) the sums are taken of the
    flows times 2^-e, the largest then in [0.5, 1): exact, and the estimate depends only
    on ratios of the sums."""
    sums = _moments(cf, times, 1.0)
    if not all(math.isfinite(x) for x in sums):
        sums = _moments(cf, times, math.ldexp(1.0, -math.frexp(max(abs(x) for x in cf))[1]))
    return _estimate(*sums)


def _moments(cf, times, scale: float):
    """(inflow, outflow, sum t x in, sum t x out, sum t^2 x in, sum t^2 x out) of the flows
    x = cf[i] scale (positive amounts) at times t = i or times[i]."""
    inflow = outflow = t_in = t_out = tt_in = tt_out = 0.0
    for i, x in enumerate(cf):
        t = float(i) if times is None else float(times[i])
        x = x * scale
        if x > 0.0:
            inflow += x
            t_in += t * x
            tt_in += t * t * x
        elif x < 0.0:
            outflow -= x
            t_out -= t * x
            tt_out -= t * t * x
    return inflow, outflow, t_in, t_out, tt_in, tt_out


def _estimate(inflow, outflow, t_in, t_out, tt_in, tt_out) -> float:
    """initial_v's estimate from the sums (see there). log(in/out) is the difference of the
    logs where the ratio leaves the normal doubles (1e301 in for 1e-8 out: 1e309)."""
    if inflow <= 0.0 or outflow <= 0.0:
        return 1.0
    mean_in, mean_out = t_in / inflow, t_out / outflow
    gap = mean_in - mean_out
    if gap == 0.0:
        return 1.0
    ratio = inflow / outflow
    c = math.log(ratio) if DBL_MIN <= ratio <= DBL_MAX else math.log(inflow) - math.log(outflow)
    a = 0.5 * ((tt_in / inflow - mean_in * mean_in) - (tt_out / outflow - mean_out * mean_out))
    delta = c / gap
    disc = gap * gap - 4.0 * a * c
    if disc >= 0.0:
        delta = 2.0 * c / (gap + math.sqrt(disc) if gap > 0.0 else gap - math.sqrt(disc))
    if -delta > 700.0:  # e^700 ~ 1e304; C's exp overflows past that, to inf (start at 0.5)
        return math.inf
    return math.exp(-delta)


def _start(side: int, v0: float) -> float:
    """The estimate v0 as a point of a half (0.5 where it falls outside (0, 1))."""
    x = 1.0 / v0 if side == LOSS else v0
    return x if 0.0 < x < 1.0 else 0.5


def _halley(fl: _Flows, side: int, x: float) -> float:
    """The one root in (0, 1) of a half whose ends differ in sign: Halley's method kept
    inside the bracket (a bisection step where a step would leave it)."""
    lo, hi = 0.0, 1.0
    f_lo, f_hi = fl.at(side, 0.0)[0], sum(fl.c)
    for _ in range(MAX_NEWTON):
        f, slope, curvature = fl.at(side, x, True)
        if f == 0.0:
            return rate_of(side, x)
        if (f > 0.0) == (f_lo > 0.0):
            lo, f_lo = x, f
        else:
            hi, f_hi = x, f
        x_new = math.nan
        if slope != 0.0:
            step = f / slope  # Newton
            q = step * curvature / (2.0 * slope)
            if abs(q) <= 0.5:
                step = step / (1.0 - q)  # Halley: cubic convergence, one pass fewer
            x_new = x - step
        if abs(x_new - x) <= TOL_STEP * x:  # (False for NaN)
            return rate_of(side, x_new)  # after a step of size d the error is O(d^2) or less
        if not lo < x_new < hi:  # left the bracket (or no slope): bisect instead
            x = 0.5 * (lo + hi)
            continue
        x = x_new
    return _last_bracket(fl, side, lo, hi, f_lo, f_hi)


def _last_bracket(fl: _Flows, side: int, lo: float, hi: float, f_lo: float, f_hi: float) -> float:
    """The rate of the one root left in [lo, hi] after MAX_NEWTON Halley passes (Halley
    from v = 0.5 shrinks v only by (n - 1)/(n + 1) a pass on a degree-n polynomial whose top
    flow dominates: 60 passes are far from a root near 1e-8): Illinois false position on
    it, then bisection in log v where that creeps (_bisect), converged or NaN, never an
    unconverged point; a gain-half bracket is first cut at V_MIN (the largest finite rate):
    a root below V_MIN is +inf (beyond the range, reported NaN), not a point of the 300
    decades of v below it that the search cannot resolve ([-1e-8, 1e308] a period apart:
    v = 1e-316, r = 1e316)."""
    if side == GAIN and lo < V_MIN:
        if hi <= V_MIN:
            return math.inf
        f_min = fl.at(GAIN, V_MIN)[0]
        if f_min == 0.0:
            return rate_of(GAIN, V_MIN)
        if (f_min > 0.0) != (f_lo > 0.0):
            return math.inf  # the sign changes below V_MIN
        lo, f_lo = V_MIN, f_min
    return rate_of(side, _bisect(fl, side, lo, hi, f_lo, f_hi))


def _single_root(fl: _Flows, v0: float) -> float:
    """The one root of flows with one sign change (see the module doc)."""
    total = sum(fl.c)
    if total == 0.0:
        return 0.0
    side = LOSS if (total > 0.0) == (fl.c[0] > 0.0) else GAIN
    return _halley(fl, side, _start(side, v0))


def partial_sum_changes(c) -> tuple[int, int]:
    """(loss, gain): sign changes of the partial sums from the last flow back and from the
    first on. Laguerre's rule of signs (exponents in increasing order, real or whole):
    each bounds the roots of its half in (0, 1), i.e. r in (-1, 0) and r in (0, +inf).
    A partial sum within rounding of zero (1e-12 of the flows' size) may hide a change:
    it counts as one, so the bound stays an upper bound."""
    tol = 1e-12 * sum(abs(x) for x in c)

    def changes(values):
        total, last, out = 0.0, 0.0, 0
        for x in values:
            total += x
            if abs(total) <= tol:
                out += 1
            elif last != 0.0 and (total > 0.0) != (last > 0.0):
                out += 1
                last = total
            else:
                last = total
        return out
    return changes(reversed(c)), changes(c)


def _split_at_extremum(fl: _Flows, side: int, lo: float, hi: float, f_lo: float, f_hi: float):
    """Roots in a cell whose ends have one sign: a pair around an extremum turned towards
    zero (the slopes at the ends point to it), or a double root at it; else none."""
    s_lo, s_hi = fl.at(side, lo, True)[1], fl.at(side, hi, True)[1]
    up = f_lo > 0.0  # f > 0 at both ends: look for a minimum below zero
    if not ((s_lo < 0.0 < s_hi) if up else (s_lo > 0.0 > s_hi)):
        return []
    xm = _bisect(fl, side, lo, hi, s_lo, s_hi, which=1)
    if math.isnan(xm):  # no extremum found
        return []
    fm = fl.at(side, xm)[0]
    if fm == 0.0:
        return [xm]
    if (fm > 0.0) == up:
        return []
    return [_bisect(fl, side, lo, xm, f_lo, fm), _bisect(fl, side, xm, hi, fm, f_hi)]


def _half_roots(fl: _Flows, side: int, bound: int, v0: float) -> list[float]:
    """The roots in one half with at most `bound` of them (Laguerre): none; exactly one
    where the bound is 1 and the half's ends differ in sign (Halley); else those the grid
    scan finds, cells split at an extremum while fewer than the bound are found."""
    total, edge = sum(fl.c), fl.at(side, 0.0)[0]
    if bound == 0 or (bound == 1 and (edge > 0.0) == (total > 0.0)):
        return []
    if bound == 1:
        return [_halley(fl, side, _start(side, v0))]
    grid = U_GRID if side == LOSS else V_GRID
    points = list(grid) + [1.0]
    values = [fl.at(side, x)[0] for x in grid] + [total]
    cells = [(points[i], points[i + 1], values[i], values[i + 1]) for i in range(len(grid))]
    roots = []
    for lo, hi, f_lo, f_hi in cells:
        if f_lo == 0.0 and lo > 0.0:
            roots.append(rate_of(side, lo))
        elif f_lo != 0.0 and f_hi != 0.0 and (f_lo > 0.0) != (f_hi > 0.0):
            roots.append(rate_of(side, _bisect(fl, side, lo, hi, f_lo, f_hi)))
    if len(roots) < bound:  # pairs the sign scan cannot see
        for lo, hi, f_lo, f_hi in cells:
            if f_lo != 0.0 and f_hi != 0.0 and (f_lo > 0.0) == (f_hi > 0.0):
                roots += [rate_of(side, x) for x in _split_at_extremum(fl, side, lo, hi, f_lo, f_hi)]
    return [r for r in roots if not math.isnan(r)]  # (NaN: a refinement that found none)


def _chosen_root(fl: _Flows, v0: float) -> float:
    """The rule: the smallest non-negative root, else the negative root closest to zero.
    The loss half is searched only where the gain half (with r = 0) has no root."""
    if sum(fl.c) == 0.0:
        return 0.0  # r = 0 is a root, and no non-negative root is smaller
    loss_bound, gain_bound = partial_sum_changes(fl.c)
    gains = _half_roots(fl, GAIN, gain_bound, v0)
    if gains:
        return min(gains)
    losses = _half_roots(fl, LOSS, loss_bound, v0)
    return max(losses) if losses else math.nan


def _solve(cf, times=None, guess=None) -> float:
    c = [float(x) if abs(x) > NOISE else 0.0 for x in cf]
    nonzero = [i for i, x in enumerate(c) if x != 0.0]
    changes = sign_changes(c)
    if changes == 0:
        return math.nan
    first, last = nonzero[0], nonzero[-1]
    tau = None if times is None else [float(t) for t in times[first:last + 1]]
    fl = _Flows(c[first:last + 1], tau)
    v0 = initial_v(c, times)
    if guess is not None and math.isfinite(guess) and guess > -1.0:
        v0 = 1.0 / (1.0 + guess)
    return reported(_single_root(fl, v0) if changes == 1 else _chosen_root(fl, v0))


def irr(cash_flows) -> float:
    """Periodic IRR of cash flows at t = 0, 1, ...; NaN where there is no root or it is
    beyond the largest double."""
    return _solve(cash_flows)


def xirr(cash_flows, years, guess: float | None = None) -> float:
    """Annual IRR of cash flows at times `years` (ACT/365F year fractions from the first
    flow's date, non-decreasing): sum cf_i (1 + r)^(-years_i) = 0; NaN where there is no
    root or it is beyond the largest double (the spreadsheet's #NUM!). pyxirr.xirr(dates, amounts) and the spreadsheet XIRR solve the same equation.
    `guess` (an annual rate, e.g. the annualised periodic IRR) starts the iteration
    instead of initial_v's estimate; the root found is the same to rounding."""
    if len(years) != len(cash_flows):
        raise ValueError(f"{len(cash_flows)} cash flows but {len(years)} year fractions")
    return _solve(cash_flows, years, guess)


def annualise(periodic: float, periods_per_year: float) -> float:
    """The annual rate (1 + r)^periods_per_year - 1 of a periodic rate r (a fraction a
    period; periods_per_year = 12 / months a period). NaN stays NaN; an annual rate beyond
    the largest double (C's pow gives inf, Python raises OverflowError: 100x a quarter is
    101^4 - 1 = 1.04e8, fine, 1e100 a quarter is 1e400) is NaN, as an IRR beyond it."""
    if math.isnan(periodic):
        return math.nan
    try:
        return reported((1.0 + periodic) ** periods_per_year - 1.0)
    except OverflowError:
        return math.nan


def irr_or_none(cash_flows, periods_per_year: float = 1.0):
    value = annualise(irr(np.asarray(cash_flows, dtype=float)), periods_per_year)
    return None if math.isnan(value) else value
