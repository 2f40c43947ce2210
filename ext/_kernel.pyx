# cython: language_level=3
# (boundscheck, wraparound, cdivision and initializedcheck come from setup.py, so that
#  WATERFALL_DEBUG=1 builds with bounds checks: a directive in this header would override it)
"""The compiled waterfall kernel: one Program over a batch of scenarios x periods.

It is a line-for-line twin of waterfall/reference.py (the oracle) and of the IRR in
waterfall/irr.py; parity is tested to 1e-9. Python checks and allocates; the kernel
runs with the GIL released and spreads scenarios over OpenMP threads (prange) where
the build has OpenMP. Errors never cross the nogil boundary: there are none to raise,
shortfalls are results. The events and the workout (reference._accelerate and after,
waterfall/workout.py) run out of the period loop's way, in functions called only once a
scenario has accelerated.
"""
import numpy as np
cimport numpy as cnp
from cython.parallel cimport prange, threadid
from libc.math cimport NAN, INFINITY, isnan, isfinite, fabs, floor, pow, exp, log, sqrt, frexp, ldexp
from libc.float cimport DBL_MIN, DBL_MAX
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

    /* NPV at the 24 points v[j] of the bracket grid in one pass over the flows: each
       point's chain is npv_v's (acc = acc v + cf[t] from the end, the same operations),
       the 24 chains side by side instead of one after another. */
    static void wf_npv_grid(const double *cf, int n, const double *v, double *out)
    {
        int t, j;
    #if defined(__AVX2__) && defined(__FMA__)
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, c;
        const __m256d v0 = _mm256_loadu_pd(v), v1 = _mm256_loadu_pd(v + 4), v2 = _mm256_loadu_pd(v + 8);
        const __m256d v3 = _mm256_loadu_pd(v + 12), v4 = _mm256_loadu_pd(v + 16), v5 = _mm256_loadu_pd(v + 20);
        for (t = n - 1; t >= 0; t--) {
            c = _mm256_set1_pd(cf[t]);
            a0 = _mm256_fmadd_pd(a0, v0, c);
            a1 = _mm256_fmadd_pd(a1, v1, c);
            a2 = _mm256_fmadd_pd(a2, v2, c);
            a3 = _mm256_fmadd_pd(a3, v3, c);
            a4 = _mm256_fmadd_pd(a4, v4, c);
            a5 = _mm256_fmadd_pd(a5, v5, c);
        }
        _mm256_storeu_pd(out, a0); _mm256_storeu_pd(out + 4, a1); _mm256_storeu_pd(out + 8, a2);
        _mm256_storeu_pd(out + 12, a3); _mm256_storeu_pd(out + 16, a4); _mm256_storeu_pd(out + 20, a5);
    #else
        double acc[24];
        for (j = 0; j < 24; j++)
            acc[j] = 0.0;
        for (t = n - 1; t >= 0; t--)
            for (j = 0; j < 24; j++)
                acc[j] = WF_MULADD(acc[j], v[j], cf[t]);
        for (j = 0; j < 24; j++)
            out[j] = acc[j];
    #endif
        (void)j;
    }

    /* f(v) = sum cf[t] v^t alone (the bisection's NPV): sixteen interleaved Horner chains
       in w = v^16 (chain j holds the terms t = 16m + j; the top, partial block is read with
       masked loads), combined by Estrin's scheme in v: the same value as one chain, to
       rounding, at a fraction of its latency. */
    static double wf_npv1(const double *cf, int n, double v)
    {
        double v2 = v * v, v4 = v2 * v2, v8 = v4 * v4, w = v8 * v8, q[4];
        int top = (n - 1) / 16, rem = n - 16 * top, j, m;
        const double *head = cf + 16 * top;
    #if defined(__AVX2__) && defined(__FMA__)
        {
            const __m256i lane = _mm256_set_epi64x(3, 2, 1, 0);
            const __m256d ww = _mm256_set1_pd(w), vv4 = _mm256_set1_pd(v4), vv8 = _mm256_set1_pd(v8);
            __m256d e0 = _mm256_maskload_pd(head, _mm256_cmpgt_epi64(_mm256_set1_epi64x(rem), lane));
            __m256d e1 = _mm256_maskload_pd(head + 4, _mm256_cmpgt_epi64(_mm256_set1_epi64x(rem - 4), lane));
            __m256d e2 = _mm256_maskload_pd(head + 8, _mm256_cmpgt_epi64(_mm256_set1_epi64x(rem - 8), lane));
            __m256d e3 = _mm256_maskload_pd(head + 12, _mm256_cmpgt_epi64(_mm256_set1_epi64x(rem - 12), lane));
            for (m = top - 1; m >= 0; m--) {
                e0 = _mm256_fmadd_pd(e0, ww, _mm256_loadu_pd(cf + 16 * m));
                e1 = _mm256_fmadd_pd(e1, ww, _mm256_loadu_pd(cf + 16 * m + 4));
                e2 = _mm256_fmadd_pd(e2, ww, _mm256_loadu_pd(cf + 16 * m + 8));
                e3 = _mm256_fmadd_pd(e3, ww, _mm256_loadu_pd(cf + 16 * m + 12));
            }
            _mm256_storeu_pd(q, _mm256_fmadd_pd(_mm256_fmadd_pd(e3, vv4, e2), vv8, _mm256_fmadd_pd(e1, vv4, e0)));
        }
    #else
        {
            double E[16];
            for (j = 0; j < 16; j++)
                E[j] = j < rem ? head[j] : 0.0;
            for (m = top - 1; m >= 0; m--)
                for (j = 0; j < 16; j++)
                    E[j] = WF_MULADD(E[j], w, cf[16 * m + j]);
            for (j = 0; j < 4; j++)
                q[j] = WF_MULADD(WF_MULADD(E[j + 12], v4, E[j + 8]), v8, WF_MULADD(E[j + 4], v4, E[j]));
        }
    #endif
        (void)j;
        return WF_MULADD(WF_MULADD(q[3], v, q[2]), v2, WF_MULADD(q[1], v, q[0]));
    }

    /* One pass over the flows: zero the rounding noise (|x| <= 1e-9) in place and gather
       what the IRR needs first: out[0..3] = first and last period with a positive flow,
       first and last with a negative flow (n or -1 where none); out[4..9] = irr.initial_v's
       sums: inflow, outflow, sum t x inflow, sum t x outflow, sum t^2 x inflow, sum t^2 x
       outflow (in four lanes: the same starting point to rounding). The sign pattern
       decides 0, 1 or more sign changes. */
    static void wf_scan_ahead(const double *src, double *cf, int n, double *out, const double *ahead);
    static void wf_scan(double *cf, int n, double *out)
    {
        wf_scan_ahead(cf, cf, n, out, cf);
    }
    static void wf_scan_copy(const double *src, double *cf, int n, double *out)
    {
        wf_scan_ahead(src, cf, n, out, src);
    }

    /* wf_scan of src, the flows with their noise zeroed written to cf (src itself, or a
       copy: one pass instead of a copy and a scan), each flow's time its period t, or w[t]
       where `dated` (a dated IRR's years). Where the positive and negative flows lie is kept
       per block of four (a movemask and a branch on integer registers, off the vector units
       and off the sums' chains); the sums are wf_scan's, operation for operation. ahead[0 ..
       n) is asked for from memory on the way (a batch's rows to come; src itself where there
       are none). Where `both`, outw gets wf_scan_w's figures of the same flows by weights w
       (the periodic and the dated IRR's scans in one pass: the same operations on each sum).
       Written once for all: the wrappers below pass `dated` and `both` as constants, so the
       compiler makes each its own loop. */
    #if defined(__AVX2__) && defined(__FMA__)
    /* the first and second moments of the inflows px and outflows nx at times tv, added */
    static inline __attribute__((always_inline)) void wf_moments(
        __m256d tv, __m256d px, __m256d nx, __m256d *ti, __m256d *to, __m256d *tti, __m256d *tto)
    {
        __m256d tpx = _mm256_mul_pd(tv, px), tnx = _mm256_mul_pd(tv, nx);
        *ti = _mm256_add_pd(*ti, tpx);
        *to = _mm256_add_pd(*to, tnx);
        *tti = _mm256_fmadd_pd(tv, tpx, *tti);
        *tto = _mm256_fmadd_pd(tv, tnx, *tto);
    }
    #endif
    static inline __attribute__((always_inline)) void wf_scan_body(
        const double *src, double *cf, const double *w, int n, double *out, const double *ahead, const int dated,
        double *outw, const int both)
    {
        double first_pos = n, last_pos = -1.0, first_neg = n, last_neg = -1.0;
        double inflow = 0.0, outflow = 0.0, t_in = 0.0, t_out = 0.0, tt_in = 0.0, tt_out = 0.0;
        double w_in = 0.0, w_out = 0.0, ww_in = 0.0, ww_out = 0.0;
        double x, tw, lane[4];
        int t = 0;
    #if defined(__AVX2__) && defined(__FMA__)
        {
            const __m256d zero = _mm256_setzero_pd(), noise = _mm256_set1_pd(1e-9);
            const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
            const __m256d four = _mm256_set1_pd(4.0);
            __m256d tv = _mm256_set_pd(3.0, 2.0, 1.0, 0.0);
            __m256d in = zero, ou = zero, ti = zero, to = zero, tti = zero, tto = zero;
            __m256d wi = zero, wo = zero, wwi = zero, wwo = zero, wv;
            __m256d v, pos, neg, px, nx;
            int fp = -1, lp = -1, fn = -1, ln = -1, fpm = 0, lpm = 0, fnm = 0, lnm = 0, pm, nm;
            for (; t + 4 <= n; t += 4) {
                if (!dated)
                    __builtin_prefetch(ahead + t, 0, 3);
                v = _mm256_loadu_pd(src + t);
                if (dated)
                    tv = _mm256_loadu_pd(w + t);
                v = _mm256_andnot_pd(_mm256_cmp_pd(_mm256_and_pd(v, absmask), noise, _CMP_LE_OQ), v);
                _mm256_storeu_pd(cf + t, v);
                pos = _mm256_cmp_pd(v, zero, _CMP_GT_OQ);
                neg = _mm256_cmp_pd(v, zero, _CMP_LT_OQ);
                px = _mm256_and_pd(pos, v);
                nx = _mm256_and_pd(neg, _mm256_sub_pd(zero, v));
                in = _mm256_add_pd(in, px);
                ou = _mm256_add_pd(ou, nx);
                wf_moments(tv, px, nx, &ti, &to, &tti, &tto);
                if (both) {
                    wv = _mm256_loadu_pd(w + t);
                    wf_moments(wv, px, nx, &wi, &wo, &wwi, &wwo);
                }
                if (!dated)
                    tv = _mm256_add_pd(tv, four);
                pm = _mm256_movemask_pd(pos);
                nm = _mm256_movemask_pd(neg);
                if (pm) {
                    if (fp < 0) { fp = t; fpm = pm; }
                    lp = t; lpm = pm;
                }
                if (nm) {
                    if (fn < 0) { fn = t; fnm = nm; }
                    ln = t; lnm = nm;
                }
            }
            if (fp >= 0) {
                first_pos = fp + __builtin_ctz(fpm);
                last_pos = lp + 31 - __builtin_clz(lpm);
            }
            if (fn >= 0) {
                first_neg = fn + __builtin_ctz(fnm);
                last_neg = ln + 31 - __builtin_clz(lnm);
            }
            _mm256_storeu_pd(lane, in); inflow = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, ou); outflow = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, ti); t_in = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, to); t_out = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, tti); tt_in = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            _mm256_storeu_pd(lane, tto); tt_out = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            if (both) {
                _mm256_storeu_pd(lane, wi); w_in = (lane[0] + lane[1]) + (lane[2] + lane[3]);
                _mm256_storeu_pd(lane, wo); w_out = (lane[0] + lane[1]) + (lane[2] + lane[3]);
                _mm256_storeu_pd(lane, wwi); ww_in = (lane[0] + lane[1]) + (lane[2] + lane[3]);
                _mm256_storeu_pd(lane, wwo); ww_out = (lane[0] + lane[1]) + (lane[2] + lane[3]);
            }
        }
    #endif
        (void)lane; (void)ahead;
        for (; t < n; t++) {
            x = src[t];
            if (fabs(x) <= 1e-9)
                x = 0.0;
            cf[t] = x;
            tw = dated ? w[t] : (double)t;
            if (x > 0.0) {
                inflow += x;
                t_in += tw * x;
                tt_in += tw * tw * x;
                if (both) {
                    w_in += w[t] * x;
                    ww_in += w[t] * w[t] * x;
                }
                if (t < first_pos) first_pos = t;
                last_pos = t;
            } else if (x < 0.0) {
                outflow -= x;
                t_out -= tw * x;
                tt_out -= tw * tw * x;
                if (both) {
                    w_out -= w[t] * x;
                    ww_out -= w[t] * w[t] * x;
                }
                if (t < first_neg) first_neg = t;
                last_neg = t;
            }
        }
        out[0] = first_pos; out[1] = last_pos; out[2] = first_neg; out[3] = last_neg;
        out[4] = inflow; out[5] = outflow; out[6] = t_in; out[7] = t_out;
        out[8] = tt_in; out[9] = tt_out;
        if (both) {
            for (int i = 0; i < 6; i++)
                outw[i] = out[i];
            outw[6] = w_in; outw[7] = w_out; outw[8] = ww_in; outw[9] = ww_out;
        }
        (void)w_in; (void)w_out; (void)ww_in; (void)ww_out;
    }
    static void wf_scan_ahead(const double *src, double *cf, int n, double *out, const double *ahead)
    {
        wf_scan_body(src, cf, NULL, n, out, ahead, 0, NULL, 0);
    }
    /* wf_scan_ahead, and wf_scan_w's figures of the same flows by weights w into outw */
    static void wf_scan_both(const double *src, double *cf, const double *w, int n, double *out, double *outw,
                             const double *ahead)
    {
        wf_scan_body(src, cf, w, n, out, ahead, 0, outw, 1);
    }

    /* The pointer p, laundered: the compiler cannot see which function a call through it
       reaches, so the rare paths (acceleration, the workout) are never inlined into the
       period loop. */
    static inline void *wf_opaque(void *p)
    {
    #if defined(__GNUC__)
        __asm__("" : "+r"(p));
    #endif
        return p;
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
                                            const int64_t *mask, int W, int t, int n_components)
    {
        double x = 0.0;
        int c;
        for (c = 0; c < n_components; c++)
            if (mask[c])
                x += asset_value[c * W + t] * rows[c][t];
        return x;
    }

    /* The gain half of a dated NPV at x (flows_at's loop for side GAIN with the gap table):
       terms k on four chains j = k & 3, x^e_k = x^e_(k-4) mult[gap[k]] (the first four from
       exp), summing c x^e, e c x^e and e^2 c x^e per chain: the same operations in the same
       order as the scalar loop (no fused multiply-add), the four chains in one vector. */
    static void wf_dated_gain(const double *c, const double *years, const double *gap, int n,
                              double lx, const double *mult, double *out)
    {
        double P[4] = {0.0, 0.0, 0.0, 0.0}, A[4] = {0.0, 0.0, 0.0, 0.0};
        double B[4] = {0.0, 0.0, 0.0, 0.0}, C[4] = {0.0, 0.0, 0.0, 0.0}, e, term;
        int k = 0, j;
        for (; k < 4 && k < n; k++) {
            e = years[k];
            P[k] = exp(e * lx);
            term = c[k] * P[k];
            A[k] += term;
            B[k] += e * term;
            C[k] += e * e * term;
        }
    #if defined(__AVX2__) && defined(__FMA__)
        {
            __m256d p = _mm256_loadu_pd(P), a = _mm256_loadu_pd(A), b = _mm256_loadu_pd(B);
            __m256d cc = _mm256_loadu_pd(C), ev, t;
            for (; k + 4 <= n; k += 4) {
                __m128i idx = _mm256_cvttpd_epi32(_mm256_loadu_pd(gap + k));
                p = _mm256_mul_pd(p, _mm256_i32gather_pd(mult, idx, 8));
                ev = _mm256_loadu_pd(years + k);
                t = _mm256_mul_pd(_mm256_loadu_pd(c + k), p);
                a = _mm256_add_pd(a, t);
                b = _mm256_add_pd(b, _mm256_mul_pd(ev, t));
                cc = _mm256_add_pd(cc, _mm256_mul_pd(_mm256_mul_pd(ev, ev), t));
            }
            _mm256_storeu_pd(P, p); _mm256_storeu_pd(A, a); _mm256_storeu_pd(B, b); _mm256_storeu_pd(C, cc);
        }
    #endif
        for (; k < n; k++) {
            j = k & 3;
            e = years[k];
            P[j] *= mult[(int)gap[k]];
            term = c[k] * P[j];
            A[j] += term;
            B[j] += e * term;
            C[j] += e * e * term;
        }
        out[0] = (A[0] + A[1]) + (A[2] + A[3]);
        out[1] = (B[0] + B[1]) + (B[2] + B[3]);
        out[2] = (C[0] + C[1]) + (C[2] + C[3]);
    }

    /* wf_scan with weights w[i] (a dated IRR's years) in place of t: zero the noise in
       place; out[0..3] first/last index with a positive and with a negative flow (n or -1),
       out[4..9] inflow, outflow and their sums weighted by w and w^2 (irr.initial_v). */
    static void wf_scan_w(double *cf, const double *w, int n, double *out)
    {
        wf_scan_body(cf, cf, w, n, out, cf, 1, NULL, 0);
    }
    """
    double WF_MULADD(double a, double b, double c) noexcept nogil
    double wf_collateral(const double *asset_value, double **rows, const int64_t *mask, int W, int t, int n_components) noexcept nogil
    void wf_scan(double *cf, int n, double *out) noexcept nogil
    void wf_scan_copy(const double *src, double *cf, int n, double *out) noexcept nogil
    void wf_scan_ahead(const double *src, double *cf, int n, double *out, const double *ahead) noexcept nogil
    void *wf_opaque(void *p) noexcept nogil
    void wf_npv3(const double *cf, int n, double v, double *f, double *f1, double *f2) noexcept nogil
    void wf_npv_grid(const double *cf, int n, const double *v, double *out) noexcept nogil  # N_GRID = 24 points
    double wf_npv1(const double *cf, int n, double v) noexcept nogil
    void wf_dated_gain(const double *c, const double *years, const double *gap, int n, double lx, const double *mult, double *out) noexcept nogil
    void wf_scan_w(double *cf, const double *w, int n, double *out) noexcept nogil
    void wf_scan_both(const double *src, double *cf, const double *w, int n, double *out, double *outw,
                      const double *ahead) noexcept nogil

include "_layout.pxi"  # opcodes, channels, ledger lines, metrics: generated by setup.py

cdef enum:
    N_GRID = 24      # points of each half's grid (irr.U_GRID, irr.V_GRID)
    MAX_NEWTON = 60
    MAX_BRACKET = 200
    LOSS = 0
    GAIN = 1
    MAX_GAPS = 48    # a dated IRR's table of x^(gap / 365) over at most this many gap lengths
    XIRR_CHAINS = 4  # interleaved chains of the dated NPV (terms 4m + j; j = k & 3)
cdef double TOL_V = 1e-15
cdef double TOL_STEP = 1e-9
cdef double V_MIN = 5.56268464626801e-309   # irr.V_MIN: the smallest v with a finite 1/v - 1
cdef double X_TINY = 5e-324                 # irr.X_TINY: the smallest positive double, 2^-1074
cdef double NOISE = 1e-9

cdef double U_GRID[24]
cdef double V_GRID[24]
U_GRID[:] = [0.0, 1e-6, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8,
             0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998]
V_GRID[:] = [0.0] + [1.0 / (1.0 + r) for r in (
    1e6, 1000.0, 100.0, 30.0, 10.0, 5.0, 3.0, 2.0, 1.5, 1.0, 0.75, 0.5, 0.3, 0.2, 0.15, 0.1,
    0.075, 0.05, 0.03, 0.02, 0.01, 0.005, 0.002)]


ctypedef struct TState:
    double balance
    double int_due
    double prin_due       # principal due this period
    double paid           # principal paid this period
    double int_paid
    double repaid         # sum of principal over life (WAL)
    double repaid_t       # sum of t x principal
    double scheduled      # principal due without balloon
    # enforcement (reference._State's per-tranche lists)
    double arrears        # interest due and unpaid since the acceleration (workout interest on it)
    double claim          # what the tranche was owed at the acceleration
    double received       # what it received from the acceleration period on (advances negative)
    double pv             # the same at the contract rate, discounted to the acceleration period
    double discount       # that discount factor, moved on once a workout period
    int64_t maturity      # this scenario's (a refinancing moves it)
    int64_t matured       # the maturity a refinancing moved on from (-1: none)
    int64_t ext_left      # extension options left
    # an option exercised this period, until its conditions are met (reference._maturity_cure)
    int64_t ext_at        # the period it was exercised (-1: none pending)
    double ext_loan       # the refinancing on offer without it (0: none; -1: not sized yet, ext_undo sizes it)
    double ext_short      # what that leaves of the balloon
    double ext_ods        # the others' debt service that refinancing was sized beside
    double ext_balloon    # what refi_size sizes it from: the balloon, the other tranches' balances,
    double ext_other      # the appraisal
    double ext_value
    double ext_pay        # the option's paydown
    double ext_int        # the cash interest due before its fee
    double ext_line       # the interest-due line before its fee


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
    double *flow_years  # [T+1] ACT/365F years from financial close to each payment date (XIRR)
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
    double *acct_target        # [A, T+1] a fixed reserve's target by period
    double *acct_last_weight   # [A] weight of a DSRA window's last period (target in months)
    double *acct_rate          # [A, T+1] interest earned on a reserve's opening balance for the period
    double *acct_lc            # [A, T+1] face of the letter of credit backing a DSRA (0: none)
    int64_t *acct_mask     # [A, K]
    double *fee_due     # [F, T+1]
    int64_t *step_op
    int64_t *step_arg
    double *step_share
    double *step_share_locked
    double lock_up_dscr
    double default_dscr
    int cure_periods
    int lock_up_basis        # credit_terms.DSCR_BASIS: 0 point, 1 trailing 12 months, 2 forward 12 months
    int default_basis
    int dscr_window          # periods in 12 months
    double hedge_ratio_min   # hedge-ratio covenant (-1: none), its periods, 1: a breach accelerates
    int hedge_ratio_from
    int hedge_ratio_to
    int hedge_ratio_accelerates
    double *asset_value  # [N_COMPONENTS, T+1]
    double fire_sale
    double cost_share
    double cost_fixed
    double *refi_spread
    double *refi_floor
    int64_t *refi_periods
    double *refi_min_dscr
    double *refi_max_ltv
    double *refi_min_dy
    int64_t *refi_rate_kind   # 0 floating, 1 fixed
    double *refi_fixed
    int64_t *refi_profile     # 0 straight-line, 1 level payment, 2 sculpted
    int64_t *ext_options
    int64_t *ext_periods
    double *ext_fee
    double *ext_step
    double *ext_min_dscr
    double *ext_max_ltv
    double *ext_min_dy
    double *bb_advance
    int64_t *bb_mask     # [K, N_COMPONENTS]
    double rvg_cap
    int rvg_until
    double exit_share
    # events, the workout and the valuation (waterfall/workout.py, credit_terms.py)
    double *market_rent  # [T+1]
    double *round_to     # [K] interest rounded to a multiple of this (0 = none): level_payment.money
    double *periods_a_year  # [T+1] annualises a period's flow (a stub: by its share of a period)
    int support_kind
    double support_cap
    int breach_accelerates
    int accelerate_after
    int cure_max
    double cure_max_amount   # -1: no cap
    int cure_until
    int tenant_accelerates
    int cross_accelerates
    int sale_periods
    int sale_rule            # 0 stated; 1 best execution (best_sale)
    double workout_cost
    double default_margin
    int val_method
    double val_discount
    double exit_cap
    double relet_periods     # the dark value's discount exponent (an int, as a double for pow)
    double reletting_cost
    double replacement_floor
    double exit_value_share  # the appraisal's residual: the exit's gross value, a share of DRC (0: none)
    int llcr_end             # last period of the LLCR (the latest notional maturity)
    int llcr_dsra            # 1: the LLCR adds the DSRA balances
    int llcr_dates_end       # last LLCR calculation date (the latest legal maturity)
    # owner-level taxes (waterfall/taxes.py)
    int tax_on
    double tax_rate
    int tax_interest         # 1: cash interest paid is deductible
    int tax_offset           # 1: a loss is used at once; 0: carried forward
    double tax_nol_limit
    double tax_basis
    double *tax_depreciation  # [T+1]
    # interest-rate hedges (waterfall/hedges.py)
    int H
    int64_t *hedge_kind      # [H] 0 swap, 1 cap
    int64_t *hedge_tranche   # [H]
    double *hedge_rate       # [H] fixed rate or strike
    double *hedge_notional   # [H, T+1]
    double *hedge_accrual    # [H, T+1]
    int hedge0               # first ledger column of the hedge blocks
    int n_claim_ranks
    int *claim_order         # [K + H] claimants by (rank, tranches then hedges, index); >= K: hedge
    int *claim_start         # [n_claim_ranks + 1]
    int n_lines
    # derived in run_batch (scenario-independent, read-only, shared by threads)
    double *ones          # [T+1] factor row of a multiplicative channel a scenario does not touch
    double *zeros         # [T+1] the same for an additive channel (ops.ADDITIVE_CHANNELS)
    double *no_draw       # [K, T+1] zeros: the draws once the lenders have accelerated (commitments cancelled)
    unsigned char additive[N_CHANNELS]  # 1: the channel starts at 0 and adds, else 1 and multiplies
    int support_capped    # credit_terms.SUPPORT_KIND's codes
    int support_unlimited
    double cause_payment  # workout.CAUSE's codes, as the steps' event-of-default flag carries them
    double cause_covenant
    double cause_tenant
    double cause_cross_default
    double cause_borrowing_base
    double cause_maturity
    int n_ranks
    int *rank_order       # [K] tranches by (rank, index)
    int *rank_start       # [n_ranks + 1] each rank's first position in rank_order
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
    unsigned char *dsra_hedged  # [A] 1: a DSRA covering a tranche with a hedge (its target counts the hedges)
    # speed (docs/speed.md): facts constant per program, found once per batch
    double *flow_gap4     # [T+1] the XIRR's gap table index per period (irr_dated), NULL: none
    int gap_min           # shortest and longest gap in days between payment dates four apart
    int gap_max
    unsigned char *dsra_window8  # [A] 1: a DSRA whose target dsra_target_window can sum in O(1)
    unsigned char *dsra_cov8     # [K] 1: a tranche such a DSRA covers (its prefix sums are built)
    bint any_dsra_window
    bint any_acct_rate    # some account earns interest in some period
    int *dscr_k           # [n_dscr] the covenant tranches (dscr8), ascending
    int n_dscr


ctypedef struct Run:
    # A scenario's enforcement state and what its cold functions (accelerate_*, workout_*)
    # read and return; they are called through an opaque pointer (call_cold), never inlined
    # into the period loop. Set once per scenario:
    const Prog *p
    double *L             # ledger [T+1, lines] (the ledger specialisation only)
    TState *ts
    double *reserve
    double **fch          # factor rows by channel
    double **prr          # per-period rate rows
    double *to_int        # [K] scratch of allocate
    double *to_prin       # [K]
    double *index         # [T+1] the hedges' index under the scenario (base + rate add-on)
    double *hdue          # [H] hedge settlements due in cash this period
    double *hpay          # [H] paid by the hedge steps this period (signed)
    double *hclaim        # [H] termination amounts owed to the banks
    double *to_hedge      # [H] scratch of allocate
    # the state (reference._State's events and workout)
    int accel             # period the lenders accelerated (-1: not)
    int sale_at
    int end               # period of the final recovery (-1: none)
    bint in_workout
    double cause          # cause of the (last) acceleration, 0: none
    # one call's inputs and outputs
    int t
    double cash
    double unpaid
    double exit_proceeds
    double cfads
    double lcf_t          # lenders' cash flow of the period so far
    double equity_out     # distribution to equity of the period so far


ctypedef bint (*ColdFn)(Run *r) noexcept nogil


# ----------------------------------------------------------------------------- IRR
# Twin of waterfall/irr.py (see its docstring): every root in r in (-1, +inf), searched in
# the loss half (u = 1 + r, q(u) = sum c_i u^(e_i) with e_i = tau_N - tau_i) and the gain
# half (v = 1/(1+r), p(v) = sum c_i v^(e_i) with e_i = tau_i - tau_0), both on [0, 1].
ctypedef struct Flows:
    const double *c      # c_0 .. c_N: first to last non-zero flow
    const double *rev    # periodic: c reversed (the loss half's polynomial)
    const double *years  # dated: ACT/365F years from the first flow's date
    const double *gap    # dated: days from the flow four before, less gmin (the table's index)
    int n                # N + 1
    bint dated
    int gmin             # dated: shortest and longest gap in days between flows four apart
    int gmax             # (gmax - gmin >= MAX_GAPS: no table, one exp a term)


cdef void flows_at(const Flows *fl, int side, double x, bint deriv, double *f, double *f1,
                   double *f2) noexcept nogil:
    """Twin of irr._Flows.at: (f, f', f'') of a half at x in [0, 1]."""
    cdef const double *coef
    cdef double lx, term, e, q, a = 0.0, b = 0.0, c2 = 0.0
    cdef double mult[MAX_GAPS]
    cdef double pj[XIRR_CHAINS]
    cdef double aj[XIRR_CHAINS]
    cdef double bj[XIRR_CHAINS]
    cdef double cj[XIRR_CHAINS]
    cdef int i, j, k, g
    cdef bint table
    f1[0] = 0.0
    f2[0] = 0.0
    if x == 0.0:
        f[0] = fl.c[fl.n - 1] if side == LOSS else fl.c[0]
        return
    if not fl.dated:
        coef = fl.rev if side == LOSS else fl.c
        if deriv:
            wf_npv3(coef, fl.n, x, f, f1, f2)
        else:
            f[0] = wf_npv1(coef, fl.n, x)
        return
    # sum c_i x^e_i with e_i = years from the half's end, on four interleaved chains (terms
    # i = 4m + j): x^e_i = x^e_(i-4) x^(g/365), g the days between flows four apart, from a
    # table over the few distinct g (one exp a term without it)
    lx = log(x)
    table = fl.gmax - fl.gmin < MAX_GAPS
    if table:
        q = exp(lx / 365.0)
        mult[0] = exp(fl.gmin * lx / 365.0)
        for g in range(1, fl.gmax - fl.gmin + 1):
            mult[g] = mult[g - 1] * q
    if side == GAIN and table:
        wf_dated_gain(fl.c, fl.years, fl.gap, fl.n, lx, mult, pj)
        f[0] = pj[0]
        f1[0] = pj[1] / x
        f2[0] = (pj[2] - pj[1]) / x / x
        return
    for j in range(XIRR_CHAINS):
        pj[j] = 0.0
        aj[j] = 0.0
        bj[j] = 0.0
        cj[j] = 0.0
    for k in range(fl.n):
        i = fl.n - 1 - k if side == LOSS else k
        j = k & 3
        e = fl.years[fl.n - 1] - fl.years[i] if side == LOSS else fl.years[i]
        if k < 4 or not table:
            pj[j] = exp(e * lx)
        else:
            pj[j] *= mult[<int>fl.gap[i + 4 if side == LOSS else i]]
        term = fl.c[i] * pj[j]
        aj[j] += term
        bj[j] += e * term
        cj[j] += e * e * term
    a = (aj[0] + aj[1]) + (aj[2] + aj[3])
    b = (bj[0] + bj[1]) + (bj[2] + bj[3])
    c2 = (cj[0] + cj[1]) + (cj[2] + cj[3])
    f[0] = a
    f1[0] = b / x
    f2[0] = (c2 - b) / x / x


cdef inline double rate_of(int side, double x) noexcept nogil:
    """Twin of irr.rate_of: +inf at v = 0 (1/0 under cdivision) or where 1/v overflows."""
    return x - 1.0 if side == LOSS else 1.0 / x - 1.0


cdef inline double reported(double r) noexcept nogil:
    """Twin of irr.reported: NaN for a root beyond the largest double (+-inf), the
    spreadsheet's #NUM!; applied to every IRR the solvers hand out, never inside the
    search (the root choice sees +inf as the largest rate)."""
    return r if isfinite(r) else NAN


cdef inline double pick(const Flows *fl, int side, double x, int which) noexcept nogil:
    cdef double f, f1, f2
    flows_at(fl, side, x, which == 1, &f, &f1, &f2)
    return f if which == 0 else f1


cdef double bisect_x(const Flows *fl, int side, double lo, double hi, double f_lo, double f_hi,
                     int which) noexcept nogil:
    """Twin of irr._bisect: Illinois false position on [lo, hi] for the half's f
    (which = 0) or its slope (which = 1), to machine precision relative to x; unconverged
    after MAX_BRACKET steps, bisection in log x from the bracket reached (log_bisect)."""
    cdef double x = lo, f_x
    cdef int i, side_ = 0
    for i in range(MAX_BRACKET):
        x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not (lo < x and x < hi):
            x = 0.5 * (lo + hi)
        f_x = pick(fl, side, x, which)
        if f_x == 0.0 or hi - lo <= TOL_V * x:
            return x
        if (f_x > 0.0) == (f_lo > 0.0):
            lo = x
            f_lo = f_x
            if side_ == 1:
                f_hi *= 0.5
            side_ = 1
        else:
            hi = x
            f_hi = f_x
            if side_ == -1:
                f_lo *= 0.5
            side_ = -1
    return log_bisect(fl, side, lo, hi, f_lo, which)


cdef double log_bisect(const Flows *fl, int side, double lo, double hi, double f_lo,
                       int which) noexcept nogil:
    """Twin of irr._log_bisect: bisection in log x on [lo, hi] (an end at 0 counts as
    X_TINY), the arithmetic midpoint once the geometric one rounds to an end; converged as
    Illinois (or adjacent doubles: hi); NaN, no root found, past MAX_BRACKET steps."""
    cdef double x, f_x
    cdef int i
    for i in range(MAX_BRACKET):
        x = sqrt(lo if lo > X_TINY else X_TINY) * sqrt(hi)
        if not (lo < x and x < hi):
            x = 0.5 * (lo + hi)
            if not (lo < x and x < hi):
                return hi
        f_x = pick(fl, side, x, which)
        if f_x == 0.0:
            return x
        if (f_x > 0.0) == (f_lo > 0.0):
            lo = x
            f_lo = f_x
        else:
            hi = x
        if hi - lo <= TOL_V * x:
            return x
    return NAN


cdef inline double start_in(int side, double v0) noexcept nogil:
    """Twin of irr._start."""
    cdef double x = 1.0 / v0 if side == LOSS else v0
    return x if (0.0 < x and x < 1.0) else 0.5


cdef double halley(const Flows *fl, int side, double total, double x) noexcept nogil:
    """Twin of irr._halley: the one root of a half whose ends differ in sign."""
    cdef int it
    cdef double lo = 0.0, hi = 1.0, f_lo, f_hi = total, f, f1, f2, d, q, x_new
    f_lo = fl.c[fl.n - 1] if side == LOSS else fl.c[0]
    for it in range(MAX_NEWTON):
        flows_at(fl, side, x, True, &f, &f1, &f2)
        if f == 0.0:
            return rate_of(side, x)
        if (f > 0.0) == (f_lo > 0.0):
            lo = x
            f_lo = f
        else:
            hi = x
            f_hi = f
        x_new = NAN
        if f1 != 0.0:
            d = f / f1
            q = d * f2 / (2.0 * f1)
            if fabs(q) <= 0.5:
                d = d / (1.0 - q)
            x_new = x - d
        if fabs(x_new - x) <= TOL_STEP * x:  # (false for NaN)
            return rate_of(side, x_new)
        if not (lo < x_new and x_new < hi):
            x = 0.5 * (lo + hi)
            continue
        x = x_new
    return last_bracket(fl, side, lo, hi, f_lo, f_hi)


cdef double last_bracket(const Flows *fl, int side, double lo, double hi, double f_lo,
                         double f_hi) noexcept nogil:
    """Twin of irr._last_bracket: the rate of the root left in [lo, hi] after MAX_NEWTON
    passes (Illinois, then bisection in log v where it creeps: converged or NaN), a
    gain-half bracket first cut at V_MIN (+inf: the root is below it)."""
    cdef double f_min
    if side == GAIN and lo < V_MIN:
        if hi <= V_MIN:
            return INFINITY
        f_min = pick(fl, GAIN, V_MIN, 0)
        if f_min == 0.0:
            return rate_of(GAIN, V_MIN)
        if (f_min > 0.0) != (f_lo > 0.0):
            return INFINITY
        lo = V_MIN
        f_lo = f_min
    return rate_of(side, bisect_x(fl, side, lo, hi, f_lo, f_hi, 0))


cdef double single_root(const Flows *fl, double total, double v0) noexcept nogil:
    """Twin of irr._single_root."""
    cdef int side
    if total == 0.0:
        return 0.0
    side = LOSS if (total > 0.0) == (fl.c[0] > 0.0) else GAIN
    return reported(halley(fl, side, total, start_in(side, v0)))


cdef int split_at_extremum(const Flows *fl, int side, double lo, double hi, double f_lo,
                           double f_hi, double *out) noexcept nogil:
    """Twin of irr._split_at_extremum: the roots (0, 1 or 2) written to out."""
    cdef double s_lo = pick(fl, side, lo, 1), s_hi = pick(fl, side, hi, 1), xm, fm
    cdef bint up = f_lo > 0.0
    if not ((s_lo < 0.0 and 0.0 < s_hi) if up else (s_lo > 0.0 and 0.0 > s_hi)):
        return 0
    xm = bisect_x(fl, side, lo, hi, s_lo, s_hi, 1)
    if isnan(xm):   # no extremum found
        return 0
    fm = pick(fl, side, xm, 0)
    if fm == 0.0:
        out[0] = xm
        return 1
    if (fm > 0.0) == up:
        return 0
    out[0] = bisect_x(fl, side, lo, xm, f_lo, fm, 0)
    out[1] = bisect_x(fl, side, xm, hi, fm, f_hi, 0)
    return 2


cdef double half_root(const Flows *fl, int side, int bound, double total, double v0) noexcept nogil:
    """Twin of irr._half_roots, reduced by the rule: the smallest root of the gain half,
    or the largest of the loss half (the root closest to r = 0 either way); NaN for none."""
    cdef double xs[N_GRID + 1]
    cdef double fs[N_GRID + 1]
    cdef double two[2]
    cdef double best = NAN, edge, lo, hi, f_lo, f_hi, r
    cdef const double *grid = &U_GRID[0] if side == LOSS else &V_GRID[0]
    cdef int i, m, k, found = 0
    edge = fl.c[fl.n - 1] if side == LOSS else fl.c[0]
    if bound == 0 or (bound == 1 and ((edge > 0.0) == (total > 0.0))):
        return NAN
    if bound == 1:
        return halley(fl, side, total, start_in(side, v0))
    for i in range(N_GRID):
        xs[i] = grid[i]
    xs[N_GRID] = 1.0
    if fl.dated:
        for i in range(N_GRID):
            fs[i] = pick(fl, side, grid[i], 0)
    else:
        wf_npv_grid(fl.rev if side == LOSS else fl.c, fl.n, grid, fs)
    fs[0] = edge
    fs[N_GRID] = total
    for i in range(N_GRID):
        lo = xs[i]; hi = xs[i + 1]; f_lo = fs[i]; f_hi = fs[i + 1]
        r = NAN
        if f_lo == 0.0 and lo > 0.0:
            r = rate_of(side, lo)
        elif f_lo != 0.0 and f_hi != 0.0 and ((f_lo > 0.0) != (f_hi > 0.0)):
            r = rate_of(side, bisect_x(fl, side, lo, hi, f_lo, f_hi, 0))
        if not isnan(r):
            found += 1
            if isnan(best) or (r < best if side == GAIN else r > best):
                best = r
    if found < bound:
        for i in range(N_GRID):
            lo = xs[i]; hi = xs[i + 1]; f_lo = fs[i]; f_hi = fs[i + 1]
            if f_lo != 0.0 and f_hi != 0.0 and ((f_lo > 0.0) == (f_hi > 0.0)):
                m = split_at_extremum(fl, side, lo, hi, f_lo, f_hi, two)
                for k in range(m):
                    r = rate_of(side, two[k])
                    if isnan(r):   # a refinement that found none
                        continue
                    if isnan(best) or (r < best if side == GAIN else r > best):
                        best = r
    return best


cdef inline int count_changes(const double *c, int n) noexcept nogil:
    cdef int i, changes = 0
    cdef double last = 0.0
    for i in range(n):
        if c[i] != 0.0:
            if last != 0.0 and ((c[i] > 0.0) != (last > 0.0)):
                changes += 1
            last = c[i]
    return changes


cdef inline int sum_change(double total, double tol, double *last) noexcept nogil:
    """One partial sum's count in irr.partial_sum_changes: 1 where it is zero (to `tol`) or
    has the other sign from the last non-zero one (*last, moved on to it)."""
    cdef int out = 0
    if fabs(total) <= tol:
        return 1
    if last[0] != 0.0 and ((total > 0.0) != (last[0] > 0.0)):
        out = 1
    last[0] = total
    return out


cdef int partial_changes(const double *c, int n, int backward, double tol) noexcept nogil:
    """Twin of irr.partial_sum_changes (one direction)."""
    cdef int i, out = 0
    cdef double total = 0.0, last = 0.0
    for i in range(n):
        total += c[n - 1 - i] if backward else c[i]
        out += sum_change(total, tol, &last)
    return out


cdef int gain_changes(const double *c, int n, double *sums, double *size_out) noexcept nogil:
    """partial_changes(c, n, 0, 1e-12 sum |c|) with the flows' size and their partial sums
    in one pass (two independent chains: half the latency of one sum after the other),
    the partial sums kept in sums[0..n) and counted after: the same sums in the same
    order, the same count. *size_out = sum |c| (in chosen_root's order)."""
    cdef int i, out = 0
    cdef double size = 0.0, total = 0.0, last = 0.0, tol
    for i in range(n):
        size += fabs(c[i])
        total += c[i]
        sums[i] = total
    size_out[0] = size
    tol = 1e-12 * size
    for i in range(n):
        out += sum_change(sums[i], tol, &last)
    return out


cdef double chosen_root(const Flows *fl, double total, double v0, double *sums=NULL) noexcept nogil:
    """Twin of irr._chosen_root. `sums`, where given, holds fl.n doubles of scratch for
    the gain half's bound (gain_changes)."""
    cdef double size = 0.0, tol, r
    cdef int i, bound
    if total == 0.0:
        return 0.0
    if sums != NULL:
        bound = gain_changes(fl.c, fl.n, sums, &size)
    else:
        for i in range(fl.n):
            size += fabs(fl.c[i])
        bound = partial_changes(fl.c, fl.n, 0, 1e-12 * size)
    r = half_root(fl, GAIN, bound, total, v0)
    if not isnan(r):
        return reported(r)
    tol = 1e-12 * size
    return reported(half_root(fl, LOSS, partial_changes(fl.c, fl.n, 1, tol), total, v0))


cdef double start_v(double inflow, double outflow, double t_in, double t_out, double tt_in,
                    double tt_out) noexcept nogil:
    """Twin of irr._estimate (irr.initial_v's), from the sums of the flows in and out, and of
    t and t^2 times them."""
    cdef double mean_in, mean_out, gap, c, a, disc, delta, ratio
    if inflow <= 0.0 or outflow <= 0.0:
        return 1.0
    mean_in = t_in / inflow
    mean_out = t_out / outflow
    gap = mean_in - mean_out
    if gap == 0.0:
        return 1.0
    ratio = inflow / outflow
    c = log(ratio) if (DBL_MIN <= ratio and ratio <= DBL_MAX) else log(inflow) - log(outflow)
    a = 0.5 * ((tt_in / inflow - mean_in * mean_in) - (tt_out / outflow - mean_out * mean_out))
    delta = c / gap
    disc = gap * gap - 4.0 * a * c
    if disc >= 0.0:
        delta = 2.0 * c / (gap + sqrt(disc) if gap > 0.0 else gap - sqrt(disc))
    if -delta > 700.0:
        return INFINITY
    return exp(-delta)


cdef double start_of(const double *cf, const double *years, int n, const double *st) noexcept nogil:
    """Twin of irr.initial_v: start_v of wf_scan's sums st[4..9] (wf_scan_w's, years not
    NULL: the flows' times); where one overflowed (1e308 forty periods out), the sums of the
    flows cf[0..n) times 2^-e, the largest then in [0.5, 1) (irr._moments, in its order)."""
    cdef double s[6]
    cdef double big = 0.0, scale, t, x
    cdef int i, e
    if (isfinite(st[4]) and isfinite(st[5]) and isfinite(st[6]) and isfinite(st[7])
            and isfinite(st[8]) and isfinite(st[9])):
        return start_v(st[4], st[5], st[6], st[7], st[8], st[9])
    for i in range(n):
        if fabs(cf[i]) > big:
            big = fabs(cf[i])
    frexp(big, &e)
    scale = ldexp(1.0, -e)
    for i in range(6):
        s[i] = 0.0
    for i in range(n):
        t = <double>i if years == NULL else years[i]
        x = cf[i] * scale
        if x > 0.0:
            s[0] += x
            s[2] += t * x
            s[4] += t * t * x
        elif x < 0.0:
            s[1] -= x
            s[3] -= t * x
            s[5] -= t * t * x
    return start_v(s[0], s[1], s[2], s[3], s[4], s[5])


cdef double irr_periodic(double *cf, int n, double *work) noexcept nogil:
    """Periodic IRR (see waterfall/irr.py); NaN where there is no root. Flows of
    magnitude <= 1e-9 are rounding noise and are zeroed in place first. The number of
    sign changes (0, 1 or more) follows from where the positive and negative flows lie:
    one change exactly when all of one sign come before all of the other. `work` holds
    2n doubles (the reversed flows, the partial sums)."""
    cdef double st[10]
    wf_scan(cf, n, st)
    return irr_scanned(cf, n, work, st)


cdef double irr_scanned(double *cf, int n, double *work, const double *st) noexcept nogil:
    """irr_periodic once wf_scan has zeroed the noise of cf and written st."""
    cdef Flows fl
    cdef int first, last, i
    if st[1] < 0.0 or st[3] < 0.0:
        return NAN  # no sign change
    first = <int>(st[0] if st[0] < st[2] else st[2])
    last = <int>(st[1] if st[1] > st[3] else st[3])
    fl.c = cf + first
    fl.n = last - first + 1
    fl.dated = False
    fl.rev = work
    if (st[3] < st[0] or st[1] < st[2]) and (st[4] - st[5] == 0.0 or (
            (st[4] - st[5] > 0.0) != (fl.c[0] > 0.0))):
        # one sign change, its root in the gain half (single_root): the reversed flows unread
        return single_root(&fl, st[4] - st[5], start_of(cf, NULL, n, st))
    for i in range(fl.n):
        work[i] = fl.c[fl.n - 1 - i]
    if st[3] < st[0] or st[1] < st[2]:  # one sign change
        return single_root(&fl, st[4] - st[5], start_of(cf, NULL, n, st))
    return chosen_root(&fl, st[4] - st[5], start_of(cf, NULL, n, st), work + n)


cdef double irr_dated(double *cf, const double *years, int n, double *work, double guess_v,
                      const double *gap4=NULL, int gap_min=0, int gap_max=0) noexcept nogil:
    """Twin of irr.xirr: annual IRR of flows at `years` (ACT/365F from the first date);
    NaN where there is no root. Noise is zeroed in place; `work` holds 2n doubles;
    guess_v = 1/(1 + guess) starts the iteration (0 or NaN: irr.initial_v's estimate).
    `gap4`, where given, is the gap table's index of every flow (from a program's payment
    dates, once per batch: days from the flow four before, less gap_min, the shortest such
    gap; gap_max the longest): the table then spans the program's gaps. NULL: worked out
    here, over the flows' own span."""
    cdef double st[10]
    wf_scan_w(cf, years, n, st)   # noise zeroed; where the positive and negative flows lie
    return irr_dated_scanned(cf, years, n, work, guess_v, gap4, gap_min, gap_max, st)


cdef double irr_dated_scanned(double *cf, const double *years, int n, double *work, double guess_v,
                              const double *gap4, int gap_min, int gap_max, const double *st) noexcept nogil:
    """irr_dated once wf_scan_w has zeroed the noise of cf and written st."""
    cdef double x, total, d, v0
    cdef int i, g, first, last, changes
    cdef Flows fl
    if st[1] < 0.0 or st[3] < 0.0:
        return NAN  # no sign change (or no flow at all)
    first = <int>(st[0] if st[0] < st[2] else st[2])
    last = <int>(st[1] if st[1] > st[3] else st[3])
    changes = 1 if (st[3] < st[0] or st[1] < st[2]) else 2   # 2: two or more
    fl.c = cf + first
    fl.n = last - first + 1
    fl.dated = True
    fl.rev = NULL
    fl.gmin = 1 << 30
    fl.gmax = -(1 << 30)
    if gap4 != NULL:   # the program's gap table
        if years[first] != 0.0:   # (from a first flow at year 0 the years are their own offsets)
            for i in range(fl.n):
                work[i] = years[first + i] - years[first]
        fl.gmin = gap_min
        fl.gmax = gap_max
    else:
      for i in range(fl.n):  # work[n + i]: days from the first flow, then the 4-gap's table index
        work[i] = years[first + i] - years[first]
        x = work[i] * 365.0
        d = floor(x + 0.5)
        if fabs(x - d) > 1e-6:  # not whole days: no gap table
            fl.gmin = 0
            fl.gmax = MAX_GAPS
        work[n + i] = d
        if i >= 4 and fl.gmax - fl.gmin < MAX_GAPS:
            g = <int>(d - work[n + i - 4])
            if g < fl.gmin:
                fl.gmin = g
            if g > fl.gmax:
                fl.gmax = g
    fl.years = work
    if gap4 != NULL:
        if years[first] == 0.0:
            fl.years = years + first
        fl.gap = gap4 + first
    else:
        if fl.gmax - fl.gmin < MAX_GAPS:
            for i in range(fl.n - 1, 3, -1):
                work[n + i] = work[n + i] - work[n + i - 4] - fl.gmin
        fl.gap = work + n
    if guess_v > 0.0 and isfinite(guess_v):
        v0 = guess_v
    else:
        v0 = start_of(cf, years, n, st)
    total = st[4] - st[5]
    if changes == 1:
        return single_root(&fl, total, v0)
    return chosen_root(&fl, total, v0)


include "_irr_lanes.pxi"  # irr_periodic4: four vectors in AVX2 lanes (issue 16)


cdef inline double money(double x, double inc) noexcept nogil:
    """Twin of level_payment.money: x to the nearest multiple of inc, half away from zero
    (a quotient within ROUND_TIE below a half rounds up); x itself where inc is 0."""
    cdef double q, r
    if inc <= 0.0:
        return x
    q = x / inc
    r = floor(fabs(q) + 0.5 + ROUND_TIE)
    return (r if q >= 0.0 else -r) * inc


cdef enum:
    IRR_STACK = 512    # irr(): flows up to this many are copied to the stack
_F64 = np.dtype(np.float64)


cdef inline double annualise(double r, double periods_per_year) noexcept nogil:
    """Twin of irr.annualise: (1 + r)^periods_per_year - 1, NaN where it overflows."""
    if isnan(r):
        return NAN
    return reported(pow(1.0 + r, periods_per_year) - 1.0)


def irr(cash_flows):
    """Periodic IRR of a 1-D float array (NaN where there is no root)."""
    cdef double buf[3 * IRR_STACK]   # the flows, then irr_periodic's work (2n)
    cdef double st[10]
    cdef const double *src
    cdef double out
    cdef Py_ssize_t n
    cdef cnp.ndarray arr
    if (type(cash_flows) is np.ndarray and (<cnp.ndarray>cash_flows).ndim == 1
            and (<cnp.ndarray>cash_flows).dtype is _F64 and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>cash_flows)
            and 0 < (<cnp.ndarray>cash_flows).shape[0] <= IRR_STACK):
        # a float64 vector: copied to the stack (noise is zeroed in place), no array made
        arr = <cnp.ndarray>cash_flows
        n = arr.shape[0]
        src = <const double *>cnp.PyArray_DATA(arr)
        with nogil:
            wf_scan_copy(src, buf, <int>n, st)
            out = irr_scanned(buf, <int>n, buf + n, st)
        return out
    cdef double[::1] cf = np.array(cash_flows, dtype=np.float64)  # a copy: noise is zeroed in place
    cdef double *work
    if cf.shape[0] == 0:
        return NAN
    work = <double *>malloc(2 * cf.shape[0] * sizeof(double))
    if work == NULL:
        raise MemoryError()
    with nogil:
        out = irr_periodic(&cf[0], <int>cf.shape[0], work)
    free(work)
    return out


