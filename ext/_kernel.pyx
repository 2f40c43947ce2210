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
from libc.math cimport NAN, isnan, isfinite, fabs, pow, exp, log, sqrt
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
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
    #if defined(__AVX2__) && defined(__FMA__)
    #include <immintrin.h>
    #endif

    /* f(v) = sum cf[t] v^t and its first two derivatives f1, f2. Horner's rule on eight
       interleaved chains in w = v^8 (chain j holds the terms t = 8m + j: an eighth of the
       latency of one chain), each carrying its value E, slope D and half curvature S in w;
       the chains are then combined by Horner's rule in v with the product rule. */
    static void wf_npv3(const double *cf, int n, double v, double *f, double *f1, double *f2)
    {
        double v2 = v * v, v4 = v2 * v2, v6 = v4 * v2, v7 = v6 * v, w = v4 * v4, v14 = v7 * v7;
        double pad[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        double E[8], D[8], S[8];
        int top = (n - 1) / 8, rem = n - 8 * top, j, m;
        for (j = 0; j < rem; j++)
            pad[j] = cf[8 * top + j];
    #if defined(__AVX2__) && defined(__FMA__)
        {
            __m256d ww = _mm256_set1_pd(w), z = _mm256_setzero_pd();
            __m256d e0 = _mm256_loadu_pd(pad), e1 = _mm256_loadu_pd(pad + 4);
            __m256d d0 = z, d1 = z, s0 = z, s1 = z;
            for (m = top - 1; m >= 0; m--) {
                s0 = _mm256_fmadd_pd(s0, ww, d0);
                s1 = _mm256_fmadd_pd(s1, ww, d1);
                d0 = _mm256_fmadd_pd(d0, ww, e0);
                d1 = _mm256_fmadd_pd(d1, ww, e1);
                e0 = _mm256_fmadd_pd(e0, ww, _mm256_loadu_pd(cf + 8 * m));
                e1 = _mm256_fmadd_pd(e1, ww, _mm256_loadu_pd(cf + 8 * m + 4));
            }
            _mm256_storeu_pd(E, e0); _mm256_storeu_pd(E + 4, e1);
            _mm256_storeu_pd(D, d0); _mm256_storeu_pd(D + 4, d1);
            _mm256_storeu_pd(S, s0); _mm256_storeu_pd(S + 4, s1);
        }
    #else
        for (j = 0; j < 8; j++) {
            E[j] = pad[j];
            D[j] = 0.0;
            S[j] = 0.0;
        }
        for (m = top - 1; m >= 0; m--) {
            for (j = 0; j < 8; j++) {
                S[j] = WF_MULADD(S[j], w, D[j]);
                D[j] = WF_MULADD(D[j], w, E[j]);
                E[j] = WF_MULADD(E[j], w, cf[8 * m + j]);
            }
        }
    #endif
        {
            /* chain j as a function of v: Q = E(v^8), Q' = 8 v^7 D, Q'' = 56 v^6 D + 128 v^14 S */
            double h = 0.0, h1 = 0.0, h2 = 0.0, q1, q2;
            for (j = 7; j >= 0; j--) {
                q1 = 8.0 * v7 * D[j];
                q2 = 56.0 * v6 * D[j] + 128.0 * v14 * S[j];
                h2 = WF_MULADD(h2, v, 2.0 * h1 + q2);
                h1 = WF_MULADD(h1, v, h + q1);
                h = WF_MULADD(h, v, E[j]);
            }
            *f = h;
            *f1 = h1;
            *f2 = h2;
        }
    }

    /* One pass over the flows: zero the rounding noise (|x| <= 1e-9) in place and gather
       what the IRR needs first: out[0..3] = first and last period with a positive flow,
       first and last with a negative flow (n or -1 where none); out[4..9] = irr.initial_v's
       sums: inflow, outflow, sum t x inflow, sum t x outflow, sum t^2 x inflow, sum t^2 x
       outflow (in four lanes: the same starting point to rounding). The sign pattern
       decides 0, 1 or more sign changes. */
    static void wf_scan(double *cf, int n, double *out)
    {
        double first_pos = n, last_pos = -1.0, first_neg = n, last_neg = -1.0;
        double inflow = 0.0, outflow = 0.0, t_in = 0.0, t_out = 0.0, tt_in = 0.0, tt_out = 0.0;
        double x, lane[4];
        int t = 0, j;
    #if defined(__AVX2__) && defined(__FMA__)
        {
            const __m256d zero = _mm256_setzero_pd(), noise = _mm256_set1_pd(1e-9);
            const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
            const __m256d four = _mm256_set1_pd(4.0);
            __m256d tv = _mm256_set_pd(3.0, 2.0, 1.0, 0.0);
            __m256d fp = _mm256_set1_pd((double)n), lp = _mm256_set1_pd(-1.0);
            __m256d fn = fp, ln = lp, in = zero, ou = zero, ti = zero, to = zero, tti = zero, tto = zero;
            __m256d v, pos, neg, px, nx, tpx, tnx;
            for (; t + 4 <= n; t += 4) {
                v = _mm256_loadu_pd(cf + t);
                v = _mm256_andnot_pd(_mm256_cmp_pd(_mm256_and_pd(v, absmask), noise, _CMP_LE_OQ), v);
                _mm256_storeu_pd(cf + t, v);
                pos = _mm256_cmp_pd(v, zero, _CMP_GT_OQ);
                neg = _mm256_cmp_pd(v, zero, _CMP_LT_OQ);
                px = _mm256_and_pd(pos, v);
                nx = _mm256_and_pd(neg, _mm256_sub_pd(zero, v));
                in = _mm256_add_pd(in, px);
                ou = _mm256_add_pd(ou, nx);
                tpx = _mm256_mul_pd(tv, px);
                tnx = _mm256_mul_pd(tv, nx);
                ti = _mm256_add_pd(ti, tpx);
                to = _mm256_add_pd(to, tnx);
                tti = _mm256_fmadd_pd(tv, tpx, tti);
                tto = _mm256_fmadd_pd(tv, tnx, tto);
                fp = _mm256_min_pd(fp, _mm256_blendv_pd(fp, tv, pos));
                lp = _mm256_max_pd(lp, _mm256_blendv_pd(lp, tv, pos));
                fn = _mm256_min_pd(fn, _mm256_blendv_pd(fn, tv, neg));
                ln = _mm256_max_pd(ln, _mm256_blendv_pd(ln, tv, neg));
                tv = _mm256_add_pd(tv, four);
            }
            _mm256_storeu_pd(lane, fp); for (j = 0; j < 4; j++) if (lane[j] < first_pos) first_pos = lane[j];
            _mm256_storeu_pd(lane, lp); for (j = 0; j < 4; j++) if (lane[j] > last_pos) last_pos = lane[j];
            _mm256_storeu_pd(lane, fn); for (j = 0; j < 4; j++) if (lane[j] < first_neg) first_neg = lane[j];
            _mm256_storeu_pd(lane, ln); for (j = 0; j < 4; j++) if (lane[j] > last_neg) last_neg = lane[j];
            _mm256_storeu_pd(lane, in); inflow = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, ou); outflow = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, ti); t_in = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, to); t_out = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, tti); tt_in = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, tto); tt_out = (lane[0] + lane[1]) + (lane[2] + lane[3]);
        }
    #endif
        for (; t < n; t++) {
            x = cf[t];
            if (fabs(x) <= 1e-9) {
                x = 0.0;
                cf[t] = 0.0;
            }
            if (x > 0.0) {
                inflow += x;
                t_in += t * x;
                tt_in += (double)t * t * x;
                if (t < first_pos) first_pos = t;
                last_pos = t;
            } else if (x < 0.0) {
                outflow -= x;
                t_out -= t * x;
                tt_out -= (double)t * t * x;
                if (t < first_neg) first_neg = t;
                last_neg = t;
            }
        }
        out[0] = first_pos; out[1] = last_pos; out[2] = first_neg; out[3] = last_neg;
        out[4] = inflow; out[5] = outflow; out[6] = t_in; out[7] = t_out;
        out[8] = tt_in; out[9] = tt_out;
    }

    #if defined(__GNUC__)
    #define WF_NOINLINE __attribute__((noinline))
    #else
    #define WF_NOINLINE
    #endif
    #include <stdint.h>

    /* Value of the asset classes c in mask (a borrowing base) at period t: sum of
       asset_value[c, t] x rows[c][t]. Out of line: inlined into the steps' loop, the
       compiler hoists its addressing into every period of every deal. */
    static WF_NOINLINE double wf_collateral(const double *asset_value, double *const *rows,
                                            const int64_t *mask, int W, int t)
    {
        double x = 0.0;
        int c;
        for (c = 0; c < 4; c++)
            if (mask[c])
                x += asset_value[c * W + t] * rows[c][t];
        return x;
    }
    """
    double WF_MULADD(double a, double b, double c) noexcept nogil
    double wf_collateral(const double *asset_value, double **rows, const int64_t *mask, int W, int t) noexcept nogil
    void wf_scan(double *cf, int n, double *out) noexcept nogil
    void wf_npv3(const double *cf, int n, double v, double *f, double *f1, double *f2) noexcept nogil

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


ctypedef struct TState:
    double balance
    double int_due
    double prin_due       # principal due this period
    double paid           # principal paid this period
    double int_paid
    double repaid         # sum of principal over life (WAL)
    double repaid_t       # sum of t x principal
    double scheduled      # principal due without balloon
    int64_t maturity      # this scenario's (a refinancing moves it)


cdef inline void repay(TState *tranche, double pay, int t) noexcept nogil:
    """Principal paid to a tranche (scheduled, prepaid or swept) at period t."""
    tranche.balance -= pay
    tranche.paid += pay
    tranche.repaid += pay
    tranche.repaid_t += pay * t


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
    # derived in run_batch (scenario-independent, read-only, shared by threads)
    double *ones          # [T+1] factor row of a channel a scenario does not touch
    double *zeros         # [T+1] rate add-on row likewise
    double *pr_fixed      # [K, T+1] per-period rate of fixed-rate tranches
    double *an_fixed      # [K, T+1] their annual rate
    unsigned char *cap8   # [K, T+1] capitalise
    int *last_cap         # [K] last capitalised period (-1: none)
    unsigned char *dscr8  # [K]
    int *sop              # [S] step codes
    int *sarg             # [S] step operands
    unsigned char *quiet  # [T+1] 1: not close, COD, a draw, a capitalised period or a maturity
    int *cover            # [A, K] tranches an account covers (n_cover[a] of them)
    int *n_cover          # [A]


# ----------------------------------------------------------------------------- IRR
cdef inline double npv_v(const double *cf, int n, double v) noexcept nogil:
    cdef double acc = 0.0
    cdef int t
    for t in range(n - 1, -1, -1):
        acc = WF_MULADD(acc, v, cf[t])
    return acc


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


cdef double single_root(const double *cf, int n, double v) noexcept nogil:
    """Twin of irr._single_root: Halley's method from v (Newton's step where Halley's
    correction is large), damped, with the bracketing fallback."""
    cdef double f, f1, f2, d, q, v_new
    cdef int it
    for it in range(MAX_NEWTON):
        wf_npv3(cf, n, v, &f, &f1, &f2)
        if f1 == 0.0 or not isfinite(f):
            break
        d = f / f1
        q = d * f2 / (2.0 * f1)
        if fabs(q) <= 0.5:
            d = d / (1.0 - q)
        v_new = v - d
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


cdef double start_v(double inflow, double outflow, double t_in, double t_out, double tt_in,
                    double tt_out) noexcept nogil:
    """Twin of irr.initial_v, from the sums of the flows in and out, and of t and t^2 times them."""
    cdef double mean_in, mean_out, gap, c, a, disc, delta, v
    if inflow <= 0.0 or outflow <= 0.0:
        return 1.0
    mean_in = t_in / inflow
    mean_out = t_out / outflow
    gap = mean_in - mean_out
    if gap == 0.0:
        return 1.0
    c = log(inflow / outflow)
    a = 0.5 * ((tt_in / inflow - mean_in * mean_in) - (tt_out / outflow - mean_out * mean_out))
    delta = c / gap
    disc = gap * gap - 4.0 * a * c
    if disc >= 0.0:
        delta = 2.0 * c / (gap + sqrt(disc) if gap > 0.0 else gap - sqrt(disc))
    v = exp(-delta)
    if v < 0.5:
        return 0.5
    if v > 2.0:
        return 2.0
    return v


cdef double irr_periodic(double *cf, int n) noexcept nogil:
    """Periodic IRR (see waterfall/irr.py); NaN where there is no root. Flows of
    magnitude <= 1e-9 are rounding noise and are zeroed in place first. The number of
    sign changes (0, 1 or more) follows from where the positive and negative flows lie:
    one change exactly when all of one sign come before all of the other."""
    cdef double st[10]
    cdef double root
    wf_scan(cf, n, st)
    if st[1] < 0.0 or st[3] < 0.0:
        return NAN  # no sign change
    if st[3] < st[0] or st[1] < st[2]:  # one sign change
        root = single_root(cf, n, start_v(st[4], st[5], st[6], st[7], st[8], st[9]))
    else:
        root = closest_root(cf, n)
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


cdef inline double reserve_target(const Prog *p, double **prr, double **schr,
                                  const TState *ts, int a, int t) noexcept nogil:
    """Twin of reference.reserve_target (same operations in the same order)."""
    cdef int T = p.T, W = p.T + 1, K = p.K, j, k, u, last, hi
    cdef double target = 0.0, b, interest, principal
    cdef const double *pr
    cdef const double *sc
    cdef const unsigned char *cap
    if t >= T:
        return 0.0
    if p.acct_kind[a] == ACC_FIXED:
        return p.acct_target[a]
    if p.acct_kind[a] != ACC_DSRA:
        return 0.0
    last = t + <int>p.acct_periods[a]
    if last > T:
        last = T
    for j in range(p.n_cover[a]):
        k = p.cover[a * K + j]
        b = ts[k].balance
        hi = last if last < ts[k].maturity else <int>ts[k].maturity
        pr = prr[k]
        sc = schr[k]
        if t + 1 > p.last_cap[k]:  # no capitalised period in the window
            for u in range(t + 1, hi + 1):
                interest = b * pr[u]
                principal = sc[u]
                if b < principal:
                    principal = b
                target += interest + principal
                b -= principal
        else:
            cap = p.cap8 + k * W
            for u in range(t + 1, hi + 1):
                interest = 0.0 if cap[u] else b * pr[u]
                principal = sc[u]
                if b < principal:
                    principal = b
                target += interest + principal
                b -= principal
    return target


cdef inline double *own_row(double **rows, double *own, int k, int W) noexcept nogil:
    """Copy-on-write: rows[k] may point at shared read-only data; make it this scenario's."""
    cdef double *mine = own + k * W
    if rows[k] != mine:
        memcpy(mine, rows[k], W * sizeof(double))
        rows[k] = mine
    return mine


