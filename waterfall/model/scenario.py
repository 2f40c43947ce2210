"""Scenarios: named, composable overrides applied to a deal's base case.

Every adjustment is data. Periods are 1-based operating periods as in the ledger
(period 0 is financial close). "From period k on" includes k.
"""
from __future__ import annotations

import datetime as dt
import math

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, model_validator

from .base import Count, Finite, Fraction, NonNegative, Part, Period, PositiveCount, Rate, check_cpi_points


class RentMultiplier(Part):
    """Rent actually paid is the scheduled rent x `multiplier` in periods
    [from_period, to_period] (renegotiation, partial payment)."""

    kind: Literal["rent_multiplier"]
    from_period: Period = 1
    to_period: Optional[Period] = None
    multiplier: NonNegative


class TenantDefault(Part):
    """The tenant stops paying at `period`; the space is dark for `downtime_periods`,
    then re-let at the scheduled rent x (1 - relet_haircut) for the rest of the horizon.
    The re-let rent is what the market pays for the space: an appraisal's market rent is
    x (1 - relet_haircut) from `period` on too."""

    kind: Literal["tenant_default"]
    period: PositiveCount
    downtime_periods: Count = 0
    relet_haircut: Fraction = 1.0


class RateShock(Part):
    """A parallel shift of the base-rate curve, in basis points, from a period on."""

    kind: Literal["rate_shock"]
    bp: Annotated[float, Field(ge=-10_000, le=10_000)]
    from_period: Period = 0
    to_period: Optional[Period] = None


class RatePath(Part):
    """Replace the base-rate curve by these points (period -> annual rate), interpolated
    as the deal's curve is."""

    kind: Literal["rate_path"]
    points: list[tuple[Period, Rate]] = Field(min_length=1)


class OpexMultiplier(Part):
    """Operating costs x `multiplier` from a period on."""

    kind: Literal["opex_multiplier"]
    from_period: Period = 0
    to_period: Optional[Period] = None
    multiplier: NonNegative


class AssetValueMultiplier(Part):
    """Seizure value of one asset component class (land, shell, mep, it) x multiplier
    from a period on: GPU obsolescence is `component = "it"` stepping down."""

    kind: Literal["asset_value_multiplier"]
    component: Literal["land", "shell", "mep", "it", "all"] = "it"
    from_period: Period = 0
    multiplier: NonNegative


def _dated_episode(adj):
    """A market episode given in dates or in periods, not both; to_date after from_date."""
    if adj.to_date is not None and adj.from_date is None:
        raise ValueError("to_date needs from_date")
    if adj.from_date is not None and ("from_period" in adj.model_fields_set
                                      or "to_period" in adj.model_fields_set):
        raise ValueError("give the episode in dates or in periods, not both")
    if adj.to_date is not None and adj.to_date <= adj.from_date:
        raise ValueError(f"to_date {adj.to_date} must be after from_date {adj.from_date}")
    return adj


class RefinancingClosed(Part):
    """No refinancing can be done at a maturity falling in [from_period, to_period]:
    the balloon is due, and unpaid it is an event of default. A market closure is an
    episode on the calendar: give `from_date` (and `to_date`, the day the market reopens;
    none: it stays shut) instead of periods, and each deal maps it to its own periods
    (a period is closed when its payment date falls in [from_date, to_date))."""

    kind: Literal["refinancing_closed"]
    from_period: Period = 0
    to_period: Optional[Period] = None
    from_date: Optional[dt.date] = Field(None, description="The day the refinancing market closes "
                                         "(calendar date; use instead of from_period).")
    to_date: Optional[dt.date] = Field(None, description="The day it reopens (calendar date, "
                                       "exclusive; none: it stays closed).")

    @model_validator(mode="after")
    def _dated(self):
        return _dated_episode(self)


