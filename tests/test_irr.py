"""IRR against numpy-financial and pyxirr, and on flows with several sign changes."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import numpy_financial as npf
import pytest
import pyxirr
from hypothesis import example, given, settings
from hypothesis import strategies as st

from waterfall import engine
from waterfall.irr import GAIN, NOISE, V_MIN, _bisect, _Flows, annualise, initial_v, irr, npv_v, xirr

from .xirr_check import assert_is_pyxirr

kernel_irr = engine._kernel.irr if engine.kernel_available() else None

conventional = st.builds(
    lambda outlay, flows: np.array([-outlay] + flows),
    st.floats(10.0, 1000.0),
    st.lists(st.one_of(st.just(0.0), st.floats(0.01, 200.0)), min_size=1, max_size=200),
)


@settings(max_examples=300, deadline=None)
@given(conventional)
def test_matches_numpy_financial_and_pyxirr_on_conventional_flows(cf):
    ours = irr(cf)
    if not (cf[1:] > 0).any():
        assert math.isnan(ours)  # nothing comes back: no root
        return
    theirs = pyxirr.irr(cf)
    if theirs is None or not math.isfinite(theirs) or not -0.99 < theirs <= 10.0:
        return  # outside the domain we search (r in (-99%, 1000%] a period)
    assert ours == pytest.approx(theirs, abs=1e-9)
    reference = npf.irr(cf)
    if math.isfinite(reference):
        assert ours == pytest.approx(reference, abs=1e-9)
    if kernel_irr is not None:
        assert kernel_irr(cf) == pytest.approx(ours, abs=1e-10)


def test_no_sign_change_has_no_irr():
    assert math.isnan(irr([100.0, 10.0, 10.0]))
    assert math.isnan(irr([-100.0, -10.0]))
    assert math.isnan(irr([0.0, 0.0]))


def test_known_values():
    # -100 then 110 a period later: 10% exactly
    assert irr([-100.0, 110.0]) == pytest.approx(0.10, abs=1e-14)
    # a 1.5%-a-quarter bond bought at par: 1.5% a quarter, (1.015)^4 - 1 a year
    cf = [-700.0] + [10.5] * 39 + [710.5]
    assert irr(cf) == pytest.approx(0.015, abs=1e-13)
    assert annualise(irr(cf), 4) == pytest.approx(1.015 ** 4 - 1, abs=1e-13)


@pytest.mark.parametrize("cf", [
    [-100.0, 230.0, -132.0],            # roots at 10% and 20%
    [-1000.0, 3000.0, -3100.0, 1100.0],  # several roots
    [100.0, -250.0, 150.0, 5.0],
    [-10.0, 21.0, -11.0],               # a double-ish root near 0
])
def test_several_sign_changes_give_the_smallest_non_negative_root(cf):
    # the rule (numpy-financial's current _irr_default_selection) applied to np.roots
    ours = irr(cf)
    roots = [1.0 / r.real - 1.0 for r in np.roots(cf[::-1]) if abs(r.imag) < 1e-9 and r.real > 0]
    if not roots:
        assert math.isnan(ours)
        return
    gains = [r for r in roots if r >= -1e-12]
    expected = min(gains) if gains else max(roots)
    assert abs(npv_v(cf, 1.0 / (1.0 + ours))) < 1e-7
    assert ours == pytest.approx(expected, abs=1e-6)
    if kernel_irr is not None:
        assert kernel_irr(np.array(cf)) == pytest.approx(ours, abs=1e-10)


def test_long_monthly_series_with_negative_return():
    # 181 monthly periods, most of the outlay lost: a root well below zero
    cf = np.array([-300.0] + [0.5] * 180)
    ours = irr(cf)
    assert ours < 0 and ours == pytest.approx(pyxirr.irr(cf), abs=1e-9)
    if kernel_irr is not None:
        assert kernel_irr(cf) == pytest.approx(ours, abs=1e-12)


# ---------------------------------------------------------------- deep losses (issue 12)
kernel_xirr = engine._kernel.xirr if engine.kernel_available() else None


def test_deep_loss_root_is_found():
    # Abilene rates-stay-high equity (issue 12): staged equity, one small distribution,
    # then nothing; 67 quarterly periods. -850 - 664 u^-1 ... in u = 1 + r: the quartic
    # 72.1 v^4 - 2263 v^3 - 1823 v^2 - 664 v - 850 = 0 (v = 1/u) changes sign between
    # v = 32 (-4.4e5) and v = 33 (+2.2e6): r = 1/v - 1 is about -96.9% a quarter.
    cf = np.zeros(67)
    cf[:5] = [-850.0, -664.0, -1823.0, -2263.0, 72.1]
    ours = irr(cf)
    assert 1.0 / 32.0 > ours + 1.0 > 1.0 / 33.0  # the bracket by hand: 1 + r = 1/v
    assert ours == pytest.approx(npf.irr(cf), abs=1e-12)
    assert ours == pytest.approx(pyxirr.irr(cf), abs=1e-12)
    if kernel_irr is not None:
        assert kernel_irr(cf) == pytest.approx(ours, abs=1e-12)


# numpy-financial's own IRR tests (numpy_financial/tests/test_financial.py, 1.0.0 and the
# current main branch's TestIrr), with their tolerances
NPF_VECTORS = [
    ([-150000, 15000, 25000, 35000, 45000, 60000], 0.0524, 1e-2),
    ([-100, 0, 0, 74], -0.0955, 1e-2),
    ([-100, 39, 59, 55, 20], 0.28095, 1e-2),
    ([-100, 100, 0, -7], -0.0833, 1e-2),
    ([-100, 100, 0, 7], 0.06206, 1e-2),
    ([-5, 10.5, 1, -8, 1], 0.0886, 1e-2),
    ([-5, 10.5, 1, -8, 1, 0, 0, 0], 0.0886, 1e-2),             # test_trailing_zeros
    ([-1678.87, 771.96, 1814.05, 3520.30, 3552.95, 3584.99, 4789.91, -1], 1.00426, 1e-4),  # gh-44
    ([-217500.0, -217500.0, 108466.80462450592, 101129.96439328062, 93793.12416205535,
      86456.28393083003, 79119.44369960476, 71782.60346837944, 64445.76323715414,
      57108.92300592884, 49772.08277470355, 42435.24254347826, 35098.40231225296,
      27761.56208102766, 20424.721849802358, 13087.88161857707, 5751.041387351768,
      -1585.7988438735192, -8922.639075098821, -16259.479306324123, -23596.31953754941,
      -30933.159768774713, -38270.0, -45606.8402312253, -52943.680462450604,
      -60280.520693675906, -67617.36092490121], 0.12, 1e-7),    # gh-39
]


@pytest.mark.parametrize("cf, desired, rtol", NPF_VECTORS)
def test_numpy_financial_vectors(cf, desired, rtol):
    assert irr(cf) == pytest.approx(desired, rel=rtol)
    if kernel_irr is not None:
        assert kernel_irr(np.array(cf, float)) == pytest.approx(irr(cf), abs=1e-12)


@pytest.mark.parametrize("cf", [(1, 2, 3), (-1, -2, -3)])  # numpy gh-6744: no root
def test_numpy_financial_no_solution(cf):
    assert math.isnan(irr(cf))


def test_numpy_financial_npv_congruence():
    cf = np.array([-40000, 5000, 8000, 12000, 30000], float)
    assert npf.npv(irr(cf), cf) == pytest.approx(0.0, abs=1e-10)


def test_numpy_financial_gh_15_with_the_noise_rule():
    # numpy-financial gh-15: -3000 then flows of 2.4e-7, 4.2e-16, ... Every flow after the
    # second is below 1e-9 (noise by our rule), leaving -3000 + 2.39e-7 / (1 + r) = 0:
    # 1 + r = 2.39e-7 / 3000 exactly. numpy-financial's expected -0.9999999990596069 is
    # within its test tolerance (rtol 1e-9) of that.
    second = 2.3926932267015667e-07
    cf = [-3000.0, second, 4.1672087103345505e-16, 5.3965110036378706e-25]
    assert irr(cf) + 1.0 == pytest.approx(second / 3000.0, rel=1e-12)
    assert irr(cf) == pytest.approx(-0.9999999990596069, rel=1e-9)


def test_root_choice_rule():
    # gh-44 has roots near -99.98% and +100.4%: numpy-financial's current rule (and ours)
    # keeps the non-negative one; the installed 1.0.0 returns the one closest to zero.
    cf = [-1678.87, 771.96, 1814.05, 3520.30, 3552.95, 3584.99, 4789.91, -1]
    roots = sorted(1.0 / z.real - 1.0 for z in np.roots(cf[::-1]) if abs(z.imag) < 1e-12 and z.real > 0)
    assert len(roots) == 2 and roots[0] < 0 < roots[1]
    assert irr(cf) == pytest.approx(roots[1], abs=1e-10)
    # three roots -87%, 8.86%, 71%: the smallest non-negative
    assert irr([-5, 10.5, 1, -8, 1]) == pytest.approx(0.08859833852775534, abs=1e-12)
    # two negative roots (-67.9%, -8.33%): the one closest to zero
    assert irr([-100, 100, 0, -7]) == pytest.approx(-0.08329966618493256, abs=1e-12)


def _wipe_out_profiles(n: int, seed: int):
    """Staged equity then a wipe-out: 1-8 contributions, then 1-5 small distributions
    (together 0.005% to 5% of what went in), a third with a small late cure (a further
    contribution); series of 14-181 periods."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        cf = np.zeros(int(rng.integers(14, 182)))
        k, start = int(rng.integers(1, 9)), int(rng.integers(0, 3))
        cf[start:start + k] = -rng.uniform(10.0, 3000.0, k)
        after = np.arange(start + k, len(cf))
        pos = rng.choice(after, size=min(int(rng.integers(1, 6)), len(after)), replace=False)
        cf[pos] = rng.uniform(0.0005, 0.05, len(pos)) * -cf.sum() / len(pos) * rng.choice([0.01, 0.1, 1.0])
        late = int(rng.choice(after))
        if rng.random() < 0.3 and cf[late] == 0.0:
            cf[late] = rng.uniform(0.001, 0.01) * cf[cf < 0].sum()
        out.append(cf)
    return out


