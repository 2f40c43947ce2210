# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled waterfall kernel: one Program over a batch of scenarios x periods.

It is a line-for-line twin of waterfall/reference.py (the oracle) and of the IRR in
waterfall/irr.py; parity is tested to 1e-9. Python checks and allocates; the kernel
runs with the GIL released and spreads scenarios over OpenMP threads (prange) where
the build has OpenMP. Errors never cross the nogil boundary: there are none to raise,
shortfalls are results.
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange, threadid
from libc.math cimport NAN, isnan, isfinite, fabs, pow, exp, log
from libc.stdlib cimport malloc, free
from libc.stdint cimport int64_t

cnp.import_array()

# Fused multiply-add for the IRR's Horner chains where the build targets FMA hardware
# (setup.py); everywhere else the build keeps -ffp-contract=off, so the ledger and the
# metrics-only specialisations of the waterfall round identically.
cdef extern from *:
    """
    #include <math.h>
    #if defined(__FMA__)
    #define WF_MULADD(a, b, c) fma((a), (b), (c))
    #else
    #define WF_MULADD(a, b, c) ((a) * (b) + (c))
    #endif
    """
    double WF_MULADD(double a, double b, double c) noexcept nogil

cdef enum:
    OP_FEE = 0
    OP_INTEREST = 1
    OP_PRINCIPAL = 2
    OP_RESERVE = 3
    OP_SWEEP = 4
    OP_DISTRIBUTE = 5
    OP_BORROWING_BASE = 6
    ACC_DSRA = 0
    ACC_FIXED = 1
    CH_RENT = 0
    CH_OPEX = 1
    CH_RATE_ADD = 2
    CH_VAL = 3
    CH_REFI = 7
    CH_RVG = 8
    N_CH = 9
    G_REVENUE = 0
    G_OPEX = 1
    G_CFADS = 2
    G_CAPEX = 3
    G_EQUITY_IN = 4
    G_SUPPORT = 5
    G_DRAWS = 6
    G_RELEASE = 7
    G_CASH = 8
    G_DS = 9
    G_DSCR = 10
    G_LOCK = 11
    G_FEES = 12
    G_FUNDING = 13
    G_SEIZE_GROSS = 14
    G_SEIZE_NET = 15
    G_GUARANTEE = 16
    G_EXIT = 17
    G_EQUITY_DIST = 18
    G_EOD = 19
    N_GLOBAL = 20
    T_OPEN = 0
    T_DRAW = 1
    T_RATE = 2
    T_INT_DUE = 3
    T_INT_PAID = 4
    T_INT_CAP = 5
    T_PRIN_DUE = 6
    T_PRIN_PAID = 7
    T_PREPAY = 8
    T_REC_INT = 9
    T_REC_PRIN = 10
    T_WRITE_OFF = 11
    T_REFI = 12
    T_CLOSE = 13
    N_TL = 14
    M_MIN_DSCR = 0
    M_AVG_DSCR = 1
    M_LLCR = 2
    M_PLCR = 3
    M_DEFAULT = 4
    M_CLAIM = 5
    M_RECEIVED = 6
    M_RECOVERY = 7
    M_LOSS = 8
    M_LENDER_IRR = 9
    M_EQUITY_IRR = 10
    M_EQ_DIST = 11
    M_EQ_IN = 12
    N_M = 13
    N_GRID = 24
    MAX_NEWTON = 60
    MAX_BRACKET = 200
cdef double TOL_V = 1e-15
cdef double TOL_STEP = 1e-9

# --- opcodes, channels, line layout: must match waterfall/ops.py (checked at import) ---
# global lines
# tranche lines
# metrics

LAYOUT = dict(n_global=N_GLOBAL, n_tranche_lines=N_TL, n_metrics=N_M, n_channels=N_CH,
              op_borrowing_base=OP_BORROWING_BASE, op_distribute=OP_DISTRIBUTE,
              g_equity_distribution=G_EQUITY_DIST, t_balance_close=T_CLOSE)

cdef double R_GRID[24]
R_GRID[:] = [-0.99, -0.9, -0.75, -0.5, -0.3, -0.2, -0.1, -0.05, -0.02, -0.005, 0.0, 0.005,
             0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 100.0]


