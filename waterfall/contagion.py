"""The contagion chain: AI lab -> compute providers -> SPVs and corporate loans ->
lenders and sponsors.

The entity graph (scenarios/entities.toml, validated like a deal file) says, a year at a
time from its basis date and in USD billions: the lab's revenue and outside funding
against what it has committed to each provider; each obligor's (provider's, holdco's)
other cash flow, capex, own debt service, lease payments and new funding; which deal
leases each entity pays (matched by tenant name, see scenarios.matches_tenant).

Year by year:

1. The lab has cash + revenue x (1 - other_costs_share) + funding; it owes the sum of
   its commitments. It pays each provider the same share of what it owes
   (pay ratio = min(1, available / owed)); what it does not spend is carried.
2. Each obligor receives commitment x pay ratio, plus its other cash flow and, while
   the lab pays in full (or if its funding does not hang on the lab), its new funding;
   it pays capex (cut by `capex_flex` x the lab's shortfall), debt service and leases.
   When its cash goes below zero it defaults, at the point in the year its cash runs
   out: every lease it pays ends (`termination`, re-let at the market level after its
   downtime) or goes on at the share of its outgoings it can still meet
   (`continuation`).
3. Strategic default: a tenant with a threshold walks away from its leases from the
   first month the market rent is below contract by more than the threshold (re-let
   at the market level less its haircut, after its downtime).
4. A lease the lab pays directly is paid at the lab's pay ratio each year.
5. Once the lab pays less than `refinancing_closes_below` of what it owes, the
   refinancing market is closed from then on for every linked deal with a lease paid
   by the lab or by a provider it owes. Strategic default applies to SPV leases only.

Each deal's outcome is a Scenario (in its own periods): the preset's direct
adjustments, then the chain's. Running the deal under it is what `waterfall run` does.
"""
from __future__ import annotations

from .paths import data_dir

import bisect
import functools
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Optional

import numpy as np
from pydantic import Field, model_validator

from .errors import DealError
from .model.base import Finite, Fraction, NonNegative, Part
from .model.deal import Deal
from .model.scenario import ChainShock, Scenario
from .issuers import STEP_YEARS, Flows, Instrument, IssuerOutcome, MarketAccess, add_months, instrument_lives, simulate

ENTITIES_FILE = data_dir("scenarios") / "entities.toml"
YEARS = 40

Points = list[tuple[Annotated[int, Field(ge=0)], Finite]]


class Lab(Part):
    """The AI lab: revenue and outside funding paths (year -> USD bn a year)."""

    name: str = Field(min_length=1)
    tenants: list[str] = Field(default_factory=list)
    revenue: Points = Field(min_length=1)
    funding: Points = Field(default_factory=lambda: [(0, 0.0)], min_length=1)
    other_costs_share: Fraction = 0.0
    cash: NonNegative = 0.0
    priority: list[str] = Field(default_factory=list)
    """Providers the lab pays in full first when it is short, in this order; the rest
    share what is left pro rata (empty: every provider gets the same share)."""
    default_probability: Optional[DefaultProbability] = None
    """Its annual PD when the portfolio simulation draws its default (the root of the
    chain: from its default date it pays its providers nothing)."""


