"""Warnings for a run that would otherwise pass in silence: a stress preset whose effect
comes through the contagion chain (which a single-deal run does not apply), a lease
that runs past the deal's horizon (the rent after it is not modelled)."""
from __future__ import annotations

import numpy as np


def chain_notice(deal, scenario, result, engine: str = "auto") -> str | None:
    """For a preset that moves the contagion chain (`[chain]`): say that `run` does not
    apply the chain, and whether the preset's direct adjustments change this deal at all
    (its ledger compared with the base case's)."""
    if getattr(scenario, "chain", None) is None:
        return None
    from .engine import run

    base = run(deal, None, engine=engine)
    same = base.ledger.shape == result.ledger.shape and bool(
        np.array_equal(base.ledger, result.ledger, equal_nan=True))
    head = (f"preset '{scenario.name}' acts through the contagion chain ({_moves(scenario.chain)}), "
            f"which `waterfall run` does not apply")
    if same:
        return (f"{head}: its direct effect on deal '{deal.name}' is none, so these figures are "
                f"the base case's. Run `waterfall portfolio --scenario {scenario.name}` for its effect.")
    return (f"{head}: only its direct adjustments are applied here. Run "
            f"`waterfall portfolio --scenario {scenario.name}` for its full effect.")


def horizon_notices(deal) -> list[str]:
    """A lease whose initial term ends after the deal's last period is cut at the horizon."""
    t = deal.timeline
    horizon = t.n_periods * t.months_per_period
    out = []
    for i, lease in enumerate(deal.leases):
        start = ((lease.start_period or t.cod_period) - 1) * t.months_per_period
        end = start + lease.term_months
        if end > horizon:
            out.append(f"leases[{i}] ({lease.tenant}): the {lease.term_months}-month lease runs to month "
                       f"{end} after financial close, but the horizon ends at month {horizon} "
                       f"({t.n_periods} {t.period}s): the last {end - horizon} months of rent are not modelled")
    return out


CHAIN_WORDS = {"lab_revenue": "the AI lab's revenue", "lab_funding": "the AI lab's outside funding",
               "market_rent": "market rent for AI space: strategic default, re-letting",
               "other_cash_flow": "other entities' cash flow"}


def _moves(chain) -> str:
    """What a preset's chain moves, in words (the curves that are not flat at 1)."""
    moved = [words for name, words in CHAIN_WORDS.items()
             if (getattr(chain, name) if name == "other_cash_flow" else
                 any(v != 1.0 for _, v in getattr(chain, name)))]
    return ", ".join(moved) or "no curve moved"
