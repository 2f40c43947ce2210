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


def test_an_open_market_funds_the_deficit_down_to_min_cash():
    # cash 5, inflow 1 a year, outflow 9: -8 a year, -2 a quarter before interest; no debt at
    # the start (leverage 0 / 1 = 0x, the lab pays 100%: market open); min_cash 3.
    # Q1: 5 - 2 = 3, not below 3: nothing borrowed.
    # Q2: 3 - 2 = 1: borrows 2 at base 3.5% + spread 1.5% (leverage 0x at the quarter's start) = 5%.
    # Q3: 3 - 2 - 2 x 5% / 4 = 0.975: borrows 2.025 at 5% (leverage 2 / 1 = 2x, below 3x): 4.025.
    # Q4: 3 - 2 - 4.025 x 5% / 4 = 0.9496875: borrows 2.0503125 at 5% + 0.25% x (4.025 - 3) =
    #     5.25625%; one instrument for 2026: 6.0753125, coupon the amount-weighted rate, maturity
    #     10 years (tenor_years) after the first draw's quarter start, 1 Apr 2036.
    flows = Flows(inflow=lambda t, r: 1.0, outflow=lambda t, r: 9.0, funding=lambda t: 0.0, cash=5.0)
    lives: list = []
    out = simulate("DeficitCo", lives, flows, MarketAccess(min_cash=3.0), dt.date(2026, 1, 1), [1.0] * 2, years=1)
    assert [round(p["cash"], 9) for p in out.path[:3]] == [3.0, 3.0, 3.0]
    assert [x.name for x in lives] == ["new borrowing 2026"]
    assert [round(p["cash"], 9) for p in out.path] == [3.0, 3.0, 3.0, 3.0]
    assert lives[0].balance == pytest.approx(6.0753125)
    assert lives[0].coupon == pytest.approx((4.025 * 0.05 + 2.0503125 * 0.0525625) / 6.0753125)
    assert lives[0].maturity == dt.date(2036, 4, 1)
    assert out.default_date is None
    # the same issuer with its market shut (the lab pays 90% < 95%) borrows nothing: cash 5 runs
    # out 2.5 quarters in: 1 Jan 2026 + 7.5 months = mid-Aug 2026 (liquidity, the stated rule)
    out = simulate("DeficitCo", [], flows, MarketAccess(min_cash=3.0), dt.date(2026, 1, 1), [0.9] * 2, years=1)
    assert out.cause == "liquidity" and dt.date(2026, 8, 14) <= out.default_date <= dt.date(2026, 8, 17)


# ------------------------------------------------ through the chain and the portfolio

import waterfall
from waterfall.commands.portfolio import chain_rows, run_portfolio
from waterfall.contagion import Graph
from waterfall.model import Scenario


def flat_spv(name: str, issuer: str):
    """The tie-out SPV with a flat rent of 40 a quarter for 120 months, owed by `issuer`."""
    data = waterfall.load_deal("tieout").model_dump()
    data["deal"].update(name=name, kind="spv")
    data["leases"][0].update(tenant=issuer, issuer=issuer, escalation=0.0)
    data["scenarios"] = []
    return waterfall.Deal.model_validate(data)


WALKER = {
    "basis_date": "2026-01-15",            # the tie-out's close: month m falls in quarter floor(m/3) + 1
    "lab": {"name": "Lab", "tenants": ["AI lab"], "revenue": [(0, 0.0)], "cash": 0.0},
    "obligors": [{"name": "Walker", "tenants": ["Walker"], "other_cash_flow": [(0, 10.0)], "capex": [(0, 5.0)],
                  "cash": 1.0, "strategic_threshold": 0.3, "relet_downtime_months": 0, "relet_haircut": 0.0,
                  "damages_discount_rate": 0.0, "walk_damages_share": 1.0}],
    "deals": [{"deal": "spv-w"}],
}


def test_solvent_tenant_that_walks_pays_damages():
    graph = Graph.model_validate(WALKER)
    deal = flat_spv("spv-w", "Walker")
    # market rent 1.0 to month 12, 0.5 from month 13: 30% out of the money first in
    # month 13 (at 12.6 months the level is 0.7) -> walks on 15 Feb 2027, quarter 5
    preset = Scenario(name="glut", time_unit="month", chain={"market_rent": [(0, 1.0), (12, 1.0), (13, 0.5)]})
    rows, outcome, _ = chain_rows(graph, preset, [deal])
    (row,) = rows
    assert outcome.entities["Walker"].walk_year == pytest.approx(13 / 12)
    (claim,) = row["claims"]
    # damages: rent left from quarter 5 = 36 quarters x 40 = 1,440, re-let at once at
    # 0.5 of it = 720 earned back; no discounting: 1,440 - 720 = 720, all collected
    assert claim["kind"] == "walks" and claim["claim"] == pytest.approx(720.0)
    assert claim["recovered"] == pytest.approx(720.0) and claim["paid_on"] == "2027-02-15"
    # the SPV itself defaults (20 a quarter of re-let rent < 3 opex + 17.5 principal +
    # interest); what the damages pay goes to its lenders first: their loss is the
    # waterfall's less the damages, here nothing, and the rest reaches the sponsor
    alone = waterfall.run(deal, row["scenario"]).metrics
    assert alone["default_period"] is not None and 0 < alone["lender_loss"] < 720.0
    assert row["loss"] == pytest.approx(0.0, abs=1e-9)
    assert row["equity_distributions"] == pytest.approx(alone["equity_distributions"] + 720.0 - alone["lender_loss"])
    # its market is open (no debt, the lab pays in full): it borrows the 0.72bn on the walk
    # date and keeps its cash; debt at the start of the next quarter is 0.72 higher
    path = outcome.entities["Walker"].issuer.path
    assert path[5]["debt"] - path[4]["debt"] == pytest.approx(0.72)
    assert outcome.entities["Walker"].issuer.default_date is None     # solvent throughout
    # with its market shut (1 of debt against 10 of inflow: leverage 0.1x over a 0.05x limit)
    # it pays from its own cash: its cash at the end of that quarter is 0.72 below a run
    # where it never walks
    shut = dict(WALKER, obligors=[{**WALKER["obligors"][0], "market": {"max_leverage": 0.05},
                                   "instruments": [{"name": "bond", "amount": 1.0, "coupon": 0.0,
                                                    "maturity": "2040-01-15"}]}])
    graph = Graph.model_validate(shut)
    walked = chain_rows(graph, preset, [deal])[1].entities["Walker"].issuer.path[4]["cash"]
    calm = chain_rows(graph, Scenario(name="calm", time_unit="month"), [deal])[1]
    assert calm.entities["Walker"].issuer.path[4]["cash"] - walked == pytest.approx(0.72)