class Obligor(Part):
    """A compute provider or holding company whose cash flows decide whether it keeps
    paying the deal leases it is tenant (or borrower) of."""

    name: str = Field(min_length=1)
    kind: Literal["provider", "holdco", "corporate"] = "provider"
    tenants: list[str] = Field(min_length=1)
    lab_commitments: Points = Field(default_factory=lambda: [(0, 0.0)], min_length=1)
    other_cash_flow: Points = Field(default_factory=lambda: [(0, 0.0)], min_length=1)
    capex: Points = Field(default_factory=lambda: [(0, 0.0)], min_length=1)
    capex_flex: Fraction = 0.0
    debt_service: Points = Field(default_factory=lambda: [(0, 0.0)], min_length=1)
    lease_payments: Points = Field(default_factory=lambda: [(0, 0.0)], min_length=1)
    new_funding: Points = Field(default_factory=lambda: [(0, 0.0)], min_length=1)
    funding_needs_healthy_lab: bool = True
    cash: NonNegative = 0.0
    on_default: Literal["termination", "continuation"] = "termination"
    strategic_threshold: Optional[Fraction] = None
    relet_haircut: Fraction = 0.3
    relet_downtime_months: Annotated[int, Field(ge=0)] = 12
    instruments: list[Instrument] = Field(default_factory=list)
    """Its debt stack (waterfall.issuers): every instrument cross-accelerates at its default."""
    revolver: NonNegative = 0.0
    """Undrawn committed revolver (USD bn), drawn when cash runs short."""
    saleable_assets: NonNegative = 0.0
    """Assets it can sell when cash and revolver run short (USD bn): a holdco's listed
    stakes not pledged. The estate's value (distress_value_multiple) already counts them."""
    market: MarketAccess = Field(default_factory=MarketAccess)
    distress_value_multiple: NonNegative = 6.0
    """Distributable value at default as a multiple of its annual operating cash flow:
    its other cash flow plus `lab_contract_margin` of what the lab pays it."""
    lab_cost_share: Fraction = 0.0
    """Cash cost of serving the lab's contracts (power and operations, which triple-net
    leases leave to the tenant) as a share of what the lab pays; capex and lease rent
    are counted on their own."""
    lab_contract_margin: Fraction = 0.15
    """Cash margin on the lab's payments after the cost of serving them (the value of the
    lab contracts to a buyer of the estate)."""
    guarantees: list[str] = Field(default_factory=list)
    """Deals whose debt it guarantees: its default cross-defaults them, and their lenders'
    shortfall is a senior unsecured claim on its estate."""
    walk_damages_share: Fraction = 1.0
    """Share of the damages a solvent tenant owes for walking from a lease (rent lost less
    what re-letting earns, over the rest of the term) that the landlord collects."""
    default_probability: Optional[DefaultProbability] = None
    """Its annual PD for the portfolio simulation (with its source and date)."""
    emergence_months: Annotated[int, Field(ge=0, le=120)] = 18
    """Months from default to the estate's distribution (when claims are paid)."""
    other_leases_years: Annotated[float, Field(ge=0, le=40)] = 0.0
    """Years its `lease_payments` run on after a default: the leases not itemised as SPV
    deals give a capped rejection claim on that rent (0: no such claim)."""
    damages_discount_rate: Annotated[float, Field(ge=0, le=0.5)] = 0.06
    """Annual rate discounting a landlord's damages (rent lost less re-letting) to the
    walk or default date."""
    holdings: Points = Field(default_factory=lambda: [(0, 0.0)], min_length=1)
    """Value of the listed holdings its lenders look to, other than its stake in the lab
    (USD bn, year -> value): with `market.max_ltv`, the LTV test's assets with `lab_stake`."""
    lab_stake: Points = Field(default_factory=lambda: [(0, 0.0)], min_length=1)
    """Value of its stake in the lab at the base-case mark (USD bn, year -> value)."""
    lab_stake_markdown: Annotated[float, Field(ge=0, le=20)] = 0.0
    """Share of the lab stake's value lost per unit of the lab's shortfall (1 - its pay
    ratio that year): the stake is worth lab_stake x max(0, 1 - markdown x shortfall)."""
    holdings_sale_discount: Fraction = 0.3
    """With `market.max_ltv`: a defaulted holdco's estate is its holdings and lab stake
    (less the stakes already sold) sold at this discount, plus its cash, not a multiple
    of its cash flow."""
    """Months from default to the estate's distribution (when claims are paid)."""


class DefaultProbability(Part):
    """An obligor's annual default probability (0 < annual < 1) with where it comes from:
    `cds` (hazard = spread / (1 - recovery), annual = 1 - exp(-hazard)), `rating` (a
    rating agency's default rate for its rating) or `assumption`."""

    annual: Annotated[float, Field(gt=0, lt=1)]
    method: Literal["cds", "rating", "assumption"]
    source: str = Field(min_length=1)
    date: dt.date


class Simulation(Part):
    """Correlated defaults of the named obligors for `waterfall portfolio --simulate`:
    a Gaussian (or Student-t, `dof` degrees of freedom) copula with `correlation`
    between their latent variables (an ASSUMPTION: no market gives it)."""

    obligors: list[str] = Field(min_length=1)
    correlation: list[list[Annotated[float, Field(ge=-1, le=1)]]]
    copula: Literal["gaussian", "student_t"] = "gaussian"
    dof: Annotated[float, Field(gt=2, le=1000)] = 5.0
    horizon_years: Annotated[int, Field(ge=1, le=30)] = 10
    note: str = ""

    @model_validator(mode="after")
    def _matrix(self):
        n = len(self.obligors)
        if len(set(self.obligors)) != n:
            raise ValueError("simulation.obligors must be distinct")
        if len(self.correlation) != n or any(len(row) != n for row in self.correlation):
            raise ValueError(f"correlation must be {n} x {n} (one row and column per obligor)")
        m = np.array(self.correlation, dtype=float)
        if not np.allclose(m, m.T, atol=1e-12) or not np.allclose(np.diag(m), 1.0, atol=1e-12):
            raise ValueError("correlation must be symmetric with ones on the diagonal")
        low = float(np.linalg.eigvalsh(m).min())
        if low < -1e-10:
            raise ValueError(f"correlation is not positive semi-definite (smallest eigenvalue {low:.4g})")
        return self