def xirr(cash_flows, years, guess=None):
    """Annual IRR of flows at `years` (ACT/365F year fractions from the first flow's date),
    the iteration started at `guess` (an annual rate) where given."""
    cdef double[::1] cf = np.array(cash_flows, dtype=np.float64)
    cdef double[::1] yrs = np.ascontiguousarray(years, dtype=np.float64)
    cdef double[::1] work = np.empty(max(1, 2 * cf.shape[0]))
    cdef double out, g = 0.0   # guess_v; 0: none (as irr.xirr, a guess of -100% or below is none)
    if guess is not None and guess > -1.0:
        g = 1.0 / (1.0 + guess)
    if yrs.shape[0] != cf.shape[0]:
        raise ValueError(f"{cf.shape[0]} cash flows but {yrs.shape[0]} year fractions")
    if cf.shape[0] == 0:
        return NAN
    with nogil:
        out = irr_dated(&cf[0], &yrs[0], <int>cf.shape[0], &work[0], g)
    return out


def irr_many(cash_flows):
    """Periodic IRR of each row of a 2-D array, GIL released. Each row is copied to a
    small buffer (noise is zeroed in place there), the array itself is only read. Rows
    are solved four at a time (irr_periodic4, the same results as one at a time)."""
    cdef const double[:, ::1] cf = np.ascontiguousarray(cash_flows, dtype=np.float64)
    cdef Py_ssize_t i, rows = cf.shape[0]
    cdef int n = <int>cf.shape[1], l
    cdef double[::1] work = np.empty(max(1, IRR_LANES * n + irr4_work(n)))
    cdef double *rowp[IRR_LANES]
    cdef const double *srcp[IRR_LANES]
    cdef const double *aheadp[IRR_LANES]
    cdef double st[10]
    out = np.empty(rows)
    cdef double[::1] o = out
    if n == 0:
        out[:] = NAN
        return out
    with nogil:
        for l in range(IRR_LANES):
            rowp[l] = &work[l * n]
        i = 0
        while i + IRR_LANES <= rows:
            for l in range(IRR_LANES):
                srcp[l] = &cf[i + l, 0]
            for l in range(IRR_LANES):   # the next four rows, asked for while these are scanned
                aheadp[l] = &cf[i + IRR_LANES + l, 0] if i + 2 * IRR_LANES <= rows else srcp[l]
            irr_periodic4_from(srcp, rowp, n, &work[IRR_LANES * n], &o[i], aheadp, NULL, NULL)
            i += IRR_LANES
        while i < rows:
            wf_scan_copy(&cf[i, 0], rowp[0], n, st)
            o[i] = irr_scanned(rowp[0], n, &work[IRR_LANES * n], st)
            i += 1
    return out