def _has_root_on_a_fine_grid(cf) -> bool:
    """A brute-force sign-change scan of the NPV's sign on 1,200 rates in (-1, 1000]."""
    nz = np.nonzero(cf)[0]
    c = cf[nz[0]:nz[-1] + 1]
    u = np.concatenate([np.logspace(-14, -0.0001, 800), [1.0]])   # 1 + r, r <= 0
    v = np.logspace(-3, -0.0001, 400)                               # 1 / (1 + r), r > 0
    q = np.polyval(c, u)          # sum c_i u^(N - i): the NPV times u^N
    p = np.polyval(c[::-1], v)    # sum c_i v^i: the NPV
    s = np.sign(np.concatenate([q, p[::-1]]))
    return bool((s == 0).any() or (s[:-1] * s[1:] < 0).any())


def test_ten_thousand_wipe_outs_have_no_nan():
    profiles = [cf for cf in _wipe_out_profiles(10_000, seed=12) if _has_root_on_a_fine_grid(cf)]
    assert len(profiles) > 9_000
    ours = np.array([irr(cf) for cf in profiles])
    assert not np.isnan(ours).any()
    # each is a root: the NPV at it, relative to the flows' size, is rounding
    for cf, r in zip(profiles[:500], ours[:500]):
        nz = np.nonzero(cf)[0]
        c = cf[nz[0]:nz[-1] + 1]
        assert abs(np.polyval(c, 1.0 + r)) <= 1e-9 * np.abs(c).sum()
    if kernel_irr is not None:
        compiled = engine._kernel.irr_many(np.array([np.pad(cf, (0, 181 - len(cf))) for cf in profiles]))
        assert not np.isnan(compiled).any()
        assert np.abs(compiled - ours).max() <= 1e-9


