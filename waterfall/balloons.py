"""The balloon at each loan's maturity, as a lender sizing its refinancing reads it
(issue 12.3): the balloon as a share of the amount drawn, the tail (the lease left after
the maturity), and the loan-to-value and debt yield at the maturity.

Read from a run's ledger (numpy; the edges format it):
- balloon = the balance due at the maturity less that period's scheduled principal (what
  must be refinanced or repaid from elsewhere), USD;
- tail = periods from the maturity to the last period with contracted rent, in years;
- LTV = all the SPV's debt outstanding at the maturity / the appraised value at the
  maturity, and debt yield = NOI / that debt, both read as the refinancing lender reads
  them (refinancing.appraisal and refinancing.noi, one definition): on the rent in place
  at the maturity (the share of the scheduled rent the tenant pays then, from the run's
  revenue), not on the scenario's later path; the appraisal's other inputs (asset values,
  market rent, cap rate, costs) unshocked. NOI is the in-place CFADS of the 12 months
  after the maturity (annualised when fewer remain). A refinancing lender sizes on the
  whole capital structure the asset carries, not on one tranche.
The maturity is the one the run refinanced the loan at (after any extension options it
exercised), else the contractual one. A loan that matures at the horizon's end, or is
repaid before its maturity, has no balloon.
"""
from __future__ import annotations

import numpy as np

from . import ops
from .ops import G
from .refinancing import appraisal
from .refinancing import noi as refinancing_noi


def in_place_factors(program, ledger: np.ndarray) -> np.ndarray:
    """Scenario factors as a run's ledger shows the rent in place: the rent channel at
    each period's paid share of the scheduled rent (revenue / scheduled rent; 0 where
    none is scheduled), every other channel neutral (1, additive 0)."""
    n = program.n_periods
    factor = np.ones((ops.N_CHANNELS, n + 1))
    for channel in ops.ADDITIVE_CHANNELS:
        factor[channel] = 0.0
    rent = program.base_rent
    scheduled = rent > 0.0
    factor[ops.CH_RENT] = np.where(scheduled, ledger[:, G["revenue"]] / np.where(scheduled, rent, 1.0), 0.0)
    return factor


def maturity_reached(program, ledger: np.ndarray, k: int) -> int:
    """The maturity tranche k's balloon is refinanced at: the first period from its
    contractual maturity on where the run refinanced it (after the extension options it
    exercised), else the contractual maturity (its balloon due there)."""
    t = int(program.maturity[k])
    done = np.nonzero(ledger[t:, ops.tranche_col(k, "refinanced")] > ops.DUST)[0]
    return t + int(done[0]) if done.size else t


def balloons(program, ledger: np.ndarray) -> list[dict]:
    """One dict per tranche with a balloon: name, period, balloon (USD), balloon_share
    (of the amount drawn), tail_years, debt and value (USD), ltv, debt_yield."""
    n, ppy = program.n_periods, 12 // program.months_per_period
    factor = in_place_factors(program, ledger)
    rent = np.nonzero(program.base_rent > 0.0)[0]
    lease_end = int(rent[-1]) if rent.size else 0
    out = []
    for k, name in enumerate(program.names["tranches"]):
        col = lambda line: ops.tranche_col(k, line)  # noqa: E731
        t = maturity_reached(program, ledger, k)
        if t >= n:
            continue
        due = ledger[t, col("balance_open")] + ledger[t, col("draw")] + ledger[t, col("interest_capitalised")]
        balloon = due - min(program.sched[k, t], due)
        drawn = ledger[: t + 1, col("draw")].sum()
        if balloon <= ops.DUST or drawn <= 0.0:
            continue
        debt = sum(ledger[t, ops.tranche_col(j, "balance_open")] + ledger[t, ops.tranche_col(j, "draw")]
                   + ledger[t, ops.tranche_col(j, "interest_capitalised")] for j in range(program.n_tranches))
        value, noi = appraisal(program, t, factor), refinancing_noi(program, t, factor)
        out.append(dict(name=name, period=t, balloon=float(balloon), balloon_share=float(balloon / drawn),
                        tail_years=max(lease_end - t, 0) / ppy,
                        debt=float(debt), value=float(value),
                        ltv=debt / value if value > 0.0 else float("nan"),
                        debt_yield=noi / debt))
    return out