def irr_four(cash_flows):
    """The C entry irr_periodic4 from Python (tests): the periodic IRR of each of the four
    rows of a 4 x n array, solved together in place on a copy."""
    cdef double[:, ::1] cf = np.array(cash_flows, dtype=np.float64, order="C", ndmin=2)
    cdef int n = <int>cf.shape[1], l
    cdef double *rowp[IRR_LANES]
    if cf.shape[0] != IRR_LANES or n == 0:
        raise ValueError(f"irr_four takes {IRR_LANES} rows of at least one flow, not {cf.shape[0]} x {n}")
    cdef double[::1] work = np.empty(irr4_work(n))
    out = np.empty(IRR_LANES)
    cdef double[::1] o = out
    for l in range(IRR_LANES):
        rowp[l] = &cf[l, 0]
    with nogil:
        irr_periodic4(rowp, n, &work[0], &o[0])
    return out


def _dated_rows(cash_flows, years, guesses, gap4):
    """xirr_four's and xirr_one_by_one's inputs as C arrays: the rows (a copy), the years,
    the guesses as irr_dated's guess_v (1/(1 + rate); NaN: none) and the gap table."""
    cf = np.array(cash_flows, dtype=np.float64, order="C", ndmin=2)
    yrs = np.ascontiguousarray(years, dtype=np.float64)
    if yrs.ndim != 1 or yrs.shape[0] != cf.shape[1] or cf.shape[1] == 0:
        raise ValueError(f"{cf.shape[1]} cash flows a row but {yrs.shape} year fractions")
    g = np.full(cf.shape[0], np.nan) if guesses is None else np.asarray(guesses, dtype=np.float64)
    with np.errstate(all="ignore"):
        v = np.ascontiguousarray(1.0 / (1.0 + g), dtype=np.float64)
    table = None if gap4 is None else np.ascontiguousarray(gap4, dtype=np.float64)
    if table is not None and table.shape[0] != cf.shape[1]:
        raise ValueError(f"a gap table of {table.shape[0]} for {cf.shape[1]} flows")
    return cf, yrs, v, table


def xirr_four(cash_flows, years, guesses=None, gap4=None, int gap_min=0, int gap_max=0):
    """The C entry irr_dated4 from Python (tests): the XIRR of each of the four rows of a
    4 x n array at `years` (shared), lane l started from the annual rate guesses[l] (None
    or NaN: irr.initial_v's estimate), with the gap table gap4 (the index of each flow's
    gap in days from the flow four before, less gap_min; None: none), solved together."""
    cf, yrs, v, table = _dated_rows(cash_flows, years, guesses, gap4)
    if cf.shape[0] != IRR_LANES:
        raise ValueError(f"xirr_four takes {IRR_LANES} rows, not {cf.shape[0]}")
    cdef double[:, ::1] c = cf
    cdef double[::1] y = yrs
    cdef double[::1] gv = v
    cdef double[::1] work = np.empty(dated4_work(c.shape[1]))
    cdef double[::1] gt = table if table is not None else np.zeros(1)
    cdef const double *gp = &gt[0] if table is not None else NULL
    cdef double *rowp[IRR_LANES]
    cdef int l, n = <int>c.shape[1]
    out = np.empty(IRR_LANES)
    cdef double[::1] o = out
    for l in range(IRR_LANES):
        rowp[l] = &c[l, 0]
    with nogil:
        irr_dated4(rowp, &y[0], n, &work[0], &gv[0], gp, gap_min, gap_max, &o[0], NULL)
    return out


def xirr_many(cash_flows, years, guesses=None, gap4=None, int gap_min=0, int gap_max=0):
    """xirr_four's rows (any number) four at a time by irr_dated4, the rest (fewer than four)
    by irr_dated: the lanes' timing in the benchmarks and tests."""
    cf, yrs, v, table = _dated_rows(cash_flows, years, guesses, gap4)
    cdef double[:, ::1] c = cf
    cdef double[::1] y = yrs
    cdef double[::1] gv = v
    cdef double[::1] work = np.empty(dated4_work(c.shape[1]))
    cdef double[::1] gt = table if table is not None else np.zeros(1)
    cdef const double *gp = &gt[0] if table is not None else NULL
    cdef double *rowp[IRR_LANES]
    cdef Py_ssize_t i = 0, rows = c.shape[0]
    cdef int l, n = <int>c.shape[1]
    out = np.empty(rows)
    cdef double[::1] o = out
    with nogil:
        while i + IRR_LANES <= rows:
            for l in range(IRR_LANES):
                rowp[l] = &c[i + l, 0]
            irr_dated4(rowp, &y[0], n, &work[0], &gv[i], gp, gap_min, gap_max, &o[i], NULL)
            i += IRR_LANES
        while i < rows:
            o[i] = irr_dated(&c[i, 0], &y[0], n, &work[0], gv[i], gp, gap_min, gap_max)
            i += 1
    return out


def xirr_one_by_one(cash_flows, years, guesses=None, gap4=None, int gap_min=0, int gap_max=0):
    """xirr_four's rows (any number) by irr_dated alone, one at a time (the lanes'
    yardstick in tests/test_irr_lanes.py)."""
    cf, yrs, v, table = _dated_rows(cash_flows, years, guesses, gap4)
    cdef double[:, ::1] c = cf
    cdef double[::1] y = yrs
    cdef double[::1] gv = v
    cdef double[::1] work = np.empty(2 * c.shape[1])
    cdef double[::1] gt = table if table is not None else np.zeros(1)
    cdef const double *gp = &gt[0] if table is not None else NULL
    cdef Py_ssize_t i
    cdef int n = <int>c.shape[1]
    out = np.empty(c.shape[0])
    cdef double[::1] o = out
    with nogil:
        for i in range(c.shape[0]):
            o[i] = irr_dated(&c[i, 0], &y[0], n, &work[0], gv[i], gp, gap_min, gap_max)
    return out


def irr_one_by_one(cash_flows):
    """irr_many without the lanes: each row by irr_periodic alone (the lanes' yardstick in
    tests/test_irr_lanes.py and the benchmarks)."""
    cdef const double[:, ::1] cf = np.ascontiguousarray(cash_flows, dtype=np.float64)
    cdef Py_ssize_t i, rows = cf.shape[0]
    cdef int n = <int>cf.shape[1]
    cdef double[::1] work = np.empty(max(1, 3 * n))
    out = np.empty(rows)
    cdef double[::1] o = out
    if n == 0:
        out[:] = NAN
        return out
    with nogil:
        for i in range(rows):
            memcpy(&work[0], &cf[i, 0], n * sizeof(double))
            o[i] = irr_periodic(&work[0], n, &work[n])
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


cdef double lc_liquidity(LedgerT L, int NL, int t, int acc0, const Prog *p, int A, int W, bint lenders,
                         double *owed, double *out, double *open_) noexcept nogil:
    """reference._lc_liquidity: each DSRA letter of credit's undrawn amount (face less what
    is owed to the LC bank) is at the waterfall's disposal while the lenders are owed
    something; returns the total (USD)."""
    cdef double total = 0.0, x
    cdef int a
    for a in range(A):
        open_[a] = owed[a]
        x = 0.0
        if lenders:
            x = p.acct_lc[a * W + t] - owed[a]
            if not (x > 0.0):
                x = 0.0
        out[a] = x
        put(L, NL, t, acc0 + N_ACCOUNT_LINES * a + A_LC_AVAILABLE, x)
        total += x
    return total


cdef inline double lc_reimburse(const Prog *p, int a, int t, int W, double target, double *cash,
                                double *owed, double *out) noexcept nogil:
    """steps/reserve.py Reserve._letter_of_credit: the LC bank is reimbursed first (owed plus
    the period's LC amount, as far as cash goes); the cash target is the target less the
    face not owed. Returns the cash target."""
    cdef double due = owed[a] + out[a]
    cdef double repay = due if due < cash[0] else cash[0]
    cdef double cover
    cash[0] = cash[0] - repay
    owed[a] = due - repay
    out[a] = 0.0
    cover = p.acct_lc[a * W + t] - owed[a]
    if cover < 0.0:
        cover = 0.0
    target = target - cover
    return target if target > 0.0 else 0.0


cdef double lc_at_acceleration(LedgerT L, int NL, int t, int acc0, int A, double cash, double *owed,
                               double *out, double *open_) noexcept nogil:
    """reference._lc_at_acceleration: each LC bank is reimbursed first from the period's
    cash; the rest stays owed. Returns the cash left for the lenders."""
    cdef double due, repay
    cdef int a
    for a in range(A):
        due = owed[a] + out[a]
        repay = due if due < cash else cash
        cash -= repay
        owed[a] = due - repay
        out[a] = 0.0
    lc_close(L, NL, t, acc0, A, owed, open_)
    return cash


cdef void lc_close(LedgerT L, int NL, int t, int acc0, int A, const double *owed,
                   const double *open_) noexcept nogil:
    """reference._lc_close: the period's net LC drawing, net reimbursement and what is owed."""
    cdef double x
    cdef int a
    for a in range(A):
        x = owed[a] - open_[a]
        put(L, NL, t, acc0 + N_ACCOUNT_LINES * a + A_LC_DRAWN, x if x > 0.0 else 0.0)
        put(L, NL, t, acc0 + N_ACCOUNT_LINES * a + A_LC_REIMBURSED, -x if x < 0.0 else 0.0)
        put(L, NL, t, acc0 + N_ACCOUNT_LINES * a + A_LC_OWED, owed[a])


cdef inline double reserve_target(const Prog *p, double **prr, double **schr,
                                  const TState *ts, int a, int t, const double *hpre) noexcept nogil:
    """Twin of reference.reserve_target (same operations in the same order; the hedges'
    settlements from their prefix sums hpre, hedge_prefix)."""
    cdef int T = p.T, W = p.T + 1, K = p.K, j, k, u, last, hi
    cdef double target = 0.0, b, interest, principal, target0, b0, wlast = p.acct_last_weight[a]
    cdef int full
    cdef bint short
    cdef const double *pr
    cdef const double *sc
    cdef const unsigned char *cap
    if t >= T:
        return 0.0
    if p.acct_kind[a] == ACC_FIXED:
        return p.acct_target[a * W + t]
    if p.acct_kind[a] != ACC_DSRA:
        return 0.0
    last = t + <int>p.acct_periods[a]
    full = last   # the window's last period before the horizon clips it (weighted by wlast)
    if last > T:
        last = T
    for j in range(p.n_cover[a]):
        k = p.cover[a * K + j]
        b = ts[k].balance
        hi = last if last < ts[k].maturity else <int>ts[k].maturity
        pr = prr[k]
        sc = schr[k]
        if t + 1 > p.last_cap[k] and wlast == 1.0:  # no capitalised period in the window
            # first as if no scheduled principal in the window exceeded the balance left
            # (then min(schedule, balance) is the schedule: the same operations, with the
            # balance's chain one subtraction a period); else again, as written
            target0 = target
            b0 = b
            short = False
            for u in range(t + 1, hi + 1):
                short = short | (b < sc[u])
                target += b * pr[u] + sc[u]
                b -= sc[u]
            if short:
                target = target0
                b = b0
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
                if u == full and wlast != 1.0:   # a target in months: part of the last period
                    target += wlast * (interest + principal)
                else:
                    target += interest + principal
                b -= principal
    if p.dsra_hedged[a]:   # the covered tranches' hedges, projected on the scenario's index
        target = hedged_target(p, hpre, a, t, target)
    return target


cdef inline void dsra_prefix(const double *pr, const double *sc, int W, double *out) noexcept nogil:
    """A tranche's prefix sums for dsra_target_window, over periods 0..T (W = T + 1): out[u]
    the per-period rates through u (Q), out[W + u] the scheduled principal through u (S),
    out[2W + u] the sum of rate x schedule before it, pr[v] S[v - 1], through u (R)."""
    cdef double q = 0.0, sp = 0.0, r = 0.0
    cdef int u
    for u in range(W):
        q += pr[u]
        r += pr[u] * sp
        sp += sc[u]
        out[u] = q
        out[W + u] = sp
        out[2 * W + u] = r


cdef inline bint dsra_target_window(const Prog *p, const double *pre, const TState *ts, int a, int t,
                                    double *target) noexcept nogil:
    """reserve_target's DSRA sum in O(1) per period (issue 16): the covered tranches' interest
    and scheduled principal over the next acct_periods periods, from prefix sums built once
    per scenario (dsra_prefix). With b the balance now and S, Q, R the prefix sums, the
    balance at u is b - (S[u-1] - S[t]), so the window's debt service is
    (S[hi] - S[t]) + (b + S[t]) (Q[hi] - Q[t]) - (R[hi] - R[t]): the same sum as the loop
    to rounding (~1e-13 of the amounts). False (the caller runs reserve_target) where the
    loop's other cases apply: a capitalised period ahead, or a balance that may run out
    inside the window (min(schedule, balance), within 1e-9 of it)."""
    cdef int T = p.T, W = p.T + 1, K = p.K, j, k, last, hi
    cdef const double *Q
    cdef const double *S
    cdef const double *R
    cdef double x = 0.0, b, s_t
    last = t + <int>p.acct_periods[a]
    if last > T:
        last = T
    for j in range(p.n_cover[a]):
        k = p.cover[a * K + j]
        if t + 1 <= p.last_cap[k]:
            return False
        hi = last if last < ts[k].maturity else <int>ts[k].maturity
        if hi <= t:
            continue
        Q = pre + 3 * k * W
        S = Q + W
        R = S + W
        b = ts[k].balance
        s_t = S[t]
        if b + s_t < S[hi] + 1e-9 * (1.0 + S[hi]):
            return False
        x += (S[hi] - s_t) + (b + s_t) * (Q[hi] - Q[t]) - (R[hi] - R[t])
    target[0] = x
    return True


