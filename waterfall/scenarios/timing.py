"""Portable times: a scenario whose times count months or years since financial close
becomes one in the deal's periods.

Period t covers months (m(t-1), m t] after close (m = months per period). A time x
months after close falls in period floor(x / m) + 1, which is where a "from" time
(`from_period`, `period`, curve points) starts; a "to" time ends with period ceil(x / m);
a duration (`delay`, `downtime`, `downtime_periods`, re-let curve offsets) is
ceil(x / m) periods. A "from" beyond the horizon drops the adjustment, a "to" beyond it
is clamped to the last period; an interval that becomes empty is dropped.
"""
from __future__ import annotations

import math

from ..payment_dates import period_end_dates
from ..model.deal import Deal
from ..model.scenario import Scenario

DURATIONS = ("delay", "downtime", "downtime_periods")
CALENDAR_KINDS = frozenset({"rate_shock", "rate_path", "refinancing_closed", "refinancing_spread", "opex_multiplier",
                            "asset_value_multiplier", "gpu_obsolescence", "market_rent_multiplier",
                            "cap_rate_shock", "rent_multiplier", "guarantor_default", "obligor_default"})
"""Market-wide stresses: with an anchor date their times count from that calendar date
(a rate shock in "years 1-4" hits every deal in the same years). A deal's own events
(construction delay, cost overrun, power shortfall, lease defaults) stay counted from
the deal's own close or COD."""


def months_between(start, end) -> float:
    """Months from date `start` to date `end` (days as a share of 30.4375)."""
    return (end.year - start.year) * 12 + (end.month - start.month) + (end.day - start.day) / 30.4375


def to_months(value: float, unit: str) -> float:
    return value * 12.0 if unit == "year" else float(value)


def start_period(months: float, months_per_period: int) -> int:
    """The period a "from" time `months` after close falls in (0 for close itself)."""
    if months <= 0:
        return 0
    return int(math.floor(months / months_per_period + 1e-9)) + 1


def end_period(months: float, months_per_period: int) -> int:
    return max(0, int(math.ceil(months / months_per_period - 1e-9)))


def duration_periods(months: float, months_per_period: int) -> int:
    return max(0, int(math.ceil(months / months_per_period - 1e-9)))


def resolve(scenario: Scenario, deal: Deal, anchor=None) -> Scenario:
    """The scenario in `deal`'s periods (returned as is when it already counts periods).
    `anchor`: a calendar date the market-wide stresses (CALENDAR_KINDS) count from
    instead of the deal's close (the chain's basis date, for presets)."""
    if scenario.time_unit == "period":
        return scenario
    unit, mpp, n = scenario.time_unit, deal.timeline.months_per_period, deal.timeline.n_periods
    offset = 0.0 if anchor is None else months_between(deal.timeline.financial_close, anchor)
    shift = 0.0

    def start(x):
        return start_period(to_months(x, unit) + shift, mpp)

    def end(x):
        return end_period(to_months(x, unit) + shift, mpp)

    def dur(x):
        return duration_periods(to_months(x, unit), mpp)

    adjustments = []
    for adj in scenario.adjustments:
        data = adj.model_dump()
        shift = offset if adj.kind in CALENDAR_KINDS and not data.get("from_cod") else 0.0
        if data.get("to_period") is not None and end(data["to_period"]) < 1:
            continue                           # over before the deal's first period
        if "from_period" in data:
            data["from_period"] = start(data["from_period"])
            floor = type(adj).model_fields["from_period"].metadata
            if any(getattr(m, "ge", 0) == 1 for m in floor):
                data["from_period"] = max(1, data["from_period"])
            if data["from_period"] > n:
                continue
        if "period" in data:
            data["period"] = max(1, start(data["period"]))
            if data["period"] > n:
                continue
        if data.get("to_period") is not None:
            data["to_period"] = min(end(data["to_period"]), n)
            if data["to_period"] < data.get("from_period", 0):
                continue
        for name in DURATIONS:
            if name in data:
                data[name] = dur(data[name])
        if adj.kind == "construction_delay" and data["delay"] < 1:
            continue
        if adj.kind in ("rate_path", "cpi_path"):
            points = {}
            for p, r in data["points"]:
                points.setdefault(min(start(p), n), r)
            data["points"] = sorted(points.items())
        if adj.kind == "gpu_obsolescence":
            data["steps"] = [(start(p), s) for p, s in data["steps"] if start(p) <= n]
            if not data["steps"]:
                continue
        if data.get("relet"):
            points = {}
            for p, level in data["relet"]["points"]:
                points.setdefault(dur(p), level)
            data["relet"]["points"] = sorted(points.items())
        adjustments.append(data)
    out = scenario.model_dump()
    out.update(time_unit="period", adjustments=adjustments, chain=None)
    return Scenario.model_validate(out)


def dated_closure(adj, deal: Deal):
    """A market closure given on calendar dates, in `deal`'s periods: the periods whose
    (unadjusted) payment date falls in [from_date, to_date); None if no period does."""
    tl = deal.timeline
    days = period_end_dates(tl)
    shut = [t for t, day in enumerate(days)
            if day >= adj.from_date and (adj.to_date is None or day < adj.to_date)]
    if not shut:
        return None
    data = adj.model_dump(exclude={"from_date", "to_date", "from_period", "to_period"})
    return type(adj).model_validate({**data, "from_period": shut[0], "to_period": shut[-1]})


def localise(scenario: Scenario, deal: Deal) -> Scenario:
    """Drop adjustments that do not apply to this deal (`deal_kinds`,
    `only_under_construction`) and count `from_cod` periods from the deal's COD."""
    tl = deal.timeline
    kept, changed = [], False
    for adj in scenario.adjustments:
        if getattr(adj, "from_date", None) is not None:
            adj = dated_closure(adj, deal)
            changed = True
            if adj is None:
                continue
        if deal.deal.kind not in getattr(adj, "deal_kinds", (deal.deal.kind,)):
            changed = True
            continue
        if getattr(adj, "only_under_construction", False) and (
                tl.construction_periods == 0 or tl.cod_period <= getattr(adj, "from_period", 0)):
            changed = True
            continue
        if getattr(adj, "from_cod", False):
            shift = tl.cod_period - 1
            to = None if adj.to_period is None else min(adj.to_period + shift, tl.n_periods)
            if adj.from_period + shift > tl.n_periods:
                changed = True
                continue
            adj = adj.model_copy(update={"from_period": adj.from_period + shift, "to_period": to,
                                         "from_cod": False})
            changed = True
        kept.append(adj)
    if not changed:
        return scenario
    return scenario.model_copy(update={"adjustments": kept})
