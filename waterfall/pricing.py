"""Tranche pricing from the waterfall's per-period lender cash flows.

A tranche's lender flows per period are receipts (interest paid, principal paid,
prepayments, recoveries of interest and principal) less draws. Discounting is on the
deal's base-rate curve plus a discount margin (DM), period by period with the
tranche's accrual fractions: DF_t = prod_{s=1..t} 1 / (1 + (base_s + DM) x accrual_s).
Price is per 100 of the amount drawn: 100 x PV(receipts) / PV(draws). A floating
tranche without defaults priced at DM = its spread is at par (a fixed one at
DM = coupon - base). Yield is the nominal annual rate, compounded once a period, at
which the receipts' present value equals price/100 x the draws (the period convention
the DM is quoted in); the date-based yield (`yield_act365`) is the effective annual
rate on the actual payment dates, ACT/365F from financial close (irr.xirr, the
engine's lender_xirr convention); spread duration is -(dP/dDM)/P in years, by a
central difference of +-1 bp.
"""
from __future__ import annotations

import math

import numpy as np

from . import ops
from .irr import irr, xirr

BP = 1e-4
RECEIPTS = ("interest_paid", "principal_paid", "prepayment", "recovery_interest", "recovery_principal")


def tranche_index(program, tranche) -> int:
    names = program.names["tranches"]
    if isinstance(tranche, int):
        return tranche
    if tranche not in names:
        raise KeyError(f"no tranche '{tranche}' (known: {', '.join(names)})")
    return names.index(tranche)


def lender_flows(ledger: np.ndarray, program, tranche) -> tuple[np.ndarray, np.ndarray]:
    """(receipts, draws) per period of one tranche from a ledger [T+1, L] or a stack of
    ledgers [S, T+1, L] (then [S, T+1] each)."""
    k = tranche_index(program, tranche)
    receipts = sum(ledger[..., ops.tranche_col(k, line)] for line in RECEIPTS)
    return receipts, ledger[..., ops.tranche_col(k, "draw")]


def flows_from_frame(cash_flows, tranche: str) -> tuple[np.ndarray, np.ndarray]:
    """(receipts, draws) from `Result.cash_flows()` columns '<tranche>.<line>'."""
    receipts = sum(cash_flows[f"{tranche}.{line}"].to_numpy(float) for line in RECEIPTS)
    return receipts, cash_flows[f"{tranche}.draw"].to_numpy(float)


def discount_factors(program, tranche, dm) -> np.ndarray:
    """[T+1] (or [len(dm), T+1] for an array of DMs) discount factors, DF_0 = 1."""
    k = tranche_index(program, tranche)
    dm = np.asarray(dm, dtype=float)
    rate = program.base_rate[None, :] + dm.reshape(-1, 1)
    growth = 1.0 + rate * program.accrual[k][None, :]
    growth[:, 0] = 1.0
    df = 1.0 / np.cumprod(growth, axis=1)
    return df[0] if dm.ndim == 0 else df


def price_flows(receipts, draws, df) -> np.ndarray:
    """Price per 100 drawn; receipts/draws [..., T+1], df [T+1]."""
    pv_in = (np.asarray(receipts) * df).sum(axis=-1)
    pv_out = (np.asarray(draws) * df).sum(axis=-1)
    return 100.0 * pv_in / pv_out


def _solve(f, lo, hi, tol=1e-12, iters=200):
    f_lo, f_hi = f(lo), f(hi)
    if math.isnan(f_lo) or math.isnan(f_hi) or (f_lo > 0) == (f_hi > 0):
        return math.nan
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        if f_mid == 0 or hi - lo < tol:
            return mid
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


class TrancheFlows:
    """One tranche's flows under one scenario, with the deal's curve and accruals."""

    def __init__(self, program, tranche, receipts, draws):
        self.program = program
        self.k = tranche_index(program, tranche)
        self.name = program.names["tranches"][self.k]
        self.receipts = np.asarray(receipts, float)
        self.draws = np.asarray(draws, float)

    @classmethod
    def from_result(cls, result, tranche):
        receipts, draws = lender_flows(result.ledger, result.program, tranche)
        return cls(result.program, tranche, receipts, draws)

    def price(self, dm: float) -> float:
        return float(price_flows(self.receipts, self.draws, discount_factors(self.program, self.k, dm)))

    def discount_margin(self, price: float, lo: float = -0.5, hi: float = 5.0) -> float:
        return _solve(lambda dm: self.price(dm) - price, lo, hi)

    def yield_(self, price: float) -> float:
        """Nominal annual yield (compounded per period) at `price`."""
        pv_draws_at_price = price / 100.0
        first = int(np.nonzero(self.draws)[0].min()) if self.draws.any() else 0
        # all draws valued at the purchase date (the first draw) at the yield: solve directly
        ppy = 12.0 / self.program.months_per_period

        def f(y):
            v = 1.0 / (1.0 + y / ppy)
            t = np.arange(len(self.receipts)) - first
            d = v ** t
            return (self.receipts * d).sum() - pv_draws_at_price * (self.draws * d).sum()
        if not self.draws.any():
            return math.nan
        if len(self.draws.nonzero()[0]) == 1:  # one draw: a plain IRR
            cf = self.receipts.copy()
            cf[first] -= pv_draws_at_price * self.draws[first]
            r = irr(cf[first:])
            return math.nan if math.isnan(r) else r * ppy
        return _solve(f, -0.99 * ppy, 10.0 * ppy)

    def yield_act365(self, price: float) -> float:
        """Effective annual yield on the actual payment dates (ACT/365F from financial
        close): the XIRR of the receipts less price/100 x the draws; NaN without a root."""
        return xirr(self.receipts - price / 100.0 * self.draws, self.program.flow_years)

    principal = None  # principal repaid per period (set by _flows), for WAL

    def wal(self) -> float:
        """Weighted-average life in years from financial close (principal repaid)."""
        return self._wal(np.arange(len(self.receipts)) * self.program.months_per_period / 12.0)

    def _wal(self, years):
        principal = self.principal
        if principal is None or principal.sum() <= 0:
            return math.nan
        return float((years * principal).sum() / principal.sum())

    def spread_duration(self, dm: float) -> float:
        p = self.price(dm)
        up, down = self.price(dm + BP), self.price(dm - BP)
        return -(up - down) / (2 * BP) / p