cdef inline double *own_row(double **rows, double *own, int k, int W) noexcept nogil:
    """Copy-on-write: rows[k] may point at shared read-only data; make it this scenario's."""
    cdef double *mine = own + k * W
    if rows[k] != mine:
        memcpy(mine, rows[k], W * sizeof(double))
        rows[k] = mine
    return mine


cdef inline double refi_rate(const Prog *p, int k, int u, const double *base, const double *f_rate,
                             double add) noexcept nogil:
    """refinancing.new_rates: floating max(0, max(base + shock, floor) + spread + add-on),
    fixed max(0, fixed rate + add-on), annual (add: the market add-on at signing)."""
    cdef double rate
    if p.refi_rate_kind[k] == 1:
        rate = p.refi_fixed[k] + add
        return rate if rate > 0.0 else 0.0
    rate = base[u] + f_rate[u]
    if rate < p.refi_floor[k]:
        rate = p.refi_floor[k]
    rate = rate + p.refi_spread[k] + add
    return rate if rate > 0.0 else 0.0


cdef inline double level_before(const Prog *p, int k, double r1, int i) noexcept nogil:
    """refinancing.level_unit(...)[0]: a unit level-payment loan's balance before period i."""
    cdef int big_n = <int>p.refi_periods[k]
    cdef double g
    if r1 > LEVEL_ZERO_RATE:
        g = 1.0 + r1
        return (pow(g, big_n) - pow(g, i - 1)) / (pow(g, big_n) - 1.0)
    return <double>(big_n - i + 1) / big_n


cdef inline double level_principal(const Prog *p, int k, double r1, int i) noexcept nogil:
    """refinancing.level_unit(...)[1]: a unit level-payment loan's principal in period i."""
    cdef int big_n = <int>p.refi_periods[k]
    cdef double g
    if r1 > LEVEL_ZERO_RATE:
        g = 1.0 + r1
        return r1 * pow(g, i - 1) / (pow(g, big_n) - 1.0)
    return 1.0 / big_n


cdef inline double sculpt_service(const Prog *p, int k, int t, int i, const double *f_rent, double others) noexcept nogil:
    """refinancing.sculpted: D_i = max(in-place CFADS(t+i) / min DSCR - others, 0)."""
    cdef double x = in_place(p, t, t + i, f_rent) / p.refi_min_dscr[k] - others
    return x if x > 0.0 else 0.0


cdef double sculpt_most(const Prog *p, int k, int t, const double *base, const double *f_rate, double add,
                        const double *f_rent, double others) noexcept nogil:
    """refinancing.sculpted(...)[0]: the most the sculpted loan carries (Horner, backwards)."""
    cdef int T = p.T, W = p.T + 1, big_n = <int>p.refi_periods[k], m, i
    cdef double most = 0.0
    m = big_n if big_n < T - t else T - t
    for i in range(m, 0, -1):
        most = (sculpt_service(p, k, t, i, f_rent, others) + most) / (
            1.0 + refi_rate(p, k, t + i, base, f_rate, add) * p.accrual[k * W + t + i])
    return most


cdef inline double proj_cfads(const Prog *p, int u, const double *f_rent, const double *f_opex) noexcept nogil:
    """reference._State.projected_cfads[u]: scheduled rent less opex under the scenario."""
    return p.base_rent[u] * f_rent[u] - p.opex[u] * f_opex[u]


cdef inline double in_place(const Prog *p, int t, int u, const double *f_rent) noexcept nogil:
    """refinancing.in_place: period u's CFADS on the rent in place at t (scheduled rent at
    the share paid in t, less the base-case opex)."""
    return p.base_rent[u] * f_rent[t] - p.opex[u]


cdef double refi_size(const Prog *p, int k, int t, double balloon, double other, const double *base,
                      const double *f_rate, const double *f_rent, const double *f_opex, double value,
                      double others, double add) noexcept nogil:
    """Twin of refinancing.size (with noi and dscr_capacity): the new loan, USD."""
    cdef int T = p.T, W = p.T + 1, big_n = <int>p.refi_periods[k], ppy = 12 // p.months, w, u, i
    cdef double loan = balloon, total, x, best, r, r1
    if p.refi_max_ltv[k] > 0.0:
        x = p.refi_max_ltv[k] * value - other
        if x < loan:
            loan = x
    if p.refi_min_dy[k] > 0.0:
        x = refi_noi(p, t, f_rent, f_opex) / p.refi_min_dy[k] - other
        if x < loan:
            loan = x
    if p.refi_min_dscr[k] > 0.0 and p.refi_profile[k] == 2:
        best = sculpt_most(p, k, t, base, f_rate, add, f_rent, others)
        if best < loan:
            loan = best
    elif p.refi_min_dscr[k] > 0.0:
        best = INFINITY
        r1 = refi_rate(p, k, t + 1, base, f_rate, add) * p.accrual[k * W + t + 1]
        for i in range(1, (big_n if big_n < T - t else T - t) + 1):
            r = refi_rate(p, k, t + i, base, f_rate, add) * p.accrual[k * W + t + i]
            if p.refi_profile[k] == 1:
                x = (in_place(p, t, t + i, f_rent) / p.refi_min_dscr[k] - others) / (
                    level_before(p, k, r1, i) * r + level_principal(p, k, r1, i))
            else:
                x = (in_place(p, t, t + i, f_rent) / p.refi_min_dscr[k] - others) * big_n / (
                    1.0 + (big_n - i + 1) * r)
            if x < best:
                best = x
        if best < loan:
            loan = best
    return loan if loan > DUST else 0.0


cdef double refi_noi(const Prog *p, int t, const double *f_rent, const double *f_opex) noexcept nogil:
    """Twin of refinancing.noi: the next 12 months' CFADS on the rent in place, annualised."""
    cdef int T = p.T, ppy = 12 // p.months, w, u
    cdef double total = 0.0
    w = ppy if ppy < T - t else T - t
    for u in range(t + 1, t + w + 1):
        total += in_place(p, t, u, f_rent)
    return total * ppy / w


cdef double ext_paydown(const Prog *p, int k, int t, double balloon, double other, const double *f_rent,
                        const double *f_opex, double value, double last_cfads, double last_ds,
                        double last_rate) noexcept nogil:
    """Twin of refinancing.extension_paydown (-1: the loan cannot extend); `last_rate` is
    refinancing.tested_rate: the DSCR test is restored by X = (debt service - CFADS / min
    DSCR) / that rate."""
    cdef double pay = 0.0, x
    if p.ext_min_dscr[k] > 0.0 and last_cfads < p.ext_min_dscr[k] * last_ds:
        if not (last_rate > 0.0):
            return -1.0
        pay = (last_ds - last_cfads / p.ext_min_dscr[k]) / last_rate
    if p.ext_max_ltv[k] > 0.0:
        x = balloon - (p.ext_max_ltv[k] * value - other)
        if x > pay:
            pay = x
    if p.ext_min_dy[k] > 0.0:
        x = balloon - (refi_noi(p, t, f_rent, f_opex) / p.ext_min_dy[k] - other)
        if x > pay:
            pay = x
    if pay > balloon:
        return -1.0
    return pay if pay > DUST else 0.0


cdef void ext_apply(const Prog *p, int k, int t, double **anr, double **prr, double *own_an, double *own_pr,
                    TState *ts, bint ledger) noexcept nogil:
    """Twin of refinancing.extend: the margin steps up from t+1, the maturity moves on."""
    cdef int T = p.T, W = p.T + 1, u
    cdef double step = p.ext_step[k]
    cdef double *an = NULL
    cdef double *pr
    if ledger:
        an = own_row(anr, own_an, k, W)
    pr = own_row(prr, own_pr, k, W)
    for u in range(t + 1, W):
        if ledger:
            an[u] += step
        pr[u] += step * p.accrual[k * W + u]
    u = t + <int>p.ext_periods[k]
    ts[k].maturity = u if u < T else T


cdef double refi_free(const Prog *p, int t, double cash, const TState *ts, const double *hdue) noexcept nogil:
    """Twin of refinancing.free_cash: the period's cash after its fees, hedge settlements
    owed, cash interest (extension fees included) and scheduled principal, USD."""
    cdef int W = p.T + 1, i, h, k
    cdef double x = cash
    for i in range(p.F):
        x -= p.fee_due[i * W + t]
    for h in range(p.H):
        if hdue[h] > 0.0:
            x -= hdue[h]
    for k in range(p.K):
        x -= ts[k].int_due + ts[k].scheduled
    return x


cdef inline double refi_uncovered(const Prog *p, int t, double cash, const TState *ts, const double *hdue,
                                  double short) noexcept nogil:
    """Twin of refinancing.uncovered: the shortfall less refi_free (never below zero), USD."""
    cdef double x = refi_free(p, t, cash, ts, hdue)
    return short - (x if x > 0.0 else 0.0)


cdef inline bint refi_curable(const Prog *p, double need, int cures, int t) noexcept nogil:
    """refinancing.cure's terms: a need above dust, a cure left, in time, within the cap."""
    return need > DUST and cures < p.cure_max and t <= p.cure_until and not (
        p.cure_max_amount >= 0.0 and need > p.cure_max_amount)


cdef double ext_undo(LedgerT L, int NL, int t, const Prog *p, int k, TState *ts, double **anr, double **prr,
                     double **schr, double *own_an, double *own_pr, double *own_sched, bint ledger,
                     const double *base, double **fch, const double *f_rent, double refi_short) noexcept nogil:
    """Twin of refinancing.unextend and its lines (reference._maturity_cure): tranche k's
    option exercised at t is not: the option is left, the step-up taken off, the maturity
    back at t, a refinancing on offer applied; its interest due without the fee, the
    balloon or the refinancing's shortfall due. Returns the period's shortfalls, USD."""
    cdef int W = p.T + 1, u, tc = N_GLOBAL + k * N_TRANCHE_LINES
    cdef double step = p.ext_step[k]
    cdef double *pr = prr[k]
    ts[k].ext_at = -1
    ts[k].ext_left += 1
    for u in range(t + 1, W):
        if ledger:
            anr[k][u] -= step
        pr[u] -= step * p.accrual[k * W + u]
    ts[k].maturity = t
    if ts[k].ext_loan < 0.0:   # the refinancing on offer, sized now (as at the maturity: its inputs kept)
        ts[k].ext_loan = refi_size(p, k, t, ts[k].ext_balloon, ts[k].ext_other, base, fch[CH_RATE_ADD], f_rent,
                                   fch[CH_OPEX], ts[k].ext_value, ts[k].ext_ods, fch[CH_REFI_SPREAD][t])
        ts[k].ext_short = ts[k].ext_balloon - ts[k].ext_loan
    if ts[k].ext_loan > 0.0:
        refi_apply(p, k, t, ts[k].ext_loan, base, fch[CH_RATE_ADD], anr, prr, schr, own_an, own_pr, own_sched, ts,
                   ledger, fch[CH_REFI_SPREAD][t], f_rent, ts[k].ext_ods)
    ts[k].int_due = ts[k].ext_int
    put(L, NL, t, tc + T_INTEREST_DUE, ts[k].ext_line)
    put(L, NL, t, tc + T_REFINANCED, ts[k].ext_loan)
    ts[k].prin_due = ts[k].scheduled + ts[k].ext_short
    put(L, NL, t, tc + T_PRINCIPAL_DUE, ts[k].prin_due)
    return refi_short + (ts[k].ext_short - ts[k].ext_pay)


cdef void refi_apply(const Prog *p, int k, int t, double loan, const double *base, const double *f_rate,
                     double **anr, double **prr, double **schr, double *own_an, double *own_pr,
                     double *own_sched, TState *ts, bint ledger, double add, const double *f_rent,
                     double others) noexcept nogil:
    """Twin of refinancing.apply: tranche k on the new loan's terms from t+1 (its rates and
    its straight-line, level-payment or sculpted schedule)."""
    cdef int T = p.T, W = p.T + 1, periods = <int>p.refi_periods[k], u
    cdef double rate, amortisation = loan / periods, r1 = 0.0, scale = 0.0, left = 0.0, pay
    cdef double *an = NULL
    cdef double *pr
    cdef double *sc
    if ledger:
        an = own_row(anr, own_an, k, W)
    pr = own_row(prr, own_pr, k, W)
    sc = own_row(schr, own_sched, k, W)
    if t + 1 < W:
        r1 = refi_rate(p, k, t + 1, base, f_rate, add) * p.accrual[k * W + t + 1]
    if p.refi_profile[k] == 2:
        left = sculpt_most(p, k, t, base, f_rate, add, f_rent, others)
        scale = loan / left
    for u in range(t + 1, W):
        rate = refi_rate(p, k, u, base, f_rate, add)
        if ledger:
            an[u] = rate
        pr[u] = rate * p.accrual[k * W + u]
        if u > t + periods:
            sc[u] = 0.0
        elif p.refi_profile[k] == 1:
            sc[u] = loan * level_principal(p, k, r1, u - t)
        elif p.refi_profile[k] == 2:
            pay = sculpt_service(p, k, t, u - t, f_rent, others) - pr[u] * left
            if pay > left:
                pay = left
            if pay < 0.0:
                pay = 0.0
            sc[u] = scale * pay
            left = left - pay
        else:
            sc[u] = amortisation
    ts[k].maturity = t + periods if t + periods < T else T

# --------------------------------------------------------------- events and the workout
# Twins of reference._accelerate, _workout_period, _advance, _receive, _recover and of
# workout.allocate and workout.sale_values. They run only once a scenario has accelerated,
# out of line (called through wf_opaque), compiled once per ledger specialisation like
# run_scenario (the metrics-only one writes no ledger line).
cdef inline void receive(TState *tranche, double amount) noexcept nogil:
    """Twin of reference._receive: nominal and PV at the contract rate."""
    tranche.received += amount
    tranche.pv += amount * tranche.discount


cdef inline void advance(Run *r, LedgerT L, int t, double amount) noexcept nogil:
    """Twin of reference._advance: the lenders fund `amount` of costs, the rank-1 tranches
    pro rata by claim, as draws added to their principal (a protective advance)."""
    cdef const Prog *p = r.p
    cdef TState *ts = r.ts
    cdef int lo = p.rank_start[0], hi = p.rank_start[1], j, k, NL = p.n_lines
    cdef double owed = 0.0, share
    if amount <= 0.0:
        return
    for j in range(lo, hi):
        k = p.rank_order[j]
        owed += ts[k].balance + ts[k].arrears
    for j in range(lo, hi):
        k = p.rank_order[j]
        if owed > 0.0:
            share = amount * ((ts[k].balance + ts[k].arrears) / owed)
        else:
            share = amount / (hi - lo)
        ts[k].balance += share
        add(L, NL, t, N_GLOBAL + k * N_TRANCHE_LINES + T_DRAW, share)
        add(L, NL, t, G_DRAWS, share)
        receive(&ts[k], -share)
        r.lcf_t -= share


cdef inline double allocate(const Prog *p, const TState *ts, const double *hclaim, double pool,
                            double *to_int, double *to_prin, double *to_hedge) noexcept nogil:
    """Twin of workout.allocate: `pool` to the claims by rank (a tranche's interest arrears
    first, then principal; a hedge bank's termination claim); a rank of one claimant
    takes from the pool itself, a rank of several shares pro rata by claim (tranches
    summed, then hedges, as the reference sums them). Returns the pool left."""
    cdef int g, j, c, k, lo, hi, K = p.K
    cdef double owed, owed_h, take, share, x
    for g in range(p.n_claim_ranks):
        lo = p.claim_start[g]
        hi = p.claim_start[g + 1]
        if hi - lo == 1:
            c = p.claim_order[lo]
            if c >= K:
                to_hedge[c - K] = hclaim[c - K] if hclaim[c - K] < pool else pool
                pool -= to_hedge[c - K]
                continue
            to_int[c] = ts[c].arrears if ts[c].arrears < pool else pool
            pool -= to_int[c]
            to_prin[c] = ts[c].balance if ts[c].balance < pool else pool
            pool -= to_prin[c]
            continue
        owed = 0.0
        owed_h = 0.0
        for j in range(lo, hi):
            c = p.claim_order[j]
            if c < K:
                owed += ts[c].arrears + ts[c].balance
            else:
                owed_h += hclaim[c - K]
        owed = owed + owed_h
        take = owed if owed < pool else pool
        for j in range(lo, hi):
            c = p.claim_order[j]
            if c >= K:
                continue
            share = take * ((ts[c].arrears + ts[c].balance) / owed) if owed > 0.0 else 0.0
            to_int[c] = ts[c].arrears if ts[c].arrears < share else share
            x = share - to_int[c]
            to_prin[c] = ts[c].balance if ts[c].balance < x else x
            pool -= to_int[c] + to_prin[c]
        for j in range(lo, hi):
            c = p.claim_order[j]
            if c < K:
                continue
            x = take * (hclaim[c - K] / owed) if owed > 0.0 else 0.0
            to_hedge[c - K] = hclaim[c - K] if hclaim[c - K] < x else x
            pool -= to_hedge[c - K]
    return 0.0 if 0.0 > pool else pool


cdef inline double hedge_settlement(int kind, double notional, double accrual, double index,
                                    double rate) noexcept nogil:
    """Twin of hedges.settlement: what the SPV owes the bank for a period (negative: the
    bank pays)."""
    cdef double x
    if kind == 0:
        return notional * (rate - index) * accrual
    x = index - rate
    if 0.0 > x:
        x = 0.0
    return -notional * x * accrual


cdef double hedge_termination(const Prog *p, int h, int t, const double *index) noexcept nogil:
    """Twin of hedges.termination_value: the mark-to-market after period t on the
    scenario's index path, owed by the SPV (negative: owed to it), rolled back from the
    horizon in the same order."""
    cdef int W = p.T + 1, u
    cdef double value = 0.0, acc, leg
    for u in range(p.T, t, -1):
        acc = p.hedge_accrual[h * W + u]
        leg = hedge_settlement(<int>p.hedge_kind[h], p.hedge_notional[h * W + u], acc, index[u],
                               p.hedge_rate[h])
        value = (leg + value) / (1.0 + index[u] * acc)
    return value


cdef void hedge_prefix(const Prog *p, const double *index, double *out) noexcept nogil:
    """Each hedge's cash settlements on the scenario's index path summed through each
    period, out[h * W + u] (USD; hedge_service's legs: a part owed in a period its tranche
    capitalises is left out), built once per scenario so that hedge_service is O(1) in the
    window (issue 16)."""
    cdef int W = p.T + 1, h, k, u
    cdef double total, leg
    for h in range(p.H):
        k = <int>p.hedge_tranche[h]
        total = 0.0
        for u in range(W):
            leg = hedge_settlement(<int>p.hedge_kind[h], p.hedge_notional[h * W + u], p.hedge_accrual[h * W + u],
                                   index[u], p.hedge_rate[h])
            if not (p.cap8[k * W + u] and leg > 0.0):
                total += leg
            out[h * W + u] = total


cdef double hedge_service(const Prog *p, const double *hpre, const unsigned char *mask8,
                          const int64_t *mask64, int t, int last) noexcept nogil:
    """Twin of dscr_windows.hedge_service: the net settlements owed in cash over periods
    t+1 .. last by the hedges on the tranches the mask selects (mask8 if not NULL, else
    mask64), on the scenario's index path; a part owed in a capitalised period is left out.
    From the prefix sums hpre (hedge_prefix): the reference's loop to rounding (~1e-15 of
    the settlements summed)."""
    cdef int W = p.T + 1, h, k
    cdef double total = 0.0
    if last <= t:
        return 0.0
    for h in range(p.H):
        k = <int>p.hedge_tranche[h]
        if mask8 != NULL:
            if not mask8[k]:
                continue
        elif not mask64[k]:
            continue
        total += hpre[h * W + last] - hpre[h * W + t]
    return total


cdef inline double hedged_target(const Prog *p, const double *hpre, int a, int t, double target) noexcept nogil:
    """A DSRA's target with its covered tranches' hedges added: their net settlements over
    its window (t+1 .. min(t + acct_periods, T)), at least 0 (reference.reserve_target)."""
    cdef int last = t + <int>p.acct_periods[a]
    if last > p.T:
        last = p.T
    target += hedge_service(p, hpre, NULL, p.acct_mask + a * p.K, t, last)
    return 0.0 if target < 0.0 else target


cdef bint dscr_window_sums(const Prog *p, int basis, int t, double cfads, double debt_service,
                           const double *cov_cfads, const double *cov_ds, int first_ds,
                           const TState *ts, double **prr, double **schr, const double *f_rent,
                           const double *f_opex, const double *hpre, double *num, double *den) noexcept nogil:
    """Twin of reference._dscr_tests for one basis (dscr_windows.trailing_sums,
    forward_sums): the DSCR's numerator and denominator; True where it is tested."""
    cdef int T = p.T, W = p.T + 1, lo, last, k, u
    cdef double a = 0.0, b = 0.0, bal, interest, principal
    if basis == 0:
        a = cfads
        b = debt_service
    elif basis == 1:
        lo = t - p.dscr_window + 1
        if lo < first_ds:
            lo = first_ds
        for u in range(lo, t + 1):
            a += cov_cfads[u]
            b += cov_ds[u]
    else:
        last = t + p.dscr_window
        if last > T:
            last = T
        for u in range(t + 1, last + 1):
            a += p.base_rent[u] * f_rent[u] - p.opex[u] * f_opex[u]
        for k in range(p.K):
            if not p.dscr8[k]:
                continue
            bal = ts[k].balance - ts[k].scheduled
            for u in range(t + 1, last + 1):
                if u > ts[k].maturity:
                    break
                interest = 0.0 if p.cap8[k * W + u] else bal * prr[k][u]
                principal = schr[k][u]
                if bal < principal:
                    principal = bal
                b += interest + principal
                bal -= principal
        if p.H > 0:
            b += hedge_service(p, hpre, p.dscr8, NULL, t, last)
    num[0] = a
    den[0] = b
    return b > DUST


cdef inline double capitalised(double noi, double cap) noexcept nogil:
    """Twin of workout._capitalised."""
    return noi / cap if noi > 0.0 and cap > 0.0 else 0.0


