"""Refinancing at maturity, hand-worked. At the maturity t (before the last period) the
balloon (the balance less t's scheduled principal) is refinanced if the market is open, by
a new loan sized as docs/credit.md ("Refinancing") says: here only the DSCR limit applies,
the most the loan can be while projected CFADS >= min_dscr x its straight-line service in
every period of its amortisation (up to the horizon). The new loan pays max(base + shock,
floor) + spread from t+1 and amortises loan / periods straight-line, maturing at
min(t + periods, T). At t the old schedule and what the loan leaves of the balloon are
due. With the market closed the balloon is due, and unpaid it is an event of default.

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter; 6 quarters):
  asset: shell 1,000 at close worth 1,000 x (1 - age/120 months); fire-sale 50%.
  base rate (SOFR) 2% flat.
  senior 400 at 4% fixed (1% a quarter), bullet, maturity q2; refinancing: spread 5%,
  floor 3%, 4 amortising periods, min DSCR 1.20. Equity 600.
  rent 640 a year = 160 a quarter (q1-q6); opex 16 a year = 4; CFADS 156.
  priority: interest, principal, distribute.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import (
    ENGINES, NAN, assert_lines, assert_metrics, deal_from_toml, ledger_lines, needs_lo, run,
    workbook_lines,
)

DEAL = """
[deal]
name = "hand-refinancing"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 6

[[assets]]
name = "site"
shell = { cost = 1000.0, curve = { kind = "straight_line", life_months = 120 } }

[[leases]]
tenant = "Tenant"
annual_rent = 640.0
term_months = 18

[[opex]]
name = "opex"
annual_amount = 16.0

[base_rate]
points = [[0, 0.02]]

[[tranches]]
name = "senior"
amount = 400.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "bullet" }
maturity_period = 2
capitalise_interest = "never"
refinancing = { spread = 0.05, floor = 0.03, amort_periods = 4, min_dscr = 1.2 }

[enforcement]
fire_sale_discount = 0.5

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "refi-closed"
description = "No refinancing market at q2."
adjustments = [{ kind = "refinancing_closed", from_period = 2, to_period = 2 }]

[[scenarios]]
name = "weak"
description = "Rent x 0.8 from q2: the new loan is sized below the balloon at q2."
adjustments = [{ kind = "rent_multiplier", from_period = 2, multiplier = 0.8 }]

[[scenarios]]
name = "rates-up"
description = "Base rate +200bp from q3."
adjustments = [{ kind = "rate_shock", bp = 200.0, from_period = 3 }]
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_refinancing.py")


# Base:
# q1: interest 400 x 1% = 4; bullet: no principal; DS 4, DSCR 39; equity 152.
# q2 (maturity): interest 4 at the old rate. Refinancing test: new rate
#     max(2%, floor 3%) + 5% = 8% a year = 2% a quarter; service 400 x 2% + min(400/4, 400)
#     = 8 + 100 = 108; projected CFADS q3 156 >= 1.2 x 108 = 129.6: refinanced 400.
#     Due at q2: the old schedule only, 0. DS 4; equity 152.
# q3: 8% from now on: interest 8, principal 100 -> 300; DS 108; equity 48.
# q4: 6 + 100 -> 200; DS 106; equity 50.
# q5: 4 + 100 -> 100; DS 104; equity 52.
# q6 (new maturity min(2 + 4, 6)): 2 + 100 -> 0; DS 102; equity 54.
BASE = {
    "cfads": [0, 156, 156, 156, 156, 156, 156],
    "debt_service": [0, 4, 4, 108, 106, 104, 102],
    "dscr": [NAN, 39, 39, 156 / 108, 156 / 106, 156 / 104, 156 / 102],
    "senior.rate": [0.04, 0.04, 0.04, 0.08, 0.08, 0.08, 0.08],
    "senior.balance_open": [0, 400, 400, 400, 300, 200, 100],
    "senior.interest_paid": [0, 4, 4, 8, 6, 4, 2],
    "senior.refinanced": [0, 0, 400, 0, 0, 0, 0],
    "senior.principal_due": [0, 0, 0, 100, 100, 100, 100],
    "senior.principal_paid": [0, 0, 0, 100, 100, 100, 100],
    "senior.balance_close": [400, 400, 400, 300, 200, 100, 0],
    "equity_distribution": [0, 152, 152, 48, 50, 52, 54],
    "event_of_default": [0, 0, 0, 0, 0, 0, 0],
}

