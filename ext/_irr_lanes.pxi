# The periodic IRR of four flow vectors at once (issue 16): one AVX2 lane per vector.
# Included from _kernel.pyx after irr_periodic (it uses the IRR's Flows, start_of, halley,
# bisect_x). Each lane does exactly the scalar irr_periodic's operations in the same order,
# so a lane's IRR equals the scalar's bit for bit (tests/test_irr_lanes.py; a root beyond the
# largest double is NaN, `reported`, in the lanes as in the scalar); only the usual
# case runs in lanes (one sign change, the root in the gain half: r >= 0 ... +inf, v in
# (0, 1)); every other vector is solved by the scalar path after the same scan.
cdef extern from *:
    """
    /* T[k][l] = c_l[k] for k < len[l], 0.0 past it (and for a lane of length 0), k < K
       (a multiple of 4): the four lanes' flows side by side, one 4x4 transpose a block. */
    static void wf_lanes_load(const double *const *c, const int *len, int K, double *T)
    {
        int k, l;
    #if defined(__AVX2__) && defined(__FMA__)
        const __m256i lane = _mm256_set_epi64x(3, 2, 1, 0);
        __m256d r[4], t0, t1, t2, t3;
        for (k = 0; k < K; k += 4) {
            for (l = 0; l < 4; l++)   /* (a masked load only where the lane ends: the rows
                                         were just stored, and a masked load waits for them) */
                r[l] = k + 4 <= len[l] ? _mm256_loadu_pd(c[l] + k) :
                       _mm256_maskload_pd(c[l] + k, _mm256_cmpgt_epi64(_mm256_set1_epi64x(len[l] - k), lane));
            t0 = _mm256_unpacklo_pd(r[0], r[1]);
            t1 = _mm256_unpackhi_pd(r[0], r[1]);
            t2 = _mm256_unpacklo_pd(r[2], r[3]);
            t3 = _mm256_unpackhi_pd(r[2], r[3]);
            _mm256_storeu_pd(T + 4 * k, _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd(T + 4 * k + 4, _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd(T + 4 * k + 8, _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd(T + 4 * k + 12, _mm256_permute2f128_pd(t1, t3, 0x31));
        }
    #else
        for (k = 0; k < K; k++)
            for (l = 0; l < 4; l++)
                T[4 * k + l] = k < len[l] ? c[l][k] : 0.0;
    #endif
    }

    /* wf_npv3 of the four lanes of T (K = 8 (top + 1) rows, top = (n - 1) / 8 of the
       longest lane) at v[l]: lane l's f, f', f'' are wf_npv3(c_l, n_l, v[l])'s bit for bit.
       The same eight chains in w = v^8 (chain j: the terms t = 8m + j), each a vector of
       the four lanes; a lane shorter than the longest has zero rows on top, on which the
       chains stay exactly 0 (0 w + 0 = 0) until its own top row, where the scalar starts. */
    static void wf_npv3_lanes(const double *T, int K, const double *v, double *f, double *f1, double *f2)
    {
        int top = K / 8 - 1, m, j, h;
    #if defined(__AVX2__) && defined(__FMA__)
        const __m256d vv = _mm256_loadu_pd(v), z = _mm256_setzero_pd();
        const __m256d v2 = _mm256_mul_pd(vv, vv), v4 = _mm256_mul_pd(v2, v2);
        const __m256d v6 = _mm256_mul_pd(v4, v2), v7 = _mm256_mul_pd(v6, vv);
        const __m256d w = _mm256_mul_pd(v4, v4), v14 = _mm256_mul_pd(v7, v7);
        __m256d E[8], D[8], S[8], q1, q2, g = z, g1 = z, g2 = z;
        for (h = 0; h < 8; h += 4) {   /* chains h .. h + 3 (twelve accumulators in registers) */
            const double *row = T + 4 * (8 * top + h);
            __m256d e0 = _mm256_loadu_pd(row), e1 = _mm256_loadu_pd(row + 4);
            __m256d e2 = _mm256_loadu_pd(row + 8), e3 = _mm256_loadu_pd(row + 12);
            __m256d d0 = z, d1 = z, d2 = z, d3 = z, s0 = z, s1 = z, s2 = z, s3 = z;
            for (m = top - 1; m >= 0; m--) {
                row = T + 4 * (8 * m + h);
                s0 = _mm256_fmadd_pd(s0, w, d0); d0 = _mm256_fmadd_pd(d0, w, e0);
                e0 = _mm256_fmadd_pd(e0, w, _mm256_loadu_pd(row));
                s1 = _mm256_fmadd_pd(s1, w, d1); d1 = _mm256_fmadd_pd(d1, w, e1);
                e1 = _mm256_fmadd_pd(e1, w, _mm256_loadu_pd(row + 4));
                s2 = _mm256_fmadd_pd(s2, w, d2); d2 = _mm256_fmadd_pd(d2, w, e2);
                e2 = _mm256_fmadd_pd(e2, w, _mm256_loadu_pd(row + 8));
                s3 = _mm256_fmadd_pd(s3, w, d3); d3 = _mm256_fmadd_pd(d3, w, e3);
                e3 = _mm256_fmadd_pd(e3, w, _mm256_loadu_pd(row + 12));
            }
            E[h] = e0; E[h + 1] = e1; E[h + 2] = e2; E[h + 3] = e3;
            D[h] = d0; D[h + 1] = d1; D[h + 2] = d2; D[h + 3] = d3;
            S[h] = s0; S[h + 1] = s1; S[h + 2] = s2; S[h + 3] = s3;
        }
        for (j = 7; j >= 0; j--) {   /* wf_npv3's combination, term for term */
            q1 = _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(8.0), v7), D[j]);
            q2 = _mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(56.0), v6), D[j]),
                               _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(128.0), v14), S[j]));
            g2 = _mm256_fmadd_pd(g2, vv, _mm256_add_pd(_mm256_mul_pd(_mm256_set1_pd(2.0), g1), q2));
            g1 = _mm256_fmadd_pd(g1, vv, _mm256_add_pd(g, q1));
            g = _mm256_fmadd_pd(g, vv, E[j]);
        }
        _mm256_storeu_pd(f, g); _mm256_storeu_pd(f1, g1); _mm256_storeu_pd(f2, g2);
        (void)h;
    #else
        int l;
        for (l = 0; l < 4; l++) {   /* wf_npv3's portable loop, on lane l's column */
            double x = v[l], x2 = x * x, x4 = x2 * x2, x6 = x4 * x2, x7 = x6 * x, w = x4 * x4, x14 = x7 * x7;
            double E[8], D[8], S[8], g = 0.0, g1 = 0.0, g2 = 0.0, q1, q2;
            for (j = 0; j < 8; j++) {
                E[j] = T[4 * (8 * top + j) + l];
                D[j] = 0.0;
                S[j] = 0.0;
            }
            for (m = top - 1; m >= 0; m--)
                for (j = 0; j < 8; j++) {
                    S[j] = WF_MULADD(S[j], w, D[j]);
                    D[j] = WF_MULADD(D[j], w, E[j]);
                    E[j] = WF_MULADD(E[j], w, T[4 * (8 * m + j) + l]);
                }
            for (j = 7; j >= 0; j--) {
                q1 = 8.0 * x7 * D[j];
                q2 = 56.0 * x6 * D[j] + 128.0 * x14 * S[j];
                g2 = WF_MULADD(g2, x, 2.0 * g1 + q2);
                g1 = WF_MULADD(g1, x, g + q1);
                g = WF_MULADD(g, x, E[j]);
            }
            f[l] = g; f1[l] = g1; f2[l] = g2;
        }
        (void)h;
    #endif
    }

    /* The gain half of four dated NPVs with one gap table (flows_at's side GAIN, table
       case, i.e. wf_dated_gain) at the lanes' x: T [K][4] the lanes' flows side by side
       from their common first flow (0.0 past a lane's last), years [K] and gap [K] the
       terms' years and gap-table indices (shared: the lanes start at the same flow),
       P0 [4][4] exp(years[k] lx_l) of the first four terms, M [G][4] the lanes' tables
       x_l^((gmin + g) / 365) side by side. Chain j of lane l sums its terms k = 4m + j in
       wf_dated_gain's order with its operations (no fused multiply-add); a lane's terms
       past its last add exactly 0. out [3][4]: the sums of c x^e, e c x^e, e^2 c x^e. */
    static void wf_dated_gain_lanes(const double *T, const double *years, const double *gap,
                                    int K, const double *P0, const double *M, double *out)
    {
        int k, j, l;
    #if defined(__AVX2__) && defined(__FMA__)
        const __m256d z = _mm256_setzero_pd();
        __m256d P[4], A[4], B[4], C[4], t, ev, e2;
        for (j = 0; j < 4; j++) {
            P[j] = _mm256_loadu_pd(P0 + 4 * j);
            A[j] = z; B[j] = z; C[j] = z;
        }
        for (k = 0; k < 4 && k < K; k++) {
            ev = _mm256_set1_pd(years[k]);
            e2 = _mm256_set1_pd(years[k] * years[k]);
            t = _mm256_mul_pd(_mm256_loadu_pd(T + 4 * k), P[k]);
            A[k] = _mm256_add_pd(A[k], t);
            B[k] = _mm256_add_pd(B[k], _mm256_mul_pd(ev, t));
            C[k] = _mm256_add_pd(C[k], _mm256_mul_pd(e2, t));
        }
        for (; k + 4 <= K; k += 4)
            for (j = 0; j < 4; j++) {
                ev = _mm256_set1_pd(years[k + j]);
                e2 = _mm256_set1_pd(years[k + j] * years[k + j]);
                P[j] = _mm256_mul_pd(P[j], _mm256_loadu_pd(M + 4 * (int)gap[k + j]));
                t = _mm256_mul_pd(_mm256_loadu_pd(T + 4 * (k + j)), P[j]);
                A[j] = _mm256_add_pd(A[j], t);
                B[j] = _mm256_add_pd(B[j], _mm256_mul_pd(ev, t));
                C[j] = _mm256_add_pd(C[j], _mm256_mul_pd(e2, t));
            }
        for (; k < K; k++) {
            j = k & 3;
            ev = _mm256_set1_pd(years[k]);
            e2 = _mm256_set1_pd(years[k] * years[k]);
            P[j] = _mm256_mul_pd(P[j], _mm256_loadu_pd(M + 4 * (int)gap[k]));
            t = _mm256_mul_pd(_mm256_loadu_pd(T + 4 * k), P[j]);
            A[j] = _mm256_add_pd(A[j], t);
            B[j] = _mm256_add_pd(B[j], _mm256_mul_pd(ev, t));
            C[j] = _mm256_add_pd(C[j], _mm256_mul_pd(e2, t));
        }
        _mm256_storeu_pd(out, _mm256_add_pd(_mm256_add_pd(A[0], A[1]), _mm256_add_pd(A[2], A[3])));
        _mm256_storeu_pd(out + 4, _mm256_add_pd(_mm256_add_pd(B[0], B[1]), _mm256_add_pd(B[2], B[3])));
        _mm256_storeu_pd(out + 8, _mm256_add_pd(_mm256_add_pd(C[0], C[1]), _mm256_add_pd(C[2], C[3])));
        (void)l;
    #else
        for (l = 0; l < 4; l++) {   /* wf_dated_gain's portable loop, on lane l's column */
            double P[4], A[4] = {0.0, 0.0, 0.0, 0.0}, B[4] = {0.0, 0.0, 0.0, 0.0};
            double C[4] = {0.0, 0.0, 0.0, 0.0}, e, term;
            for (j = 0; j < 4; j++)
                P[j] = P0[4 * j + l];
            for (k = 0; k < K; k++) {
                j = k & 3;
                e = years[k];
                if (k >= 4)
                    P[j] *= M[4 * (int)gap[k] + l];
                term = T[4 * k + l] * P[j];
                A[j] += term;
                B[j] += e * term;
                C[j] += e * e * term;
            }
            out[l] = (A[0] + A[1]) + (A[2] + A[3]);
            out[4 + l] = (B[0] + B[1]) + (B[2] + B[3]);
            out[8 + l] = (C[0] + C[1]) + (C[2] + C[3]);
        }
    #endif
    }
    """
    void wf_lanes_load(const double **c, const int *len, int K, double *T) noexcept nogil
    void wf_dated_gain_lanes(const double *T, const double *years, const double *gap, int K, const double *P0, const double *M, double *out) noexcept nogil
    void wf_npv3_lanes(const double *T, int K, const double *v, double *f, double *f1, double *f2) noexcept nogil