class DealLink(Part):
    """A deal in the graph (its leases are matched to entities by tenant name)."""

    deal: str = Field(min_length=1)
    note: str = ""
    scope: Literal["headline", "comparable", "prospective"] = "headline"
    """`headline`: in the ~$100B the source analysis counts; `comparable`: a like deal
    outside the lab's chain (Meta Hyperion); `prospective`: borrowing not yet done (the
    Oracle programme). Every table subtotals each."""


class Graph(Part):
    name: str = "entity graph"
    basis_date: dt.date
    units: Literal["USD billions"] = "USD billions"
    lab: Lab
    obligors: list[Obligor] = Field(default_factory=list)
    deals: list[DealLink] = Field(default_factory=list)
    refinancing_closes_below: Fraction = 0.95
    refinancing_margin_link: Fraction = 0.0
    """The share of a tenant issuer's credit-spread widening (its market's new-issue spread
    over its base `market.spread`: leverage above 3x, the lab's shortfall) added to the
    refinancing margin (`refinancing_spread`) of a linked SPV deal it pays rent to, in the
    quarters it is wide: a lease-backed lender prices the tenant's credit. 0: not linked;
    a value set is an assumption (docs/issuers.md)."""
    headline_debt: NonNegative = 100.0
    notes: list[str] = Field(default_factory=list)
    simulation: Optional[Simulation] = None

    @model_validator(mode="after")
    def _names(self):
        names = [self.lab.name] + [o.name for o in self.obligors]
        if len(set(names)) != len(names):
            raise ValueError("entity names must be unique (lab and obligors)")
        deals = [d.deal for d in self.deals]
        if len(set(deals)) != len(deals):
            raise ValueError("each deal may be linked once in deals")
        if self.simulation is not None:
            pds = {self.lab.name: self.lab.default_probability}
            pds.update({o.name: o.default_probability for o in self.obligors})
            for name in self.simulation.obligors:
                if name not in pds:
                    raise ValueError(f"simulation.obligors names no obligor: {name!r} (known: {', '.join(pds)})")
                if pds[name] is None:
                    raise ValueError(f"simulation.obligors: {name!r} has no default_probability")
        return self


def load_graph(path: str | Path = ENTITIES_FILE) -> Graph:
    from .load import read_document, validate

    return validate(Graph, read_document(path), str(path))


def check_graph(graph: Graph, deals: dict[str, Deal]) -> list:
    """Problems linking the graph to the deals, as (field, message, value): a deal, an
    instrument's deal or tranche, or a guaranteed deal that does not exist; a linked
    deal's lease naming an issuer the graph does not have; a cycle of guarantees (A
    stands behind debt of B, which stands behind debt of A). ChainShock curves naming
    unknown entities are reported by run_chain."""
    known = ", ".join(sorted(deals))
    names = {graph.lab.name} | {o.name for o in graph.obligors}
    out = [(f"deals[{i}].deal", f"no such deal (known: {known})", link.deal)
           for i, link in enumerate(graph.deals) if link.deal not in deals]
    providers = {o.name for o in graph.obligors}
    out += [(f"lab.priority[{i}]", f"no such obligor (known: {', '.join(sorted(providers))})", name)
            for i, name in enumerate(graph.lab.priority) if name not in providers]
    for j, o in enumerate(graph.obligors):
        for k, inst in enumerate(o.instruments):
            where = f"obligors[{j}].instruments[{k}]"
            if inst.deal is not None and inst.deal not in deals:
                out.append((f"{where}.deal", f"no such deal (known: {known})", inst.deal))
            elif inst.tranche is not None and inst.tranche not in {t.name for t in deals[inst.deal].tranches}:
                out.append((f"{where}.tranche", f"no such tranche in deal '{inst.deal}'", inst.tranche))
        out += [(f"obligors[{j}].guarantees[{k}]", f"no such deal (known: {known})", name)
                for k, name in enumerate(o.guarantees) if name not in deals]
    for i, link in enumerate(graph.deals):
        for m, lease in enumerate(deals[link.deal].leases if link.deal in deals else []):
            if lease.issuer is not None and lease.issuer not in names:
                out.append((f"deals[{i}].deal", f"deal '{link.deal}' leases[{m}].issuer names no entity of the graph "
                            f"(known: {', '.join(sorted(names))})", lease.issuer))
    cycle = _guarantee_cycle(graph, deals)
    if cycle:
        out.append(("obligors.guarantees", "guarantees form a cycle: " + " -> ".join(cycle), cycle[0]))
    return out


def _guarantee_cycle(graph: Graph, deals: dict[str, Deal]) -> list[str] | None:
    """A cycle A -> B -> ... -> A where A guarantees a deal that is B's debt (B issues it
    as an instrument, or owes its leases); None if there is none."""
    owner = {i.deal: o.name for o in graph.obligors for i in o.instruments if i.deal}
    for name, deal in deals.items():
        for lease in deal.leases:
            who = issuer_of(graph, lease)
            if who is not None and name not in owner:
                owner[name] = who
    edges = {o.name: {owner[d] for d in o.guarantees if d in owner} for o in graph.obligors}

    def walk(node, path):
        for nxt in sorted(edges.get(node, ())):
            if nxt in path:
                return path[path.index(nxt):] + [nxt]
            found = walk(nxt, path + [nxt])
            if found:
                return found
        return None

    for start in sorted(edges):
        found = walk(start, [start])
        if found:
            return found
    return None


