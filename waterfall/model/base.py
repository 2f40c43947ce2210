"""Shared pieces of the deal schema: strict models, finite numbers, provenance."""
from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Confidence = Literal["reported", "reported (secondary)", "estimated", "assumption", "illustrative"]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number (NaN and inf are not allowed)")
    return value


MAX_AMOUNT = 1e12
"""The largest amount, multiplier or level (a trillion of the deal's units): with the
bounds on periods, rates and escalation (waterfall.checks) no product or sum the engine
forms can overflow a float."""
MAX_TIME = 100_000
"""The largest period index, time (periods, months or years) or count of periods or
months: far beyond any horizon (at most 2,400 periods, the dates at most 2199) and well
inside the kernel's 32-bit integers."""

Finite = Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT), AfterValidator(_finite)]
NonNegative = Annotated[float, Field(ge=0, le=MAX_AMOUNT), AfterValidator(_finite)]
Fraction = Annotated[float, Field(ge=0, le=1), AfterValidator(_finite)]
RATE_MAX = 1.0
"""The highest annual rate a deal may state: 100% a year. 4.5 is 450% a year, almost
always 4.5% typed as a percentage."""


class _RateCeiling:
    """Carries the ceiling for readers of the field's bounds (waterfall.sweeps.paths);
    pydantic ignores it, and _annual_rate enforces it with a message that says how."""

    le = RATE_MAX


def _annual_rate(value: float) -> float:
    _finite(value)
    if value > RATE_MAX:
        raise ValueError(f"must be an annual rate as a decimal, 0.045 for 4.5% "
                         f"(at most {RATE_MAX:g}, i.e. 100% a year)")
    return value


Rate = Annotated[float, Field(ge=-0.5, json_schema_extra={"maximum": RATE_MAX}), _RateCeiling(),
                 AfterValidator(_annual_rate)]
"""An annual rate as a decimal (0.06 is 6% a year), from -0.5 to 1.0."""
Period = Annotated[int, Field(ge=0, le=MAX_TIME)]
"""A period index: 0 is financial close, 1 the first period after it."""
Count = Annotated[int, Field(ge=0, le=MAX_TIME)]
"""A number of periods, months or events (at most MAX_TIME)."""
PositiveCount = Annotated[int, Field(ge=1, le=MAX_TIME)]
Ratio = Annotated[float, Field(ge=0.01, le=100.0), AfterValidator(_finite)]
"""A target coverage ratio (DSCR), between 0.01x and 100x."""


class Source(BaseModel):
    """Where a number comes from: a URL or document, and how far to trust it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = ""
    confidence: Confidence = "assumption"
    note: str = ""


def check_cpi_points(points) -> None:
    """A CPI path's (period, annual inflation) points: strictly increasing periods (the deal's
    [cpi] curve and a cpi_path scenario alike)."""
    periods = [p for p, _ in points]
    if periods != sorted(set(periods)):
        raise ValueError(f"CPI points must have strictly increasing periods (got periods {periods})")


class Part(BaseModel):
    """Base of every deal part: unknown fields are errors; `provenance` maps a field
    name of this part to its source, and the names are checked."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
    provenance: dict[str, Source] = Field(default_factory=dict, description="Field name of this part "
                                          "-> where its value comes from (source URL or document and a "
                                          "confidence label).")

    @model_validator(mode="after")
    def _provenance_names_fields(self):
        known = set(type(self).model_fields)
        for key in self.provenance:
            if key not in known:
                raise ValueError(
                    f"provenance names '{key}', which is not a field of {type(self).__name__}"
                )
        return self