cdef enum:
    IRR_LANES = 4


cdef inline int irr4_work(int n) noexcept nogil:
    """Doubles of irr_periodic4's work space for vectors of n flows: the lanes' side-by-side
    flows (4 (n + 8)) and the scalar path's work (2n)."""
    return 4 * (n + 8) + 2 * n


cdef void halley4(const double **c, const int *nn, const double *total, double *x, int *live,
                  double *T, int K, double *out) noexcept nogil:
    """halley() on the gain half of the live lanes, in lockstep: one wf_npv3_lanes a pass
    for all four, then each live lane's step exactly as halley's (bracket, Halley or Newton
    step, the 1e-9 stopping rule, bisection where a step leaves the bracket); a lane that
    stops is masked off (its column is still computed, and ignored). A lane still going
    after MAX_NEWTON passes ends in last_bracket, as the scalar does."""
    cdef double lo[IRR_LANES]
    cdef double hi[IRR_LANES]
    cdef double f_lo[IRR_LANES]
    cdef double f_hi[IRR_LANES]
    cdef double f[IRR_LANES]
    cdef double f1[IRR_LANES]
    cdef double f2[IRR_LANES]
    cdef double d, q, x_new
    cdef int it, l, left = 0
    cdef Flows fl
    for l in range(IRR_LANES):
        lo[l] = 0.0
        hi[l] = 1.0
        f_lo[l] = c[l][0] if live[l] else 0.0
        f_hi[l] = total[l]
        left += live[l]
    for it in range(MAX_NEWTON):
        wf_npv3_lanes(T, K, x, f, f1, f2)
        for l in range(IRR_LANES):
            if not live[l]:
                continue
            if x[l] == 0.0:   # flows_at's limit r -> +inf (unreachable from halley's steps)
                f[l] = c[l][0]
                f1[l] = 0.0
                f2[l] = 0.0
            if f[l] == 0.0:
                out[l] = reported(rate_of(GAIN, x[l]))
                live[l] = 0
                left -= 1
                continue
            if (f[l] > 0.0) == (f_lo[l] > 0.0):
                lo[l] = x[l]
                f_lo[l] = f[l]
            else:
                hi[l] = x[l]
                f_hi[l] = f[l]
            x_new = NAN
            if f1[l] != 0.0:
                d = f[l] / f1[l]
                q = d * f2[l] / (2.0 * f1[l])
                if fabs(q) <= 0.5:
                    d = d / (1.0 - q)
                x_new = x[l] - d
            if fabs(x_new - x[l]) <= TOL_STEP * x[l]:  # (false for NaN)
                out[l] = reported(rate_of(GAIN, x_new))
                live[l] = 0
                left -= 1
                continue
            if not (lo[l] < x_new and x_new < hi[l]):
                x[l] = 0.5 * (lo[l] + hi[l])
                continue
            x[l] = x_new
        if left == 0:
            return
    fl.rev = NULL
    fl.dated = False
    for l in range(IRR_LANES):
        if live[l]:
            fl.c = c[l]
            fl.n = nn[l]
            out[l] = reported(last_bracket(&fl, GAIN, lo[l], hi[l], f_lo[l], f_hi[l]))