cdef double sale_value(const Prog *p, double **fch, int t) noexcept nogil:
    """workout.sale_values(...)[t]: the gross value of the assets sold at period t, by the
    same operations (the income approach's backward recursion from the horizon to t)."""
    cdef int T = p.T, W = p.T + 1, c, u
    cdef double drc = 0.0, market, noi, cap, value, d = p.val_discount
    cdef const double *f_rent = fch[CH_RENT]
    cdef const double *f_opex = fch[CH_OPEX]
    cdef const double *f_market = fch[CH_MARKET_RENT]
    cdef const double *f_cap = fch[CH_CAP_ADD]
    for c in range(N_COMPONENTS):
        drc += p.asset_value[c * W + t] * fch[CH_VAL_LAND + c][t]
    if p.val_method == 0 or t < p.cod:  # replacement cost; before COD the cost spent
        return drc
    if p.base_rent[t] * f_rent[t] > 0.0:  # earning: the income approach
        # the residual at the horizon: the deal's own exit value where it states one,
        # else the market net rent capitalised
        if p.exit_value_share > 0.0:
            value = 0.0
            for c in range(N_COMPONENTS):
                value += p.asset_value[c * W + T] * fch[CH_VAL_LAND + c][T]
            value = p.exit_value_share * value
        else:
            market = p.market_rent[T] * f_market[T]
            noi = market - p.opex[T] * f_opex[T] * p.periods_a_year[T]
            value = capitalised(noi, p.exit_cap + f_cap[T])
        for u in range(T - 1, t - 1, -1):
            value = ((p.base_rent[u + 1] * f_rent[u + 1] - p.opex[u + 1] * f_opex[u + 1]) + value) * d
    else:  # dark: the market rent capitalised, after the re-letting downtime and costs
        market = p.market_rent[t] * f_market[t]
        noi = market - p.opex[t] * f_opex[t] * p.periods_a_year[t]
        cap = p.exit_cap + f_cap[t]
        value = capitalised(noi, cap) * pow(d, p.relet_periods) - p.reletting_cost * market
    noi = p.replacement_floor * drc  # max(value, floor x DRC, 0), as Python's max compares
    if noi > value:
        value = noi
    if 0.0 > value:
        value = 0.0
    return value


cdef double refi_appraisal(const Prog *p, double **fch, int t) noexcept nogil:
    """Twin of refinancing.appraisal: the value at t with the income approach on the rent
    in place (in-place share x PV of the scheduled rent, less the PV of base-case opex,
    plus the PV of the residual), by the same operations."""
    cdef int T = p.T, W = p.T + 1, c, u
    cdef double drc = 0.0, market, value, rent = 0.0, cost = 0.0, residual, d = p.val_discount
    cdef const double *f_rent = fch[CH_RENT]
    cdef const double *f_opex = fch[CH_OPEX]
    for c in range(N_COMPONENTS):
        drc += p.asset_value[c * W + t] * fch[CH_VAL_LAND + c][t]
    if p.val_method == 0 or t < p.cod:
        return drc
    if p.base_rent[t] * f_rent[t] > 0.0:
        if p.exit_value_share > 0.0:
            residual = 0.0
            for c in range(N_COMPONENTS):
                residual += p.asset_value[c * W + T] * fch[CH_VAL_LAND + c][T]
            residual = p.exit_value_share * residual
        else:
            market = p.market_rent[T] * fch[CH_MARKET_RENT][T]
            residual = capitalised(market - p.opex[T] * f_opex[T] * p.periods_a_year[T],
                                   p.exit_cap + fch[CH_CAP_ADD][T])
        for u in range(T - 1, t - 1, -1):
            rent = (p.base_rent[u + 1] + rent) * d
            cost = (p.opex[u + 1] + cost) * d
            residual = residual * d
        value = f_rent[t] * rent - cost + residual
    else:
        market = p.market_rent[t] * fch[CH_MARKET_RENT][t]
        value = capitalised(market - p.opex[t] * f_opex[t] * p.periods_a_year[t],
                            p.exit_cap + fch[CH_CAP_ADD][t]) * pow(d, p.relet_periods) - p.reletting_cost * market
    residual = p.replacement_floor * drc
    if residual > value:
        value = residual
    if 0.0 > value:
        value = 0.0
    return value


cdef inline double net_sale(const Prog *p, double gross) noexcept nogil:
    """Twin of workout.net_sale: the gross value less the fire sale and costs, at least 0."""
    cdef double net = gross * (1.0 - p.fire_sale) - p.cost_share * gross - p.cost_fixed
    return net if net > 0.0 else 0.0


cdef int best_sale(Run *r, int accel) noexcept nogil:
    """Twin of workout.best_sale: the sale period in [accel, min(accel + sale_periods, T)]
    of the highest value to the lenders at the senior's per-period rate (net workout cash
    up to it, net sale proceeds at it); the earliest on a tie."""
    cdef const Prog *p = r.p
    cdef int last = p.T if p.T < accel + p.sale_periods else accel + p.sale_periods
    cdef int u, best_at = accel
    cdef const double *pr = r.prr[p.rank_order[p.rank_start[0]]]
    cdef const double *f_rent = r.fch[CH_RENT]
    cdef const double *f_opex = r.fch[CH_OPEX]
    cdef double disc = 1.0, cash = 0.0, best = -INFINITY, score
    for u in range(accel, last + 1):
        if u > accel:
            disc /= 1.0 + pr[u]
            cash += ((p.base_rent[u] * f_rent[u] - p.opex[u] * f_opex[u]) - p.workout_cost) * disc
        score = cash + net_sale(p, sale_value(p, r.fch, accel if accel < p.cod else u)) * disc
        if score > best:
            best = score
            best_at = u
    return best_at


cdef inline bint recover(Run *r, LedgerT L, int t, double pool, bint sale, double exit_proceeds) noexcept nogil:
    """Twin of reference._recover: the period's recoveries by rank; at the sale its net
    proceeds and any guarantee, the write-off and the surplus to equity. True at the sale."""
    cdef const Prog *p = r.p
    cdef TState *ts = r.ts
    cdef int K = p.K, NL = p.n_lines, k, tc, h
    cdef double gross, net, owed, guarantee, cap_
    cdef bint repaid
    if sale:
        # construction stops at acceleration: work in progress is what was spent by then
        gross = 0.0 if exit_proceeds > 0.0 else sale_value(p, r.fch, r.accel if r.accel < p.cod else t)
        net = net_sale(p, gross)
        put(L, NL, t, G_SEIZURE_GROSS, gross)
        put(L, NL, t, G_SEIZURE_NET, net)
        pool += net
        if p.rvg_cap > 0.0 and r.accel <= p.rvg_until:
            owed = 0.0
            for k in range(K):
                owed += ts[k].arrears + ts[k].balance
            cap_ = p.rvg_cap * r.fch[CH_RVG][r.accel]
            guarantee = owed - pool
            if not (guarantee > 0.0):
                guarantee = 0.0
            if not (guarantee < cap_):
                guarantee = cap_
            put(L, NL, t, G_GUARANTEE_PAID, guarantee)
            pool += guarantee
    pool = allocate(p, ts, r.hclaim, pool, r.to_int, r.to_prin, r.to_hedge)
    repaid = True
    for k in range(K):
        ts[k].arrears -= r.to_int[k]
        ts[k].balance -= r.to_prin[k]
        receive(&ts[k], r.to_int[k] + r.to_prin[k])
        r.lcf_t += r.to_int[k] + r.to_prin[k]
        ts[k].repaid += r.to_prin[k]
        ts[k].repaid_t += r.to_prin[k] * t
        if not (ts[k].balance <= DUST and ts[k].arrears <= DUST):
            repaid = False
    for h in range(p.H):
        r.hclaim[h] -= r.to_hedge[h]
        if not (r.hclaim[h] <= DUST):
            repaid = False
    for k in range(K):
        tc = N_GLOBAL + k * N_TRANCHE_LINES
        put(L, NL, t, tc + T_RECOVERY_INTEREST, r.to_int[k])
        put(L, NL, t, tc + T_RECOVERY_PRINCIPAL, r.to_prin[k])
        if sale or repaid:  # the final recovery: what is left (at most dust if repaid) is written off
            put(L, NL, t, tc + T_WRITE_OFF, ts[k].balance)
            ts[k].balance = 0.0
            ts[k].arrears = 0.0
        put(L, NL, t, tc + T_BALANCE_CLOSE, ts[k].balance)
        put(L, NL, t, tc + T_INTEREST_ARREARS, ts[k].arrears)
    for h in range(p.H):
        tc = p.hedge0 + h * N_HEDGE_LINES
        put(L, NL, t, tc + H_RECOVERY, r.to_hedge[h])
        if sale or repaid:
            put(L, NL, t, tc + H_WRITE_OFF, r.hclaim[h])
            r.hclaim[h] = 0.0
        put(L, NL, t, tc + H_CLAIM, r.hclaim[h])
    if sale or repaid:  # a surplus is the sponsors'
        r.equity_out += pool
        r.end = t
        r.in_workout = False
    return sale


cdef inline bint accelerate_in(Run *r, LedgerT L) noexcept nogil:
    """Twin of reference._accelerate at period r.t with cause r.cause: the claim is fixed,
    the lenders fund the costs left unpaid (r.unpaid), take the cash left (r.cash) and the
    reserves, and sell now or run a workout until the sale. True when the deal ends here."""
    cdef const Prog *p = r.p
    cdef TState *ts = r.ts
    cdef int t = r.t, k, a, h
    cdef double x, amount, received = 0.0
    r.accel = t
    r.in_workout = True
    if p.sale_rule:
        r.sale_at = best_sale(r, t)
    else:
        r.sale_at = p.T if p.T < t + p.sale_periods else t + p.sale_periods
    put(L, p.n_lines, t, G_EVENT_OF_DEFAULT, 1.0)
    for k in range(p.K):
        ts[k].arrears = ts[k].int_due - ts[k].int_paid
        ts[k].claim = ts[k].balance + ts[k].paid + ts[k].int_due
        put(L, p.n_lines, t, N_GLOBAL + k * N_TRANCHE_LINES + T_CLAIM, ts[k].claim)
        receive(&ts[k], ts[k].int_paid + ts[k].paid)
    advance(r, L, t, r.unpaid)
    x = 0.0
    for a in range(p.A):
        x += r.reserve[a]
        r.reserve[a] = 0.0
    # every hedge terminates (reference._terminate_hedges): owed to a bank it is a claim,
    # owed to the SPV the bank pays it into the recovery
    for h in range(p.H):
        amount = hedge_termination(p, h, t, r.index) + ((r.hdue[h] if r.hdue[h] > 0.0 else 0.0) - r.hpay[h])
        put(L, p.n_lines, t, p.hedge0 + h * N_HEDGE_LINES + H_TERMINATION, amount)
        if amount > 0.0:
            r.hclaim[h] = amount
        else:
            received -= amount
        r.hdue[h] = 0.0   # terminated: nothing more settles
        r.hpay[h] = 0.0
    put(L, p.n_lines, t, G_HEDGE_TERMINATION_RECEIVED, received)
    return recover(r, L, t, r.cash + x + received, t == r.sale_at, r.exit_proceeds)


cdef inline bint workout_in(Run *r, LedgerT L) noexcept nogil:
    """Twin of reference._workout_period at period r.t (revenue, opex and CFADS are
    written by the caller): collect the net cash, fund a shortfall, accrue interest at the
    contract rate plus the default margin on the claim; sell at the sale period (True)."""
    cdef const Prog *p = r.p
    cdef TState *ts = r.ts
    cdef int t = r.t, W = p.T + 1, NL = p.n_lines, k, tc
    cdef double rate, accrued, net, cash
    put(L, NL, t, G_WORKOUT, 1.0)
    put(L, NL, t, G_WORKOUT_COSTS, p.workout_cost)
    for k in range(p.K):
        tc = N_GLOBAL + k * N_TRANCHE_LINES
        ts[k].discount /= 1.0 + r.prr[k][t]
        rate = r.prr[k][t] + p.default_margin * p.accrual[k * W + t]
        accrued = (ts[k].balance + ts[k].arrears) * rate
        put(L, NL, t, tc + T_BALANCE_OPEN, ts[k].balance)
        put(L, NL, t, tc + T_INTEREST_DUE, accrued)
        ts[k].arrears += accrued
    net = r.cfads - p.workout_cost
    advance(r, L, t, -net if -net > 0.0 else 0.0)
    cash = net if net > 0.0 else 0.0
    put(L, NL, t, G_CASH_AVAILABLE, cash)
    return recover(r, L, t, cash, t == r.sale_at, 0.0)


cdef bint accelerate_ledger(Run *r) noexcept nogil:
    return accelerate_in(r, <DoublePtr>r.L)


cdef bint accelerate_metrics(Run *r) noexcept nogil:
    return accelerate_in(r, <NoLedgerPtr>NULL)


cdef bint workout_ledger(Run *r) noexcept nogil:
    return workout_in(r, <DoublePtr>r.L)


cdef bint workout_metrics(Run *r) noexcept nogil:
    return workout_in(r, <NoLedgerPtr>NULL)


cdef inline bint has_lenders(const TState *ts, int K, int accel, const double *hdue, int H) noexcept nogil:
    """reference._period's `lenders`: not accelerated yet, and more than dust owed
    (balances, the period's cash interest due and hedge settlements owed, summed as
    Python's sum does)."""
    cdef double balance = 0.0, due = 0.0, hedge = 0.0
    cdef int k
    if accel >= 0:
        return False
    for k in range(K):
        balance += ts[k].balance
    for k in range(K):
        due += ts[k].int_due
    for k in range(H):
        if hdue[k] > 0.0:
            hedge += hdue[k]
    return balance + due + hedge > DUST


cdef inline bint call_cold(ColdFn fn, Run *r) noexcept nogil:
    """Call a cold function through a pointer the compiler cannot see through, so that it
    is never inlined into the period loop (whose hot state then stays in registers)."""
    return (<ColdFn>wf_opaque(<void *>fn))(r)


cdef inline void llcr_path(const Prog *p, LedgerT L, double npv_end, const double *npv_before,
                           const double *disc_before, const double *debt_open, const double *dsra_open,
                           int senior, int stop, int accel, double *metrics, double *work) noexcept nogil:
    """Twin of metrics.llcr_path: the LLCR at each calculation date from COD to the notional
    maturity, up to the acceleration period (ledger line llcr, NaN elsewhere), and its minimum.
    `work` [W]: the dates' ratios, computed first in a pass of independent divisions (vector
    ones), then read where the date is tested."""
    cdef int t, last = p.T if accel < 0 else accel, NL = p.n_lines
    cdef double value, low = NAN
    if LedgerT is DoublePtr:
        for t in range(p.T + 1):
            put(L, NL, t, G_LLCR, NAN)
    if last > p.llcr_end:
        last = p.llcr_end
    if last > p.llcr_dates_end:
        last = p.llcr_dates_end
    if last >= stop:
        last = stop - 1
    if senior < 0:
        last = p.cod - 1
    # (npv_end - npv_before) / disc (+ DSRA) over the debt, in one division
    if p.llcr_dsra:
        for t in range(p.cod, last + 1):
            work[t] = ((npv_end - npv_before[t]) + dsra_open[t] * disc_before[t]) / (disc_before[t] * debt_open[t])
    else:
        for t in range(p.cod, last + 1):
            work[t] = (npv_end - npv_before[t]) / (disc_before[t] * debt_open[t])
    for t in range(p.cod, last + 1):
        if not (debt_open[t] > DUST):
            continue
        value = work[t]
        put(L, NL, t, G_LLCR, value)
        if isnan(low) or value < low:
            low = value
    metrics[M_MIN_LLCR] = low


cdef double owner_tax(const Prog *p, LedgerT L, const double *income, int last, double exit_proceeds,
                      const double *ecf, double *acf) noexcept nogil:
    """Twin of taxes.owner_tax: the owner's income tax on periods 0..last from their
    taxable income before depreciation (`income`), the after-tax equity flows (acf) and
    the ledger's tax lines. Returns the total income tax."""
    cdef int t, W = p.T + 1, NL = p.n_lines
    cdef double nol = 0.0, left = p.tax_basis, total = 0.0, dep, taxable, tax, used
    for t in range(W):
        acf[t] = ecf[t]
    for t in range(last + 1):
        dep = p.tax_depreciation[t]
        left -= dep
        taxable = income[t] - dep
        if t == p.T and exit_proceeds > 0.0:
            taxable += exit_proceeds - left
        if p.tax_offset:
            tax = p.tax_rate * taxable
        elif taxable < 0.0:
            nol = nol - taxable
            tax = 0.0
        else:
            used = p.tax_nol_limit * taxable
            if nol <= used:
                used = nol
            nol = nol - used
            tax = p.tax_rate * (taxable - used)
        put(L, NL, t, G_DEPRECIATION, dep)
        put(L, NL, t, G_TAXABLE_INCOME, taxable)
        put(L, NL, t, G_TAX_LOSS_CARRIED, nol)
        put(L, NL, t, G_INCOME_TAX, tax)
        acf[t] = ecf[t] - tax
        total += tax
    for t in range(W):
        put(L, NL, t, G_EQUITY_AFTER_TAX, acf[t])
    return total


ctypedef struct Scn:
    # A scenario's work space and its state from one period to the next: carved out and set
    # up by scn_setup, carried by scn_periods (which can start at any period: the lane
    # block hands a lane over to it mid-life, _lanes.pxi) and summarised by scn_metrics.
    double *own_an        # [K, W] floating tranches' annual rate (ledger) / a refinanced one's
    double *own_pr        # [K, W] their per-period rate
    double *own_sched     # [K, W] scenario copy of a schedule
    double *lcf           # [W] lenders' cash flow
    double *ecf           # [W] equity cash flow
    TState *ts            # [K] tranche state
    double *reserve       # [A]
    double *alloc         # [2K] allocate's scratch
    double *index         # [W] the hedges' index (base + rate add-on)
    double *hdue          # [H] hedge settlements due in cash
    double *hpay          # [H] paid by the hedge steps (signed)
    double *hclaim        # [H] termination claims
    double *to_hedge      # [H] allocate's scratch
    double *npv_before    # [W] LLCR path: NPV from COD through t-1,
    double *disc_before   # [W] the discount factor through t-1,
    double *debt_open     # [W] covenant tranches' opening balance,
    double *dsra_open     # [W] DSRA opening balances
    double *irr_work      # [2W] the IRRs' work space
    double *cov_cfads     # [W] each period's CFADS + equity cure (trailing DSCR)
    double *cov_ds        # [W] each period's debt service (trailing DSCR)
    double *tax_income    # [W] taxable income before depreciation
    double *acf           # [W] equity flows after the owner's tax
    double *dsra_pre      # [3K, W] the DSRA's prefix sums (dsra_prefix)
    double *dfac          # [W] the LLCR's discount factor of each period
    double *lc_owed       # [A] owed to each account's LC bank
    double *lc_out        # [A] the period's LC amount at the waterfall's disposal
    double *lc_open       # [A] lc_owed at the start of the period
    double *hedge_pre     # [H, W] each hedge's cash settlements summed through each period (hedge_prefix)
    double **anr          # [K] row pointers: annual rate,
    double **prr          # per-period rate,
    double **schr         # scheduled principal
    double *fch[N_CHANNELS]   # factor rows by channel
    const double *base    # [W] the base-rate path
    int senior            # the first covenant tranche (-1: none): the LLCR's discount rate
    bint own_only         # no set test on a trailing or projected basis
    bint basis_used[3]    # the DSCR bases a set covenant tests (dscr_windows.bases_used)
    Run run
    # carried from one period to the next
    const double *draw_   # p.draw; p.no_draw once the lenders have accelerated
    int cure_count        # consecutive periods below the default DSCR
    int cures             # equity cures used
    int n_ds              # periods with debt service (the average DSCR)
    int first_ds          # the first period with debt service (trailing DSCR)
    int accel_n_ds
    int stop              # the period after the last that ran (W: all of them)
    double min_dscr
    double sum_dscr
    double accel_min_dscr
    double accel_sum_dscr
    double eq_dist_total
    double eq_in_total
    double discount       # LLCR/PLCR: the discount factor through the period
    double npv_loan
    double npv_project
    double debt0          # the covenant tranches' balance at COD
    double support_used   # capped sponsor support drawn so far
    double last_cfads     # the period before's CFADS and debt service (extension test)
    double last_ds
    double exit_proceeds  # the last period's exit proceeds (the owner's tax)
    bint in_workout
    bint refinanced       # a maturity has moved: no quiet periods from here on


cdef void floating_rates(const double *base, const double *add, double floor_, const double *spread,
                         const double *accrual, int W, double *per_period, double *annual) noexcept nogil:
    """A floating tranche's rate each period: the base rate plus the scenario's add-on, at
    least the floor, plus the spread, at least zero; `per_period` the rate x the period's
    accrual fraction, `annual` (NULL: none wanted) the annual rate. (Branch-free, so the
    compiler runs the loop in vectors.)"""
    cdef int t
    cdef double rate
    for t in range(W):
        rate = base[t] + add[t]
        rate = floor_ if rate < floor_ else rate
        rate = rate + spread[t]
        rate = 0.0 if rate < 0.0 else rate
        per_period[t] = rate * accrual[t]
    if annual != NULL:
        for t in range(W):
            rate = base[t] + add[t]
            rate = floor_ if rate < floor_ else rate
            rate = rate + spread[t]
            annual[t] = 0.0 if rate < 0.0 else rate


