"""Metric definitions, each once: DSCR summaries, LLCR/PLCR, lender and equity cash
flows (for IRR, see irr.py), WAL (reference.wal). The Cython kernel mirrors these.

- DSCR of a period = CFADS / scheduled debt service (cash interest + scheduled
  principal, a balloon at maturity excluded) of the covenant tranches, where debt
  service > 0. It is computed in the waterfall (reference.py, step 4) because the
  lock-up and default tests read it.
- min and average DSCR: over periods with debt service > 0, up to and including a
  default period; the average is the mean of the ratios, not a ratio of sums.
- LLCR: NPV of projected CFADS from COD to the last maturity of the covenant
  tranches, discounted at the first covenant tranche's per-period rate, over their
  opening balance at COD. PLCR: the same NPV to the end of the horizon.
- Lender cash flows: - draws + interest + principal + prepayments + recoveries.
  Equity cash flows: - equity in - sponsor support + distributions (incl. surplus).
"""
from __future__ import annotations

import math

import numpy as np

from . import ops
from .ops import G
from .program import Program

NAN = math.nan


def dscr_summary(dscr: np.ndarray, debt_service: np.ndarray) -> tuple[float, float]:
    """(min, mean) DSCR over periods with positive debt service; NaN if none."""
    values = [d for d, ds in zip(dscr, debt_service) if ds > 0.0]
    if not values:
        return NAN, NAN
    return float(min(values)), float(sum(values) / len(values))


def cover_ratio(program: Program, ledger: np.ndarray, per_rate: np.ndarray,
                projected_cfads: np.ndarray) -> tuple[float, float]:
    """(LLCR, PLCR) at COD; NaN if the deal ended before COD or owes nothing then."""
    p0 = program.cod_period
    if p0 > program.n_periods:
        return NAN, NAN
    covered = [k for k in range(program.n_tranches) if program.dscr_mask[k]]
    debt = sum(ledger[p0, ops.tranche_col(k, "balance_open")] for k in covered)
    if not covered or debt <= 0.0:
        return NAN, NAN
    senior = covered[0]
    last_maturity = max(int(program.maturity[k]) for k in covered)
    discount, npv_loan, npv_project = 1.0, 0.0, 0.0
    for t in range(p0, program.n_periods + 1):
        discount /= 1.0 + per_rate[senior, t]
        if t <= last_maturity:
            npv_loan += projected_cfads[t] * discount
        npv_project += projected_cfads[t] * discount
    return npv_loan / debt, npv_project / debt


def cash_flows(program: Program, ledger: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lender, equity) cash flows per period, USD, lenders' and sponsors' view."""
    lender = np.zeros(program.n_periods + 1)
    for k in range(program.n_tranches):
        lender -= ledger[:, ops.tranche_col(k, "draw")]
        for line in ("interest_paid", "principal_paid", "prepayment", "recovery_interest",
                     "recovery_principal"):
            lender += ledger[:, ops.tranche_col(k, line)]
    equity = (ledger[:, G["equity_distribution"]] - ledger[:, G["equity_in"]]
              - ledger[:, G["sponsor_support"]])
    return lender, equity
