"""Corporate obligors as issuers: one balance sheet, one debt stack, one default.

An issuer (Oracle, CoreWeave, SoftBank Group, ... in scenarios/entities.toml) runs on
calendar quarters from the entity graph's basis date, in USD billions:

    cash += operating inflow (other cash flow x the preset's multiple + the lab's
            commitment to it x the lab's pay ratio that year)
          - capex (cut by capex_flex x the lab's shortfall) - lease payments
          - other debt service - interest on every instrument outstanding
          + new funding (only while its market is open)
          + new borrowing that keeps cash at `market.min_cash` (only while it is open)
    a one-off payment it owes (a walking tenant's damages): borrowed while the market is
            open, else paid from cash, revolver and saleable assets, else default;
    at each maturity: refinanced (same class, new coupon = base + spread of the day,
            `market.tenor_years` longer) while the market is open; otherwise paid
            from cash; a prospective instrument is issued only while it is open;
    a negative cash balance is drawn on the revolver, then met by selling its saleable
            assets (a holdco's listed stakes); beyond them: default.

Market access is a state each quarter, not a switch: open while the lab pays at least
`market.min_lab_pay_ratio` of what it owes that year and the issuer's leverage (debt /
annual operating inflow) is at most `market.max_leverage`; the spread widens with
leverage and the lab's shortfall. A closed market reopens when both tests pass again.

At default (the date cash and revolver run out, or a maturity that can be neither
refinanced nor paid), every instrument cross-accelerates on that date; the claims are
principal outstanding, the drawn revolver, the capped lease-rejection claims of the
SPVs it leases from (waterfall.claims) and any guarantee claims. The estate's
distributable value is `distress_value_multiple` x the annual operating inflow at
default (its own business's cash flow plus the cash margin on what the lab pays it:
`Flows.earnings`) plus the cash left; waterfall.claims.distribute pays it by class.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from typing import Annotated, Literal, Optional

from pydantic import Field, model_validator

from .claims import Claim, distribute
from .model.base import Fraction, NonNegative, Part, Rate

Seniority = Literal["secured", "senior_unsecured", "subordinated"]
STEP_YEARS = 0.25


class Instrument(Part):
    """One obligation of an issuer (USD billions). Either `deal` (+ `tranche`: a deal
    file whose tranche this is; amount, coupon, dates and lenders come from the file)
    or `amount`, `coupon`, `maturity` given here. `issue` = a prospective instrument,
    issued on that date if the issuer's market is open then (never otherwise)."""

    name: str = Field(min_length=1)
    deal: Optional[str] = None
    tranche: Optional[str] = None
    seniority: Seniority = "senior_unsecured"
    amount: Optional[NonNegative] = None
    coupon: Optional[Rate] = None
    spread: Optional[Rate] = None
    """Floating: its coupon is the base rate of the day plus this (in place of `coupon`)."""
    maturity: Optional[dt.date] = None
    issue: Optional[dt.date] = None
    collateral: Fraction = 0.0
    """Secured only: the collateral's value at default as a share of the claim."""
    committed: bool = False
    """A prospective instrument that is committed financing (a signed bridge: certain
    funds): drawn on its `issue` date whether or not the issuer's market is open."""
    lenders: dict[str, Fraction] = Field(default_factory=dict)
    source: str = ""

    @model_validator(mode="after")
    def _complete(self):
        missing = [k for k in ("amount", "coupon", "maturity") if getattr(self, k) is None
                   and not (k == "coupon" and self.spread is not None)]
        if self.deal is None and missing:
            raise ValueError(f"instrument '{self.name}': give `deal` (and `tranche`), or amount, coupon and "
                             f"maturity (missing: {', '.join(missing)})")
        return self


class MarketAccess(Part):
    """When the issuer can refinance or raise new debt, and at what spread."""

    min_lab_pay_ratio: Fraction = 0.95
    max_leverage: Annotated[float, Field(gt=0, le=100)] = 6.0
    base_rate: Rate = 0.035
    spread: Rate = 0.015
    spread_per_turn: Rate = 0.0025
    """Added per turn of leverage above 3x."""
    spread_per_shortfall: Rate = 0.02
    """Added per unit of the lab's shortfall (1 - pay ratio)."""
    tenor_years: Annotated[int, Field(ge=1, le=40)] = 10
    max_ltv: Optional[Annotated[float, Field(gt=0, le=1)]] = None
    """A holdco's market test (its lenders lend against its holdings, not its cash flow):
    open while its loan-to-value, net debt (financial debt less cash) / the value of its
    holdings (the obligor's `holdings` + `lab_stake`, marked down as the lab falls short,
    and moving with a scenario's asset values), is at most this; it then replaces both
    the `max_leverage` and the `min_lab_pay_ratio` tests (the lab's shortfall reaches a
    NAV lender through the stake's value). None: those two tests."""
    min_cash: Optional[NonNegative] = None
    """Liquidity it keeps by borrowing (USD bn): each quarter its market is open and its
    cash would fall below this, it issues senior unsecured debt at the day's rate for
    `tenor_years` to restore it, as an investment-grade issuer funds a deficit. None: it
    borrows only its itemised instruments and lease damages."""


