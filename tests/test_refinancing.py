"""Refinancing sized as a refinancing lender sizes it (issue 12.2; docs/credit.md,
"Refinancing"): the new loan is the lowest of the balloon, max LTV x appraised value, NOI /
min debt yield and the debt the CFADS carries at min DSCR, each less the SPV's other debt;
the shortfall is paid from the period's cash, else cured by the sponsors, else a default.

The hand-worked deal (every number below follows from it, not from the engine):
- quarterly from 2026-01-15 (exact 30/360 quarters of 0.25 years), 40 operating quarters;
- rent 160 a year = 40 a quarter, flat, for 10 years; no operating costs: CFADS = 40 a quarter;
- the asset is worth 1,000 throughout (constant value curve, replacement-cost valuation);
- the senior loan: 700 at 6% fixed (1.5% a quarter), straight-line 17.5 a quarter over 40
  quarters, maturing at quarter 20. Quarters 1-19 repay 19 x 17.5 = 332.5, so quarter 20
  opens at 367.5: interest 5.5125, scheduled principal 17.5, balloon 367.5 - 17.5 = 350;
- the refinancing: base rate 3% + spread 1% = 4% a year, 1% a quarter, straight-line over
  20 quarters (to quarter 40, the horizon);
- a one-quarter DSRA: at quarter 19 it holds quarter 20's debt service 5.5125 + 17.5 =
  23.0125, released into quarter 20's cash: 40 + 23.0125 = 63.0125. After the quarter's
  interest and scheduled principal (23.0125) 40.0 is left for a paydown.
"""
from __future__ import annotations

import pytest

import waterfall as w
from tests.invariants import assert_all

TEMPLATE = """
[deal]
name = "refi-hand"
description = "Hand-worked refinancing deal (tests/test_refinancing.py)"
units = "USD millions"
kind = "example"
assumptions = ["Every figure is set by the test; none is market data."]

[timeline]
financial_close = 2026-01-15
period = "quarter"
construction_periods = 0
operating_periods = 40
calendar = "none"
roll = "unadjusted"

[base_rate]
name = "flat 3%"
interpolation = "linear"
points = [[0, 0.03]]

[[assets]]
name = "campus"
spend = "at_close"
[assets.shell]
cost = 1000.0
curve = {{ kind = "constant", level = 1.0 }}

[[leases]]
tenant = "Tenant"
annual_rent = 160.0
term_months = 120
escalation = 0.0

[[tranches]]
name = "senior"
amount = 700.0
rate = {{ kind = "fixed", annual = 0.06 }}
day_count = "30/360"
amortisation = {{ kind = "straight_line", periods = 40 }}
maturity_period = 20
capitalise_interest = "never"
refinancing = {{ spread = 0.01, floor = 0.0, amort_periods = 20, {refi} }}
{junior}
[equity]
sponsors = {{ "Sponsor" = 1.0 }}

[[accounts]]
name = "dsra"
kind = "dsra"
target_periods = 1
tranches = ["senior"]

[covenants]
lock_up_dscr = 1.05
default_dscr = 1.0
{cure}

[enforcement]
fire_sale_discount = 0.50
cost_share = 0.0
months_to_sale = 0

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"
{junior_steps}
[[waterfall]]
step = "reserve"
account = "dsra"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "base"
description = "The scheduled rent."
"""

JUNIOR = """
[[tranches]]
name = "junior"
amount = 100.0
rate = { kind = "fixed", annual = 0.08 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 40 }
maturity_period = 40
capitalise_interest = "never"
"""
JUNIOR_STEPS = """
[[waterfall]]
step = "interest"
tranche = "junior"

[[waterfall]]
step = "principal"
tranche = "junior"
"""


def deal_text(refi: str, cure: str = "", junior: bool = False) -> str:
    return TEMPLATE.format(refi=refi, cure=cure, junior=JUNIOR if junior else "",
                           junior_steps=JUNIOR_STEPS if junior else "")


def write_deal(tmp_path, refi: str, cure: str = "", junior: bool = False, name: str = "refi.toml"):
    path = tmp_path / name
    path.write_text(deal_text(refi, cure, junior))
    return path


def _runs(path):
    deal = w.load_deal(path)
    engines = ["reference"] + (["compiled"] if w.kernel_available() else [])
    return [w.run(deal, "base", engine=e) for e in engines]


def _at(result, line, t=20):
    return float(result.cash_flows()[line].loc[t])


def _maturity_default_at_20(path, lines: dict) -> None:
    """Both engines: each ledger line at quarter 20 as derived, a maturity default there,
    and the ledger's invariants."""
    for r in _runs(path):
        for name, value in lines.items():
            assert _at(r, name, 20) == pytest.approx(value, abs=1e-9), name
        assert r.metrics.default_period == 20 and r.metrics.default_cause == "maturity"
        assert_all(r.program, r.ledger)


def test_the_hand_worked_deal_reaches_maturity_as_derived():
    """The premises of every case below (module doc), on a deal that never refinances short."""
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        for r in _runs(write_deal(Path(d), "min_dscr = 1.0")):
            assert _at(r, "senior.balance_open") == pytest.approx(367.5, abs=1e-9)
            assert _at(r, "senior.interest_due") == pytest.approx(5.5125, abs=1e-9)
            assert _at(r, "cash_available") == pytest.approx(63.0125, abs=1e-9)
            # min DSCR 1.0: the DSCR limit (800 / 1.2 = 666.7, below) is above the balloon: all 350 refinanced
            assert _at(r, "senior.refinanced") == pytest.approx(350.0, abs=1e-9)
            assert _at(r, "senior.principal_paid") == pytest.approx(17.5, abs=1e-9)


def test_dscr_binds(tmp_path):
    """min DSCR 2.0. A unit of straight-line loan over N = 20 quarters at r = 1% costs
    (1 + (21 - i) x 1%) / 20 in quarter i, most in the first: 1.20 / 20. CFADS 40 carries
    debt service 40 / 2.0 = 20 there, so the loan is 20 x 20 / 1.20 = 333.333...; the SPV's
    forward DSCR in quarter 21 is 40 / (333.33 x 1% + 333.33 / 20) = 40 / 20 = 2.0.
    The shortfall 350 - 333.333 = 16.667 is paid from the 40.0 left: no cure, no default."""
    for r in _runs(write_deal(tmp_path, "min_dscr = 2.0")):
        loan = 20 * 20 / 1.2
        assert _at(r, "senior.refinanced") == pytest.approx(loan, abs=1e-9)
        assert _at(r, "senior.principal_paid") == pytest.approx(17.5 + 350 - loan, abs=1e-9)
        assert _at(r, "senior.balance_close") == pytest.approx(loan, abs=1e-9)
        assert _at(r, "equity_cure") == 0.0
        assert r.metrics.default_period is None
        assert _at(r, "dscr", 21) == pytest.approx(2.0, abs=1e-9)
        assert _at(r, "senior.principal_due", 21) == pytest.approx(loan / 20, abs=1e-9)
        assert_all(r.program, r.ledger)