ctypedef struct Prog:
    int T            # periods after close; arrays have T+1 entries
    int K
    int A
    int F
    int S            # steps
    int months
    int cod
    double *base_rent
    double *opex
    double *capex
    double *equity_in
    double *base_rate
    double *draw        # [K, T+1]
    double *accrual     # [K, T+1]
    int64_t *is_floating
    double *fixed_rate
    double *spread
    double *floor
    double *sched       # [K, T+1]
    int64_t *maturity
    int64_t *capitalise    # [K, T+1]
    int64_t *hard
    int64_t *dscr_mask
    int64_t *acct_kind
    int64_t *acct_periods
    double *acct_target
    int64_t *acct_mask     # [A, K]
    double *fee_due     # [F, T+1]
    int64_t *step_op
    int64_t *step_arg
    double *step_share
    double *step_share_locked
    double lock_up_dscr
    double default_dscr
    int cure_periods
    double *asset_value  # [4, T+1]
    double fire_sale
    double cost_share
    double cost_fixed
    double sale_discount
    double *refi_spread
    double *refi_floor
    int64_t *refi_periods
    double *refi_min_dscr
    double *bb_advance
    int64_t *bb_mask     # [K, 4]
    double rvg_cap
    int rvg_until
    double exit_share
    int n_lines


# ----------------------------------------------------------------------------- IRR
cdef inline double npv_v(const double *cf, int n, double v) noexcept nogil:
    cdef double acc = 0.0
    cdef int t
    for t in range(n - 1, -1, -1):
        acc = WF_MULADD(acc, v, cf[t])
    return acc


cdef inline void npv_and_slope(const double *cf, int n, double v, double *f, double *slope) noexcept nogil:
    """NPV and dNPV/dv at v, as even and odd powers in w = v*v: two independent Horner
    chains halve the latency of the one-chain loop (same value to rounding)."""
    cdef double w = v * v, e = 0.0, de = 0.0, o = 0.0, do_ = 0.0
    cdef int i, top_even = (n - 1) - ((n - 1) % 2), top_odd = (n - 2) - ((n - 2) % 2) + 1
    if n >= 2 and top_odd > n - 1:
        top_odd -= 2
    i = top_even
    while i >= 0:
        de = WF_MULADD(de, w, e)
        e = WF_MULADD(e, w, cf[i])
        i -= 2
    i = top_odd
    while i >= 1:
        do_ = WF_MULADD(do_, w, o)
        o = WF_MULADD(o, w, cf[i])
        i -= 2
    f[0] = e + v * o
    slope[0] = 2.0 * v * de + o + 2.0 * w * do_


cdef inline int sign_changes(const double *cf, int n) noexcept nogil:
    cdef int changes = 0, t
    cdef double last = 0.0, x
    for t in range(n):
        x = cf[t]
        if x != 0.0:
            if last != 0.0 and ((x > 0.0) != (last > 0.0)):
                changes += 1
            last = x
    return changes


cdef double bisect_v(const double *cf, int n, double lo, double hi, double f_lo) noexcept nogil:
    """Illinois false position on [lo, hi] (twin of irr._bisect)."""
    cdef double f_hi = npv_v(cf, n, hi), x = lo, f_x
    cdef int i, side = 0
    for i in range(MAX_BRACKET):
        x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not (lo < x and x < hi):
            x = 0.5 * (lo + hi)
        f_x = npv_v(cf, n, x)
        if f_x == 0.0 or hi - lo <= TOL_V * (x if x > 1.0 else 1.0):
            return x
        if (f_x > 0.0) == (f_lo > 0.0):
            lo = x
            f_lo = f_x
            if side == 1:
                f_hi *= 0.5
            side = 1
        else:
            hi = x
            f_hi = f_x
            if side == -1:
                f_lo *= 0.5
            side = -1
    return x


cdef double closest_root(const double *cf, int n) noexcept nogil:
    cdef double best = NAN, root, r, v, f, prev_v = NAN, prev_f = NAN
    cdef int i
    for i in range(N_GRID):
        r = R_GRID[i]
        v = 1.0 / (1.0 + r)
        f = npv_v(cf, n, v)
        if not isfinite(f):
            continue
        root = NAN
        if f == 0.0:
            root = r
        elif not isnan(prev_f) and prev_f != 0.0 and ((f > 0.0) != (prev_f > 0.0)):
            root = 1.0 / bisect_v(cf, n, v, prev_v, f) - 1.0
        if not isnan(root) and (isnan(best) or fabs(root) < fabs(best)):
            best = root
        prev_v = v
        prev_f = f
    return best


cdef double initial_v(const double *cf, int n) noexcept nogil:
    """Twin of irr.initial_v."""
    cdef double inflow = 0.0, outflow = 0.0, t_in = 0.0, t_out = 0.0, x, gap, v
    cdef int t
    for t in range(n):
        x = cf[t]
        if x > 0.0:
            inflow += x
            t_in += t * x
        elif x < 0.0:
            outflow -= x
            t_out -= t * x
    if inflow <= 0.0 or outflow <= 0.0:
        return 1.0
    gap = t_in / inflow - t_out / outflow
    if gap == 0.0:
        return 1.0
    v = exp(-log(inflow / outflow) / gap)
    if v < 0.5:
        return 0.5
    if v > 2.0:
        return 2.0
    return v


