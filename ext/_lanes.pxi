# SIMD lanes across scenarios (issue 16, item 1; docs/speed.md "SIMD lanes").
#
# Every scenario of a batch runs the same program, so BLOCK scenarios step through the
# periods together: each step is dispatched once per block and its payments run on BLOCK
# lanes, in structure-of-arrays form (row k of a [K][BLOCK] array holds tranche k of every
# lane), in loops the compiler turns into vector instructions. Each lane does the scalar
# period loop's operations in the same order (scn_periods, compiled with
# -ffp-contract=off), so a lane's results equal the scalar kernel's bit for bit.
#
# A lane leaves the block where the scalar loop's rarer rules begin: an event of default
# (any cause), costs the SPV cannot meet (sponsor support), a maturity with refinancing
# or extension options. Its state at the start of that period (kept each period) is handed
# to the scalar loop (scn_periods from that period), which runs the rest of its life;
# the block goes on with the lane masked off. Programs with rules the lanes do not carry
# (ledgers, hedges, letters of credit, trailing or projected DSCR bases, the hedge-ratio
# covenant, a borrowing base) run scalar throughout (lanes_eligible).

cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>
    /* WF_BLOCK lanes of doubles (GCC vector extensions: AVX2 instructions where the build
       targets them, two or more 4-wide ones to a vector, whose chains of dependent operations
       then overlap; the same operations lane by lane elsewhere). Every helper does, on each
       lane, the scalar period loop's operations in its order: a lane equals the scalar
       kernel. */
    #define WF_BLOCK 4
    /* 1 where the build has AVX2 vectors: without them the lanes' vector code runs lane by
       lane and is slower than the scalar kernel (0.54x measured), so lane blocks are off */
    #if defined(__AVX2__)
    #define WF_LANES_ON 1
    #else
    #define WF_LANES_ON 0
    #endif
    typedef double wf_v __attribute__((vector_size(8 * WF_BLOCK)));
    typedef long long wf_m __attribute__((vector_size(8 * WF_BLOCK)));
    static inline wf_v wf_ld(const double *p) { wf_v v; memcpy(&v, p, sizeof v); return v; }
    static inline void wf_st(double *p, wf_v v) { memcpy(p, &v, sizeof v); }
    static inline wf_m wf_ldm(const int64_t *p) { wf_m v; memcpy(&v, p, sizeof v); return v; }
    static inline void wf_stm(int64_t *p, wf_m v) { memcpy(p, &v, sizeof v); }
    #if defined(__AVX__) && WF_BLOCK == 4
    static inline wf_v wf_all(double x) { return (wf_v)_mm256_set1_pd(x); }
    #else
    static inline wf_v wf_all(double x) { wf_v v; for (int i = 0; i < WF_BLOCK; i++) v[i] = x; return v; }
    #endif
    /* x = v on every lane, in vector stores (a vector load of scalar stores would wait for
       them: no store forwarding) */
    static inline void wf_fill(double *x, double v) { wf_st(x, wf_all(v)); }
    /* dst[i] = src[i], i < n (n a multiple of WF_BLOCK), in vector moves */
    static inline void wf_copy(double *dst, const double *src, int n)
    {
        for (int i = 0; i < n; i += WF_BLOCK) wf_st(dst + i, wf_ld(src + i));
    }
    /* m ? a : b, lane by lane (m: all ones or all zeros) */
    static inline wf_v wf_sel(wf_m m, wf_v a, wf_v b) { return (wf_v)((m & (wf_m)a) | (~m & (wf_m)b)); }
    /* `a if a < b else b`, as the scalar loop writes min (MINPD returns its second operand
       unless the first is less: the same, NaN and signed zeros included) */
    #if defined(__AVX__)
    typedef union { wf_v v; __m256d h[WF_BLOCK / 4]; } wf_halves;
    static inline wf_v wf_min(wf_v a, wf_v b)
    {
        wf_halves x, y, r;
        x.v = a; y.v = b;
        for (int i = 0; i < WF_BLOCK / 4; i++) r.h[i] = _mm256_min_pd(x.h[i], y.h[i]);
        return r.v;
    }
    #else
    static inline wf_v wf_min(wf_v a, wf_v b) { return wf_sel(a < b, a, b); }
    #endif

    /* a reserve funded up to its target from the cash */
    static inline void wf_reserve(double *cash, const double *target, double *reserve)
    {
        wf_v c = wf_ld(cash), x = wf_min(c, wf_ld(target));
        wf_st(reserve, x); wf_st(cash, c - x);
    }
    /* a quiet period's accrual of tranche k: interest on the opening balance at the lane's
       rate (unrounded), the schedule at most the balance */
    static inline void wf_accrue(const double *bal, const double *rate, double sched_t, double *int_due,
                                  double *int_paid, double *sched, double *prin_due)
    {
        wf_v b = wf_ld(bal), sc = wf_min(b, wf_all(sched_t));
        wf_st(int_due, b * wf_ld(rate)); wf_st(int_paid, wf_all(0.0));
        wf_st(sched, sc); wf_st(prin_due, sc);
    }
    #if defined(__AVX__) && WF_BLOCK == 4
    static inline int wf_any(wf_m m) { return _mm256_movemask_pd((__m256d)m) != 0; }
    #else
    static inline int wf_any(wf_m m) { long long x = 0; for (int i = 0; i < WF_BLOCK; i++) x |= m[i]; return x != 0; }
    #endif
    /* whether a[l] & b[l] is nonzero on some lane (a lane still in the block that leaves it) */
    static inline int wf_any_and(const int64_t *a, const int64_t *b)
    {
        return wf_any((wf_ldm(a) & wf_ldm(b)) != 0);
    }
    /* the covenants of a period where no lane is below the default DSCR (dd: -1 where no
       such test on the period's own DSCR): the DSCR and its statistics, lock-up; returns 0,
       having written nothing, where some lane is below (a cure or a breach: lane by lane) */
    static inline int wf_cov(const double *cfads, const double *ds, double dust, double dd, double lud,
                              int lock_ok, int used, double t, double inflow, double *first_ds, double *n_ds,
                              double *sum_dscr, double *min_dscr, double *last_cfads, double *last_ds,
                              double *cure_count, double *eq_in_total, double *cov_cfads, double *cov_ds,
                              double *cure, int64_t *locked)
    {
        wf_v c = wf_ld(cfads), d = wf_ld(ds), mn = wf_ld(min_dscr), fd = wf_ld(first_ds);
        wf_m dsok = d > wf_all(dust), none = dsok & ~dsok;
        wf_v dscr = wf_sel(dsok, c / d, wf_all(NAN));
        wf_m ok = used ? dsok : none;
        if (dd >= 0.0 && wf_any(ok & (dscr < wf_all(dd))))
            return 0;
        wf_st(cov_cfads, c); wf_st(cov_ds, d); wf_st(cure, wf_all(0.0));
        wf_st(first_ds, wf_sel(dsok & (fd < wf_all(0.0)), wf_all(t), fd));
        wf_st(last_cfads, c); wf_st(last_ds, d);
        wf_st(n_ds, wf_sel(dsok, wf_ld(n_ds) + wf_all(1.0), wf_ld(n_ds)));
        wf_st(sum_dscr, wf_sel(dsok, wf_ld(sum_dscr) + dscr, wf_ld(sum_dscr)));
        wf_st(min_dscr, wf_sel(dsok & ((mn != mn) | (dscr < mn)), dscr, mn));
        wf_stm(locked, (lock_ok && lud >= 0.0) ? (ok & (dscr < wf_all(lud))) : none);
        wf_st(cure_count, wf_all(0.0));
        wf_st(eq_in_total, wf_ld(eq_in_total) + (wf_all(inflow) + wf_all(0.0) + wf_all(0.0)));
        return 1;
    }
    /* dst[t][l] = src[l][t], t < n, l < WF_BLOCK: WF_BLOCK rows into [n][WF_BLOCK] (four
       lanes at a time, 4 x 4 blocks transposed in registers) */
    static void wf_transpose(const double *const *src, int n, double *dst)
    {
        int t, l, g;
        for (g = 0; g < WF_BLOCK; g += 4) {
            const double *const *s4 = src + g;
            t = 0;
    #if defined(__AVX2__)
            for (; t + 4 <= n; t += 4) {
                __m256d a = _mm256_loadu_pd(s4[0] + t), b = _mm256_loadu_pd(s4[1] + t);
                __m256d c = _mm256_loadu_pd(s4[2] + t), d = _mm256_loadu_pd(s4[3] + t);
                __m256d ab0 = _mm256_unpacklo_pd(a, b), ab1 = _mm256_unpackhi_pd(a, b);
                __m256d cd0 = _mm256_unpacklo_pd(c, d), cd1 = _mm256_unpackhi_pd(c, d);
                _mm256_storeu_pd(dst + WF_BLOCK * t + g, _mm256_permute2f128_pd(ab0, cd0, 0x20));
                _mm256_storeu_pd(dst + WF_BLOCK * (t + 1) + g, _mm256_permute2f128_pd(ab1, cd1, 0x20));
                _mm256_storeu_pd(dst + WF_BLOCK * (t + 2) + g, _mm256_permute2f128_pd(ab0, cd0, 0x31));
                _mm256_storeu_pd(dst + WF_BLOCK * (t + 3) + g, _mm256_permute2f128_pd(ab1, cd1, 0x31));
            }
    #endif
            for (; t < n; t++)
                for (l = 0; l < 4; l++)
                    dst[WF_BLOCK * t + g + l] = s4[l][t];
        }
    }
    /* dst[l][t] = src[t][l]: [n][WF_BLOCK] back into WF_BLOCK rows (the same transposition) */
    static void wf_untranspose(const double *src, int n, double *const *dst)
    {
        int t, l, g;
        for (g = 0; g < WF_BLOCK; g += 4) {
            double *const *d4 = dst + g;
            t = 0;
    #if defined(__AVX2__)
            for (; t + 4 <= n; t += 4) {
                __m256d a = _mm256_loadu_pd(src + WF_BLOCK * t + g), b = _mm256_loadu_pd(src + WF_BLOCK * (t + 1) + g);
                __m256d c = _mm256_loadu_pd(src + WF_BLOCK * (t + 2) + g), d = _mm256_loadu_pd(src + WF_BLOCK * (t + 3) + g);
                __m256d ab0 = _mm256_unpacklo_pd(a, b), ab1 = _mm256_unpackhi_pd(a, b);
                __m256d cd0 = _mm256_unpacklo_pd(c, d), cd1 = _mm256_unpackhi_pd(c, d);
                _mm256_storeu_pd(d4[0] + t, _mm256_permute2f128_pd(ab0, cd0, 0x20));
                _mm256_storeu_pd(d4[1] + t, _mm256_permute2f128_pd(ab1, cd1, 0x20));
                _mm256_storeu_pd(d4[2] + t, _mm256_permute2f128_pd(ab0, cd0, 0x31));
                _mm256_storeu_pd(d4[3] + t, _mm256_permute2f128_pd(ab1, cd1, 0x31));
            }
    #endif
            for (; t < n; t++)
                for (l = 0; l < 4; l++)
                    d4[l][t] = src[WF_BLOCK * t + g + l];
        }
    }
    /* A quiet period (no close, COD, draw, capitalisation or maturity; not the last) of every
       lane in one pass, the period's figures in registers: lanes_period's rules where they
       are the common case (lanes_fast_ok), in its order of operations. Returns 0 (the state
       half-written: the caller restores the period's opening snapshot and runs lanes_period)
       where a lane needs a rule it leaves out: an equity cure, a tenant event, a reserve
       target outside dsra_target_window's sum. */
    /* a reserve step's target on every lane where dsra_target_window's O(1) sum does not
       apply to all of them (lanes_reserve_target: lane by lane, as the scalar loop) */
    typedef void (*wf_target_fn)(void *ctx, int a, int t, double *target);
    typedef struct {
        int K, A, S, W, T, cod, llcr_end, llcr_dsra, n_dscr, senior, used, lock0, cure_periods;
        int tenant, any_acct_rate, tax_on, tax_interest, breach_accelerates, accelerate_after;
        double dd, lud, dust;
        const double *base_rent, *opex, *capex, *equity_in, *sched, *fee_due, *share, *share_locked, *acct_rate;
        const unsigned char *quiet, *dsra_window8;
        const int64_t *hard, *maturity, *acct_kind, *acct_periods;
        const int *sop, *sarg, *dscr_k, *cover, *n_cover, *last_cap;
        int op_fee, op_interest, op_principal, op_reserve, op_sweep, op_distribute, acc_dsra;
        int li_rent, li_opex, li_dfac, li_rate, lf_lcf, lf_ecf, lf_npv_before, lf_disc_before, lf_debt_open;
        int lf_dsra_open, lf_tax_income;
        const double *sprefix;      /* the schedule's prefix sums (dsra_prefix's S): sprefix + 3kW */
        const double *rows_in;      /* the lanes' input rows [r][W][WF_BLOCK] */
        double *flows;              /* their flows [f][W][WF_BLOCK] */
        double *bal, *repaid, *repaid_t, *reserve, *int_due, *int_paid, *sched_due, *prin_due;
        double *min_dscr, *sum_dscr, *eq_dist_total, *eq_in_total, *discount, *npv_loan, *npv_project;
        double *last_cfads, *last_ds, *cure_count, *n_ds, *first_ds;
        int64_t *out, *locked;
        const int64_t *live;        /* [WF_BLOCK] -1: the lane is in the block, 0: it has left */
        wf_target_fn reserve_target; /* the target lane by lane (NULL: none; the caller's) */
        void *target_ctx;
    } wf_fast;

    #define WF_ALWAYS_INLINE static inline __attribute__((always_inline))
    /* a fast period's figures, lane by lane (in registers once the parts are inlined) */
    typedef struct {
        wf_v zero, dust, tt, revenue, cfads, cash, lcf, eq, fees;
        wf_m out, locked, live;
    } wf_fp;
    WF_ALWAYS_INLINE const double *wf_row(const wf_fast *x, int r, int u)
    {
        return x->rows_in + ((size_t)r * x->W + u) * WF_BLOCK;
    }
    WF_ALWAYS_INLINE double *wf_flow(const wf_fast *x, int f, int t)
    {
        return x->flows + ((size_t)f * x->W + t) * WF_BLOCK;
    }
    /* the LLCR path: the opening figures and the discounted CFADS (scn_periods' LLCR lines) */
    WF_ALWAYS_INLINE void wf_fast_cover(const wf_fast *x, int t, const wf_fp *f)
    {
        const int B = WF_BLOCK;
        wf_v d = wf_all(NAN), b, disc;
        int j, a;
        wf_st(wf_flow(x, x->lf_npv_before, t), wf_ld(x->npv_loan));
        wf_st(wf_flow(x, x->lf_disc_before, t), wf_ld(x->discount));
        for (j = 0; j < x->n_dscr; j++) {
            b = wf_ld(x->bal + B * x->dscr_k[j]);
            d = wf_sel(d != d, b, d + b);
        }
        wf_st(wf_flow(x, x->lf_debt_open, t), d);
        if (x->llcr_dsra) {
            d = f->zero;
            for (a = 0; a < x->A; a++)
                if (x->acct_kind[a] == x->acc_dsra)
                    d = d + wf_ld(x->reserve + B * a);
            wf_st(wf_flow(x, x->lf_dsra_open, t), d);
        }
        disc = wf_ld(x->discount) * wf_ld(wf_row(x, x->li_dfac, t));
        wf_st(x->discount, disc);
        if (t <= x->llcr_end)
            wf_st(x->npv_loan, wf_ld(x->npv_loan) + f->cfads * disc);
        wf_st(x->npv_project, wf_ld(x->npv_project) + f->cfads * disc);
    }
    /* wf_fast_cover for lanes_period (its CFADS in memory) */
    static void wf_cover_mem(const wf_fast *x, int t, const double *cfads)
    {
        wf_fp f;
        f.zero = wf_all(0.0);
        f.cfads = wf_ld(cfads);
        wf_fast_cover(x, t, &f);
    }
    /* the accrual of a quiet period (wf_accrue, no rounding) */
    WF_ALWAYS_INLINE void wf_fast_accrue(const wf_fast *x, int t, const wf_fp *f)
    {
        const int B = WF_BLOCK;
        wf_v b, s;
        for (int k = 0; k < x->K; k++) {
            b = wf_ld(x->bal + B * k);
            s = wf_min(b, wf_all(x->sched[k * x->W + t]));
            wf_st(x->int_due + B * k, b * wf_ld(wf_row(x, x->li_rate + k, t)));
            wf_st(x->int_paid + B * k, f->zero);
            wf_st(x->sched_due + B * k, s);
            wf_st(x->prin_due + B * k, s);
        }
    }
    /* the sources (lanes_sources): the reserves released, the cash available */
    WF_ALWAYS_INLINE void wf_fast_sources(const wf_fast *x, int t, wf_fp *f)
    {
        wf_v release = f->zero, earned = f->zero, b;
        for (int a = 0; a < x->A; a++) {
            b = wf_ld(x->reserve + WF_BLOCK * a);
            release = release + b;
            if (x->any_acct_rate)
                earned = earned + b * wf_all(x->acct_rate[a * x->W + t]);
            wf_st(x->reserve + WF_BLOCK * a, f->zero);
        }
        f->cash = (f->cfads + f->zero + wf_all(x->equity_in[t]) - wf_all(x->capex[t])) + release + earned + f->zero;
        f->out = f->out | (f->cash < f->zero);
    }
    /* the covenants (wf_cov); 0 (nothing carried written) where a lane is below the default DSCR */
    WF_ALWAYS_INLINE int wf_fast_covenants(const wf_fast *x, int t, wf_fp *f)
    {
        wf_v ds = f->zero, dscr, mn, fd;
        wf_m dsok, ok, none;
        for (int j = 0; j < x->n_dscr; j++) {
            int k = x->dscr_k[j];
            ds = ds + (wf_ld(x->int_due + WF_BLOCK * k) + wf_ld(x->sched_due + WF_BLOCK * k));
        }
        dsok = ds > f->dust;
        none = dsok & ~dsok;
        dscr = wf_sel(dsok, f->cfads / ds, wf_all(NAN));
        ok = x->used ? dsok : none;
        if (x->dd >= 0.0 && wf_any(f->live & ok & (dscr < wf_all(x->dd))))
            return 0;
        mn = wf_ld(x->min_dscr);
        fd = wf_ld(x->first_ds);
        wf_st(x->first_ds, wf_sel(dsok & (fd < f->zero), f->tt, fd));
        wf_st(x->last_cfads, f->cfads);
        wf_st(x->last_ds, ds);
        wf_st(x->n_ds, wf_sel(dsok, wf_ld(x->n_ds) + wf_all(1.0), wf_ld(x->n_ds)));
        wf_st(x->sum_dscr, wf_sel(dsok, wf_ld(x->sum_dscr) + dscr, wf_ld(x->sum_dscr)));
        wf_st(x->min_dscr, wf_sel(dsok & ((mn != mn) | (dscr < mn)), dscr, mn));
        f->locked = (x->lock0 && x->lud >= 0.0) ? (ok & (dscr < wf_all(x->lud))) : none;
        wf_st(x->cure_count, f->zero);
        wf_st(x->eq_in_total, wf_ld(x->eq_in_total) + (wf_all(x->equity_in[t]) + f->zero + f->zero));
        return 1;
    }
    /* a reserve's target on every lane from dsra_target_window's O(1) sum; 0 where the sum
       does not apply to some lane still in the block (the caller goes lane by lane) */
    WF_ALWAYS_INLINE int wf_window_target(const wf_fast *x, int t, int arg, wf_m live, wf_v zero, wf_v *target)
    {
        const int K = x->K, W = x->W;
        wf_v tgt = zero, b;
        int last = t + (int)x->acct_periods[arg], hi;
        if (!x->dsra_window8[arg])
            return 0;
        if (last > x->T)
            last = x->T;
        for (int j = 0; j < x->n_cover[arg]; j++) {
            int k = x->cover[arg * K + j];
            const double *S = x->sprefix + 3 * k * W;
            if (t + 1 <= x->last_cap[k])
                return 0;
            hi = last < x->maturity[k] ? last : (int)x->maturity[k];
            if (hi <= t)
                continue;
            b = wf_ld(x->bal + WF_BLOCK * k);
            if (wf_any(live & (b + wf_all(S[t]) < wf_all(S[hi] + 1e-9 * (1.0 + S[hi])))))
                return 0;
            tgt = tgt + ((wf_all(S[hi] - S[t]) + (b + wf_all(S[t])) * (wf_ld(wf_row(x, x->li_rate + K + k, hi))
                         - wf_ld(wf_row(x, x->li_rate + K + k, t)))) - (wf_ld(wf_row(x, x->li_rate + 2 * K + k, hi))
                         - wf_ld(wf_row(x, x->li_rate + 2 * K + k, t))));
        }
        *target = tgt;
        return 1;
    }
    /* a reserve step of a fast period: funded to its target from the cash (the O(1) sum,
       else x->reserve_target's, lane by lane); 0 where neither is at hand */
    WF_ALWAYS_INLINE int wf_fast_reserve(const wf_fast *x, int t, int arg, wf_fp *f)
    {
        wf_v tgt, pay;
        double lane[WF_BLOCK];
        if (!wf_window_target(x, t, arg, f->live, f->zero, &tgt)) {
            if (x->reserve_target == NULL)
                return 0;
            x->reserve_target(x->target_ctx, arg, t, lane);
            tgt = wf_ld(lane);
        }
        pay = wf_min(f->cash, tgt);
        wf_st(x->reserve + WF_BLOCK * arg, pay);
        f->cash = f->cash - pay;
        return 1;
    }
    /* wf_window_target for lanes_period (the target into memory) */
    static int wf_window_mem(const wf_fast *x, int t, int arg, double *target)
    {
        wf_v tgt;
        if (!wf_window_target(x, t, arg, wf_ldm(x->live), wf_all(0.0), &tgt))
            return 0;
        wf_st(target, tgt);
        return 1;
    }
    /* principal repaid (repay): the balance falls, the WAL's sums rise */
    WF_ALWAYS_INLINE void wf_fast_repay(const wf_fast *x, int q, wf_v pay, const wf_fp *f)
    {
        wf_st(x->bal + q, wf_ld(x->bal + q) - pay);
        wf_st(x->repaid + q, wf_ld(x->repaid + q) + pay);
        wf_st(x->repaid_t + q, wf_ld(x->repaid_t + q) + pay * f->tt);
    }
    /* the steps from step i on, each once for all the lanes: where `window`, a reserve step's
       target by wf_fast_reserve; the index of the first step not run (a reserve step whose
       target is the caller's, or an op this loop does not carry), S at the end */
    WF_ALWAYS_INLINE int wf_steps_from(const wf_fast *x, int t, wf_fp *f, int i, const int window)
    {
        wf_v b, pay, due, s;
        for (; i < x->S; i++) {
            int op = x->sop[i], arg = x->sarg[i], q = WF_BLOCK * arg;
            if (op == x->op_interest) {
                due = wf_ld(x->int_due + q); pay = wf_min(f->cash, due);
                f->cash = f->cash - pay; f->lcf = f->lcf + pay;
                wf_st(x->int_paid + q, wf_ld(x->int_paid + q) + pay);
                s = due - pay;
                if (x->hard[arg]) {
                    f->out = f->out | ((s > f->zero) & (s > f->dust));
                } else {
                    wf_m m = s > f->zero;
                    b = wf_ld(x->bal + q);
                    wf_st(x->bal + q, wf_sel(m, b + s, b));
                    wf_st(x->int_due + q, wf_sel(m, pay, due));
                }
            } else if (op == x->op_principal) {
                due = wf_ld(x->prin_due + q); pay = wf_min(f->cash, due);
                f->cash = f->cash - pay; f->lcf = f->lcf + pay;
                wf_fast_repay(x, q, pay, f);
                if (x->hard[arg] || t == x->maturity[arg])
                    f->out = f->out | ((due - pay) > f->dust);
            } else if (op == x->op_reserve) {
                if (!window || !wf_fast_reserve(x, t, arg, f))
                    return i;
            } else if (op == x->op_sweep) {
                b = wf_ld(x->bal + q);
                pay = wf_min(b, f->cash * wf_sel(f->locked, wf_all(x->share_locked[i]), wf_all(x->share[i])));
                f->cash = f->cash - pay; f->lcf = f->lcf + pay;
                wf_fast_repay(x, q, pay, f);
            } else if (op == x->op_distribute) {
                if (arg >= 0) {
                    b = wf_ld(x->reserve + q);
                    wf_st(x->reserve + q, wf_sel(f->locked, b + f->cash, b));
                    f->eq = wf_sel(f->locked, f->eq, f->eq + f->cash);
                } else {
                    f->eq = f->eq + f->cash;
                }
                f->cash = f->zero;
            } else if (op == x->op_fee) {
                pay = wf_min(f->cash, wf_all(x->fee_due[arg * x->W + t]));
                f->cash = f->cash - pay; f->fees = f->fees + pay;
            } else {
                return i;
            }
        }
        return x->S;
    }
    /* the steps of a fast period (0 where one is left to lanes_period) */
    WF_ALWAYS_INLINE int wf_fast_steps(const wf_fast *x, int t, wf_fp *f)
    {
        return wf_steps_from(x, t, f, 0, 1) == x->S;
    }
    /* the steps from step i on for lanes_period (its flows in memory, the reserves' targets
       its own); returns the first step not run, S at the end */
    static int wf_steps_mem(const wf_fast *x, int t, double *cash, double *lcf, double *eq, double *fees, int i)
    {
        wf_fp f;
        f.zero = wf_all(0.0);
        f.dust = wf_all(x->dust);
        f.tt = wf_all((double)t);
        f.cash = wf_ld(cash); f.lcf = wf_ld(lcf); f.eq = wf_ld(eq); f.fees = wf_ld(fees);
        f.out = wf_ldm(x->out);
        f.locked = wf_ldm(x->locked) != 0;
        f.live = f.locked | ~f.locked;
        i = wf_steps_from(x, t, &f, i, 0);
        wf_st(cash, f.cash); wf_st(lcf, f.lcf); wf_st(eq, f.eq); wf_st(fees, f.fees);
        wf_stm(x->out, f.out);
        return i;
    }
    /* the period's flows out (lanes_period's tail) */
    WF_ALWAYS_INLINE void wf_fast_tail(const wf_fast *x, int t, const wf_fp *f)
    {
        if (x->tax_on) {
            wf_v v = f->cfads - f->fees - f->zero;
            if (x->tax_interest)
                for (int k = 0; k < x->K; k++)
                    v = v - wf_ld(x->int_paid + WF_BLOCK * k);
            wf_st(wf_flow(x, x->lf_tax_income, t), v);
        }
        wf_st(wf_flow(x, x->lf_lcf, t), f->lcf);
        wf_st(x->eq_dist_total, wf_ld(x->eq_dist_total) + f->eq);
        wf_st(wf_flow(x, x->lf_ecf, t), f->eq - wf_all(x->equity_in[t]) - f->zero - f->zero);
        wf_stm(x->out, f->out);
        wf_stm(x->locked, f->locked);
    }
    static int wf_fast_period(const wf_fast *x, int t)
    {
        wf_fp f;
        if (!x->quiet[t] || t == x->T)
            return 0;
        f.zero = wf_all(0.0);
        f.dust = wf_all(x->dust);
        f.tt = wf_all((double)t);
        f.lcf = f.eq = f.fees = f.zero;
        f.live = wf_ldm(x->live);
        f.out = wf_ldm(x->out);
        f.revenue = wf_all(x->base_rent[t]) * wf_ld(wf_row(x, x->li_rent, t));
        f.cfads = f.revenue - wf_all(x->opex[t]) * wf_ld(wf_row(x, x->li_opex, t));
        if (x->tenant && t != 0 && !(x->base_rent[t] <= 0.0) && wf_any(f.live & (f.revenue <= f.zero)))
            return 0;
        if (x->senior && t >= x->cod)
            wf_fast_cover(x, t, &f);
        wf_fast_accrue(x, t, &f);
        wf_fast_sources(x, t, &f);
        if (!wf_fast_covenants(x, t, &f) || !wf_fast_steps(x, t, &f))
            return 0;
        wf_fast_tail(x, t, &f);
        return 1;
    }
    """
    ctypedef void (*wf_target_fn)(void *ctx, int a, int t, double *target) noexcept nogil
    ctypedef struct wf_fast:
        int K
        int A
        int S
        int W
        int T
        int cod
        int llcr_end
        int llcr_dsra
        int n_dscr
        int senior
        int used
        int lock0
        int cure_periods
        int tenant
        int any_acct_rate
        int tax_on
        int tax_interest
        int breach_accelerates
        int accelerate_after
        double dd
        double lud
        double dust
        const double *base_rent
        const double *opex
        const double *capex
        const double *equity_in
        const double *sched
        const double *fee_due
        const double *share
        const double *share_locked
        const double *acct_rate
        const unsigned char *quiet
        const unsigned char *dsra_window8
        const int64_t *hard
        const int64_t *maturity
        const int64_t *acct_kind
        const int64_t *acct_periods
        const int *sop
        const int *sarg
        const int *dscr_k
        const int *cover
        const int *n_cover
        const int *last_cap
        int op_fee
        int op_interest
        int op_principal
        int op_reserve
        int op_sweep
        int op_distribute
        int acc_dsra
        int li_rent
        int li_opex
        int li_dfac
        int li_rate
        int lf_lcf
        int lf_ecf
        int lf_npv_before
        int lf_disc_before
        int lf_debt_open
        int lf_dsra_open
        int lf_tax_income
        const double *sprefix
        const double *rows_in
        double *flows
        double *bal
        double *repaid
        double *repaid_t
        double *reserve
        double *int_due
        double *int_paid
        double *sched_due
        double *prin_due
        double *min_dscr
        double *sum_dscr
        double *eq_dist_total
        double *eq_in_total
        double *discount
        double *npv_loan
        double *npv_project
        double *last_cfads
        double *last_ds
        double *cure_count
        double *n_ds
        double *first_ds
        int64_t *out
        int64_t *locked
        const int64_t *live
        wf_target_fn reserve_target
        void *target_ctx
    int wf_fast_period(const wf_fast *x, int t) noexcept nogil
    int wf_steps_mem(const wf_fast *x, int t, double *cash, double *lcf, double *eq, double *fees, int i) noexcept nogil
    int wf_window_mem(const wf_fast *x, int t, int arg, double *target) noexcept nogil
    void wf_cover_mem(const wf_fast *x, int t, const double *cfads) noexcept nogil
    void wf_fill(double *x, double v) noexcept nogil
    void wf_copy(double *dst, const double *src, int n) noexcept nogil
    int wf_any_and(const int64_t *a, const int64_t *b) noexcept nogil
    void wf_transpose(const double *const *src, int n, double *dst) noexcept nogil
    void wf_untranspose(const double *src, int n, double *const *dst) noexcept nogil
    int wf_cov(const double *cfads, const double *ds, double dust, double dd, double lud, int lock_ok, int used,
                double t, double inflow, double *first_ds, double *n_ds, double *sum_dscr, double *min_dscr,
                double *last_cfads, double *last_ds, double *cure_count, double *eq_in_total, double *cov_cfads,
                double *cov_ds, double *cure, int64_t *locked) noexcept nogil
    void wf_reserve(double *cash, const double *target, double *reserve) noexcept nogil
    void wf_accrue(const double *bal, const double *rate, double sched_t, double *int_due, double *int_paid,
                    double *sched, double *prin_due) noexcept nogil


cdef extern from *:
    enum: WF_BLOCK     # (the C helpers' lane count, above)
    enum: WF_LANES_ON  # (whether the build runs lane blocks, above)

cdef enum:
    BLOCK = WF_BLOCK   # scenarios a block steps through together: 4, an AVX2 vector
    LANE_MAX_K = 16    # tranches and accounts a lane block carries (more: scalar)
    LANE_MAX_A = 16

LANES = BLOCK if WF_LANES_ON else 1   # what the build runs: 1 without AVX2


ctypedef struct LaneCarry:
    # what a lane carries from one period to the next (the snapshot taken at the start of
    # each period has the same form): Scn's carried fields, lane by lane
    double bal[LANE_MAX_K * BLOCK]        # [K][BLOCK] tranche balances
    double repaid[LANE_MAX_K * BLOCK]     # principal repaid over life (WAL)
    double repaid_t[LANE_MAX_K * BLOCK]   # sum of t x principal
    double reserve[LANE_MAX_A * BLOCK]    # [A][BLOCK] account balances
    double min_dscr[BLOCK]
    double sum_dscr[BLOCK]
    double eq_dist_total[BLOCK]
    double eq_in_total[BLOCK]
    double discount[BLOCK]
    double npv_loan[BLOCK]
    double npv_project[BLOCK]
    double debt0[BLOCK]
    double last_cfads[BLOCK]
    double last_ds[BLOCK]
    double cure_count[BLOCK]   # (an integer)
    double cures[BLOCK]   # (an integer)
    double n_ds[BLOCK]   # (an integer)
    double first_ds[BLOCK]   # (an integer)


cdef enum:
    # the per-period flows a lane block keeps as [W][BLOCK] rows (lanes_unpack: into each
    # lane's Scn arrays of the same name)
    LF_LCF = 0
    LF_ECF = 1
    LF_NPV_BEFORE = 2
    LF_DISC_BEFORE = 3
    LF_DEBT_OPEN = 4
    LF_DSRA_OPEN = 5
    LF_COV_CFADS = 6
    LF_COV_DS = 7
    LF_TAX_INCOME = 8
    N_LANE_FLOWS = 9


ctypedef struct Lanes:
    LaneCarry cur
    LaneCarry snap
    # the period's dues, [K][BLOCK]
    double int_due[LANE_MAX_K * BLOCK]
    double int_paid[LANE_MAX_K * BLOCK]
    double sched[LANE_MAX_K * BLOCK]
    double prin_due[LANE_MAX_K * BLOCK]
    double *flows          # [N_LANE_FLOWS][W][BLOCK]
    double *rows_in        # [3 + 3K][W][BLOCK] the lanes' rows (lane_in)
    const double *f_cross[BLOCK]
    bint live[BLOCK]       # still stepping with the block
    bint done[BLOCK]       # left it, and its scalar periods ran: its metrics wait for lanes_end
    int64_t out[BLOCK]     # nonzero: leaves the block this period
    int64_t locked[BLOCK]  # nonzero: distributions locked up this period
    int64_t live_mask[BLOCK]   # -1 where live, else 0 (wf_fast_period's checks ignore a lane that has left)


cdef enum:
    # the lanes' input rows, [W][BLOCK] each: the rent and opex factors, the LLCR's
    # discount factor, then K rows of per-period rates and K each of the DSRA's prefix sums
    # Q and R (dsra_prefix; covered tranches only)
    LI_RENT = 0
    LI_OPEX = 1
    LI_DFAC = 2
    LI_RATE = 3


cdef inline double *lane_in(Lanes *z, int r, int t, int W) noexcept nogil:
    """Period t's row [BLOCK] of the lanes' input r (LI_*)."""
    return z.rows_in + (r * W + t) * BLOCK


cdef inline void lane_rows(Lanes *z, const double *src, int r, int l, int W) noexcept nogil:
    """Lane l's row `src` [W] into the lanes' input r."""
    cdef int t
    cdef double *dst = z.rows_in + r * W * BLOCK + l
    for t in range(W):
        dst[t * BLOCK] = src[t]


cdef bint lanes_eligible(const Prog *p) noexcept nogil:
    """Whether a program's rules are all carried by the lane block (metrics only)."""
    cdef int i, W = p.T + 1
    cdef bint own_only
    if not WF_LANES_ON or p.K > LANE_MAX_K or p.A > LANE_MAX_A or p.H > 0 or p.hedge_ratio_min >= 0.0:
        return False
    own_only = not ((p.lock_up_dscr >= 0.0 and p.lock_up_basis != 0)
                    or (p.default_dscr >= 0.0 and p.default_basis != 0))
    if not own_only:
        return False
    for i in range(p.A * W):
        if p.acct_lc[i] != 0.0:
            return False
    for i in range(p.S):
        if not (p.sop[i] == OP_INTEREST or p.sop[i] == OP_PRINCIPAL or p.sop[i] == OP_RESERVE
                or p.sop[i] == OP_SWEEP or p.sop[i] == OP_DISTRIBUTE or p.sop[i] == OP_FEE):
            return False
    return True