def test_debt_yield_binds(tmp_path):
    """min debt yield 50%: NOI = the next 4 quarters' CFADS = 160; 160 / 0.5 = 320 (the
    DSCR limit at 1.0 is 666.7, LTV none). Shortfall 30, paid from the 40.0 left."""
    for r in _runs(write_deal(tmp_path, "min_dscr = 1.0, min_debt_yield = 0.5")):
        assert _at(r, "senior.refinanced") == pytest.approx(320.0, abs=1e-9)
        assert _at(r, "senior.principal_paid") == pytest.approx(17.5 + 30.0, abs=1e-9)
        assert r.metrics.default_period is None
        assert_all(r.program, r.ledger)


def test_ltv_binds_and_the_sponsors_cure_the_paydown(tmp_path):
    """max LTV 30% of the 1,000 value: 300. The shortfall 50 exceeds the 40.0 left by
    10.0: the sponsors pay 10.0 in (one cure of at most 20), the paydown is made in full."""
    path = write_deal(tmp_path, "min_dscr = 1.0, max_ltv = 0.30",
                      cure="equity_cure = { max_cures = 1, max_amount = 20.0 }")
    for r in _runs(path):
        assert _at(r, "senior.refinanced") == pytest.approx(300.0, abs=1e-9)
        assert _at(r, "equity_cure") == pytest.approx(10.0, abs=1e-9)
        assert _at(r, "senior.principal_paid") == pytest.approx(17.5 + 50.0, abs=1e-9)
        assert r.metrics.default_period is None
        assert _at(r, "equity_distribution") == pytest.approx(0.0, abs=1e-9)   # every cent went to the paydown
        assert_all(r.program, r.ledger)


def test_a_paydown_beyond_the_cure_terms_is_a_maturity_default(tmp_path):
    """The same LTV case with cures of at most 5: the 10.0 needed is more than a cure may
    be, so none is made, 40.0 of the 50 is paid and the rest defaults at maturity."""
    path = write_deal(tmp_path, "min_dscr = 1.0, max_ltv = 0.30",
                      cure="equity_cure = { max_cures = 1, max_amount = 5.0 }")
    for r in _runs(path):
        assert _at(r, "equity_cure") == 0.0
        assert r.metrics.default_period == 20
        assert r.metrics.default_cause == "maturity"


def test_the_limits_size_the_whole_spvs_debt(tmp_path):
    """A 100 junior loan (8%, 2% a quarter, straight-line 2.5 a quarter over the 40
    quarters) shares the SPV. At quarter 20 it opens at 100 - 19 x 2.5 = 52.5, so the LTV
    limit is 30% x 1,000 less the junior's 52.5 = 247.5 and the paydown 350 - 247.5 = 102.5.
    The cash left after the quarter's interest and scheduled principal is 40.0 less the
    junior's 1.05 interest and 2.5 principal = 36.45: the sponsors pay 102.5 - 36.45 = 66.05 in."""
    path = write_deal(tmp_path, "min_dscr = 1.0, max_ltv = 0.30", junior=True,
                      cure="equity_cure = { max_cures = 1, max_amount = 200.0 }")
    for r in _runs(path):
        assert _at(r, "senior.refinanced") == pytest.approx(247.5, abs=1e-9)
        assert _at(r, "equity_cure") == pytest.approx(102.5 - 36.45, abs=1e-9)
        assert r.metrics.default_period is None
        assert_all(r.program, r.ledger)


def test_the_dscr_limit_counts_the_other_tranches_debt_service(tmp_path):
    """min DSCR 2.0 with the junior loan: the SPV's CFADS must also carry the junior's next
    quarter (52.5 x 2% + 2.5 = 3.55), held flat. In the first quarter of the new loan
    (the binding one) 40 / 2.0 - 3.55 = 16.45 is left for it: 16.45 x 20 / 1.20 = 274.1667.
    The paydown 350 - 274.1667 = 75.8333 less the 36.45 left: a cure of 39.3833."""
    path = write_deal(tmp_path, "min_dscr = 2.0", junior=True,
                      cure="equity_cure = { max_cures = 1, max_amount = 200.0 }")
    loan = (40 / 2.0 - 3.55) * 20 / 1.2
    for r in _runs(path):
        assert _at(r, "senior.refinanced") == pytest.approx(loan, abs=1e-9)
        assert _at(r, "equity_cure") == pytest.approx(350.0 - loan - 36.45, abs=1e-9)
        # the whole SPV's DSCR in the new loan's first quarter: its 16.45 and the junior's
        # 3.5 (on 50 after quarter 20's payment: the sizing held its balance before it,
        # a little conservative) = 40 / 19.95, just over the 2.0 it was sized to
        assert _at(r, "dscr", 21) == pytest.approx(40 / (16.45 + 3.5), abs=1e-9)
        assert r.metrics.default_period is None
        assert_all(r.program, r.ledger)


def test_workbook_formulas_reproduce_every_case(tmp_path):
    """The live-formula model of each case ties out to the engine's ledger."""
    from waterfall.compile import compile_scenarios
    from waterfall.output.formulas import build_model, check_against
    from waterfall.scenarios import prepare
    cases = [("min_dscr = 2.0", "", False), ("min_dscr = 1.0, min_debt_yield = 0.5", "", False),
             ("min_dscr = 1.0, max_ltv = 0.30", "equity_cure = { max_cures = 1, max_amount = 20.0 }", False),
             ("min_dscr = 1.0, max_ltv = 0.30", "equity_cure = { max_cures = 1, max_amount = 5.0 }", False),
             ("min_dscr = 1.0, max_ltv = 0.30", "equity_cure = { max_cures = 1, max_amount = 200.0 }", True),
             ("min_dscr = 2.0", "equity_cure = { max_cures = 1, max_amount = 200.0 }", True)]
    for i, (refi, cure, junior) in enumerate(cases):
        deal = w.load_deal(write_deal(tmp_path, refi, cure, junior, name=f"c{i}.toml"))
        result = w.run(deal, "base", engine="reference")
        _, lowered = prepare(deal, deal.scenario("base"))
        model = build_model(result.program, compile_scenarios([lowered], result.program))
        assert check_against(model, result.ledger) == [], (refi, cure)


