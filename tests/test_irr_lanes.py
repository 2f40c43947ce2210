"""The kernel's IRR of four vectors at once (ext/_irr_lanes.pxi: irr_periodic4, used by
`_kernel.irr_many`) against the scalar `irr_periodic` one vector at a time and against the
pure-Python reference (waterfall/irr.py).

Each lane does the scalar's operations in the same order, so the lanes' IRR must equal the
scalar's exactly (bit for bit; the issue asks for 1e-12 relative, and NaN exactly where the
scalar has NaN); the reference's to 1e-9."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waterfall import engine
from waterfall.irr import irr as reference_irr

pytestmark = pytest.mark.skipif(not engine.kernel_available(), reason="no compiled kernel")
K = engine._kernel if engine.kernel_available() else None


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _assert_lanes_are_the_scalar(rows: np.ndarray) -> None:
    scalar = [K.irr(row) for row in rows]
    for name, got in (("irr_many", K.irr_many(rows)), ("irr_one_by_one", K.irr_one_by_one(rows))):
        bad = [(i, got[i], scalar[i]) for i in range(len(rows)) if not _same(got[i], scalar[i])]
        assert bad == [], (name, bad[:3], rows[bad[0][0]].tolist())
    for start in range(0, len(rows) - 3, 4):
        four = K.irr_four(rows[start:start + 4])
        assert all(_same(four[j], scalar[start + j]) for j in range(4)), (start, four, scalar[start:start + 4])


def _assert_reference(rows: np.ndarray, got: np.ndarray) -> None:
    for row, value in zip(rows, got):
        expected = reference_irr(row)
        if math.isnan(expected):
            assert math.isnan(value), row.tolist()
        else:
            assert value == pytest.approx(expected, rel=1e-9, abs=1e-9), row.tolist()


def test_known_rates_in_four_lanes():
    # each row returns 10% a period: 110 = 100 x 1.1; 121 = 100 x 1.1^2;
    # 55 / 1.1 + 60.5 / 1.21 = 50 + 50 = 100; 133.1 = 100 x 1.1^3
    rows = np.array([[-100.0, 110.0, 0.0, 0.0],
                     [-100.0, 0.0, 121.0, 0.0],
                     [-100.0, 55.0, 60.5, 0.0],
                     [-100.0, 0.0, 0.0, 133.1]])
    assert K.irr_four(rows) == pytest.approx([0.1] * 4, rel=1e-12)
    assert K.irr_many(rows) == pytest.approx([0.1] * 4, rel=1e-12)


def test_noise_is_zeroed_and_the_other_cases_go_scalar():
    # row 0: -1e-10 and 4e-10 are rounding noise (<= 1e-9): one change, -100 then 110, 10%;
    # row 1: no sign change, NaN; row 2: sums to zero, r = 0 exactly;
    # row 3: a root in the loss half: -100 then 50 is u = 1 + r = 0.5, r = -50%
    rows = np.array([[-100.0, 110.0, -1e-10, 4e-10],
                     [100.0, 10.0, 0.0, 0.0],
                     [-100.0, 40.0, 60.0, 0.0],
                     [-100.0, 50.0, 0.0, 0.0]])
    got = K.irr_four(rows)
    assert got[0] == pytest.approx(0.1, rel=1e-12)
    assert math.isnan(got[1])
    assert got[2] == 0.0
    assert got[3] == pytest.approx(-0.5, rel=1e-12)
    _assert_lanes_are_the_scalar(rows)


def test_several_sign_changes_in_lanes():
    # -100, +230, -132 has roots where 100 v^0 - 230 v + 132 v^2 = 0 ... i.e. (1+r)^2 100 -
    # 230 (1+r) + 132 = 0: 1 + r = (230 +- sqrt(52900 - 52800)) / 200 = 1.2 or 1.1:
    # r = 10% and 20%, the rule takes the smallest non-negative, 10%
    row = [-100.0, 230.0, -132.0, 0.0]
    rows = np.array([row, row[::-1], [-100.0, 110.0, 0.0, 0.0], [-50.0, 55.0, 0.0, 0.0]])
    got = K.irr_many(rows)
    assert got[0] == pytest.approx(0.1, rel=1e-12)
    assert got[2] == pytest.approx(0.1, rel=1e-12)
    assert got[3] == pytest.approx(0.1, rel=1e-12)
    _assert_lanes_are_the_scalar(rows)
    _assert_reference(rows, got)


def _loan(n):   # an outlay, then coupons and a balloon: the usual lender vector
    return st.builds(lambda out, cpn, lag, scale: np.concatenate(
        [np.zeros(lag), [-out * scale], np.full(n - lag - 2, cpn * scale), [(out + cpn) * scale]]),
        st.floats(1.0, 1000.0), st.floats(0.0, 50.0), st.integers(0, min(3, n - 2)),
        st.sampled_from([1e-6, 1e-3, 1.0, 1e3, 1e9]))


def _signed(n):   # any signs: several sign changes, huge and small magnitudes, zeros
    return st.lists(st.one_of(st.just(0.0), st.floats(-1e6, 1e6), st.floats(-1e-6, 1e-6),
                              st.floats(-1e-9, 1e-9)), min_size=n, max_size=n).map(np.array)


def _deep_loss(n):   # almost nothing back: roots near -100%
    return st.builds(lambda back, t: np.concatenate([[-100.0], np.zeros(t), [back], np.zeros(n - t - 2)]),
                     st.floats(1e-6, 1.0), st.integers(0, n - 2))


def _special(n):
    return st.sampled_from([np.zeros(n), np.full(n, 5e-10), np.concatenate([[-5e-10], np.full(n - 1, 1e-10)])])


def _rows():
    return st.integers(2, 40).flatmap(lambda n: st.lists(
        st.one_of(_loan(n), _signed(n), _deep_loss(n), _special(n)), min_size=1, max_size=11)).map(np.array)


@settings(max_examples=400, deadline=None)
@given(_rows())
def test_lanes_equal_the_scalar_bit_for_bit(rows):
    _assert_lanes_are_the_scalar(rows)


@settings(max_examples=150, deadline=None)
@given(st.integers(3, 60).flatmap(lambda n: st.lists(st.one_of(_loan(n), _deep_loss(n), _special(n)),
                                                      min_size=4, max_size=9)).map(np.array))
def test_lanes_match_the_reference(rows):
    _assert_reference(rows, K.irr_many(rows))


def test_benchmark_flows_in_lanes_are_the_scalar():
    """The benchmark deal's lender and equity flows (181 periods, 64 lease scenarios: the
    vectors waterfall.speed.irr_timings measures), lanes against one at a time."""
    from waterfall.bench import lease_scenarios
    from waterfall.compile import compile_deal
    from waterfall.load import load_deal
    from waterfall.metrics import cash_flows

    program = compile_deal(load_deal("benchmark_spv"))
    ledgers, _, _ = engine.run_program(program, lease_scenarios(program.n_periods, 64), ledgers=True)
    rows = np.array([f for ledger in ledgers for f in cash_flows(program, ledger)])
    _assert_lanes_are_the_scalar(rows)
    _assert_reference(rows[::7], K.irr_many(rows[::7]))


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 30).flatmap(lambda n: st.lists(st.one_of(
    _loan(n), _signed(n), st.lists(st.sampled_from([math.nan, math.inf, -math.inf, -5.0, 3.0, 0.0]),
                                                    min_size=n, max_size=n).map(np.array)),
    min_size=4, max_size=9)).map(np.array))
def test_lanes_equal_the_scalar_on_nan_and_infinite_flows(rows):
    # not money (the engine never produces them), but the lanes must not differ from the
    # scalar on them either: the same operations give the same NaN or number
    with np.errstate(all="ignore"):
        _assert_lanes_are_the_scalar(rows)


# ------------------------------------------------------------------ the XIRR in four lanes
# irr_dated4 (ext/_irr_lanes.pxi; `_kernel.xirr_four`, `xirr_many`) against the scalar
# irr_dated one row at a time (`xirr_one_by_one`: the same years, guesses and gap table),
# bit for bit, and against waterfall/irr.py's xirr to 1e-9.
from waterfall.irr import xirr as reference_xirr

MAX_GAPS = 48   # irr_dated's table spans fewer gap lengths than this (ext/_kernel.pyx)


def _gap_table(years):
    """The program's gap table as the kernel builds it (Prog set-up in ext/_kernel.pyx):
    payment dates in whole days, the gaps in days between dates four apart less the
    shortest; None where the dates are not whole days or the gaps span MAX_GAPS or more."""
    days = np.asarray(years) * 365.0
    if len(days) <= 4:
        return None
    whole = np.floor(days + 0.5)
    gaps = whole[4:] - whole[:len(whole) - 4]
    if not len(gaps) or not np.all(np.abs(days - whole) <= 1e-9) or gaps.max() - gaps.min() >= MAX_GAPS:
        return None
    return np.r_[np.zeros(4), gaps - gaps.min()], int(gaps.min()), int(gaps.max())


def _assert_dated_lanes_are_the_scalar(rows, years, guesses, table):
    args = (years, guesses) + ((None, 0, 0) if table is None else table)
    scalar = K.xirr_one_by_one(rows, *args)
    got = K.xirr_many(rows, *args)
    bad = [(i, got[i], scalar[i]) for i in range(len(rows)) if not _same(got[i], scalar[i])]
    assert bad == [], (bad[:3], rows[bad[0][0]].tolist(), years.tolist())
    g = [math.nan] * len(rows) if guesses is None else list(guesses)
    for start in range(0, len(rows) - 3, 4):
        four = K.xirr_four(rows[start:start + 4], years, g[start:start + 4], *args[2:])
        assert all(_same(four[j], scalar[start + j]) for j in range(4)), (start, four, scalar[start:start + 4])
    return scalar


def _assert_dated_reference(rows, years, got, guesses=None):
    for i, (row, value) in enumerate(zip(rows, got)):
        expected = reference_xirr(row, years, None if guesses is None else guesses[i])
        if math.isnan(expected):
            assert math.isnan(value), row.tolist()
        else:
            assert value == pytest.approx(expected, rel=1e-9, abs=1e-9), row.tolist()


# days 0, 91, 182, 273, 365, 456, 547, 638, 730: the dates four apart are 365 days apart
# (456 - 91, 547 - 182, 638 - 273, 730 - 365), a gap table of one length
_QUARTERS = np.array([0, 91, 182, 273, 365, 456, 547, 638, 730]) / 365.0


def test_known_xirrs_in_four_lanes():
    # each row returns 10% a year: 110 = 100 x 1.1 a year (365 days) on; 121 = 100 x 1.1^2
    # two years (730 days) on; 55 / 1.1 + 60.5 / 1.21 = 50 + 50 = 100; 55 = 50 x 1.1
    rows = np.zeros((4, 9))
    rows[0, [0, 4]] = [-100.0, 110.0]
    rows[1, [0, 8]] = [-100.0, 121.0]
    rows[2, [0, 4, 8]] = [-100.0, 55.0, 60.5]
    rows[3, [0, 4]] = [-50.0, 55.0]
    table = _gap_table(_QUARTERS)
    assert table is not None and table[1] == table[2] == 365
    for guesses in (None, [0.1, 0.2, -0.3, 0.0]):
        assert K.xirr_four(rows, _QUARTERS, guesses, *table) == pytest.approx([0.1] * 4, rel=1e-12)
        assert K.xirr_four(rows, _QUARTERS, guesses) == pytest.approx([0.1] * 4, rel=1e-12)
    _assert_dated_lanes_are_the_scalar(rows, _QUARTERS, None, table)


def test_xirr_other_cases_go_scalar():
    # row 0: 1e-10 is noise: -100 then 110 a year on, 10%; row 1: no sign change, NaN;
    # row 2: sums to zero, r = 0 exactly; row 3: -100 then 50 a year on, r = -50% (loss half);
    # row 4 starts a quarter later than the others: -100 at day 91, 110 at day 456, 10%;
    # row 5: -100, +230 a year on, -132 two years on: 1 + r = 1.1 or 1.2, the rule takes 10%;
    # row 6 and 7: the first two again (a lane of its own first flow beside them)
    rows = np.zeros((8, 9))
    rows[0, [0, 4, 6]] = [-100.0, 110.0, 1e-10]
    rows[1, [0, 4]] = [100.0, 10.0]
    rows[2, [0, 4, 8]] = [-100.0, 40.0, 60.0]
    rows[3, [0, 4]] = [-100.0, 50.0]
    rows[4, [1, 5]] = [-100.0, 110.0]
    rows[5, [0, 4, 8]] = [-100.0, 230.0, -132.0]
    rows[6:] = rows[:2]
    table = _gap_table(_QUARTERS)
    got = _assert_dated_lanes_are_the_scalar(rows, _QUARTERS, None, table)
    assert got[0] == pytest.approx(0.1, rel=1e-12)
    assert math.isnan(got[1])
    assert got[2] == 0.0
    assert got[3] == pytest.approx(-0.5, rel=1e-12)
    assert got[4] == pytest.approx(0.1, rel=1e-12)
    assert got[5] == pytest.approx(0.1, rel=1e-9)
    _assert_dated_reference(rows, _QUARTERS, got)


def _years(n, daily=True):   # payment dates: whole days a month or a quarter apart (a gap
    # table), 1 to 60 days apart, or any; the first at year 0 or some days after (the years
    # are then read from the first flow)
    spans = [(28, 31), (89, 92)] + ([(1, 60)] if daily else [])
    whole = st.tuples(st.sampled_from(spans), st.sampled_from([0, 0, 17, 400])).flatmap(
        lambda spec: st.lists(st.integers(*spec[0]), min_size=n - 1, max_size=n - 1).map(
            lambda gaps: np.cumsum([spec[1]] + gaps) / 365.0))
    fractional = st.lists(st.floats(0.01, 0.5), min_size=n - 1, max_size=n - 1).map(
        lambda gaps: np.cumsum([0.0] + gaps))
    return st.one_of(whole, whole, fractional) if daily else whole


def _guesses(rows):   # none, the periodic IRR annualised (as the kernel starts), or any
    periodic = [K.irr(row) for row in rows]
    return st.one_of(st.none(), st.just([(1.0 + r) ** 12 - 1.0 for r in periodic]),
                     st.lists(st.one_of(st.floats(-0.9, 2.0), st.just(math.nan)),
                              min_size=len(rows), max_size=len(rows)))


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_dated_lanes_equal_the_scalar_bit_for_bit(data):
    rows = data.draw(_rows())
    years = data.draw(_years(rows.shape[1]))
    guesses = data.draw(_guesses(rows))
    table = _gap_table(years)
    _assert_dated_lanes_are_the_scalar(rows, years, guesses, table)
    if table is not None:   # and without the program's table (irr_dated builds its own)
        _assert_dated_lanes_are_the_scalar(rows, years, guesses, None)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_dated_lanes_match_the_reference(data):
    n = data.draw(st.integers(5, 60))
    rows = data.draw(st.lists(st.one_of(_loan(n), _deep_loss(n), _special(n)), min_size=4, max_size=9).map(np.array))
    # (dates at least a month apart: over a few days the roots of these flows are rates
    # past 1e300 a year, where waterfall/irr.py divides by v = 0)
    years = data.draw(_years(n, daily=False))
    guesses = data.draw(_guesses(rows))
    table = _gap_table(years)
    got = K.xirr_many(rows, years, guesses, *((None, 0, 0) if table is None else table))
    _assert_dated_reference(rows, years, got, guesses)


def test_benchmark_xirrs_in_lanes_are_the_scalar():
    """The benchmark deal's lender and equity flows (181 monthly periods, 64 lease scenarios)
    at its payment dates with its gap table, started from the periodic IRRs annualised (as
    scn_metrics starts them): lanes against one at a time, and the reference."""
    from waterfall.bench import lease_scenarios
    from waterfall.compile import compile_deal
    from waterfall.load import load_deal
    from waterfall.metrics import cash_flows

    program = compile_deal(load_deal("benchmark_spv"))
    ledgers, _, _ = engine.run_program(program, lease_scenarios(program.n_periods, 64), ledgers=True)
    rows = np.array([f for ledger in ledgers for f in cash_flows(program, ledger)])
    years = np.asarray(program.flow_years, dtype=float)
    table = _gap_table(years)
    assert table is not None   # monthly whole-day dates: the kernel runs with the table
    guesses = [(1.0 + K.irr(row)) ** 12 - 1.0 for row in rows]
    got = _assert_dated_lanes_are_the_scalar(rows, years, guesses, table)
    _assert_dated_reference(rows[::5], years, got[::5], guesses[::5])


def test_lanes_report_an_irr_beyond_the_float_range_as_nan():
    # periodic, -1e-8 then X a period later (1 + r = X / 1e-8): X = 1e301 is r = 1e309 >
    # DBL_MAX = 1.797e308, NaN; X = 1e308 is 1e316 (v subnormal, the search's last bracket),
    # NaN; X = 1e300 is 1e308 - 1, reported; -100 then 110: 10%. In lanes as the scalar
    rows = np.zeros((4, 4))
    rows[:, 0] = [-1e-8, -1e-8, -1e-8, -100.0]
    rows[:, 1] = [1e301, 1e308, 1e300, 110.0]
    _assert_lanes_are_the_scalar(rows)
    got = K.irr_four(rows)
    assert math.isnan(got[0]) and math.isnan(got[1])
    assert got[2] == pytest.approx(1e308, rel=1e-12) and got[3] == pytest.approx(0.1, rel=1e-12)
    # dated, on _QUARTERS with its gap table: -1 at day 0 and X at day 91, 1 + r =
    # X^(365/91): X = 1e80 is 10^320.9 > DBL_MAX, NaN; X = 1e70 is 10^280.8, reported
    # (Python's 1e70 ** (365 / 91) - 1); -1 and 1e80 one year on is 1e80 - 1; 10% again
    rows = np.zeros((4, 9))
    rows[:, 0] = -1.0
    rows[0, 1], rows[1, 1], rows[2, 4] = 1e80, 1e70, 1e80
    rows[3, [0, 4]] = [-100.0, 110.0]
    table = _gap_table(_QUARTERS)
    got = _assert_dated_lanes_are_the_scalar(rows, _QUARTERS, None, table)
    assert math.isnan(got[0])
    assert got[1] == pytest.approx(1e70 ** (365.0 / 91.0) - 1.0, rel=1e-12)
    assert got[2] == pytest.approx(1e80, rel=1e-12) and got[3] == pytest.approx(0.1, rel=1e-12)
    _assert_dated_reference(rows, _QUARTERS, got)


def test_flows_spanning_hundreds_of_decades_in_four_lanes():
    # rows 0-2: one outlay, one receipt 40 periods on, so (1 + r)^40 = c_40 / c_0:
    # 1e308 (r = 10^7.7 - 1 = 5.01e7), 1e300 / 1e-8 (r = 10^7.7 - 1 too), 1e40 (r = 9);
    # row 3: 1e308 at 40 and -1e307 at 41 after -1: Halley from 0.5 gives up, the bracket
    # is refined: r = 10^7.7 - 1 to 1e-10 (test_irr.py derives it); rows 4-7: an ordinary
    # 10% row (-100, 110) beside the three wide ones. The lanes end where the scalar ends
    # (its Halley passes, then its bracket refinement), bit for bit
    def row(c0, c40, tail=0.0):
        r = np.zeros(42)
        r[0], r[40], r[41] = c0, c40, tail
        return r
    ten = np.zeros(42)
    ten[:2] = [-100.0, 110.0]
    rows = np.array([row(-1.0, 1e308), row(-1e-8, 1e300), row(-1.0, 1e40), row(-1.0, 1e308, -1e307),
                     ten, row(-1.0, 1e308), ten, row(-1.0, 1e308, -1e307)])
    _assert_lanes_are_the_scalar(rows)
    got = K.irr_many(rows)
    _assert_reference(rows, got)
    assert got == pytest.approx([10.0 ** 7.7 - 1.0] * 2 + [9.0] + [10.0 ** 7.7 - 1.0] + [0.1, 10.0 ** 7.7 - 1.0, 0.1, 10.0 ** 7.7 - 1.0], rel=1e-9)


def test_xirr_from_a_far_guess_in_four_lanes():
    # whole years 0..40 (a gap table of one length, 1460 days four apart): -1 then 1e308 in
    # year 40 from guesses of 10% and 0% (Halley gives up: the bracket is refined), -1 then
    # 1e40 from 10% (r = 9), -100 then 110 a year on (10%): (1 + r)^40 = 1e308, r = 10^7.7 - 1
    years = np.arange(41.0)
    rows = np.zeros((4, 41))
    rows[:, 0] = [-1.0, -1.0, -1.0, -100.0]
    rows[:3, 40] = [1e308, 1e308, 1e40]
    rows[3, 1] = 110.0
    guesses = [0.1, 0.0, 0.1, 0.1]
    table = _gap_table(years)
    assert table is not None and table[1] == table[2] == 1460
    got = _assert_dated_lanes_are_the_scalar(rows, years, guesses, table)
    _assert_dated_reference(rows, years, got, guesses)
    assert list(got) == pytest.approx([10.0 ** 7.7 - 1.0] * 2 + [9.0, 0.1], rel=1e-9)