cdef double single_root(const double *cf, int n) noexcept nogil:
    cdef double v = initial_v(cf, n), f, slope, v_new
    cdef int it
    for it in range(MAX_NEWTON):
        npv_and_slope(cf, n, v, &f, &slope)
        if slope == 0.0 or not isfinite(f):
            break
        v_new = v - f / slope
        if not isfinite(v_new):
            break
        if v_new < 0.5 * v:
            v_new = 0.5 * v
        elif v_new > 2.0 * v:
            v_new = 2.0 * v
        if fabs(v_new - v) <= TOL_STEP * (v_new if v_new > 1.0 else 1.0):
            return 1.0 / v_new - 1.0
        v = v_new
    return closest_root(cf, n)


cdef double irr_periodic(double *cf, int n) noexcept nogil:
    """Periodic IRR (see waterfall/irr.py); NaN where there is no root. Flows of
    magnitude <= 1e-9 are rounding noise and are zeroed in place first."""
    cdef int t
    for t in range(n):
        if fabs(cf[t]) <= 1e-9:
            cf[t] = 0.0
    cdef int changes = sign_changes(cf, n)
    if changes == 0:
        return NAN
    cdef double root = single_root(cf, n) if changes == 1 else closest_root(cf, n)
    return root if root <= 10.0 else NAN


cdef inline double annualise(double r, double periods_per_year) noexcept nogil:
    if isnan(r):
        return NAN
    return pow(1.0 + r, periods_per_year) - 1.0


def irr(cash_flows):
    """Periodic IRR of a 1-D float array (NaN where there is no root)."""
    cdef double[::1] cf = np.array(cash_flows, dtype=np.float64)  # a copy: noise is zeroed in place
    cdef double out
    with nogil:
        out = irr_periodic(&cf[0], <int>cf.shape[0])
    return out


def irr_many(cash_flows):
    """Periodic IRR of each row of a 2-D array, GIL released."""
    cdef double[:, ::1] cf = np.array(cash_flows, dtype=np.float64)  # a copy, as in irr()
    cdef Py_ssize_t i, rows = cf.shape[0]
    cdef int n = <int>cf.shape[1]
    out = np.empty(rows)
    cdef double[::1] o = out
    with nogil:
        for i in range(rows):
            o[i] = irr_periodic(&cf[i, 0], n)
    return out


# ----------------------------------------------------------------------- waterfall
# The scenario function is compiled twice: writing the per-period ledger, or metrics only
# (every ledger write compiled away), chosen per batch.
ctypedef struct NoLedger:
    int unused
ctypedef double *DoublePtr
ctypedef NoLedger *NoLedgerPtr
ctypedef fused LedgerT:
    DoublePtr
    NoLedgerPtr


cdef inline void put(LedgerT L, int n_lines, int t, int col, double value) noexcept nogil:
    if LedgerT is DoublePtr:
        L[t * n_lines + col] = value


cdef inline void add(LedgerT L, int n_lines, int t, int col, double value) noexcept nogil:
    if LedgerT is DoublePtr:
        L[t * n_lines + col] += value


cdef double reserve_target(const Prog *p, const double *per_rate, const double *sched,
                           const int64_t *maturity, const double *balance,
                           int a, int t) noexcept nogil:
    cdef int T = p.T, W = p.T + 1, k, u, last
    cdef double target = 0.0, b, interest, principal
    if t >= T:
        return 0.0
    if p.acct_kind[a] == ACC_FIXED:
        return p.acct_target[a]
    if p.acct_kind[a] != ACC_DSRA:
        return 0.0
    last = t + <int>p.acct_periods[a]
    if last > T:
        last = T
    for k in range(p.K):
        if not p.acct_mask[a * p.K + k]:
            continue
        b = balance[k]
        for u in range(t + 1, last + 1):
            if u > maturity[k]:
                break
            interest = 0.0 if p.capitalise[k * W + u] else b * per_rate[k * W + u]
            principal = sched[k * W + u]
            if b < principal:
                principal = b
            target += interest + principal
            b -= principal
    return target