# ------------------------------------------------------------------------------ XIRR
def _years(dates):
    return [(d - dates[0]).days / 365.0 for d in dates]


def _sorted_payments(text):
    rows = sorted((dt.date.fromisoformat(d), float(a)) for d, a in (line.split(",") for line in text.split()))
    return [d for d, _ in rows], [a for _, a in rows]


# pyxirr's own samples (tests/samples/*.csv) and their expected XIRR (tests/test_*.rs)
PYXIRR_SAMPLES = {
    "minus_0_993": ("2021-06-08,-1000000.0 2022-06-29,5000.0 2023-06-08,-3.0 2023-06-30,0.0",
                    -0.993785049929284),
    "zeros": ("2021-12-31,0 2022-12-31,0 2023-12-31,-100 2024-12-31,10 2025-12-31,0 2026-12-31,10 "
              "2027-12-31,10 2028-12-31,10 2029-12-31,200 2030-12-31,0 2031-12-31,0 2032-12-31,0 "
              "2033-12-31,0", 0.175680730580782),
    "minus_0_13": (
        "2015-05-04,-200.00 2015-05-07,-75.00 2015-05-15,-620.00 2015-05-04,-0.01 2015-05-06,-100.00 "
        "2015-05-14,-299.99 2015-05-19,-20.00 2015-05-26,-100.00 2015-05-27,-340.00 2015-06-01,-500.00 "
        "2015-06-05,-100.00 2015-06-18,-1008.52 2015-06-22,-65.00 2015-06-22,-120.00 2015-06-22,-450.00 "
        "2015-06-30,-450.75 2015-07-06,-80.00 2015-07-13,-130.00 2015-07-16,-1050.00 2015-07-31,-1000.00 "
        "2015-08-10,-65.00 2015-08-17,-400.00 2015-09-14,-100.00 2015-09-16,-956.88 2015-09-28,-117.00 "
        "2015-10-01,-50.00 2015-10-02,-1130.00 2015-10-29,-70.00 2015-11-02,-188 2015-11-06,-250 "
        "2015-12-29,-100 2015-12-31,9518.08", -0.13423264098831872),
}