class RefinancingSpread(Part):
    """The refinancing market's margin moves: `bp` (basis points a year, may be negative)
    is added to the margin of any new loan a refinancing signs at a maturity in
    [from_period, to_period] (or on calendar dates in [from_date, to_date)). The add-on
    is the market's at the signing date and stays in the loan for its life; a loan
    already signed or an extension at its contracted step-up does not move."""

    kind: Literal["refinancing_spread"]
    bp: Annotated[float, Field(ge=-1000.0, le=5000.0)]
    from_period: Period = 0
    to_period: Optional[Period] = None
    from_date: Optional[dt.date] = Field(None, description="The day the wider margin starts (calendar "
                                         "date; use instead of from_period).")
    to_date: Optional[dt.date] = Field(None, description="The day it ends (exclusive; none: it stays).")

    @model_validator(mode="after")
    def _dated(self):
        return _dated_episode(self)


class GuarantorDefault(Part):
    """The residual value guarantor pays only `paid_share` of what it owes from a period on."""

    kind: Literal["guarantor_default"]
    from_period: Period = 0
    paid_share: Fraction = 0.0


class MarketRentMultiplier(Part):
    """The market rent an appraisal capitalises (a dark asset's value, the residual at
    the horizon) x `multiplier` from a period on: a glut of AI data-center space."""

    kind: Literal["market_rent_multiplier"]
    from_period: Period = 0
    to_period: Optional[Period] = None
    multiplier: NonNegative


class ObligorDefault(Part):
    """The obligor the deal is linked to (named in `obligor`, for the record) defaults
    from `from_period` on: a cross-default for a deal whose covenants say so."""

    kind: Literal["obligor_default"]
    obligor: str = Field(min_length=1)
    from_period: Period = 1


class CapRateShock(Part):
    """Cap rates (exit and dark value of an appraisal) + `bp` basis points from a period on."""

    kind: Literal["cap_rate_shock"]
    bp: Annotated[float, Field(ge=-500, le=5000)]
    from_period: Period = 0


Tenant = Optional[str]
"""Which leases an adjustment touches: None is every lease; a name matches the leases
whose tenant is that name, or starts with it followed by a space or '(' (so "Oracle"
matches "Oracle (for the AI lab)"). Case is ignored."""


class MarketRent(Part):
    """Re-letting at the market: the space earns the lease's scheduled rent x the
    market level (a curve over the time since re-letting, in the scenario's time unit,
    linear between points, flat after the last) x (1 - haircut)."""

    points: list[tuple[Period, NonNegative]] = Field(default_factory=lambda: [(0, 1.0)], min_length=1)
    haircut: Fraction = 0.0

    @model_validator(mode="after")
    def _sorted(self):
        times = [p for p, _ in self.points]
        if times != sorted(set(times)):
            raise ValueError("market-rent points must have strictly increasing times")
        return self


class LeaseDefault(Part):
    """The tenant defaults at `period`. `termination`: the lease ends; the space is dark
    for `downtime` (time unit of the scenario), then re-let at `relet` (never, if no
    `relet`). `continuation`: the lease goes on but the tenant pays only `paid_share`."""

    kind: Literal["lease_default"]
    tenant: Tenant = None
    period: PositiveCount
    outcome: Literal["termination", "continuation"] = "termination"
    paid_share: Fraction = 0.0
    downtime: Count = 0
    relet: Optional[MarketRent] = None


class PartialPayment(Part):
    """The tenant pays `paid_share` of its scheduled rent in [from_period, to_period]."""

    kind: Literal["partial_payment"]
    tenant: Tenant = None
    from_period: PositiveCount = 1
    to_period: Optional[Period] = None
    paid_share: Fraction


class Renegotiation(Part):
    """The rent is cut by `rent_cut` (a share) from `from_period` (to `to_period`)."""

    kind: Literal["renegotiation"]
    tenant: Tenant = None
    from_period: PositiveCount = 1
    to_period: Optional[Period] = None
    rent_cut: Fraction


