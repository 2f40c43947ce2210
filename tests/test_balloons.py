"""Balloon reports at maturity (issue 12.3): balloon share, tail, LTV and debt yield."""
import pytest

import waterfall as w
from waterfall.balloons import balloons


@pytest.fixture(scope="module")
def jupiter():
    return w.run(w.load_deal("deals/project_jupiter.toml"))


def test_jupiter_balloon_tail_and_debt_yield(jupiter):
    (b,) = balloons(jupiter.program, jupiter.ledger)
    flows = jupiter.cash_flows()
    # maturity: 16 quarters + two 4-quarter extensions = period 24
    assert b["period"] == 24
    # the lease starts at COD (period 9, after 8 construction quarters) and runs 216 months =
    # 72 quarters: last rent in period 80; (80 - 24) / 4 = 14 years of tail
    assert b["tail_years"] == pytest.approx(14.0)
    # the balloon: the balance at period 24 (after capitalised interest, the sculpted
    # repayments and the 25% sweep) less period 24's scheduled principal
    debt = flows["jupiter-loan.balance_open"].iloc[24]
    assert debt == pytest.approx(flows["jupiter-loan.balance_close"].iloc[23])
    sched_24 = jupiter.program.sched[0, 24]
    assert b["balloon"] == pytest.approx(debt - sched_24, rel=1e-12)
    assert b["balloon_share"] == pytest.approx(b["balloon"] / flows["jupiter-loan.draw"].sum(), rel=1e-12)
    # debt yield: the next four quarters' CFADS over the debt outstanding at period 24
    noi = flows["cfads"].iloc[25:29].sum()
    assert b["debt_yield"] == pytest.approx(noi / debt, rel=1e-12)
    assert 0.0 < b["ltv"] < 1.0 and b["ltv"] == pytest.approx(b["debt"] / b["value"])


def test_a_loan_maturing_at_the_horizon_has_no_balloon():
    r = w.run(w.load_deal("deals/examples/tieout.toml"))
    assert balloons(r.program, r.ledger) == []


def test_the_run_summary_reports_each_balloon(jupiter):
    from waterfall.output.summary import summary_rows
    rows = dict(summary_rows(jupiter, "USD m"))
    (label,) = [k for k in rows if k.startswith("balloon jupiter-loan")]
    assert "tail 14.00 years" in rows[label] and "LTV" in rows[label]


def test_ltv_and_debt_yield_read_the_rent_in_place(tmp_path):
    """The hand-worked refinancing deal valued on its income at a 0% appraisal rate (tests/
    test_refinancing.py, appraisal_deal), rent x 0.5 from quarter 21, after the maturity at
    20. The report reads the maturity as the refinancing lender does, on the rent in place
    at 20 (paid in full): debt 367.5 (the balance at 20); value 20 quarters x 40 = 800, LTV
    367.5 / 800 = 45.9%; NOI 4 x 40 = 160, debt yield 160 / 367.5 = 43.5%. On the scenario's
    later path (20 a quarter from 21) it would read 400 (LTV 91.9%) and 80 (21.8%)."""
    from tests.test_refinancing import CUT_LATER, appraisal_deal
    deal = w.load_deal(appraisal_deal(tmp_path, "min_dscr = 1.0, max_ltv = 0.40"))
    r = w.run(deal, w.Scenario.model_validate(CUT_LATER), engine="reference")
    (b,) = balloons(r.program, r.ledger)
    assert b["period"] == 20
    assert b["debt"] == pytest.approx(367.5, abs=1e-9)
    assert b["value"] == pytest.approx(800.0, abs=1e-9)
    assert b["ltv"] == pytest.approx(367.5 / 800.0, abs=1e-12)
    assert b["debt_yield"] == pytest.approx(160.0 / 367.5, abs=1e-12)