@pytest.mark.parametrize("name", sorted(PYXIRR_SAMPLES))
def test_pyxirr_samples(name):
    text, expected = PYXIRR_SAMPLES[name]
    dates, amounts = _sorted_payments(text)
    ours = xirr(amounts, _years(dates))
    # the published values carry pyxirr's solver tolerance (minus_0_13: 1.9e-10 from the
    # root of a 50-digit mpmath solve, which the installed pyxirr and we match to 1e-15)
    assert ours == pytest.approx(expected, abs=1e-9)
    assert ours == pytest.approx(pyxirr.xirr(dates, amounts), abs=1e-10)
    if kernel_xirr is not None:
        assert kernel_xirr(amounts, _years(dates)) == pytest.approx(ours, abs=1e-12)


dated_flows = st.builds(
    lambda outlay, flows, gaps: (np.array([-outlay] + flows), np.cumsum([0] + gaps[:len(flows)])),
    st.floats(10.0, 1000.0),
    st.lists(st.floats(0.0, 200.0), min_size=1, max_size=60),
    st.lists(st.integers(20, 400), min_size=60, max_size=60),  # days between flows
)


@settings(max_examples=300, deadline=None)
@given(dated_flows)
@example(case=(np.array([-10.0, 0.0, 0.0, 4.0, 1e-9]), np.array([0, 20, 40, 60, 247])))
@example(case=(np.array([-10.0, 0, 1.0, 0, 0, 0, 0, 0, 0, 8.95285019e-12]),
               np.array([0, 20, 40, 60, 80, 100, 120, 140, 160, 525])))
def test_xirr_matches_pyxirr(case):
    amounts, days = case
    # the engine's documented rule (irr.py): flows of at most 1e-9 are rounding noise and
    # count as zero; near -100% such a flow still moves the root (x (1+r)^-t is large), so
    # pyxirr is given the same flows (these two examples failed when it was not)
    amounts = np.where(np.abs(amounts) > NOISE, amounts, 0.0)
    if not (amounts[1:] > 1e-9).any():
        return
    dates = [dt.date(2025, 1, 15) + dt.timedelta(days=int(d)) for d in days]
    theirs = pyxirr.xirr(dates, amounts)
    ours = xirr(amounts, _years(dates))
    if theirs is None or theirs + 1.0 < 1e-300:
        assert math.isfinite(ours)  # one sign change: a root always exists (pyxirr gave up,
        return                      # or 1 + r underflows)
    assert_is_pyxirr(ours, dates, amounts)
    if kernel_xirr is not None:
        assert kernel_xirr(amounts, _years(dates)) == pytest.approx(ours, abs=1e-12, rel=1e-12)


def test_xirr_of_equal_periods_is_the_annualised_irr():
    # flows exactly 365 days apart: the year fraction is 1, so XIRR is the periodic IRR
    cf = [-100.0, 10.0, 10.0, 110.0]
    assert xirr(cf, [0.0, 1.0, 2.0, 3.0]) == pytest.approx(irr(cf), abs=1e-14)
    assert irr(cf) == pytest.approx(0.10, abs=1e-14)  # a 10% bond at par