cdef int lanes_until(const Prog *p) noexcept nogil:
    """The first period the lanes do not run: a maturity with refinancing or extension
    options (refinancing.at_maturity), else T + 1."""
    cdef int k, until = p.T + 1
    for k in range(p.K):
        if (p.maturity[k] < p.T and (p.refi_periods[k] > 0 or p.ext_options[k] > 0)
                and p.maturity[k] < until):
            until = <int>p.maturity[k]
    return until


cdef void lanes_load(Lanes *z, Scn *c, const Prog *p) noexcept nogil:
    """The block's lanes from their set-up scenarios (scn_setup): rows and opening state."""
    cdef int l, k, a, K = p.K, W = p.T + 1
    cdef const double *src[BLOCK]
    for l in range(BLOCK):
        src[l] = c[l].fch[CH_RENT]
    wf_transpose(src, W, lane_in(z, LI_RENT, 0, W))
    for l in range(BLOCK):
        src[l] = c[l].fch[CH_OPEX]
    wf_transpose(src, W, lane_in(z, LI_OPEX, 0, W))
    if c[0].senior >= 0:
        for l in range(BLOCK):
            src[l] = c[l].dfac
        wf_transpose(src, W, lane_in(z, LI_DFAC, 0, W))   # (periods before COD unread)
    for k in range(K):
        for l in range(BLOCK):
            src[l] = c[l].prr[k]
        wf_transpose(src, W, lane_in(z, LI_RATE + k, 0, W))
        if p.any_dsra_window and p.dsra_cov8[k]:
            for l in range(BLOCK):
                src[l] = c[l].dsra_pre + 3 * k * W           # Q
            wf_transpose(src, W, lane_in(z, LI_RATE + K + k, 0, W))
            for l in range(BLOCK):
                src[l] = c[l].dsra_pre + 3 * k * W + 2 * W   # R
            wf_transpose(src, W, lane_in(z, LI_RATE + 2 * K + k, 0, W))
    for l in range(BLOCK):
        z.f_cross[l] = c[l].fch[CH_CROSS]
        z.live[l] = True
        z.live_mask[l] = -1
        z.out[l] = 0
        z.locked[l] = 0
        for k in range(K):
            z.cur.bal[k * BLOCK + l] = 0.0
            z.cur.repaid[k * BLOCK + l] = 0.0
            z.cur.repaid_t[k * BLOCK + l] = 0.0
        for a in range(p.A):
            z.cur.reserve[a * BLOCK + l] = 0.0
        z.cur.min_dscr[l] = NAN
        z.cur.sum_dscr[l] = 0.0
        z.cur.eq_dist_total[l] = 0.0
        z.cur.eq_in_total[l] = 0.0
        z.cur.discount[l] = 1.0
        z.cur.npv_loan[l] = 0.0
        z.cur.npv_project[l] = 0.0
        z.cur.debt0[l] = NAN
        z.cur.last_cfads[l] = 0.0
        z.cur.last_ds[l] = 0.0
        z.cur.cure_count[l] = 0
        z.cur.cures[l] = 0
        z.cur.n_ds[l] = 0
        z.cur.first_ds[l] = -1


