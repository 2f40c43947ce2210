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


def instrument_notice(deal, scenario) -> str | None:
    """A deal file that is an issuer's instrument in the entity graph (Oracle's notes, its
    programme, SoftBank's bridge), run under one of its own scenarios: say that this is the
    file's standalone view (a slice of the issuer's cash flow), not the issuer's default."""
    name = getattr(scenario, "name", str(scenario))
    if name == "base":
        return None
    from .contagion import load_graph
    from .errors import DealError

    try:
        graph = load_graph()
    except DealError:   # a broken entity graph is reported where the chain runs
        return None
    issuer = next((o.name for o in graph.obligors for i in o.instruments if i.deal == deal.name), None)
    if issuer is None:
        return None
    return (f"deal '{deal.name}' is an instrument of issuer {issuer}: scenario '{name}' runs its "
            f"standalone view (a slice of {issuer}'s cash flow in the deal file's template), not "
            f"{issuer}'s own default and recovery by class; for those run a stress preset "
            f"(`waterfall run {deal.name} --scenario PRESET`) or `waterfall portfolio`")


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
