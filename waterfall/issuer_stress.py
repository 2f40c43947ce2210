"""A corporate deal file's own scenario, read as a stress on its issuer.

Oracle's notes, its programme and SoftBank's bridge are instruments of their issuers
(scenarios/entities.toml). Their deal files state scenarios in the file's own periods on
the file's cash-slice template ("Oracle's cash for this debt halves from period 4",
"no refinancing in periods 20-26"). A lender reads each as a stress on the borrower, so
the issuer runs with it, with its whole debt stack, and the instrument's result is the
issuer's (waterfall.issuers): one default date for every instrument, recovery by class.

Each adjustment, its periods turned into the calendar dates they cover (period t of the
file covers its payment dates (d[t-1], d[t]]), becomes:

| adjustment | on the issuer |
|---|---|
| `refinancing_closed` | its market is shut on those dates: no refinancing, no new issue, no deficit borrowing (a maturity falling then is paid from cash or it defaults) |
| `rate_shock` | its base rate + bp on those dates (floating coupons, revolver, refinancing) |
| `rent_multiplier`, `partial_payment`, `renegotiation`, `tenant_default`, `lease_default` | the cash flow the file's lease stands for x the stated share on those dates: a lease whose tenant is the AI lab is what the lab pays the issuer (its market watches that share as it watches the lab's pay ratio); a lease whose tenant is the issuer's own cash is its own business's cash flow. `tenant_default`: nothing during the downtime, then (1 - haircut); `lease_default` termination: nothing from then on, continuation: `paid_share` |
| `asset_value_multiplier` (the notional claim, `shell` or `all`) | the issuer's asset values x multiplier from that date: its pledged assets in an LTV market test and its estate's value at default |

Any other kind has no meaning for an issuer and is bad input (exit 2, naming it).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .errors import DealError

Window = tuple[dt.date, dt.date | None, float]
"""[from, to) dates (to None: for ever) and a multiple (or bp for a rate shock)."""

DAY = dt.timedelta(days=1)
LEASE_KINDS = ("rent_multiplier", "partial_payment", "renegotiation", "tenant_default", "lease_default")


def _in(windows: list[Window], day: dt.date) -> list[float]:
    return [v for a, b, v in windows if a <= day and (b is None or day < b)]


@dataclass
class IssuerStress:
    """A dated stress on one issuer (module doc). `own` and `lab`: windows multiplying
    its own business's cash flow and what the lab pays it; `shut`: windows its market is
    closed; `rate_bp`: windows adding basis points to its base rate; `assets`: windows
    multiplying its asset values. `label` names the scenario and the deal file."""

    issuer: str
    label: str = ""
    own: list[Window] = field(default_factory=list)
    lab: list[Window] = field(default_factory=list)
    shut: list[Window] = field(default_factory=list)
    rate_bp: list[Window] = field(default_factory=list)
    assets: list[Window] = field(default_factory=list)

    def own_multiple(self, day: dt.date) -> float:
        return _product(_in(self.own, day))

    def lab_multiple(self, day: dt.date) -> float:
        return _product(_in(self.lab, day))

    def asset_multiple(self, day: dt.date) -> float:
        return _product(_in(self.assets, day))

    def market_shut(self, d0: dt.date, d1: dt.date) -> bool:
        """True when a closure window overlaps the quarter [d0, d1)."""
        return any(a < d1 and (b is None or b > d0) for a, b, _ in self.shut)

    def rate_shift(self, day: dt.date) -> float:
        """Annual rate added to the base rate on `day`."""
        return sum(_in(self.rate_bp, day)) / 1e4


def _product(values) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out


def issuer_stress(graph, deal, scenario, source: str | None = None) -> IssuerStress:
    """The stress on the issuer whose instrument `deal` is, from the deal file's
    `scenario` (in the file's periods or months/years since its close). `source`: the file
    the scenario comes from, named in a bad-input message."""
    from .payment_dates import period_end_dates
    from .scenarios.timing import localise, resolve

    issuer = next(o.name for o in graph.obligors for i in o.instruments if i.deal == deal.name)
    scen = localise(resolve(scenario, deal), deal)
    dates = period_end_dates(deal.timeline)
    n = deal.timeline.n_periods
    where = f"{source or deal.name}: scenario '{scen.name}'"

    def start(p: int) -> dt.date:          # period p covers (d[p-1], d[p]]
        return dates[min(p, n + 1) - 1] + DAY if p > 0 else dates[0]

    def end(p) -> dt.date | None:           # exclusive: the day after period p's payment date
        return None if p is None or p >= n else dates[p] + DAY

    out = IssuerStress(issuer, label=f"{deal.name}'s own scenario '{scen.name}', a stress on {issuer}")
    for k, adj in enumerate(scen.adjustments):
        if adj.kind == "refinancing_closed":
            out.shut.append((start(adj.from_period), end(adj.to_period), 1.0))
        elif adj.kind == "rate_shock":
            out.rate_bp.append((start(adj.from_period), end(adj.to_period), adj.bp))
        elif adj.kind == "asset_value_multiplier" and adj.component in ("shell", "all"):
            out.assets.append((start(adj.from_period), None, adj.multiplier))
        elif adj.kind in LEASE_KINDS:
            for stream, window in _lease_windows(graph, deal, adj, issuer, start, end, where, k):
                getattr(out, stream).append(window)
        else:
            raise DealError(where, [(f"adjustments[{k}].kind", f"has no meaning for an instrument of {issuer} "
                                     f"(its scenario is a stress on the issuer: refinancing_closed, rate_shock, "
                                     f"asset_value_multiplier on the claim, or a lease kind on the cash it "
                                     f"stands for)", adj.kind)])
    return out


def _lease_windows(graph, deal, adj, issuer, start, end, where, k):
    """(stream, window) pairs for a lease adjustment: `lab` for the leases the lab owes,
    `own` for the issuer's own cash (module doc)."""
    from .contagion import obligor_of
    from .scenarios.lease import matches_tenant

    streams = set()
    for lease in deal.leases:
        if not matches_tenant(getattr(adj, "tenant", None), lease.tenant):
            continue
        who = obligor_of(graph, lease.tenant)
        if who == graph.lab.name:
            streams.add("lab")
        elif who == issuer:
            streams.add("own")
        else:
            raise DealError(where, [(f"adjustments[{k}].tenant", f"lease tenant {lease.tenant!r} is neither the "
                                     f"lab nor {issuer} in the entity graph", getattr(adj, "tenant", None))])
    windows = []
    if adj.kind == "rent_multiplier":
        windows = [(start(adj.from_period), end(adj.to_period), adj.multiplier)]
    elif adj.kind == "partial_payment":
        windows = [(start(adj.from_period), end(adj.to_period), adj.paid_share)]
    elif adj.kind == "renegotiation":
        windows = [(start(adj.from_period), end(adj.to_period), 1.0 - adj.rent_cut)]
    elif adj.kind == "tenant_default":
        back = adj.period + adj.downtime_periods
        windows = [(start(adj.period), start(back), 0.0)] if adj.downtime_periods else []
        windows.append((start(back), None, 1.0 - adj.relet_haircut))
    elif adj.kind == "lease_default":
        if adj.relet is not None:
            raise DealError(where, [(f"adjustments[{k}].relet", "re-letting has no meaning for an issuer's "
                                     "cash flow", "relet")])
        share = 0.0 if adj.outcome == "termination" else adj.paid_share
        windows = [(start(adj.period), None, share)]
    return [(s, w) for s in sorted(streams) for w in windows]
