"""Independent tie-out of the engine against the hand-specified deal.

Specification: shared/context/tieout-deal.md ("The tie-out deal"); the engine ships it
as deals/examples/tieout.toml with scenarios base, renegotiation and tenant-half-pay.

The transcription below (`transcribe`) is written from the specification text only, not
from the engine's code. Its key numbers are first checked against literals worked out by
hand (see the `test_hand_anchor_*` tests), then the engine (both the pure-Python reference
and the compiled kernel, through the public API and the CLI) is compared with it to 1e-9.

Amounts in USD millions; rates are per quarter.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEAL_PATH = ROOT / "deals" / "examples" / "tieout.toml"
SCENARIOS = ("base", "renegotiation", "tenant-half-pay")
ENGINES = ("reference", "compiled")
TOL = 1e-9

# --------------------------------------------------------------------------------------
# Terms (spec, "Terms" table)
# --------------------------------------------------------------------------------------
N_QUARTERS = 40          # "quarter 0 is financial close; operations run quarters 1 to 40"
ASSET_COST = 1000.0      # "asset cost | 1,000.0, paid at quarter 0"
SENIOR = 700.0           # "senior loan | 700.0 drawn at quarter 0"
RATE = 0.015             # "fixed interest 1.5% per quarter on the opening balance"
SCHED = 17.5             # "scheduled principal | min(17.5, opening balance) each quarter"
EQUITY = 300.0           # "equity | 300.0 paid in at quarter 0"
OPEX = 3.0               # "opex | 3.0 each quarter"
LOCK_UP = 1.20           # "when the quarter's DSCR is below 1.20, all cash left after the DSRA prepays"
FIRE_SALE = 0.50         # "(1 - 0.50) ... a 50% fire-sale discount"


def scheduled_rent(q: int) -> float:
    # "lease rent (scheduled) | 40.0 x 1.02^floor((q - 1) / 4) in quarter q"
    return 40.0 * 1.02 ** ((q - 1) // 4)


def rent_paid(scenario: str, q: int) -> float:
    # "Scenarios" table; '"from quarter 9 on" includes 9'.
    rent = scheduled_rent(q)
    if scenario == "base":                      # "the scheduled rent"
        return rent
    if scenario == "renegotiation":             # "the scheduled rent, x 0.80 from quarter 9 on"
        return rent * 0.80 if q >= 9 else rent
    if scenario == "tenant-half-pay":           # "the scheduled rent, x 0.50 from quarter 13 on"
        return rent * 0.50 if q >= 13 else rent
    raise KeyError(scenario)


def seizure_value(q: int) -> float:
    # "seizure value = 1,000 x max(0, 1 - q/40) x (1 - 0.50) at the end of default quarter q"
    return ASSET_COST * max(0.0, 1.0 - q / N_QUARTERS) * (1.0 - FIRE_SALE)


@dataclass
class Quarter:
    q: int
    revenue: float = 0.0
    opex: float = 0.0
    cfads: float = 0.0
    balance_open: float = 0.0
    dsra_open: float = 0.0
    interest_due: float = 0.0
    principal_due: float = 0.0
    debt_service: float = 0.0
    dscr: float | None = None
    interest_paid: float = 0.0
    principal_paid: float = 0.0
    dsra_target: float = 0.0
    dsra_close: float = 0.0
    sweep: float = 0.0
    equity_distribution: float = 0.0
    balance_close: float = 0.0
    # default quarter only
    default: bool = False
    claim: float = 0.0
    recovery_interest: float = 0.0      # cash applied to interest
    recovery_principal_cash: float = 0.0  # cash applied to principal
    seizure: float = 0.0                # seizure value of the asset
    seizure_applied: float = 0.0        # seizure value applied to what is still owed
    lender_cf: float = 0.0
    equity_cf: float = 0.0


@dataclass
class Deal:
    scenario: str
    quarters: list = field(default_factory=list)
    default_quarter: int | None = None
    claim: float | None = None
    received: float | None = None
    recovery_rate: float | None = None   # undefined without a default (no claim)
    lender_loss: float = 0.0             # no default: no claim, nothing lost
    min_dscr: float | None = None
    avg_dscr: float | None = None
    lender_flows: list = field(default_factory=list)
    equity_flows: list = field(default_factory=list)
    lender_irr: float | None = None
    equity_irr: float | None = None


def transcribe(scenario: str) -> Deal:
    """The spec's 'order of each quarter', step by step."""
    deal = Deal(scenario)
    balance = SENIOR     # "700.0 drawn at quarter 0"
    dsra = 0.0           # "DSRA | starts empty"
    lender = [-SENIOR]   # "(-700 and -300 at quarter 0)"
    equity = [-EQUITY]
    for q in range(1, N_QUARTERS + 1):
        x = Quarter(q)
        x.balance_open, x.dsra_open = balance, dsra
        # 1. "revenue = the scenario's rent for q; CFADS = revenue - opex."
        x.revenue = rent_paid(scenario, q)
        x.opex = OPEX
        x.cfads = x.revenue - x.opex
        # 2. "cash = CFADS + DSRA balance at the start of q (the whole DSRA is available)."
        cash = x.cfads + dsra
        # 3. "interest due = 1.5% x opening senior balance; scheduled principal =
        #    min(17.5, opening balance); debt service = interest due + scheduled principal."
        x.interest_due = RATE * balance
        x.principal_due = min(SCHED, balance)
        x.debt_service = x.interest_due + x.principal_due
        # 4. "DSCR = CFADS / debt service (only in quarters with debt service > 0)."
        x.dscr = x.cfads / x.debt_service if x.debt_service > 0 else None
        # 5. "If cash < debt service: event of default (step 9)."
        if cash < x.debt_service:
            # 9. "the lender's claim = opening balance + interest due. The lender takes all
            #    cash (max(cash, 0), CFADS plus the whole DSRA), first for interest, then
            #    principal, then seizes the asset for the seizure value above, applied to
            #    what is still owed. Any surplus goes to equity. The deal ends at q."
            x.default = True
            x.claim = balance + x.interest_due
            taken = max(cash, 0.0)
            x.recovery_interest = min(taken, x.interest_due)
            x.recovery_principal_cash = min(taken - x.recovery_interest, balance)
            surplus_cash = taken - x.recovery_interest - x.recovery_principal_cash
            still_owed = balance - x.recovery_principal_cash
            x.seizure = seizure_value(q)
            x.seizure_applied = min(x.seizure, still_owed)
            x.equity_distribution = surplus_cash + (x.seizure - x.seizure_applied)
            x.dsra_close = 0.0
            x.balance_close = still_owed - x.seizure_applied  # written off
            received = x.recovery_interest + x.recovery_principal_cash + x.seizure_applied
            x.lender_cf = received
            x.equity_cf = x.equity_distribution
            deal.default_quarter, deal.claim, deal.received = q, x.claim, received
            # "lender recovery rate = all the lender received in the default quarter (cash
            #  and seizure, net of any surplus paid to equity) / the claim;
            #  lender loss = claim - that."
            deal.recovery_rate = received / x.claim
            deal.lender_loss = x.claim - received
            deal.quarters.append(x)
            lender.append(x.lender_cf)
            equity.append(x.equity_cf)
            break
        # "Otherwise pay interest, then scheduled principal; cash -= debt service."
        x.interest_paid, x.principal_paid = x.interest_due, x.principal_due
        cash -= x.debt_service
        balance -= x.principal_paid
        # 6. "DSRA target = 1.5% x balance after step 5 + min(17.5, balance after step 5)
        #    (zero once repaid). New DSRA balance = min(target, cash); cash -= new DSRA balance"
        x.dsra_target = RATE * balance + min(SCHED, balance) if balance > 0 else 0.0
        dsra = min(x.dsra_target, cash)
        cash -= dsra
        x.dsra_close = dsra
        # 7. "If DSCR < 1.20: sweep = min(cash, balance); prepay the senior loan by it"
        if x.dscr is not None and x.dscr < LOCK_UP:
            x.sweep = min(cash, balance)
            balance -= x.sweep
            cash -= x.sweep
        # 8. "Whatever cash is left is distributed to equity."
        x.equity_distribution = cash
        x.balance_close = balance
        x.lender_cf = x.interest_paid + x.principal_paid + x.sweep
        x.equity_cf = x.equity_distribution
        deal.quarters.append(x)
        lender.append(x.lender_cf)
        equity.append(x.equity_cf)
    # "min DSCR and average DSCR (arithmetic mean over quarters with debt service > 0, up to
    #  and including a default quarter)"; "the mean of the quarterly ratios, not a ratio of sums"
    ratios = [x.dscr for x in deal.quarters if x.dscr is not None]
    deal.min_dscr = min(ratios)
    deal.avg_dscr = sum(ratios) / len(ratios)
    deal.lender_flows, deal.equity_flows = lender, equity
    # "lender IRR and equity IRR, from quarterly cash flows ... annualised as (1 + r)^4 - 1"
    deal.lender_irr = annualise(irr_bisect(lender))
    deal.equity_irr = annualise(irr_bisect(equity))
    return deal