class PowerShortfall(Part):
    """Only `delivered` of the contracted capacity is powered in [from_period, to_period];
    rent is paid pro rata to delivered capacity."""

    kind: Literal["power_shortfall"]
    tenant: Tenant = None
    from_period: PositiveCount = 1
    to_period: Optional[Period] = None
    delivered: Fraction
    from_cod: bool = False
    """Count from_period and to_period from COD (1 = the COD period) instead of close."""
    deal_kinds: list[Literal["spv", "corporate", "example"]] = Field(
        default_factory=lambda: ["spv", "corporate", "example"])
    """Only deals of these kinds are affected (a corporate loan has no campus to power)."""
    only_under_construction: bool = False
    """Only deals still under construction at financial close (capacity not yet delivered)."""


class LeaseOption(Part):
    """The tenant's decision at renewal option `option` (1 = the first renewal):
    `exit` stops the rent from the period that option would start (re-let at `relet`
    after `downtime` if given); `renew` exercises renewals 1..option (a change to the
    deal, with `rent_reset` replacing that option's reset if given)."""

    kind: Literal["lease_option"]
    tenant: Tenant = None
    option: PositiveCount = 1
    decision: Literal["renew", "exit"]
    rent_reset: Optional[NonNegative] = None
    downtime: Count = 0
    relet: Optional[MarketRent] = None


class GpuObsolescence(Part):
    """Each new chip generation that ships at a time in `steps` knocks `step_down` (a
    share) off the seizure value of `component` from then on; steps compound."""

    kind: Literal["gpu_obsolescence"]
    component: Literal["land", "shell", "mep", "it", "all"] = "it"
    steps: list[tuple[Period, Fraction]] = Field(min_length=1)


class ConstructionDelay(Part):
    """Completion slips by `delay` (scenario time unit): construction is longer, COD and
    every lease not started by `from_period` move (interest during construction grows,
    maturities stay). The builder pays liquidated damages of `ld_rent_share` x the first
    scheduled rent per period of delay, up to `ld_cap` x total asset cost (a change to
    the deal: applied by waterfall.scenarios.apply_structural)."""

    kind: Literal["construction_delay"]
    delay: PositiveCount
    from_period: Period = 0
    ld_rent_share: NonNegative = 0.0
    ld_cap: Fraction = 0.0
    only_under_construction: bool = True
    """Leave a deal without construction periods (or already at COD by from_period) alone."""


class CostOverrun(Part):
    """The cost of `components` rises by `share`, funded by the sponsors (debt
    commitments stay as sized at close); seizure values stay at the original cost's
    unless `value_follows_cost` (a change to the deal)."""

    kind: Literal["cost_overrun"]
    share: Annotated[float, Field(ge=0, le=5)]
    components: list[Literal["land", "shell", "mep", "it"]] = Field(
        default_factory=lambda: ["land", "shell", "mep", "it"], min_length=1)
    value_follows_cost: bool = False
    only_under_construction: bool = True
    """Leave a deal without construction periods alone (its cost is already spent)."""


class CpiPath(Part):
    """Replace the deal's CPI assumption by these points (period -> annual inflation, step
    between points): every CPI-linked line re-escalates on it (floors and caps apply); the
    debt keeps its sizing and schedule (a change to the deal, applied by
    waterfall.scenarios.apply_structural)."""

    kind: Literal["cpi_path"]
    points: list[tuple[Period, Rate]] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self):
        check_cpi_points(self.points)
        return self


STRUCTURAL_KINDS = ("construction_delay", "cost_overrun", "cpi_path")
"""Kinds that change the deal itself (plus lease_option with decision = "renew")."""
LEASE_KINDS = ("lease_default", "partial_payment", "renegotiation", "power_shortfall", "lease_option")
"""Kinds that act on the rent of the leases they name."""


