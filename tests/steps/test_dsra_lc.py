"""A DSRA backed by a letter of credit (issue 14, item 4: DSRA funding by cash or an LC with
its fee), hand-worked: reference, kernel and the live-formula workbook recalculated by
LibreOffice (docs/money.md, "A DSRA backed by a letter of credit").

Deal (USD millions, 2 years of quarters from 2026-01-15, no construction): asset 1,000 at
close; senior 100 at 20% (30/360), a bullet at the end (interest 5 a quarter), a hard
tranche; lease 800 a year (200 a quarter); O&M 40 a year (10 a quarter): CFADS 190 a
quarter. Equity in 900 at close. The DSRA covers 2 periods of the senior's scheduled debt
service (the bullet is a balloon, not counted): 10 from close to q6, 5 in q7 (only q8's
interest is left), 0 in q8. An LC of face 10 at an annual fee of 1.5% backs it; the fee line
"LC fee" names the account and ranks first: due 10 x 0.015 x 3/12 = 0.0375 a quarter.
Priority: fee LC fee, interest senior, principal senior, reserve dsra, distribute.

(a) Base case, LC of 10 (the full target): the LC's undrawn 10 is at the waterfall's
disposal each period and handed back at the reserve step; the cash target is
max(target - 10, 0) = 0, so no cash is ever trapped.
  q1-q7: 190 - 0.0375 - 5 = 184.9625 to equity; q8: 184.9625 - 100 (the bullet) = 84.9625.
  The cash DSRA version (same deal, no LC, no fee): q1 traps 10 (equity 175), q2-q6 185,
  q7 releases 5 (equity 190), q8 releases the last 5 (190 + 5 - 5 - 100 = 90).
  Difference LC - cash = the cash the cash DSRA traps (less what it releases) less the fee:
  q1 +10 - 0.0375 = 9.9625; q2-q6 -0.0375; q7 and q8 -5 - 0.0375 = -5.0375; over the life
  -8 x 0.0375 = -0.3, the fee alone.
(b) Scenario weak-q3 (rent x 0.06 in q3: rent 12, CFADS 2): cash 2 + the LC's 10 = 12;
  fee 0.0375, interest 5 paid in full; at the reserve step the bank is owed 0 + 10 and
  is reimbursed the 6.9625 left: owed 3.0375 (= 5.0375 of dues - 2 of CFADS: the drawing);
  cash target max(10 - (10 - 3.0375), 0) = 3.0375 but no cash is left: equity 0.
  q4: LC available 10 - 3.0375 = 6.9625, cash 190 + 6.9625 = 196.9625; fee and interest
  5.0375; the bank is owed 10 and reimbursed in full: equity 196.9625 - 5.0375 - 10 =
  181.925 = 184.9625 - 3.0375 (the reimbursement); owed 0, the LC whole again from q5.
(c) An LC of 2 (the cash part then targets 10 - 2 = 8) in scenario dark-q3-q4 (rent x 0.05
  in q3 and q4: rent 10, CFADS 0). The cash reserve is drawn first, the LC only when it is
  short, since the bank is reimbursed before the cash part is refilled:
  q1: 190 + 2 - 0.0075 (fee 2 x 0.015 / 4) - 5 - 2 reimbursed - 8 trapped = 176.9925 to equity.
  q3: 0 + 8 + 2 = 10; fee and interest 5.0075; 2 reimbursed; 2.9925 left refills the cash part.
  q4: 0 + 2.9925 + 2 = 4.9925; fee 0.0075; interest 4.985 of 5 paid: an event of default on
  the hard senior. At the acceleration the LC bank is reimbursed first from the period's
  cash (none is left): it is owed the 2 drawn.
(d) Funded at close with an LC of 4: the sponsors pay in 10 - 4 = 6 at close (equity in
  906); the account closes q0 at 6 cash. q1: 190 + 6 released + 4 of LC = 200; fee on a face
  of 4: 4 x 0.015 / 4 = 0.015; interest 5; reimbursed 4; cash target 10 - 4 = 6: equity
  200 - 0.015 - 5 - 4 - 6 = 184.985.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from tests.invariants import assert_all

from .handworked import ENGINES, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines

DEAL = """
[deal]
name = "hand-dsra-lc"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 8