def _spv_deals():
    from waterfall.load import builtin_deals
    return [p for p in builtin_deals() if w.load_deal(p).deal.kind == "spv"]


def _rent_curve(deal, from_period: int = 12):
    """Lender loss (nominal) and default period by rent multiplier 1.00, 0.99, ..., 0.80 from `from_period`."""
    scenarios = [w.Scenario.model_validate({"name": f"rent-{100 - i}", "adjustments": [
        {"kind": "rent_multiplier", "from_period": from_period, "multiplier": 1.0 - i / 100}]}) for i in range(21)]
    batch = w.run_batch(deal, scenarios)
    return batch.program, batch.metrics["lender_loss"].to_numpy(), batch.metrics["default_period"].to_numpy()


@pytest.mark.parametrize("path", _spv_deals(), ids=lambda p: p.stem)
def test_no_cliff_in_lender_loss(path):
    """Issue 12's property: lender loss as a function of a rent multiplier from 1.00 down to
    0.80 in 1% steps (from quarter 12) is monotone, and no 1% step raises it by more than
    the deal's enforcement costs (fixed + share of the highest gross asset value + workout
    costs over the time to sale) plus 1% of the debt."""
    import numpy as np
    deal = w.load_deal(path)
    program, loss, _ = _rent_curve(deal)
    steps = np.diff(loss)
    assert (steps >= -1e-6).all(), loss
    gross = float(program.asset_value.sum(axis=0).max())
    bound = (program.cost_fixed + program.cost_share * gross + program.workout_cost * program.sale_periods
             + 0.01 * float(program.amounts.sum()))
    assert steps.max() <= bound, (steps.max(), bound, loss)


def test_jupiter_refinances_a_small_rent_cut_with_a_paydown():
    """Jupiter (deals/project_jupiter.toml), rent x 0.99 .. x 0.94 from quarter 12: the old
    all-or-nothing test (next quarter's DSCR >= 1.05 on the whole balloon) failed from x 0.98
    and the balloon defaulted at quarter 24; sized as a lender sizes it, the refinancing is
    smaller than the balloon and the difference is paid down from the quarter's cash and
    the released DSRA, so there is no default until the paydown outgrows them. Its two
    12-month options need a DSCR of 1.10x the quarter before, or a paydown restoring it
    (its interest saving at the quarter's rate): the loan is sculpted at 1.20x, so x 0.93
    extends twice and its refinancing at 24 leaves more than the quarter's cash and cure, x 0.92 and x 0.91 extend once (with a paydown
    at 16) and fail the second test at 20 by more than the quarter's cash and one capped
    cure, and from x 0.90 the paydown at 16 already exceeds them (a maturity default,
    here with the recoveries covering the lenders)."""
    deal = w.load_deal("deals/project_jupiter.toml")
    _program, loss, default = _rent_curve(deal)
    assert all(d != d for d in default[:7]), default   # NaN: no default at x 1.00 .. x 0.94
    assert default[7] == 24 and default[8] == 20 and default[9] == 20 and default[10] == 16, default
    assert (loss == 0.0).all()
    r = w.run(deal, w.Scenario.model_validate({"name": "x0.98", "adjustments": [
        {"kind": "rent_multiplier", "from_period": 12, "multiplier": 0.98}]}))
    cf = r.cash_flows()
    opening, refinanced = float(cf["jupiter-loan.balance_open"][24]), float(cf["jupiter-loan.refinanced"][24])
    assert 0.0 < refinanced < opening
    # the quarter repays everything but the new loan: its schedule and the paydown, in full
    assert float(cf["jupiter-loan.principal_paid"][24]) == pytest.approx(opening - refinanced, abs=1e-6)
    assert float(cf["jupiter-loan.balance_close"][24]) == pytest.approx(refinanced, abs=1e-6)


# --- extension options (the "+1+1"), on the hand-worked deal without a refinancing ---
REFI_LINE = "refinancing = {{ spread = 0.01, floor = 0.0, amort_periods = 20, {refi} }}"


def extension_deal(tmp_path, extension: str, cure: str = "", name: str = "ext.toml"):
    """The hand-worked deal with extension options instead of refinancing terms."""
    text = TEMPLATE.replace(REFI_LINE, extension.replace("{", "{{").replace("}", "}}"))
    path = tmp_path / name
    path.write_text(text.format(refi="", cure=cure, junior="", junior_steps=""))
    return path


EXT = "extension = {{ options = 2, periods = 4, fee = 0.01, margin_step = 0.005, {tests} }}"


def test_an_extension_whose_tests_pass(tmp_path):
    """Two options of 4 quarters, fee 1% of the balloon, margin +0.5% each, tests: DSCR >= 1.5
    the quarter before, LTV <= 50%. Quarter 19: CFADS 40 over 385 x 1.5% + 17.5 = 23.275 is
    1.72x; the balloon 350 is 35% of the 1,000 value: both pass, so the loan extends to
    quarter 24: quarter 20 pays the 3.5 fee with its 5.5125 interest (9.0125), and from
    quarter 21 the rate is 6.5% (1.625% a quarter: 350 x 1.625% = 5.6875), the schedule
    17.5 a quarter running on. At 24 (quarter 23: 40 / (315 x 1.625% + 17.5) = 1.77x; balloon
    280, 28%) it extends again (fee 2.8, 7% from 25). At 28 no option is left and there is
    no refinancing: the balloon 227.5 - 17.5 = 210 falls due and is not paid."""
    path = extension_deal(tmp_path, EXT.format(tests="min_dscr = 1.5, max_ltv = 0.5"))
    for r in _runs(path):
        assert _at(r, "senior.interest_due", 20) == pytest.approx(5.5125 + 3.5, abs=1e-9)
        assert _at(r, "senior.principal_paid", 20) == pytest.approx(17.5, abs=1e-9)
        assert _at(r, "senior.rate", 21) == pytest.approx(0.065, abs=1e-12)
        assert _at(r, "senior.interest_due", 21) == pytest.approx(5.6875, abs=1e-9)
        assert _at(r, "senior.principal_due", 21) == pytest.approx(17.5, abs=1e-9)
        assert _at(r, "senior.interest_due", 24) == pytest.approx(297.5 * 0.01625 + 2.8, abs=1e-9)
        assert _at(r, "senior.rate", 25) == pytest.approx(0.07, abs=1e-12)
        assert r.metrics.default_period == 28 and r.metrics.default_cause == "maturity"
        assert_all(r.program, r.ledger)