def curve(points, unit_months: float = 12.0):
    """f(t in years) from (time, value) points, linear, flat beyond the ends."""
    times = np.array([p for p, _ in points], dtype=float) * unit_months / 12.0
    values = np.array([v for _, v in points], dtype=float)
    return Curve(times.tolist(), values.tolist())


class Curve:
    """A piecewise-linear curve evaluated at one time: numpy.interp's arithmetic step for
    step (the same bits: the segment j with times[j] <= t < times[j + 1], its value
    values[j] + slope x (t - times[j]), flat beyond the ends, a repeated time a step) in
    plain floats, as a chain run asks for ~10^4 single points and np.interp's call costs
    more than its sum."""

    __slots__ = ("times", "values")

    def __init__(self, times: list[float], values: list[float]):
        self.times, self.values = times, values

    def __call__(self, t) -> float:
        xs, ys = self.times, self.values
        x = float(t)
        if x != x:                      # NaN in, NaN out (as np.interp)
            return x
        if x < xs[0]:
            return ys[0]
        if x >= xs[-1]:
            return ys[-1]
        j = bisect.bisect_right(xs, x) - 1
        if xs[j] == x:
            return ys[j]
        slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
        y = slope * (x - xs[j]) + ys[j]
        if y != y:                      # nan one way: try the other (as np.interp)
            y = slope * (x - xs[j + 1]) + ys[j + 1]
            if y != y and ys[j] == ys[j + 1]:
                y = ys[j]
        return y


@dataclass
class EntityState:
    name: str
    default_year: float | None = None          # years after the basis date
    paid_share: list[float] = field(default_factory=list)  # per year after default (continuation)
    walk_year: float | None = None             # strategic default
    issuer: IssuerOutcome | None = None        # its balance sheet, debt stack and default


@dataclass
class ChainOutcome:
    graph: Graph
    shock: ChainShock
    pay_ratio: list[float]
    entities: dict[str, EntityState]
    refi_closed: list[tuple[int, int]]
    """Years the refinancing market for AI collateral is shut, as (from, to) runs."""
    market: object

    def lab_default_year(self) -> float | None:
        for y, r in enumerate(self.pay_ratio):
            if r < 1.0 - 1e-9:
                return float(y)
        return None


def run_chain(graph: Graph, preset: Scenario | None = None, deals: dict | None = None,
              forced: dict | None = None, stress: dict | None = None) -> ChainOutcome:
    """The chain under a preset's ChainShock (none: the base case). `deals`: the deal
    files the issuers' instruments name (default: those of deals/ the graph names);
    `forced`: {obligor: date} defaults imposed on those dates (simulated paths); the
    lab forced into default pays nothing it owes from its date (in that year, the share
    of the year before it), whatever its cash; `stress`: {obligor: IssuerStress} dated
    stresses on issuers (a corporate deal file's own scenario, waterfall.issuer_stress)."""
    shock = (preset.chain if preset is not None else None) or ChainShock()
    unit = 12.0 if preset is None or preset.time_unit == "year" else 1.0
    if preset is not None and preset.time_unit == "period":
        unit = 12.0  # a period-unit preset's chain times are read as years
    known = {o.name for o in graph.obligors}
    for name in shock.other_cash_flow:
        if name not in known:
            raise DealError(preset.name if preset else "chain",
                            [(f"chain.other_cash_flow[{name!r}]", f"no such entity (known: {', '.join(sorted(known))})", name)])
    rev_m, fund_m, market = (curve(shock.lab_revenue, unit), curve(shock.lab_funding, unit),
                             curve(shock.market_rent, unit))
    lab = graph.lab
    rev, fund = curve(lab.revenue), curve(lab.funding)
    commitments = {o.name: curve(o.lab_commitments) for o in graph.obligors}
    cash, ratios, received = lab.cash, [], {o.name: [] for o in graph.obligors}
    stops = (forced or {}).get(lab.name)
    stops = None if stops is None else (stops - graph.basis_date).days / 365.25
    for y in range(YEARS):
        available = cash + rev(y) * rev_m(y) * (1.0 - lab.other_costs_share) + fund(y) * fund_m(y)
        owed = {name: c(y) for name, c in commitments.items()}
        total = sum(owed.values())
        ratio = 1.0 if total <= 0 else max(0.0, min(1.0, available / total))
        if stops is not None and total > 0:
            ratio = min(ratio, max(0.0, min(1.0, stops - y)))
        ratios.append(ratio)
        for name, share in _allocate(lab.priority, owed, ratio * total).items():
            received[name].append(share)
        cash = available - ratio * total
    states = {lab.name: EntityState(lab.name)}
    deals = _instrument_deals(graph) if deals is None else deals
    for o in graph.obligors:
        other_m = curve(shock.other_cash_flow.get(o.name, [(0, 1.0)]), unit)
        states[o.name] = _run_obligor(graph, o, received[o.name], ratios, other_m, market,
                                      commitments[o.name], deals, _rates(preset, unit, o.market.base_rate),
                                      (forced or {}).get(o.name), (stress or {}).get(o.name))
    closed = [y for y, r in enumerate(ratios) if r < graph.refinancing_closes_below]
    return ChainOutcome(graph, shock, ratios, states, _episodes(closed), market)