@dataclass
class Live:
    """An instrument during the run: balance, coupon, maturity (dates)."""

    name: str
    seniority: str
    balance: float
    coupon: float
    maturity: dt.date
    issue: dt.date | None
    collateral: float
    refinanced: int = 0
    floating_spread: float | None = None
    """A floating-rate instrument's spread: its coupon is the base rate of the day plus it."""
    repaid_on: dt.date | None = None
    """The maturity it was repaid on from cash (its market shut), if it was."""
    issued: bool = True
    """False for a prospective instrument whose issue date fell with its market shut."""
    committed: bool = False
    """Committed financing: drawn on its issue date whatever the market (Instrument)."""


@dataclass
class IssuerOutcome:
    """What happened to one issuer: its default (date, year after basis, cause), the
    claims at default and what each recovers, and its path a quarter at a time."""

    name: str
    default_date: dt.date | None = None
    default_year: float | None = None
    cause: str = ""
    claims: dict[str, float] = field(default_factory=dict)
    recoveries: dict[str, float] = field(default_factory=dict)
    seniority: dict[str, str] = field(default_factory=dict)
    value: float = 0.0
    collateral: dict[str, float] = field(default_factory=dict)
    inflow_at_default: float = 0.0
    holdings_value: float | None = None
    """A holdco's (an LTV issuer's) estate: its holdings at default, less the stakes it has
    sold and the distress sale discount (USD bn); None: the estate is
    `distress_value_multiple` x `inflow_at_default`."""
    path: list[dict] = field(default_factory=list)
    instruments: dict[str, dict] = field(default_factory=dict)
    """What each instrument was paid, by name: balance at the end (or at default), coupon,
    maturity, times refinanced, the date it was repaid from cash, whether it was issued."""

    def unresolved_copy(self) -> "IssuerOutcome":
        """A copy to resolve (resolve_default) leaving this outcome as it was: the
        claims, classes, collateral and recoveries that resolution writes are copied;
        the quarterly path and the instrument records, which nothing writes after
        `simulate`, are shared (a deep copy of them was a third of a chain run)."""
        return replace(self, claims=dict(self.claims), recoveries=dict(self.recoveries),
                       seniority=dict(self.seniority), collateral=dict(self.collateral))

    def recovery_rate(self, name: str) -> float | None:
        owed = self.claims.get(name)
        return None if not owed else self.recoveries[name] / owed

    def class_rate(self, seniority: str = "senior_unsecured") -> float | None:
        owed = sum(a for n, a in self.claims.items() if self.seniority[n] == seniority)
        got = sum(self.recoveries[n] for n, a in self.claims.items() if self.seniority[n] == seniority)
        return None if owed <= 0 else got / owed


def add_months(day: dt.date, months: float) -> dt.date:
    """`day` + a (possibly fractional) number of months; day of month kept, capped at 28."""
    whole = int(math.floor(months))
    y, m = divmod(day.month - 1 + whole, 12)
    first = dt.date(day.year + y, m + 1, min(day.day, 28))
    return first + dt.timedelta(days=round((months - whole) * 30.4375))


def years_between(a: dt.date, b: dt.date) -> float:
    return (b - a).days / 365.25


@dataclass
class Flows:
    """An issuer's annual flows as functions of years after the basis date (USD bn a
    year): `inflow` (operating, the lab's payments included), `outflow` (capex, leases,
    other debt service: everything but its instruments' interest), `funding` (new money
    outside the instruments, raised only while the market is open)."""

    inflow: object
    outflow: object
    funding: object
    cash: float = 0.0
    funding_needs_market: bool = True
    saleable: float = 0.0
    """Assets it can sell for cash when cash and revolver run short (a holdco's listed
    stakes), USD bn; sold at book, once."""
    earnings: object = None
    """The operating cash flow an estate is valued on (USD bn a year, f(t, ratio));
    None: `inflow`."""
    pledged: object = None
    """The value of the assets its lenders look to (USD bn, f(t, ratio)) for an LTV
    market test (MarketAccess.max_ltv); None: no LTV test."""
    sale_discount: float = 0.0
    """With `pledged`: the discount at which a defaulted holdco's estate sells them."""