def npv(rate: float, flows: list) -> float:
    return sum(cf / (1.0 + rate) ** t for t, cf in enumerate(flows))


def irr_bisect(flows: list, lo: float = -0.99, hi: float = 1.0) -> float:
    """Quarterly IRR by plain bisection on the NPV (one sign change: outlay then inflows)."""
    f_lo, f_hi = npv(lo, flows), npv(hi, flows)
    assert f_lo * f_hi < 0, "IRR not bracketed"
    for _ in range(300):
        mid = 0.5 * (lo + hi)
        f_mid = npv(mid, flows)
        if f_mid == 0.0:
            return mid
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
        if hi - lo < 1e-15:
            break
    return 0.5 * (lo + hi)


def annualise(r: float) -> float:
    return (1.0 + r) ** 4 - 1.0


_CACHE: dict = {}


def hand(scenario: str) -> Deal:
    if scenario not in _CACHE:
        _CACHE[scenario] = transcribe(scenario)
    return _CACHE[scenario]


# ======================================================================================
# Part 1: hand-checked anchors for the transcription itself
# ======================================================================================
def close(a, b, tol=TOL):
    return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(b))


def test_bisection_irr_on_trivial_flows():
    # -100 then +110 one quarter later: r = 10% a quarter; annual = 1.1^4 - 1 = 0.4641
    assert close(irr_bisect([-100.0, 110.0]), 0.10, 1e-12)
    assert close(annualise(0.10), 0.4641, 1e-12)
    # -100, 0, 121: r = 10% a quarter
    assert close(irr_bisect([-100.0, 0.0, 121.0]), 0.10, 1e-12)