def _episodes(years: list[int]) -> list[tuple[int, int]]:
    """Runs of consecutive years as (first, last + 1): each a closure that reopens."""
    runs: list[tuple[int, int]] = []
    for y in years:
        if runs and runs[-1][1] == y:
            runs[-1] = (runs[-1][0], y + 1)
        else:
            runs.append((y, y + 1))
    return runs


def _allocate(priority: list[str], owed: dict[str, float], paid: float) -> dict[str, float]:
    """Each provider's share of what it is owed this year when the lab pays `paid` in all:
    the providers in `priority` are paid in full first, in that order; the rest share
    what is left pro rata."""
    out, left = {}, paid
    for name in priority:
        got = min(owed.get(name, 0.0), left)
        out[name], left = (got / owed[name] if owed.get(name, 0.0) > 0 else 1.0), left - got
    rest = {n: a for n, a in owed.items() if n not in out}
    due = sum(rest.values())
    share = 1.0 if due <= 1e-12 else max(0.0, min(1.0, left / due))
    out.update({n: share for n in rest})
    return out


def _instrument_deals(graph: Graph) -> dict:
    """The built-in deal files the graph names (instruments read their terms from them)."""
    from .load import builtin_deals, load_deal

    named = {i.deal for o in graph.obligors for i in o.instruments if i.deal} | {d.deal for d in graph.deals}
    return {p.stem: load_deal(p) for p in builtin_deals() if p.stem in named}


def _rates(preset: Scenario | None, unit: float, flat: float):
    """The base rate t years after the basis date under the preset: its `rate_path`
    (step between points) in place of the flat `flat`, plus its `rate_shock`s in their
    windows; None when the preset moves no rate."""
    adjustments = [] if preset is None else [a for a in preset.adjustments if a.kind in ("rate_path", "rate_shock")]
    if not adjustments:
        return None
    scale = unit / 12.0                     # a preset time x is x * scale years

    def base(t: float) -> float:
        level = flat
        for a in adjustments:
            if a.kind == "rate_path":
                level = next((r for p, r in reversed(a.points) if p * scale <= t + 1e-12), a.points[0][1])
        for a in adjustments:
            if a.kind != "rate_shock":
                continue
            to = math.inf if a.to_period is None else a.to_period * scale
            if a.from_period * scale <= t < to:
                level += a.bp / 1e4
        return level

    return base


def _run_obligor(graph: Graph, o: Obligor, ratios, lab_ratios, other_m, market, commitment, deals,
                 base_rate=None, forced=None, stress=None) -> EntityState:
    """One obligor through waterfall.issuers.simulate (`ratios`: the share of what the
    lab owes it that it is paid each year; `lab_ratios`: the lab's overall pay ratio,
    which its market watches); after a default, the share of its outgoings it can
    still meet each year (for `continuation` leases)."""
    curves = {k: curve(getattr(o, k)) for k in ("other_cash_flow", "capex", "debt_service",
                                                 "lease_payments", "new_funding", "holdings", "lab_stake")}
    if stress is not None:   # its own business's cash flow x the stress's multiple, quarter by quarter
        preset_m = other_m

        def other_m(t):
            return preset_m(t) * stress.own_multiple(_date_at(graph, t - STEP_YEARS / 2))

    def inflow(t, ratio):
        return commitment(t) * ratio * (1.0 - o.lab_cost_share) + curves["other_cash_flow"](t) * other_m(t)

    def outflow(t, ratio):
        return (curves["capex"](t) * (1.0 - o.capex_flex * (1.0 - ratio)) + curves["debt_service"](t)
                + curves["lease_payments"](t))

    walk = _walk_year(o, market)
    lumps = [] if walk is None else [(_date_at(graph, walk), _damages_owed(graph, o, market, walk, deals))]
    lives = [x for inst in o.instruments for x in instrument_lives(inst, deals, o.market, graph.basis_date)]
    def earnings(t, ratio):
        return commitment(t) * ratio * o.lab_contract_margin + curves["other_cash_flow"](t) * other_m(t)

    def pledged(t, lab_ratio):
        stake = curves["lab_stake"](t) * max(0.0, 1.0 - o.lab_stake_markdown * (1.0 - lab_ratio))
        return curves["holdings"](t) + stake

    flows = Flows(inflow, outflow, curves["new_funding"], o.cash, o.funding_needs_healthy_lab,
                  o.saleable_assets, earnings, pledged if o.market.max_ltv is not None else None,
                  o.holdings_sale_discount)
    out = simulate(o.name, lives, flows, o.market, graph.basis_date, ratios, o.revolver, YEARS, lumps, lab_ratios,
                   base_rate, forced, stress)
    st = EntityState(o.name, default_year=out.default_year, issuer=out, walk_year=walk)
    if out.default_year is not None:
        for y in range(int(math.floor(out.default_year)), YEARS):
            a, b = inflow(y + 0.5, ratios[y]), outflow(y + 0.5, ratios[y])
            st.paid_share.append(max(0.0, min(1.0, a / b)) if b > 0 else 1.0)
    return st