cdef inline void lanes_copy(LaneCarry *dst, const LaneCarry *src, int K, int A) noexcept nogil:
    """The carried state `src` into `dst` (K tranches and A accounts of it), in vector moves."""
    wf_copy(dst.bal, src.bal, K * BLOCK)
    wf_copy(dst.repaid, src.repaid, K * BLOCK)
    wf_copy(dst.repaid_t, src.repaid_t, K * BLOCK)
    wf_copy(dst.reserve, src.reserve, A * BLOCK)
    wf_copy(dst.min_dscr, src.min_dscr, BLOCK)
    wf_copy(dst.sum_dscr, src.sum_dscr, BLOCK)
    wf_copy(dst.eq_dist_total, src.eq_dist_total, BLOCK)
    wf_copy(dst.eq_in_total, src.eq_in_total, BLOCK)
    wf_copy(dst.discount, src.discount, BLOCK)
    wf_copy(dst.npv_loan, src.npv_loan, BLOCK)
    wf_copy(dst.npv_project, src.npv_project, BLOCK)
    wf_copy(dst.debt0, src.debt0, BLOCK)
    wf_copy(dst.last_cfads, src.last_cfads, BLOCK)
    wf_copy(dst.last_ds, src.last_ds, BLOCK)
    wf_copy(dst.cure_count, src.cure_count, BLOCK)
    wf_copy(dst.cures, src.cures, BLOCK)
    wf_copy(dst.n_ds, src.n_ds, BLOCK)
    wf_copy(dst.first_ds, src.first_ds, BLOCK)