class _Unstressed:
    """No stress: every multiple 1, no closure, no rate shift."""

    def lab_multiple(self, day):
        return 1.0

    asset_multiple = lab_multiple

    def market_shut(self, d0, d1):
        return False

    def rate_shift(self, day):
        return 0.0


UNSTRESSED = _Unstressed()


def loan_to_value(debt: float, cash: float, assets: float | None) -> float | None:
    """A holdco's LTV: net debt (financial debt less cash) / the value of the assets its
    lenders look to; None without assets, infinite when they are worth nothing."""
    if assets is None:
        return None
    return max(0.0, debt - max(cash, 0.0)) / assets if assets > 0 else math.inf


def _market(terms: MarketAccess, ratio: float, debt: float, inflow: float,
            ltv: float | None = None) -> tuple[bool, float, float]:
    """(open, spread, leverage) this quarter. With `terms.max_ltv` the leverage test is
    loan-to-value (`ltv`, loan_to_value) against it."""
    leverage = debt / inflow if inflow > 0 else math.inf
    if terms.max_ltv is not None:
        ltv = math.inf if ltv is None else ltv
        open_ = ltv <= terms.max_ltv + 1e-12   # the lab's health reaches it through its stake's value
    else:
        open_ = ratio >= terms.min_lab_pay_ratio - 1e-12 and leverage <= terms.max_leverage
    spread = (terms.spread + terms.spread_per_turn * max(0.0, min(leverage, 50.0) - 3.0)
              + terms.spread_per_shortfall * (1.0 - ratio))
    return open_, spread, leverage


def _issue(lives: list[Live], d0: dt.date, d1: dt.date, open_: bool) -> float:
    """Prospective instruments due to be issued this quarter: issued (cash in) while the
    market is open, never otherwise; committed financing is drawn either way."""
    raised = 0.0
    for live in lives:
        if live.issue is not None and d0 <= live.issue < d1:
            if open_ or live.committed:
                raised += live.balance
            else:
                live.balance, live.issued = 0.0, False
            live.issue = None
    return raised


def _borrow(lives: list[Live], amount: float, rate: float, day: dt.date, terms: MarketAccess) -> float:
    """New senior unsecured debt of `amount` at `rate` for `terms.tenor_years` (one
    instrument per calendar year, its coupon the amount-weighted rate). Returns amount."""
    name = f"new borrowing {day.year}"
    live = next((x for x in lives if x.name == name), None)
    if live is None:
        lives.append(Live(name, "senior_unsecured", amount, rate, add_months(day, 12 * terms.tenor_years), None, 0.0))
    else:
        live.coupon = (live.coupon * live.balance + rate * amount) / (live.balance + amount)
        live.balance += amount
    return amount


def _maturities(lives, d0, d1, open_, rate, terms, cash, room) -> tuple[float, str | None, dt.date | None]:
    """Roll or pay each maturity this quarter. Returns (cash after, the instrument that
    could not be met, its date). `room`: undrawn revolver; a shortfall is drawn on it
    (the caller books the draw as cash below zero)."""
    for live in sorted((x for x in lives if x.issue is None and x.balance > 0 and d0 <= x.maturity < d1),
                       key=lambda x: x.maturity):
        if open_:
            live.coupon, live.refinanced, live.floating_spread = rate, live.refinanced + 1, None
            live.maturity = add_months(live.maturity, 12 * terms.tenor_years)
            continue
        if cash + room < live.balance - 1e-12:
            return cash, live.name, live.maturity
        cash -= live.balance
        live.balance, live.repaid_on = 0.0, live.maturity
    return cash, None, None


