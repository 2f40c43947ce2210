"""IRR against numpy-financial and pyxirr, and on flows with several sign changes."""
from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest
import pyxirr
from hypothesis import given, settings
from hypothesis import strategies as st

from waterfall import engine
from waterfall.irr import annualise, irr, npv_v

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
def test_several_sign_changes_give_the_root_closest_to_zero(cf):
    ours = irr(cf)
    roots = [1.0 / r.real - 1.0 for r in np.roots(cf[::-1]) if abs(r.imag) < 1e-9 and r.real > 0]
    roots = [r for r in roots if -0.99 < r <= 10.0]
    if not roots:
        assert math.isnan(ours)
        return
    assert abs(npv_v(cf, 1.0 / (1.0 + ours))) < 1e-7
    assert abs(ours) == pytest.approx(min(abs(r) for r in roots), abs=1e-6)
    if kernel_irr is not None:
        assert kernel_irr(np.array(cf)) == pytest.approx(ours, abs=1e-10)


def test_long_monthly_series_with_negative_return():
    # 181 monthly periods, most of the outlay lost: a root well below zero
    cf = np.array([-300.0] + [0.5] * 180)
    ours = irr(cf)
    assert ours < 0 and ours == pytest.approx(pyxirr.irr(cf), abs=1e-9)
    if kernel_irr is not None:
        assert kernel_irr(cf) == pytest.approx(ours, abs=1e-12)