def test_hand_anchor_rent_schedule():
    # 40 x 1.02^floor((q-1)/4): q1..q4 -> 40; q5 -> 40.8; q9 -> 41.616; q13 -> 42.448320;
    # q40 -> floor(39/4) = 9 -> 40 x 1.02^9
    assert [scheduled_rent(q) for q in (1, 4)] == [40.0, 40.0]
    assert close(scheduled_rent(5), 40.8)
    assert close(scheduled_rent(8), 40.8)
    assert close(scheduled_rent(9), 41.616)
    assert close(scheduled_rent(13), 42.44832)
    assert close(scheduled_rent(40), 40.0 * 1.02 ** 9)
    # renegotiation: q8 unchanged, q9 = 41.616 x 0.80 = 33.2928 ("from quarter 9 on" includes 9)
    assert close(rent_paid("renegotiation", 8), 40.8)
    assert close(rent_paid("renegotiation", 9), 33.2928)
    # tenant-half-pay: q12 unchanged 41.616, q13 = 40 x 1.02^3 x 0.5 = 42.44832 x 0.5 = 21.22416
    assert close(rent_paid("tenant-half-pay", 12), 41.616)
    assert close(rent_paid("tenant-half-pay", 13), 21.22416)
    # seizure value 1000 x (1 - 16/40) x 0.5 = 1000 x 0.6 x 0.5 = 300
    assert close(seizure_value(16), 300.0)
    assert close(seizure_value(40), 0.0)


