"""The scenario library: portable times, lease-level effects, structural changes, presets.

A scenario reaches the engine in three steps, all pure functions:

1. `resolve(scenario, deal)`: times given in months or years since financial close
   become the deal's periods (what falls beyond the horizon is dropped or clamped).
2. `apply_structural(deal, scenario) -> Deal`: construction delay, cost overrun and
   lease renewals change the deal itself; debt commitments and sculpted schedules stay
   as sized at close on the original deal.
3. `lower(deal, scenario)`: what acts on named tenants' leases becomes rent factors on
   the deal's total rent (`rent_multiplier` adjustments), so the kernel and the
   reference run it through their existing channels.

`prepare(deal, scenario) -> (deal, scenario)` does all three; `waterfall.run` and
`waterfall.run_batch` call it.
"""
from .lease import lease_runs, lower, matches_tenant
from .structural import apply_structural, is_structural
from .timing import localise, resolve


def prepare(deal, scenario):
    """(deal to compile, scenario to compile) for running `scenario` on `deal`."""
    scenario = localise(resolve(scenario, deal), deal)
    changed = apply_structural(deal, scenario)
    return changed, lower(changed, scenario)


__all__ = ["apply_structural", "is_structural", "lease_runs", "lower", "matches_tenant",
           "localise", "prepare", "resolve"]
