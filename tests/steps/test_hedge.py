"""The `hedge` step, hand-worked: an interest-rate swap or cap on a floating tranche pays
(or receives) its net settlement in the priority of payments; debt service for DSCR is
net of it; at acceleration the swap terminates at its mark-to-market on the scenario's
curve and a breakage owed to the bank is a claim pari passu with the senior loan.

Deal (USD millions, quarterly, 30/360 from the 15th: every quarter accrues exactly 0.25):
  asset 1,000 paid at close; senior 400 drawn at close, SOFR + 2%, straight-line over 4
  quarters = 100 a quarter; SOFR flat 4%. Rent 480 a year = 120 a quarter; opex 20 a year
  = 5 a quarter; CFADS 115. A pay-fixed swap on 100% of the senior's base-case opening
  balance (400, 300, 200, 100) at 3.5%, 30/360. Priority: hedge, interest, principal,
  distribute.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import ENGINES, NAN, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines

HEAD = """
[deal]
name = "hand-hedge"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 4

[[assets]]
name = "site"
shell = { cost = 1000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 480.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 20.0

[base_rate]
name = "SOFR"
points = [[0, 0.04]]

[[tranches]]
name = "senior"
amount = 400.0
rate = { kind = "floating", spread = 0.02 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 4 }
capitalise_interest = "never"
"""

STEPS = """
[[waterfall]]
step = "hedge"
hedge = "swap"

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "rates-up"
description = "SOFR + 300bp from q1."
adjustments = [{ kind = "rate_shock", bp = 300.0, from_period = 1 }]
"""

SWAP = """
[[hedges]]
name = "swap"
kind = "swap"
tranche = "senior"
notional_share = 1.0
fixed_rate = 0.035
day_count = "30/360"
"""


@lru_cache(maxsize=None)
def hedged():
    return deal_from_toml(HEAD + SWAP + STEPS, "tests/steps/test_hedge.py")


@lru_cache(maxsize=None)
def unhedged():
    steps = STEPS.replace('[[waterfall]]\nstep = "hedge"\nhedge = "swap"\n\n', "")
    return deal_from_toml(HEAD + steps, "tests/steps/test_hedge.py (unhedged)")


# Base, hedged. Interest = balance x (4% + 2%) x 0.25; swap = notional x (3.5% - 4%) x 0.25
# (negative: the bank pays the SPV).
# q1: interest 400 x 6% / 4 = 6.0; swap -0.5; DS = 6.0 + 100 - 0.5 = 105.5;
#     cash 115 + 0.5 (received at the hedge step) - 6 - 100 = 9.5 to equity.
# q2: 300: interest 4.5, swap -0.375, DS 104.125, equity 115 + 0.375 - 4.5 - 100 = 10.875.
# q3: 200: 3.0, -0.25, DS 102.75, equity 12.25.   q4: 100: 1.5, -0.125, DS 101.375, equity 13.625.
# Under +300bp (SOFR 7%): interest 400 x 9% / 4 = 9.0, swap 400 x (3.5% - 7%) / 4 = -3.5:
# net 5.5 again, the same debt service and the same equity every quarter.
HEDGED = {
    "senior.interest_paid": [0, 6.0, 4.5, 3.0, 1.5],
    "swap.notional": [0, 400, 300, 200, 100],
    "swap.index_rate": [0.04, 0.04, 0.04, 0.04, 0.04],   # shown at close too; nothing settles there
    "swap.net_due": [0, -0.5, -0.375, -0.25, -0.125],
    "swap.net_paid": [0, -0.5, -0.375, -0.25, -0.125],
    "hedge_settlement": [0, -0.5, -0.375, -0.25, -0.125],
    "debt_service": [0, 105.5, 104.125, 102.75, 101.375],
    "dscr": [NAN, 115 / 105.5, 115 / 104.125, 115 / 102.75, 115 / 101.375],
    "equity_distribution": [0, 9.5, 10.875, 12.25, 13.625],
}
RATES_UP = dict(HEDGED, **{
    "senior.interest_paid": [0, 9.0, 6.75, 4.5, 2.25],
    "swap.index_rate": [0.04, 0.07, 0.07, 0.07, 0.07],
    "swap.net_due": [0, -3.5, -2.625, -1.75, -0.875],
    "swap.net_paid": [0, -3.5, -2.625, -1.75, -0.875],
    "hedge_settlement": [0, -3.5, -2.625, -1.75, -0.875],
})
# Unhedged: DS = interest + 100: base 106, 104.5, 103, 101.5; +300bp 109, 106.75, 104.5, 102.25.
UNHEDGED_DS = {"base": [0, 106.0, 104.5, 103.0, 101.5], "rates-up": [0, 109.0, 106.75, 104.5, 102.25]}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario, expected", [("base", HEDGED), ("rates-up", RATES_UP)])
def test_a_fully_hedged_loan_has_the_same_debt_service_under_a_shock(engine, scenario, expected):
    result = run(hedged(), scenario, engine)
    assert_lines(ledger_lines(result), expected, what=f"hedged {scenario} {engine}")


@pytest.mark.parametrize("engine", ENGINES)
def test_the_unhedged_loan_takes_the_shock(engine):
    for scenario, ds in UNHEDGED_DS.items():
        result = run(unhedged(), scenario, engine)
        assert_lines(ledger_lines(result), {"debt_service": ds}, what=f"unhedged {scenario} {engine}")


@pytest.mark.parametrize("engine", ENGINES)
def test_hedged_debt_service_does_not_move_to_1e_9(engine):
    base = ledger_lines(run(hedged(), "base", engine))["debt_service"]
    shocked = ledger_lines(run(hedged(), "rates-up", engine))["debt_service"]
    assert max(abs(a - b) for a, b in zip(base, shocked)) <= 1e-9
    plain = ledger_lines(run(unhedged(), "rates-up", engine))["debt_service"]
    assert plain[1] - base[1] == pytest.approx(3.0 + 0.5)   # 400 x 3% / 4, and the swap's 0.5 gone


# --------------------------------------------------------------------------- termination

# The same loan as a bullet (400 due at q4), a swap at 4% on it (at the money at close),
# no opex. Scenario "rates-fall-then-dark": SOFR falls to 1% from q1 and the rent stops
# from q2 (rent x 0); the campus sells in the default period for 10% of its 1,000 cost.
# q1: interest 400 x 3% / 4 = 3.0; swap owes 400 x (4% - 1%) / 4 = 3.0; cash 120 - 6 = 114
#     to equity.
# q2: cash 0. The hedge step owes 3.0, pays 0: an event of default (payment), the lenders
#     accelerate. Senior claim 400 + interest due 3.0 = 403.0 (3.0 arrears).
#     Swap termination: the remaining settlements q3, q4 of 3.0 each, discounted on the
#     scenario's curve (1% x 0.25 a quarter): 3 / 1.0025 + 3 / 1.0025^2, plus q2's unpaid
#     3.0 = the bank's claim, pari passu with the senior (rank 1 by default).
#     Pool: sale 1,000 x (1 - 0.9) = 100. Shares pro rata by claim:
#     senior 100 x 403 / (403 + H), hedge 100 x H / (403 + H); the senior's share goes to
#     its 3.0 interest first.
MTM = 3.0 / 1.0025 + 3.0 / 1.0025 ** 2
H_CLAIM = MTM + 3.0
OWED = 403.0 + H_CLAIM
SENIOR_SHARE = 100.0 * 403.0 / OWED
HEDGE_SHARE = 100.0 * H_CLAIM / OWED

TERMINATION = """
[deal]
name = "hand-hedge-termination"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 4

[[assets]]
name = "site"
shell = { cost = 1000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 480.0
term_months = 12

[base_rate]
name = "SOFR"
points = [[0, 0.04]]

[[tranches]]
name = "senior"
amount = 400.0
rate = { kind = "floating", spread = 0.02 }
day_count = "30/360"
amortisation = { kind = "bullet" }
capitalise_interest = "never"

[[hedges]]
name = "swap"
kind = "swap"
tranche = "senior"
notional_share = 1.0
fixed_rate = 0.04

[enforcement]
fire_sale_discount = 0.9

[[waterfall]]
step = "hedge"
hedge = "swap"

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "rates-fall-then-dark"
adjustments = [{ kind = "rate_path", points = [[0, 0.04], [1, 0.01]] },
               { kind = "rent_multiplier", from_period = 2, multiplier = 0.0 }]
"""


@lru_cache(maxsize=None)
def termination_deal():
    return deal_from_toml(TERMINATION, "tests/steps/test_hedge.py (termination)")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_swap_terminated_after_rates_fell_claims_pari_passu_with_senior(engine):
    result = run(termination_deal(), "rates-fall-then-dark", engine)
    assert_lines(ledger_lines(result), {
        "swap.net_due": [0, 3.0, 3.0],
        "swap.net_paid": [0, 3.0, 0.0],
        "equity_distribution": [0, 114.0, 0.0],
        "event_of_default": [0, 0, 1],
        "senior.claim": [0, 0, 403.0],
        "swap.termination": [0, 0, H_CLAIM],
        "seizure_net": [0, 0, 100.0],
        "senior.recovery_interest": [0, 0, 3.0],
        "senior.recovery_principal": [0, 0, SENIOR_SHARE - 3.0],
        "senior.write_off": [0, 0, 400.0 - (SENIOR_SHARE - 3.0)],
        "swap.recovery": [0, 0, HEDGE_SHARE],
        "swap.write_off": [0, 0, H_CLAIM - HEDGE_SHARE],
        "swap.claim": [0, 0, 0.0],
    }, what=f"termination {engine}")
    assert result.metrics["default_cause"] == "payment"


# A cap instead: strike 5%, 400 notional, under SOFR 7% (the +300bp scenario) pays
# 400 x (7% - 5%) / 4 = 2.0 a quarter on the stated notional; at SOFR 4% nothing.
CAP = """
[[hedges]]
name = "swap"
kind = "cap"
tranche = "senior"
notional = [[1, 400.0]]
strike = 0.05
day_count = "30/360"
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_a_cap_pays_above_its_strike_on_its_stated_notional(engine):
    deal = deal_from_toml(HEAD + CAP + STEPS, "tests/steps/test_hedge.py (cap)")
    base = ledger_lines(run(deal, "base", engine))
    assert_lines(base, {"swap.net_due": [0, 0, 0, 0, 0], "debt_service": [0, 106.0, 104.5, 103.0, 101.5]},
                 what=f"cap base {engine}")
    up = ledger_lines(run(deal, "rates-up", engine))
    # debt service: interest 9.0, 6.75, 4.5, 2.25 + 100 - 2.0
    assert_lines(up, {"swap.net_due": [0, -2.0, -2.0, -2.0, -2.0], "swap.net_paid": [0, -2.0, -2.0, -2.0, -2.0],
                      "debt_service": [0, 107.0, 104.75, 102.5, 100.25]}, what=f"cap rates-up {engine}")


def workbook_case():
    return termination_deal(), "rates-fall-then-dark"


TERMINATION_LINES = {
    "swap.net_due": [0, 3.0, 3.0],
    "swap.net_paid": [0, 3.0, 0.0],
    "swap.termination": [0, 0, H_CLAIM],
    "senior.recovery_interest": [0, 0, 3.0],
    "senior.recovery_principal": [0, 0, SENIOR_SHARE - 3.0],
    "swap.recovery": [0, 0, HEDGE_SHARE],
    "swap.write_off": [0, 0, H_CLAIM - HEDGE_SHARE],
}


@needs_lo
def test_hedge_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    """The live formulas (settlement, termination value rolled back on the Inputs sheet,
    the claim pari passu with the senior) recalculated by LibreOffice."""
    assert_lines(workbook_lines(lo_ledgers, __name__), TERMINATION_LINES, what="LibreOffice termination")


@pytest.mark.parametrize("scenario", ["base", "rates-up"])
def test_the_formula_model_reproduces_the_hedged_ledger(scenario):
    from waterfall.compile import compile_scenarios
    from waterfall.output import formulas as fm
    from waterfall.scenarios import prepare

    result = run(hedged(), scenario, "reference")
    _, lowered = prepare(hedged(), hedged().scenario(scenario))
    model = fm.build_model(result.program, compile_scenarios([lowered], result.program))
    assert fm.check_against(model, result.ledger) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_cash_is_conserved_with_hedges(engine):
    from ..invariants import assert_all

    cases = [(hedged(), "base"), (hedged(), "rates-up"), (termination_deal(), "rates-fall-then-dark")]
    for deal, scenario in cases:
        result = run(deal, scenario, engine)
        assert_all(result.program, result.ledger)