Adjustment = Annotated[
    Union[RentMultiplier, TenantDefault, RateShock, RatePath, OpexMultiplier, AssetValueMultiplier,
          RefinancingClosed, RefinancingSpread, GuarantorDefault, MarketRentMultiplier, CapRateShock, ObligorDefault, LeaseDefault,
          PartialPayment, Renegotiation, PowerShortfall, LeaseOption, GpuObsolescence, ConstructionDelay,
          CostOverrun, CpiPath],
    Field(discriminator="kind"),
]


class PdStress(Part):
    """An obligor's annual default probability under a preset, for `waterfall portfolio
    --simulate N --scenario PRESET` (waterfall.credit_sim.stressed_pds): either its graph
    PD's hazard x `multiplier` (annual = 1 - (1 - graph annual) ^ multiplier: the PD of
    a hazard that many times the base one, so it stays below 1), or the PD a stressed
    5-year CDS spread implies on the graph's CDS convention (hazard = spread / (1 -
    recovery), annual = 1 - exp(-hazard)). `source` says where the number comes from,
    or that it is an assumption."""

    multiplier: Optional[Annotated[float, Field(gt=0, le=100)]] = None
    cds_spread_bp: Optional[Annotated[float, Field(gt=0, le=10_000)]] = None
    recovery: Annotated[float, Field(ge=0, lt=1)] = 0.4
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one(self):
        if (self.multiplier is None) == (self.cds_spread_bp is None):
            raise ValueError("give one of multiplier (on the graph's hazard) or cds_spread_bp (a stressed spread)")
        return self

    def annual(self, base: float) -> float:
        """The stressed annual PD from the graph's `base` annual PD."""
        if self.multiplier is not None:
            return 1.0 - (1.0 - base) ** self.multiplier
        return -math.expm1(-self.cds_spread_bp / 1e4 / (1.0 - self.recovery))


class ChainShock(Part):
    """What a preset does to the contagion chain (waterfall.contagion), each a curve over
    time since the chain's basis date (in the scenario's time unit; linear between
    points, flat after the last): the AI lab's revenue and external funding as multiples
    of their base paths; the market rent for AI data-center space as a share of the
    contracted rent (it drives strategic default and re-letting); multiples of named
    entities' other cash flow. A single deal run ignores it."""

    lab_revenue: list[tuple[Period, NonNegative]] = Field(default_factory=lambda: [(0, 1.0)], min_length=1)
    lab_funding: list[tuple[Period, NonNegative]] = Field(default_factory=lambda: [(0, 1.0)], min_length=1)
    market_rent: list[tuple[Period, NonNegative]] = Field(default_factory=lambda: [(0, 1.0)], min_length=1)
    other_cash_flow: dict[str, list[tuple[Period, NonNegative]]] = Field(default_factory=dict)
    default_probability: dict[str, PdStress] = Field(default_factory=dict)
    """Simulated obligors' PDs under the preset (PdStress); the others keep the graph's."""

    @model_validator(mode="after")
    def _sorted(self):
        for name in ("lab_revenue", "lab_funding", "market_rent"):
            times = [p for p, _ in getattr(self, name)]
            if times != sorted(set(times)):
                raise ValueError(f"{name} points must have strictly increasing times")
        return self


class Scenario(Part):
    """A named set of adjustments, applied in order to the deal's base case.

    `time_unit` says what the times in the adjustments count: the deal's periods, or
    months or years since financial close (portable across deals: converted to each
    deal's periods by waterfall.scenarios.resolve, which drops what falls beyond the
    horizon). `assumptions` documents what the scenario moves, by how much, from when."""

    name: str = Field(min_length=1)
    description: str = ""
    time_unit: Literal["period", "month", "year"] = "period"
    assumptions: list[str] = Field(default_factory=list)
    adjustments: list[Adjustment] = Field(default_factory=list)
    chain: Optional[ChainShock] = None

    @model_validator(mode="after")
    def _one_rate_path(self):
        if sum(1 for a in self.adjustments if a.kind == "rate_path") > 1:
            raise ValueError("at most one rate_path adjustment per scenario")
        return self
