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
- The sale period (`best_sale`, under `sale_rule = "best_execution"`): the period from
  the acceleration to the stated time to sale whose value to the lenders is the highest
  (the net workout cash up to it and the net sale proceeds at it, discounted at the
  senior contract rate as recovery_rate_pv discounts); the earliest on a tie.
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
    market = program.market_rent * factor[ops.CH_MARKET_RENT]
    cap = program.exit_cap + factor[ops.CH_CAP_ADD]
    # a period's opex annualised: x periods a year (a stub: by its own length)
    market_noi = market - program.opex * factor[ops.CH_OPEX] * program.periods_a_year
    out = np.zeros(n + 1)
    # the residual at the horizon: the deal's own exit value where it states one (one
    # assumption for both), else the market net rent capitalised
    income = (program.exit_value_share * drc[n] if program.exit_value_share > 0.0
              else capitalised_value(market_noi[n], cap[n]))
    d = program.val_discount
    for t in range(n, -1, -1):
        if t < n:
            income = (projected_cfads[t + 1] + income) * d
        earning = program.base_rent[t] * factor[ops.CH_RENT, t] > 0.0
        if earning:
            value = income
        else:
            value = (capitalised_value(market_noi[t], cap[t]) * d ** program.relet_periods
                     - program.reletting_cost * market[t])
        value = max(value, program.replacement_floor * drc[t], 0.0)
        out[t] = drc[t] if t < program.cod_period else value
    return out


def net_sale(program: Program, gross: float) -> float:
    """What a sale at gross value `gross` realises after the fire-sale discount and the
    enforcement costs (never below zero), USD."""
    return max(0.0, gross * (1.0 - program.fire_sale) - program.cost_share * gross - program.cost_fixed)


def senior(program: Program) -> int:
    """The first rank-1 tranche (by rank, then order): its contract rate discounts the
    best-execution choice."""
    first = min(int(r) for r in program.rank)
    return min(k for k in range(program.n_tranches) if program.rank[k] == first)


def best_sale(program: Program, accel: int, per_rate: np.ndarray, projected_cfads: np.ndarray,
              sale_value: np.ndarray) -> int:
    """The sale period u in [accel, min(accel + sale_periods, T)] with the highest value
    to the lenders, discounted to the acceleration at the senior's per-period rate (the
    rule recovery_rate_pv uses): the workout's net cash of each period after the
    acceleration up to u (CFADS less workout costs; negative: a protective advance) plus
    the net sale proceeds at u (work in progress at the acceleration if it came before
    COD). The earliest period on a tie. The residual value guarantee is left out: it
    tops up a shortfall after the sale and does not change which sale is worth most."""
    last = min(accel + program.sale_periods, program.n_periods)
    k = senior(program)
    disc, cash = 1.0, 0.0
    best, best_at = -np.inf, accel
    for u in range(accel, last + 1):
        if u > accel:
            disc /= 1.0 + per_rate[k, u]
            cash += (projected_cfads[u] - program.workout_cost) * disc
        gross = sale_value[accel if accel < program.cod_period else u]
        score = cash + net_sale(program, gross) * disc
        if score > best:
            best, best_at = score, u
    return best_at


def capitalised_value(noi: float, cap: float) -> float:
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
