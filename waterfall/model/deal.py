"""The deal: timeline, assets, leases, opex, tranches, accounts, fees, the priority of
payments, covenants and enforcement. Amounts are in the deal's `units` (USD millions
unless it says otherwise); rates are annual decimals; periods are indices where 0 is
financial close."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Optional, Union

from pydantic import Field, model_validator

from .base import Count, Finite, Fraction, NonNegative, Part, Period, PositiveCount, Rate, Ratio, check_cpi_points
from .hedge import Hedge
from .scenario import Scenario
from .tax import Tax
from ..steps import NAMES as STEP_NAMES

FIRST_DATE, LAST_DATE = dt.date(1901, 1, 1), dt.date(2199, 12, 1)
"""The supported dates (QuantLib's are 1901-01-01 to 2199-12-31; the last period end
may roll forward a few days, so the horizon ends by the start of 2199-12)."""
PERIOD_MONTHS = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}
DayCount = Literal["ACT/360", "30/360", "ACT/365F", "ACT/ACT ISDA", "30E/360"]
CalendarName = Literal["none", "weekends", "us-sofr", "us-government-bond", "us-nyse", "target", "uk"]
Roll = Literal["unadjusted", "following", "modified-following", "preceding"]


class Timeline(Part):
    """When the deal lives: financial close, period length, construction then operations."""

    financial_close: dt.date = Field(description="The date of financial close: the end of period 0.")
    period: Literal["month", "quarter", "half-year", "year"] = Field(
        "quarter", description="The length of one period of the waterfall (a year = 12 months).")
    construction_periods: Count = Field(0, description="Periods of construction "
                                                              "after close (no rent); COD is the next one.")
    operating_periods: Annotated[int, Field(ge=1, le=1200)] = Field(description="Operating periods "
                                                                     "after construction: the horizon is "
                                                                     "construction + operating periods.")
    calendar: CalendarName = "none"
    roll: Roll = "unadjusted"
    accrue_on_adjusted_dates: bool = False
    payment_day: Optional[Annotated[int, Field(ge=1, le=31)]] = Field(
        None, description="The day of the month payments fall on (1-31; the month's last day where it "
        "has fewer, so 31 = end of month). None: the day of first_payment_date, else of the close.")
    first_payment_date: Optional[dt.date] = Field(
        None, description="The end of period 1 where it is not one period after close: a short or long "
        "first period (stub) of at most two periods. Later periods follow it every period length.")
    final_date: Optional[dt.date] = Field(
        None, description="The end of the last period where it is not a regular payment date: a short "
        "or long last period (stub) of at most two periods after the one before it.")

    @model_validator(mode="after")
    def _dates_supported(self):
        """Dates run from 1901 to 2199 (the calendar library's range): the close and
        the end of the horizon must fall inside it."""
        close = self.financial_close
        if not FIRST_DATE <= close <= LAST_DATE:
            raise ValueError(f"financial_close must be from {FIRST_DATE} to {LAST_DATE}")
        months = close.month - 1 + self.months_per_period * self.n_periods
        if close.year + months // 12 > LAST_DATE.year:
            raise ValueError(f"the horizon ends in {close.year + months // 12}: operating_periods plus "
                             f"construction_periods run past the last supported date {LAST_DATE}")
        return self

    @property
    def months_per_period(self) -> int:
        return PERIOD_MONTHS[self.period]

    @property
    def n_periods(self) -> int:
        """Periods after financial close (the ledger has n_periods + 1 rows)."""
        return self.construction_periods + self.operating_periods

    @property
    def cod_period(self) -> int:
        """First operating period (commercial operation date)."""
        return self.construction_periods + 1


class ValueCurve(Part):
    """Value of an asset component as a fraction of its cost, by age in months since
    financial close: straight-line to `salvage` over `life_months`, a table of points
    (linear between them, flat after the last), or constant."""

    kind: Literal["straight_line", "points", "constant"] = "straight_line"
    life_months: Optional[PositiveCount] = None
    salvage: Fraction = 0.0
    points: list[tuple[Count, NonNegative]] = Field(default_factory=list)
    level: NonNegative = 1.0

    @model_validator(mode="after")
    def _complete(self):
        if self.kind == "straight_line" and self.life_months is None:
            raise ValueError("a straight_line curve needs life_months")
        if self.kind == "points":
            if not self.points:
                raise ValueError("a points curve needs at least one point")
            ages = [a for a, _ in self.points]
            if ages != sorted(set(ages)):
                raise ValueError("points must have strictly increasing ages")
        return self


class AssetComponent(Part):
    """One class of cost (land, shell, MEP or IT/GPU) with its own seizure-value curve."""

    cost: NonNegative
    curve: ValueCurve = Field(default_factory=lambda: ValueCurve(kind="constant"))


class Asset(Part):
    """A data-center campus or GPU fleet. `spend` says how its cost is paid: all at
    financial close, straight-line over construction, or explicit shares per period."""

    name: str = Field(min_length=1)
    land: Optional[AssetComponent] = None
    shell: Optional[AssetComponent] = None
    mep: Optional[AssetComponent] = None
    it: Optional[AssetComponent] = None
    spend: Union[Literal["at_close", "over_construction"], list[tuple[Period, Fraction]]] = "at_close"

    @property
    def components(self) -> dict[str, AssetComponent]:
        return {k: getattr(self, k) for k in ("land", "shell", "mep", "it") if getattr(self, k)}

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.components.values())

    @model_validator(mode="after")
    def _shares(self):
        if not self.components:
            raise ValueError("an asset needs at least one of land, shell, mep, it")
        if isinstance(self.spend, list) and abs(sum(s for _, s in self.spend) - 1.0) > 1e-9:
            raise ValueError("spend shares must add up to 1")
        return self


Escalation = Annotated[float, Field(ge=-0.5, le=1.0)]


class Indexation(Part):
    """How one revenue or cost line escalates, on its own dates (waterfall/escalation.py,
    docs/conventions.md). `fixed`: by `rate` at each escalation date. `cpi`: by the change
    of the deal's CPI index (`[cpi]`, a scenario may replace it) over the `every_months`
    before each escalation date, floored at `floor` and capped at `cap` (per escalation, a
    decimal: 0.03 is 3%). Escalation dates are `anniversary` and every `every_months` from
    it (none: every `every_months` after the line starts); only those after the line starts
    count, and an escalation takes effect from the first period that starts on or after it."""

    kind: Literal["fixed", "cpi"] = "fixed"
    rate: Escalation = 0.0
    every_months: PositiveCount = 12
    anniversary: Optional[dt.date] = None
    floor: Optional[Escalation] = None
    cap: Optional[Escalation] = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind == "fixed" and (self.floor is not None or self.cap is not None):
            raise ValueError("a floor or cap applies to CPI-linked indexation (kind = 'cpi') only")
        if self.kind == "cpi" and self.rate != 0.0:
            raise ValueError("CPI-linked indexation escalates by CPI: give no rate")
        if self.floor is not None and self.cap is not None and self.floor > self.cap:
            raise ValueError(f"the floor ({self.floor:g}) is above the cap ({self.cap:g})")
        return self


class CpiCurve(Part):
    """The CPI assumption: annual inflation by period (step between points, flat beyond the
    ends), from which the CPI index is built (index 1 at financial close, growing at the rate
    of each period over its ACT/365F length). A `cpi_path` scenario replaces it."""

    points: list[tuple[Period, Rate]] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self):
        check_cpi_points(self.points)
        return self


class Renewal(Part):
    """A renewal option: `term_months` more at the then-current rent x `rent_reset`.
    Whether the base case assumes it is exercised is `exercised`."""

    term_months: PositiveCount
    rent_reset: NonNegative = 1.0
    exercised: bool = True


class Lease(Part):
    """A lease: `annual_rent` in the first lease year, stepping up by `escalation`
    every `escalation_every_months`; from `start_period` (default: COD) for `term_months`."""

    tenant: str = Field(min_length=1)
    issuer: Optional[str] = Field(default=None, min_length=1)
    """The obligor owing the rent, by its name in the entity graph (scenarios/entities.toml):
    its default rejects this lease and gives the landlord a capped claim on its estate.
    None: matched by tenant name (contagion.obligor_of)."""
    annual_rent: NonNegative
    start_period: Optional[PositiveCount] = None
    term_months: PositiveCount
    escalation: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.0
    escalation_every_months: PositiveCount = 12
    indexation: Optional[Indexation] = Field(None, description="Escalation on the lease's own dates "
                                             "(fixed or CPI-linked with floor and cap), instead of "
                                             "`escalation` / `escalation_every_months`.")
    renewals: list[Renewal] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_escalation(self):
        if self.indexation is not None and self.escalation != 0.0:
            raise ValueError("give either escalation or indexation, not both")
        return self


class Opex(Part):
    """An operating cost paid before debt service, `annual_amount` escalating yearly from
    its first period by `escalation`, or on its own dates by `indexation`."""

    name: str = Field(min_length=1)
    annual_amount: NonNegative
    escalation: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.0
    from_period: Optional[Count] = None
    indexation: Optional[Indexation] = Field(None, description="Escalation at its own rate, frequency "
                                             "and anniversary, or CPI-linked with floor and cap, "
                                             "instead of the yearly `escalation`.")

    @model_validator(mode="after")
    def _one_escalation(self):
        if self.indexation is not None and self.escalation != 0.0:
            raise ValueError("give either escalation or indexation, not both")
        return self


class BaseRateCurve(Part):
    """The floating base rate (e.g. Term SOFR), annual, by period; step or linear
    between points, flat beyond the ends."""

    name: str = "SOFR"
    points: list[tuple[Period, Rate]] = Field(min_length=1)
    interpolation: Literal["step", "linear"] = "step"

    @model_validator(mode="after")
    def _sorted(self):
        periods = [p for p, _ in self.points]
        if periods != sorted(set(periods)):
            raise ValueError("base-rate points must have strictly increasing periods")
        return self


class FixedRate(Part):
    """A fixed coupon, annual; `steps` set a new coupon from a period on (step-ups)."""

    kind: Literal["fixed"]
    annual: Rate
    steps: list[tuple[Period, Rate]] = Field(default_factory=list)


class FloatingRate(Part):
    """Base rate (floored at `floor`) plus `spread`, both annual decimals."""

    kind: Literal["floating"]
    spread: Rate
    floor: Optional[Rate] = 0.0
    spread_steps: list[tuple[Period, Rate]] = Field(default_factory=list)
    """Margin step-ups: a new spread from a period on (e.g. a bridge's 25bp every quarter)."""


class Amortisation(Part):
    """How scheduled principal is set (in the base case, at compile time):
    straight_line / level_payment over `periods` (may run past maturity: the rest is a
    balloon), sculpted to `target_dscr` on base-case CFADS, bullet at maturity, or
    `custom` shares of the drawn amount by operating period. A level payment may be
    stated (`payment`); `round_to` rounds interest and payments (docs/conventions.md)."""

    kind: Literal["straight_line", "level_payment", "sculpted", "bullet", "custom"]
    periods: Optional[PositiveCount] = None
    target_dscr: Optional[Ratio] = None
    shares: list[Fraction] = Field(default_factory=list)
    payment: Optional[NonNegative] = Field(
        None, description="level_payment: the stated payment a period (interest + principal, in the "
        "deal's units), e.g. 3125.00 a month; the rest of the balance is a balloon at maturity. None: "
        "the payment that amortises the loan over `periods` (an annuity on the base-case rates).")
    round_to: Optional[Union[Literal["cent"], NonNegative]] = Field(
        None, description="Round each period's interest, and a computed level payment, to the nearest "
        "multiple of this (in the deal's units; 'cent' = 0.01 of the currency in the deal's units, "
        "e.g. 1e-8 in USD millions), half away from zero, as loan servicers do. None: no rounding.")

    @model_validator(mode="after")
    def _complete(self):
        if self.kind == "straight_line" and self.periods is None:
            raise ValueError(f"{self.kind} amortisation needs periods")
        if self.kind == "level_payment" and self.periods is None and self.payment is None:
            raise ValueError("level_payment amortisation needs periods or a stated payment")
        if self.payment is not None and self.kind != "level_payment":
            raise ValueError(f"a stated payment is for level_payment amortisation, not {self.kind}")
        if self.payment == 0.0:
            raise ValueError("a stated payment must be greater than 0 (got 0.0)")
        if self.round_to == 0.0:
            raise ValueError("round_to must be 'cent' or greater than 0 (got 0.0)")
        if self.kind == "sculpted" and self.target_dscr is None:
            raise ValueError("sculpted amortisation needs target_dscr")
        if self.kind == "custom" and not self.shares:
            raise ValueError("custom amortisation needs shares")
        return self


class Sizing(Part):
    """Size the tranche as the largest amount whose base-case debt service, sculpted
    over the sizing tenor from the start of amortisation, keeps DSCR at `target_dscr`
    with principal never negative, capped at `max_gearing` x total asset cost. Solved at
    compile time by a backward recursion over the tenor (waterfall/sizing.py,
    docs/sizing.md): where CFADS / target does not cover a period's interest on the PV of
    CFADS / target, the debt is reduced until it does (or, with `when_short = "capitalise"`,
    the unpaid interest is capitalised)."""

    target_dscr: Ratio
    max_gearing: Fraction = 1.0
    tenor_periods: Optional[PositiveCount] = Field(
        None, description="Periods of the sizing tenor from the start of amortisation; may run "
        "past the legal maturity (a notional tenor: the balance at maturity is a balloon), not past "
        "the horizon. None: to the tranche's notional_maturity_period, else its legal maturity.")
    when_capped: Literal["repay_early", "resculpt"] = Field(
        "repay_early", description="When max_gearing binds: 'repay_early' sculpts the smaller loan "
        "at the amortisation's target DSCR (it is repaid before the tenor ends); 'resculpt' re-solves "
        "the sculpting DSCR (above the target) so that the capped loan amortises over the tenor.")
    when_short: Literal["reduce", "capitalise"] = Field(
        "reduce", description="Where CFADS / target does not cover a period's interest: 'reduce' sizes "
        "the debt down until it does (principal never negative); 'capitalise' sizes the plain present "
        "value of CFADS / target and capitalises, in those periods, the interest that CFADS / target "
        "does not pay (added to the balance and sculpted later). Needs sculpted amortisation.")


class Refinancing(Part):
    """At maturity the balloon (the balance less that period's scheduled principal) is
    refinanced instead of repaid if the market is open, by a new loan sized as a
    refinancing lender sizes it: the lowest of the balloon, `max_ltv` x the appraised
    value less the SPV's other debt, the next 12 months' CFADS / `min_debt_yield` less
    the other debt, and the debt the CFADS carries at `min_dscr` over the new loan's
    amortisation (straight-line over `amort_periods`) less the other debt
    (docs/credit.md, "Refinancing"; every limit on the rent in place at the maturity).
    The new loan pays base rate (floored at `floor`) + `spread` (`rate_kind =
    "floating"`), or `fixed_rate` (`rate_kind = "fixed"`), plus the refinancing market's
    margin add-on of the scenario at its date (`refinancing_spread`). It amortises
    `straight_line` (equal principal), `level_payment` (an annuity at its first period's
    rate: equal debt service for a fixed loan) or `sculpted` (debt service = the in-place
    CFADS / `min_dscr` less the other tranches' service) over `amort_periods`; the DSCR
    limit sizes on the same profile. What the new loan leaves of the balloon is due at
    once: paid from the period's cash (trapped cash included), else by an equity cure on
    the deal's cure terms, else it is an event of default."""

    rate_kind: Literal["floating", "fixed"] = Field("floating", description="The new loan's rate: "
                                                    "floating (base + spread, floored) or fixed (fixed_rate).")
    spread: Optional[Rate] = Field(None, description="Margin over the base rate of a floating new loan (annual).")
    fixed_rate: Optional[Rate] = Field(None, description="Coupon of a fixed-rate new loan (annual, all-in).")
    floor: Optional[Rate] = 0.0
    amort_periods: PositiveCount
    amortisation: Literal["straight_line", "level_payment", "sculpted"] = Field(
        "straight_line", description="The new loan's profile over amort_periods (docs/credit.md).")
    min_dscr: Annotated[float, Field(ge=0, le=100.0)] = Field(1.0, description="Minimum DSCR the "
                                                                "new loan's sizing keeps over its amortisation (0: no DSCR test).")
    max_ltv: Optional[Annotated[float, Field(gt=0, le=2.0)]] = Field(None, description="Maximum loan-to-value "
                                                                      "of all the SPV's debt on the appraised value (none: no LTV test).")
    min_debt_yield: Optional[Annotated[float, Field(gt=0, le=10.0)]] = Field(
        None, description="Minimum debt yield: the next 12 months' CFADS over all the SPV's debt (annual; none: no test).")

    @model_validator(mode="after")
    def _terms(self):
        if self.rate_kind == "floating" and self.spread is None:
            raise ValueError("a floating refinancing needs spread (annual margin over the base rate)")
        if self.rate_kind == "fixed" and self.fixed_rate is None:
            raise ValueError("a fixed-rate refinancing needs fixed_rate (annual coupon)")
        if self.rate_kind == "fixed" and self.spread is not None:
            raise ValueError(f"spread = {self.spread} on a fixed-rate refinancing: give fixed_rate only")
        if self.amortisation == "sculpted" and not self.min_dscr > 0:
            raise ValueError("a sculpted refinancing is sculpted to min_dscr: give min_dscr > 0")
        return self


class Extension(Part):
    """Extension options (the "+1+1" of a mini-perm): `options` options of `periods` each.
    At a maturity with an option left, the borrower extends if the extension tests pass:
    the SPV's DSCR of the period before (CFADS over debt service, before any cure) at
    least `min_dscr`, all the SPV's debt at most `max_ltv` x the appraised value and the
    next 12 months' CFADS at least `min_debt_yield` x that debt (each test optional, at
    least one given). A loan over the LTV or debt-yield limit may still extend by paying
    the excess down then (from cash, else an equity cure, else an event of default), if
    that paydown is no more than a refinancing would leave. On extension the maturity
    moves on `periods`, a `fee` (share of the balloon) is paid with the period's interest
    and the margin steps up by `margin_step` (annual) from the next period."""

    options: PositiveCount
    periods: PositiveCount
    fee: Annotated[float, Field(ge=0, le=0.2)] = 0.0
    margin_step: Annotated[float, Field(ge=0, le=0.2)] = 0.0
    min_dscr: Optional[Annotated[float, Field(gt=0, le=100.0)]] = None
    max_ltv: Optional[Annotated[float, Field(gt=0, le=2.0)]] = None
    min_debt_yield: Optional[Annotated[float, Field(gt=0, le=10.0)]] = None

    @model_validator(mode="after")
    def _tested(self):
        if self.min_dscr is None and self.max_ltv is None and self.min_debt_yield is None:
            raise ValueError("extension options with no test to pass: give min_dscr, max_ltv or min_debt_yield")
        return self


class BorrowingBase(Part):
    """Availability = `advance_rate` x seizure value of `components` (e.g. the GPUs);
    the `borrowing_base` step prepays any excess of the balance over it."""

    advance_rate: Fraction
    components: list[Literal["land", "shell", "mep", "it"]] = Field(default_factory=lambda: ["it"])


class Tranche(Part):
    """A loan or note. `amount` is the commitment (USD), or set by `sizing`; draws
    follow the deal's funding rule unless `draws` lists them. Interest accrues on the
    opening balance by `day_count`; it is capitalised in construction if
    `capitalise_interest` says so. `maturity_period` is the initial maturity;
    `extension_periods` (extension options, assumed exercised) are added to it."""

    name: str = Field(min_length=1)
    amount: Optional[NonNegative] = Field(None, description="The commitment, in the deal's units "
                                          "(give this or `sizing`).")
    sizing: Optional[Sizing] = None
    extension_periods: Count = Field(0, description="Periods added to "
                                                           "`maturity_period` (extension options, assumed exercised).")
    refinancing: Optional[Refinancing] = None
    extension: Optional[Extension] = Field(None, description="Extension options, exercised at a "
                                           "maturity only if their tests pass (docs/credit.md).")
    borrowing_base: Optional[BorrowingBase] = None
    lenders: dict[str, Fraction] = Field(default_factory=dict)
    rate: Annotated[Union[FixedRate, FloatingRate], Field(discriminator="kind")]
    day_count: DayCount = "ACT/360"
    draws: Optional[list[tuple[Period, NonNegative]]] = None
    interest_only_periods: Count = 0
    amortisation: Amortisation
    notional_maturity_period: Optional[PositiveCount] = Field(
        None, description="The banking-case (notional) maturity a balloon loan is sized over, counted "
        "from financial close: the cover ratios (LLCR) run to it. A mini-perm against a long lease "
        "states it (often the lease end less a two- or three-year tail). None: the legal maturity.")
    maturity_period: Optional[Annotated[int, Field(ge=1)]] = Field(
        None, description="The period of the initial maturity (the balloon), counted from financial "
        "close (period 0; 1 is the first period after close), not from COD. None: the last period of "
        "the horizon. Extension options (`extension_periods`) are added to it.")
    capitalise_interest: Literal["never", "construction", "always"] = "construction"
    upfront_fee: Fraction = Field(0.0, description="Arrangement / underwriting fee as a share of the "
                                  "commitment, paid at close: a use in the sources and uses, funded with "
                                  "the capex (not counted in the gearing base).")
    commitment_includes_idc: bool = False
    """If true, interest capitalised in construction is drawn under `amount`: capex draws
    are scaled down so that draws plus base-case capitalised interest equal `amount`,
    and equity funds the rest of the cost (an interest reserve inside the facility)."""
    default_on_shortfall: bool = True
    rank: Optional[Annotated[int, Field(ge=1, le=1000)]] = None
    """Seniority in enforcement: recoveries go to rank 1 first, then 2, ...; tranches of
    one rank share pro rata by claim (pari passu). None: the tranche's position in
    `tranches` (each junior to those listed before it)."""

    @model_validator(mode="after")
    def _lenders(self):
        if self.lenders and abs(sum(self.lenders.values()) - 1.0) > 1e-9:
            raise ValueError("lender shares must add up to 1")
        if (self.amount is None) == (self.sizing is None):
            raise ValueError("give exactly one of amount and sizing")
        if self.sizing is not None and self.draws is not None:
            raise ValueError("a sized tranche draws by the funding rule, not explicit draws")
        return self


class LetterOfCredit(Part):
    """A standby letter of credit that stands in for (part of) a DSRA's cash: `amount` USD
    of face (none: sized to the account's target at close), `fee` the annual rate the LC
    bank charges on the face, paid by the fee line that names the account
    (`fees[].letter_of_credit`). docs/money.md."""

    amount: Optional[NonNegative] = Field(None, description="Face amount of the LC in deal units (none: the "
                                          "DSRA's target at close).")
    fee: float = Field(0.0, ge=0.0, le=0.2, description="Annual fee on the LC's face amount (0.015 = 1.5% a "
                       "year), due through the fee line that names the account.")


class Account(Part):
    """A reserve account. A `dsra` targets the next `target_periods` of scheduled debt
    service on `tranches`; `fixed` targets `target` USD; `lockup` holds cash trapped by
    the lock-up test. Every balance is available to the waterfall at the start of a
    period and refilled by its `reserve` step (a lock-up account by `distribute`)."""

    name: str = Field(min_length=1)
    kind: Literal["dsra", "fixed", "lockup"]
    target_periods: PositiveCount = 1
    target_months: Optional[PositiveCount] = Field(
        None, description="A DSRA's target as months of scheduled debt service (6 = six months'), "
        "instead of target_periods, whatever the period length: a part of a period counts that "
        "share of the period's debt service (6 months of an annual period: half of it). A fixed "
        "reserve's (a maintenance reserve) as months of the annual cost of its `target_opex` lines, "
        "instead of `target`: months / 12 x their annual amounts as escalated in each period.")
    tranches: list[str] = Field(default_factory=list)
    target: NonNegative = 0.0
    target_opex: list[str] = Field(default_factory=list, description="The opex lines (by name) whose "
                                   "annual cost a fixed reserve's `target_months` counts.")
    interest_rate: Rate = Field(0.0, description="Annual interest earned on the account's balance "
                                "(ACT/365F over each period, on the opening balance), paid into the "
                                "period's cash: a source, not CFADS.")
    funded_at_close: bool = Field(
        False, description="True: the account is funded to its target from the sources at close "
        "(equity), in the last period before commercial operation (period 0 without construction), "
        "instead of from the first operating cash flows.")
    letter_of_credit: Optional[LetterOfCredit] = Field(
        None, description="A DSRA backed by a letter of credit: the LC's undrawn amount counts as "
        "cover, so the account traps only the target less it in cash; a drawing is reimbursed to the "
        "LC bank at the account's reserve step before the cash part is refilled.")


class Fee(Part):
    """A periodic fee (agency, trustee, asset management): `annual_amount` USD paid in
    every period in [from_period, to_period]."""

    name: str = Field(min_length=1)
    annual_amount: Optional[NonNegative] = None
    letter_of_credit: Optional[str] = Field(None, description="The account whose letter of credit this "
                                            "fee pays: due each period = the LC's face x its annual fee x "
                                            "months / 12 (instead of annual_amount).")
    from_period: Period = 1
    to_period: Optional[Period] = None
    indexation: Optional[Indexation] = Field(None, description="Escalation of the fee at its own rate, "
                                             "frequency and anniversary, or CPI-linked (none: flat).")


class Step(Part):
    """One line of the priority of payments. `step` is a kind of the step registry
    (waterfall/steps; docs/steps.md lists each kind's cash rule). Its operand names a
    tranche, an account or a fee; `share` and `share_locked` are a sweep's."""

    step: Literal[STEP_NAMES]
    tranche: Optional[str] = None
    account: Optional[str] = None
    fee: Optional[str] = None
    hedge: Optional[str] = None
    share: Fraction = 0.0
    share_locked: Fraction = 1.0


class EquityCure(Part):
    """Sponsors may cure a breach of the default DSCR by paying in the cash that lifts
    the period's DSCR to the covenant (counted as CFADS for the test and paid into the
    waterfall): at most `max_cures` times, each at most `max_amount` (none: no cap), up to
    `until_period` (none: any period)."""

    max_cures: Count = 2
    max_amount: Optional[NonNegative] = None
    until_period: Optional[Period] = None


DscrBasis = Literal["point", "trailing_12m", "forward_12m"]


class HedgeRatio(Part):
    """A hedging covenant: from `from_period` (to `to_period`, none: to the end) the swaps'
    and caps' notional must be at least `minimum` of the floating-rate covenant tranches'
    balance (the opening balance the period's interest runs on). A breach does what
    `breach` says: `"lock_up"` (distributions stop while it lasts) or `"accelerate"` (an
    event of default at once). docs/credit.md, "Hedge-ratio covenant"."""

    minimum: Fraction
    from_period: Period = 1
    to_period: Optional[Period] = None
    breach: Literal["lock_up", "accelerate"] = "lock_up"

    @model_validator(mode="after")
    def _periods(self):
        if self.to_period is not None and self.to_period < self.from_period:
            raise ValueError(f"to_period {self.to_period} is before from_period {self.from_period}")
        return self


class Covenants(Part):
    """Lock-up DSCR (distributions stop below it), default DSCR (a breach after
    `cure_periods` further periods below it), which tranches count in DSCR, and what a
    breach does. `dscr_breach = "lock_up"` (the default): cash stays locked up and
    nothing is distributed while the breach lasts (a standstill); the lenders do not
    accelerate on a ratio alone. `"accelerate"`: the lenders accelerate once the breach has
    lasted `accelerate_after` more periods. A payment default (interest or scheduled
    principal unpaid on a hard tranche, a balloon unpaid, a borrowing-base excess unpaid,
    costs the SPV cannot meet) always accelerates. `tenant_event = "accelerate"` makes the
    end of the lease in place (a tenant default) an acceleration event of its own."""

    lock_up_dscr: Optional[Annotated[float, Field(ge=0)]] = None
    default_dscr: Optional[Annotated[float, Field(ge=0)]] = None
    lock_up_basis: DscrBasis = "point"
    """Which DSCR the lock-up test reads: `"point"` (the period's CFADS over its debt service),
    `"trailing_12m"` (historic: the last 12 months' CFADS over their debt service) or
    `"forward_12m"` (projected: the next 12 months' projected CFADS over their scheduled debt
    service); docs/credit.md, "DSCR covenants"."""
    default_basis: DscrBasis = "point"
    """Which DSCR the default test (and an equity cure) reads; the same choices as `lock_up_basis`."""
    cure_periods: Count = 0
    dscr_tranches: list[str] = Field(default_factory=list)
    dscr_breach: Literal["lock_up", "accelerate"] = "lock_up"
    accelerate_after: Count = 0
    equity_cure: Optional[EquityCure] = None
    tenant_event: Literal["none", "accelerate"] = "none"
    llcr_net_of_dsra: bool = False
    """True: the LLCR adds the DSRA balance to the NPV of CFADS (as many facility agreements define it)."""
    hedge_ratio: Optional[HedgeRatio] = None
    """A minimum share of the floating-rate covenant debt hedged (swap and cap notional over balance)."""
    cross_default: Literal["none", "accelerate"] = "none"
    """`"accelerate"`: a default of the obligor this deal is linked to (its tenant's parent or
    guarantor, as an `obligor_default` scenario says) is an event of default of the deal."""


class SponsorSupport(Part):
    """What the sponsors owe the SPV beyond their equity: `none` (non-recourse: a cash
    shortfall is the SPV's, an event of default once it cannot pay its costs), `capped`
    (they meet shortfalls up to `cap` in total, e.g. a completion guarantee or cost-overrun
    facility), or `unlimited` (a full guarantee)."""

    kind: Literal["none", "capped", "unlimited"] = "none"
    cap: NonNegative = 0.0

    @model_validator(mode="after")
    def _cap(self):
        if self.kind == "capped" and self.cap <= 0:
            raise ValueError("capped sponsor support needs a cap above zero")
        return self


class Valuation(Part):
    """How the assets are valued when the lenders sell them. `replacement_cost`: the
    components' depreciated cost (each on its own curve, aging from the in-service date;
    work in progress at cost spent). `appraisal`: the income approach while a lease (or a
    re-let lease) pays: the PV at `discount_rate` (annual, the tenant's credit) of the
    remaining projected net rent of the scenario, plus a residual at the end of the
    horizon of the market net rent capitalised at `exit_cap_rate`; a dark asset is worth
    its market net rent capitalised at `exit_cap_rate`, received after `relet_months`,
    less `reletting_cost_months` of market rent. `replacement_floor` x the depreciated
    cost is a floor under the appraisal (0: none). Before commercial operation an asset
    is valued at cost spent, whatever the method. Market rent (annual, at close, growing
    at `market_rent_growth` a year) is moved by scenarios, as are cap rates."""

    method: Literal["replacement_cost", "appraisal"] = "replacement_cost"
    discount_rate: Rate = 0.07
    exit_cap_rate: Annotated[float, Field(gt=0, le=1)] = 0.065
    market_rent: Optional[NonNegative] = None
    market_rent_growth: Rate = 0.0
    relet_months: Annotated[int, Field(ge=0, le=600)] = 12
    reletting_cost_months: Annotated[float, Field(ge=0, le=120)] = 6.0
    replacement_floor: Fraction = 0.0

    @model_validator(mode="after")
    def _market(self):
        if self.method == "appraisal" and self.market_rent is None:
            raise ValueError("an appraisal needs market_rent (annual, at close)")
        return self


class Enforcement(Part):
    """What happens once the lenders accelerate. They take the SPV's cash and reserves,
    then run it in a workout for `months_to_sale` months: the rent in place (or the
    scenario's re-let rent) is collected, operating costs and `workout_costs` (annual) are
    paid, shortfalls are funded by the lenders as protective advances (repaid first), the
    claim accrues interest at the contract rate plus `default_margin` (annual), and net
    cash goes to the lenders each period. Then the assets are sold at their value
    (`valuation`) x (1 - fire_sale_discount), less costs (`cost_share` of gross value plus
    `cost_fixed`). `months_to_sale = 0` sells in the default period. A sale due after
    the horizon happens at its last period.

    `sale_rule` says when the sale happens: `"stated"` (the default) at the end of the
    stated time to sale; `"best_execution"`: the lenders, in control from the
    acceleration, choose the sale period within that time (from the acceleration period
    on) whose present value to them is the highest, at the senior contract rate
    (docs/credit.md); `months_to_sale` is then the longest the process may take."""

    fire_sale_discount: Fraction = 0.3
    cost_share: Fraction = 0.0
    cost_fixed: NonNegative = 0.0
    months_to_sale: Annotated[int, Field(ge=0, le=600)] = 0
    workout_costs: NonNegative = 0.0
    default_margin: Annotated[float, Field(ge=0, le=0.2)] = 0.0
    sale_rule: Literal["stated", "best_execution"] = "stated"
    valuation: Valuation = Field(default_factory=Valuation)


class ResidualValueGuarantee(Part):
    """A guarantor (e.g. the tenant) pays lenders, on an event of default up to
    `until_period`, what seizure and cash leave unpaid, up to `cap` USD."""

    guarantor: str = Field(min_length=1)
    cap: NonNegative
    until_period: Optional[Period] = None


class Exit(Part):
    """Sale of the assets at the end of the horizon: `value_share` x their curve value
    (after any scenario multipliers), less `cost_share` of it, is cash in the last
    period (it can repay a balloon there; the rest goes to equity)."""

    value_share: NonNegative = 1.0
    cost_share: Fraction = 0.02


class Equity(Part):
    """Sponsors and their shares of the equity. `commitment` is the equity they commit in
    total (none: the cost less the debt, whatever it comes to); spend beyond the debt and
    the commitment is a shortfall that only `sponsor_support` can meet."""

    sponsors: dict[str, Fraction] = Field(default_factory=dict, description="Sponsor name -> share "
                                          "of the equity (the shares add up to 1).")
    commitment: Optional[NonNegative] = Field(None, description="The equity the sponsors commit in "
                                              "total, in the deal's units. None: the asset cost less the "
                                              "debt drawn, whatever it comes to.")

    @model_validator(mode="after")
    def _shares(self):
        if self.sponsors and abs(sum(self.sponsors.values()) - 1.0) > 1e-9:
            raise ValueError("sponsor shares must add up to 1")
        return self


class DealInfo(Part):
    """Who and what the deal is, and the units its amounts are in."""

    name: str = Field(min_length=1, description="The deal's name (what `waterfall run NAME` takes).")
    description: str = Field("", description="One line on what the financing is.")
    units: str = Field("USD millions", description="The unit of every amount in the file and in "
                       "the output (printed with every amount).")
    kind: Literal["spv", "corporate", "example"] = Field("spv", description="'spv': a project-finance "
                                                         "SPV; 'corporate': a slice of an issuer's cash; "
                                                         "'example': an illustrative deal.")
    recourse: Literal["non-recourse", "limited", "full"] = Field("non-recourse", description="Recourse "
                                                                 "to the sponsors, for the record.")
    assumptions: list[str] = Field(default_factory=list, description="Every assumption the deal "
                                   "makes, one a line (figures not in any source).")


class Deal(Part):
    """A whole deal. Names used in the waterfall, accounts and covenants are checked."""

    deal: DealInfo = Field(description="Name, description, units of every amount (USD millions unless "
                                       "it says otherwise), kind, recourse and the deal's assumptions.")
    timeline: Timeline = Field(description="Financial close, the period length, construction and operating "
                                           "periods. Every period index in the file counts from financial "
                                           "close: period 0 is close, period 1 the first period after it.")
    funding: Literal["at_close", "pro_rata", "equity_first"] = Field(
        "at_close", description="How the asset cost is paid for, per period. 'at_close': every tranche "
        "without explicit `draws` is drawn in full at financial close (period 0). 'pro_rata': each "
        "period's spend is funded by debt and equity in proportion (a tranche draws its share "
        "amount/cost of the spend). 'equity_first': the sponsors fund the spend first, up to the "
        "equity (the cost less the debt, or `equity.commitment`), then the tranches draw pro rata "
        "to their amounts. Whatever the debt does not fund is equity (see `equity`).")
    assets: list[Asset] = Field(min_length=1, description="The campuses or fleets financed: cost by "
                                "component (land, shell, MEP, IT) and how each loses value.")
    leases: list[Lease] = Field(default_factory=list, description="The rent the deal earns: a lease "
                                "per tenant, annual rent in the first lease year, escalation, term.")
    opex: list[Opex] = Field(default_factory=list, description="Operating costs paid before debt "
                             "service (annual amounts, escalating yearly).")
    cpi: Optional[CpiCurve] = Field(None, description="Annual CPI inflation by period (an assumption "
                                    "with its source), for CPI-linked indexation; a cpi_path scenario "
                                    "replaces it.")
    base_rate: Optional[BaseRateCurve] = Field(None, description="The floating base rate (e.g. Term "
                                               "SOFR) by period, annual decimals; needed by any floating tranche.")
    tranches: list[Tranche] = Field(min_length=1, description="The loans and notes, in order of "
                                    "seniority unless `rank` says otherwise.")
    equity: Equity = Field(default_factory=Equity, description="The sponsors and their shares. Equity "
                           "is derived, not stated: each period the sponsors pay in the part of the "
                           "spend the tranches' draws do not fund (in total the asset cost less the "
                           "debt drawn), capped at `commitment` if given; equity receives what the "
                           "`distribute` step pays out.")
    closing_costs: NonNegative = Field(0.0, description="Legal, advisory and other transaction costs "
                                       "paid at financial close (deal units): a use funded with the capex "
                                       "and counted in the gearing base.")
    hedges: list[Hedge] = Field(default_factory=list, description="Interest-rate swaps and caps on "
                                "floating tranches: notional, fixed rate or strike, dates; each paid by "
                                "its `hedge` step (docs/credit.md).")
    accounts: list[Account] = Field(default_factory=list, description="Reserve accounts: a DSRA, a "
                                    "fixed target or a lock-up account.")
    fees: list[Fee] = Field(default_factory=list, description="Periodic fees (agency, trustee), "
                            "annual amounts paid where the waterfall says.")
    waterfall: list[Step] = Field(min_length=1, description="The priority of payments: the steps "
                                  "cash goes through each period, in order (docs/steps.md).")
    covenants: Covenants = Field(default_factory=Covenants, description="Lock-up and default DSCR "
                                 "tests, cures, what a breach does, cross-default.")
    sponsor_support: SponsorSupport = Field(default_factory=SponsorSupport, description="What the "
                                            "sponsors owe beyond their equity: none (non-recourse), "
                                            "capped or unlimited.")
    enforcement: Enforcement = Field(default_factory=Enforcement, description="What happens once the "
                                     "lenders accelerate: the workout, its length and costs, the "
                                     "sale and how the assets are valued.")
    residual_value_guarantee: Optional[ResidualValueGuarantee] = Field(
        None, description="A guarantor who pays the lenders what seizure leaves unpaid, up to a cap.")
    exit: Optional[Exit] = Field(None, description="A sale of the assets at the end of the horizon "
                                 "(cash in the last period).")
    tax: Optional[Tax] = Field(None, description="Taxes (docs/taxes.md): the owner's income tax "
                               "(rate, depreciation per component class, interest deductibility, "
                               "loss carry-forward) and property tax. None: no taxes.")
    scenarios: list[Scenario] = Field(default_factory=list, description="The deal's own named "
                                      "scenarios (the base case is always there, named 'base').")

    @property
    def name(self) -> str:
        return self.deal.name

    def __repr__(self) -> str:  # the whole model would be ~18k characters
        from ..output.notebook import deal_repr
        return deal_repr(self)

    def _repr_html_(self) -> str:
        from ..output.notebook import deal_html
        return deal_html(self)

    def scenario(self, name: str) -> Scenario:
        for s in self.scenarios:
            if s.name == name:
                return s
        if name == "base":
            return Scenario(name="base")
        known = ", ".join(["base"] + [s.name for s in self.scenarios if s.name != "base"])
        raise KeyError(f"no scenario '{name}' in deal '{self.name}' (known: {known})")
