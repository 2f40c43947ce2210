"""Interest-rate hedges of a floating tranche: pay-fixed swaps and bought caps.

A hedge's notional is a schedule fixed at trade date, as a swap confirmation states it:
either stated amounts (`notional`: the amount from each listed period on) or a share of
the hedged tranche's base-case opening balance (`notional_share`), which is how a bank
sizes a hedge to a loan's expected profile. It settles each period in
[`start_period`, `end_period`] on the deal's base-rate index under the scenario (the
deal's curve, its rate path and rate shocks) at its own day count. Its `hedge` step pays
the net settlement in the priority of payments (a receipt adds cash there); on an
acceleration it terminates at its mark-to-market on the scenario's curve, and an amount
owed to the bank is a claim in the recovery of rank `rank` (by default the hedged
tranche's: pari passu with the senior debt, as intercreditor agreements rank hedge
banks). docs/credit.md gives the rules.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, model_validator

from .base import Fraction, NonNegative, Part, Period, PositiveCount, Rate

DayCount = Literal["ACT/360", "30/360", "ACT/365F", "ACT/ACT ISDA", "30E/360"]


class Hedge(Part):
    """One swap or cap. Rates are annual decimals; amounts in the deal's units."""

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["swap", "cap"]
    tranche: str = Field(min_length=1)
    index: str = "SOFR"
    notional_share: Optional[Fraction] = None
    notional: Optional[list[tuple[Period, NonNegative]]] = None
    start_period: PositiveCount = 1
    end_period: Optional[PositiveCount] = None
    fixed_rate: Optional[Union[Rate, Literal["par"]]] = None
    """A swap's fixed rate (annual), or "par": struck at market on the deal's base-case curve."""
    strike: Optional[Annotated[float, Field(ge=0.0, le=1.0)]] = None
    premium: NonNegative = 0.0
    day_count: Optional[DayCount] = None
    rank: Optional[Annotated[int, Field(ge=1, le=1000)]] = None

    @model_validator(mode="after")
    def _terms(self):
        if (self.notional_share is None) == (self.notional is None):
            raise ValueError("give exactly one of notional_share and notional")
        if self.notional is not None and not self.notional:
            raise ValueError("notional lists no (period, amount)")
        if self.kind == "swap":
            if self.fixed_rate is None:
                raise ValueError("a swap needs fixed_rate")
            if self.strike is not None or self.premium:
                raise ValueError("strike and premium are a cap's terms, not a swap's")
        else:
            if self.strike is None:
                raise ValueError("a cap needs strike")
            if self.fixed_rate is not None:
                raise ValueError("fixed_rate is a swap's term, not a cap's")
        if self.end_period is not None and self.end_period < self.start_period:
            raise ValueError(f"end_period {self.end_period} is before start_period {self.start_period}")
        return self