def test_an_extension_that_fails_its_ltv_and_is_cured(tmp_path):
    """LTV <= 30%: the balloon 350 is over the 300 limit by 50, so the loan extends only
    with a 50 paydown. Quarter 20 leaves 63.0125 - (5.5125 + 3.5 fee) - 17.5 = 36.5 for
    it; the sponsors cure the other 13.5 (one cure, at most 20)."""
    path = extension_deal(tmp_path, EXT.format(tests="min_dscr = 1.5, max_ltv = 0.3"),
                          cure="equity_cure = { max_cures = 1, max_amount = 20.0 }")
    for r in _runs(path):
        assert _at(r, "equity_cure") == pytest.approx(13.5, abs=1e-9)
        assert _at(r, "senior.principal_paid") == pytest.approx(17.5 + 50.0, abs=1e-9)
        assert _at(r, "senior.rate", 21) == pytest.approx(0.065, abs=1e-12)
        assert r.metrics.default_period == 28   # the second option: the balloon 210 is within 30%, extended to 28
        assert_all(r.program, r.ledger)


def test_an_extension_that_fails_its_dscr_is_paid_down_and_cured(tmp_path):
    """DSCR >= 2.0: quarter 19's 40 / 23.275 = 1.72x fails. A paydown X restores it on the
    test's basis: quarter 19's debt service less X x its rate (1.5% a quarter), the
    instalment unchanged: 40 >= 2.0 x (23.275 - 0.015 X) for X = (23.275 - 20) / 0.015 =
    218.33. No refinancing is offered, so the loan extends with it: quarter 20 pays the
    3.5 fee (1% of 350) with its 5.5125 interest, leaving 63.0125 - 9.0125 - 17.5 = 36.5 for
    the paydown; the sponsors cure the other 181.83 (one cure, at most 200). The balance
    after 20 is 350 - 218.33 = 131.67 at 6.5% (1.625% a quarter), 17.5 a quarter running on:
    quarter 23 opens at 96.67, its DSCR 40 / (96.67 x 1.625% + 17.5) = 2.10x passes, so it
    extends again at 24 (balloon 96.67 - 35 = 61.67, fee 0.62) and is repaid by 28."""
    pay = (23.275 - 40 / 2.0) / 0.015
    path = extension_deal(tmp_path, EXT.format(tests="min_dscr = 2.0"),
                          cure="equity_cure = { max_cures = 1, max_amount = 200.0 }")
    for r in _runs(path):
        assert _at(r, "senior.interest_due", 20) == pytest.approx(5.5125 + 3.5, abs=1e-9)
        assert _at(r, "equity_cure") == pytest.approx(pay - 36.5, abs=1e-9)
        assert _at(r, "senior.principal_paid") == pytest.approx(17.5 + pay, abs=1e-9)
        assert _at(r, "senior.rate", 21) == pytest.approx(0.065, abs=1e-12)
        opening23 = 350 - pay - 2 * 17.5
        assert _at(r, "senior.balance_open", 23) == pytest.approx(opening23, abs=1e-9)
        assert _at(r, "dscr", 23) == pytest.approx(40 / (opening23 * 0.01625 + 17.5), abs=1e-9)
        assert _at(r, "senior.interest_due", 24) == pytest.approx((opening23 - 17.5) * 0.01625
                                                                   + 0.01 * (opening23 - 35), abs=1e-9)
        assert _at(r, "senior.rate", 25) == pytest.approx(0.07, abs=1e-12)
        assert r.metrics.default_period is None
        assert _at(r, "senior.balance_close", 40) == pytest.approx(0.0, abs=1e-9)
        assert_all(r.program, r.ledger)


def test_an_extension_that_fails_its_dscr_defaults_without_a_cure(tmp_path):
    """The same DSCR test with no cure terms: the 218.33 paydown is less than the 350
    nothing would refinance, but the quarter leaves 63.0125 - 5.5125 - 3.5 fee - 17.5 =
    36.5 for it and no cure can be made: the option's conditions are not met, so it is not
    exercised (docs/credit.md, "Extension options"). No fee: interest due 5.5125; the
    balloon is due with the schedule, 17.5 + 350 = 367.5, of which the 63.0125 - 5.5125 =
    57.5 left is paid: a maturity default at 20 on the balloon, the claim the balance owed
    367.5 plus the quarter's interest 5.5125 = 373.0125 (reference._accelerate). (Before
    the rule: the 3.5 fee charged ahead of principal, 54.0 paid, the claim 376.5125.) With
    no cash rate to pay down (the interest capitalised in the tested quarter) the test
    cannot be restored (refinancing.extension_paydown returns -1)."""
    path = extension_deal(tmp_path, EXT.format(tests="min_dscr = 2.0"))
    for r in _runs(path):
        assert _at(r, "senior.interest_due", 20) == pytest.approx(5.5125, abs=1e-9)
        assert _at(r, "senior.interest_paid", 20) == pytest.approx(5.5125, abs=1e-9)
        assert _at(r, "senior.principal_due", 20) == pytest.approx(367.5, abs=1e-9)
        assert _at(r, "senior.principal_paid", 20) == pytest.approx(57.5, abs=1e-9)
        assert _at(r, "senior.claim", 20) == pytest.approx(373.0125, abs=1e-9)
        assert r.metrics.default_period == 20 and r.metrics.default_cause == "maturity"
        assert_all(r.program, r.ledger)
    from waterfall import refinancing
    program = r.program
    k = 0
    assert refinancing.extension_paydown(program, k, 20, 350.0, 0.0, None, 1000.0, 40.0, 23.275, 0.0) == -1.0
    assert refinancing.extension_paydown(program, k, 20, 350.0, 0.0, None, 1000.0, 40.0, 23.275,
                                         0.015) == pytest.approx(3.275 / 0.015, abs=1e-9)
    assert refinancing.extension_paydown(program, k, 20, 350.0, 0.0, None, 1000.0, 40.0, 20.0, 0.015) == 0.0