cdef bint refinance(const Prog *p, int k, int t, double balance, const double *base,
                    const double *f_refi, const double *f_rate, double **anr, double **prr,
                    double **schr, double *own_an, double *own_pr, double *own_sched,
                    TState *ts, double cfads_next, bint ledger) noexcept nogil:
    """Twin of reference.refinance: roll tranche k over at maturity t if possible."""
    cdef int T = p.T, W = p.T + 1, periods = <int>p.refi_periods[k], u
    cdef double rate, amortisation, service, first_rate
    cdef double *an = NULL
    cdef double *pr
    cdef double *sc
    if periods <= 0 or t >= T or balance <= 0.0 or f_refi[t] <= 0.0:
        return False
    first_rate = base[t + 1] + f_rate[t + 1]
    if first_rate < p.refi_floor[k]:
        first_rate = p.refi_floor[k]
    first_rate = first_rate + p.refi_spread[k]
    if first_rate < 0.0:
        first_rate = 0.0
    amortisation = balance / periods
    service = balance * first_rate * p.accrual[k * W + t + 1] + (amortisation if amortisation < balance else balance)
    if cfads_next < p.refi_min_dscr[k] * service:
        return False
    if ledger:
        an = own_row(anr, own_an, k, W)
    pr = own_row(prr, own_pr, k, W)
    sc = own_row(schr, own_sched, k, W)
    for u in range(t + 1, W):
        rate = base[u] + f_rate[u]
        if rate < p.refi_floor[k]:
            rate = p.refi_floor[k]
        rate = rate + p.refi_spread[k]
        if rate < 0.0:
            rate = 0.0
        if ledger:
            an[u] = rate
        pr[u] = rate * p.accrual[k * W + u]
        sc[u] = amortisation if u <= t + periods else 0.0
    ts[k].maturity = t + periods if t + periods < T else T
    return True