cdef inline void lanes_snapshot(Lanes *z, int K, int A) noexcept nogil:
    """The carried state at the start of the period, for a lane that leaves in it."""
    lanes_copy(&z.snap, &z.cur, K, A)


cdef void lanes_store(const LaneCarry *v, int l, Scn *c, const Prog *p) noexcept nogil:
    """Lane l's carried state `v` (the current or the period's opening one) into its Scn."""
    cdef int k, a
    for k in range(p.K):
        c.ts[k].balance = v.bal[k * BLOCK + l]
        c.ts[k].repaid = v.repaid[k * BLOCK + l]
        c.ts[k].repaid_t = v.repaid_t[k * BLOCK + l]
    for a in range(p.A):
        c.reserve[a] = v.reserve[a * BLOCK + l]
    c.min_dscr = v.min_dscr[l]
    c.sum_dscr = v.sum_dscr[l]
    c.eq_dist_total = v.eq_dist_total[l]
    c.eq_in_total = v.eq_in_total[l]
    c.discount = v.discount[l]
    c.npv_loan = v.npv_loan[l]
    c.npv_project = v.npv_project[l]
    c.debt0 = v.debt0[l]
    c.last_cfads = v.last_cfads[l]
    c.last_ds = v.last_ds[l]
    c.cure_count = <int>v.cure_count[l]
    c.cures = <int>v.cures[l]
    c.n_ds = <int>v.n_ds[l]
    c.first_ds = <int>v.first_ds[l]


