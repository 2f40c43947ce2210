"""After the chain: what the landlords and guaranteed lenders claim from each obligor,
and what they get.

- A tenant that **rejects** a lease in its own default owes the SPV a claim capped by
  11 U.S.C. 502(b)(6) (waterfall.claims): the rent lost less what re-letting earns,
  capped at the rent of max(1 year, min(15% of the remaining rent, 3 years)). It ranks
  senior unsecured with the issuer's bonds and is paid at the estate's distribution,
  `emergence_months` after the default.
- A tenant that **walks** while solvent owes its damages in full (no cap outside
  bankruptcy): the rent lost over the rest of the term less what re-letting earns,
  of which the landlord collects `walk_damages_share` (litigation, settlement).
- A **guarantor's** default cross-defaults the deals it guarantees; what their lenders
  lose after their own collateral is a senior unsecured claim on its estate.

What an SPV collects on these claims belongs to its lenders first (they hold the
SPV's rights under the lease as collateral): it reduces their loss, and any excess goes
to the sponsors. Rents are the deal's (USD millions); issuers count in USD billions.
"""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

import numpy as np

from .claims import Claim, lease_rejection_claim
from .contagion import ChainOutcome, lease_events
from .issuers import add_months, resolve_default
from .model.deal import Deal
from .schedules import rent_schedule


@dataclass
class LeaseClaim:
    """A landlord's claim on one lease: `kind` rejection (capped, paid at the issuer's
    recovery rate) or damages (a solvent walker's, paid at the collected share)."""

    deal: str
    lease: int
    tenant: str
    issuer: str
    kind: str
    date: dt.date
    remaining_rent: float
    mitigation: float
    claim: float
    recovered: float = 0.0
    paid_on: dt.date | None = None


def _monthly_remaining(deal: Deal, lease_index: int, period: int) -> np.ndarray:
    """The lease's scheduled rent a month at a time from the start of `period` on."""
    tl = deal.timeline
    lease = deal.leases[lease_index]
    rent = rent_schedule(lease, tl.n_periods, tl.months_per_period, tl.cod_period)[period:]
    return np.repeat(rent / tl.months_per_period, tl.months_per_period)


def _mitigation(outcome: ChainOutcome, obligor, monthly: np.ndarray, when: dt.date) -> float:
    """What re-letting earns over the remaining months: nothing while dark, then the
    market level less the re-let haircut (the chain's market curve)."""
    years0 = (when - outcome.graph.basis_date).days / 365.25
    months = np.arange(len(monthly))
    level = np.array([outcome.market(years0 + m / 12.0) for m in months])
    relet = (months >= obligor.relet_downtime_months) * level * (1.0 - obligor.relet_haircut)
    return float((monthly * relet).sum())


def lease_claims(outcome: ChainOutcome, deal: Deal) -> list[LeaseClaim]:
    """The landlord's claims on this deal's leases, in USD millions, before payment."""
    obligors = {o.name: o for o in outcome.graph.obligors}
    out = []
    for ev in lease_events(outcome, deal):
        if ev.why == "continuation":
            continue
        monthly = _monthly_remaining(deal, ev.lease, ev.period)
        mitigation = _mitigation(outcome, obligors[ev.issuer], monthly, ev.date)
        if ev.why == "rejects":
            claim = lease_rejection_claim(monthly, mitigation)
        else:
            claim = max(0.0, float(monthly.sum()) - mitigation)
        out.append(LeaseClaim(deal.name, ev.lease, ev.tenant, ev.issuer, ev.why, ev.date, float(monthly.sum()),
                              mitigation, claim))
    return out


def settle(outcome: ChainOutcome, deals: dict[str, Deal], guarantee_losses: dict[str, float]):
    """Resolve every defaulted obligor's estate with its lease-rejection and guarantee
    claims; pay each landlord's claim. Returns ({deal: [LeaseClaim]} with `recovered`
    set, USD millions; {obligor: its resolved IssuerOutcome}), leaving `outcome` as it
    was. `guarantee_losses`: the lenders' loss (USD m) on each guaranteed deal."""
    graph = outcome.graph
    obligors = {o.name: o for o in graph.obligors}
    linked = [d.deal for d in graph.deals if d.deal in deals and deals[d.deal].deal.kind != "corporate"]
    claims = {name: lease_claims(outcome, deals[name]) for name in linked}
    resolved = {}
    for o in graph.obligors:
        issuer = copy.deepcopy(outcome.entities[o.name].issuer)
        resolved[o.name] = issuer
        if issuer is None or issuer.default_date is None:
            continue
        extra = [Claim(_name(c), c.claim / 1000.0, "senior_unsecured")
                 for cs in claims.values() for c in cs if c.issuer == o.name and c.kind == "rejects"]
        extra += [Claim(f"guarantee of {name}", guarantee_losses.get(name, 0.0) / 1000.0, "senior_unsecured")
                  for name in o.guarantees if guarantee_losses.get(name, 0.0) > 0]
        resolve_default(issuer, o.distress_value_multiple, extra)
    for cs in claims.values():
        for c in cs:
            o = obligors[c.issuer]
            if c.kind == "rejects":
                c.recovered = resolved[c.issuer].recoveries[_name(c)] * 1000.0
                c.paid_on = add_months(c.date, o.emergence_months)
            else:
                c.recovered, c.paid_on = c.claim * o.walk_damages_share, c.date
    return claims, resolved


def _name(c: LeaseClaim) -> str:
    return f"lease {c.deal}/{c.lease} ({c.tenant})"
