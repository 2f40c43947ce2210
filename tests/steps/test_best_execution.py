"""The best-execution sale date, hand-worked: under `enforcement.sale_rule =
"best_execution"` the lenders, in control from the acceleration, sell in the period of
the stated time to sale whose value to them is the highest (docs/credit.md); under
"stated" they sell at its end. A value that rises then falls is held to its peak; one
that falls is sold at once. Reference, compiled kernel and the live-formula workbook
recalculated by LibreOffice must all give the hand ledger.

The deal is tiny, quarterly, 30/360 from the 15th (a quarter accrues exactly 0.25), in
USD millions. Every expected number below is worked out by hand in the comments; where
it is written as arithmetic it is that hand arithmetic, never engine output.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from ..invariants import assert_all
from .handworked import (
    ENGINES, assert_lines, assert_metrics, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines,
)

DEAL = """
[deal]
name = "hand-best-execution"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 8

[[assets]]
name = "campus"
# value by age in months: 1.0 to month 6 (q2), then 1.02 (q3), 1.05 (q4), 1.04 (q5), 0.90 (q6)
shell = { cost = 1000.0, curve = { kind = "points", points = [[0, 1.0], [6, 1.0], [9, 1.02], [12, 1.05], [15, 1.04], [18, 0.9]] } }

[[leases]]
tenant = "Tenant"
annual_rent = 40.0
term_months = 24

[[tranches]]
name = "senior"
amount = 900.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "bullet" }
capitalise_interest = "never"

[enforcement]
fire_sale_discount = 0.2
months_to_sale = 12
workout_costs = 8.0
sale_rule = "@RULE@"

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "dark-q2"
description = "No rent in q2: a payment default; the value path of the curve (up to q4, then down)."
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.0 }]

[[scenarios]]
name = "dark-q2-value-drop"
description = "No rent in q2, and the campus is worth 10% less from q3 on (obsolescence)."
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.0 },
               { kind = "asset_value_multiplier", component = "shell", from_period = 3, multiplier = 0.9 }]