cdef void irr_periodic4(double **cf, int n, double *work, double *out) noexcept nogil:
    """irr_periodic of four flow vectors of n periods each, out[l] the periodic IRR of
    cf[l] (NaN where there is none), equal to irr_periodic's bit for bit. Noise (<= 1e-9)
    is zeroed in place, as the scalar does. Where the root is the one Halley root of the
    gain half (r > 0: flows that start with an outlay and sum to more than zero, as loans
    and equity do) the vector is solved in the lanes; any other by the scalar path.
    `work` holds irr4_work(n) doubles."""
    irr_periodic4_from(<const double **>cf, cf, n, work, out, NULL, NULL, NULL)


cdef int gain_lane(double *cf, int n, const double *st, double *sums, double *out,
                   const double **c, int *nn, double *total, double *x) noexcept nogil:
    """Whether the scanned vector cf (st: wf_scan's) is solved in a lane: 1 where its
    one sign change puts the root in the gain half (irr_periodic's first case), 2 where
    it has several and the gain half's Laguerre bound is one with the half's ends of
    opposite signs (chosen_root's Halley case: a NaN there sends it back to the scalar);
    then c, nn, total and x (the start) are set. 0: out holds its IRR (NaN, 0 or the
    scalar path's)."""
    cdef int first, last, lane = 0
    cdef double size
    if st[1] < 0.0 or st[3] < 0.0:
        out[0] = NAN   # no sign change
        return 0
    first = <int>(st[0] if st[0] < st[2] else st[2])
    last = <int>(st[1] if st[1] > st[3] else st[3])
    total[0] = st[4] - st[5]
    if total[0] != 0.0 and (total[0] > 0.0) != (cf[first] > 0.0):
        if st[3] < st[0] or st[1] < st[2]:
            lane = 1
        elif gain_changes(cf + first, last - first + 1, sums, &size) == 1:
            lane = 2
    if lane == 0:
        out[0] = irr_scanned(cf, n, sums, st)
        return 0
    c[0] = cf + first
    nn[0] = last - first + 1
    x[0] = start_in(GAIN, start_of(cf, NULL, n, st))
    return lane