def _flows(result, tranche) -> TrancheFlows:
    flows = TrancheFlows.from_result(result, tranche)
    k = flows.k
    flows.principal = sum(result.ledger[:, ops.tranche_col(k, line)]
                          for line in ("principal_paid", "prepayment", "recovery_principal"))
    return flows


def analytics(deal, scenario=None, dm: float | dict | None = None, price: float | dict | None = None):
    """Per tranche of a deal under a scenario: price at a DM (or DM at a price), yield
    (per period, and effective annual on the actual dates), WAL and spread duration. dm/price: one number for every tranche, or {tranche: value}.
    With neither, tranches are priced at their own margin (spread for floating, coupon
    less the first base rate for fixed). A DataFrame with a row per tranche."""
    import pandas as pd

    from .engine import resolve_deal, run

    deal = resolve_deal(deal)
    result = run(deal, scenario)
    rows = []
    for tr in deal.tranches:
        f = _flows(result, tr.name)
        own = tr.rate.spread if tr.rate.kind == "floating" else tr.rate.annual - float(result.program.base_rate[0])
        if price is not None:
            p = price[tr.name] if isinstance(price, dict) else float(price)
            margin = f.discount_margin(p)
        else:
            margin = own if dm is None else (dm[tr.name] if isinstance(dm, dict) else float(dm))
            p = f.price(margin)
        rows.append({"tranche": tr.name, "price": p, "discount_margin": margin, "yield": f.yield_(p),
                     "yield_act365": f.yield_act365(p),
                     "wal_years": f._wal(np.arange(len(f.receipts)) * result.program.months_per_period / 12.0),
                     "spread_duration": f.spread_duration(margin) if not math.isnan(margin) else math.nan})
    return pd.DataFrame(rows)


def price(deal, tranche: str, dm: float, scenario=None) -> float:
    from .engine import run
    return _flows(run(deal, scenario), tranche).price(dm)


def discount_margin(deal, tranche: str, price: float, scenario=None) -> float:
    from .engine import run
    return _flows(run(deal, scenario), tranche).discount_margin(price)


def breakeven_spread(deal, tranche: str, vary: dict, samples: int, seed: int, target: float = 0.0,
                     scenario=None, low: float = 0.0, high: float = 0.25, tol: float = 1e-7,
                     correlations: dict | None = None, scan: int = 26) -> dict:
    """The spread (floating tranche; the coupon for a fixed one) at which the lender's
    expected price over a Monte Carlo set of scenarios, discounted at the base-rate
    curve + `target`, is par: E[PV(receipts)] = PV(draws). `vary` holds scenario-side
    distributions only (e.g. {'scenario.tenant_default.period': 'uniform:1:40', ...}).
    The first spread in [low, high] where the expected price reaches par (a scan of
    `scan` spreads, then bisection); NaN if none does (more spread can mean more
    defaults). Returns {'spread', 'expected_price_at_spread', 'samples', 'field'}."""
    import copy

    from .compile import compile_deal
    from .engine import resolve_deal, run_program
    from .load import deal_from_data
    from .sweeps.runner import plan_sweep

    deal = resolve_deal(deal)
    plan = plan_sweep(deal, vary, samples=samples, seed=seed, scenario=scenario, correlations=correlations)
    if any(p.side != "scenario" for p in plan.paths):
        raise ValueError("breakeven_spread varies scenario inputs only (the spread is what it solves)")
    batch = plan.batch(plan.inputs(0, plan.n_points))
    k = [t.name for t in deal.tranches].index(tranche)
    field = "spread" if deal.tranches[k].rate.kind == "floating" else "annual"

    def expected_price(s):
        d = copy.deepcopy(plan.deal_data)
        d["tranches"][k]["rate"][field] = float(s)
        program = compile_deal(deal_from_data(d, "breakeven"))
        led, _, _ = run_program(program, batch, ledgers=True)
        receipts, draws = lender_flows(led, program, k)
        df = discount_factors(program, k, target)
        return float(((receipts * df).sum(axis=1) / (draws * df).sum(axis=1)).mean() * 100.0)

    # More spread can mean more defaults, so the price is not monotone in the spread:
    # scan for the first crossing of par, then bisect inside it.
    grid = np.linspace(low, high, scan)
    prices = np.array([expected_price(s) for s in grid])
    above = prices >= 100.0
    spread = math.nan
    if above[0]:
        spread = float(low)
    else:
        hits = np.nonzero(above)[0]
        if len(hits):
            i = hits[0]
            spread = float(_solve(lambda s: expected_price(s) - 100.0, grid[i - 1], grid[i], tol=tol))
    return {"spread": spread, "field": field, "samples": samples,
            "expected_price_at_spread": expected_price(spread) if not math.isnan(spread) else math.nan}
