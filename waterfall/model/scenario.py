"""Scenarios: named, composable overrides applied to a deal's base case.

Every adjustment is data. Periods are 1-based operating periods as in the ledger
(period 0 is financial close). "From period k on" includes k.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, model_validator

from .base import Finite, Fraction, NonNegative, Part, Period


class RentMultiplier(Part):
    """Rent actually paid is the scheduled rent x `multiplier` in periods
    [from_period, to_period] (renegotiation, partial payment)."""

    kind: Literal["rent_multiplier"]
    from_period: Period = 1
    to_period: Optional[Period] = None
    multiplier: NonNegative


class TenantDefault(Part):
    """The tenant stops paying at `period`; the space is dark for `downtime_periods`,
    then re-let at the scheduled rent x (1 - relet_haircut) for the rest of the horizon."""

    kind: Literal["tenant_default"]
    period: Annotated[int, Field(ge=1)]
    downtime_periods: Annotated[int, Field(ge=0)] = 0
    relet_haircut: Fraction = 1.0


class RateShock(Part):
    """A parallel shift of the base-rate curve, in basis points, from a period on."""

    kind: Literal["rate_shock"]
    bp: Finite
    from_period: Period = 0
    to_period: Optional[Period] = None


class RatePath(Part):
    """Replace the base-rate curve by these points (period -> annual rate), interpolated
    as the deal's curve is."""

    kind: Literal["rate_path"]
    points: list[tuple[Period, Finite]] = Field(min_length=1)


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


class RefinancingClosed(Part):
    """No refinancing can be done at a maturity falling in [from_period, to_period]:
    the balloon is due, and unpaid it is an event of default."""

    kind: Literal["refinancing_closed"]
    from_period: Period = 0
    to_period: Optional[Period] = None


class GuarantorDefault(Part):
    """The residual value guarantor pays only `paid_share` of what it owes from a period on."""

    kind: Literal["guarantor_default"]
    from_period: Period = 0
    paid_share: Fraction = 0.0


Adjustment = Annotated[
    Union[RentMultiplier, TenantDefault, RateShock, RatePath, OpexMultiplier, AssetValueMultiplier,
          RefinancingClosed, GuarantorDefault],
    Field(discriminator="kind"),
]


class Scenario(Part):
    """A named set of adjustments, applied in order to the deal's base case."""

    name: str = Field(min_length=1)
    description: str = ""
    adjustments: list[Adjustment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_rate_path(self):
        if sum(1 for a in self.adjustments if a.kind == "rate_path") > 1:
            raise ValueError("at most one rate_path adjustment per scenario")
        return self
