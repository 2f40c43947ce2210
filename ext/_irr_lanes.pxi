# The periodic IRR of four flow vectors at once (issue 16): one AVX2 lane per vector.
# Included from _kernel.pyx after irr_periodic (it uses the IRR's Flows, start_v, halley,
# bisect_x). Each lane does exactly the scalar irr_periodic's operations in the same order,
# so a lane's IRR equals the scalar's bit for bit (tests/test_irr_lanes.py); only the usual
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
    """
    void wf_lanes_load(const double **c, const int *len, int K, double *T) noexcept nogil
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
    after MAX_NEWTON passes ends in bisect_x, as the scalar does."""
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
                out[l] = rate_of(GAIN, x[l])
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
                out[l] = rate_of(GAIN, x_new)
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
            out[l] = rate_of(GAIN, bisect_x(&fl, GAIN, lo[l], hi[l], f_lo[l], f_hi[l], 0))


cdef void irr_periodic4(double **cf, int n, double *work, double *out) noexcept nogil:
    """irr_periodic of four flow vectors of n periods each, out[l] the periodic IRR of
    cf[l] (NaN where there is none), equal to irr_periodic's bit for bit. Noise (<= 1e-9)
    is zeroed in place, as the scalar does. Where the root is the one Halley root of the
    gain half (r > 0: flows that start with an outlay and sum to more than zero, as loans
    and equity do) the vector is solved in the lanes; any other by the scalar path.
    `work` holds irr4_work(n) doubles."""
    irr_periodic4_from(<const double **>cf, cf, n, work, out, NULL)


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
    x[0] = start_in(GAIN, start_v(st[4], st[5], st[6], st[7], st[8], st[9]))
    return lane


cdef void irr_periodic4_from(const double **src, double **cf, int n, double *work,
                             double *out, const double **ahead) noexcept nogil:
    """irr_periodic4 of the vectors src[l], each copied to cf[l] with its noise zeroed
    (cf[l] = src[l]: in place); ahead[l] (NULL: none) are asked for from memory on the
    way (a batch's next rows)."""
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
                out[l] = halley(&fl, GAIN, total[l], x[l])
    elif lanes > 1:
        wf_lanes_load(c, nn, 8 * (top + 1), work)
        halley4(c, nn, total, x, live, work, 8 * (top + 1), out)
    for l in range(IRR_LANES):
        if kind[l] == 2 and isnan(out[l]):   # no gain root after all: the loss half, scalar
            wf_scan(cf[l], n, st)
            out[l] = irr_scanned(cf[l], n, scalar_work, st)