cdef inline void lanes_accrue(Lanes *z, const Prog *p, int t, double *draws, double *lcf_t) noexcept nogil:
    """reference._accrue on the lanes (scn_periods' accrual): interest, capitalisation,
    draws, the scheduled principal and a maturity's balloon; no refinancing (lanes_until)."""
    cdef int k, l, K = p.K, W = p.T + 1, q
    cdef double b, sc, d, interest, inc
    cdef const double *rate
    cdef bint cap, mat
    for k in range(K):
        inc = p.round_to[k]
        sc = p.sched[k * W + t]
        rate = lane_in(z, LI_RATE + k, t, W)
        if p.quiet[t]:
            q = k * BLOCK
            wf_accrue(z.cur.bal + q, rate, sc, z.int_due + q, z.int_paid + q, z.sched + q, z.prin_due + q)
            if inc > 0.0:
                for l in range(BLOCK):
                    z.int_due[q + l] = money(z.int_due[q + l], inc)
            continue
        cap = p.cap8[k * W + t]
        d = p.draw[k * W + t]
        mat = t == p.maturity[k]
        for l in range(BLOCK):
            q = k * BLOCK + l
            b = z.cur.bal[q]
            if t == p.cod and p.dscr8[k]:
                z.cur.debt0[l] = b if isnan(z.cur.debt0[l]) else z.cur.debt0[l] + b
            interest = money(b * rate[l], inc)
            z.int_paid[q] = 0.0
            if cap:
                b += interest
                z.int_due[q] = 0.0
            else:
                z.int_due[q] = interest
            b += d
            draws[l] += d
            lcf_t[l] -= d
            z.sched[q] = b if b < sc else sc
            z.prin_due[q] = b if mat else z.sched[q]
            z.cur.bal[q] = b