cdef void scn_setup(Scn *c, const Prog *p, int s, const int64_t *adj_channel, const int64_t *adj_from,
                    const int64_t *adj_to, const double *adj_value, int J, const double *base,
                    double *scratch, double **ptrs, double *ledger) noexcept nogil:
    """A scenario's set-up: its work space carved out of `scratch` and `ptrs` (this
    thread's or this lane's), its factor rows from its adjustments, its rates, the
    tranches' and accounts' opening state, the DSRA's prefix sums and the LLCR's
    discount factors. `ledger` is its ledger [T+1, lines], or NULL for metrics only.
    Rows a scenario does not change (factor channels it does not touch, fixed-rate
    tranches' rates, schedules until a refinancing) point to shared rows."""
    cdef int W = p.T + 1, K = p.K, A = p.A, H = p.H, cod = p.cod
    cdef int t, k, a, j, ch, lo, hi, h, i
    cdef int ts_words = <int>(sizeof(TState) // sizeof(double))
    cdef double v, rate
    cdef double *row
    cdef double *own_factor = scratch                   # [N_CHANNELS, W]
    cdef TState *ts
    c.own_an = own_factor + N_CHANNELS * W
    c.own_pr = c.own_an + K * W
    c.lcf = c.own_pr + K * W
    c.ecf = c.lcf + W
    c.ts = <TState *>(c.ecf + W)
    ts = c.ts
    c.own_sched = c.ecf + W + ts_words * K
    c.reserve = c.own_sched + K * W
    c.alloc = c.reserve + A
    c.index = c.alloc + 2 * K
    c.hdue = c.index + W
    c.hpay = c.hdue + H
    c.hclaim = c.hpay + H
    c.to_hedge = c.hclaim + H
    c.npv_before = c.to_hedge + H
    c.disc_before = c.npv_before + W
    c.debt_open = c.disc_before + W
    c.dsra_open = c.debt_open + W
    c.irr_work = c.dsra_open + W
    c.cov_cfads = c.irr_work + 2 * W
    c.cov_ds = c.cov_cfads + W
    c.tax_income = c.cov_ds + W
    c.acf = c.tax_income + W
    c.dsra_pre = c.acf + W
    c.dfac = c.dsra_pre + 3 * K * W
    c.lc_owed = c.dfac + W
    c.lc_out = c.lc_owed + A
    c.lc_open = c.lc_out + A
    c.hedge_pre = c.lc_open + A
    c.anr = ptrs
    c.prr = ptrs + K
    c.schr = ptrs + 2 * K
    c.base = base
    for i in range(3):
        c.basis_used[i] = ((p.lock_up_dscr >= 0.0 and p.lock_up_basis == i)
                           or (p.default_dscr >= 0.0 and p.default_basis == i))
    c.own_only = not c.basis_used[1] and not c.basis_used[2]
    for t in range(0 if c.own_only else W):   # read by the trailing DSCR only (dscr_window_sums)
        c.cov_cfads[t] = 0.0
        c.cov_ds[t] = 0.0

    # scenario factors: only the channels the scenario touches get a row of their own;
    # an additive channel (ops.ADDITIVE_CHANNELS) starts at 0 and adds, any other at 1 and multiplies
    for ch in range(N_CHANNELS):
        c.fch[ch] = p.zeros if p.additive[ch] else p.ones
    for j in range(J):
        ch = <int>adj_channel[s * J + j]
        if ch < 0:
            continue
        row = own_factor + ch * W
        if c.fch[ch] != row:
            v = 0.0 if p.additive[ch] else 1.0
            for t in range(W):
                row[t] = v
            c.fch[ch] = row
        lo = <int>adj_from[s * J + j]
        hi = <int>adj_to[s * J + j]
        v = adj_value[s * J + j]
        if p.additive[ch]:
            for t in range(lo, hi + 1):
                row[t] = row[t] + v
        else:
            for t in range(lo, hi + 1):
                row[t] = row[t] * v
    for k in range(K):
        if p.is_floating[k]:
            row = c.own_pr + k * W
            floating_rates(base, c.fch[CH_RATE_ADD], p.floor[k], p.spread + k * W, p.accrual + k * W, W, row,
                           c.own_an + k * W if ledger != NULL else NULL)
            c.prr[k] = row
            c.anr[k] = c.own_an + k * W
        else:
            c.prr[k] = p.pr_fixed + k * W
            c.anr[k] = p.an_fixed + k * W
        c.schr[k] = p.sched + k * W
        ts[k].balance = 0.0
        ts[k].maturity = p.maturity[k]
        ts[k].matured = -1
        ts[k].ext_left = p.ext_options[k]
        ts[k].ext_at = -1
        ts[k].repaid = 0.0
        ts[k].repaid_t = 0.0
        ts[k].arrears = 0.0
        ts[k].claim = 0.0
        ts[k].received = 0.0
        ts[k].pv = 0.0
        ts[k].discount = 1.0
    for a in range(A):
        c.reserve[a] = 0.0
        c.lc_owed[a] = 0.0
        c.lc_out[a] = 0.0
    if p.any_dsra_window:   # the DSRA target's prefix sums (dsra_target_window)
        for k in range(K):
            if p.dsra_cov8[k]:
                dsra_prefix(c.prr[k], c.schr[k], W, c.dsra_pre + 3 * k * W)
    for t in range(W if H > 0 else 0):   # read by the hedges' rules only
        c.index[t] = base[t] + c.fch[CH_RATE_ADD][t]
    if H > 0:
        hedge_prefix(p, c.index, c.hedge_pre)
    for h in range(H):
        c.hdue[h] = 0.0
        c.hpay[h] = 0.0
        c.hclaim[h] = 0.0
        c.to_hedge[h] = 0.0
    scn_setup_run(c, p, ledger)
    # LLCR/PLCR are accumulated as the periods run (definitions: waterfall/metrics.py)
    c.senior = -1
    for k in range(K):
        if p.dscr8[k] and c.senior < 0:
            c.senior = k
    if c.senior >= 0:   # 1 / (1 + rate) of every period at once (vectorised), out of the period loop
        row = c.prr[c.senior]
        for t in range(cod if cod > 0 else 0, W):
            c.dfac[t] = 1.0 / (1.0 + row[t])


cdef void scn_setup_run(Scn *c, const Prog *p, double *ledger) noexcept nogil:
    """The enforcement state (Run) and the carried state at financial close."""
    c.run.p = p
    c.run.L = ledger
    c.run.ts = c.ts
    c.run.reserve = c.reserve
    c.run.fch = c.fch
    c.run.prr = c.prr
    c.run.to_int = c.alloc
    c.run.to_prin = c.alloc + p.K
    c.run.index = c.index
    c.run.hdue = c.hdue
    c.run.hpay = c.hpay
    c.run.hclaim = c.hclaim
    c.run.to_hedge = c.to_hedge
    c.run.accel = -1
    c.run.sale_at = -1
    c.run.end = -1
    c.run.in_workout = False
    c.run.cause = 0.0
    c.draw_ = p.draw
    c.cure_count = 0
    c.cures = 0
    c.n_ds = 0
    c.first_ds = -1
    c.accel_n_ds = 0
    c.stop = p.T + 1
    c.min_dscr = NAN
    c.sum_dscr = 0.0
    c.accel_min_dscr = NAN
    c.accel_sum_dscr = 0.0
    c.eq_dist_total = 0.0
    c.eq_in_total = 0.0
    c.discount = 1.0
    c.npv_loan = 0.0
    c.npv_project = 0.0
    c.debt0 = NAN
    c.support_used = 0.0
    c.last_cfads = 0.0
    c.last_ds = 0.0
    c.exit_proceeds = 0.0
    c.in_workout = False
    c.refinanced = False


cdef bint scn_periods(Scn *c, const Prog *p, int t0, LedgerT L, int64_t *status) noexcept nogil:
    """Periods t0..T of a set-up scenario (reference._period, one after another), from the
    state `c` carries in, which it carries out. False (and `status` set to
    (ERR_UNKNOWN_STEP, step index)) where a step has no branch. Once the lenders
    accelerate, the periods run in the cold functions above (Run)."""
    cdef int T = p.T, W = p.T + 1, K = p.K, A = p.A, NL = p.n_lines, S = p.S, cod = p.cod, H = p.H, h
    cdef bint ledger = LedgerT is DoublePtr
    cdef int t, k, a, j, c_, i, op, arg
    cdef int tc, acc0 = N_GLOBAL + K * N_TRANCHE_LINES, fee0 = N_GLOBAL + K * N_TRANCHE_LINES + A * N_ACCOUNT_LINES
    cdef double *own_an = c.own_an
    cdef double *own_pr = c.own_pr
    cdef double *own_sched = c.own_sched
    cdef double *lcf = c.lcf
    cdef double *ecf = c.ecf
    cdef TState *ts = c.ts
    cdef double *reserve = c.reserve
    cdef double *index = c.index
    cdef double *hdue = c.hdue
    cdef double *hpay = c.hpay
    cdef double *hclaim = c.hclaim
    cdef double *npv_before = c.npv_before
    cdef double *disc_before = c.disc_before
    cdef double *debt_open = c.debt_open
    cdef double *dsra_open = c.dsra_open
    cdef double *cov_cfads = c.cov_cfads
    cdef double *cov_ds = c.cov_ds
    cdef double *tax_income = c.tax_income
    cdef double *dsra_pre = c.dsra_pre
    cdef double *hedge_pre = c.hedge_pre
    cdef double *dfac = c.dfac
    cdef double *lc_owed = c.lc_owed
    cdef double *lc_out = c.lc_out
    cdef double *lc_open = c.lc_open
    cdef double **anr = c.anr
    cdef double **prr = c.prr
    cdef double **schr = c.schr
    cdef double **fch = c.fch
    cdef const double *base = c.base
    cdef Run *run = &c.run
    cdef double hedge_net
    cdef const double *base_rent = p.base_rent
    cdef const double *opex_ = p.opex
    cdef const double *capex = p.capex
    cdef const double *equity_in = p.equity_in
    cdef const double *draw_ = c.draw_
    cdef const unsigned char *cap8 = p.cap8
    cdef const unsigned char *dscr8 = p.dscr8
    cdef const int *sop = p.sop
    cdef const int *sarg = p.sarg
    cdef const double *f_rent = c.fch[CH_RENT]
    cdef const double *f_opex = c.fch[CH_OPEX]
    cdef double revenue, opx, cfads, draws, release, earned, cash, support, debt_service, dscr
    cdef double interest, pay, shortfall, target, share, equity_out, fees_paid, due
    cdef double rate, x, v
    cdef double collateral, excess, b, d, sc, lcf_t, cause, cure, unpaid
    cdef double hedge_ds, exit_proceeds = c.exit_proceeds
    cdef double lock_up_dscr = p.lock_up_dscr, default_dscr = p.default_dscr
    cdef bint locked, below, breach, ended, tenant_ev, cross_ev
    cdef int lenders
    cdef int senior = c.senior, mat, cure_periods = p.cure_periods, llcr_end = p.llcr_end
    cdef const unsigned char *quiet = p.quiet
    cdef double short = 0.0, refi_short, other, balloon, value, ext_pay, ext_fee, ods, sc2, oint, ext_rate
    cdef double hr_debt = 0.0              # the hedge ratio's floating covenant debt (opening balances)
    cdef bint hedge_breach
    cdef bint basis_used[3]
    cdef bint basis_ok[3]
    cdef bint own_only = c.own_only
    cdef double basis_num[3]
    cdef double basis_den[3]
    # the carried state, in locals (registers) while the periods run
    cdef int cure_count = c.cure_count, n_ds = c.n_ds, cures = c.cures, stop = c.stop
    cdef int first_ds = c.first_ds, accel_n_ds = c.accel_n_ds
    cdef double min_dscr = c.min_dscr, sum_dscr = c.sum_dscr, eq_dist_total = c.eq_dist_total
    cdef double eq_in_total = c.eq_in_total, discount = c.discount, npv_loan = c.npv_loan
    cdef double npv_project = c.npv_project, debt0 = c.debt0, support_used = c.support_used
    cdef double accel_min_dscr = c.accel_min_dscr, accel_sum_dscr = c.accel_sum_dscr
    cdef double last_cfads = c.last_cfads, last_ds = c.last_ds
    cdef bint in_workout = c.in_workout, refinanced = c.refinanced
    cdef bint ext_now = False             # an extension option exercised this period (ext_undo)
    cdef bint offer, deferred             # a refinancing on offer at a maturity; its sizing left to ext_undo
    for i in range(3):
        basis_used[i] = c.basis_used[i]
        basis_num[i] = 0.0
        basis_den[i] = 1.0
    basis_ok[1] = False
    basis_ok[2] = False

    for t in range(t0, W):
        revenue = base_rent[t] * f_rent[t]
        opx = opex_[t] * f_opex[t]
        cfads = revenue - opx
        if senior >= 0 and t >= cod:
            npv_before[t] = npv_loan   # the LLCR path (metrics.llcr_path)
            disc_before[t] = discount
            x = NAN
            for j in range(p.n_dscr):   # the covenant tranches (dscr8), in order
                k = p.dscr_k[j]
                x = ts[k].balance if isnan(x) else x + ts[k].balance
            debt_open[t] = x
            if p.llcr_dsra:   # only an LLCR net of DSRA reads it
                x = 0.0
                for a in range(A):
                    if p.acct_kind[a] == ACC_DSRA:
                        x += reserve[a]
                dsra_open[t] = x
            # final: a refinancing rewrites later periods only. Multiplied by the period's
            # factor: the division is off the discount's loop-carried chain
            discount *= dfac[t] if not refinanced else 1.0 / (1.0 + prr[senior][t])
            if t <= llcr_end:
                npv_loan += cfads * discount
            npv_project += cfads * discount
        put(L, NL, t, G_REVENUE, revenue)
        put(L, NL, t, G_OPEX, opx)
        put(L, NL, t, G_CFADS, cfads)
        if in_workout:  # the lenders run the SPV until the sale (reference._workout_period)
            if t == cod:
                for k in range(K):
                    if dscr8[k]:
                        debt0 = ts[k].balance if isnan(debt0) else debt0 + ts[k].balance
            run.t = t
            run.cfads = cfads
            run.lcf_t = 0.0
            run.equity_out = 0.0
            if LedgerT is DoublePtr:
                ended = call_cold(workout_ledger, run)
            else:
                ended = call_cold(workout_metrics, run)
            in_workout = run.in_workout
            lcf[t] = run.lcf_t
            ecf[t] = run.equity_out
            eq_dist_total += run.equity_out
            put(L, NL, t, G_EQUITY_DISTRIBUTION, run.equity_out)
            if ended:
                stop = t + 1
                break
            continue
        put(L, NL, t, G_CAPEX, capex[t])
        put(L, NL, t, G_EQUITY_IN, equity_in[t])

        if p.hedge_ratio_min >= 0.0:   # the floating covenant debt's opening balance (hedges.hedge_ratio)
            hr_debt = 0.0
            for k in range(K):
                if dscr8[k] and p.is_floating[k]:
                    hr_debt += ts[k].balance
        draws = 0.0
        refi_short = 0.0
        ext_now = False
        lcf_t = 0.0
        if not ledger and quiet[t] and not refinanced:
            # no close/COD, draw, capitalisation or maturity this period: the loop below
            # reduces to this (the same operations on the same values)
            for k in range(K):
                b = ts[k].balance
                ts[k].int_paid = 0.0
                ts[k].paid = 0.0
                ts[k].int_due = money(b * prr[k][t], p.round_to[k])
                sc = schr[k][t]
                if b < sc:
                    sc = b
                ts[k].scheduled = sc
                ts[k].prin_due = sc
        else:
          for k in range(K):
            tc = N_GLOBAL + k * N_TRANCHE_LINES
            b = ts[k].balance
            if t == cod:
                if dscr8[k]:
                    debt0 = b if isnan(debt0) else debt0 + b
            put(L, NL, t, tc + T_BALANCE_OPEN, b)
            if ledger:
                put(L, NL, t, tc + T_RATE, anr[k][t])
            interest = money(b * prr[k][t], p.round_to[k])
            put(L, NL, t, tc + T_INTEREST_DUE, interest)
            ts[k].int_paid = 0.0
            ts[k].paid = 0.0
            if cap8[k * W + t]:
                put(L, NL, t, tc + T_INTEREST_CAPITALISED, interest)
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
            sc = schr[k][t]
            if b < sc:
                sc = b
            ts[k].scheduled = sc
            ts[k].prin_due = b if t == mat else sc
            if t == mat and t < T and (p.refi_periods[k] > 0 or p.ext_options[k] > 0):
                # reference._accrue: refinancing.at_maturity
                other = 0.0
                for j in range(K):
                    if j != k:
                        other += ts[j].balance
                ts[k].matured = t
                refinanced = True   # the maturity may move: no quiet periods from here on
                short = b - sc
                if not (short > 0.0):
                    short = 0.0
                x = 0.0     # the new loan
                ext_fee = 0.0
                if short > DUST:
                    balloon = short
                    value = refi_appraisal(p, fch, t)
                    offer = p.refi_periods[k] > 0 and fch[CH_REFI][t] > 0.0
                    ods = 0.0
                    if offer:
                        # refinancing.other_service: the other tranches' debt service of t+1
                        for j in range(K):
                            if j == k or t + 1 > ts[j].maturity:
                                continue
                            oint = 0.0 if cap8[j * W + t + 1] else ts[j].balance * prr[j][t + 1]
                            sc2 = schr[j][t + 1]
                            ods += oint + (sc2 if sc2 < ts[j].balance else ts[j].balance)
                    ext_pay = -1.0
                    if ts[k].ext_left > 0:
                        # refinancing.tested_rate: the cash rate of t-1 on covenant debt
                        ext_rate = prr[k][t - 1] if t >= 1 and dscr8[k] and not cap8[k * W + t - 1] else 0.0
                        ext_pay = ext_paydown(p, k, t, balloon, other, f_rent, f_opex, value, last_cfads, last_ds,
                                              ext_rate)
                    # the new loan (refi_size, at most the balloon) decides only against a paydown:
                    # an option that needs none extends whatever is on offer, which is sized only
                    # if the option is undone (ext_undo)
                    deferred = offer and ext_pay == 0.0
                    if offer and not deferred:
                        x = refi_size(p, k, t, balloon, other, base, fch[CH_RATE_ADD], f_rent, f_opex, value, ods,
                                      fch[CH_REFI_SPREAD][t])
                    short = balloon - x
                    if 0.0 <= ext_pay and ext_pay <= short:
                        ts[k].ext_left -= 1
                        ext_apply(p, k, t, anr, prr, own_an, own_pr, ts, ledger)
                        ts[k].ext_at = t   # what undoing it restores (reference._maturity_cure)
                        ts[k].ext_loan = -1.0 if deferred else x
                        ts[k].ext_short = short
                        ts[k].ext_ods = ods if x > 0.0 or deferred else 0.0
                        ts[k].ext_balloon = balloon
                        ts[k].ext_other = other
                        ts[k].ext_value = value
                        ts[k].ext_pay = ext_pay
                        ts[k].ext_int = ts[k].int_due
                        ts[k].ext_line = interest
                        ext_now = True
                        x = 0.0
                        short = ext_pay
                        ext_fee = p.ext_fee[k] * balloon
                    elif x > 0.0:
                        refi_apply(p, k, t, x, base, fch[CH_RATE_ADD], anr, prr, schr, own_an, own_pr,
                                   own_sched, ts, ledger, fch[CH_REFI_SPREAD][t], f_rent, ods)
                put(L, NL, t, tc + T_REFINANCED, x)
                ts[k].prin_due = sc + short
                refi_short += short
                if ext_fee > 0.0:   # an extension fee, paid with the interest
                    ts[k].int_due += ext_fee
                    add(L, NL, t, tc + T_INTEREST_DUE, ext_fee)
            ts[k].balance = b
            put(L, NL, t, tc + T_PRINCIPAL_DUE, ts[k].prin_due)
        put(L, NL, t, G_DRAWS, draws)
        # hedge settlements (reference._hedge_settlements): owed in a capitalised period of
        # the hedged tranche, capitalised onto it; none once terminated at an acceleration
        for h in range(H if run.accel < 0 else 0):
            tc = p.hedge0 + h * N_HEDGE_LINES
            x = p.hedge_notional[h * W + t]
            due = hedge_settlement(<int>p.hedge_kind[h], x, p.hedge_accrual[h * W + t], index[t], p.hedge_rate[h])
            put(L, NL, t, tc + H_NOTIONAL, x)
            put(L, NL, t, tc + H_INDEX_RATE, index[t])
            put(L, NL, t, tc + H_NET_DUE, due)
            k = <int>p.hedge_tranche[h]
            if cap8[k * W + t] and due > 0.0:
                ts[k].balance += due
                add(L, NL, t, N_GLOBAL + k * N_TRANCHE_LINES + T_INTEREST_CAPITALISED, due)
                put(L, NL, t, tc + H_CAPITALISED, due)
                due = 0.0
            hdue[h] = due
            hpay[h] = 0.0

        # sources (reference._sources): reserves released, the exit sale, sponsor support
        release = 0.0
        earned = 0.0   # interest on the reserves' opening balances (reference._sources)
        for a in range(A):
            release += reserve[a]
            if p.any_acct_rate:   # (no account earns interest: nothing to add)
                earned += reserve[a] * p.acct_rate[a * W + t]
            put(L, NL, t, acc0 + N_ACCOUNT_LINES * a + A_BALANCE_OPEN, reserve[a])
            reserve[a] = 0.0
        put(L, NL, t, G_RESERVE_INTEREST, earned)
        exit_proceeds = 0.0
        if t == T and p.exit_share > 0.0:
            x = 0.0
            for c_ in range(N_COMPONENTS):
                x += p.asset_value[c_ * W + t] * fch[CH_VAL_LAND + c_][t]
            exit_proceeds = p.exit_share * x
        put(L, NL, t, G_EXIT_PROCEEDS, exit_proceeds)
        cash = cfads + draws + equity_in[t] - capex[t] + release + earned + exit_proceeds
        if H > 0:  # what the hedge banks pay for the period is a source of it
            x = 0.0
            for h in range(H):
                if hdue[h] < 0.0:
                    x += -hdue[h]
            cash = cash + x
        support = 0.0
        unpaid = 0.0
        lenders = -1  # whether the lenders could accelerate (reference._period), found when needed
        if cash < 0.0:  # the sponsors pay as far as their support terms say (reference._support)
            lenders = has_lenders(ts, K, run.accel, hdue, H)
            if not lenders or -cash <= DUST:  # no lender owed anything, or rounding dust: all of it
                support = -cash
            elif p.support_kind == p.support_unlimited:
                support = -cash
            elif p.support_kind == p.support_capped:
                x = p.support_cap - support_used
                if not (x > 0.0):
                    x = 0.0
                support = x if x < -cash else -cash
                support_used += support
            unpaid = -cash - support
            cash = 0.0
        put(L, NL, t, G_RESERVE_RELEASE, release)
        put(L, NL, t, G_SPONSOR_SUPPORT, support)
        put(L, NL, t, G_CASH_AVAILABLE, cash)

        # covenants (reference._covenants): DSCR, an equity cure, lock-up, a breach's consequence
        debt_service = 0.0
        for j in range(p.n_dscr):   # the covenant tranches (dscr8), in order
            k = p.dscr_k[j]
            debt_service += ts[k].int_due + ts[k].scheduled
        if H > 0:  # net hedged debt service: the settlements of hedges on covenant tranches
            hedge_ds = 0.0
            for h in range(H):
                if dscr8[p.hedge_tranche[h]]:
                    hedge_ds += hdue[h]
            debt_service += hedge_ds
        dscr = cfads / debt_service if debt_service > DUST else NAN
        # each test's DSCR on its basis (reference._dscr_tests; waterfall/dscr_windows.py)
        if debt_service > DUST and first_ds < 0:
            first_ds = t
        cov_cfads[t] = cfads
        cov_ds[t] = debt_service
        if own_only:   # every set test on the period's own ratio: no window sums
            basis_ok[0] = debt_service > DUST and basis_used[0]
            basis_num[0] = cfads
            basis_den[0] = debt_service
        for i in range(0 if own_only else 3):
            basis_ok[i] = False
            if debt_service > DUST and basis_used[i]:
                if i == 0:   # the period's own ratio (dscr_window_sums' basis 0, without the call)
                    basis_num[0] = cfads
                    basis_den[0] = debt_service
                    basis_ok[0] = True
                else:
                    basis_ok[i] = dscr_window_sums(p, i, t, cfads, debt_service, cov_cfads, cov_ds, first_ds, ts,
                                                   prr, schr, f_rent, f_opex, hedge_pre, &basis_num[i], &basis_den[i])
        # on basis 0 the ratio is dscr itself (cfads / debt_service: the same division)
        below = (basis_ok[p.default_basis] and default_dscr >= 0.0
                 and (dscr if p.default_basis == 0 else basis_num[p.default_basis] / basis_den[p.default_basis])
                 < default_dscr)
        # events a cure cannot mend (reference._covenants): the tenant, the linked obligor
        tenant_ev = False
        if p.tenant_accelerates and revenue <= 0.0 and t != 0 and not (base_rent[t] <= 0.0):
            tenant_ev = base_rent[t - 1] * f_rent[t - 1] > 0.0
        cross_ev = p.cross_accelerates and fch[CH_CROSS][t] <= 0.0
        cure = 0.0
        if below and cure_count + 1 > cure_periods and not (unpaid > 0.0 or tenant_ev or cross_ev):
            if cures < p.cure_max and t <= p.cure_until:  # reference._equity_cure
                x = default_dscr * basis_den[p.default_basis] - basis_num[p.default_basis]
                if x > 0.0 and not (p.cure_max_amount >= 0.0 and x > p.cure_max_amount):
                    cures += 1
                    cure = x
            if cure > 0.0:
                dscr = (cfads + cure) / debt_service
                below = False
        if cure != 0.0:
            cov_cfads[t] = cfads + cure
        put(L, NL, t, G_DEBT_SERVICE, debt_service)
        last_cfads = cfads
        last_ds = debt_service
        put(L, NL, t, G_DSCR, dscr)
        put(L, NL, t, G_EQUITY_CURE, cure)
        if ledger:
            for i in range(1, 3):
                x = NAN
                if basis_ok[i]:
                    x = (basis_num[i] + cure if cure != 0.0 else basis_num[i]) / basis_den[i]
                put(L, NL, t, G_DSCR_HISTORIC if i == 1 else G_DSCR_PROJECTED, x)
        if debt_service > DUST:
            n_ds += 1
            sum_dscr += dscr
            if isnan(min_dscr) or dscr < min_dscr:
                min_dscr = dscr
        if p.lock_up_basis == 0:
            x = dscr
        elif basis_ok[p.lock_up_basis]:
            x = (basis_num[p.lock_up_basis] + cure if cure != 0.0 else basis_num[p.lock_up_basis]) / basis_den[p.lock_up_basis]
        locked = t != T and basis_ok[p.lock_up_basis] and lock_up_dscr >= 0.0 and x < lock_up_dscr
        cure_count = cure_count + 1 if below else 0
        breach = cure_count > cure_periods
        put(L, NL, t, G_COVENANT_BREACH, 1.0 if breach else 0.0)
        if breach and t != T:  # a breach blocks distributions
            locked = True
        # the hedge-ratio covenant (reference._hedge_ratio_test, hedges.hedge_ratio)
        hedge_breach = False
        x = NAN
        if p.hedge_ratio_min >= 0.0 and t >= p.hedge_ratio_from and t <= p.hedge_ratio_to and hr_debt > DUST:
            v = 0.0
            if run.accel < 0:   # terminated at an acceleration: no notional
                for h in range(H):
                    k = <int>p.hedge_tranche[h]
                    if dscr8[k] and p.is_floating[k]:
                        v += p.hedge_notional[h * W + t]
            x = v / hr_debt
            hedge_breach = x < p.hedge_ratio_min - HEDGE_RATIO_TOL
        put(L, NL, t, G_HEDGE_RATIO, x)
        put(L, NL, t, G_HEDGE_RATIO_BREACH, 1.0 if hedge_breach else 0.0)
        if hedge_breach and not p.hedge_ratio_accelerates and t != T:
            locked = True
        put(L, NL, t, G_LOCK_UP, 1.0 if locked else 0.0)
        cause = 0.0
        if breach and p.breach_accelerates and cure_count > cure_periods + p.accelerate_after:
            cause = p.cause_covenant
        elif hedge_breach and p.hedge_ratio_accelerates:
            cause = p.cause_covenant
        elif tenant_ev:   # the lease in place stops paying (reference._tenant_event)
            cause = p.cause_tenant
        elif cross_ev:    # the linked obligor has defaulted
            cause = p.cause_cross_default
        if cure != 0.0:  # cash += cure (adding a zero cure would only lengthen the cash chain)
            cash += cure
        if cause != 0.0 or unpaid > 0.0:
            if lenders < 0:
                lenders = has_lenders(ts, K, run.accel, hdue, H)
            if not lenders:  # the lenders accelerate only once, and only while they are owed something
                cause = 0.0
            elif unpaid > 0.0:  # costs the SPV cannot meet: the lenders step in
                cause = p.cause_payment
        if refi_short > DUST or ext_now:  # reference._maturity_cure: refinancing.cure, the options' conditions
            if lenders < 0:
                lenders = has_lenders(ts, K, run.accel, hdue, H)
            v = refi_uncovered(p, t, cash, ts, hdue, refi_short)
            x = v if refi_short > DUST and lenders and cause == 0.0 and refi_curable(p, v, cures, t) else 0.0
            if ext_now and (not (lenders and cause == 0.0) or refi_free(p, t, cash, ts, hdue) < -DUST
                            or (refi_short > DUST and x <= 0.0 and v > DUST)):
                for k in range(K):   # refinancing.unextend: an option whose conditions are not met
                    if ts[k].ext_at == t:
                        refi_short = ext_undo(L, NL, t, p, k, ts, anr, prr, schr, own_an, own_pr, own_sched, ledger,
                                              base, fch, f_rent, refi_short)
                v = refi_uncovered(p, t, cash, ts, hdue, refi_short)
                x = v if refi_short > DUST and lenders and cause == 0.0 and refi_curable(p, v, cures, t) else 0.0
            for k in range(K if ext_now else 0):
                ts[k].ext_at = -1
            if x > 0.0:
                cures += 1
                cure += x
                add(L, NL, t, G_EQUITY_CURE, x)
                cash += x
        eq_in_total += equity_in[t] + support + cure
        for a in range(A):   # the letters of credit at the waterfall's disposal (reference._lc_liquidity)
            if p.acct_lc[a * W + t] != 0.0 and lenders < 0:
                lenders = has_lenders(ts, K, run.accel, hdue, H)
        cash += lc_liquidity(L, NL, t, acc0, p, A, W, lenders > 0, lc_owed, lc_out, lc_open)

        # the steps (waterfall/steps): the first that finds an event of default sets its
        # cause, and every later step pays nothing (so the loop stops there)
        equity_out = 0.0
        fees_paid = 0.0
        if cause == 0.0:
            for i in range(S):
                op = sop[i]
                arg = sarg[i]
                if op == OP_INTEREST:
                    due = ts[arg].int_due
                    pay = cash if cash < due else due
                    cash -= pay
                    ts[arg].int_paid += pay
                    lcf_t += pay
                    add(L, NL, t, N_GLOBAL + arg * N_TRANCHE_LINES + T_INTEREST_PAID, pay)
                    shortfall = due - pay
                    if shortfall > 0.0:
                        if p.hard[arg]:
                            if shortfall > DUST:   # rounding dust is no shortfall
                                cause = p.cause_payment
                                break
                        else:
                            ts[arg].balance += shortfall
                            add(L, NL, t, N_GLOBAL + arg * N_TRANCHE_LINES + T_INTEREST_CAPITALISED, shortfall)
                            ts[arg].int_due = pay
                elif op == OP_PRINCIPAL:
                    due = ts[arg].prin_due
                    pay = cash if cash < due else due
                    cash -= pay
                    repay(&ts[arg], pay, t)
                    lcf_t += pay
                    add(L, NL, t, N_GLOBAL + arg * N_TRANCHE_LINES + T_PRINCIPAL_PAID, pay)
                    if due - pay > DUST and (p.hard[arg] or t == ts[arg].maturity or t == ts[arg].matured):
                        cause = p.cause_maturity if (t == ts[arg].maturity or t == ts[arg].matured) else p.cause_payment
                        break
                elif op == OP_RESERVE:
                    # O(1) where it applies (rates and schedules as at the start: no refinancing yet)
                    if not (p.dsra_window8[arg] and t < T and not refinanced
                            and dsra_target_window(p, dsra_pre, ts, arg, t, &target)):
                        target = reserve_target(p, prr, schr, ts, arg, t, hedge_pre)
                    if lc_owed[arg] != 0.0 or lc_out[arg] != 0.0 or p.acct_lc[arg * W + t] != 0.0:
                        target = lc_reimburse(p, arg, t, W, target, &cash, lc_owed, lc_out)
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
                    add(L, NL, t, N_GLOBAL + arg * N_TRANCHE_LINES + T_PREPAYMENT, pay)
                elif op == OP_DISTRIBUTE:
                    if locked and arg >= 0:
                        reserve[arg] += cash
                    else:
                        equity_out += cash
                    cash = 0.0
                elif op == OP_HEDGE:
                    due = hdue[arg]
                    if 0.0 > due:   # what the bank owes was received with the sources
                        due = 0.0
                    pay = cash if cash < due else due
                    cash -= pay
                    hpay[arg] += pay
                    if due - pay > DUST:
                        cause = p.cause_payment
                        break
                elif op == OP_FEE:
                    due = p.fee_due[arg * W + t]
                    pay = cash if cash < due else due
                    cash -= pay
                    fees_paid += pay
                    put(L, NL, t, fee0 + N_FEE_LINES * arg + F_DUE, due)
                    put(L, NL, t, fee0 + N_FEE_LINES * arg + F_PAID, pay)
                elif op == OP_BORROWING_BASE:
                    collateral = wf_collateral(p.asset_value, fch + CH_VAL_LAND, p.bb_mask + arg * N_COMPONENTS, W, t,
                                               N_COMPONENTS)
                    excess = ts[arg].balance - p.bb_advance[arg] * collateral
                    if excess < 0.0:
                        excess = 0.0
                    pay = cash if cash < excess else excess
                    cash -= pay
                    repay(&ts[arg], pay, t)
                    lcf_t += pay
                    add(L, NL, t, N_GLOBAL + arg * N_TRANCHE_LINES + T_PREPAYMENT, pay)
                    if excess - pay > DUST and p.hard[arg]:
                        cause = p.cause_borrowing_base
                        break
                else:  # an opcode with no branch: stop this scenario and say which step
                    status[0] = ERR_UNKNOWN_STEP
                    status[1] = i
                    return False

        hedge_net = 0.0
        for h in range(H):   # reference._write_steps: paid at the step, less what the bank paid in
            x = hpay[h] - (-hdue[h] if hdue[h] < 0.0 else 0.0)
            put(L, NL, t, p.hedge0 + h * N_HEDGE_LINES + H_NET_PAID, x)
            add(L, NL, t, G_HEDGE_SETTLEMENT, x)
            hedge_net += x
        if p.tax_on:   # taxes.pre_depreciation_income (read only for periods before an acceleration)
            x = cfads - fees_paid - hedge_net
            if p.tax_interest:
                for k in range(K):
                    x = x - ts[k].int_paid
            tax_income[t] = x
        ended = False
        if cause != 0.0:  # the lenders accelerate (reference._accelerate), out of line
            cash = lc_at_acceleration(L, NL, t, acc0, A, cash, lc_owed, lc_out, lc_open)
            accel_min_dscr = min_dscr
            accel_sum_dscr = sum_dscr
            accel_n_ds = n_ds
            run.t = t
            run.cause = cause
            run.cash = cash
            run.unpaid = unpaid
            run.exit_proceeds = exit_proceeds
            run.lcf_t = lcf_t
            run.equity_out = equity_out
            if LedgerT is DoublePtr:
                ended = call_cold(accelerate_ledger, run)
            else:
                ended = call_cold(accelerate_metrics, run)
            in_workout = run.in_workout
            draw_ = p.no_draw  # accelerated: the commitments are cancelled
            lcf_t = run.lcf_t
            equity_out = run.equity_out
        lcf[t] = lcf_t
        put(L, NL, t, G_FEES_PAID, fees_paid)
        put(L, NL, t, G_EQUITY_DISTRIBUTION, equity_out)
        eq_dist_total += equity_out
        ecf[t] = equity_out - equity_in[t] - support - cure
        if cause != 0.0:
            if ended:
                stop = t + 1
                break
        elif ledger:
            x = 0.0
            for a in range(A):
                x += reserve[a]
                put(L, NL, t, acc0 + N_ACCOUNT_LINES * a + A_BALANCE_CLOSE, reserve[a])
            put(L, NL, t, G_RESERVE_FUNDING, x)
            lc_close(L, NL, t, acc0, A, lc_owed, lc_open)
            for k in range(K):
                put(L, NL, t, N_GLOBAL + k * N_TRANCHE_LINES + T_BALANCE_CLOSE, ts[k].balance)


    c.draw_ = draw_
    c.cure_count = cure_count
    c.n_ds = n_ds
    c.cures = cures
    c.stop = stop
    c.first_ds = first_ds
    c.accel_n_ds = accel_n_ds
    c.min_dscr = min_dscr
    c.sum_dscr = sum_dscr
    c.eq_dist_total = eq_dist_total
    c.eq_in_total = eq_in_total
    c.discount = discount
    c.npv_loan = npv_loan
    c.npv_project = npv_project
    c.debt0 = debt0
    c.support_used = support_used
    c.accel_min_dscr = accel_min_dscr
    c.accel_sum_dscr = accel_sum_dscr
    c.last_cfads = last_cfads
    c.last_ds = last_ds
    c.exit_proceeds = exit_proceeds
    c.in_workout = in_workout
    c.refinanced = refinanced
    for t in range(stop, W):   # after the sale: no more flows
        lcf[t] = 0.0
        ecf[t] = 0.0
    return True


cdef void scn_metrics(Scn *c, const Prog *p, LedgerT L, double *metrics, double *tranche_out,
                      const double *periodic_irr=NULL, const double *dated_irr=NULL) noexcept nogil:
    """A scenario's metrics (reference.summarise; definitions: waterfall/metrics.py) once its
    periods have run: `metrics` [N_METRICS] and `tranche_out` [2K] (each tranche's WAL in
    years, then its lender loss: metrics.tranche_losses). `periodic_irr`, where given, is
    the lenders' and equity's periodic IRR already solved (irr_periodic4, a lane block's;
    their flows' noise zeroed), not annualised; `dated_irr`, where given, their XIRRs already
    solved (irr_dated4, from those periodic IRRs annualised)."""
    cdef int T = p.T, W = p.T + 1, K = p.K, cod = p.cod, llcr_end = p.llcr_end, t, k
    cdef int stop = c.stop, senior = c.senior, n_ds = c.n_ds
    cdef double *lcf = c.lcf
    cdef double *ecf = c.ecf
    cdef double *dfac = c.dfac
    cdef double **prr = c.prr
    cdef TState *ts = c.ts
    cdef Run *run = &c.run
    cdef double *irr_work = c.irr_work
    cdef const double *base_rent = p.base_rent
    cdef const double *opex_ = p.opex
    cdef const double *f_rent = c.fch[CH_RENT]
    cdef const double *f_opex = c.fch[CH_OPEX]
    cdef bint refinanced = c.refinanced
    cdef double cfads, x, ppy, claim, received, pv, loss, loss_pv
    cdef double discount = c.discount, npv_loan = c.npv_loan, npv_project = c.npv_project
    cdef double min_dscr = c.min_dscr, sum_dscr = c.sum_dscr, debt0 = c.debt0
    cdef double exit_proceeds = c.exit_proceeds, eq_dist_total = c.eq_dist_total, eq_in_total = c.eq_in_total
    cdef double *npv_before = c.npv_before
    cdef double *disc_before = c.disc_before
    cdef double *debt_open = c.debt_open
    cdef double *dsra_open = c.dsra_open
    cdef double *tax_income = c.tax_income
    cdef double *acf = c.acf
    cdef double accel_min_dscr = c.accel_min_dscr, accel_sum_dscr = c.accel_sum_dscr
    cdef int accel_n_ds = c.accel_n_ds
    # after the sale (no more flows: scn_periods): the cover ratios still run to the end
    for t in range(stop, W):
        if senior >= 0 and t >= cod:
            cfads = base_rent[t] * f_rent[t] - opex_[t] * f_opex[t]
            discount *= dfac[t] if not refinanced else 1.0 / (1.0 + prr[senior][t])
            if t <= llcr_end:
                npv_loan += cfads * discount
            npv_project += cfads * discount

    # metrics (reference.summarise; definitions: waterfall/metrics.py)
    if run.accel >= 0:  # DSCR up to the acceleration period
        min_dscr = accel_min_dscr
        sum_dscr = accel_sum_dscr
        n_ds = accel_n_ds
    metrics[M_MIN_DSCR] = min_dscr
    metrics[M_AVG_DSCR] = sum_dscr / n_ds if n_ds > 0 else NAN
    metrics[M_LLCR] = NAN
    metrics[M_PLCR] = NAN
    if cod <= T and senior >= 0 and not isnan(debt0) and debt0 > DUST:
        x = npv_loan + dsra_open[cod] if p.llcr_dsra else npv_loan
        metrics[M_LLCR] = x / debt0
        metrics[M_PLCR] = npv_project / debt0
    llcr_path(p, L, npv_loan, npv_before, disc_before, debt_open, dsra_open, senior, stop,
              run.accel, metrics, irr_work)
    claim = 0.0
    received = 0.0
    pv = 0.0
    for k in range(K):
        claim += ts[k].claim
        received += ts[k].received
        pv += ts[k].pv
    loss = 0.0
    loss_pv = 0.0
    for k in range(K):
        x = ts[k].claim - ts[k].received
        loss += x if x > 0.0 else 0.0
    for k in range(K):
        x = ts[k].claim - ts[k].pv
        loss_pv += x if x > 0.0 else 0.0
    metrics[M_DEFAULT_PERIOD] = run.accel
    metrics[M_LENDER_CLAIM] = claim
    metrics[M_LENDER_RECEIVED] = received
    metrics[M_RECOVERY_RATE] = received / claim if claim > 0.0 else NAN
    metrics[M_RECOVERY_RATE_PV] = pv / claim if claim > 0.0 else NAN
    metrics[M_LENDER_LOSS] = loss
    metrics[M_LENDER_LOSS_PV] = loss_pv
    metrics[M_DEFAULT_CAUSE] = run.cause
    metrics[M_ACCELERATION_PERIOD] = run.accel
    metrics[M_RECOVERY_PERIODS] = run.end - run.accel if run.accel >= 0 else NAN
    ppy = 12.0 / p.months
    metrics[M_INCOME_TAX_PAID] = NAN
    metrics[M_EQUITY_IRR_AFTER_TAX] = NAN
    if p.tax_on:   # before the IRRs below zero the noise in ecf in place
        metrics[M_INCOME_TAX_PAID] = owner_tax(p, L, tax_income, T if run.accel < 0 else run.accel - 1,
                                               exit_proceeds, ecf, acf)
        metrics[M_EQUITY_IRR_AFTER_TAX] = annualise(irr_periodic(acf, W, irr_work), ppy)
    if periodic_irr != NULL:
        metrics[M_LENDER_IRR] = annualise(periodic_irr[0], ppy)
        metrics[M_EQUITY_IRR] = annualise(periodic_irr[1], ppy)
    else:
        metrics[M_LENDER_IRR] = annualise(irr_periodic(lcf, W, irr_work), ppy)
        metrics[M_EQUITY_IRR] = annualise(irr_periodic(ecf, W, irr_work), ppy)
    # the XIRRs start from the periodic ones, annualised (the same root to rounding)
    if dated_irr != NULL:
        metrics[M_LENDER_XIRR] = dated_irr[0]
        metrics[M_EQUITY_XIRR] = dated_irr[1]
    else:
        metrics[M_LENDER_XIRR] = irr_dated(lcf, p.flow_years, W, irr_work, 1.0 / (1.0 + metrics[M_LENDER_IRR]),
                                           p.flow_gap4, p.gap_min, p.gap_max)
        metrics[M_EQUITY_XIRR] = irr_dated(ecf, p.flow_years, W, irr_work, 1.0 / (1.0 + metrics[M_EQUITY_IRR]),
                                           p.flow_gap4, p.gap_min, p.gap_max)
    metrics[M_EQUITY_DISTRIBUTIONS] = eq_dist_total
    metrics[M_EQUITY_INVESTED] = eq_in_total
    for k in range(K):
        tranche_out[k] = (ts[k].repaid_t * p.months / 12.0) / ts[k].repaid if ts[k].repaid > 0.0 else NAN
        x = ts[k].claim - ts[k].received
        tranche_out[K + k] = x if x > 0.0 else 0.0


cdef void run_scenario(const Prog *p, int s,
                       const int64_t *adj_channel, const int64_t *adj_from, const int64_t *adj_to,
                       const double *adj_value, int J, const double *base,
                       double *scratch, double **ptrs, LedgerT L, double *metrics, double *tranche_out,
                       int64_t *status) noexcept nogil:
    """One scenario: `scratch` and `ptrs` are this thread's work space, `L` the ledger
    [T+1, lines] or NULL for metrics only, `metrics` [N_METRICS] and `tranche_out` [2K]
    are outputs (scn_metrics); `status` [2] is set to (ERR_UNKNOWN_STEP, step index) if a
    step has no branch."""
    cdef Scn c
    if LedgerT is DoublePtr:
        scn_setup(&c, p, s, adj_channel, adj_from, adj_to, adj_value, J, base, scratch, ptrs, L)
    else:
        scn_setup(&c, p, s, adj_channel, adj_from, adj_to, adj_value, J, base, scratch, ptrs, NULL)
    if scn_periods(&c, p, 0, L, status):
        scn_metrics(&c, p, L, metrics, tranche_out)


include "_lanes.pxi"  # SIMD lanes across scenarios: BLOCK scenarios step through the periods together


cdef inline double *dptr(cnp.ndarray arr):
    return <double *>cnp.PyArray_DATA(arr)


cdef inline int64_t *lptr(cnp.ndarray arr):
    return <int64_t *>cnp.PyArray_DATA(arr)


def _f64(x):
    return np.ascontiguousarray(x, dtype=np.float64)


def _i64(x):
    return np.ascontiguousarray(x, dtype=np.int64)


cdef class _Prepared:
    """A Program as the kernel reads it: the Prog struct and the contiguous arrays its
    pointers point into (kept alive with it). Made once per Program (a Program is not
    changed once compiled: tests/test_engine_cache.py), so that a run of one scenario
    costs microseconds of Python, not the setup's hundreds."""
    cdef Prog p
    cdef object keep
    cdef object program_ref


_PREPARED = {}   # id(program) -> _Prepared, the most recent few
_PREPARED_SIZE = 16


def _prepared(program):
    import weakref
    entry = _PREPARED.get(id(program))
    if entry is not None and (<_Prepared>entry).program_ref() is program:
        return entry
    prep = _prepare(program)
    prep.program_ref = weakref.ref(program)
    _PREPARED[id(program)] = prep
    while len(_PREPARED) > _PREPARED_SIZE:
        del _PREPARED[next(iter(_PREPARED))]
    return prep


def run_batch(program, batch, bint want_ledgers=False, int threads=1, bint want_losses=True, out=None,
              int lanes=0):
    """Run every scenario of `batch` on `program`. Returns (ledgers [S, T+1, L] or None,
    metrics [S, N_METRICS], wal [S, K], tranche loss [S, K], status [S, 2]): status row (0, 0) where the
    scenario ran, (ERR_UNKNOWN_STEP, step index) where a step's opcode has no branch.
    The metrics, WAL and loss are column views of one Fortran-ordered block; without
    `want_losses` the block has no loss columns and the loss returned is None. `out`, if
    given, is that block: a float64 [S, columns] view whose columns are contiguous (a
    sweep's table), written in place. `lanes`: scenarios stepped through the periods
    together (_lanes.pxi): 0 the kernel's choice (LANES where the program's rules allow,
    metrics only), 1 one at a time; the results are the same bit for bit."""
    cdef _Prepared prep = _prepared(program)
    cdef Prog p = prep.p   # points into prep's arrays: prep is held until the run returns
    if lanes not in (0, 1, LANES):
        raise ValueError(f"lanes must be 0 (the kernel's choice), 1 or {LANES} (this build's), not {lanes}")
    cdef bint use_lanes = lanes != 1 and not want_ledgers and lanes_eligible(&p)
    return _run(program, batch, want_ledgers, threads, p, p.T + 1, want_losses, out, use_lanes)


cdef _Prepared _prepare(program):
    """The Program's arrays as the kernel reads them, and the Prog struct pointing into them."""
    cdef _Prepared prep = _Prepared()
    cdef Prog p
    keep = {}  # keep contiguous copies alive while the kernel runs
    for name in PROGRAM_F64:
        keep[name] = _f64(getattr(program, name))
    for name in PROGRAM_I64:
        keep[name] = _i64(getattr(program, name))
    p.T = program.n_periods
    p.K = program.n_tranches
    p.A = program.n_accounts
    p.F = program.n_fees
    p.S = len(program.step_op)
    p.months = program.months_per_period
    p.cod = program.cod_period
    p.base_rent = dptr(keep["base_rent"]); p.opex = dptr(keep["opex"])
    p.flow_years = dptr(keep["flow_years"])
    p.capex = dptr(keep["capex"]); p.equity_in = dptr(keep["equity_in"])
    p.base_rate = dptr(keep["base_rate"]); p.draw = dptr(keep["draw"])
    p.accrual = dptr(keep["accrual"]); p.is_floating = lptr(keep["is_floating"])
    p.fixed_rate = dptr(keep["fixed_rate"]); p.spread = dptr(keep["spread"])
    p.floor = dptr(keep["floor"]); p.sched = dptr(keep["sched"])
    p.maturity = lptr(keep["maturity"]); p.capitalise = lptr(keep["capitalise"])
    p.hard = lptr(keep["hard"]); p.dscr_mask = lptr(keep["dscr_mask"])
    p.acct_kind = lptr(keep["acct_kind"]); p.acct_periods = lptr(keep["acct_periods"])
    p.acct_target = dptr(keep["acct_target"]); p.acct_mask = lptr(keep["acct_mask"])
    p.acct_rate = dptr(keep["acct_rate"]); p.acct_last_weight = dptr(keep["acct_last_weight"])
    p.acct_lc = dptr(keep["acct_lc"])
    p.fee_due = dptr(keep["fee_due"]); p.step_op = lptr(keep["step_op"])
    p.step_arg = lptr(keep["step_arg"]); p.step_share = dptr(keep["step_share"])
    p.step_share_locked = dptr(keep["step_share_locked"])
    p.lock_up_dscr = program.lock_up_dscr
    p.default_dscr = program.default_dscr
    p.cure_periods = program.cure_periods
    p.lock_up_basis = program.lock_up_basis
    p.default_basis = program.default_basis
    p.dscr_window = program.dscr_window
    p.hedge_ratio_min = program.hedge_ratio_min
    p.hedge_ratio_from = program.hedge_ratio_from
    p.hedge_ratio_to = program.hedge_ratio_to
    p.hedge_ratio_accelerates = program.hedge_ratio_accelerates
    p.asset_value = dptr(keep["asset_value"])
    p.fire_sale = program.fire_sale
    p.cost_share = program.cost_share
    p.cost_fixed = program.cost_fixed
    p.refi_spread = dptr(keep["refi_spread"]); p.refi_floor = dptr(keep["refi_floor"])
    p.refi_periods = lptr(keep["refi_periods"]); p.refi_min_dscr = dptr(keep["refi_min_dscr"])
    p.refi_max_ltv = dptr(keep["refi_max_ltv"]); p.refi_min_dy = dptr(keep["refi_min_dy"])
    p.refi_rate_kind = lptr(keep["refi_rate_kind"]); p.refi_fixed = dptr(keep["refi_fixed"])
    p.refi_profile = lptr(keep["refi_profile"])
    p.ext_options = lptr(keep["ext_options"]); p.ext_periods = lptr(keep["ext_periods"])
    p.ext_fee = dptr(keep["ext_fee"]); p.ext_step = dptr(keep["ext_step"])
    p.ext_min_dscr = dptr(keep["ext_min_dscr"]); p.ext_max_ltv = dptr(keep["ext_max_ltv"])
    p.ext_min_dy = dptr(keep["ext_min_dy"])
    p.bb_advance = dptr(keep["bb_advance"]); p.bb_mask = lptr(keep["bb_mask"])
    p.rvg_cap = program.rvg_cap
    p.rvg_until = program.rvg_until
    p.exit_share = program.exit_share
    # events, the workout and the valuation (credit_terms.py); the codes they use are read
    # from the modules that define them
    from waterfall import ops as _ops
    from waterfall.credit_terms import SUPPORT_KIND
    from waterfall.workout import CAUSE
    p.market_rent = dptr(keep["market_rent"])
    p.round_to = dptr(keep["round_to"])
    p.periods_a_year = dptr(keep["periods_a_year"])
    p.support_kind = program.support_kind
    p.support_cap = program.support_cap
    p.breach_accelerates = program.breach_accelerates
    p.accelerate_after = program.accelerate_after
    p.cure_max = program.cure_max
    p.cure_max_amount = program.cure_max_amount
    p.cure_until = program.cure_until
    p.tenant_accelerates = program.tenant_accelerates
    p.cross_accelerates = program.cross_accelerates
    p.sale_periods = program.sale_periods
    p.sale_rule = program.sale_rule
    p.workout_cost = program.workout_cost
    p.default_margin = program.default_margin
    p.val_method = program.val_method
    p.val_discount = program.val_discount
    p.exit_cap = program.exit_cap
    p.relet_periods = program.relet_periods
    p.reletting_cost = program.reletting_cost
    p.replacement_floor = program.replacement_floor
    p.exit_value_share = program.exit_value_share
    p.llcr_end = program.llcr_end
    p.llcr_dsra = program.llcr_dsra
    p.llcr_dates_end = program.llcr_dates_end
    p.tax_on = program.tax_on
    p.tax_rate = program.tax_rate
    p.tax_interest = program.tax_interest
    p.tax_offset = program.tax_offset
    p.tax_nol_limit = program.tax_nol_limit
    p.tax_basis = program.tax_basis
    p.tax_depreciation = dptr(keep["tax_depreciation"])
    p.support_capped = SUPPORT_KIND["capped"]
    p.support_unlimited = SUPPORT_KIND["unlimited"]
    p.cause_payment = CAUSE["payment"]
    p.cause_covenant = CAUSE["covenant"]
    p.cause_tenant = CAUSE["tenant"]
    p.cause_cross_default = CAUSE["cross_default"]
    p.cause_borrowing_base = CAUSE["borrowing_base"]
    p.cause_maturity = CAUSE["maturity"]
    cdef int ch_
    for ch_ in range(N_CHANNELS):
        p.additive[ch_] = ch_ in _ops.ADDITIVE_CHANNELS
    p.H = program.n_hedges
    p.hedge_kind = lptr(keep["hedge_kind"]); p.hedge_tranche = lptr(keep["hedge_tranche"])
    p.hedge_rate = dptr(keep["hedge_rate"]); p.hedge_notional = dptr(keep["hedge_notional"])
    p.hedge_accrual = dptr(keep["hedge_accrual"])
    p.hedge0 = N_GLOBAL + p.K * N_TRANCHE_LINES + p.A * N_ACCOUNT_LINES + p.F * N_FEE_LINES
    p.n_lines = p.hedge0 + p.H * N_HEDGE_LINES
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
    keep["no_draw"] = np.zeros(p.K * W)
    p.ones = dptr(keep["ones"]); p.zeros = dptr(keep["zeros"]); p.no_draw = dptr(keep["no_draw"])
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
    hedged_k = np.zeros(p.K, dtype=bool)
    hedged_k[keep["hedge_tranche"]] = True
    keep["dsra_hedged"] = np.ascontiguousarray((keep["acct_kind"] == ACC_DSRA) & (mask & hedged_k).any(axis=1)
                                               if p.A else np.zeros(0), dtype=np.uint8)
    p.dsra_hedged = <unsigned char *>cnp.PyArray_DATA(keep["dsra_hedged"])
    window = ((keep["acct_kind"] == ACC_DSRA) & (keep["acct_last_weight"] == 1.0)
              & (keep["dsra_hedged"] == 0)) if p.A else np.zeros(0, dtype=bool)
    keep["dsra_window8"] = np.ascontiguousarray(window, dtype=np.uint8)
    keep["dsra_cov8"] = np.ascontiguousarray(mask[window].any(axis=0) if p.A else np.zeros(p.K, dtype=bool),
                                             dtype=np.uint8)
    p.dsra_window8 = <unsigned char *>cnp.PyArray_DATA(keep["dsra_window8"])
    p.dsra_cov8 = <unsigned char *>cnp.PyArray_DATA(keep["dsra_cov8"])
    p.any_dsra_window = bool(window.any())
    p.any_acct_rate = bool(np.any(keep["acct_rate"] != 0.0))
    keep["dscr_k"] = np.ascontiguousarray(np.flatnonzero(keep["dscr8"]), dtype=np.int32)
    p.n_dscr = len(keep["dscr_k"])
    p.dscr_k = <int *>cnp.PyArray_DATA(keep["dscr_k"])
    p.sarg = <int *>cnp.PyArray_DATA(keep["sarg"])
    # the XIRR's gap table (irr_dated), once: payment dates in whole days (to well within
    # irr_dated's own 1e-6 test), the gaps between dates four apart spanning < MAX_GAPS days
    days = keep["flow_years"] * 365.0
    whole = np.floor(days + 0.5)
    gaps = whole[4:] - whole[:len(whole) - 4]
    p.flow_gap4 = NULL
    if len(gaps) and bool(np.all(np.abs(days - whole) <= 1e-9)) and gaps.max() - gaps.min() < MAX_GAPS:
        p.gap_min = int(gaps.min())
        p.gap_max = int(gaps.max())
        keep["flow_gap4"] = np.ascontiguousarray(np.r_[np.zeros(4), gaps - p.gap_min])
        p.flow_gap4 = dptr(keep["flow_gap4"])
    rank = keep["rank"]  # enforcement by rank: tranches of one rank share pro rata
    order = np.argsort(rank, kind="stable")
    ranked = rank[order]
    starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:p.K - 1]))) if p.K else []
    keep["rank_order"] = np.ascontiguousarray(order, dtype=np.int32)
    keep["rank_start"] = np.ascontiguousarray(np.r_[starts, p.K, p.K], dtype=np.int32)
    p.n_ranks = len(starts)
    p.rank_order = <int *>cnp.PyArray_DATA(keep["rank_order"])
    p.rank_start = <int *>cnp.PyArray_DATA(keep["rank_start"])
    # the recovery's claimants: tranches and hedge banks by rank (workout.allocate)
    claim_rank = np.concatenate([rank, keep["hedge_rank"]])
    order = np.argsort(claim_rank, kind="stable")
    ranked = claim_rank[order]
    n_claims = p.K + p.H
    starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:n_claims - 1]))) if n_claims else []
    keep["claim_order"] = np.ascontiguousarray(order, dtype=np.int32)
    keep["claim_start"] = np.ascontiguousarray(np.r_[starts, n_claims, n_claims], dtype=np.int32)
    p.n_claim_ranks = len(starts)
    p.claim_order = <int *>cnp.PyArray_DATA(keep["claim_order"])
    p.claim_start = <int *>cnp.PyArray_DATA(keep["claim_start"])

    prep.p = p
    prep.keep = keep
    return prep