def test_engine_xirr_is_pyxirr_on_the_payment_dates():
    # every built-in deal under every preset: lender_xirr and equity_xirr (both
    # interpreters) are pyxirr.xirr on the ledger's flows at the program's payment dates
    import waterfall
    from waterfall.load import builtin_deals
    from waterfall.metrics import cash_flows

    presets = [None, "rates-stay-high", "delivery-failure", "technology-displaced"]
    checked = 0
    for path in builtin_deals():
        deal = waterfall.load_deal(path)
        for scenario in presets:
            try:
                result = waterfall.run(deal, scenario)
            except Exception:  # a preset that does not apply to this deal
                continue
            reference = waterfall.run(deal, scenario, engine="reference")
            for key, flows in zip(("lender_xirr", "equity_xirr"), cash_flows(result.program, result.ledger)):
                ours = result.metrics[key]
                assert ours == pytest.approx(reference.metrics[key], abs=1e-9) or ours is reference.metrics[key]
                if ours is None:  # no root: flows of one sign only
                    assert not ((flows > 1e-9).any() and (flows < -1e-9).any())
                    continue
                assert_is_pyxirr(ours, result.program.dates, flows)
                checked += 1
    assert checked > 20


def test_run_json_has_the_xirr_metrics(capsys):
    import json

    from waterfall.cli import main

    assert main(["run", "abilene", "--json"]) in (0, None)
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert 0.0 < metrics["lender_xirr"] < 0.2 and 0.0 < metrics["equity_xirr"] < 0.3


# ------------------------------------------- an IRR beyond the float range is NaN (#NUM!)
# A root r above the largest double (DBL_MAX = 1.797e308 = 10^308.25) is not representable:
# both engines report NaN, as the spreadsheet XIRR gives #NUM! (before: the reference raised
# ZeroDivisionError at v = 1/(1+r) = 0, the kernel returned inf). A root just inside stays.
kernel = engine._kernel if engine.kernel_available() else None
DAY = 1.0 / 365.0


def _both_xirr(cf, years):
    """The reference's and every kernel entry's XIRR of cf at years (one row, four rows)."""
    out = [xirr(cf, years)]
    if kernel is not None:
        rows = np.array([cf] * 4, dtype=float)
        out += [kernel.xirr(cf, years), *kernel.xirr_one_by_one(rows, years), *kernel.xirr_many(rows, years)]
    return out


def _both_irr(cf):
    out = [irr(cf)]
    if kernel is not None:
        rows = np.array([cf] * 4, dtype=float)
        out += [kernel.irr(np.array(cf, dtype=float)), *kernel.irr_many(rows), *kernel.irr_one_by_one(rows)]
    return out


@pytest.mark.parametrize("k", [1e10, 7.0])
def test_xirr_beyond_the_float_range_is_nan(k):
    # -1 today, k a day later: -1 + k (1 + r)^(-1/365) = 0, 1 + r = k^365. For k = 1e10 that
    # is 1e3650 (v = 1/(1+r) underflows to 0); for k = 7, 10^(365 log10 7) = 10^308.46 >
    # DBL_MAX = 10^308.25. Neither is a number: NaN in both engines
    assert all(math.isnan(r) for r in _both_xirr([-1.0, k], [0.0, DAY]))


@pytest.mark.parametrize("k", [2.0, 6.9])
def test_xirr_just_inside_the_float_range_is_reported(k):
    # the same with k = 2: r = 2^365 - 1 = 7.5153e109; k = 6.9: 10^(365 log10 6.9) =
    # 10^306.18 = 1.5133e306, below DBL_MAX: reported (as Python's k ** 365 - 1)
    expected = k ** 365 - 1.0
    for r in _both_xirr([-1.0, k], [0.0, DAY]):
        assert r == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(7.5153362648762e109 if k == 2.0 else 1.5133e306, rel=1e-4)


def test_periodic_irr_beyond_the_float_range_is_nan():
    # -1e-8 (above the 1e-9 noise) then X a period later: 1 + r = X / 1e-8.
    # X = 1e300: r = 1e308 - 1, representable; X = 1e301: 1e309 > DBL_MAX, NaN (the kernel
    # gave inf); X = 1e308: 1e316, v = 1e-316 is subnormal (below 1/DBL_MAX = 5.6e-309),
    # which the search cannot resolve (it returned 9.26e77, not a root): NaN
    for r in _both_irr([-1e-8, 1e300]):
        assert r == pytest.approx(1e308, rel=1e-12)
    for x in (1e301, 1e308):
        assert all(math.isnan(r) for r in _both_irr([-1e-8, x]))
    # V_MIN, where the search cuts the gain half, is the smallest v with a finite 1/v
    assert math.isfinite(1.0 / V_MIN) and 1.0 / math.nextafter(V_MIN, 0.0) == math.inf