cdef inline double *lane_row(Lanes *z, int f, int t, int W) noexcept nogil:
    """Period t's row [BLOCK] of the block's flow f (LF_*)."""
    return z.flows + (f * W + t) * BLOCK


cdef inline void lanes_sources(Lanes *z, Scn *c, const Prog *p, int t, const double *cfads, const double *draws,
                               double *cash) noexcept nogil:
    """reference._sources on the lanes: reserves released (with their interest), the exit
    sale, and the cash available; a lane short of cash (sponsor support) leaves."""
    cdef int l, a, A = p.A, W = p.T + 1, i
    cdef double release[BLOCK]
    cdef double earned[BLOCK]
    cdef double exit_[BLOCK]
    cdef double x, r, inflow = p.equity_in[t], capex = p.capex[t]
    wf_fill(release, 0.0)
    wf_fill(earned, 0.0)
    wf_fill(exit_, 0.0)
    for a in range(A):
        r = p.acct_rate[a * W + t]
        for l in range(BLOCK):
            release[l] += z.cur.reserve[a * BLOCK + l]
        if p.any_acct_rate:
            for l in range(BLOCK):
                earned[l] += z.cur.reserve[a * BLOCK + l] * r
        for l in range(BLOCK):
            z.cur.reserve[a * BLOCK + l] = 0.0
    if t == p.T and p.exit_share > 0.0:
        for l in range(BLOCK):
            x = 0.0
            for i in range(N_COMPONENTS):
                x += p.asset_value[i * W + t] * c[l].fch[CH_VAL_LAND + i][t]
            exit_[l] = p.exit_share * x
            c[l].exit_proceeds = exit_[l]
    for l in range(BLOCK):
        cash[l] = cfads[l] + draws[l] + inflow - capex + release[l] + earned[l] + exit_[l]
    for l in range(BLOCK):
        if cash[l] < 0.0:
            z.out[l] = 1


cdef inline bint lanes_quiet_events(Lanes *z, const Prog *p, int t, const double *revenue) noexcept nogil:
    """No lane's tenant stops paying this period, and no linked obligor has defaulted."""
    cdef int l, W = p.T + 1
    if p.tenant_accelerates and t != 0 and not (p.base_rent[t] <= 0.0):
        for l in range(BLOCK):
            if revenue[l] <= 0.0:
                return False
    if p.cross_accelerates:
        for l in range(BLOCK):
            if z.f_cross[l][t] <= 0.0:
                return False
    return True


cdef inline void lanes_covenants(Lanes *z, const Prog *p, int t, const double *revenue,
                                 const double *cfads, double *cash, double *cure) noexcept nogil:
    """reference._covenants on the lanes, every set test on the period's own DSCR: debt
    service, the DSCR, an equity cure, lock-up and a breach; a lane with an event of
    default (any cause) leaves."""
    cdef int l, j, k, T = p.T, W = p.T + 1
    cdef double x, dd = p.default_dscr, lud = p.lock_up_dscr
    cdef double ds[BLOCK]
    cdef double dscr[BLOCK]
    cdef bint ok, below, tenant_ev, cross_ev, breach
    cdef bint used = p.lock_up_dscr >= 0.0 and p.lock_up_basis == 0 or p.default_dscr >= 0.0 and p.default_basis == 0
    cdef double *cov_cfads = lane_row(z, LF_COV_CFADS, t, W)
    cdef double *cov_ds = lane_row(z, LF_COV_DS, t, W)
    wf_fill(ds, 0.0)
    for j in range(p.n_dscr):
        k = p.dscr_k[j]
        for l in range(BLOCK):
            ds[l] += z.int_due[k * BLOCK + l] + z.sched[k * BLOCK + l]
    if lanes_quiet_events(z, p, t, revenue) and p.cure_periods >= 0 and wf_cov(
            cfads, ds, DUST, dd if p.default_basis == 0 else -1.0, lud, t != T and p.lock_up_basis == 0, used,
            <double>t, p.equity_in[t], z.cur.first_ds, z.cur.n_ds, z.cur.sum_dscr, z.cur.min_dscr, z.cur.last_cfads,
            z.cur.last_ds, z.cur.cure_count, z.cur.eq_in_total, cov_cfads, cov_ds, cure, z.locked):
        return   # no lane below the default DSCR, none with an event: the vector path
    for l in range(BLOCK):
        dscr[l] = cfads[l] / ds[l] if ds[l] > DUST else NAN
        cov_cfads[l] = cfads[l]
        cov_ds[l] = ds[l]
    for l in range(BLOCK):
        if ds[l] > DUST and z.cur.first_ds[l] < 0:
            z.cur.first_ds[l] = t
        ok = ds[l] > DUST and used
        below = ok and p.default_basis == 0 and dd >= 0.0 and dscr[l] < dd
        tenant_ev = False
        if p.tenant_accelerates and revenue[l] <= 0.0 and t != 0 and not (p.base_rent[t] <= 0.0):
            tenant_ev = p.base_rent[t - 1] * lane_in(z, LI_RENT, t - 1, W)[l] > 0.0
        cross_ev = p.cross_accelerates and z.f_cross[l][t] <= 0.0
        cure[l] = 0.0
        if below and z.cur.cure_count[l] + 1 > p.cure_periods and not (tenant_ev or cross_ev):
            if z.cur.cures[l] < p.cure_max and t <= p.cure_until:   # reference._equity_cure
                x = dd * ds[l] - cfads[l]
                if x > 0.0 and not (p.cure_max_amount >= 0.0 and x > p.cure_max_amount):
                    z.cur.cures[l] += 1
                    cure[l] = x
            if cure[l] > 0.0:
                dscr[l] = (cfads[l] + cure[l]) / ds[l]
                below = False
        if cure[l] != 0.0:
            cov_cfads[l] = cfads[l] + cure[l]
        z.cur.last_cfads[l] = cfads[l]
        z.cur.last_ds[l] = ds[l]
        if ds[l] > DUST:
            z.cur.n_ds[l] += 1
            z.cur.sum_dscr[l] += dscr[l]
            if isnan(z.cur.min_dscr[l]) or dscr[l] < z.cur.min_dscr[l]:
                z.cur.min_dscr[l] = dscr[l]
        z.locked[l] = t != T and p.lock_up_basis == 0 and ok and lud >= 0.0 and dscr[l] < lud
        z.cur.cure_count[l] = z.cur.cure_count[l] + 1 if below else 0
        breach = z.cur.cure_count[l] > p.cure_periods
        if breach and t != T:
            z.locked[l] = 1
        if ((breach and p.breach_accelerates and z.cur.cure_count[l] > p.cure_periods + p.accelerate_after)
                or tenant_ev or cross_ev):
            z.out[l] = 1
        if cure[l] != 0.0:
            cash[l] += cure[l]
        z.cur.eq_in_total[l] += p.equity_in[t] + 0.0 + cure[l]


cdef inline void lanes_reserve_target(Lanes *z, Scn *c, const Prog *p, const wf_fast *fx, int a, int t,
                                      double *target) noexcept nogil:
    """The OP_RESERVE target of every lane: in O(1) where dsra_target_window applies to all
    of them, else lane by lane (dsra_target_window or reserve_target)."""
    if p.dsra_window8[a] and t < p.T and wf_window_mem(fx, t, a, target):
        return
    lanes_target_each(z, c, p, a, t, target)


cdef void lanes_target_each(Lanes *z, Scn *c, const Prog *p, int a, int t, double *target) noexcept nogil:
    """The OP_RESERVE target of each lane, as scn_periods takes it (dsra_target_window where
    it applies to the lane, else reserve_target), on the lanes' current balances."""
    cdef int k, l
    cdef bint window = p.dsra_window8[a] and t < p.T
    for l in range(BLOCK):
        for k in range(p.K):
            c[l].ts[k].balance = z.cur.bal[k * BLOCK + l]
        if not (window and dsra_target_window(p, c[l].dsra_pre, c[l].ts, a, t, &target[l])):
            target[l] = reserve_target(p, c[l].prr, c[l].schr, c[l].ts, a, t, c[l].hedge_pre)


ctypedef struct LaneTargets:
    # what wf_fast_period's reserve_target callback needs (lanes_target_cb)
    Lanes *z
    Scn *c
    const Prog *p


cdef void lanes_target_cb(void *ctx, int a, int t, double *target) noexcept nogil:
    """wf_fast.reserve_target: a fast period's reserve target lane by lane where the O(1) sum
    does not apply to every lane (near the end of a loan's life, a capitalised period
    ahead), instead of the whole block going by lanes_period."""
    cdef LaneTargets *q = <LaneTargets *>ctx
    lanes_target_each(q.z, q.c, q.p, a, t, target)