cdef bint refinance(const Prog *p, int k, int t, double balance, const double *base,
                    const double *factor, double *annual, double *per_rate, double *sched,
                    int64_t *maturity, double cfads_next) noexcept nogil:
    """Twin of reference.refinance: roll tranche k over at maturity t if possible."""
    cdef int T = p.T, W = p.T + 1, periods = <int>p.refi_periods[k], u
    cdef double rate, amortisation, service, first_rate
    if periods <= 0 or t >= T or balance <= 0.0 or factor[CH_REFI * W + t] <= 0.0:
        return False
    first_rate = base[t + 1] + factor[CH_RATE_ADD * W + t + 1]
    if first_rate < p.refi_floor[k]:
        first_rate = p.refi_floor[k]
    first_rate = first_rate + p.refi_spread[k]
    if first_rate < 0.0:
        first_rate = 0.0
    amortisation = balance / periods
    service = balance * first_rate * p.accrual[k * W + t + 1] + (amortisation if amortisation < balance else balance)
    if cfads_next < p.refi_min_dscr[k] * service:
        return False
    for u in range(t + 1, W):
        rate = base[u] + factor[CH_RATE_ADD * W + u]
        if rate < p.refi_floor[k]:
            rate = p.refi_floor[k]
        rate = rate + p.refi_spread[k]
        if rate < 0.0:
            rate = 0.0
        annual[k * W + u] = rate
        per_rate[k * W + u] = rate * p.accrual[k * W + u]
        sched[k * W + u] = amortisation if u <= t + periods else 0.0
    maturity[k] = t + periods if t + periods < T else T
    return True