def simulate(name: str, lives: list[Live], flows: Flows, terms: MarketAccess, basis: dt.date,
             ratios: list[float], revolver: float = 0.0, years: int = 40,
             lumps: list[tuple[dt.date, float]] = (), market_ratios: list[float] | None = None,
             base_rate=None, forced: dt.date | None = None, stress=None) -> IssuerOutcome:
    """Run one issuer a quarter at a time until it defaults or `years` pass (module doc).
    `ratios[y]`: the share of what the lab owes it that it is paid in year y;
    `market_ratios[y]`: the lab's overall pay ratio its market watches (default
    `ratios`); `base_rate(t)`: the base rate t years after `basis` (default the
    market's flat `base_rate`), for floating coupons, the revolver and refinancing;
    `forced`: a default imposed on that date (a simulated default path); `stress`: a
    dated stress (waterfall.issuer_stress: a deal file's own scenario); `lumps`: one-off
    payments it owes on dates (the damages of leases it walks from). The outcome's
    claims are left for `resolve_default` (they need the SPVs' lease-rejection claims)."""
    out, st = IssuerOutcome(name), stress or UNSTRESSED
    cash, drawn, saleable = flows.cash, 0.0, flows.saleable
    ends = [add_months(basis, 3 * k) for k in range(years * 4 + 1)]   # quarter k runs ends[k] .. ends[k + 1]
    for k, (d0, d1) in enumerate(zip(ends, ends[1:])):
        t = (k + 0.5) * STEP_YEARS
        year = min(int(k * STEP_YEARS), len(ratios) - 1)
        lab_m = st.lab_multiple(d0)
        ratio, watched = ratios[year] * lab_m, (market_ratios or ratios)[year] * lab_m
        inflow, outflow = flows.inflow(t, ratio), flows.outflow(t, ratio)
        debt = sum(x.balance for x in lives if x.issue is None) + drawn
        assets = None if flows.pledged is None else flows.pledged(t, watched) * st.asset_multiple(d0)
        ltv = loan_to_value(debt, cash, assets)
        open_, spread, leverage = _market(terms, watched, debt, inflow, ltv)
        open_ = open_ and not st.market_shut(d0, d1)
        base = (terms.base_rate if base_rate is None else base_rate(t)) + st.rate_shift(d0)
        rate = base + spread
        cash += _issue(lives, d0, d1, open_)
        for x in lives:
            if x.floating_spread is not None:
                x.coupon = base + x.floating_spread
        interest = sum(x.balance * x.coupon for x in lives if x.issue is None) + drawn * rate
        funding = flows.funding(t) if (open_ or not flows.funding_needs_market) else 0.0
        net = (inflow - outflow - interest + funding) * STEP_YEARS
        lump = sum(a for day, a in lumps if d0 <= day < d1)
        before, cash = cash, cash + net
        if open_ and terms.min_cash is not None and cash < terms.min_cash:
            cash += _borrow(lives, terms.min_cash - cash, rate, d0, terms)
        room = revolver - drawn + saleable
        if forced is not None and d0 <= forced < d1:
            out.default_date, out.cause = forced, "simulated default"
        elif cash + room < 0:
            frac = max(0.0, min(1.0, (before + room) / -net)) if net < 0 else 0.0
            out.default_date, out.cause = add_months(d0, 3 * frac), "liquidity"
        elif cash + room < lump and not open_:
            out.default_date = min(day for day, a in lumps if d0 <= day < d1)
            out.cause = "cannot pay its lease damages (market closed)"
        else:
            if lump > 0 and open_:   # funded in the open market (its cash kept as liquidity), senior unsecured
                day = min(d for d, a in lumps if d0 <= d < d1)
                lives.append(Live(f"borrowing for lease damages {day}", "senior_unsecured", lump,
                                  rate, add_months(day, 12 * terms.tenor_years), None, 0.0))
                cash += lump
            cash -= lump
            cash, missed, when = _maturities(lives, d0, d1, open_, rate, terms, cash, room)
            if missed:
                out.default_date, out.cause = when, f"maturity of {missed} (market closed)"
        if cash < 0 and out.default_date is None:
            use = min(-cash, revolver - drawn)
            drawn, cash = drawn + use, cash + use
            saleable, cash = saleable + min(cash, 0.0), max(cash, 0.0)
        elif cash > 0 and drawn > 0:
            repay = min(cash, drawn)
            drawn, cash = drawn - repay, cash - repay
        out.path.append({"date": d1, "cash": cash, "revolver_drawn": drawn, "saleable": saleable, "debt": debt, "market_open": open_,
                         "free_cash_flow": inflow - outflow - interest,
                         "spread": spread, "leverage": leverage, "lab_pay_ratio": watched,
                         "ltv": ltv, "pledged_assets": assets,
                         "paid_share": ratio})
        if out.default_date is not None:
            earnings = inflow if flows.earnings is None else flows.earnings(t, ratio)
            # the estate's value moves with the stated asset values
            out = _at_default(out, lives, basis, cash, drawn, earnings * st.asset_multiple(out.default_date))
            out.holdings_value = _holdings_value(flows, assets, saleable)
            return out
    out.instruments = _stack(lives)
    return out