cdef void irr_periodic4_from(const double **src, double **cf, int n, double *work,
                             double *out, const double **ahead, const double *years,
                             double *dated_st) noexcept nogil:
    """irr_periodic4 of the vectors src[l], each copied to cf[l] with its noise zeroed
    (cf[l] = src[l]: in place); ahead[l] (NULL: none) are asked for from memory on the
    way (a batch's next rows). Where dated_st is not NULL, the same pass writes wf_scan_w's
    figures of each vector by `years` to dated_st[10 l ..] (irr_dated4's `scanned`)."""
    cdef double st[10]
    cdef const double *c[IRR_LANES]
    cdef int nn[IRR_LANES]
    cdef int live[IRR_LANES]
    cdef int kind[IRR_LANES]
    cdef double total[IRR_LANES]
    cdef double x[IRR_LANES]
    cdef double *scalar_work = work + 4 * (n + 8)
    cdef int l, lanes = 0, top = 0
    cdef Flows fl
    for l in range(IRR_LANES):
        c[l] = cf[l]
        nn[l] = 0
        x[l] = 0.5
        total[l] = 0.0
        if dated_st != NULL:
            wf_scan_both(src[l], cf[l], years, n, st, dated_st + 10 * l, src[l] if ahead == NULL else ahead[l])
        else:
            wf_scan_ahead(src[l], cf[l], n, st, src[l] if ahead == NULL else ahead[l])
        kind[l] = gain_lane(cf[l], n, st, scalar_work, &out[l], &c[l], &nn[l], &total[l], &x[l])
        live[l] = kind[l] != 0
        if live[l]:
            lanes += 1
            if (nn[l] - 1) // 8 > top:
                top = (nn[l] - 1) // 8
        else:
            nn[l] = 0
    if lanes == 1:   # one vector: the scalar solve, without the lanes' set-up
        for l in range(IRR_LANES):
            if live[l]:
                fl.c = c[l]
                fl.n = nn[l]
                fl.rev = NULL
                fl.dated = False
                out[l] = reported(halley(&fl, GAIN, total[l], x[l]))
    elif lanes > 1:
        wf_lanes_load(c, nn, 8 * (top + 1), work)
        halley4(c, nn, total, x, live, work, 8 * (top + 1), out)
    for l in range(IRR_LANES):
        if kind[l] == 2 and isnan(out[l]):   # no gain root after all: the loss half, scalar
            wf_scan(cf[l], n, st)
            out[l] = irr_scanned(cf[l], n, scalar_work, st)


