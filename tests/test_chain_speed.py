"""The chain run's cheap parts are the same numbers as the costly ones they replace.

- contagion.Curve evaluates a piecewise-linear curve in plain floats in place of
  numpy.interp on one point: it must give np.interp's value to the last bit, for any
  sorted knots (repeated knots, i.e. steps, included) and any time (before, between,
  on and beyond the knots).
- settlement.settle resolves a copy of each issuer's outcome (IssuerOutcome.unresolved_copy)
  in place of a deep copy: the chain's own outcome must be left as it was.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from waterfall.contagion import Curve, curve

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=8), st.lists(finite, min_size=1, max_size=10),
       st.sampled_from([1.0, 3.0, 12.0]))
def test_curve_is_np_interp_bit_for_bit(points, ts, unit):
    points = sorted(points, key=lambda p: p[0])
    f = curve(points, unit)
    xp = np.array([p for p, _ in points], dtype=float) * unit / 12.0
    fp = np.array([v for _, v in points], dtype=float)
    for t in ts + list(xp) + [xp[0] - 1.0, xp[-1] + 1.0]:   # the knots themselves and both ends too
        want = float(np.interp(t, xp, fp))
        assert np.float64(f(t)).tobytes() == np.float64(want).tobytes(), (points, t)


def test_curve_by_hand():
    # (0, 1) -> (2, 0.5) then a step to 0.2 at year 2 and flat after 4:
    # t=1: 1 + (0.5 - 1)/2 x 1 = 0.75; t=2 sits on the repeated knot: the later value
    # 0.2 (np.interp takes the last knot at or below t); t=3: 0.2 + (0.6 - 0.2)/2 = 0.4;
    # t=-1: 1 (flat before); t=9: 0.6 (flat after).
    f = curve([(0, 1.0), (2, 0.5), (2, 0.2), (4, 0.6)])
    assert isinstance(f, Curve)
    assert [f(1.0), f(2.0), f(3.0), f(-1.0), f(9.0)] == [0.75, 0.2, 0.4, 1.0, 0.6]


def test_settle_leaves_the_chains_outcome_as_it_was():
    # Oracle forced into default on 15 Jan 2029: settle adds its landlords' capped
    # rejection claims to the resolved copy and pays them; the chain's own outcome keeps
    # the claims simulate recorded (its instruments and the revolver only), no
    # recoveries, and the cash left as its value; the path is the same list, unchanged
    import datetime as dt

    from waterfall.commands.portfolio import chain_rows, portfolio_deals
    from waterfall.contagion import load_graph
    from waterfall.scenarios.presets import load_preset

    graph, deals = load_graph(), portfolio_deals()
    _, outcome, issuers = chain_rows(graph, load_preset("base"), deals, forced={"Oracle": dt.date(2029, 1, 15)})
    raw, resolved = outcome.entities["Oracle"].issuer, issuers["Oracle"]
    assert resolved is not raw and raw.recoveries == {} and raw.value == 0.0   # a simulated default: no cash counted
    assert all(not k.startswith("lease ") for k in raw.claims)
    lease = [k for k in resolved.claims if k.startswith("lease ")]
    assert lease and all(k not in raw.claims and k not in raw.seniority for k in lease)
    assert set(resolved.recoveries) == set(resolved.claims) and resolved.value > 0
    assert resolved.path is raw.path and len(raw.path) > 0
