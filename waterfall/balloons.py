"""The balloon at each loan's maturity, as a lender sizing its refinancing reads it
(issue 12.3): the balloon as a share of the amount drawn, the tail (the lease left after
the maturity), and the loan-to-value and debt yield at the maturity.

Read from a run's ledger (numpy; the edges format it):
- balloon = the balance due at the maturity less that period's scheduled principal (what
  must be refinanced or repaid from elsewhere), USD;
- tail = periods from the maturity to the last period with contracted rent, in years;
- LTV = all the SPV's debt outstanding at the maturity / the appraised value at the maturity: the income approach on the run's
  own CFADS after the maturity (workout.sale_values with the deal's appraisal terms and no
  scenario shock to market rent or cap rate);
- debt yield = the CFADS of the 12 months after the maturity (annualised when fewer than
  12 months remain) / all the SPV's debt outstanding then: a refinancing lender sizes on the
  whole capital structure the asset carries, not on one tranche.
The maturity is the one the run reached: where extension options moved it, the period the
loan was refinanced. A loan that matures at the horizon's end, or is repaid before its
maturity, has no balloon.
"""
from __future__ import annotations

import numpy as np

from . import ops
from .ops import G
from .workout import sale_values


def _maturity_reached(program, ledger: np.ndarray, k: int) -> int:
    """The maturity at which the run met tranche k's balloon: the period it was refinanced
    (after any extension options the run exercised), else its initial maturity."""
    t0 = int(program.maturity[k])
    refinanced = np.nonzero(ledger[t0:, ops.tranche_col(k, "refinanced")] > ops.DUST)[0]
    return t0 + int(refinanced[0]) if refinanced.size else t0


def balloons(program, ledger: np.ndarray) -> list[dict]:
    """One dict per tranche with a balloon: name, period, balloon (USD), balloon_share
    (of the amount drawn), tail_years, debt and value (USD), ltv, debt_yield."""
    n, ppy = program.n_periods, 12 // program.months_per_period
    cfads = ledger[:, G["cfads"]]
    factor = np.ones((ops.N_CHANNELS, n + 1))
    for channel in ops.ADDITIVE_CHANNELS:
        factor[channel] = 0.0
    value = sale_values(program, factor, cfads)
    rent = np.nonzero(program.base_rent > 0.0)[0]
    lease_end = int(rent[-1]) if rent.size else 0
    out = []
    for k, name in enumerate(program.names["tranches"]):
        col = lambda line: ops.tranche_col(k, line)  # noqa: E731
        t = _maturity_reached(program, ledger, k)
        if t >= n:
            continue
        due = ledger[t, col("balance_open")] + ledger[t, col("draw")] + ledger[t, col("interest_capitalised")]
        balloon = due - min(program.sched[k, t], due)
        drawn = ledger[: t + 1, col("draw")].sum()
        if balloon <= ops.DUST or drawn <= 0.0:
            continue
        debt = sum(ledger[t, ops.tranche_col(j, "balance_open")] + ledger[t, ops.tranche_col(j, "draw")]
                   + ledger[t, ops.tranche_col(j, "interest_capitalised")] for j in range(program.n_tranches))
        window = cfads[t + 1: min(t + ppy, n) + 1]
        noi = window.sum() * ppy / max(len(window), 1)
        out.append(dict(name=name, period=t, balloon=float(balloon), balloon_share=float(balloon / drawn),
                        tail_years=max(lease_end - t, 0) / ppy,
                        debt=float(debt), value=float(value[t]),
                        ltv=debt / value[t] if value[t] > 0.0 else float("nan"),
                        debt_yield=noi / debt))
    return out