cdef void enforce(const Prog *p, int t, LedgerT L, TState *ts, double *reserve, double **fch,
                  double cash, double exit_proceeds, double *claim_total, double *received_total,
                  double *lcf_t, double *equity_out) noexcept nogil:
    """An event of default at period t: the lenders take all cash, reserves, the net
    seizure value and any guarantee, in tranche order, interest then principal (twin of
    the reference's step 6). Out of the period loop's way: it runs once at most."""
    cdef int W = p.T + 1, K = p.K, A = p.A, NL = p.n_lines, a, c, k, tc
    cdef double gross, net, x, pool, owed, guarantee, unpaid_interest, rec_int, rec_prin
    put(L, NL, t, G_EOD, 1.0)
    gross = 0.0
    if exit_proceeds <= 0.0:
        for c in range(4):
            gross += p.asset_value[c * W + t] * fch[CH_VAL + c][t]
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
            owed += ts[k].int_due - ts[k].int_paid + ts[k].balance
        guarantee = owed - pool
        if guarantee < 0.0:
            guarantee = 0.0
        if p.rvg_cap * fch[CH_RVG][t] < guarantee:
            guarantee = p.rvg_cap * fch[CH_RVG][t]
        put(L, NL, t, G_GUARANTEE, guarantee)
        pool += guarantee
    for k in range(K):
        tc = N_GLOBAL + k * N_TL
        unpaid_interest = ts[k].int_due - ts[k].int_paid
        claim_total[0] += ts[k].balance + ts[k].paid + ts[k].int_due
        received_total[0] += ts[k].int_paid
        rec_int = pool if pool < unpaid_interest else unpaid_interest
        pool -= rec_int
        rec_prin = pool if pool < ts[k].balance else ts[k].balance
        pool -= rec_prin
        put(L, NL, t, tc + T_REC_INT, rec_int)
        put(L, NL, t, tc + T_REC_PRIN, rec_prin)
        put(L, NL, t, tc + T_WRITE_OFF, ts[k].balance - rec_prin)
        received_total[0] += ts[k].paid + rec_int + rec_prin
        lcf_t[0] += rec_int + rec_prin
        ts[k].repaid += rec_prin
        ts[k].repaid_t += rec_prin * t
        ts[k].balance = 0.0
    equity_out[0] += pool


