"""Taxes: the owner's corporate income tax on the SPV's income, tax depreciation per
asset component, interest deductibility, loss carry-forward, and property tax.

Off unless a deal has a `[tax]` section. Income tax is owner-level (docs/taxes.md): it
is computed on the equity's side after the debt waterfall, as project-finance models
and NREL SAM's Single Owner do, so it never changes what the lenders receive; property
tax is an operating cost of the SPV, paid before debt service (it is in CFADS)."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

import math

from pydantic import AfterValidator, Field, model_validator

from .base import Fraction, Part

MACRS = {
    # IRS Publication 946, Table A-1 (general depreciation system, 200% / 150% declining
    # balance switching to straight line, half-year convention), percent of basis by
    # recovery year. 39-year property (nonresidential real property) is straight line
    # (Table A-7a's mid-month convention is approximated here by the half-year one).
    "macrs_5": (20.00, 32.00, 19.20, 11.52, 11.52, 5.76),
    "macrs_7": (14.29, 24.49, 17.49, 12.49, 8.93, 8.92, 8.93, 4.46),
    "macrs_15": (5.00, 9.50, 8.55, 7.70, 6.93, 6.23, 5.90, 5.90, 5.91, 5.90, 5.91, 5.90, 5.91, 5.90,
                 5.91, 2.95),
}
METHODS = ("straight_line", "macrs_5", "macrs_7", "macrs_15", "macrs_39")


def _below_one(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number (NaN and inf are not allowed)")
    if not 0.0 <= value < 1.0:
        raise ValueError("a tax rate must be from 0 to below 1 (0.21 for 21%)")
    return value


TaxRate = Annotated[float, AfterValidator(_below_one)]
"""An income or property tax rate as a decimal in [0, 1)."""


class Depreciation(Part):
    """How one asset component class is depreciated for tax, from COD (placed in
    service): `straight_line` over `years` (half-year convention: half a year's amount
    in the first and in the last year, as SAM's and the IRS's straight-line tables), or
    a MACRS table (5, 7, 15 years; 39 years is straight line over 39). `bonus` is the
    share of the basis expensed in the first tax year (bonus depreciation), the rest on
    the schedule."""

    method: Literal["straight_line", "macrs_5", "macrs_7", "macrs_15", "macrs_39"]
    years: Optional[Annotated[int, Field(ge=1, le=100)]] = Field(
        None, description="Recovery period of straight-line depreciation, years (1 to 100).")
    bonus: Fraction = 0.0

    @model_validator(mode="after")
    def _complete(self):
        if self.method == "straight_line" and self.years is None:
            raise ValueError("straight_line depreciation needs years")
        if self.method != "straight_line" and self.years is not None:
            raise ValueError(f"{self.method} has its own recovery period: give no years")
        return self

    def shares(self) -> list[float]:
        """Share of the basis deducted in each tax year 1, 2, ... (sums to 1)."""
        if self.method in MACRS:
            table = [p / 100.0 for p in MACRS[self.method]]
        else:
            years = 39 if self.method == "macrs_39" else self.years
            table = [0.5 / years] + [1.0 / years] * (years - 1) + [0.5 / years]
        rest = 1.0 - self.bonus
        out = [rest * s for s in table]
        out[0] += self.bonus
        return out


class PropertyTax(Part):
    """Property tax: `rate` x the assessed value, paid each period before debt service
    (an operating cost, in CFADS). The assessed value is `assessed_share` of the asset
    cost, declining by `annual_decline` of that first value each year from COD
    (linear, never below zero), as SAM assesses it."""

    rate: TaxRate
    assessed_share: Fraction = 1.0
    annual_decline: Fraction = 0.0


class Tax(Part):
    """The owner's income tax on the SPV's taxable income: revenue less opex (property
    tax included), fees, hedge settlements, interest (if deductible) and tax
    depreciation, plus the gain on an exit sale over the undepreciated basis. A loss is
    carried forward (and used against later income up to `nol_limit` of it) or, with
    `losses = "offset"`, used at once against the owner's other income (a tax benefit,
    the convention of SAM's Single Owner)."""

    rate: TaxRate = Field(description="The corporate income tax rate (0.21 is the US federal "
                          "rate), a decimal in [0, 1).")
    state_rate: TaxRate = Field(0.0, description="A state income tax rate on the same taxable income, "
                                "deductible from the federal one: the rate charged is state_rate + rate "
                                "x (1 - state_rate).")
    interest_deductible: bool = True
    losses: Literal["carry_forward", "offset"] = "carry_forward"
    nol_limit: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1.0, description="Share of a period's taxable income a carried-forward loss may offset "
        "(0.8 is the US limit for losses after 2017).")
    depreciation: dict[Literal["land", "shell", "mep", "it"], Depreciation] = Field(
        default_factory=dict, description="Component class -> its tax depreciation; a component "
        "class not listed (land, usually) is not depreciated.")
    property_tax: Optional[PropertyTax] = None