def _walk_year(o: Obligor, market) -> float | None:
    """Strategic default: the first month the market rent is below contract by more than
    the tenant's threshold (years after the basis date), or None."""
    if o.strategic_threshold is None:
        return None
    for month in range(YEARS * 12):
        if 1.0 - market(month / 12.0) > o.strategic_threshold + 1e-12:
            return month / 12.0
    return None


def _damages_owed(graph: Graph, o: Obligor, market, walk: float, deals: dict) -> float:
    """What a tenant walking at `walk` pays its SPV landlords on that date (USD bn): the
    collected share of the damages on every linked SPV lease it owes."""
    from .settlement import walk_damages

    when, total = _date_at(graph, walk), 0.0
    for link in graph.deals:
        deal = deals.get(link.deal)
        if deal is not None and deal.deal.kind == "spv":
            total += walk_damages(market, graph.basis_date, o, deal, when, lambda lease: issuer_of(graph, lease))
    return total * o.walk_damages_share / 1000.0


def _date_at(graph: Graph, years: float) -> dt.date:
    months = years * 12.0
    whole = int(math.floor(months))
    base = graph.basis_date
    y, m = divmod(base.month - 1 + whole, 12)
    day = min(base.day, 28)
    first = dt.date(base.year + y, m + 1, day)
    return first + dt.timedelta(days=round((months - whole) * 30.4375))


def deal_period(deal: Deal, when: dt.date) -> int:
    """The deal period a calendar date falls in (at least 1)."""
    from .scenarios.timing import start_period

    close = deal.timeline.financial_close
    months = (when.year - close.year) * 12 + (when.month - close.month) + (when.day - close.day) / 30.4375
    return max(1, start_period(months, deal.timeline.months_per_period))


def obligor_of(graph: Graph, tenant: str) -> str | None:
    """The entity paying a lease: the longest tenant prefix that matches."""
    from .scenarios.lease import matches_tenant

    best, length = None, -1
    for name, prefixes in [(graph.lab.name, graph.lab.tenants)] + [(o.name, o.tenants) for o in graph.obligors]:
        for prefix in prefixes:
            if matches_tenant(prefix, tenant) and len(prefix) > length:
                best, length = name, len(prefix)
    return best


def _relet(outcome: ChainOutcome, obligor: Obligor, years: float, deal: Deal):
    """Re-let curve from `years` on: the market level (a point a year) less the haircut,
    in the deal's periods after re-letting."""
    mpp = deal.timeline.months_per_period
    start = years + obligor.relet_downtime_months / 12.0
    points, seen = [], set()
    for k in range(0, YEARS):
        p = int(round(k * 12 / mpp))
        if p not in seen:
            seen.add(p)
            points.append((p, outcome.market(start + k)))
    return {"points": points, "haircut": obligor.relet_haircut}


def _market_rent(outcome: ChainOutcome, deal: Deal) -> list[dict]:
    """The chain's market rent for AI data-center space (a level a year, as a share of the
    contracted rent) as the market rent an appraisal capitalises, in the deal's periods."""
    graph, n, out, done = outcome.graph, deal.timeline.n_periods, [], 0
    for y in range(YEARS):
        level = float(outcome.market(y))
        a, b = max(done + 1, deal_period(deal, _date_at(graph, y))), deal_period(deal, _date_at(graph, y + 1)) - 1
        done = max(done, b)   # years before the deal's close fall on its period 1 once
        if abs(level - 1.0) > 1e-12 and a <= n and b >= a:
            out.append({"kind": "market_rent_multiplier", "from_period": a, "to_period": min(b, n),
                        "multiplier": level})
    return out


def issuer_of(graph: Graph, lease) -> str | None:
    """The entity owing a lease's rent: the issuer it names, else by tenant name."""
    return lease.issuer if lease.issuer is not None else obligor_of(graph, lease.tenant)


