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