[[assets]]
name = "site"
shell = { cost = 1000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 800.0
term_months = 24

[[opex]]
name = "O&M"
annual_amount = 40.0

[[tranches]]
name = "senior"
amount = 100.0
rate = { kind = "fixed", annual = 0.2 }
day_count = "30/360"
amortisation = { kind = "bullet" }
capitalise_interest = "never"
default_on_shortfall = true

[[accounts]]
name = "dsra"
kind = "dsra"
tranches = ["senior"]
target_periods = 2
letter_of_credit = { amount = 10.0, fee = 0.015 }

[[fees]]
name = "LC fee"
letter_of_credit = "dsra"

[[waterfall]]
step = "fee"
fee = "LC fee"

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "reserve"
account = "dsra"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "weak-q3"
adjustments = [{ kind = "rent_multiplier", from_period = 3, to_period = 3, multiplier = 0.06 }]

[[scenarios]]
name = "dark-q3-q4"
adjustments = [{ kind = "rent_multiplier", from_period = 3, to_period = 4, multiplier = 0.05 }]
"""

LC = "letter_of_credit = { amount = 10.0, fee = 0.015 }\n"
FEE_LINES = """[[fees]]
name = "LC fee"
letter_of_credit = "dsra"

[[waterfall]]
step = "fee"
fee = "LC fee"
"""

BASE = {
    "equity_in": [900, 0, 0, 0, 0, 0, 0, 0, 0],
    "LC fee.paid": [0] + [0.0375] * 8,
    "dsra.balance_close": [0] * 9,
    "dsra.lc_available": [10] * 9,
    "dsra.lc_drawn": [0] * 9,
    "dsra.lc_owed": [0] * 9,
    "equity_distribution": [0] + [184.9625] * 7 + [84.9625],
}
CASH_DSRA = {
    "dsra.balance_close": [0, 10, 10, 10, 10, 10, 10, 5, 0],
    "equity_distribution": [0, 175, 185, 185, 185, 185, 185, 190, 90],
}
WEAK_Q3 = {
    "senior.interest_paid": [0] + [5] * 8,
    "dsra.lc_available": [10, 10, 10, 10, 6.9625, 10, 10, 10, 10],
    "dsra.lc_drawn": [0, 0, 0, 3.0375, 0, 0, 0, 0, 0],
    "dsra.lc_reimbursed": [0, 0, 0, 0, 3.0375, 0, 0, 0, 0],
    "dsra.lc_owed": [0, 0, 0, 3.0375, 0, 0, 0, 0, 0],
    "dsra.balance_close": [0] * 9,
    "equity_distribution": [0, 184.9625, 184.9625, 0, 181.925, 184.9625, 184.9625, 184.9625, 84.9625],
}


@lru_cache(maxsize=None)
def deal(variant: str = "lc"):
    text = DEAL
    if variant == "cash":
        text = text.replace(LC, "").replace(FEE_LINES, "")
    elif variant == "small":
        text = text.replace("amount = 10.0", "amount = 2.0")
    elif variant == "at_close":
        text = text.replace("amount = 10.0", "amount = 4.0").replace('target_periods = 2\n',
                                                                     'target_periods = 2\nfunded_at_close = true\n')
    return deal_from_toml(text, "tests/steps/test_dsra_lc.py")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_lc_backed_dsra_traps_no_cash_and_costs_its_fee(engine):
    lc, cash = run(deal(), "base", engine), run(deal("cash"), "base", engine)
    assert_lines(ledger_lines(lc), BASE, what=f"LC base/{engine}")
    assert_lines(ledger_lines(cash), CASH_DSRA, what=f"cash DSRA/{engine}")
    diff = [a - b for a, b in zip(ledger_lines(lc)["equity_distribution"], ledger_lines(cash)["equity_distribution"])]
    assert diff == pytest.approx([0, 9.9625, -0.0375, -0.0375, -0.0375, -0.0375, -0.0375, -5.0375, -5.0375],
                                 abs=1e-9)
    assert sum(diff) == pytest.approx(-0.3, abs=1e-9)
    assert_all(lc.program, lc.ledger)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_debt_service_shortfall_is_drawn_on_the_lc_and_reimbursed(engine):
    result = run(deal(), "weak-q3", engine)
    assert_lines(ledger_lines(result), WEAK_Q3, what=f"LC weak-q3/{engine}")
    assert_all(result.program, result.ledger)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_drawing_left_unreimbursed_at_acceleration_stays_owed(engine):
    result = run(deal("small"), "dark-q3-q4", engine)
    lines = ledger_lines(result)
    assert lines["equity_distribution"][1] == pytest.approx(176.9925, abs=1e-9)
    assert lines["dsra.balance_close"][1:4] == pytest.approx([8.0, 8.0, 2.9925], abs=1e-9)
    assert lines["dsra.lc_drawn"][:4] == pytest.approx([0.0] * 4, abs=1e-12)   # the cash part first
    assert lines["senior.interest_paid"][4] == pytest.approx(4.985, abs=1e-9)
    assert lines["event_of_default"][4] == 1.0
    assert (lines["dsra.lc_drawn"][4], lines["dsra.lc_owed"][4]) == pytest.approx((2.0, 2.0), abs=1e-9)
    assert lines["LC fee.paid"][1] == pytest.approx(0.0075, abs=1e-12)
    assert_all(result.program, result.ledger)


@pytest.mark.parametrize("engine", ENGINES)
def test_funded_at_close_the_lc_covers_its_face_and_cash_the_rest(engine):
    result = run(deal("at_close"), "base", engine)
    lines = ledger_lines(result)
    assert lines["equity_in"][0] == pytest.approx(906.0, abs=1e-9)
    assert lines["dsra.balance_close"][:2] == pytest.approx([6.0, 6.0], abs=1e-9)
    assert lines["equity_distribution"][1] == pytest.approx(184.985, abs=1e-9)
    assert_all(result.program, result.ledger)


def test_an_lc_with_no_amount_is_sized_to_the_target_at_close():
    program = run(deal().model_copy(update={"accounts": [deal().accounts[0].model_copy(update={
        "letter_of_credit": deal().accounts[0].letter_of_credit.model_copy(update={"amount": None})})]}),
        "base", "reference").program
    assert program.acct_lc[0].tolist() == pytest.approx([10.0] * 9)   # 2 quarters of interest of 5
    assert program.fee_due[0, 1:].tolist() == pytest.approx([0.0375] * 8)


def workbook_case():
    return deal(), "weak-q3"


@needs_lo
def test_lc_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), WEAK_Q3, what="LibreOffice DSRA LC")