LIGHTHOUSE_TERMS = "extension = {{ options = 2, periods = 4, fee = 0.0025, margin_step = 0.0025, {tests} }}"


def test_an_extension_its_fee_leaves_unfunded_is_not_exercised(tmp_path):
    """Lighthouse's option terms (0.25% fee, +25bp) with LTV <= 31.05%: the balloon B = 350
    is over the 310.5 limit by X = 39.5, the paydown; the quarter leaves C = 63.0125 -
    5.5125 - 17.5 = 40.0 after its interest and schedule, more than X but not X plus the
    fee 0.0025 x 350 = 0.875 (39.125 < 39.5), and there is no cure. A lender extends only
    on its conditions, the fee with the paydown: the option is not exercised. No fee,
    the margin not stepped up, the balloon due: 17.5 + 350 = 367.5, 57.5 of it paid, a
    maturity default at 20, the claim 367.5 + 5.5125 = 373.0125. (Before the rule: 0.875
    charged with the interest, 17.5 + 39.5 = 57.0 due, 56.625 paid, a default at 20
    with the maturity moved to 24 and the claim 367.5 + 6.3875 = 373.8875.)"""
    path = extension_deal(tmp_path, LIGHTHOUSE_TERMS.format(tests="max_ltv = 0.3105"))
    _maturity_default_at_20(path, {
        "senior.interest_due": 5.5125,
        "senior.principal_due": 367.5,
        "senior.principal_paid": 57.5,
        "senior.claim": 373.0125})


def test_an_extension_met_with_the_fee_is_exercised(tmp_path):
    """The same terms with LTV <= 31.2%: X = 350 - 312 = 38.0, and 40.0 - 0.875 = 39.125 >=
    38.0 meets it: the option stands, the 0.875 fee paid with the 5.5125 interest, 17.5 +
    38.0 = 55.5 principal paid, the rate 6% + 0.25% = 6.25% from 21 and no default at 20."""
    path = extension_deal(tmp_path, LIGHTHOUSE_TERMS.format(tests="max_ltv = 0.312"))
    for r in _runs(path):
        assert _at(r, "senior.interest_due", 20) == pytest.approx(5.5125 + 0.875, abs=1e-9)
        assert _at(r, "senior.principal_paid", 20) == pytest.approx(17.5 + 38.0, abs=1e-9)
        assert _at(r, "senior.rate", 21) == pytest.approx(0.0625, abs=1e-12)
        assert r.metrics.default_period != 20
        assert_all(r.program, r.ledger)


def test_an_unfunded_extension_leaves_the_refinancing_on_offer(tmp_path):
    """Refinancing terms as test_ltv_binds_and_the_shortfall_is_cured's (the new loan 300,
    LTV 30% of 1,000; a 50 shortfall) beside the option (LTV <= 31.05%: X = 39.5 <= 50, so
    the borrower would extend). The 40.0 the quarter leaves does not meet X plus the 0.875
    fee, and there is no cure: the option is not exercised, and the maturity is what it
    would be without it: the refinancing of 300 rewrites the loan, its 50 shortfall due
    with the schedule (67.5), 57.5 paid: a maturity default at 20 on the shortfall."""
    text = LIGHTHOUSE_TERMS.format(tests="max_ltv = 0.3105")
    refi = "refinancing = { spread = 0.01, floor = 0.0, amort_periods = 20, min_dscr = 1.0, max_ltv = 0.30 }"
    path = extension_deal(tmp_path, refi + "\n" + text)
    _maturity_default_at_20(path, {
        "senior.refinanced": 300.0,
        "senior.interest_due": 5.5125,
        "senior.principal_due": 17.5 + 50.0,
        "senior.principal_paid": 57.5})


BIG_FEE = "extension = {{ options = 2, periods = 4, fee = 0.12, margin_step = 0.0025, {tests} }}"


def test_an_extension_whose_fee_the_quarter_cannot_pay_is_not_exercised(tmp_path):
    """LTV <= 50%: the balloon 350 is 35% of the 1,000 value, no paydown is needed; but the
    fee 0.12 x 350 = 42.0 with the interest 5.5125 and the schedule 17.5 is 65.0125 against
    the quarter's 63.0125: 2.0 short. A lender extends on its conditions, the fee paid with
    the maturity's interest: the option is not exercised. No fee, the balloon due: 17.5 +
    350 = 367.5, 63.0125 - 5.5125 = 57.5 of it paid, a maturity default at 20, the claim
    367.5 + 5.5125 = 373.0125. (Before: the option stood, 47.5125 of interest due with the
    fee, 15.5 of the 17.5 schedule paid, the claim 415.0125.)"""
    path = extension_deal(tmp_path, BIG_FEE.format(tests="max_ltv = 0.5"))
    _maturity_default_at_20(path, {
        "senior.interest_due": 5.5125,
        "senior.principal_due": 367.5,
        "senior.principal_paid": 57.5,
        "senior.claim": 373.0125})


def test_an_extension_needing_no_paydown_undone_takes_the_refinancing_on_offer(tmp_path):
    """As above beside test_ltv_binds_and_the_shortfall_is_cured's refinancing terms (the new
    loan 300 at LTV 30%): the option needs no paydown, so it would extend whatever the offer
    (the kernel sizes the offer only when the option is undone); its 42.0 fee leaves the
    quarter 2.0 short, so it is not exercised and the refinancing of 300 applies: 17.5 + 50
    = 67.5 due, 57.5 paid, a maturity default at 20 on the shortfall, the claim 373.0125."""
    refi = "refinancing = { spread = 0.01, floor = 0.0, amort_periods = 20, min_dscr = 1.0, max_ltv = 0.30 }"
    path = extension_deal(tmp_path, refi + "\n" + BIG_FEE.format(tests="max_ltv = 0.5"))
    _maturity_default_at_20(path, {
        "senior.refinanced": 300.0,
        "senior.interest_due": 5.5125,
        "senior.principal_due": 67.5,
        "senior.principal_paid": 57.5,
        "senior.claim": 373.0125})