# The XIRR of four flow vectors at once: irr_dated's gain-half Halley in the lanes, with the
# program's gap table (issue 16). Each lane does the scalar's operations in the same order:
# the same log and exps per pass (one lane at a time: libm's), the table x^(g/365) built
# along the four lanes at once, wf_dated_gain's chains side by side (wf_dated_gain_lanes),
# then halley's step per lane.
cdef int dated_lane(double *cf, const double *years, int n, double *work, double guess_v,
                    const double *gap4, int gap_min, int gap_max, int *first, int *nn,
                    double *total, double *x, double *out, double *st, const double *scanned) noexcept nogil:
    """Whether the vector cf (noise zeroed in place here) is solved in a lane: 1 where
    irr_dated would go straight to halley in the gain half (one sign change, an outlay
    first and a positive sum, or the reverse: single_root's GAIN case) with the program's
    gap table; then first, nn (its flows first .. first + nn - 1), total and x (the start,
    from guess_v as irr_dated takes it) are set. 0: out holds its XIRR (the scalar's).
    st [10]: wf_scan_w's, made here, or copied from `scanned` (not NULL: cf's noise is
    already zeroed and wf_scan_w's figures of it are there: wf_scan_both's)."""
    cdef double v0
    cdef int last, i
    if scanned != NULL:
        for i in range(10):
            st[i] = scanned[i]
    else:
        wf_scan_w(cf, years, n, st)
    if st[1] < 0.0 or st[3] < 0.0:
        out[0] = NAN   # no sign change (or no flow at all)
        return 0
    first[0] = <int>(st[0] if st[0] < st[2] else st[2])
    last = <int>(st[1] if st[1] > st[3] else st[3])
    total[0] = st[4] - st[5]
    if (gap4 == NULL or gap_max - gap_min >= MAX_GAPS or not (st[3] < st[0] or st[1] < st[2])
            or total[0] == 0.0 or (total[0] > 0.0) == (cf[first[0]] > 0.0)):
        out[0] = irr_dated_scanned(cf, years, n, work, guess_v, gap4, gap_min, gap_max, st)
        return 0
    nn[0] = last - first[0] + 1
    if guess_v > 0.0 and isfinite(guess_v):
        v0 = guess_v
    else:
        v0 = start_of(cf, years, n, st)
    x[0] = start_in(GAIN, v0)
    return 1