def test_beyond_the_range_root_is_chosen_as_nan_not_the_loss_root():
    # -1 today, 1e10 a day later, -1e9 a year on. Partial sums from the first flow -1,
    # 1e10 - 1, 9e9 - 1: one change, at most one root r >= 0 (Laguerre), and p(0) = -1 < 0 <
    # p(1) = 9e9 - 1: exactly one. At it 1e10 v^(1/365) = 1 + 1e9 v <= 1 + 1e9, so
    # v^(1/365) <= 0.1 and v <= 1e-365: r >= 1e365, beyond the range. The loss half has a
    # root too (q(0) = -1e9 < 0 < q(1) = sum), but the rule takes the smallest non-negative
    # root when there is one: that root is not a number, so the IRR is NaN (not the loss root)
    assert all(math.isnan(r) for r in _both_xirr([-1.0, 1e10, -1e9], [0.0, DAY, 1.0]))


def test_a_root_beyond_the_range_does_not_hide_a_smaller_one():
    # -1, 1e10 a day later, -2e10 a year on, 5e9 two years on: besides a root beyond the
    # range (v ~ 1e-3650, where -1 + 1e10 v^(1/365) = 0) the NPV changes sign between
    # 70% and 72% a year (checked below on the equation itself): the smallest
    # non-negative root, reported
    cf, years = [-1.0, 1e10, -2e10, 5e9], [0.0, DAY, 1.0, 2.0]

    def npv(r):
        return sum(c * (1.0 + r) ** -t for c, t in zip(cf, years))
    assert npv(0.70) * npv(0.72) < 0.0
    rates = _both_xirr(cf, years)
    assert 0.70 < rates[0] < 0.72 and abs(npv(rates[0])) < 1e-12 * 2e10
    for r in rates[1:]:
        assert r == pytest.approx(rates[0], rel=1e-9)


def test_annualised_irr_beyond_the_float_range_is_nan():
    # (1 + r)^n - 1: 1e10 a period for 365 periods a year is 1e3650; 1e100 a quarter is
    # 1e400: NaN (was math.inf). 100% a period daily is 2^365 - 1, representable
    assert math.isnan(annualise(1e10 - 1.0, 365))
    assert math.isnan(annualise(1e100, 4))
    assert annualise(1.0, 365) == pytest.approx(2.0 ** 365 - 1.0, rel=1e-15)
    assert math.isnan(annualise(math.nan, 4))


def test_xirr_guess_of_minus_100_percent_is_ignored():
    # -100 then 110 a year on: 10%. A start at r = -100% (v = 1/(1+r) undefined) is no
    # start: both engines ignore it (the kernel divided by zero)
    assert xirr([-100.0, 110.0], [0.0, 1.0], -1.0) == pytest.approx(0.1, rel=1e-12)
    if kernel is not None:
        assert kernel.xirr([-100.0, 110.0], [0.0, 1.0], -1.0) == pytest.approx(0.1, rel=1e-12)


# -------------------------------- flows spanning > 1e250: a root, converged, or none at all
# One outlay and one receipt n periods apart: c_0 (1 + r)^n = c_n, so r = (c_n / c_0)^(1/n) - 1
# exactly. From v = 1/(1+r) = 0.5 Halley shrinks v only by (n - 1)/(n + 1) a pass where the
# top flow dominates, and false position then creeps across the bracket [0, 0.5]: both
# engines returned an unconverged point as the root (2.39e186, 4.40e220; for n = 3 the
# reference 2.96e212, the kernel 5.18e226), where the NPV is -1 (or -1e-8), not 0.
@pytest.mark.parametrize("cf, expected", [
    # (1 + r)^40 = 1e308: r = 10^(308/40) - 1 = 10^7.7 - 1 = 5.0119e7
    ([-1.0] + [0.0] * 39 + [1e308], 10.0 ** 7.7 - 1.0),
    # 1e-8 (1 + r)^2 = 1e301: (1 + r)^2 = 1e309, r = 10^154.5 - 1 = 3.1623e154
    ([-1e-8, 0.0, 1e301], math.sqrt(10.0) * 1e154 - 1.0),
    # (1 + r)^3 = 1e308: r = 10^(308/3) - 1 = 4.6416e102 (the engines disagreed)
    ([-1.0, 0.0, 0.0, 1e308], 10.0 ** (308.0 / 3.0) - 1.0),
])
def test_flows_spanning_hundreds_of_decades_give_their_root(cf, expected):
    rates = _both_irr(cf)
    for r in rates:
        assert r == pytest.approx(expected, rel=1e-9)
    assert len(set(rates[1:])) <= 1  # the kernel's entries (scalar, lanes) bit for bit
    assert expected == pytest.approx(5.0119e7 if len(cf) == 41 else 3.1623e154 if len(cf) == 3 else 4.6416e102, rel=1e-4)