def test_oracle_instruments_accelerate_together_and_share_pro_rata():
    # Oracle forced into default on 15 Jan 2029 (as a simulated path does): every one of
    # its instruments (the Sept-2025 notes, the issued programme vintages) accelerates on
    # that date and recovers at one senior unsecured rate; its SPV landlords' claims are
    # capped rejection claims paid at that rate too
    from waterfall.commands.portfolio import portfolio_deals
    from waterfall.contagion import load_graph
    from waterfall.scenarios.presets import load_preset

    graph, deals = load_graph(), portfolio_deals()
    rows, outcome, issuers = chain_rows(graph, load_preset("base"), deals, forced={"Oracle": dt.date(2029, 1, 15)})
    oracle = issuers["Oracle"]
    assert oracle.default_date == dt.date(2029, 1, 15) and oracle.cause == "simulated default"
    rate = oracle.class_rate("senior_unsecured")
    assert 0 < rate < 1
    by = {r["deal"]: r for r in rows}
    for name in ("oracle_notes_2025", "oracle_borrowing_programme"):
        assert by[name]["metrics"]["default_date"] == "2029-01-15"
        for t in by[name]["tranches"]:
            assert t["exposure"] > 0 and t["recovery"] / t["exposure"] == pytest.approx(rate)
    for name in ("abilene", "vantage_frontier", "vantage_lighthouse", "project_jupiter"):
        assert by[name]["claims"]
        for c in by[name]["claims"]:
            assert c["kind"] == "rejects" and c["recovered"] == pytest.approx(c["claim"] * rate)
            assert c["paid_on"] == "2030-07-15"            # 18 months after the default


def test_a_holdco_sells_listed_stakes_to_meet_a_maturity():
    # 5 due on 30 Jun 2026 with the market shut (leverage 5 / 0.5 = 10x > 5x): cash 2 +
    # stakes 4 >= 5, so it sells 3 of its stakes and pays; 1 of stakes is left
    lives = [Live("bonds", "senior_unsecured", 5.0, 0.0, dt.date(2026, 6, 30), None, 0.0)]
    flows = Flows(inflow=lambda t, r: 0.5, outflow=lambda t, r: 0.5, funding=lambda t: 0.0, cash=2.0, saleable=4.0)
    out = simulate("HoldCo", lives, flows, MarketAccess(max_leverage=5.0), dt.date(2026, 1, 1), [1.0] * 3, years=3)
    assert out.default_date is None and lives[0].balance == 0.0
    assert out.path[1]["cash"] == pytest.approx(0.0) and out.path[1]["saleable"] == pytest.approx(1.0)
    # with 2 of stakes only, 2 + 2 < 5: it defaults on the maturity date
    flows.saleable = 2.0
    lives = [Live("bonds", "senior_unsecured", 5.0, 0.0, dt.date(2026, 6, 30), None, 0.0)]
    out = simulate("HoldCo", lives, flows, MarketAccess(max_leverage=5.0), dt.date(2026, 1, 1), [1.0] * 3, years=3)
    assert out.default_date == dt.date(2026, 6, 30)


def test_a_presets_rates_reach_the_issuers_floating_debt():
    from waterfall.contagion import _rates
    from waterfall.scenarios.presets import load_preset

    # rates-stay-high: SOFR flat 4.5% and +150bp from year 1 to year 4 (from the basis date)
    base = _rates(load_preset("rates-stay-high"), 12.0, 0.035)
    assert base(0.5) == pytest.approx(0.045) and base(2.0) == pytest.approx(0.06) and base(4.5) == pytest.approx(0.045)
    # a floating loan of 10 at base + 2%: 10 x 6.5% = 0.65 a year in the first year, 0.25 of
    # it a quarter; with 1 of cash and nothing else it lasts 1 / (0.65 / 4) = 6.15 quarters
    lives = [Live("loan", "senior_unsecured", 10.0, 0.0, dt.date(2040, 1, 1), None, 0.0, floating_spread=0.02)]
    flows = Flows(inflow=lambda t, r: 0.0, outflow=lambda t, r: 0.0, funding=lambda t: 0.0, cash=1.0)
    out = simulate("FloatCo", lives, flows, MarketAccess(), dt.date(2026, 1, 1), [1.0] * 5, years=5,
                   base_rate=lambda t: 0.045)
    # 6 quarters pay 0.975; 0.025 left = 0.1538 of the 7th quarter (from 1 Jul 2027): 0.46 months = 14 days
    assert out.cause == "liquidity" and out.default_date == dt.date(2027, 7, 15)