def test_workbook_formulas_reproduce_the_extensions(tmp_path):
    from waterfall.compile import compile_scenarios
    from waterfall.output.formulas import build_model, check_against
    from waterfall.scenarios import prepare
    cases = [("min_dscr = 1.5, max_ltv = 0.5", ""),
             ("min_dscr = 1.5, max_ltv = 0.3", "equity_cure = { max_cures = 1, max_amount = 20.0 }"),
             ("min_dscr = 2.0", ""), ("min_debt_yield = 0.6", ""),
             ("min_dscr = 2.0", "equity_cure = { max_cures = 1, max_amount = 200.0 }")]
    for i, (tests, cure) in enumerate(cases):
        deal = w.load_deal(extension_deal(tmp_path, EXT.format(tests=tests), cure, name=f"e{i}.toml"))
        result = w.run(deal, "base", engine="reference")
        _, lowered = prepare(deal, deal.scenario("base"))
        model = build_model(result.program, compile_scenarios([lowered], result.program))
        assert check_against(model, result.ledger) == [], tests
    # an option its fee leaves unfunded, one met with its fee, and one unfunded beside a
    # refinancing on offer (the tests above): the options that stand and those that do not
    refi = "refinancing = { spread = 0.01, floor = 0.0, amort_periods = 20, min_dscr = 1.0, max_ltv = 0.30 }\n"
    for i, text in enumerate([LIGHTHOUSE_TERMS.format(tests="max_ltv = 0.3105"),
                              LIGHTHOUSE_TERMS.format(tests="max_ltv = 0.312"),
                              refi + LIGHTHOUSE_TERMS.format(tests="max_ltv = 0.3105"),
                              BIG_FEE.format(tests="max_ltv = 0.5"),
                              refi + BIG_FEE.format(tests="max_ltv = 0.5")]):
        deal = w.load_deal(extension_deal(tmp_path, text, name=f"u{i}.toml"))
        result = w.run(deal, "base", engine="reference")
        _, lowered = prepare(deal, deal.scenario("base"))
        model = build_model(result.program, compile_scenarios([lowered], result.program))
        assert check_against(model, result.ledger) == [], text


# --- sizing on the rent in place (docs/credit.md, "Refinancing": "On the rent in place") ---
def _scenario_runs(path, scenario: dict):
    deal = w.load_deal(path)
    s = w.Scenario.model_validate(scenario)
    engines = ["reference"] + (["compiled"] if w.kernel_available() else [])
    return deal, s, [w.run(deal, s, engine=e) for e in engines]


CUT_LATER = {"name": "cut-from-21", "adjustments": [
    {"kind": "rent_multiplier", "from_period": 21, "multiplier": 0.5}]}
SHORT_NOW = {"name": "half-paid-at-20", "adjustments": [
    {"kind": "rent_multiplier", "from_period": 20, "to_period": 20, "multiplier": 0.5}]}


def test_a_later_rent_cut_is_not_foreseen_by_the_dscr_limit(tmp_path):
    """min DSCR 2.0, rent x 0.5 from quarter 21 (after the test date 20). At 20 the tenant
    pays in full, so the rent in place is 40 a quarter: the limit is 20 x 20 / 1.20 =
    333.333 as in test_dscr_binds. On perfect foresight (the scenario's CFADS 20 from 21)
    it would have been (20 / 2.0) x 20 / 1.20 = 166.667, a paydown of 183.3 that the 40.0
    left cannot meet: a default at 20."""
    _deal, _s, runs = _scenario_runs(write_deal(tmp_path, "min_dscr = 2.0"), CUT_LATER)
    for r in runs:
        assert _at(r, "senior.refinanced") == pytest.approx(20 * 20 / 1.2, abs=1e-9)
        assert _at(r, "senior.principal_paid") == pytest.approx(17.5 + 350 - 20 * 20 / 1.2, abs=1e-9)
        assert r.metrics.default_period != 20
        assert_all(r.program, r.ledger)


def test_a_later_rent_cut_is_not_foreseen_by_the_debt_yield(tmp_path):
    """min debt yield 50%, rent x 0.5 from 21: the in-place NOI is 4 x 40 = 160, so 320
    (shortfall 30, paid from the 40.0 left); foresight would read 4 x 20 = 80 and 160."""
    _deal, _s, runs = _scenario_runs(write_deal(tmp_path, "min_dscr = 1.0, min_debt_yield = 0.5"), CUT_LATER)
    for r in runs:
        assert _at(r, "senior.refinanced") == pytest.approx(320.0, abs=1e-9)
        assert r.metrics.default_period != 20


def test_a_tenant_short_now_sizes_on_what_it_pays(tmp_path):
    """The tenant pays half at quarter 20 only (x 0.5 for that quarter, in full after).
    Min DSCR 1.0: on the rent in place (20 a quarter) the limit is 20 / 1.0 x 20 / 1.20 =
    333.333 < the balloon 350 (foresight, with 40 a quarter from 21: 666.7, all 350).
    Quarter 20's cash: rent 20 + the released DSRA 23.0125 = 43.0125; after its interest
    and schedule (23.0125) 20.0 is left, which pays the 16.667 shortfall: no default."""
    _deal, _s, runs = _scenario_runs(write_deal(tmp_path, "min_dscr = 1.0"), SHORT_NOW)
    for r in runs:
        assert _at(r, "cash_available") == pytest.approx(43.0125, abs=1e-9)
        assert _at(r, "senior.refinanced") == pytest.approx(20 * 20 / 1.2, abs=1e-9)
        assert _at(r, "senior.principal_paid") == pytest.approx(17.5 + 350 - 20 * 20 / 1.2, abs=1e-9)
        assert r.metrics.default_period is None
        assert_all(r.program, r.ledger)


APPRAISAL = """months_to_sale = 0

[enforcement.valuation]
method = "appraisal"
discount_rate = 0.0
exit_cap_rate = 0.06
market_rent = 0.0
"""


def appraisal_deal(tmp_path, refi: str, name: str = "appr.toml"):
    """The hand-worked deal valued on its income at a 0% appraisal rate with no market rent:
    the appraisal at 20 is the undiscounted rent after it (residual 0, no opex)."""
    path = tmp_path / name
    path.write_text(deal_text(refi).replace("months_to_sale = 0\n", APPRAISAL, 1))
    return path


