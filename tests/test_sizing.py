"""Debt sizing: the largest amount whose sculpted debt service keeps DSCR at the target,
capped by gearing, solved in closed form at compile time."""
from __future__ import annotations

import numpy as np
import pytest

import waterfall
from waterfall.load import deal_from_data, read_document
from waterfall.load import resolve_deal_path


def tieout_with(**tranche) -> waterfall.Deal:
    data = read_document(resolve_deal_path("tieout"))
    data["tranches"][0].pop("amount")
    data["tranches"][0].update(tranche)
    return deal_from_data(data, "<sized tie-out>")


def test_sculpted_sizing_holds_dscr_at_target_every_period():
    deal = tieout_with(sizing={"target_dscr": 1.4, "max_gearing": 1.0},
                       amortisation={"kind": "sculpted", "target_dscr": 1.4})
    result = waterfall.run(deal, "base", engine="reference")
    flows = result.cash_flows()
    paying = flows[flows["debt_service"] > 0]
    assert len(paying) == 40  # the loan runs the whole lease and no longer
    assert np.allclose(paying["dscr"], 1.4, atol=1e-9)
    assert flows["senior.balance_close"].iloc[-1] == pytest.approx(0.0, abs=1e-7)
    # by hand: amount = sum over q of CFADS_q / 1.4 / 1.015^q
    cfads = [40 * 1.02 ** ((q - 1) // 4) - 3 for q in range(1, 41)]
    expected = sum(c / 1.4 / 1.015 ** q for q, c in enumerate(cfads, start=1))
    assert result.program.amounts[0] == pytest.approx(expected, rel=1e-12)
    from waterfall import ops
    assert result.ledger[0, ops.G["equity_in"]] == pytest.approx(1000.0 - expected, rel=1e-12)


def test_gearing_cap_binds_when_cash_flows_support_more():
    deal = tieout_with(sizing={"target_dscr": 1.05, "max_gearing": 0.6},
                       amortisation={"kind": "sculpted", "target_dscr": 1.05})
    program = waterfall.compile_deal(deal)
    assert program.amounts[0] == pytest.approx(600.0)
    flows = waterfall.run(deal, "base").cash_flows()
    # sculpted at 1.05x, the smaller loan is simply repaid sooner than the lease runs
    repaid = flows.index[flows["senior.balance_close"] <= 1e-9]
    assert 1 <= repaid[repaid > 0].min() < 40


def test_kernel_agrees_on_a_sized_deal():
    deal = tieout_with(sizing={"target_dscr": 1.3}, amortisation={"kind": "sculpted", "target_dscr": 1.3})
    if not waterfall.kernel_available():
        pytest.skip("kernel not built")
    for name in ("base", "renegotiation", "tenant-half-pay"):
        a = waterfall.run(deal, name, engine="reference")
        b = waterfall.run(deal, name, engine="compiled")
        assert np.allclose(a.ledger, b.ledger, atol=1e-9, equal_nan=True)


GROWTH = """
[deal]
name = "growth-sized"
kind = "example"
[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 80
[[assets]]
name = "site"
shell = { cost = 5000.0 }
[[leases]]
tenant = "T"
annual_rent = 400.0
term_months = 240
escalation = 0.08
[[tranches]]
name = "senior"
sizing = { target_dscr = 1.30 }
rate = { kind = "fixed", annual = 0.10 }
day_count = "30/360"
amortisation = { kind = "sculpted", target_dscr = 1.30 }
capitalise_interest = "never"
[[waterfall]]
step = "interest"
tranche = "senior"
[[waterfall]]
step = "principal"
tranche = "senior"
[[waterfall]]
step = "distribute"
"""


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_sizing_with_cfads_growing_faster_than_the_rate_never_defaults(engine):
    """Issue 14's case: rent 100 a quarter growing 8% a year, 10% a year (2.5% a quarter),
    sized at 1.30x over 20 years. The plain PV of CFADS / 1.30,
    76.923 x sum_q 1.08^((q-1)//4) / 1.025^q = 4,741.87, pays 118.55 of interest in q1
    against CFADS 100: it defaulted in period 1. By hand the most debt DSCR 1.30 allows
    in q1 with principal >= 0 is c_1 / r = (100 / 1.30) / 0.025 = 3,076.92 (any more and
    q1's interest alone exceeds CFADS / 1.30); that loan pays interest only in the first
    year (CFADS flat within the lease year) and then amortises at exactly 1.30x."""
    if engine == "compiled" and not waterfall.kernel_available():
        pytest.skip("kernel not built")
    deal = deal_from_data(__import__("tomllib").loads(GROWTH), "<growth>")
    old_pv = sum(100 / 1.3 * 1.08 ** ((q - 1) // 4) / 1.025 ** q for q in range(1, 81))
    assert old_pv == pytest.approx(4741.87, abs=0.01) and old_pv * 0.025 > 100
    result = waterfall.run(deal, "base", engine=engine)
    assert result.program.amounts[0] == pytest.approx(100 / 1.3 / 0.025, rel=1e-12)
    assert result.metrics["default_period"] is None
    flows = result.cash_flows()
    paying = flows[flows["debt_service"] > 1e-9]
    assert (paying["dscr"] >= 1.3 - 1e-9).all()
    assert np.allclose(paying["dscr"].iloc[:-1], 1.3, atol=1e-9)   # at target until the last payment
    assert (flows["senior.principal_paid"] >= 0).all()
    assert flows["senior.principal_paid"].iloc[1:5].max() == pytest.approx(0.0, abs=1e-9)  # year 1 interest-only
    assert flows["senior.balance_close"].iloc[-1] == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_sizing_that_capitalises_the_interest_cfads_cannot_cover_never_defaults(engine):
    """The same case with `when_short = "capitalise"`: the loan is the plain PV of
    CFADS / 1.30, 4,741.87 (the sum above). By hand, quarter 1: interest
    4,741.87 x 2.5% = 118.55 against CFADS / 1.30 = 100 / 1.30 = 76.923; the interest is
    capitalised and 76.923 paid against the balance, which closes at
    4,741.87 x 1.025 - 76.923 = 4,783.49 (up 41.62, the interest left unpaid). Debt
    service is CFADS / 1.30 in every quarter (DSCR exactly 1.30), so the base case never
    defaults, and running the PV backwards the balance is zero after quarter 80."""
    if engine == "compiled" and not waterfall.kernel_available():
        pytest.skip("kernel not built")
    data = __import__("tomllib").loads(GROWTH)
    data["tranches"][0]["sizing"]["when_short"] = "capitalise"
    deal = deal_from_data(data, "<growth capitalised>")
    pv = sum(100 / 1.3 * 1.08 ** ((q - 1) // 4) / 1.025 ** q for q in range(1, 81))
    result = waterfall.run(deal, "base", engine=engine)
    assert result.program.amounts[0] == pytest.approx(pv, rel=1e-12)
    assert result.metrics["default_period"] is None
    flows = result.cash_flows()
    q1 = flows.iloc[1]
    assert q1["senior.interest_capitalised"] == pytest.approx(pv * 0.025, rel=1e-12)
    assert q1["debt_service"] == pytest.approx(100 / 1.3, rel=1e-12)
    assert q1["senior.balance_close"] == pytest.approx(pv * 1.025 - 100 / 1.3, rel=1e-12)
    assert q1["senior.balance_close"] - pv == pytest.approx(41.62, abs=0.01)
    ops_rows = flows.iloc[1:81]
    assert np.allclose(ops_rows["dscr"], 1.3, atol=1e-9)           # at target in all 80 quarters
    assert (ops_rows["senior.interest_capitalised"] > 0).any()    # early quarters capitalise ...
    assert ops_rows["senior.interest_capitalised"].iloc[-8:].max() == 0.0   # ... late ones pay cash interest
    assert (flows["senior.principal_paid"] >= 0).all()
    assert flows["senior.balance_close"].iloc[-1] == pytest.approx(0.0, abs=1e-6)
    # equity gets CFADS less CFADS / 1.30 every quarter: 0.3 / 1.3 of CFADS
    assert np.allclose(ops_rows["equity_distribution"], ops_rows["cfads"] * 0.3 / 1.3, rtol=1e-9, atol=1e-9)