@dataclass
class LeaseEvent:
    """What the chain does to one lease: its tenant `rejects` it in its own default,
    `walks` from it while solvent (owing damages), or pays part (`continuation`)."""

    lease: int
    tenant: str
    issuer: str
    why: str
    date: dt.date
    period: int


def lease_events(outcome: ChainOutcome, deal: Deal) -> list[LeaseEvent]:
    """The first event on each lease paid by an obligor (not the lab), within the horizon."""
    graph, n, out = outcome.graph, deal.timeline.n_periods, []
    obligors = {o.name: o for o in graph.obligors}
    for i, lease in enumerate(deal.leases):
        who = issuer_of(graph, lease)
        if who is None or who == graph.lab.name or who not in obligors:
            continue
        st, ob = outcome.entities[who], obligors[who]
        events = []
        if st.issuer is not None and st.issuer.default_date is not None:
            events.append((st.issuer.default_date, "continuation" if ob.on_default == "continuation" else "rejects"))
        if deal.deal.kind == "spv" and st.walk_year is not None:   # a tenant's choice about a lease
            events.append((_date_at(graph, st.walk_year), "walks"))
        if not events:
            continue
        when, why = min(events)
        period = deal_period(deal, when)
        if period <= n:
            out.append(LeaseEvent(i, lease.tenant, who, why, when, period))
    return out


def _lab_payments(outcome: ChainOutcome, deal: Deal, tenant: str) -> list[dict]:
    graph, n, out = outcome.graph, deal.timeline.n_periods, []
    for y, ratio in enumerate(outcome.pay_ratio):
        if ratio >= 1.0 - 1e-9:
            continue
        a, b = deal_period(deal, _date_at(graph, y)), deal_period(deal, _date_at(graph, y + 1)) - 1
        if a <= n and b >= a:
            out.append({"kind": "partial_payment", "tenant": tenant, "from_period": a,
                        "to_period": min(b, n), "paid_share": ratio})
    return out


def chain_adjustments(outcome: ChainOutcome, deal: Deal) -> tuple[list[dict], list[str]]:
    """The chain's adjustments for one deal (in its periods) and a line per effect."""
    graph, n = outcome.graph, deal.timeline.n_periods
    obligors = {o.name: o for o in graph.obligors}
    mpp = deal.timeline.months_per_period
    adjustments, notes = [], []
    for tenant in sorted({lease.tenant for lease in deal.leases if issuer_of(graph, lease) == graph.lab.name}):
        adjustments += _lab_payments(outcome, deal, tenant)
        if any(r < 1.0 - 1e-9 for r in outcome.pay_ratio):
            notes.append(f"{tenant}: paid at the lab's pay ratio (first short in year {outcome.lab_default_year():g})")
    for ev in lease_events(outcome, deal):
        st, ob = outcome.entities[ev.issuer], obligors[ev.issuer]
        if ev.why == "continuation":
            first = int(math.floor(st.default_year))
            for i, share in enumerate(st.paid_share):
                a = ev.period if i == 0 else deal_period(deal, _date_at(graph, first + i))
                b = deal_period(deal, _date_at(graph, first + i + 1)) - 1
                if a > n:
                    break
                if b >= a:
                    adjustments.append({"kind": "partial_payment", "tenant": ev.tenant, "from_period": a,
                                        "to_period": min(b, n), "paid_share": share})
            notes.append(f"lease {ev.lease + 1} ({ev.tenant}): {ev.issuer} defaults on {ev.date} "
                         f"({st.issuer.cause}), pays part (period {ev.period})")
            continue
        years = (ev.date - graph.basis_date).days / 365.25
        relet = None if deal.deal.kind == "corporate" else _relet(outcome, ob, years, deal)
        downtime = int(math.ceil(ob.relet_downtime_months / mpp))
        adjustments.append({"kind": "lease_default", "tenant": ev.tenant, "period": ev.period,
                            "outcome": "termination", "downtime": downtime if relet else 0, "relet": relet})
        what = ("walks away while solvent (owes damages)" if ev.why == "walks"
                else f"defaults on {ev.date} ({st.issuer.cause}) and rejects the lease (capped claim)")
        notes.append(f"lease {ev.lease + 1} ({ev.tenant}): {ev.issuer} {what}, period {ev.period}")
    for o in graph.obligors:
        out = outcome.entities[o.name].issuer
        if deal.name in o.guarantees and out is not None and out.default_date is not None:
            p = deal_period(deal, out.default_date)
            if p <= n:
                adjustments.append({"kind": "obligor_default", "obligor": o.name, "from_period": p})
                notes.append(f"guarantor {o.name} defaults on {out.default_date}: cross-default, period {p}")
    if deal.deal.kind == "spv":
        adjustments += _market_rent(outcome, deal)
    adjustments += _refinancing(outcome, deal, notes)
    return adjustments, notes