"""


@lru_cache(maxsize=None)
def deal(rule: str):
    return deal_from_toml(DEAL.replace("@RULE@", rule), f"tests/steps/test_best_execution.py ({rule})")


# Deal: shell 1,000 at close, worth 1,000 x its curve: q0-q2 1,000, q3 1,020, q4 1,050, q5
# 1,040, q6 900 (and 900 after). senior 900 at 4% = 1% a quarter (9), bullet at q8, hard; no
# opex; rent 40 a year = 10 a quarter, q1-q8. Enforcement: 12 months to sale = 4 quarters,
# workout costs 8 a year = 2 a quarter, no default margin (the claim accrues at the contract
# 1% a quarter), sale at value x (1 - 0.2), no costs. Valued at replacement cost.
#
# dark-q2: q1 rent 10, interest 9 paid, equity 1. q2: no rent, cash 0, the interest 9 unpaid
#   on a hard tranche -> payment default; the lenders accelerate in q2. Claim = balance 900
#   + principal paid 0 + interest due 9 = 909; arrears 9. Nothing to take (no cash, no
#   reserves).
#
# The choice (best execution), from q2 to q2 + 4 = q6, at the senior's 1% a quarter; each
#   workout quarter nets rent 10 - costs 2 = 8; a sale at u nets 0.8 x value(u):
#   u = q2: 0.8 x 1,000                                    = 800
#   u = q3: (8 + 0.8 x 1,020) / 1.01 = 824 / 1.01           = 815.84
#   u = q4: 8 / 1.01 + (8 + 0.8 x 1,050) / 1.01^2 = 7.9208 + 848 / 1.0201 = 7.9208 + 831.2910 = 839.21
#   u = q5: 8/1.01 + 8/1.01^2 + (8 + 832) / 1.01^3 = 7.9208 + 7.8424 + 815.2957 = 831.06
#   u = q6: 7.9208 + 7.8424 + 8/1.01^3 + (8 + 720) / 1.01^4 = 23.5279 + 699.5937 = 723.12
#   q4 wins: the lenders hold through the re-rating to the peak and sell before it falls.
#
# Best execution, sale at q4:
#   q3 (workout): interest (900 + 9) x 1% = 9.09 -> arrears 18.09; net 8 -> interest 8;
#      arrears 10.09, balance 900.
#   q4: interest (900 + 10.09) x 1% = 9.1009 -> arrears 19.1909; pool 8 + 840 = 848:
#      interest 19.1909, principal 848 - 19.1909 = 828.8091, write-off 900 - 828.8091 =
#      71.1909. The deal ends: q5-q8 zero.
#   received 8 + 848 = 856 of 909; loss 53; PV at 1% from q2: 8/1.01 + 848/1.01^2;
#   recovery_periods 2.
BEST = {
    "revenue": [0, 10, 0, 10, 10],
    "cfads": [0, 10, 0, 10, 10],
    "cash_available": [0, 10, 0, 8, 8],
    "workout": [0, 0, 0, 1, 1],
    "workout_costs": [0, 0, 0, 2, 2],
    "event_of_default": [0, 0, 1, 0, 0],
    "senior.balance_open": [0, 900, 900, 900, 900],
    "senior.interest_due": [0, 9, 9, 9.09, 9.1009],
    "senior.interest_paid": [0, 9, 0, 0, 0],
    "senior.claim": [0, 0, 909, 0, 0],
    "senior.recovery_interest": [0, 0, 0, 8, 19.1909],
    "senior.recovery_principal": [0, 0, 0, 0, 828.8091],
    "senior.write_off": [0, 0, 0, 0, 71.1909],
    "senior.interest_arrears": [0, 0, 9, 10.09, 0],
    "senior.balance_close": [900, 900, 900, 900, 0],
    "seizure_gross": [0, 0, 0, 0, 1050],
    "seizure_net": [0, 0, 0, 0, 840],
    "equity_distribution": [0, 1, 0, 0, 0],
}
PV_BEST = 8 / 1.01 + 848 / 1.01 ** 2
BEST_METRICS = {"default_period": 2, "acceleration_period": 2, "lender_claim": 909.0, "lender_received": 856.0,
                "recovery_rate": 856 / 909, "recovery_rate_pv": PV_BEST / 909, "lender_loss": 53.0,
                "lender_loss_pv": 909 - PV_BEST, "recovery_periods": 2}

# The stated rule, sale at q2 + 4 = q6 at 900 (net 720):
#   q3 as above (arrears 10.09 after); q4: interest 9.1009, arrears 19.1909, 8 paid -> 11.1909;
#   q5: interest (900 + 11.1909) x 1% = 9.111909, arrears 20.302809, 8 paid -> 12.302809;
#   q6: interest (900 + 12.302809) x 1% = 9.12302809 -> arrears 21.42583709; pool 8 + 720 =
#      728: interest 21.42583709, principal 706.57416291, write-off 193.42583709.
#   received 4 x 8 + 720 = 752 of 909 (best execution: 856); PV 8/1.01 + 8/1.01^2 + 8/1.01^3 +
#   728/1.01^4; recovery_periods 4.
STATED = {
    "cash_available": [0, 10, 0, 8, 8, 8, 8],
    "workout": [0, 0, 0, 1, 1, 1, 1],
    "senior.interest_due": [0, 9, 9, 9.09, 9.1009, 9.111909, 9.12302809],
    "senior.recovery_interest": [0, 0, 0, 8, 8, 8, 21.42583709],
    "senior.recovery_principal": [0, 0, 0, 0, 0, 0, 706.57416291],
    "senior.write_off": [0, 0, 0, 0, 0, 0, 193.42583709],
    "senior.interest_arrears": [0, 0, 9, 10.09, 11.1909, 12.302809, 0],
    "seizure_gross": [0, 0, 0, 0, 0, 0, 900],
    "seizure_net": [0, 0, 0, 0, 0, 0, 720],
}
PV_STATED = 8 / 1.01 + 8 / 1.01 ** 2 + 8 / 1.01 ** 3 + 728 / 1.01 ** 4
STATED_METRICS = {"lender_claim": 909.0, "lender_received": 752.0, "recovery_rate_pv": PV_STATED / 909,
                  "lender_loss": 157.0, "recovery_periods": 4}

# dark-q2-value-drop: the same default in q2; the value x 0.9 from q3: q3 918, q4 945, q5
#   936, q6 810. The choice:
#   u = q2: 0.8 x 1,000 = 800
#   u = q3: (8 + 734.4) / 1.01 = 735.05
#   u = q4: 7.9208 + (8 + 756) / 1.0201 = 7.9208 + 748.9462 = 756.87
#   u = q5: 15.7632 + (8 + 748.8) / 1.030301 = 15.7632 + 734.5426 = 750.31
#   u = q6: 23.5279 + (8 + 648) / 1.04060401 = 23.5279 + 630.4031 = 653.93
#   q2 wins: the lenders sell at once. Pool 800: interest 9, principal 791, write-off 109.
#   received 800 of 909; recovery_periods 0; no workout.
DROP = {
    "revenue": [0, 10, 0],
    "event_of_default": [0, 0, 1],
    "workout": [0, 0, 0],
    "senior.claim": [0, 0, 909],
    "senior.recovery_interest": [0, 0, 9],
    "senior.recovery_principal": [0, 0, 791],
    "senior.write_off": [0, 0, 109],
    "senior.balance_close": [900, 900, 0],
    "seizure_gross": [0, 0, 1000],
    "seizure_net": [0, 0, 800],
    "equity_distribution": [0, 1, 0],
}
DROP_METRICS = {"lender_claim": 909.0, "lender_received": 800.0, "recovery_rate_pv": 800 / 909,
                "lender_loss": 109.0, "recovery_periods": 0}

CASES = {("best_execution", "dark-q2"): (BEST, BEST_METRICS),
         ("stated", "dark-q2"): (STATED, STATED_METRICS),
         ("best_execution", "dark-q2-value-drop"): (DROP, DROP_METRICS)}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule,scenario", list(CASES))
def test_best_execution_sale_period_and_recovery_by_hand(engine, rule, scenario):
    lines, metrics = CASES[(rule, scenario)]
    result = run(deal(rule), scenario, engine)
    assert_lines(ledger_lines(result), lines, what=f"{rule}/{scenario}/{engine}")
    assert_metrics(result, metrics)
    assert result.metrics["default_cause"] == "payment"
    assert_all(result.program, result.ledger)


def workbook_case():
    return deal("best_execution"), "dark-q2"


@needs_lo
def test_best_execution_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), BEST, what="LibreOffice best execution")