# refi-closed: no refinancing at q2: the balloon 400 is due. DS counts the schedule (0):
# 4, DSCR 39. cash 156 - 4 = 152 pays 152 of it: 248 unpaid at maturity -> default.
#   seizure gross 1000 x (1 - 6/120) = 950, net 475: recovers the 248; surplus 227 to equity.
#   claim 248 + 152 + 4 = 404, all received.
REFI_CLOSED = {
    "cfads": [0, 156, 156],
    "debt_service": [0, 4, 4],
    "senior.refinanced": [0, 0, 0],
    "senior.interest_paid": [0, 4, 4],
    "senior.principal_due": [0, 0, 400],
    "senior.principal_paid": [0, 0, 152],
    "senior.recovery_principal": [0, 0, 248],
    "senior.write_off": [0, 0, 0],
    "senior.balance_close": [400, 400, 0],
    "seizure_gross": [0, 0, 950],
    "seizure_net": [0, 0, 475],
    "equity_distribution": [0, 152, 227],
    "event_of_default": [0, 0, 1],
}

# weak: CFADS 160 x 0.8 - 4 = 124 from q2. The refinancing lender sizes on the rent in
# place at q2 (docs/credit.md): the tenant pays 80% of its scheduled rent then, so each
# later quarter reads 160 x 0.8 - 4 = 124. The new loan (2% a quarter, 4 periods) is
# limited by its first period, whose service per unit is (1 + 4 x 2%) / 4 = 1.08 / 4:
# L = 124 / 1.2 x 4 / 1.08 = 382.716. The shortfall 400 - L = 17.284 is paid from q2's
# cash (124 - 4 interest = 120): no default, equity 120 - 17.284. Then straight-line L / 4:
# q3: interest L x 2%, DS 124 / 1.2 exactly (DSCR 1.20), equity 124 - DS; q4: 3L/4 x 2%;
# q5: L/2 x 2%; q6: L/4 x 2%.
L = 124 / 1.2 * 4 / 1.08
WEAK = {
    "cfads": [0, 156, 124, 124, 124, 124, 124],
    "debt_service": [0, 4, 4] + [L * (1 - i / 4) * 0.02 + L / 4 for i in range(4)],
    "senior.refinanced": [0, 0, L, 0, 0, 0, 0],
    "senior.principal_due": [0, 0, 400 - L, L / 4, L / 4, L / 4, L / 4],
    "senior.principal_paid": [0, 0, 400 - L, L / 4, L / 4, L / 4, L / 4],
    "senior.balance_close": [400, 400, L, 0.75 * L, 0.5 * L, 0.25 * L, 0],
    "equity_distribution": [0, 152, 120 - (400 - L)] + [124 - (L * (1 - i / 4) * 0.02 + L / 4) for i in range(4)],
    "event_of_default": [0, 0, 0, 0, 0, 0, 0],
}

# rates-up: base 2% + 2% = 4% >= floor 3%: new rate 4% + 5% = 9% = 2.25% a quarter
# (the fixed 4% of q1-q2 is unmoved). service 400 x 2.25% + 100 = 109; 1.2 x 109 = 130.8
# <= 156: refinanced.
# q3: 9 + 100 -> 300, equity 47; q4: 6.75 + 100, equity 49.25; q5: 4.5 + 100, equity 51.5;
# q6: 2.25 + 100, equity 53.75.
RATES_UP = {
    **BASE,
    "debt_service": [0, 4, 4, 109, 106.75, 104.5, 102.25],
    "dscr": [NAN, 39, 39, 156 / 109, 156 / 106.75, 156 / 104.5, 156 / 102.25],
    "senior.rate": [0.04, 0.04, 0.04, 0.09, 0.09, 0.09, 0.09],
    "senior.interest_paid": [0, 4, 4, 9, 6.75, 4.5, 2.25],
    "equity_distribution": [0, 152, 152, 47, 49.25, 51.5, 53.75],
}

EXPECTED = {"base": BASE, "refi-closed": REFI_CLOSED, "weak": WEAK, "rates-up": RATES_UP}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", EXPECTED)
def test_refinancing_ledger_by_hand(engine, scenario):
    result = run(deal(), scenario, engine)
    assert_lines(ledger_lines(result), EXPECTED[scenario], what=f"{scenario}/{engine}")
    if scenario == "refi-closed":
        assert_metrics(result, {"default_period": 2, "lender_claim": 404.0, "lender_received": 404.0,
                                "lender_loss": 0.0})
    else:
        assert result.metrics["default_period"] is None


def workbook_case():
    return deal(), "base"


@needs_lo
def test_refinancing_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), BASE, what="LibreOffice base")