def test_the_appraisal_reads_the_rent_in_place(tmp_path):
    """max LTV 40%, rent x 0.5 from 21. The appraisal at 20 on the rent in place (paid in
    full at 20): 20 quarters x 40 = 800, so the LTV limit is 320 (shortfall 30 from the
    40.0 left, no default). The scenario's own cash flows (the sale value) give 20 x 20 =
    400 and a limit of 160: the sale value a buyer would pay after the cut is unchanged."""
    _deal, _s, runs = _scenario_runs(appraisal_deal(tmp_path, "min_dscr = 1.0, max_ltv = 0.40"), CUT_LATER)
    for r in runs:
        assert _at(r, "senior.refinanced") == pytest.approx(320.0, abs=1e-9)
        assert r.metrics.default_period is None
        assert_all(r.program, r.ledger)
    # the sale value (what a buyer pays in enforcement) still reads the scenario's path
    from waterfall import ops
    from waterfall.compile import compile_scenarios
    from waterfall.reference import scenario_factors
    from waterfall.scenarios import prepare
    from waterfall.workout import sale_values
    program = runs[0].program
    _, lowered = prepare(_deal, _s)
    factor, _base = scenario_factors(program, compile_scenarios([lowered], program), 0)
    cfads = program.base_rent * factor[ops.CH_RENT] - program.opex * factor[ops.CH_OPEX]
    assert sale_values(program, factor, cfads)[20] == pytest.approx(400.0, abs=1e-9)


def test_workbook_formulas_size_on_the_rent_in_place(tmp_path):
    """The live-formula model ties out to the engine on each in-place case."""
    from waterfall.compile import compile_scenarios
    from waterfall.output.formulas import build_model, check_against
    from waterfall.scenarios import prepare
    cases = [(write_deal(tmp_path, "min_dscr = 2.0", name="w0.toml"), CUT_LATER),
             (write_deal(tmp_path, "min_dscr = 1.0, min_debt_yield = 0.5", name="w1.toml"), CUT_LATER),
             (write_deal(tmp_path, "min_dscr = 1.0", name="w2.toml"), SHORT_NOW),
             (appraisal_deal(tmp_path, "min_dscr = 1.0, max_ltv = 0.40", name="w3.toml"), CUT_LATER),
             (appraisal_deal(tmp_path, "min_dscr = 1.0, max_ltv = 0.40", name="w4.toml"), SHORT_NOW)]
    for path, scenario in cases:
        deal = w.load_deal(path)
        s = w.Scenario.model_validate(scenario)
        result = w.run(deal, s, engine="reference")
        _, lowered = prepare(deal, s)
        model = build_model(result.program, compile_scenarios([lowered], result.program))
        assert check_against(model, result.ledger) == [], (path.name, scenario["name"])


# --- the new loan's terms: rate kind, amortisation profile, the market's margin add-on ---
def terms_deal(tmp_path, terms: str, cure: str = "", name: str = "terms.toml", lease_months: int = 120):
    """The hand-worked deal with the refinancing terms `terms` (inline TOML table body)."""
    text = TEMPLATE.replace(REFI_LINE, "refinancing = {{ " + terms.replace("{", "{{").replace("}", "}}") + " }}")
    text = text.replace("term_months = 120", f"term_months = {lease_months}")
    path = tmp_path / name
    path.write_text(text.format(refi="", cure=cure, junior="", junior_steps=""))
    return path


FIXED_LEVEL = 'rate_kind = "fixed", fixed_rate = 0.08, amort_periods = 20, amortisation = "level_payment", min_dscr = 2.0'


def test_a_fixed_rate_level_payment_refinancing(tmp_path):
    """Fixed 8% (2% a quarter on exact 30/360 quarters), level payment over 20 quarters,
    min DSCR 2.0. A level payment on a fixed loan is one debt service S every quarter, and
    S = CFADS / 2.0 = 20 at most; the loan is the PV of 20 quarters of 20 at 2%:
    20 x (1 - 1.02^-20) / 0.02 = 327.0286. Quarter 21 pays S = 20 (interest 2% x L =
    6.5406, principal 13.4594); the SPV's DSCR is 2.0 in every quarter to 40, where the loan
    is repaid. The shortfall 350 - 327.03 = 22.97 comes out of the 40.0 left at 20."""
    loan = 20 * (1 - 1.02 ** -20) / 0.02
    for r in _runs(terms_deal(tmp_path, FIXED_LEVEL)):
        assert _at(r, "senior.refinanced") == pytest.approx(loan, abs=1e-9)
        assert _at(r, "senior.rate", 21) == pytest.approx(0.08, abs=1e-12)
        assert _at(r, "senior.interest_due", 21) == pytest.approx(0.02 * loan, abs=1e-9)
        assert _at(r, "senior.principal_due", 21) == pytest.approx(20 - 0.02 * loan, abs=1e-9)
        for t in (21, 30, 40):
            assert _at(r, "dscr", t) == pytest.approx(2.0, abs=1e-9)
        assert _at(r, "senior.balance_close", 40) == pytest.approx(0.0, abs=1e-9)
        assert r.metrics.default_period is None
        assert_all(r.program, r.ledger)


def test_a_sculpted_refinancing_repays_within_the_lease(tmp_path):
    """The lease runs 108 months: rent in quarters 1-36 only. Fixed 8% (2% a quarter),
    sculpted over 20 quarters to min DSCR 2.0: debt service = the in-place CFADS / 2.0 =
    20 in quarters 21-36 and 0 in 37-40 (no rent), so the loan is the PV of 16 quarters
    of 20: 20 x (1 - 1.02^-16) / 0.02 = 271.5542, repaid by quarter 36. (A level payment
    over the 20 quarters would size 327.03 and leave 4 quarters of service with no rent.)
    The shortfall 350 - 271.55 = 78.45 takes the 40.0 left and a cure of 38.45."""
    loan = 20 * (1 - 1.02 ** -16) / 0.02
    path = terms_deal(tmp_path, FIXED_LEVEL.replace("level_payment", "sculpted"), lease_months=108,
                      cure="equity_cure = { max_cures = 1, max_amount = 100.0 }")
    for r in _runs(path):
        assert _at(r, "senior.refinanced") == pytest.approx(loan, abs=1e-9)
        assert _at(r, "equity_cure") == pytest.approx(350 - loan - 40.0, abs=1e-9)
        assert _at(r, "senior.principal_due", 21) == pytest.approx(20 - 0.02 * loan, abs=1e-9)
        assert _at(r, "dscr", 28) == pytest.approx(2.0, abs=1e-9)
        assert _at(r, "senior.balance_close", 36) == pytest.approx(0.0, abs=1e-9)
        assert _at(r, "senior.principal_due", 38) == pytest.approx(0.0, abs=1e-9)
        assert r.metrics.default_period is None
        assert_all(r.program, r.ledger)
    # the live-formula workbook restates it (LibreOffice: tests/test_excel.py, refi-sculpted)
    from waterfall.compile import compile_scenarios
    from waterfall.output.formulas import build_model, check_against, unsupported
    from waterfall.scenarios import prepare
    assert unsupported(r.program) == []
    deal, s = w.load_deal(path), w.Scenario.model_validate({"name": "plain", "adjustments": []})
    _, lowered = prepare(deal, s)
    model = build_model(r.program, compile_scenarios([lowered], r.program))
    assert check_against(model, r.ledger) == []
    assert model.cf.values("t0.sched")[21] == pytest.approx(20 - 0.02 * loan, abs=1e-9)