cdef void lanes_steps(Lanes *z, Scn *c, const Prog *p, const wf_fast *fx, int t, double *cash, double *lcf_t,
                      double *equity_out, double *fees_paid) noexcept nogil:
    """The steps (waterfall/steps) on the lanes, each dispatched once for the block
    (wf_steps_mem: wf_fast_period's loop; a reserve's target lane by lane here); a lane that
    meets an event of default (a hard shortfall) leaves."""
    cdef int i = 0, arg
    cdef double target[BLOCK]
    while i < p.S:
        i = wf_steps_mem(fx, t, cash, lcf_t, equity_out, fees_paid, i)
        if i < p.S:   # a reserve step (lanes_eligible admits no other the loop leaves)
            arg = p.sarg[i]
            lanes_reserve_target(z, c, p, fx, arg, t, target)
            wf_reserve(cash, target, z.cur.reserve + arg * BLOCK)
            i += 1


cdef void lanes_period(Lanes *z, Scn *c, const Prog *p, const wf_fast *fx, int t) noexcept nogil:
    """Period t of every lane of the block (scn_periods' period, rules as lanes_eligible
    allows): the lanes' own rows and state in, their flows out."""
    cdef int l, k, W = p.T + 1
    cdef double revenue[BLOCK]
    cdef double cfads[BLOCK]
    cdef double draws[BLOCK]
    cdef double lcf_t[BLOCK]
    cdef double cash[BLOCK]
    cdef double cure[BLOCK]
    cdef double equity_out[BLOCK]
    cdef double fees_paid[BLOCK]
    cdef double x, rent = p.base_rent[t], opex = p.opex[t], inflow = p.equity_in[t]
    cdef double *row
    cdef const double *f_rent = lane_in(z, LI_RENT, t, W)
    cdef const double *f_opex = lane_in(z, LI_OPEX, t, W)
    for l in range(BLOCK):
        revenue[l] = rent * f_rent[l]
    for l in range(BLOCK):
        cfads[l] = revenue[l] - opex * f_opex[l]
    wf_fill(draws, 0.0)
    wf_fill(lcf_t, 0.0)
    wf_fill(equity_out, 0.0)
    wf_fill(fees_paid, 0.0)
    if c[0].senior >= 0 and t >= p.cod:
        wf_cover_mem(fx, t, cfads)
    lanes_accrue(z, p, t, draws, lcf_t)
    lanes_sources(z, c, p, t, cfads, draws, cash)
    lanes_covenants(z, p, t, revenue, cfads, cash, cure)
    lanes_steps(z, c, p, fx, t, cash, lcf_t, equity_out, fees_paid)
    if p.tax_on:   # taxes.pre_depreciation_income (no hedges in a lane block)
        row = lane_row(z, LF_TAX_INCOME, t, W)
        for l in range(BLOCK):
            x = cfads[l] - fees_paid[l] - 0.0
            if p.tax_interest:
                for k in range(p.K):
                    x = x - z.int_paid[k * BLOCK + l]
            row[l] = x
    row = lane_row(z, LF_LCF, t, W)
    for l in range(BLOCK):
        row[l] = lcf_t[l]
        z.cur.eq_dist_total[l] += equity_out[l]
    row = lane_row(z, LF_ECF, t, W)
    for l in range(BLOCK):
        row[l] = equity_out[l] - inflow - 0.0 - cure[l]


cdef inline bint lane_flow_read(const Prog *p, int f) noexcept nogil:
    """Whether the scalar loop or the metrics read flow f (LF_*) of the periods already run
    on a program the lanes carry: the covenant sums only feed trailing DSCRs (never in a
    lane block), the DSRA's opening balances only an LLCR net of them, the taxable income
    only the owner's tax."""
    if f == LF_COV_CFADS or f == LF_COV_DS:
        return False
    if f == LF_DSRA_OPEN:
        return p.llcr_dsra != 0
    if f == LF_TAX_INCOME:
        return p.tax_on != 0
    return True


cdef inline void lane_flow_rows(Scn *c, double **dst) noexcept nogil:
    """A lane's Scn arrays by flow (LF_*)."""
    dst[LF_LCF] = c.lcf
    dst[LF_ECF] = c.ecf
    dst[LF_NPV_BEFORE] = c.npv_before
    dst[LF_DISC_BEFORE] = c.disc_before
    dst[LF_DEBT_OPEN] = c.debt_open
    dst[LF_DSRA_OPEN] = c.dsra_open
    dst[LF_COV_CFADS] = c.cov_cfads
    dst[LF_COV_DS] = c.cov_ds
    dst[LF_TAX_INCOME] = c.tax_income


cdef void lanes_unpack(Lanes *z, int l, Scn *c, const Prog *p, int t_end) noexcept nogil:
    """Lane l's flows of periods 0 .. t_end - 1 into its Scn's arrays."""
    cdef int t, f, W = p.T + 1
    cdef double *dst[N_LANE_FLOWS]
    cdef const double *src
    lane_flow_rows(c, dst)
    for f in range(N_LANE_FLOWS):
        if lane_flow_read(p, f):
            src = z.flows + f * W * BLOCK + l
            for t in range(t_end):
                dst[f][t] = src[t * BLOCK]


cdef void lanes_unpack_all(Lanes *z, Scn *c, const Prog *p, int t_end, double *sink) noexcept nogil:
    """The flows of periods 0 .. t_end - 1 of every lane still in the block into its Scn's
    arrays (a lane that has left keeps its own: its row goes to `sink`, [W] doubles)."""
    cdef int l, f, W = p.T + 1
    cdef double *dst[N_LANE_FLOWS * BLOCK]
    cdef double *rows[BLOCK]
    for l in range(BLOCK):
        lane_flow_rows(&c[l], dst + l * N_LANE_FLOWS)
    for f in range(N_LANE_FLOWS):
        if lane_flow_read(p, f):
            for l in range(BLOCK):
                rows[l] = dst[l * N_LANE_FLOWS + f] if z.live[l] else sink
            wf_untranspose(z.flows + f * W * BLOCK, t_end, rows)


cdef bint lanes_fast_ok(const Prog *p) noexcept nogil:
    """Whether wf_fast_period may run a program's quiet periods: no interest rounding, no
    linked obligor, a cure period count of zero or more."""
    cdef int k
    if p.cross_accelerates or p.cure_periods < 0:
        return False
    for k in range(p.K):
        if p.round_to[k] > 0.0:
            return False
    return True


cdef void lanes_fast_setup(wf_fast *x, Lanes *z, const Scn *c, const Prog *p) noexcept nogil:
    """wf_fast_period's view of the program and of the block."""
    lanes_fast_program(x, c, p)
    lanes_fast_block(x, z, c, p)


cdef void lanes_fast_program(wf_fast *x, const Scn *c, const Prog *p) noexcept nogil:
    """wf_fast_period's program facts and the codes it dispatches on (OP_*, ACC_DSRA, LI_*, LF_*)."""
    x.K = p.K
    x.A = p.A
    x.S = p.S
    x.W = p.T + 1
    x.T = p.T
    x.cod = p.cod
    x.llcr_end = p.llcr_end
    x.llcr_dsra = p.llcr_dsra
    x.n_dscr = p.n_dscr
    x.senior = c[0].senior >= 0
    x.used = c[0].basis_used[0]
    x.lock0 = p.lock_up_basis == 0
    x.cure_periods = p.cure_periods
    x.tenant = p.tenant_accelerates
    x.any_acct_rate = p.any_acct_rate
    x.tax_on = p.tax_on
    x.tax_interest = p.tax_interest
    x.breach_accelerates = p.breach_accelerates
    x.accelerate_after = p.accelerate_after
    x.dd = p.default_dscr if p.default_basis == 0 else -1.0
    x.lud = p.lock_up_dscr
    x.dust = DUST
    x.base_rent = p.base_rent
    x.opex = p.opex
    x.capex = p.capex
    x.equity_in = p.equity_in
    x.sched = p.sched
    x.fee_due = p.fee_due
    x.share = p.step_share
    x.share_locked = p.step_share_locked
    x.acct_rate = p.acct_rate
    x.quiet = p.quiet
    x.dsra_window8 = p.dsra_window8
    x.hard = p.hard
    x.maturity = p.maturity
    x.acct_kind = p.acct_kind
    x.acct_periods = p.acct_periods
    x.sop = p.sop
    x.sarg = p.sarg
    x.dscr_k = p.dscr_k
    x.cover = p.cover
    x.n_cover = p.n_cover
    x.last_cap = p.last_cap
    x.op_fee = OP_FEE
    x.op_interest = OP_INTEREST
    x.op_principal = OP_PRINCIPAL
    x.op_reserve = OP_RESERVE
    x.op_sweep = OP_SWEEP
    x.op_distribute = OP_DISTRIBUTE
    x.acc_dsra = ACC_DSRA
    x.li_rent = LI_RENT
    x.li_opex = LI_OPEX
    x.li_dfac = LI_DFAC
    x.li_rate = LI_RATE
    x.lf_lcf = LF_LCF
    x.lf_ecf = LF_ECF
    x.lf_npv_before = LF_NPV_BEFORE
    x.lf_disc_before = LF_DISC_BEFORE
    x.lf_debt_open = LF_DEBT_OPEN
    x.lf_dsra_open = LF_DSRA_OPEN
    x.lf_tax_income = LF_TAX_INCOME