cdef void run_scenario(const Prog *p, int s,
                       const int64_t *adj_channel, const int64_t *adj_from, const int64_t *adj_to,
                       const double *adj_value, int J, const double *base,
                       double *scratch, double **ptrs, LedgerT L, double *metrics, double *wal) noexcept nogil:
    """One scenario: `scratch` and `ptrs` are this thread's work space, `L` the ledger
    [T+1, lines] or NULL for metrics only, `metrics` [N_M] and `wal` [K] are outputs.
    Rows a scenario does not change (factor channels it does not touch, fixed-rate
    tranches' rates, schedules until a refinancing) are read from shared rows."""
    cdef int T = p.T, W = p.T + 1, K = p.K, A = p.A, NL = p.n_lines, S = p.S, cod = p.cod
    cdef bint ledger = LedgerT is DoublePtr
    cdef int t, k, a, j, c, i, op, arg, ch, lo, hi, default_period = -1, cure_count = 0, n_ds = 0
    cdef int tc, acc0 = N_GLOBAL + K * N_TL, fee0 = N_GLOBAL + K * N_TL + A * 2
    cdef double *own_factor = scratch              # [N_CH, W]
    cdef double *own_an = own_factor + N_CH * W    # [K, W]
    cdef double *own_pr = own_an + K * W           # [K, W]
    cdef double *lcf = own_pr + K * W              # [W]
    cdef double *ecf = lcf + W                     # [W]
    cdef TState *ts = <TState *>(ecf + W)          # [K] tranche state
    cdef double *own_sched = ecf + W + 9 * K       # [K, W] scenario copy of a schedule
    cdef double *reserve = own_sched + K * W       # [A]
    cdef double **anr = ptrs                       # [K] row pointers: annual rate,
    cdef double **prr = ptrs + K                   # per-period rate,
    cdef double **schr = ptrs + 2 * K              # scheduled principal
    cdef double *fch[N_CH]                         # factor rows by channel
    cdef double *row
    cdef const double *base_rent = p.base_rent
    cdef const double *opex_ = p.opex
    cdef const double *capex = p.capex
    cdef const double *equity_in = p.equity_in
    cdef const double *draw_ = p.draw
    cdef const unsigned char *cap8 = p.cap8
    cdef const unsigned char *dscr8 = p.dscr8
    cdef const int *sop = p.sop
    cdef const int *sarg = p.sarg
    cdef const double *f_rent
    cdef const double *f_opex
    cdef double revenue, opx, cfads, draws, release, cash, support, debt_service, dscr
    cdef double interest, pay, shortfall, target, share, equity_out, fees_paid, due
    cdef double gross, net, pool, unpaid_interest, rec_int, rec_prin, claim_total = 0.0
    cdef double received_total = 0.0, min_dscr = NAN, sum_dscr = 0.0, rate, x, debt0, v
    cdef double eq_dist_total = 0.0, eq_in_total = 0.0, discount, npv_loan, npv_project
    cdef double ppy, collateral, excess, owed, guarantee, b, d, sc, lcf_t
    cdef double exit_proceeds, lock_up_dscr = p.lock_up_dscr, default_dscr = p.default_dscr
    cdef bint locked, is_default, last
    cdef int senior, last_maturity, mat, cure_periods = p.cure_periods
    cdef const unsigned char *quiet = p.quiet
    cdef bint refinanced = False

    # scenario factors: only the channels the scenario touches get a row of their own
    for ch in range(N_CH):
        fch[ch] = p.zeros if ch == CH_RATE_ADD else p.ones
    for j in range(J):
        ch = <int>adj_channel[s * J + j]
        if ch < 0:
            continue
        row = own_factor + ch * W
        if fch[ch] != row:
            v = 0.0 if ch == CH_RATE_ADD else 1.0
            for t in range(W):
                row[t] = v
            fch[ch] = row
        lo = <int>adj_from[s * J + j]
        hi = <int>adj_to[s * J + j]
        v = adj_value[s * J + j]
        if ch == CH_RATE_ADD:
            for t in range(lo, hi + 1):
                row[t] = row[t] + v
        else:
            for t in range(lo, hi + 1):
                row[t] = row[t] * v
    f_rent = fch[CH_RENT]
    f_opex = fch[CH_OPEX]
    for k in range(K):
        if p.is_floating[k]:
            row = own_pr + k * W
            for t in range(W):
                rate = base[t] + fch[CH_RATE_ADD][t]
                if rate < p.floor[k]:
                    rate = p.floor[k]
                rate = rate + p.spread[k * W + t]
                if rate < 0.0:
                    rate = 0.0
                if ledger:
                    own_an[k * W + t] = rate
                row[t] = rate * p.accrual[k * W + t]
            prr[k] = row
            anr[k] = own_an + k * W
        else:
            prr[k] = p.pr_fixed + k * W
            anr[k] = p.an_fixed + k * W
        schr[k] = p.sched + k * W
        ts[k].balance = 0.0
        ts[k].maturity = p.maturity[k]
        ts[k].repaid = 0.0
        ts[k].repaid_t = 0.0
    for a in range(A):
        reserve[a] = 0.0
    debt0 = NAN
    # LLCR/PLCR are accumulated as the periods run (definitions: waterfall/metrics.py)
    senior = -1
    last_maturity = -1
    for k in range(K):
        if dscr8[k]:
            if senior < 0:
                senior = k
            if p.maturity[k] > last_maturity:
                last_maturity = <int>p.maturity[k]
    discount = 1.0
    npv_loan = 0.0
    npv_project = 0.0

    for t in range(W):
        revenue = base_rent[t] * f_rent[t]
        opx = opex_[t] * f_opex[t]
        cfads = revenue - opx
        if senior >= 0 and t >= cod:
            discount /= 1.0 + prr[senior][t]   # final: a refinancing rewrites later periods only
            if t <= last_maturity:
                npv_loan += cfads * discount
            npv_project += cfads * discount
        put(L, NL, t, G_REVENUE, revenue)
        put(L, NL, t, G_OPEX, opx)
        put(L, NL, t, G_CFADS, cfads)
        put(L, NL, t, G_CAPEX, capex[t])
        put(L, NL, t, G_EQUITY_IN, equity_in[t])

        draws = 0.0
        lcf_t = 0.0
        if not ledger and quiet[t] and not refinanced:
            # no close/COD, draw, capitalisation or maturity this period: the loop below
            # reduces to this (the same operations on the same values)
            for k in range(K):
                b = ts[k].balance
                ts[k].int_paid = 0.0
                ts[k].paid = 0.0
                ts[k].int_due = b * prr[k][t]
                sc = schr[k][t]
                if b < sc:
                    sc = b
                ts[k].scheduled = sc
                ts[k].prin_due = sc
        else:
          for k in range(K):
            tc = N_GLOBAL + k * N_TL
            b = ts[k].balance
            if t == cod:
                if dscr8[k]:
                    debt0 = b if isnan(debt0) else debt0 + b
            put(L, NL, t, tc + T_OPEN, b)
            if ledger:
                put(L, NL, t, tc + T_RATE, anr[k][t])
            interest = b * prr[k][t]
            put(L, NL, t, tc + T_INT_DUE, interest)
            ts[k].int_paid = 0.0
            ts[k].paid = 0.0
            if cap8[k * W + t]:
                put(L, NL, t, tc + T_INT_CAP, interest)
                b += interest
                ts[k].int_due = 0.0
            else:
                ts[k].int_due = interest
            d = draw_[k * W + t]
            b += d
            draws += d
            lcf_t -= d
            put(L, NL, t, tc + T_DRAW, d)
            mat = <int>ts[k].maturity
            if t == mat and t < T:
                if refinance(p, k, t, b, base, fch[CH_REFI], fch[CH_RATE_ADD], anr, prr, schr,
                             own_an, own_pr, own_sched, ts,
                             base_rent[t + 1] * f_rent[t + 1] - opex_[t + 1] * f_opex[t + 1], ledger):
                    put(L, NL, t, tc + T_REFI, b)
                    mat = <int>ts[k].maturity
                    refinanced = True
            sc = schr[k][t]
            if b < sc:
                sc = b
            ts[k].scheduled = sc
            ts[k].prin_due = b if t == mat else sc
            ts[k].balance = b
            put(L, NL, t, tc + T_PRIN_DUE, ts[k].prin_due)
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
                x += p.asset_value[c * W + t] * fch[CH_VAL + c][t]
            exit_proceeds = p.exit_share * x
        put(L, NL, t, G_EXIT, exit_proceeds)
        cash = cfads + draws + equity_in[t] - capex[t] + release + exit_proceeds
        support = 0.0
        if cash < 0.0:
            support = -cash
            cash = 0.0
        put(L, NL, t, G_RELEASE, release)
        put(L, NL, t, G_SUPPORT, support)
        put(L, NL, t, G_CASH, cash)
        eq_in_total += equity_in[t] + support

        debt_service = 0.0
        for k in range(K):
            if dscr8[k]:
                debt_service += ts[k].int_due + ts[k].scheduled
        dscr = cfads / debt_service if debt_service > 0.0 else NAN
        put(L, NL, t, G_DS, debt_service)
        put(L, NL, t, G_DSCR, dscr)
        if debt_service > 0.0:
            n_ds += 1
            sum_dscr += dscr
            if isnan(min_dscr) or dscr < min_dscr:
                min_dscr = dscr
        last = t == T
        locked = (not last) and debt_service > 0.0 and lock_up_dscr >= 0.0 and dscr < lock_up_dscr
        put(L, NL, t, G_LOCK, 1.0 if locked else 0.0)
        if debt_service > 0.0 and default_dscr >= 0.0 and dscr < default_dscr:
            cure_count += 1
        else:
            cure_count = 0
        is_default = cure_count > cure_periods

        equity_out = 0.0
        fees_paid = 0.0
        if not is_default:
            for i in range(S):
                op = sop[i]
                arg = sarg[i]
                if op == OP_INTEREST:
                    due = ts[arg].int_due
                    pay = cash if cash < due else due
                    cash -= pay
                    ts[arg].int_paid += pay
                    lcf_t += pay
                    add(L, NL, t, N_GLOBAL + arg * N_TL + T_INT_PAID, pay)
                    shortfall = due - pay
                    if shortfall > 0.0:
                        if p.hard[arg]:
                            is_default = True
                            break
                        else:
                            ts[arg].balance += shortfall
                            add(L, NL, t, N_GLOBAL + arg * N_TL + T_INT_CAP, shortfall)
                            ts[arg].int_due = pay
                elif op == OP_PRINCIPAL:
                    due = ts[arg].prin_due
                    pay = cash if cash < due else due
                    cash -= pay
                    repay(&ts[arg], pay, t)
                    lcf_t += pay
                    add(L, NL, t, N_GLOBAL + arg * N_TL + T_PRIN_PAID, pay)
                    if due - pay > 0.0 and (p.hard[arg] or t == ts[arg].maturity):
                        is_default = True
                        break
                elif op == OP_RESERVE:
                    target = reserve_target(p, prr, schr, ts, arg, t)
                    x = cash if cash < target else target
                    reserve[arg] = x
                    cash -= x
                elif op == OP_SWEEP:
                    share = p.step_share_locked[i] if locked else p.step_share[i]
                    pay = cash * share
                    if ts[arg].balance < pay:
                        pay = ts[arg].balance
                    cash -= pay
                    repay(&ts[arg], pay, t)
                    lcf_t += pay
                    add(L, NL, t, N_GLOBAL + arg * N_TL + T_PREPAY, pay)
                elif op == OP_DISTRIBUTE:
                    if locked and arg >= 0:
                        reserve[arg] += cash
                    else:
                        equity_out += cash
                    cash = 0.0
                elif op == OP_FEE:
                    due = p.fee_due[arg * W + t]
                    pay = cash if cash < due else due
                    cash -= pay
                    fees_paid += pay
                    put(L, NL, t, fee0 + 2 * arg, due)
                    put(L, NL, t, fee0 + 2 * arg + 1, pay)
                elif op == OP_BORROWING_BASE:
                    collateral = wf_collateral(p.asset_value, fch + CH_VAL, p.bb_mask + arg * 4, W, t)
                    excess = ts[arg].balance - p.bb_advance[arg] * collateral
                    if excess < 0.0:
                        excess = 0.0
                    pay = cash if cash < excess else excess
                    cash -= pay
                    repay(&ts[arg], pay, t)
                    lcf_t += pay
                    add(L, NL, t, N_GLOBAL + arg * N_TL + T_PREPAY, pay)
                    if excess - pay > 0.0 and p.hard[arg]:
                        is_default = True
                        break

        if is_default:
            default_period = t
            enforce(p, t, L, ts, reserve, fch, cash, exit_proceeds, &claim_total, &received_total,
                    &lcf_t, &equity_out)
            cash = 0.0

        lcf[t] = lcf_t
        put(L, NL, t, G_FEES, fees_paid)
        put(L, NL, t, G_EQUITY_DIST, equity_out)
        eq_dist_total += equity_out
        ecf[t] = equity_out - equity_in[t] - support
        if ledger:
            x = 0.0
            for a in range(A):
                x += reserve[a]
                put(L, NL, t, acc0 + 2 * a + 1, reserve[a])
            put(L, NL, t, G_FUNDING, x)
            for k in range(K):
                put(L, NL, t, N_GLOBAL + k * N_TL + T_CLOSE, ts[k].balance)
        if is_default:
            break

    # after an event of default: no more flows; the cover ratios still run to the end
    for t in range(default_period + 1 if default_period >= 0 else W, W):
        lcf[t] = 0.0
        ecf[t] = 0.0
        if senior >= 0 and t >= cod:
            cfads = base_rent[t] * f_rent[t] - opex_[t] * f_opex[t]
            discount /= 1.0 + prr[senior][t]
            if t <= last_maturity:
                npv_loan += cfads * discount
            npv_project += cfads * discount

    # metrics (definitions: waterfall/metrics.py)
    metrics[M_MIN_DSCR] = min_dscr
    metrics[M_AVG_DSCR] = sum_dscr / n_ds if n_ds > 0 else NAN
    metrics[M_LLCR] = NAN
    metrics[M_PLCR] = NAN
    if cod <= T and senior >= 0 and not isnan(debt0) and debt0 > 0.0:
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
        wal[k] = (ts[k].repaid_t * p.months / 12.0) / ts[k].repaid if ts[k].repaid > 0.0 else NAN


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
    cdef int W = p.T + 1
    fixed = keep["fixed_rate"]
    an_fixed = np.where(fixed < 0.0, 0.0, fixed)  # as the kernel: a rate below zero is zero
    keep["ones"] = np.ones(W)
    keep["zeros"] = np.zeros(W)
    keep["an_fixed"] = np.ascontiguousarray(an_fixed)
    keep["pr_fixed"] = np.ascontiguousarray(an_fixed * keep["accrual"])
    cap = keep["capitalise"].reshape(p.K, W) != 0
    keep["cap8"] = np.ascontiguousarray(cap, dtype=np.uint8)
    keep["last_cap"] = np.ascontiguousarray([int(np.nonzero(c)[0].max()) if c.any() else -1 for c in cap],
                                            dtype=np.int32)
    keep["dscr8"] = np.ascontiguousarray(keep["dscr_mask"] != 0, dtype=np.uint8)
    keep["sop"] = np.ascontiguousarray(keep["step_op"], dtype=np.int32)
    keep["sarg"] = np.ascontiguousarray(keep["step_arg"], dtype=np.int32)
    p.ones = dptr(keep["ones"]); p.zeros = dptr(keep["zeros"])
    p.an_fixed = dptr(keep["an_fixed"]); p.pr_fixed = dptr(keep["pr_fixed"])
    p.cap8 = <unsigned char *>cnp.PyArray_DATA(keep["cap8"])
    p.last_cap = <int *>cnp.PyArray_DATA(keep["last_cap"])
    p.dscr8 = <unsigned char *>cnp.PyArray_DATA(keep["dscr8"])
    p.sop = <int *>cnp.PyArray_DATA(keep["sop"])
    quiet = np.ones(W, dtype=np.uint8)
    quiet[0] = 0
    if 0 <= p.cod <= p.T:
        quiet[p.cod] = 0
    quiet[(keep["draw"].reshape(p.K, W) != 0.0).any(axis=0)] = 0
    quiet[cap.any(axis=0)] = 0
    for m in keep["maturity"]:
        if 0 <= m <= p.T:
            quiet[m] = 0
    keep["quiet"] = quiet
    p.quiet = <unsigned char *>cnp.PyArray_DATA(keep["quiet"])
    mask = keep["acct_mask"].reshape(p.A, p.K) != 0
    cover = np.zeros((p.A, p.K), dtype=np.int32)
    for a_ in range(p.A):
        ks = np.nonzero(mask[a_])[0]
        cover[a_, :len(ks)] = ks
    keep["cover"] = np.ascontiguousarray(cover)
    keep["n_cover"] = np.ascontiguousarray(mask.sum(axis=1), dtype=np.int32)
    p.cover = <int *>cnp.PyArray_DATA(keep["cover"])
    p.n_cover = <int *>cnp.PyArray_DATA(keep["n_cover"])
    p.sarg = <int *>cnp.PyArray_DATA(keep["sarg"])

    cdef cnp.ndarray channel = _i64(batch.adj_channel)
    cdef cnp.ndarray start = _i64(batch.adj_from)
    cdef cnp.ndarray stop = _i64(batch.adj_to)
    cdef cnp.ndarray value = _f64(batch.adj_value)
    cdef cnp.ndarray path_index = _i64(batch.path_index)
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
    cdef double **ptrs = <double **>malloc(threads * 3 * (p.K + 1) * sizeof(double *))
    if scratch == NULL or ptrs == NULL:
        free(scratch)
        free(ptrs)
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
                                 paths_ptr + (pi_ptr[s] + 1) * W, scratch + tid * scratch_size, ptrs + tid * 3 * (p.K + 1),
                                 <DoublePtr>(l_ptr + s * stride), m_ptr + s * N_M, w_ptr + s * p.K)
                else:
                    run_scenario(&p, <int>s, ch_ptr, from_ptr, to_ptr, v_ptr, J,
                                 paths_ptr + (pi_ptr[s] + 1) * W, scratch + tid * scratch_size, ptrs + tid * 3 * (p.K + 1),
                                 <NoLedgerPtr>NULL, m_ptr + s * N_M, w_ptr + s * p.K)
    finally:
        free(scratch)
        free(ptrs)
    return ledgers, metrics, wal


