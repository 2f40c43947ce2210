"""Issuers: one balance sheet, one default, every instrument accelerating on one date and
recovering by class; lease-rejection claims capped as 11 U.S.C. 502(b)(6) caps them.
Every expected number is worked by hand in the comments."""
from __future__ import annotations

import datetime as dt

import pytest

from waterfall.claims import Claim, distribute, lease_rejection_cap, lease_rejection_claim
from waterfall.issuers import Flows, Live, MarketAccess, resolve_default, simulate


def test_lease_rejection_cap_three_branches():
    # 24 months left at 1/month: 1 year = 12; 15% x 24 = 3.6 -> the year binds: 12
    assert lease_rejection_cap([1.0] * 24) == pytest.approx(12.0)
    # 120 months at 1/3: 1 year = 4; 15% x 40 = 6; 3 years = 12 -> 6
    assert lease_rejection_cap([1 / 3] * 120) == pytest.approx(6.0)
    # 300 months at 1: 1 year = 12; 15% x 300 = 45 > 3 years = 36 -> capped at 36
    assert lease_rejection_cap([1.0] * 300) == pytest.approx(36.0)
    # plus unpaid rent at the petition, in full: 36 + 2.5
    assert lease_rejection_cap([1.0] * 300, unpaid=2.5) == pytest.approx(38.5)
    # damages below the cap are the claim: 24 months left, re-let recovers 20 of the 24
    assert lease_rejection_claim([1.0] * 24, mitigation=20.0) == pytest.approx(4.0)


def test_distribution_by_class():
    # value 10: secured 8 on collateral 5 -> 5, deficiency 3 joins the seniors;
    # seniors 3 + 7 = 10 on 5 left -> 50% each; subordinated nothing
    paid = distribute(10.0, [Claim("s", 8.0, "secured", 5.0), Claim("u", 7.0, "senior_unsecured"),
                             Claim("j", 4.0, "subordinated")])
    assert paid == pytest.approx({"s": 5.0 + 1.5, "u": 3.5, "j": 0.0})
    # enough for everyone: the juniors get the rest up to their claim
    paid = distribute(100.0, [Claim("u", 7.0, "senior_unsecured"), Claim("j", 4.0, "subordinated")])
    assert paid == pytest.approx({"u": 7.0, "j": 4.0})


def wallco(lease_months=120, lease_monthly=1 / 3):
    """An issuer with 8 of cash, operating inflow = outflow = 4 a year, a 2 revolver and a
    closed market (its leverage, 70 / 4 = 17.5x, is over the 5x its market accepts)."""
    lives = [Live("secured TL", "secured", 10.0, 0.0, dt.date(2030, 1, 1), None, 0.6),
             Live("notes A", "senior_unsecured", 20.0, 0.0, dt.date(2027, 6, 30), None, 0.0),
             Live("notes B", "senior_unsecured", 30.0, 0.0, dt.date(2031, 1, 1), None, 0.0),
             Live("sub notes", "subordinated", 10.0, 0.0, dt.date(2032, 1, 1), None, 0.0)]
    flows = Flows(inflow=lambda t, r: 4.0, outflow=lambda t, r: 4.0, funding=lambda t: 0.0, cash=8.0)
    out = simulate("WallCo", lives, flows, MarketAccess(max_leverage=5.0), dt.date(2026, 1, 1),
                   [1.0] * 40, revolver=2.0)
    lease = Claim("lease to SPV", lease_rejection_claim([lease_monthly] * lease_months), "senior_unsecured")
    return resolve_default(out, multiple=5.0, extra=[lease])


def test_issuer_defaults_on_its_maturity_wall_and_recovers_by_class():
    out = wallco()
    # notes A (20) fall due on 30 Jun 2027 with the market shut: cash 8 + revolver 2 = 10 < 20
    assert out.default_date == dt.date(2027, 6, 30)
    assert out.cause.startswith("maturity of notes A")
    # all four instruments accelerate on that date at their full balances, plus the lease
    # claim: 10 years left at 4 a year: max(4, min(15% x 40 = 6, 12)) = 6
    assert out.claims == pytest.approx({"secured TL": 10.0, "notes A": 20.0, "notes B": 30.0,
                                        "sub notes": 10.0, "lease to SPV": 6.0})
    # value = cash 8 + 5 x inflow 4 = 28. Secured: its collateral 6 -> 6, deficiency 4.
    # Seniors: A 20 + B 30 + deficiency 4 + lease 6 = 60 share 28 - 6 = 22: 36.67% each.
    assert out.value == pytest.approx(28.0)
    rate = 22.0 / 60.0
    assert out.recoveries == pytest.approx({"secured TL": 6.0 + 4.0 * rate, "notes A": 20.0 * rate,
                                            "notes B": 30.0 * rate, "lease to SPV": 6.0 * rate,
                                            "sub notes": 0.0})
    assert out.class_rate("senior_unsecured") == pytest.approx(rate * (56 / 56))
    # money is conserved: the estate pays out exactly its value (the juniors get nothing)
    assert sum(out.recoveries.values()) == pytest.approx(28.0)


def test_open_market_rolls_the_wall():
    lives = [Live("notes A", "senior_unsecured", 20.0, 0.0, dt.date(2027, 6, 30), None, 0.0)]
    flows = Flows(inflow=lambda t, r: 4.0, outflow=lambda t, r: 4.0, funding=lambda t: 0.0, cash=8.0)
    # leverage 20 / 4 = 5x inside a 6x limit: open; the notes roll 10 years at 3.5% + 1.5% + 0.5%
    # (a quarter of a point per turn above 3x: 2 turns); 120 months on (the day capped at 28)
    out = simulate("RollCo", lives, flows, MarketAccess(max_leverage=6.0), dt.date(2026, 1, 1), [1.0] * 10,
                   years=10)
    assert lives[0].maturity == dt.date(2037, 6, 28) and lives[0].coupon == pytest.approx(0.055)
    # then the new coupon, 20 x 5.5% = 1.1 a year = 0.275 a quarter, is paid from the 8 of
    # cash from the quarter starting 1 Jul 2027 (interest is charged before the roll, so
    # the old 0% coupon covers the quarter of the maturity): 8 / 0.275 = 29.09 quarters, so
    # the cash runs out 0.0909 of the way into the quarter starting 1 Jul 2027 + 29 x 3 months
    # = 1 Oct 2034: + 0.2727 months x 30.4375 days = 8 days: 9 Oct 2034
    assert out.cause == "liquidity" and out.default_date == dt.date(2034, 10, 9)


def test_liquidity_runs_out_mid_quarter():
    # cash 1, burn 8 a year = 2 a quarter, no revolver, no debt: cash is gone half way
    # through the first quarter: 1 Jan 2026 + 1.5 months = 15 Feb 2026 (30.4375 x 0.5 = 15 days)
    flows = Flows(inflow=lambda t, r: 0.0, outflow=lambda t, r: 8.0, funding=lambda t: 0.0, cash=1.0)
    out = simulate("BurnCo", [], flows, MarketAccess(), dt.date(2026, 1, 1), [1.0] * 5, years=5)
    assert out.cause == "liquidity" and out.default_date == dt.date(2026, 2, 16)
