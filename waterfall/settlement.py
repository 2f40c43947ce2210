"""After the chain: what the landlords and guaranteed lenders claim from each obligor,
and what they get.

- A tenant that **rejects** a lease in its own default owes the SPV a claim capped by
  11 U.S.C. 502(b)(6) (waterfall.claims): its damages (as below) when smaller, else
  capped at the rent of max(1 year, min(15% of the remaining rent, 3 years)). It ranks
  senior unsecured with the issuer's bonds and is paid at the estate's distribution,
  `emergence_months` after the default.
- A tenant that **walks** while solvent owes its damages in full (no cap outside
  bankruptcy): the present value (at `damages_discount_rate`) of the rent lost over the
  rest of the term less what re-letting earns, of which the landlord collects
  `walk_damages_share` (litigation, settlement). The walker pays it from its own cash
  on the walk date (waterfall.contagion); if that is more than it has, it defaults and
  the damages become a capped claim on its estate like any rejected lease.
- A **guarantor's** default cross-defaults the deals it guarantees; what their lenders
  lose after their own collateral is a senior unsecured claim on its estate.

What an SPV collects on these claims belongs to its lenders first (they hold the
SPV's rights under the lease as collateral): it reduces their loss, and any excess goes
to the sponsors. Rents are the deal's (USD millions); issuers count in USD billions.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .claims import Claim, lease_rejection_cap, lease_rejection_claim
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


def _mitigation(market, basis: dt.date, obligor, monthly: np.ndarray, when: dt.date) -> np.ndarray:
    """What re-letting earns each remaining month: nothing while dark, then the market
    level (the chain's curve) less the re-let haircut, times the scheduled rent."""
    years0 = (when - basis).days / 365.25
    months = np.arange(len(monthly))
    level = np.array([market(years0 + m / 12.0) for m in months])
    return monthly * (months >= obligor.relet_downtime_months) * level * (1.0 - obligor.relet_haircut)


def damages(market, basis: dt.date, obligor, monthly: np.ndarray, when: dt.date) -> tuple[float, float]:
    """(remaining rent, damages): the damages are the present value, at the obligor's
    `damages_discount_rate`, of the rent lost less what re-letting earns, month by month."""
    lost = monthly - _mitigation(market, basis, obligor, monthly, when)
    discount = (1.0 + obligor.damages_discount_rate) ** (-np.arange(len(monthly)) / 12.0)
    return float(monthly.sum()), float(max(0.0, (lost * discount).sum()))


def walk_damages(market, basis: dt.date, obligor, deal: Deal, when: dt.date, issuer_of) -> float:
    """What a tenant walking on `when` owes this deal's landlord (USD m, before the
    collected share): the damages on each of its leases in the deal."""
    from .contagion import deal_period

    period, total = deal_period(deal, when), 0.0
    if period > deal.timeline.n_periods:
        return 0.0
    for i, lease in enumerate(deal.leases):
        if issuer_of(lease) == obligor.name:
            total += damages(market, basis, obligor, _monthly_remaining(deal, i, period), when)[1]
    return total


def lease_claims(outcome: ChainOutcome, deal: Deal) -> list[LeaseClaim]:
    """The landlord's claims on this deal's leases, in USD millions, before payment."""
    obligors = {o.name: o for o in outcome.graph.obligors}
    out = []
    for ev in lease_events(outcome, deal):
        if ev.why == "continuation":
            continue
        monthly = _monthly_remaining(deal, ev.lease, ev.period)
        ob = obligors[ev.issuer]
        rent, owed = damages(outcome.market, outcome.graph.basis_date, ob, monthly, ev.date)
        mitigation = rent - owed
        claim = lease_rejection_claim(monthly, mitigation) if ev.why == "rejects" else owed
        out.append(LeaseClaim(deal.name, ev.lease, ev.tenant, ev.issuer, ev.why, ev.date, rent, mitigation, claim))
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
        issuer = outcome.entities[o.name].issuer
        issuer = None if issuer is None else issuer.unresolved_copy()
        resolved[o.name] = issuer
        if issuer is None or issuer.default_date is None:
            continue
        extra = [Claim(_name(c), c.claim / 1000.0, "senior_unsecured")
                 for cs in claims.values() for c in cs if c.issuer == o.name and c.kind == "rejects"]
        extra += _other_leases(outcome, o, issuer, claims)
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


def _other_leases(outcome: ChainOutcome, o, issuer, claims) -> list[Claim]:
    """The rejection claim on the obligor's leases not modelled as SPV deals: its
    `lease_payments` a month at a time for `other_leases_years` after default, capped as
    one lease, less the capped claims of its SPV leases (USD bn)."""
    if o.other_leases_years <= 0:
        return []
    from .contagion import curve

    pay = curve(o.lease_payments)
    months = int(round(o.other_leases_years * 12))
    monthly = np.array([pay(issuer.default_year + m / 12.0) / 12.0 for m in range(months)])
    itemised = sum(c.claim for cs in claims.values() for c in cs if c.issuer == o.name and c.kind == "rejects")
    rest = lease_rejection_cap(monthly) - itemised / 1000.0
    return [Claim("other leases", rest, "senior_unsecured")] if rest > 0 else []


def _name(c: LeaseClaim) -> str:
    return f"lease {c.deal}/{c.lease} ({c.tenant})"