cdef void lanes_fast_block(wf_fast *x, Lanes *z, const Scn *c, const Prog *p) noexcept nogil:
    """wf_fast_period's view of the block: its rows and its state."""
    x.sprefix = c[0].dsra_pre + (p.T + 1)   # (S of tranche k at sprefix + 3kW; read where it covers k)
    x.rows_in = z.rows_in
    x.flows = z.flows
    x.bal = z.cur.bal
    x.repaid = z.cur.repaid
    x.repaid_t = z.cur.repaid_t
    x.reserve = z.cur.reserve
    x.int_due = z.int_due
    x.int_paid = z.int_paid
    x.sched_due = z.sched
    x.prin_due = z.prin_due
    x.min_dscr = z.cur.min_dscr
    x.sum_dscr = z.cur.sum_dscr
    x.eq_dist_total = z.cur.eq_dist_total
    x.eq_in_total = z.cur.eq_in_total
    x.discount = z.cur.discount
    x.npv_loan = z.cur.npv_loan
    x.npv_project = z.cur.npv_project
    x.last_cfads = z.cur.last_cfads
    x.last_ds = z.cur.last_ds
    x.cure_count = z.cur.cure_count
    x.n_ds = z.cur.n_ds
    x.first_ds = z.cur.first_ds
    x.out = z.out
    x.locked = z.locked
    x.live = z.live_mask
    x.reserve_target = NULL   # (run_lane_block's lanes_target_cb)
    x.target_ctx = NULL


cdef inline void lanes_restore(Lanes *z, int K, int A) noexcept nogil:
    """The carried state back to the period's opening snapshot (wf_fast_period gave up)."""
    lanes_copy(&z.cur, &z.snap, K, A)


cdef void run_lane_block(const Prog *p, double **adj, int J, const double **base, double *scratch,
                         Py_ssize_t scratch_size, double **ptrs, double **rows, int64_t **status) noexcept nogil:
    """BLOCK scenarios through the periods together: lane l's adjustments (channel, from, to
    as int64, then the values) at adj[l], its base-rate path base[l], its output row
    rows[l] ([N_METRICS + 2K]) and status status[l]; `scratch` holds BLOCK scenarios' work
    space of scratch_size each, then the block's flows [N_LANE_FLOWS][W][BLOCK], its
    input rows [3 + 3K][W][BLOCK] and the IRRs' work space (irr4_work); `ptrs`
    BLOCK x 3(K + 1) row pointers."""
    cdef Scn c[BLOCK]
    cdef Lanes z
    cdef wf_fast fx
    cdef LaneTargets targets
    cdef bint fast
    cdef int l, t, until = lanes_until(p), live
    cdef int64_t *adj_i
    cdef double *irr_work
    for l in range(BLOCK):
        adj_i = <int64_t *>adj[l]
        scn_setup(&c[l], p, 0, adj_i, adj_i + J, adj_i + 2 * J, adj[l] + 3 * J, J, base[l],
                  scratch + l * scratch_size, ptrs + l * 3 * (p.K + 1), NULL)
    z.flows = scratch + BLOCK * scratch_size
    z.rows_in = z.flows + N_LANE_FLOWS * (p.T + 1) * BLOCK
    lanes_load(&z, c, p)
    fast = lanes_fast_ok(p)
    lanes_fast_setup(&fx, &z, c, p)
    targets.z = &z
    targets.c = c
    targets.p = p
    fx.reserve_target = lanes_target_cb
    fx.target_ctx = &targets
    live = BLOCK
    for l in range(BLOCK):
        z.done[l] = False
    for t in range(until):
        if live == 0:
            break
        lanes_snapshot(&z, p.K, p.A)
        if not (fast and wf_fast_period(&fx, t)):
            if fast:
                lanes_restore(&z, p.K, p.A)
            lanes_period(&z, c, p, &fx, t)
        if not wf_any_and(z.out, z.live_mask):
            continue
        for l in range(BLOCK):
            if z.live[l] and z.out[l] != 0:   # from the start of this period on in the scalar loop
                lanes_store(&z.snap, l, &c[l], p)
                lanes_unpack(&z, l, &c[l], p, t)
                # the rest of its life in the scalar loop; its metrics with the block's (lanes_end)
                z.done[l] = scn_periods(&c[l], p, t, <NoLedgerPtr>NULL, status[l])
                z.live[l] = False
                z.live_mask[l] = 0
                live -= 1
    irr_work = z.flows + (N_LANE_FLOWS + 3 + 3 * p.K) * (p.T + 1) * BLOCK
    if live > 0:
        lanes_unpack_all(&z, c, p, until, irr_work)
    lanes_end(&z, c, p, until, rows, status, irr_work)


cdef void lanes_end(Lanes *z, Scn *c, const Prog *p, int until, double **rows, int64_t **status,
                    double *irr_work) noexcept nogil:
    """The lanes still in the block at `until`: the rest of their periods in the scalar loop
    (none where until is T + 1); then the metrics of every lane whose periods ran (those
    that left the block earlier too), the lenders' and equity's periodic IRRs solved four
    at a time (irr_periodic4: the scalar's bit for bit) where no owner's tax reads the
    equity flows first, and then their XIRRs (irr_dated4: irr_dated's bit for bit) started
    from them as scn_metrics starts irr_dated."""
    cdef int l, W = p.T + 1
    cdef bint ran[BLOCK]
    cdef double *flows[BLOCK]
    cdef double lender[BLOCK]
    cdef double equity[BLOCK]
    cdef double lender_x[BLOCK]
    cdef double equity_x[BLOCK]
    cdef double given[2]
    cdef double dated[2]
    cdef double lender_st[10 * BLOCK]   # wf_scan_w's figures of each lane's flows (wf_scan_both)
    cdef double equity_st[10 * BLOCK]
    cdef double ppy = 12.0 / p.months
    for l in range(BLOCK):
        ran[l] = z.done[l]
        if z.live[l]:
            lanes_store(&z.cur, l, &c[l], p)
            ran[l] = scn_periods(&c[l], p, until, <NoLedgerPtr>NULL, status[l])
    if not p.tax_on:   # (a lane whose periods did not run: solved, and not read)
        for l in range(BLOCK):
            flows[l] = c[l].lcf
        for l in range(BLOCK // IRR_LANES):
            irr_periodic4_from(<const double **>(flows + l * IRR_LANES), flows + l * IRR_LANES, W, irr_work,
                               lender + l * IRR_LANES, NULL, p.flow_years, lender_st + 10 * l * IRR_LANES)
        for l in range(BLOCK):
            flows[l] = c[l].ecf
        for l in range(BLOCK // IRR_LANES):
            irr_periodic4_from(<const double **>(flows + l * IRR_LANES), flows + l * IRR_LANES, W, irr_work,
                               equity + l * IRR_LANES, NULL, p.flow_years, equity_st + 10 * l * IRR_LANES)
        lanes_xirr(c, p, ran, lender, ppy, irr_work, lender_x, 0, lender_st)
        lanes_xirr(c, p, ran, equity, ppy, irr_work, equity_x, 1, equity_st)
    for l in range(BLOCK):
        if ran[l]:
            given[0] = lender[l]
            given[1] = equity[l]
            dated[0] = lender_x[l]
            dated[1] = equity_x[l]
            scn_metrics(&c[l], p, <NoLedgerPtr>NULL, rows[l], rows[l] + N_METRICS,
                        NULL if p.tax_on else given, NULL if p.tax_on else dated)


cdef void lanes_xirr(Scn *c, const Prog *p, const bint *ran, const double *periodic, double ppy,
                     double *irr_work, double *out, bint equity, const double *scanned) noexcept nogil:
    """The lenders' (equity: the equity's) XIRR of the lanes that ran, four at a time
    (irr_dated4), each started where scn_metrics starts irr_dated: from its periodic IRR
    annualised, as 1/(1 + r); `scanned` [10 BLOCK]: their flows' dated scans, made with
    the periodic IRR's (irr_periodic4_from)."""
    cdef double *flows[BLOCK]
    cdef double guess[BLOCK]
    cdef int l
    for l in range(BLOCK):
        flows[l] = (c[l].ecf if equity else c[l].lcf) if ran[l] else NULL
        guess[l] = 1.0 / (1.0 + annualise(periodic[l], ppy))
    for l in range(BLOCK // IRR_LANES):
        irr_dated4(flows + l * IRR_LANES, p.flow_years, p.T + 1, irr_work, guess + l * IRR_LANES,
                   p.flow_gap4, p.gap_min, p.gap_max, out + l * IRR_LANES, scanned + 10 * l * IRR_LANES)
