"""Enforcement as a lender lives it, in the reference interpreter: what the lenders
realise after they accelerate, period by period (the kernel's enforce/workout are its
twin; docs/credit.md explains each rule).

- Valuation at a sale in period t (`sale_values`): depreciated replacement cost (DRC)
  of the components; or an appraisal: while the asset earns rent, the income approach
  (PV at the appraisal rate of the scenario's projected CFADS after t, plus a residual at
  the horizon: the deal's exit value if it has an exit, else the market net rent
  capitalised at the exit cap rate); while it is dark,
  the market net rent capitalised, received after the re-letting downtime, less
  re-letting costs; with an optional floor of a share of DRC. Before commercial
  operation the value is the cost spent (work in progress).
- Allocation (`allocate`): recoveries go to the tranches and the hedge banks'
  termination claims by rank; claims of one rank share pro rata (a tranche's claim is
  its interest arrears and principal, applied interest first).
"""
from __future__ import annotations

import numpy as np

from . import ops
from .program import Program

from .steps.base import BORROWING_BASE, COVENANT, CROSS_DEFAULT, MATURITY, PAYMENT, TENANT

CAUSES = (None, "payment", "covenant", "tenant", "cross_default", "borrowing_base", "maturity")
CAUSE = {name: i for i, name in enumerate(CAUSES) if name}
assert [CAUSE[n] for n in CAUSES[1:]] == [PAYMENT, COVENANT, TENANT, CROSS_DEFAULT, BORROWING_BASE, MATURITY]


def sale_values(program: Program, factor: np.ndarray, projected_cfads: np.ndarray) -> np.ndarray:
    """Gross value [T+1] of the assets if sold at the end of period t, USD."""
    n = program.n_periods
    drc = np.zeros(n + 1)
    for c in range(len(ops.COMPONENTS)):
        drc += program.asset_value[c] * factor[ops.CH_VAL_LAND + c]
    if program.val_method == 0:
        return drc
    ppy = 12.0 / program.months_per_period
    market = program.market_rent * factor[ops.CH_MARKET_RENT]
    cap = program.exit_cap + factor[ops.CH_CAP_ADD]
    market_noi = market - program.opex * factor[ops.CH_OPEX] * ppy
    out = np.zeros(n + 1)
    # the residual at the horizon: the deal's own exit value where it states one (one
    # assumption for both), else the market net rent capitalised
    income = (program.exit_value_share * drc[n] if program.exit_value_share > 0.0
              else _capitalised(market_noi[n], cap[n]))
    d = program.val_discount
    for t in range(n, -1, -1):
        if t < n:
            income = (projected_cfads[t + 1] + income) * d
        earning = program.base_rent[t] * factor[ops.CH_RENT, t] > 0.0
        if earning:
            value = income
        else:
            value = (_capitalised(market_noi[t], cap[t]) * d ** program.relet_periods
                     - program.reletting_cost * market[t])
        value = max(value, program.replacement_floor * drc[t], 0.0)
        out[t] = drc[t] if t < program.cod_period else value
    return out


def _capitalised(noi: float, cap: float) -> float:
    """A net rent capitalised at a cap rate; nothing for a loss or a cap rate at or below 0."""
    return noi / cap if noi > 0.0 and cap > 0.0 else 0.0


def allocate(program: Program, pool: float, arrears: list, principal: list, hedge_claim=()):
    """Apply `pool` to the claims by rank, pro rata within a rank: the tranches' (interest
    arrears first, then principal) and the hedge banks' termination claims (`hedge_claim`
    [H], ranked by `program.hedge_rank`). A rank with one member takes the pool itself.
    Returns (to interest [K], to principal [K], to hedges [H], pool left)."""
    k_count, h_count = program.n_tranches, len(hedge_claim)
    to_int, to_prin, to_hedge = [0.0] * k_count, [0.0] * k_count, [0.0] * h_count
    ranks = [int(r) for r in program.rank] + [int(program.hedge_rank[h]) for h in range(h_count)]
    for rank in sorted(set(ranks)):
        tranches = [k for k in range(k_count) if ranks[k] == rank]
        hedges = [h for h in range(h_count) if ranks[k_count + h] == rank]
        if len(tranches) + len(hedges) == 1:   # sequential: the pool itself, interest then principal
            if hedges:
                h = hedges[0]
                to_hedge[h] = min(pool, hedge_claim[h])
                pool -= to_hedge[h]
                continue
            k = tranches[0]
            to_int[k] = min(pool, arrears[k])
            pool -= to_int[k]
            to_prin[k] = min(pool, principal[k])
            pool -= to_prin[k]
            continue
        owed = sum(arrears[k] + principal[k] for k in tranches) + sum(hedge_claim[h] for h in hedges)
        take = min(pool, owed)
        for k in tranches:
            share = take * ((arrears[k] + principal[k]) / owed) if owed > 0.0 else 0.0
            to_int[k] = min(share, arrears[k])
            to_prin[k] = min(share - to_int[k], principal[k])
            pool -= to_int[k] + to_prin[k]
        for h in hedges:
            to_hedge[h] = min(take * (hedge_claim[h] / owed) if owed > 0.0 else 0.0, hedge_claim[h])
            pool -= to_hedge[h]
    return to_int, to_prin, to_hedge, max(pool, 0.0)