def test_hand_anchor_base():
    d = hand("base")
    q1, q2, q3, q4, q5 = d.quarters[:5]
    # q1: CFADS = 40 - 3 = 37; interest = 1.5% x 700 = 10.5; principal 17.5; DS = 28
    assert close(q1.cfads, 37.0) and close(q1.interest_due, 10.5) and close(q1.debt_service, 28.0)
    # DSCR = (40-3)/(10.5+17.5) = 1.32142857...
    assert close(q1.dscr, 37.0 / 28.0) and close(q1.dscr, 1.3214285714285714)
    # DSRA target = 1.5% x 682.5 + 17.5 = 10.2375 + 17.5 = 27.7375; cash after DS = 37 - 28 = 9
    assert close(q1.dsra_target, 27.7375)
    assert close(q1.dsra_close, 9.0)      # min(27.7375, 9)
    assert q1.sweep == 0.0 and close(q1.equity_distribution, 0.0)   # 1.3214 >= 1.20: no sweep
    # q2: cash = 37 + 9 = 46; DS = 1.5% x 682.5 + 17.5 = 27.7375 -> 18.2625 left;
    # target 1.5% x 665 + 17.5 = 27.475 -> DSRA 18.2625, equity 0; DSCR = 37/27.7375
    assert close(q2.dscr, 1.3339342045966651)
    assert close(q2.dsra_close, 18.2625) and close(q2.equity_distribution, 0.0)
    # q3: cash = 37 + 18.2625 = 55.2625; DS 27.475 -> 27.7875; target 1.5% x 647.5 + 17.5 = 27.2125
    # -> equity 27.7875 - 27.2125 = 0.575
    assert close(q3.dsra_close, 27.2125) and close(q3.equity_distribution, 0.575)
    # q4: cash = 37 + 27.2125 = 64.2125; DS 27.2125 -> 37; target 1.5% x 630 + 17.5 = 26.95
    # -> equity 37 - 26.95 = 10.05
    assert close(q4.dsra_close, 26.95) and close(q4.equity_distribution, 10.05)
    # q5: rent 40.8, CFADS 37.8; DS = 9.45 + 17.5 = 26.95 (= DSRA open);
    # equity = 37.8 - 26.95 + 26.95 - (1.5% x 612.5 + 17.5 = 26.6875) = 11.1125
    assert close(q5.equity_distribution, 11.1125)
    # q40: opening 17.5, interest 0.2625, DS 17.7625 = DSRA open (q39 target 1.5% x 17.5 + 17.5);
    # loan repaid, target 0, DSRA released: equity = CFADS = 40 x 1.02^9 - 3
    q40 = d.quarters[-1]
    assert q40.q == 40 and close(q40.balance_open, 17.5) and close(q40.debt_service, 17.7625)
    assert close(q40.equity_distribution, 40.0 * 1.02 ** 9 - 3.0) and q40.dsra_close == 0.0
    assert close(q40.balance_close, 0.0)
    assert all(x.sweep == 0.0 for x in d.quarters)
    assert d.default_quarter is None and d.recovery_rate is None and d.lender_loss == 0.0
    # min DSCR is q1 (rent never falls, debt service falls by 0.2625 a quarter)
    assert close(d.min_dscr, 37.0 / 28.0)
    # average DSCR in closed form: DS_q = 28 - 0.2625 (q-1), CFADS_q = 40 x 1.02^floor((q-1)/4) - 3
    avg = sum((40.0 * 1.02 ** ((q - 1) // 4) - 3.0) / (28.0 - 0.2625 * (q - 1))
              for q in range(1, 41)) / 40
    assert close(d.avg_dscr, avg) and close(d.avg_dscr, 1.830217772430489)
    # lender paid in full at 1.5% a quarter: IRR = 1.015^4 - 1 = 0.061363550625
    assert close(d.lender_irr, 0.061363550625)
    # equity flows in closed form: q1..q3 as above; from q4 the DSRA opens at DS_q and closes at
    # DS_{q+1} = 28 - 0.2625 q, so equity_q = CFADS_q - (28 - 0.2625 q); q40: CFADS_40
    eq = [-300.0, 0.0, 0.0, 0.575]
    eq += [40.0 * 1.02 ** ((q - 1) // 4) - 3.0 - (28.0 - 0.2625 * q) for q in range(4, 40)]
    eq += [40.0 * 1.02 ** 9 - 3.0]
    assert len(eq) == 41 and all(close(a, b) for a, b in zip(d.equity_flows, eq))
    assert close(d.equity_irr, annualise(irr_bisect(eq)))
    assert close(d.equity_irr, 0.1624852074263612)


def test_hand_anchor_renegotiation():
    d = hand("renegotiation")
    q9, q10, q11 = d.quarters[8:11]
    # q9: rent 41.616 x 0.8 = 33.2928, CFADS 30.2928; DS = 1.5% x 560 + 17.5 = 25.9
    # DSCR = 30.2928/25.9 = 1.16960618 < 1.20 -> lock-up and sweep
    assert close(q9.dscr, 1.1696061776061777)
    # cash = 30.2928 + 25.9 (DSRA) = 56.1928; after DS 30.2928; target 1.5% x 542.5 + 17.5
    # = 25.6375; left 4.6553 -> swept; balance 542.5 - 4.6553 = 537.8447; equity 0
    assert close(q9.dsra_close, 25.6375) and close(q9.sweep, 4.6553)
    assert close(q9.balance_close, 537.8447) and close(q9.equity_distribution, 0.0)
    # q10: interest = 1.5% x 537.8447 = 8.0676705; DS 25.5676705; DSCR = 30.2928/25.5676705
    # = 1.18480876 < 1.20; cash = 30.2928 + 25.6375 = 55.9303 -> 30.3626295 after DS;
    # target = 1.5% x 520.3447 + 17.5 = 25.3051705 -> sweep 5.057459; balance 515.287241
    assert close(q10.interest_due, 8.0676705) and close(q10.dscr, 1.1848087607355549)
    assert close(q10.dsra_close, 25.3051705) and close(q10.sweep, 5.057459)
    assert close(q10.balance_close, 515.287241)
    # q11: interest 1.5% x 515.287241 = 7.729308615; DSCR = 30.2928/25.229308615 = 1.2006988
    # >= 1.20: no sweep; cash = 30.2928 + 25.3051705 - 25.229308615 = 30.368661885;
    # target = 1.5% x 497.787241 + 17.5 = 24.966808615 -> equity 5.40185327
    assert close(q11.dscr, 1.2006987770560433) and q11.sweep == 0.0
    assert close(q11.equity_distribution, 5.40185327)
    assert all(x.sweep == 0.0 for x in d.quarters if x.q not in (9, 10))
    # balance after q39 = 515.287241 - 29 x 17.5 = 7.787241: q40 scheduled = min(17.5, 7.787241)
    q40 = d.quarters[-1]
    assert close(q40.balance_open, 7.787241) and close(q40.principal_paid, 7.787241)
    assert close(q40.balance_close, 0.0)
    assert d.default_quarter is None and d.recovery_rate is None and d.lender_loss == 0.0
    assert close(d.min_dscr, 30.2928 / 25.9)
    # lender paid in full at 1.5% a quarter (prepayments at par): IRR = 1.015^4 - 1
    assert close(d.lender_irr, 0.061363550625)


def test_hand_anchor_tenant_half_pay():
    d = hand("tenant-half-pay")
    q13, q14, q15, q16 = d.quarters[12:16]
    # q13: rent 40 x 1.02^3 x 0.5 = 21.22416, CFADS 18.22416; opening 700 - 12 x 17.5 = 490;
    # DS = 7.35 + 17.5 = 24.85; DSCR = 18.22416/24.85 = 0.7333666
    assert close(q13.revenue, 21.22416) and close(q13.balance_open, 490.0)
    assert close(q13.debt_service, 24.85) and close(q13.dscr, 18.22416 / 24.85)
    # cash = 18.22416 + 24.85 (DSRA open = q12 target 1.5% x 490 + 17.5) = 43.07416 >= 24.85;
    # after DS 18.22416 < target 1.5% x 472.5 + 17.5 = 24.5875 -> DSRA 18.22416; sweep 0; equity 0
    assert close(q13.dsra_open, 24.85) and close(q13.dsra_close, 18.22416)
    assert q13.sweep == 0.0 and q13.equity_distribution == 0.0
    # q14: cash = 18.22416 + 18.22416 = 36.44832; DS 7.0875 + 17.5 = 24.5875 -> DSRA 11.86082
    assert close(q14.dsra_close, 11.86082)
    # q15: cash = 18.22416 + 11.86082 = 30.08498; DS 6.825 + 17.5 = 24.325 -> DSRA 5.75998
    assert close(q15.dsra_close, 5.75998)
    # q16: cash = 18.22416 + 5.75998 = 23.98414 < DS 6.5625 + 17.5 = 24.0625 -> default
    assert q16.default and d.default_quarter == 16 and len(d.quarters) == 16
    # claim = opening balance + interest due = 437.5 + 6.5625 = 444.0625
    assert close(d.claim, 444.0625)
    # cash 23.98414: interest 6.5625, principal 17.42164; seizure 1000 x (1 - 16/40) x 0.5 = 300
    # applied to the 420.07836 still owed; received 323.98414; nothing to equity
    assert close(q16.recovery_interest, 6.5625) and close(q16.recovery_principal_cash, 17.42164)
    assert close(q16.seizure, 300.0) and close(q16.seizure_applied, 300.0)
    assert close(d.received, 323.98414) and q16.equity_distribution == 0.0
    # recovery rate = 323.98414 / 444.0625 = 0.72959131; loss = 444.0625 - 323.98414 = 120.07836
    assert close(d.recovery_rate, 323.98414 / 444.0625) and close(d.recovery_rate, 0.7295913075299085)
    assert close(d.lender_loss, 120.07836)
    # min DSCR = q13 = 0.7333666; average over the 16 quarters q1..q16 (default quarter included):
    # DS_q = 28 - 0.2625 (q-1); CFADS 37 (q1-4), 37.8 (q5-8), 38.616 (q9-12), 18.22416 (q13-16)
    cfads = [37.0] * 4 + [37.8] * 4 + [38.616] * 4 + [18.22416] * 4
    avg = sum(c / (28.0 - 0.2625 * i) for i, c in enumerate(cfads)) / 16
    assert close(d.min_dscr, 18.22416 / 24.85) and close(d.avg_dscr, avg)
    # lender flows: -700, DS_q = 28 - 0.2625 (q-1) for q1..q15, then 323.98414 in q16
    lender = [-700.0] + [28.0 - 0.2625 * i for i in range(15)] + [323.98414]
    assert all(close(a, b) for a, b in zip(d.lender_flows, lender)) and len(d.lender_flows) == 17
    assert close(d.lender_irr, annualise(irr_bisect(lender)))
    # equity flows: -300, 0, 0, 0.575, 10.05, then CFADS_q - DS_{q+1} for q5..q12, then zero
    equity = [-300.0, 0.0, 0.0, 0.575, 10.05]
    equity += [c - (28.0 - 0.2625 * q) for q, c in zip(range(5, 13), cfads[4:12])]
    equity += [0.0] * 4
    assert all(close(a, b) for a, b in zip(d.equity_flows, equity)) and len(d.equity_flows) == 17
    assert close(d.equity_irr, annualise(irr_bisect(equity)))
    assert close(d.lender_irr, 0.00810662647502891) and close(d.equity_irr, -0.37251905563869514)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_transcription_conserves_cash(scenario):
    """The spec's identity on the transcription itself, quarter by quarter."""
    for x in hand(scenario).quarters:
        # revenue = opex + interest + principal + sweep + DSRA change + equity
        #           (+ seizure flows in a default quarter: lender gets the seizure value applied)
        uses = (x.opex + x.interest_paid + x.principal_paid + x.sweep + (x.dsra_close - x.dsra_open)
                + x.equity_distribution + x.recovery_interest + x.recovery_principal_cash
                + x.seizure_applied)
        assert abs(x.revenue + x.seizure - uses) <= TOL, x.q


# ======================================================================================
# Part 2: the engine against the transcription
# ======================================================================================
@pytest.fixture(scope="module")
def deal():
    import waterfall
    return waterfall.load_deal(str(DEAL_PATH))


_RUNS: dict = {}


def run(deal, scenario, engine):
    import waterfall
    key = (scenario, engine)
    if key not in _RUNS:
        if engine == "compiled":
            from waterfall import engine as eng
            if not eng.kernel_available():
                pytest.fail(f"compiled kernel not built: {eng.kernel_error()}")
        _RUNS[key] = waterfall.run(deal, scenario, engine=engine)
    return _RUNS[key]


def metrics_of(deal, scenario, engine) -> dict:
    return run(deal, scenario, engine).metrics


def ledger_of(deal, scenario, engine):
    return run(deal, scenario, engine).cash_flows()


def check_metrics(m: dict, d: Deal, label: str):
    for name in ("min_dscr", "avg_dscr", "lender_irr", "equity_irr"):
        assert close(m[name], getattr(d, name)), (label, name, m[name], getattr(d, name))
    assert m["default_period"] == d.default_quarter, (label, m["default_period"], d.default_quarter)
    assert close(m["lender_loss"], d.lender_loss), (label, m["lender_loss"], d.lender_loss)
    if d.default_quarter is None:
        assert m["recovery_rate"] is None, (label, m["recovery_rate"])
    else:
        assert close(m["recovery_rate"], d.recovery_rate), (label, m["recovery_rate"], d.recovery_rate)
        assert close(m["lender_claim"], d.claim), (label, m["lender_claim"], d.claim)
        assert close(m["lender_received"], d.received), (label, m["lender_received"], d.received)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_engine_metrics_match_transcription(deal, scenario, engine):
    m = metrics_of(deal, scenario, engine)
    check_metrics(m, hand(scenario), f"{scenario}/{engine}")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_engine_lines_match_transcription(deal, scenario, engine):
    cf = ledger_of(deal, scenario, engine)
    d = hand(scenario)
    assert len(cf) == N_QUARTERS + 1
    # quarter 0: 700 drawn + 300 equity pay the 1,000 asset
    assert close(cf.at[0, "senior.draw"], SENIOR) and close(cf.at[0, "equity_in"], EQUITY)
    assert close(cf.at[0, "capex"], ASSET_COST) and close(cf.at[0, "senior.balance_close"], SENIOR)
    assert close(cf.at[0, "dsra.balance_close"], 0.0)

    def eq(q, col, want):
        got = float(cf.at[q, col])
        assert abs(got - want) <= TOL * max(1.0, abs(want)), (scenario, engine, q, col, got, want)

    for x in d.quarters:
        q = x.q
        eq(q, "revenue", x.revenue)
        eq(q, "opex", x.opex)
        eq(q, "cfads", x.cfads)
        eq(q, "senior.balance_open", x.balance_open)
        eq(q, "senior.interest_due", x.interest_due)
        eq(q, "debt_service", x.debt_service)
        eq(q, "dsra.balance_open", x.dsra_open)
        eq(q, "dsra.balance_close", x.dsra_close)
        eq(q, "equity_distribution", x.equity_distribution)
        if x.dscr is not None:
            eq(q, "dscr", x.dscr)
        if not x.default:
            eq(q, "senior.interest_paid", x.interest_paid)
            eq(q, "senior.principal_paid", x.principal_paid)
            eq(q, "senior.prepayment", x.sweep)
            eq(q, "senior.balance_close", x.balance_close)
            eq(q, "event_of_default", 0.0)
        else:
            eq(q, "event_of_default", 1.0)
            # all the lender got for interest (cash), and for principal (cash + seizure)
            got_int = cf.at[q, "senior.interest_paid"] + cf.at[q, "senior.recovery_interest"]
            got_pr = (cf.at[q, "senior.principal_paid"] + cf.at[q, "senior.prepayment"]
                      + cf.at[q, "senior.recovery_principal"])
            assert close(got_int, x.recovery_interest), (scenario, engine, q, got_int)
            assert close(got_pr, x.recovery_principal_cash + x.seizure_applied), (scenario, engine, q, got_pr)
            eq(q, "seizure_net", x.seizure)
            eq(q, "senior.write_off", x.balance_close)   # what is still owed after the seizure
        # lender cash flow for the IRR
        lender = sum(float(cf.at[q, c]) for c in (
            "senior.interest_paid", "senior.principal_paid", "senior.prepayment",
            "senior.recovery_interest", "senior.recovery_principal"))
        assert close(lender, x.lender_cf), (scenario, engine, q, lender, x.lender_cf)
    # "The deal ends at q": nothing moves after a default quarter
    if d.default_quarter is not None:
        after = cf.loc[d.default_quarter + 1:]
        for col in ("revenue", "opex", "equity_distribution", "senior.interest_paid",
                    "senior.principal_paid", "senior.prepayment", "senior.balance_close",
                    "dsra.balance_close", "seizure_net"):
            assert (after[col].abs() <= TOL).all(), (scenario, engine, col)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_engine_conservation(deal, scenario, engine):
    """revenue = opex + interest + principal + sweep + DSRA change + equity distribution
    (+ seizure flows in a default quarter), every quarter, on the engine's own ledger."""
    cf = ledger_of(deal, scenario, engine)
    for q in range(1, N_QUARTERS + 1):
        row = cf.loc[q]
        sources = row["revenue"] + row["seizure_net"]
        uses = (row["opex"] + row["senior.interest_paid"] + row["senior.principal_paid"]
                + row["senior.prepayment"] + row["senior.recovery_interest"]
                + row["senior.recovery_principal"]
                + (row["dsra.balance_close"] - row["dsra.balance_open"])
                + row["equity_distribution"])
        assert abs(sources - uses) <= TOL, (scenario, engine, q, sources, uses)
        if row["event_of_default"] == 0:
            assert row["seizure_net"] == 0.0, (scenario, engine, q)
    row = cf.loc[0]
    assert abs(row["draws"] + row["equity_in"] - row["capex"]) <= TOL


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_engines_agree(deal, scenario):
    m_ref, cf_ref = metrics_of(deal, scenario, "reference"), ledger_of(deal, scenario, "reference")
    m_cmp, cf_cmp = metrics_of(deal, scenario, "compiled"), ledger_of(deal, scenario, "compiled")
    num = cf_ref.select_dtypes("number")
    assert ((num - cf_cmp[num.columns]).abs().fillna(0.0).to_numpy() <= TOL).all()
    for k, v in m_ref.items():
        if isinstance(v, float):
            assert close(m_cmp[k], v), k
        else:
            assert m_cmp[k] == v, k


@pytest.mark.parametrize("engine", [None, "reference"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_cli_json(scenario, engine):
    cmd = [sys.executable, "-m", "waterfall", "run", str(DEAL_PATH), "--scenario", scenario, "--json"]
    if engine:
        cmd += ["--engine", engine]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["scenario"] == scenario
    check_metrics(payload["metrics"], hand(scenario), f"cli {scenario}/{engine}")


if __name__ == "__main__":  # print the hand-derived tie-out
    for s in SCENARIOS:
        d = hand(s)
        print(f"{s}: default={d.default_quarter} claim={d.claim} received={d.received} "
              f"recovery={d.recovery_rate} loss={d.lender_loss} min_dscr={d.min_dscr} "
              f"avg_dscr={d.avg_dscr} lender_irr={d.lender_irr} equity_irr={d.equity_irr}")