def _refinancing(outcome: ChainOutcome, deal: Deal, notes: list[str]) -> list[dict]:
    """The AI-collateral refinancing market is shut in the years the lab pays less than
    `refinancing_closes_below` of what it owes, and reopens when it pays again; it
    touches linked deals with a lease paid by the lab or a provider it owes."""
    graph, n = outcome.graph, deal.timeline.n_periods
    on_lab = {graph.lab.name} | {o.name for o in graph.obligors if any(v > 0 for _, v in o.lab_commitments)}
    exposed = any(issuer_of(graph, lease) in on_lab for lease in deal.leases)
    if not exposed or not any(deal.name == link.deal for link in graph.deals):
        return []
    out = []
    for y0, y1 in outcome.refi_closed:
        a, b = deal_period(deal, _date_at(graph, y0)), deal_period(deal, _date_at(graph, y1)) - 1
        if a <= n and b >= a:
            out.append({"kind": "refinancing_closed", "from_period": a, "to_period": min(b, n)})
            notes.append(f"refinancing market closed in periods {a}-{min(b, n)} (the lab pays under "
                         f"{graph.refinancing_closes_below:.0%} in years {y0}-{y1 - 1}), then reopens")
    return out + _tenant_margin(outcome, deal, notes)


def _tenant_margin(outcome: ChainOutcome, deal: Deal, notes: list[str]) -> list[dict]:
    """The refinancing margin linked to the tenant's credit (Graph.refinancing_margin_link):
    in each quarter of the issuers' paths, link x the widest widening of the deal's tenant
    issuers' spread over their base spread (bp), as `refinancing_spread` add-ons over the
    deal periods the quarter covers (runs of equal add-ons merged). None for an SPV deal
    the graph does not link, or with the link at 0."""
    graph, n = outcome.graph, deal.timeline.n_periods
    link = graph.refinancing_margin_link
    if link <= 0.0 or deal.deal.kind != "spv" or not any(deal.name == d.deal for d in graph.deals):
        return []
    obligors = {o.name: o for o in graph.obligors}
    issuers = sorted({issuer_of(graph, lease) for lease in deal.leases} & set(obligors))
    wide: dict[int, float] = {}
    for name in issuers:
        state = outcome.entities.get(name)
        if state is None or state.issuer is None:
            continue
        base = obligors[name].market.spread
        for k, row in enumerate(state.issuer.path):
            wide[k] = max(wide.get(k, 0.0), max(0.0, row["spread"] - base))
    out = []
    for k in sorted(wide):
        bp = round(link * wide[k] * 1e4, 6)
        a = deal_period(deal, add_months(graph.basis_date, 3 * k))
        b = min(deal_period(deal, add_months(graph.basis_date, 3 * k + 3)) - 1, n)
        if bp <= 0.0 or a > n or b < a:
            continue
        if out and out[-1]["bp"] == bp and out[-1]["to_period"] == a - 1:
            out[-1]["to_period"] = b
        else:
            out.append({"kind": "refinancing_spread", "bp": bp, "from_period": a, "to_period": b})
    for adj in out:
        notes.append(f"refinancing margin +{adj['bp']:g}bp in periods {adj['from_period']}-{adj['to_period']} "
                     f"(the tenant's spread widening x {link:g})")
    return out


def direct_scenario(graph: Graph, deal: Deal, preset: Scenario | None) -> Scenario:
    """The preset's direct adjustments in the deal's periods, its market-wide stresses
    anchored to the graph's basis date (timing.CALENDAR_KINDS): the same calendar years
    for every deal."""
    return direct_at(graph.basis_date, deal, preset)


def direct_at(anchor: dt.date, deal: Deal, preset: Scenario | None) -> Scenario:
    """direct_scenario with the basis date given (`anchor`)."""
    from .scenarios.timing import localise, resolve

    return localise(resolve(preset or Scenario(name="base"), deal, anchor=anchor), deal)


def basis_date(path: str | Path = ENTITIES_FILE) -> dt.date:
    """The entity graph's basis date, read once while the file is unchanged (a preset run
    outside the chain needs only this of the graph)."""
    p = Path(path)
    return _basis_date(str(p), p.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _basis_date(path: str, mtime_ns: int) -> dt.date:
    return load_graph(path).basis_date


def deal_scenario(outcome: ChainOutcome, deal: Deal, preset: Scenario | None) -> tuple[Scenario, list[str]]:
    """The scenario a deal runs under: the preset's direct adjustments in the deal's
    periods (anchored to the basis date), then the chain's."""
    base = preset or Scenario(name="base")
    direct = direct_scenario(outcome.graph, deal, base)
    extra, notes = chain_adjustments(outcome, deal)
    data = direct.model_dump()
    data["adjustments"] = data["adjustments"] + extra
    data["chain"] = None
    data["name"] = base.name
    return Scenario.model_validate(data), notes