cdef void run_scenario(const Prog *p, int s,
                       const int64_t *adj_channel, const int64_t *adj_from, const int64_t *adj_to,
                       const double *adj_value, int J, const double *base,
                       double *scratch, LedgerT L, double *metrics, double *wal) noexcept nogil:
    """One scenario: `scratch` is this thread's work space, `L` the ledger [T+1, lines]
    or NULL for metrics only, `metrics` [N_M] and `wal` [K] are outputs."""
    cdef int T = p.T, W = p.T + 1, K = p.K, A = p.A, NL = p.n_lines
    cdef int t, k, a, j, c, i, op, arg, ch, default_period = -1, cure_count = 0, n_ds = 0
    cdef int tc, acc0 = N_GLOBAL + K * N_TL, fee0 = N_GLOBAL + K * N_TL + A * 2
    cdef double *factor = scratch                  # [N_CH, W]
    cdef double *annual = factor + N_CH * W        # [K, W]
    cdef double *per_rate = annual + K * W         # [K, W]
    cdef double *lcf = per_rate + K * W            # [W]
    cdef double *ecf = lcf + W                     # [W]
    cdef double *balance = ecf + W                 # [K]
    cdef double *int_due = balance + K
    cdef double *prin_due = int_due + K
    cdef double *paid = prin_due + K               # principal paid this period
    cdef double *int_paid = paid + K
    cdef double *repaid = int_paid + K             # sum of principal over life (WAL)
    cdef double *repaid_t = repaid + K             # sum of t x principal
    cdef double *scheduled = repaid_t + K          # principal due without balloon
    cdef double *sched = scheduled + K             # [K, W] scenario copy of the schedule
    cdef int64_t *maturity = <int64_t *>(sched + K * W)   # [K] scenario maturities
    cdef double *reserve = sched + K * W + K       # [A]
    cdef double revenue, opx, cfads, draws, release, cash, support, debt_service, dscr
    cdef double interest, pay, shortfall, target, share, equity_out, fees_paid, due
    cdef double gross, net, pool, unpaid_interest, rec_int, rec_prin, claim_total = 0.0
    cdef double received_total = 0.0, min_dscr = NAN, sum_dscr = 0.0, rate, x, debt0
    cdef double eq_dist_total = 0.0, eq_in_total = 0.0, discount, npv_loan, npv_project
    cdef double cf_l, cf_e, lender_irr, equity_irr, ppy, collateral, excess, owed, guarantee
    cdef double exit_proceeds
    cdef bint locked, is_default, last
    cdef int senior, last_maturity

    # scenario factors
    for i in range(N_CH * W):
        factor[i] = 1.0
    for t in range(W):
        factor[CH_RATE_ADD * W + t] = 0.0
    for j in range(J):
        ch = <int>adj_channel[s * J + j]
        if ch < 0:
            continue
        for t in range(<int>adj_from[s * J + j], <int>adj_to[s * J + j] + 1):
            if ch == CH_RATE_ADD:
                factor[ch * W + t] += adj_value[s * J + j]
            else:
                factor[ch * W + t] *= adj_value[s * J + j]
    for k in range(K):
        for t in range(W):
            if p.is_floating[k]:
                rate = base[t] + factor[CH_RATE_ADD * W + t]
                if rate < p.floor[k]:
                    rate = p.floor[k]
                rate = rate + p.spread[k * W + t]
            else:
                rate = p.fixed_rate[k * W + t]
            if rate < 0.0:
                rate = 0.0
            annual[k * W + t] = rate
            per_rate[k * W + t] = rate * p.accrual[k * W + t]
        balance[k] = 0.0
        maturity[k] = p.maturity[k]
        for t in range(W):
            sched[k * W + t] = p.sched[k * W + t]
        repaid[k] = 0.0
        repaid_t[k] = 0.0
    for a in range(A):
        reserve[a] = 0.0
    for t in range(W):
        lcf[t] = 0.0
        ecf[t] = 0.0
    debt0 = NAN

    for t in range(W):
        revenue = p.base_rent[t] * factor[CH_RENT * W + t]
        opx = p.opex[t] * factor[CH_OPEX * W + t]
        cfads = revenue - opx
        put(L, NL, t, G_REVENUE, revenue)
        put(L, NL, t, G_OPEX, opx)
        put(L, NL, t, G_CFADS, cfads)
        put(L, NL, t, G_CAPEX, p.capex[t])
        put(L, NL, t, G_EQUITY_IN, p.equity_in[t])

        draws = 0.0
        for k in range(K):
            tc = N_GLOBAL + k * N_TL
            if t == p.cod:
                if p.dscr_mask[k]:
                    debt0 = balance[k] if isnan(debt0) else debt0 + balance[k]
            put(L, NL, t, tc + T_OPEN, balance[k])
            put(L, NL, t, tc + T_RATE, annual[k * W + t])
            interest = balance[k] * per_rate[k * W + t]
            put(L, NL, t, tc + T_INT_DUE, interest)
            int_due[k] = 0.0
            int_paid[k] = 0.0
            paid[k] = 0.0
            if p.capitalise[k * W + t]:
                put(L, NL, t, tc + T_INT_CAP, interest)
                balance[k] += interest
            else:
                int_due[k] = interest
            balance[k] += p.draw[k * W + t]
            draws += p.draw[k * W + t]
            lcf[t] -= p.draw[k * W + t]
            put(L, NL, t, tc + T_DRAW, p.draw[k * W + t])
            if t == maturity[k] and t < T:
                if refinance(p, k, t, balance[k], base, factor, annual, per_rate, sched, maturity,
                             p.base_rent[t + 1] * factor[CH_RENT * W + t + 1]
                             - p.opex[t + 1] * factor[CH_OPEX * W + t + 1]):
                    put(L, NL, t, tc + T_REFI, balance[k])
            scheduled[k] = sched[k * W + t]
            if balance[k] < scheduled[k]:
                scheduled[k] = balance[k]
            prin_due[k] = balance[k] if t == maturity[k] else scheduled[k]
            put(L, NL, t, tc + T_PRIN_DUE, prin_due[k])
        put(L, NL, t, G_DRAWS, draws)

        release = 0.0
        for a in range(A):
            release += reserve[a]
            put(L, NL, t, acc0 + 2 * a, reserve[a])
            reserve[a] = 0.0
        exit_proceeds = 0.0
        if t == T and p.exit_share > 0.0:
            x = 0.0
            for c in range(4):
                x += p.asset_value[c * W + t] * factor[(CH_VAL + c) * W + t]
            exit_proceeds = p.exit_share * x
        put(L, NL, t, G_EXIT, exit_proceeds)
        cash = cfads + draws + p.equity_in[t] - p.capex[t] + release + exit_proceeds
        support = 0.0
        if cash < 0.0:
            support = -cash
            cash = 0.0
        put(L, NL, t, G_RELEASE, release)
        put(L, NL, t, G_SUPPORT, support)
        put(L, NL, t, G_CASH, cash)
        eq_in_total += p.equity_in[t] + support

        debt_service = 0.0
        for k in range(K):
            if p.dscr_mask[k]:
                debt_service += int_due[k] + scheduled[k]
        dscr = cfads / debt_service if debt_service > 0.0 else NAN
        put(L, NL, t, G_DS, debt_service)
        put(L, NL, t, G_DSCR, dscr)
        if debt_service > 0.0:
            n_ds += 1
            sum_dscr += dscr
            if isnan(min_dscr) or dscr < min_dscr:
                min_dscr = dscr
        last = t == T
        locked = (not last) and debt_service > 0.0 and p.lock_up_dscr >= 0.0 and dscr < p.lock_up_dscr
        put(L, NL, t, G_LOCK, 1.0 if locked else 0.0)
        if debt_service > 0.0 and p.default_dscr >= 0.0 and dscr < p.default_dscr:
            cure_count += 1
        else:
            cure_count = 0
        is_default = cure_count > p.cure_periods

        equity_out = 0.0
        fees_paid = 0.0
        for i in range(p.S):
            if is_default:
                break
            op = <int>p.step_op[i]
            arg = <int>p.step_arg[i]
            if op == OP_FEE:
                due = p.fee_due[arg * W + t]
                pay = cash if cash < due else due
                cash -= pay
                fees_paid += pay
                put(L, NL, t, fee0 + 2 * arg, due)
                put(L, NL, t, fee0 + 2 * arg + 1, pay)
            elif op == OP_INTEREST:
                pay = cash if cash < int_due[arg] else int_due[arg]
                cash -= pay
                int_paid[arg] += pay
                lcf[t] += pay
                add(L, NL, t, N_GLOBAL + arg * N_TL + T_INT_PAID, pay)
                shortfall = int_due[arg] - pay
                if shortfall > 0.0:
                    if p.hard[arg]:
                        is_default = True
                    else:
                        balance[arg] += shortfall
                        add(L, NL, t, N_GLOBAL + arg * N_TL + T_INT_CAP, shortfall)
                        int_due[arg] = pay
            elif op == OP_PRINCIPAL:
                pay = cash if cash < prin_due[arg] else prin_due[arg]
                cash -= pay
                balance[arg] -= pay
                paid[arg] += pay
                lcf[t] += pay
                repaid[arg] += pay
                repaid_t[arg] += pay * t
                add(L, NL, t, N_GLOBAL + arg * N_TL + T_PRIN_PAID, pay)
                if prin_due[arg] - pay > 0.0 and (p.hard[arg] or t == maturity[arg]):
                    is_default = True
            elif op == OP_BORROWING_BASE:
                collateral = 0.0
                for c in range(4):
                    if p.bb_mask[arg * 4 + c]:
                        collateral += p.asset_value[c * W + t] * factor[(CH_VAL + c) * W + t]
                excess = balance[arg] - p.bb_advance[arg] * collateral
                if excess < 0.0:
                    excess = 0.0
                pay = cash if cash < excess else excess
                cash -= pay
                balance[arg] -= pay
                paid[arg] += pay
                lcf[t] += pay
                repaid[arg] += pay
                repaid_t[arg] += pay * t
                add(L, NL, t, N_GLOBAL + arg * N_TL + T_PREPAY, pay)
                if excess - pay > 0.0 and p.hard[arg]:
                    is_default = True
            elif op == OP_RESERVE:
                target = reserve_target(p, per_rate, sched, maturity, balance, arg, t)
                reserve[arg] = cash if cash < target else target
                cash -= reserve[arg]
            elif op == OP_SWEEP:
                share = p.step_share_locked[i] if locked else p.step_share[i]
                pay = cash * share
                if balance[arg] < pay:
                    pay = balance[arg]
                cash -= pay
                balance[arg] -= pay
                paid[arg] += pay
                lcf[t] += pay
                repaid[arg] += pay
                repaid_t[arg] += pay * t
                add(L, NL, t, N_GLOBAL + arg * N_TL + T_PREPAY, pay)
            elif op == OP_DISTRIBUTE:
                if locked and arg >= 0:
                    reserve[arg] += cash
                else:
                    equity_out += cash
                cash = 0.0

        if is_default:
            default_period = t
            put(L, NL, t, G_EOD, 1.0)
            gross = 0.0
            if exit_proceeds <= 0.0:
                for c in range(4):
                    gross += p.asset_value[c * W + t] * factor[(CH_VAL + c) * W + t]
            net = gross * (1.0 - p.fire_sale) - p.cost_share * gross - p.cost_fixed
            if net < 0.0:
                net = 0.0
            net = net * p.sale_discount
            put(L, NL, t, G_SEIZE_GROSS, gross)
            put(L, NL, t, G_SEIZE_NET, net)
            x = 0.0
            for a in range(A):
                x += reserve[a]
                reserve[a] = 0.0
            pool = cash + x + net
            if p.rvg_cap > 0.0 and t <= p.rvg_until:
                owed = 0.0
                for k in range(K):
                    owed += int_due[k] - int_paid[k] + balance[k]
                guarantee = owed - pool
                if guarantee < 0.0:
                    guarantee = 0.0
                if p.rvg_cap * factor[CH_RVG * W + t] < guarantee:
                    guarantee = p.rvg_cap * factor[CH_RVG * W + t]
                put(L, NL, t, G_GUARANTEE, guarantee)
                pool += guarantee
            for k in range(K):
                tc = N_GLOBAL + k * N_TL
                unpaid_interest = int_due[k] - int_paid[k]
                claim_total += balance[k] + paid[k] + int_due[k]
                received_total += int_paid[k]
                rec_int = pool if pool < unpaid_interest else unpaid_interest
                pool -= rec_int
                rec_prin = pool if pool < balance[k] else balance[k]
                pool -= rec_prin
                put(L, NL, t, tc + T_REC_INT, rec_int)
                put(L, NL, t, tc + T_REC_PRIN, rec_prin)
                put(L, NL, t, tc + T_WRITE_OFF, balance[k] - rec_prin)
                received_total += paid[k] + rec_int + rec_prin
                lcf[t] += rec_int + rec_prin
                repaid[k] += rec_prin
                repaid_t[k] += rec_prin * t
                balance[k] = 0.0
            equity_out += pool
            cash = 0.0

        put(L, NL, t, G_FEES, fees_paid)
        put(L, NL, t, G_EQUITY_DIST, equity_out)
        eq_dist_total += equity_out
        ecf[t] = equity_out - p.equity_in[t] - support
        x = 0.0
        for a in range(A):
            x += reserve[a]
            put(L, NL, t, acc0 + 2 * a + 1, reserve[a])
        put(L, NL, t, G_FUNDING, x)
        for k in range(K):
            put(L, NL, t, N_GLOBAL + k * N_TL + T_CLOSE, balance[k])
        if is_default:
            break

    # metrics (definitions: waterfall/metrics.py)
    metrics[M_MIN_DSCR] = min_dscr
    metrics[M_AVG_DSCR] = sum_dscr / n_ds if n_ds > 0 else NAN
    metrics[M_LLCR] = NAN
    metrics[M_PLCR] = NAN
    senior = -1
    last_maturity = -1
    for k in range(K):
        if p.dscr_mask[k]:
            if senior < 0:
                senior = k
            if p.maturity[k] > last_maturity:
                last_maturity = <int>p.maturity[k]
    if p.cod <= T and senior >= 0 and not isnan(debt0) and debt0 > 0.0:
        discount = 1.0
        npv_loan = 0.0
        npv_project = 0.0
        for t in range(p.cod, W):
            discount /= 1.0 + per_rate[senior * W + t]
            x = p.base_rent[t] * factor[CH_RENT * W + t] - p.opex[t] * factor[CH_OPEX * W + t]
            if t <= last_maturity:
                npv_loan += x * discount
            npv_project += x * discount
        metrics[M_LLCR] = npv_loan / debt0
        metrics[M_PLCR] = npv_project / debt0
    metrics[M_DEFAULT] = default_period
    metrics[M_CLAIM] = claim_total
    metrics[M_RECEIVED] = received_total
    metrics[M_RECOVERY] = received_total / claim_total if claim_total > 0.0 else NAN
    metrics[M_LOSS] = claim_total - received_total if default_period >= 0 else 0.0
    ppy = 12.0 / p.months
    metrics[M_LENDER_IRR] = annualise(irr_periodic(lcf, W), ppy)
    metrics[M_EQUITY_IRR] = annualise(irr_periodic(ecf, W), ppy)
    metrics[M_EQ_DIST] = eq_dist_total
    metrics[M_EQ_IN] = eq_in_total
    for k in range(K):
        wal[k] = (repaid_t[k] * p.months / 12.0) / repaid[k] if repaid[k] > 0.0 else NAN


