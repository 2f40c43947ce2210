"""Breakevens a credit committee asks for, each the smallest stress at which a line is
crossed, found from the unstressed side (the first crossing, so a non-monotone metric
further out does not hide it):

- rent haircut (every lease's rent x (1 - haircut) from period 1 on) to lock-up (min
  DSCR below the lock-up covenant), to default (the lenders accelerate) and to each
  tranche's first loss;
- re-let rate (the tenant stops paying in the first operating period and the space is
  re-let at once at this share of the scheduled rent, which is also the market rent an
  appraisal uses) to lock-up, to default and to each tranche's first loss;
- rate shock (a parallel shift of the base rate from close, in basis points) to default
  and to each tranche's first loss.

Each is searched on the sweep machinery (waterfall.sweeps.analysis.evaluate, one
kernel batch of `GRID` points per round) on top of the given scenario."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GRID = 33
ROUNDS = 4          # 32^4: the bracket is ~1e-6 of the range wide at the end
LOSS_FLOOR = 1e-6   # USD millions: a loss above one dollar is a loss
MAX_SHOCK_BP = 2000.0


@dataclass
class Breakeven:
    """`value` of the stress (haircut or re-let rate as a fraction, shock in bp) at the
    crossing; None if it is not crossed in the range searched. `at_base`: crossed with
    no stress at all (the scenario itself is past the line)."""

    key: str
    stress: str
    target: str
    value: float | None
    unit: str
    at_base: bool = False
    note: str = ""


def _first_crossing(evaluate_points, lo: float, hi: float) -> tuple[float | None, bool]:
    """The smallest x in [lo, hi] where bad(x) holds, to the grid's resolution (the
    upper end of the last bracket, where bad holds); (None, False) if never, (lo, True)
    if already at lo."""
    xs = np.linspace(lo, hi, GRID)
    bad = np.asarray(evaluate_points(xs), dtype=bool)
    if bad[0]:
        return lo, True
    for _ in range(ROUNDS):
        hits = np.nonzero(bad)[0]
        if not len(hits):
            return None, False
        i = int(hits[0])
        xs = np.linspace(xs[i - 1], xs[i], GRID)
        bad = np.array(evaluate_points(xs), dtype=bool)
        bad[-1] = True  # the bracket's upper end was bad in the round before
    return float(xs[int(np.nonzero(bad)[0][0])]), False


def _judge(frame, target: str, lock_up: float | None):
    if target == "lock_up":
        dscr = frame["min_dscr"].to_numpy(dtype=float)
        return np.where(np.isnan(dscr), False, dscr < lock_up)
    if target == "default":
        return frame["default_period"].notna().to_numpy()
    return frame[f"loss_{target}"].to_numpy(dtype=float) > LOSS_FLOOR


def _stresses(deal):
    """(key, label, unit, adjustment appended to the scenario, its field that varies,
    stress x -> field value, highest stress, targets)."""
    cod = deal.timeline.construction_periods + 1
    tranches = [t.name for t in deal.tranches]
    out = [("rent_haircut", "Rent haircut", "pct",
             {"kind": "rent_multiplier", "from_period": 1, "multiplier": 1.0}, "multiplier",
             lambda x: 1.0 - x, 1.0, ["lock_up", "default"] + tranches)]
    if deal.leases:
        out.append(("relet_rate", "Re-let rate", "pct",
                    {"kind": "tenant_default", "period": min(cod, deal.timeline.n_periods),
                     "downtime_periods": 0, "relet_haircut": 0.0}, "relet_haircut",
                    lambda x: x, 1.0, ["lock_up", "default"] + tranches))
    out.append(("rate_shock", "Rate shock", "bp", {"kind": "rate_shock", "bp": 0.0, "from_period": 0}, "bp",
                lambda x: x, MAX_SHOCK_BP, ["default"] + tranches))
    return out


def breakevens(deal, scenario=None, engine: str = "auto") -> list[Breakeven]:
    """Every breakeven of the module docstring for `deal` on top of `scenario` (None:
    base; its times are first lowered to the deal's periods). A re-let rate is reported
    as the rate (1 - haircut): the highest re-let rate at which the line is crossed."""
    from ..engine import resolve_deal, resolve_scenario
    from ..model.scenario import Scenario
    from ..scenarios import prepare
    from ..sweeps.analysis import evaluate

    deal = resolve_deal(deal)
    run_deal, base = prepare(deal, resolve_scenario(deal, scenario))
    lock_up = deal.covenants.lock_up_dscr
    out = []
    for key, label, unit, part, field_name, to_field, hi, targets in _stresses(deal):
        adjustments = [*base.model_dump()["adjustments"], part]
        scen = Scenario(name=base.name, description=base.description, adjustments=adjustments)
        path = f"scenario.adjustments.{len(adjustments) - 1}.{field_name}"
        for target in targets:
            if target == "lock_up" and lock_up is None:
                continue

            def bad(xs, target=target, scen=scen, path=path, to_field=to_field):
                frame = evaluate(run_deal, {path: [to_field(x) for x in xs]}, scenario=scen, engine=engine)
                return _judge(frame, target, lock_up)

            x, at_base = _first_crossing(bad, 0.0, hi)
            value = None if x is None else (1.0 - x if key == "relet_rate" else x)
            out.append(Breakeven(f"be.{key}.{target}", label, target, value, unit, at_base))
    return out


def target_label(target: str) -> str:
    return {"lock_up": "to lock-up", "default": "to default"}.get(target, f"to first loss: {target}")


def describe(b: Breakeven) -> str:
    """The breakeven in words, for a reader (no number: the number is shown beside it)."""
    if b.value is None:
        if b.unit == "bp":
            return f"not reached up to +{MAX_SHOCK_BP:,.0f}bp"
        return "not reached at any level"
    if b.at_base:
        return "already crossed in this scenario"
    return ""


def is_number(value) -> bool:
    return value is not None and math.isfinite(value)