cdef object _run(program, batch, bint want_ledgers, int threads, Prog p, int W, bint want_losses, out,
                 bint use_lanes):
    """run_batch on a prepared Program `p` (W = periods + 1)."""
    # the scenarios' adjustments as J columns of (channel, from, to, value), each read with
    # its own stride: a dense [S, J] batch or a parametric one whose constant columns are
    # broadcast (stride 0); each scenario's row is gathered into this thread's buffer
    cols = _adjustment_columns(batch)   # held (as path_index) while the kernel reads them
    cdef cnp.ndarray path_index = _strided(batch.path_index, np.int64)
    paths = np.ascontiguousarray(np.vstack([_f64(program.base_rate)[None, :],
                                            _f64(batch.paths).reshape(-1, W)]))
    cdef cnp.ndarray paths_arr = paths
    cdef Py_ssize_t S = len(path_index)
    cdef int J = <int>len(cols[0])
    cdef Py_ssize_t n_row = N_METRICS + 2 * p.K   # what run_scenario writes
    cdef Py_ssize_t n_out = n_row if want_losses else N_METRICS + p.K   # what is kept
    if S == 0:
        return (np.zeros((0, W, p.n_lines)) if want_ledgers else None,
                np.zeros((0, N_METRICS)), np.zeros((0, p.K)), np.zeros((0, p.K)), np.zeros((0, 2), dtype=np.int64))
    if np.any(path_index >= len(paths) - 1) or np.any(path_index < -1):
        raise ValueError("path_index out of range")

    # metrics, then each tranche's WAL, then its loss: columns of one Fortran-ordered block,
    # so each metric is one contiguous column (a DataFrame wraps them without a copy)
    out = _output_block(out, S, n_out)
    cdef Py_ssize_t o_step = out.strides[1] // 8   # from one column to the next
    status = np.zeros((S, 2), dtype=np.int64)
    cdef int64_t *st_ptr = lptr(status)
    ledgers = np.zeros((S, W, p.n_lines)) if want_ledgers else None
    cdef double *o_ptr = dptr(out)
    cdef double *l_ptr = dptr(ledgers) if want_ledgers else NULL
    cdef int64_t *pi_ptr = lptr(path_index)
    cdef Py_ssize_t pi_step = path_index.strides[0] // 8
    cdef double *paths_ptr = dptr(paths_arr)
    threads = max(threads, 1)
    cdef Py_ssize_t ts_words = sizeof(TState) // sizeof(double)
    cdef Py_ssize_t scratch_size = (N_CHANNELS * W + 3 * p.K * W + 4 * W + ts_words * p.K + p.A + 2 * p.K
                                    + W + 4 * p.H + 4 * W + 2 * W + 2 * W + 8    # ... tax [2W], trailing DSCR [2W]
                                    + 3 * p.K * W + W + 3 * p.A                  # DSRA prefix sums [3K, W], dfac [W], LC [3A]
                                    + p.H * W)                                   # the hedges' prefix sums [H, W]
    cdef Py_ssize_t row_size = n_row + 4 * J + 1   # a scenario's outputs and its gathered adjustments
    cdef int lanes = BLOCK if use_lanes else 1   # scenarios a thread holds at once
    cdef Py_ssize_t n_blocks = S // BLOCK if use_lanes else 0
    # a thread's work space: one scenario's, or a lane block's (BLOCK scenarios' and its flows)
    cdef Py_ssize_t thread_scratch = lanes * scratch_size + ((N_LANE_FLOWS + 3 + 3 * p.K) * W * BLOCK + irr4_work(W) if use_lanes else 0)
    cdef double *scratch = <double *>malloc(threads * thread_scratch * sizeof(double))
    cdef double **ptrs = <double **>malloc(threads * lanes * 3 * (p.K + 1) * sizeof(double *))
    cdef double *rows = <double *>malloc(threads * lanes * row_size * sizeof(double))
    cdef char **col_ptr = <char **>malloc((4 * J + 1) * sizeof(char *))
    cdef Py_ssize_t *col_step = <Py_ssize_t *>malloc((4 * J + 1) * sizeof(Py_ssize_t))
    if scratch == NULL or ptrs == NULL or rows == NULL or col_ptr == NULL or col_step == NULL:
        free(scratch); free(ptrs); free(rows); free(col_ptr); free(col_step)
        raise MemoryError()
    _column_pointers(cols, J, col_ptr, col_step)
    cdef Py_ssize_t s, q, b
    cdef int tid, l
    cdef double *row
    cdef int64_t *adj_i
    cdef double *adj_v
    cdef Py_ssize_t stride = W * p.n_lines
    try:
        with nogil:
            for b in prange(n_blocks, num_threads=threads, schedule="static"):
                tid = threadid()
                _lane_block(&p, b * BLOCK, J, col_ptr, col_step, paths_ptr, pi_ptr, pi_step, W,
                            scratch + tid * thread_scratch, scratch_size, ptrs + tid * lanes * 3 * (p.K + 1),
                            rows + tid * lanes * row_size, row_size, n_row, n_out, o_ptr, o_step, st_ptr)
            for s in prange(n_blocks * BLOCK, S, num_threads=threads, schedule="static"):
                tid = threadid()
                row = rows + tid * lanes * row_size
                _gather(s, J, col_ptr, col_step, row + n_row)
                adj_i = <int64_t *>(row + n_row)
                adj_v = row + n_row + 3 * J
                if l_ptr != NULL:
                    run_scenario(&p, 0, adj_i, adj_i + J, adj_i + 2 * J, adj_v, J,
                                 paths_ptr + (pi_ptr[s * pi_step] + 1) * W, scratch + tid * thread_scratch,
                                 ptrs + tid * lanes * 3 * (p.K + 1),
                                 <DoublePtr>(l_ptr + s * stride), row, row + N_METRICS, st_ptr + 2 * s)
                else:
                    run_scenario(&p, 0, adj_i, adj_i + J, adj_i + 2 * J, adj_v, J,
                                 paths_ptr + (pi_ptr[s * pi_step] + 1) * W, scratch + tid * thread_scratch,
                                 ptrs + tid * lanes * 3 * (p.K + 1),
                                 <NoLedgerPtr>NULL, row, row + N_METRICS, st_ptr + 2 * s)
                for q in range(n_out):
                    o_ptr[q * o_step + s] = row[q]
    finally:
        free(scratch); free(ptrs); free(rows); free(col_ptr); free(col_step)
    return (ledgers, out[:, :N_METRICS], out[:, N_METRICS:N_METRICS + p.K],
            out[:, N_METRICS + p.K:] if want_losses else None, status)


