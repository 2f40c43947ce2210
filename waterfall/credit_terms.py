"""Compile a deal's credit terms (covenant consequences, sponsor support, workout and
valuation, seniority) into the Program's fields (see program.py)."""
from __future__ import annotations

import math

import numpy as np

from .model.deal import Deal

SUPPORT_KIND = {"none": 0, "capped": 1, "unlimited": 2}
SALE_RULE = {"stated": 0, "best_execution": 1}
DSCR_BASIS = {"point": 0, "trailing_12m": 1, "forward_12m": 2}   # Covenants.lock_up_basis, default_basis


def _valuation(deal: Deal, n: int, months: int) -> dict:
    val = deal.enforcement.valuation
    years = np.arange(n + 1) * months / 12.0
    market = 0.0 if val.market_rent is None else val.market_rent
    return dict(
        val_method=int(val.method == "appraisal"),
        val_discount=(1.0 + val.discount_rate) ** (-months / 12.0),
        exit_cap=val.exit_cap_rate,
        market_rent=market * (1.0 + val.market_rent_growth) ** years,
        relet_periods=math.ceil(val.relet_months / months),
        reletting_cost=val.reletting_cost_months / 12.0,
        replacement_floor=val.replacement_floor,
    )


def _hedge_ratio(cov, n: int) -> dict:
    """The hedge-ratio covenant's minimum (-1: none), its periods and whether a breach accelerates."""
    hr = cov.hedge_ratio
    if hr is None:
        return dict(hedge_ratio_min=-1.0, hedge_ratio_from=0, hedge_ratio_to=-1, hedge_ratio_accelerates=0)
    return dict(hedge_ratio_min=float(hr.minimum), hedge_ratio_from=int(hr.from_period),
                hedge_ratio_to=n if hr.to_period is None else min(int(hr.to_period), n),
                hedge_ratio_accelerates=int(hr.breach == "accelerate"))


def credit_terms(deal: Deal, n: int, months: int) -> dict:
    """Program fields for events, acceleration, the workout and the valuation."""
    cov, enf, support = deal.covenants, deal.enforcement, deal.sponsor_support
    cure = cov.equity_cure
    ranks = [t.rank if t.rank is not None else k + 1 for k, t in enumerate(deal.tranches)]
    return dict(
        rank=np.array(ranks, dtype=np.int64),
        support_kind=SUPPORT_KIND[support.kind], support_cap=float(support.cap),
        breach_accelerates=int(cov.dscr_breach == "accelerate"), accelerate_after=cov.accelerate_after,
        cure_max=0 if cure is None else cure.max_cures,
        cure_max_amount=-1.0 if cure is None or cure.max_amount is None else float(cure.max_amount),
        cure_until=-1 if cure is None else (n if cure.until_period is None else cure.until_period),
        lock_up_basis=DSCR_BASIS[cov.lock_up_basis], default_basis=DSCR_BASIS[cov.default_basis],
        dscr_window=max(1, 12 // months),
        **_hedge_ratio(cov, n),
        tenant_accelerates=int(cov.tenant_event == "accelerate"),
        cross_accelerates=int(cov.cross_default == "accelerate"),
        sale_periods=math.ceil(enf.months_to_sale / months),
        sale_rule=SALE_RULE[enf.sale_rule],
        workout_cost=enf.workout_costs * months / 12.0,
        default_margin=enf.default_margin,
        **_valuation(deal, n, months),
    )