cdef void dated_pass4(const double *x, const int *live, const double *yrs, const double *gap,
                      int gap_min, int G, const double *T, int K, double *f, double *f1,
                      double *f2) noexcept nogil:
    """flows_at(GAIN, x[l], deriv) of the live lanes (the dated gain half with the gap table):
    per lane the log, the table's two exps and the first four terms' exps as flows_at and
    wf_dated_gain take them; the table's G entries along the four lanes; then the sums.
    A lane not live gets a table of ones and no flows' exps (its column is ignored)."""
    cdef double M[MAX_GAPS * IRR_LANES]
    cdef double P0[4 * IRR_LANES]
    cdef double lx[IRR_LANES]
    cdef double q[IRR_LANES]
    cdef double s[3 * IRR_LANES]
    cdef int l, g, k
    for l in range(IRR_LANES):
        q[l] = 1.0
        M[l] = 1.0
        for k in range(4):
            P0[4 * k + l] = 0.0
        if live[l] and x[l] != 0.0:
            lx[l] = log(x[l])
            q[l] = exp(lx[l] / 365.0)
            M[l] = exp(gap_min * lx[l] / 365.0)
            for k in range(4 if K > 4 else K):
                P0[4 * k + l] = exp(yrs[k] * lx[l])
    for g in range(1, G):
        for l in range(IRR_LANES):
            M[IRR_LANES * g + l] = M[IRR_LANES * (g - 1) + l] * q[l]
    wf_dated_gain_lanes(T, yrs, gap, K, P0, M, s)
    for l in range(IRR_LANES):
        f[l] = s[l]
        f1[l] = s[IRR_LANES + l] / x[l]
        f2[l] = (s[2 * IRR_LANES + l] - s[IRR_LANES + l]) / x[l] / x[l]