def test_halley_giving_up_on_a_lopsided_bracket_still_converges():
    # -1, then 1e308 at t = 40 and -1e307 at t = 41 (two sign changes, one gain root:
    # partial sums -1, 1e308 - 1, 9e307). The start is 0.5 (initial_v's estimate is v = 10,
    # the outflows' mean time 41 after the inflow's 40), so Halley gives up and the bracket
    # is refined: -1 + 1e308 v^40 (1 - 0.1 v) = 0, v^40 = 1e-308 / (1 - 0.1 v), so
    # v = 10^-7.7 (1 + 0.0025 v + ...) = 10^-7.7 (1 + 5e-11): r = 10^7.7 - 1 to 1e-10 (was 1.24e14)
    cf = [-1.0] + [0.0] * 39 + [1e308, -1e307]
    rates = _both_irr(cf)
    for r in rates:
        assert r == pytest.approx(10.0 ** 7.7 - 1.0, rel=1e-9)
    assert len(set(rates[1:])) == 1


def _both_xirr_guess(cf, years, guess):
    """_both_xirr from a guess (the start of the iteration)."""
    out = [xirr(cf, years, guess)]
    if kernel is not None:
        rows, g = np.array([cf] * 4, dtype=float), [guess] * 4
        out += [kernel.xirr(cf, years, guess), *kernel.xirr_one_by_one(rows, years, g),
                *kernel.xirr_many(rows, years, g), *kernel.xirr_four(rows, years, g)]
    return out


def test_xirr_from_a_far_guess_converges_in_both_halves():
    # Whole years 0..40. Gain half: -1, then 1e308 in year 40, from a 10% guess:
    # (1 + r)^40 = 1e308, r = 10^7.7 - 1 (was 1.51e198). Loss half: 1e308, then -1 in
    # year 40, from -50%: (1 + r)^40 = 1e-308, 1 + r = 10^-7.7 = 1.995e-8 (was -1.0: 1 + r = 0);
    # 1 + r is checked, r = -0.99999998 carries it only to about 3e-9
    years = [float(t) for t in range(41)]
    for r in _both_xirr_guess([-1.0] + [0.0] * 39 + [1e308], years, 0.1):
        assert r == pytest.approx(10.0 ** 7.7 - 1.0, rel=1e-9)
    for r in _both_xirr_guess([1e308] + [0.0] * 39 + [-1.0], years, -0.5):
        assert 1.0 + r == pytest.approx(10.0 ** -7.7, rel=1e-8)


def test_the_start_does_not_overflow():
    # one outlay, one receipt n apart: the estimate is exact, v = (c_0 / c_n)^(1/n). 40 x 1e308
    # overflowed (t x inf: a start of 1.0), 1e301 / 1e-8 = 1e309 too (log inf: a start of 0)
    assert initial_v([-1.0] + [0.0] * 39 + [1e308]) == pytest.approx(10.0 ** -7.7, rel=1e-12)
    assert initial_v([-1e-8, 0.0, 1e301]) == pytest.approx(10.0 ** -154.5, rel=1e-12)
    # ordinary flows (no rescaling where nothing overflows): 100 (1 + r) = 110, v = 1/1.1
    assert initial_v([-100.0, 110.0]) == pytest.approx(1.0 / 1.1, rel=1e-15)


def test_the_bracket_refinement_converges_on_hundreds_of_decades():
    # f(x) = -1 + 1e308 x^40 on [0, 1]: the root 10^-7.7, to machine precision, though false
    # position alone (200 steps) creeps from the flat end: it returned 8.0e-249, f = -1
    fl = _Flows([-1.0] + [0.0] * 39 + [1e308])
    x = _bisect(fl, GAIN, 0.0, 1.0, -1.0, 1e308 - 1.0)
    assert x == pytest.approx(10.0 ** -7.7, rel=1e-14)