def _holdings_value(flows: Flows, assets: float | None, saleable_left: float) -> float | None:
    """A holdco's estate (USD bn): what its holdings fetch at the sale discount, less the
    stakes it has already sold; None for an issuer valued on its cash flow."""
    if assets is None:
        return None
    sold = flows.saleable - max(saleable_left, 0.0)
    return max(0.0, assets - sold) * (1.0 - flows.sale_discount)


def _stack(lives: list[Live]) -> dict[str, dict]:
    """Each instrument's record (IssuerOutcome.instruments)."""
    return {x.name: {"balance": x.balance, "coupon": x.coupon, "maturity": x.maturity, "refinanced": x.refinanced,
                     "repaid_on": x.repaid_on, "issued": x.issued} for x in lives}


def _at_default(out: IssuerOutcome, lives: list[Live], basis: dt.date, cash: float, drawn: float,
                earnings: float) -> IssuerOutcome:
    """Record the claims at default: every instrument outstanding cross-accelerates on
    the default date (its principal is the claim), the drawn revolver with them;
    `earnings` (USD bn a year) is what the estate is valued on."""
    out.default_year = years_between(basis, out.default_date)
    # a simulated default stands for a path on which the issuer has burnt its
    # cash by the time it files: its estate is its earning power alone
    out.value = 0.0 if out.cause == "simulated default" else max(cash, 0.0)
    out.claims = {x.name: x.balance for x in lives if x.issue is None and x.balance > 0}
    out.seniority = {x.name: x.seniority for x in lives}
    out.collateral = {x.name: x.collateral * x.balance for x in lives}
    if drawn > 0:
        out.claims["revolver"], out.seniority["revolver"] = drawn, "senior_unsecured"
    out.inflow_at_default = earnings
    out.instruments = _stack(lives)
    return out


def resolve_default(out: IssuerOutcome, multiple: float, extra: list[Claim]) -> IssuerOutcome:
    """Pay the defaulted issuer's estate by class: value = cash left + `multiple` x its
    annual operating inflow at default (a holdco's: its holdings' sale value,
    `holdings_value`); claims = its instruments, the revolver and
    `extra` (lease-rejection and guarantee claims)."""
    if out.default_date is None:
        return out
    claims = [Claim(n, a, out.seniority[n], out.collateral.get(n, 0.0))
              for n, a in out.claims.items()]
    for c in extra:
        claims.append(c)
        out.claims[c.name], out.seniority[c.name] = c.amount, c.seniority
    going = multiple * max(0.0, out.inflow_at_default) if out.holdings_value is None else out.holdings_value
    out.value = out.value + going
    out.recoveries = distribute(out.value, claims)
    return out


def instrument_lives(inst: Instrument, deals: dict, market: MarketAccess, basis: dt.date) -> list[Live]:
    """The instrument as it stands at the basis date (USD bn): given here, or one per
    tranche of its deal file (amount, fixed coupon or the market base rate + floating
    spread, maturity and first draw on the deal's calendar). Fields given here override
    the file's. A deal file missing from `deals` gives nothing (check_graph reports it)."""
    if inst.deal is None:
        coupon = inst.coupon if inst.spread is None else market.base_rate + inst.spread
        return [Live(inst.name, inst.seniority, inst.amount, coupon, inst.maturity, inst.issue,
                     inst.collateral, floating_spread=inst.spread, committed=inst.committed)]
    deal = deals.get(inst.deal)
    if deal is None:
        return []
    tl, out = deal.timeline, []
    for tr in deal.tranches:
        if inst.tranche is not None and tr.name != inst.tranche:
            continue
        rate = tr.rate.annual if tr.rate.kind == "fixed" else market.base_rate + tr.rate.spread
        maturity = add_months(tl.financial_close, (tr.maturity_period or tl.n_periods) * tl.months_per_period)
        first = min((p for p, _ in tr.draws), default=0) if tr.draws else 0
        issue = add_months(tl.financial_close, first * tl.months_per_period)
        if issue is not None and issue <= basis:
            issue = None
        name = f"{deal.name}/{tr.name}" if inst.tranche is None else inst.name
        floating = tr.rate.spread if tr.rate.kind == "floating" and inst.coupon is None else None
        out.append(Live(name, inst.seniority, inst.amount if inst.amount is not None else tr.amount / 1000.0,
                        inst.coupon if inst.coupon is not None else rate,
                        inst.maturity or maturity, inst.issue or issue, inst.collateral, floating_spread=floating))
    return out