cdef void dated_halley4(Flows *fl, const double *total, double *x, int *live, const double *T,
                        int K, double *out) noexcept nogil:
    """halley() on the dated gain half of the live lanes (fl[l]: lane l's flows, all from one
    first flow, with the program's gap table), in lockstep as halley4: one dated_pass4 a pass
    for all four, then each live lane's step exactly as halley's; a lane still going after
    MAX_NEWTON passes ends in last_bracket, as the scalar does."""
    cdef double lo[IRR_LANES]
    cdef double hi[IRR_LANES]
    cdef double f_lo[IRR_LANES]
    cdef double f_hi[IRR_LANES]
    cdef double f[IRR_LANES]
    cdef double f1[IRR_LANES]
    cdef double f2[IRR_LANES]
    cdef double d, q, x_new
    cdef int it, l, left = 0, G = 1
    cdef const double *yrs = NULL
    cdef const double *gap = NULL
    for l in range(IRR_LANES):
        lo[l] = 0.0
        hi[l] = 1.0
        f_lo[l] = fl[l].c[0] if live[l] else 0.0
        f_hi[l] = total[l]
        left += live[l]
        if live[l]:
            yrs = fl[l].years
            gap = fl[l].gap
            G = fl[l].gmax - fl[l].gmin + 1
    for it in range(MAX_NEWTON):
        dated_pass4(x, live, yrs, gap, fl[0].gmin, G, T, K, f, f1, f2)
        for l in range(IRR_LANES):
            if not live[l]:
                continue
            if x[l] == 0.0:   # flows_at's limit r -> +inf (unreachable from halley's steps)
                f[l] = fl[l].c[0]
                f1[l] = 0.0
                f2[l] = 0.0
            if f[l] == 0.0:
                out[l] = reported(rate_of(GAIN, x[l]))
                live[l] = 0
                left -= 1
                continue
            if (f[l] > 0.0) == (f_lo[l] > 0.0):
                lo[l] = x[l]
                f_lo[l] = f[l]
            else:
                hi[l] = x[l]
                f_hi[l] = f[l]
            x_new = NAN
            if f1[l] != 0.0:
                d = f[l] / f1[l]
                q = d * f2[l] / (2.0 * f1[l])
                if fabs(q) <= 0.5:
                    d = d / (1.0 - q)
                x_new = x[l] - d
            if fabs(x_new - x[l]) <= TOL_STEP * x[l]:  # (false for NaN)
                out[l] = reported(rate_of(GAIN, x_new))
                live[l] = 0
                left -= 1
                continue
            if not (lo[l] < x_new and x_new < hi[l]):
                x[l] = 0.5 * (lo[l] + hi[l])
                continue
            x[l] = x_new
        if left == 0:
            return
    for l in range(IRR_LANES):
        if live[l]:
            out[l] = reported(last_bracket(&fl[l], GAIN, lo[l], hi[l], f_lo[l], f_hi[l]))