FLOAT_SL = "spread = 0.01, floor = 0.0, amort_periods = 20, min_dscr = 2.0"
WIDER = {"name": "refi-wider", "adjustments": [
    {"kind": "refinancing_spread", "bp": 100.0, "from_period": 20, "to_period": 20}]}


def test_the_markets_margin_add_on_is_locked_into_the_new_loan(tmp_path):
    """Refinancing margins +100bp at quarter 20 only. The new loan signed at 20 pays 3% +
    1% + 1% = 5% (1.25% a quarter) for its life, though the add-on is over after 20. The
    DSCR limit at 2.0: 20 x 20 / (1 + 20 x 1.25%) = 400 / 1.25 = 320 (at the plain 1% it
    was 333.33, test_dscr_binds); shortfall 30 from the 40.0 left."""
    _deal, _s, runs = _scenario_runs(terms_deal(tmp_path, FLOAT_SL), WIDER)
    for r in runs:
        assert _at(r, "senior.refinanced") == pytest.approx(320.0, abs=1e-9)
        assert _at(r, "senior.rate", 21) == pytest.approx(0.05, abs=1e-12)
        assert _at(r, "senior.rate", 35) == pytest.approx(0.05, abs=1e-12)
        assert _at(r, "dscr", 21) == pytest.approx(2.0, abs=1e-9)
        assert r.metrics.default_period is None
        assert_all(r.program, r.ledger)


def test_an_add_on_after_the_signing_does_not_move_the_loan(tmp_path):
    """+300bp from quarter 21 on (after the refinancing at 20): the loan keeps 4%, sized at
    333.33 as in test_dscr_binds; dated, 2031-02-01 onwards is quarter 21 on (quarter 20
    pays on 2031-01-15), with the same result."""
    later = {"name": "later", "adjustments": [{"kind": "refinancing_spread", "bp": 300.0, "from_period": 21}]}
    dated = {"name": "dated", "adjustments": [{"kind": "refinancing_spread", "bp": 300.0,
                                               "from_date": "2031-02-01"}]}
    for scenario in (later, dated):
        _deal, _s, runs = _scenario_runs(terms_deal(tmp_path, FLOAT_SL), scenario)
        for r in runs:
            assert _at(r, "senior.refinanced") == pytest.approx(20 * 20 / 1.2, abs=1e-9)
            assert _at(r, "senior.rate", 30) == pytest.approx(0.04, abs=1e-12)


def test_a_dated_add_on_at_the_signing_date_moves_it(tmp_path):
    """The same +100bp given on dates [2031-01-01, 2031-02-01): quarter 20 (2031-01-15)."""
    dated = {"name": "dated", "adjustments": [{"kind": "refinancing_spread", "bp": 100.0,
                                               "from_date": "2031-01-01", "to_date": "2031-02-01"}]}
    _deal, _s, runs = _scenario_runs(terms_deal(tmp_path, FLOAT_SL), dated)
    for r in runs:
        assert _at(r, "senior.refinanced") == pytest.approx(320.0, abs=1e-9)


def test_workbook_formulas_reproduce_the_new_terms(tmp_path):
    """The live-formula model ties out on a fixed level payment, a floating level payment
    under the add-on, and the straight-line loan under the add-on."""
    from waterfall.compile import compile_scenarios
    from waterfall.output.formulas import build_model, check_against
    from waterfall.scenarios import prepare
    base = {"name": "plain", "adjustments": []}
    cases = [(FIXED_LEVEL, base), (FIXED_LEVEL, WIDER), (FLOAT_SL, WIDER),
             (FLOAT_SL.replace("min_dscr", 'amortisation = "level_payment", min_dscr'), WIDER),
             (FLOAT_SL.replace("min_dscr = 2.0", 'amortisation = "level_payment", min_dscr = 1.0, max_ltv = 0.3'),
              CUT_LATER)]
    for i, (terms, scenario) in enumerate(cases):
        deal = w.load_deal(terms_deal(tmp_path, terms, name=f"n{i}.toml",
                                      cure="equity_cure = { max_cures = 1, max_amount = 100.0 }"))
        s = w.Scenario.model_validate(scenario)
        result = w.run(deal, s, engine="reference")
        _, lowered = prepare(deal, s)
        model = build_model(result.program, compile_scenarios([lowered], result.program))
        assert check_against(model, result.ledger) == [], (terms, scenario["name"])


def test_a_level_payment_at_a_vanishing_rate_is_straight_line(tmp_path):
    """Found by the parity fuzz (a RuntimeWarning and NaN on main): at a per-period rate so
    small that 1 + r == 1 in floating point, the annuity factor (g^N - 1) is 0 and the
    level-payment principal r g^(i-1) / (g^N - 1) was 0/0. A level payment at a zero rate
    is straight line: fixed 1e-17 a year, 20 quarters, DSCR capacity 20 x 20 quarters =
    400 > the balloon 350, so the whole 350 refinances and amortises 17.5 a quarter."""
    import warnings
    terms = FIXED_LEVEL.replace("fixed_rate = 0.08", "fixed_rate = 1e-17")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for r in _runs(terms_deal(tmp_path, terms)):
            assert _at(r, "senior.refinanced") == pytest.approx(350.0, abs=1e-9)
            for t in (21, 30, 40):
                assert _at(r, "senior.principal_due", t) == pytest.approx(17.5, abs=1e-9)
            assert _at(r, "senior.balance_close", 40) == pytest.approx(0.0, abs=1e-9)
            assert_all(r.program, r.ledger)