cdef inline void _gather(Py_ssize_t s, int J, char **col_ptr, const Py_ssize_t *col_step, double *adj) noexcept nogil:
    """Scenario s's J adjustments from the batch's columns into `adj`: (channel, from, to)
    as int64 [3J], then the values [J]."""
    cdef int64_t *adj_i = <int64_t *>adj
    cdef Py_ssize_t q
    for q in range(3 * J):
        adj_i[q] = (<int64_t *>(col_ptr[q] + s * col_step[q]))[0]
    for q in range(J):
        adj[3 * J + q] = (<double *>(col_ptr[3 * J + q] + s * col_step[3 * J + q]))[0]


cdef void _lane_block(const Prog *p, Py_ssize_t s0, int J, char **col_ptr, const Py_ssize_t *col_step,
                      const double *paths_ptr, const int64_t *pi_ptr, Py_ssize_t pi_step, int W,
                      double *scratch, Py_ssize_t scratch_size, double **ptrs, double *rows, Py_ssize_t row_size,
                      Py_ssize_t n_row, Py_ssize_t n_out, double *o_ptr, Py_ssize_t o_step,
                      int64_t *st_ptr) noexcept nogil:
    """Scenarios s0 .. s0 + BLOCK - 1 as one lane block (run_lane_block), their rows out."""
    cdef double *adj[BLOCK]
    cdef const double *base[BLOCK]
    cdef double *out_rows[BLOCK]
    cdef int64_t *status[BLOCK]
    cdef int l
    cdef Py_ssize_t q, s
    for l in range(BLOCK):
        s = s0 + l
        out_rows[l] = rows + l * row_size
        adj[l] = out_rows[l] + n_row
        _gather(s, J, col_ptr, col_step, adj[l])
        base[l] = paths_ptr + (pi_ptr[s * pi_step] + 1) * W
        status[l] = st_ptr + 2 * s
    run_lane_block(p, adj, J, base, scratch, scratch_size, ptrs, out_rows, status)
    for l in range(BLOCK):
        for q in range(n_out):
            o_ptr[q * o_step + s0 + l] = out_rows[l][q]


def _output_block(out, Py_ssize_t S, Py_ssize_t n_out):
    """The block the run writes its metrics, WAL and loss into: `out` when given (checked:
    float64, [S, n_out], each column contiguous), else a new Fortran-ordered one."""
    if out is None:
        return np.empty((S, n_out), order="F")
    if (out.dtype != np.float64 or out.shape != (S, n_out) or out.strides[0] != 8
            or (n_out > 1 and (out.strides[1] % 8 or out.strides[1] < 8 * S)) or not out.flags.writeable):
        raise ValueError(f"out must be a writeable float64 [{S}, {n_out}] block with contiguous columns")
    return out


cdef void _column_pointers(tuple cols, int J, char **col_ptr, Py_ssize_t *col_step):
    """The data pointer and byte stride of each adjustment column, field by field."""
    cdef int c, f
    cdef cnp.ndarray arr
    for f in range(len(cols)):   # channel, from, to, value
        for c in range(J):
            arr = cols[f][c]
            col_ptr[f * J + c] = <char *>cnp.PyArray_DATA(arr)
            col_step[f * J + c] = arr.strides[0]


def _strided(x, dtype):
    """`x` as a 1-D array of `dtype`, strides kept (a broadcast column stays stride 0)."""
    arr = np.asarray(x)
    if arr.dtype != dtype:
        arr = arr.astype(dtype)
    if arr.ndim != 1 or arr.strides[0] % 8:
        arr = np.ascontiguousarray(arr.reshape(-1), dtype=dtype)
    return arr


def _adjustment_columns(batch):
    """([channel], [from], [to], [value]): J 1-D columns of S each, views where possible:
    the batch's own columns (`adj_columns`, constant ones broadcast) or those of its dense
    [S, J] arrays."""
    given = getattr(batch, "adj_columns", None)
    if given is not None:
        cols = given()
    else:
        dense = (batch.adj_channel, batch.adj_from, batch.adj_to, batch.adj_value)
        cols = tuple([np.asarray(a)[:, j] for j in range(np.shape(a)[1])] for a in dense)
    types = (np.int64, np.int64, np.int64, np.float64)
    return tuple([_strided(c, t) for c in field] for field, t in zip(cols, types))




def lanes_for(program):
    """Scenarios the kernel steps through the periods together on this program's metrics-only
    runs: LANES where lanes_eligible allows, else 1."""
    cdef _Prepared prep = _prepared(program)
    return LANES if lanes_eligible(&prep.p) else 1