cdef inline int dated4_work(int n) noexcept nogil:
    """Doubles of irr_dated4's work space for vectors of n flows (irr4_work(n): the lanes'
    side-by-side flows, then the years from the first flow, or the scalar path's 2n)."""
    return irr4_work(n)


cdef void irr_dated4(double **cf, const double *years, int n, double *work, const double *guess_v,
                     const double *gap4, int gap_min, int gap_max, double *out,
                     const double *scanned) noexcept nogil:
    """irr_dated of four flow vectors of n flows at `years` (ACT/365F, shared), lane l from
    guess_v[l] (1/(1 + an annual rate), as irr_dated's guess_v) with the program's gap table
    gap4/gap_min/gap_max (irr_dated's): out[l] the XIRR of cf[l] (NaN where there is none;
    cf[l] NULL: no vector, NaN), equal to irr_dated's bit for bit. Noise is zeroed in place.
    The vectors whose root is the gain half's one Halley root (single_root's GAIN case)
    and whose first flow is the first such vector's are solved in the lanes, every other
    by the scalar irr_dated (no gap table: all of them). `work` holds dated4_work(n).
    scanned (NULL: none) holds wf_scan_w's figures of each vector, its noise zeroed
    (irr_periodic4_from's dated_st), in place of a scan here."""
    cdef const double *c[IRR_LANES]
    cdef int nn[IRR_LANES]
    cdef int first[IRR_LANES]
    cdef int live[IRR_LANES]
    cdef double total[IRR_LANES]
    cdef double x[IRR_LANES]
    cdef Flows fl[IRR_LANES]
    cdef double st[10]
    cdef double *yrs = work + 4 * (n + 8)
    cdef int l, i, lanes = 0, top = 0, f0 = -1
    for l in range(IRR_LANES):
        live[l] = 0
        nn[l] = 0
        c[l] = cf[l]
        x[l] = 0.5
        total[l] = 0.0
        first[l] = 0
        if cf[l] == NULL:
            c[l] = years   # (any flows: a lane of length 0 reads none)
            out[l] = NAN
            continue
        if dated_lane(cf[l], years, n, work, guess_v[l], gap4, gap_min, gap_max,
                      &first[l], &nn[l], &total[l], &x[l], &out[l], st,
                      NULL if scanned == NULL else scanned + 10 * l):
            if f0 < 0:
                f0 = first[l]
            if first[l] != f0:   # another first flow: the scalar
                out[l] = irr_dated_scanned(cf[l], years, n, work, guess_v[l], gap4, gap_min, gap_max, st)
                nn[l] = 0
                continue
            live[l] = 1
            lanes += 1
            c[l] = cf[l] + f0
            if nn[l] > top:
                top = nn[l]
        else:
            nn[l] = 0
    if lanes == 0:
        return
    if years[f0] != 0.0:   # irr_dated's years from the first flow (in place from year 0)
        for i in range(top):
            yrs[i] = years[f0 + i] - years[f0]
    for l in range(IRR_LANES):
        fl[l].c = c[l]
        fl[l].n = nn[l]
        fl[l].rev = NULL
        fl[l].dated = True
        fl[l].years = years + f0
        if years[f0] != 0.0:
            fl[l].years = yrs
        fl[l].gap = gap4 + f0
        fl[l].gmin = gap_min
        fl[l].gmax = gap_max
    if lanes == 1:   # one vector: the scalar solve, without the lanes' set-up
        for l in range(IRR_LANES):
            if live[l]:
                out[l] = reported(halley(&fl[l], GAIN, total[l], x[l]))
        return
    wf_lanes_load(c, nn, 4 * ((top + 3) // 4), work)
    dated_halley4(fl, total, x, live, work, top, out)