cdef inline double *dptr(cnp.ndarray arr):
    return <double *>cnp.PyArray_DATA(arr)


cdef inline int64_t *lptr(cnp.ndarray arr):
    return <int64_t *>cnp.PyArray_DATA(arr)


def _f64(x):
    return np.ascontiguousarray(x, dtype=np.float64)


def _i64(x):
    return np.ascontiguousarray(x, dtype=np.int64)


def run_batch(program, batch, bint want_ledgers=False, int threads=1):
    """Run every scenario of `batch` on `program`. Returns (ledgers [S, T+1, L] or None,
    metrics [S, N_M], wal [S, K])."""
    cdef Prog p
    keep = {}  # keep contiguous copies alive while the kernel runs
    for name in ("base_rent", "opex", "capex", "equity_in", "base_rate", "draw", "accrual",
                 "fixed_rate", "spread", "floor", "sched", "acct_target", "fee_due",
                 "step_share", "step_share_locked", "asset_value", "refi_spread", "refi_floor",
                 "refi_min_dscr", "bb_advance"):
        keep[name] = _f64(getattr(program, name))
    for name in ("is_floating", "maturity", "capitalise", "hard", "dscr_mask", "acct_kind",
                 "acct_periods", "acct_mask", "step_op", "step_arg", "refi_periods", "bb_mask"):
        keep[name] = _i64(getattr(program, name))
    p.T = program.n_periods
    p.K = program.n_tranches
    p.A = program.n_accounts
    p.F = program.n_fees
    p.S = len(program.step_op)
    p.months = program.months_per_period
    p.cod = program.cod_period
    p.base_rent = dptr(keep["base_rent"]); p.opex = dptr(keep["opex"])
    p.capex = dptr(keep["capex"]); p.equity_in = dptr(keep["equity_in"])
    p.base_rate = dptr(keep["base_rate"]); p.draw = dptr(keep["draw"])
    p.accrual = dptr(keep["accrual"]); p.is_floating = lptr(keep["is_floating"])
    p.fixed_rate = dptr(keep["fixed_rate"]); p.spread = dptr(keep["spread"])
    p.floor = dptr(keep["floor"]); p.sched = dptr(keep["sched"])
    p.maturity = lptr(keep["maturity"]); p.capitalise = lptr(keep["capitalise"])
    p.hard = lptr(keep["hard"]); p.dscr_mask = lptr(keep["dscr_mask"])
    p.acct_kind = lptr(keep["acct_kind"]); p.acct_periods = lptr(keep["acct_periods"])
    p.acct_target = dptr(keep["acct_target"]); p.acct_mask = lptr(keep["acct_mask"])
    p.fee_due = dptr(keep["fee_due"]); p.step_op = lptr(keep["step_op"])
    p.step_arg = lptr(keep["step_arg"]); p.step_share = dptr(keep["step_share"])
    p.step_share_locked = dptr(keep["step_share_locked"])
    p.lock_up_dscr = program.lock_up_dscr
    p.default_dscr = program.default_dscr
    p.cure_periods = program.cure_periods
    p.asset_value = dptr(keep["asset_value"])
    p.fire_sale = program.fire_sale
    p.cost_share = program.cost_share
    p.cost_fixed = program.cost_fixed
    p.sale_discount = program.sale_discount
    p.refi_spread = dptr(keep["refi_spread"]); p.refi_floor = dptr(keep["refi_floor"])
    p.refi_periods = lptr(keep["refi_periods"]); p.refi_min_dscr = dptr(keep["refi_min_dscr"])
    p.bb_advance = dptr(keep["bb_advance"]); p.bb_mask = lptr(keep["bb_mask"])
    p.rvg_cap = program.rvg_cap
    p.rvg_until = program.rvg_until
    p.exit_share = program.exit_share
    p.n_lines = N_GLOBAL + p.K * N_TL + p.A * 2 + p.F * 2

    cdef cnp.ndarray channel = _i64(batch.adj_channel)
    cdef cnp.ndarray start = _i64(batch.adj_from)
    cdef cnp.ndarray stop = _i64(batch.adj_to)
    cdef cnp.ndarray value = _f64(batch.adj_value)
    cdef cnp.ndarray path_index = _i64(batch.path_index)
    cdef int W = p.T + 1
    paths = np.ascontiguousarray(np.vstack([_f64(program.base_rate)[None, :],
                                            _f64(batch.paths).reshape(-1, W)]))
    cdef cnp.ndarray paths_arr = paths
    cdef Py_ssize_t S = channel.shape[0]
    cdef int J = <int>channel.shape[1]
    if S == 0:
        return (np.zeros((0, W, p.n_lines)) if want_ledgers else None,
                np.zeros((0, N_M)), np.zeros((0, p.K)))
    if np.any(path_index >= len(paths) - 1) or np.any(path_index < -1):
        raise ValueError("path_index out of range")

    metrics = np.empty((S, N_M))
    wal = np.empty((S, p.K))
    ledgers = np.zeros((S, W, p.n_lines)) if want_ledgers else None
    cdef double *m_ptr = dptr(metrics)
    cdef double *w_ptr = dptr(wal)
    cdef double *l_ptr = dptr(ledgers) if want_ledgers else NULL
    cdef int64_t *ch_ptr = lptr(channel)
    cdef int64_t *from_ptr = lptr(start)
    cdef int64_t *to_ptr = lptr(stop)
    cdef double *v_ptr = dptr(value)
    cdef int64_t *pi_ptr = lptr(path_index)
    cdef double *paths_ptr = dptr(paths_arr)
    if threads < 1:
        threads = 1
    cdef Py_ssize_t scratch_size = N_CH * W + 3 * p.K * W + 2 * W + 9 * p.K + p.A + 8
    cdef double *scratch = <double *>malloc(threads * scratch_size * sizeof(double))
    if scratch == NULL:
        raise MemoryError()
    cdef Py_ssize_t s
    cdef int tid
    cdef Py_ssize_t stride = W * p.n_lines
    try:
        with nogil:
            for s in prange(S, num_threads=threads, schedule="static"):
                tid = threadid()
                if l_ptr != NULL:
                    run_scenario(&p, <int>s, ch_ptr, from_ptr, to_ptr, v_ptr, J,
                                 paths_ptr + (pi_ptr[s] + 1) * W, scratch + tid * scratch_size,
                                 <DoublePtr>(l_ptr + s * stride), m_ptr + s * N_M, w_ptr + s * p.K)
                else:
                    run_scenario(&p, <int>s, ch_ptr, from_ptr, to_ptr, v_ptr, J,
                                 paths_ptr + (pi_ptr[s] + 1) * W, scratch + tid * scratch_size,
                                 <NoLedgerPtr>NULL, m_ptr + s * N_M, w_ptr + s * p.K)
    finally:
        free(scratch)
    return ledgers, metrics, wal


