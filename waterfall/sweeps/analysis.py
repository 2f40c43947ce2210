"""What users read off sweeps: breakevens, tornado tables, 2-D tables, loss distributions."""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..engine import resolve_deal, resolve_scenario
from .core import run_chunk
from .runner import plan_sweep

# Breakeven targets: metric, level, and the direction of "bad".
TARGETS = {
    "min_dscr": ("min_dscr", 1.0),
    "lender_loss": ("lender_loss", 1e-9),
    "equity_irr": ("equity_irr", None),
}


# The value of a new scenario adjustment's field that leaves the base case unchanged.
NEUTRAL = {"multiplier": 1.0, "bp": 0.0}


def evaluate(deal, path_values: dict, scenario=None, engine: str = "auto"):
    """Metrics for explicit points: path_values {path: array} of equal lengths (no grid
    product). Returns the sweep DataFrame for those points."""
    from .runner import to_frame

    names = list(path_values)
    arrays = [np.asarray(v, dtype=float).reshape(-1) for v in path_values.values()]
    size = len(arrays[0])
    plan = plan_sweep(deal, {p: sorted(set(a.tolist())) for p, a in zip(names, arrays)}, scenario=scenario)
    # replace the grid by the explicit list of points: a 1-axis "grid" of point indices
    x = np.column_stack(arrays)
    plan.inputs = lambda start, stop: x[start:stop]  # type: ignore[method-assign]
    part = run_chunk(plan, 0, size, threads=None, engine=engine)
    return to_frame(plan, [part])


def breakeven(deal, path: str, target: str = "min_dscr", level: float | None = None,
              low: float | None = None, high: float | None = None, scenario=None,
              tol: float = 1e-6, grid: int = 33, max_rounds: int = 12) -> float:
    """The value of `path` in [low, high] at which `target` crosses `level`:
    'min_dscr' (default level 1.0x), 'lender_loss' (the first loss, level ~0), or
    'equity_irr' (give level, e.g. 0.12), or any metric name with a level.
    Refines a bracket by evaluating `grid` points at a time (one kernel batch per round);
    integer inputs (periods) return the first integer past the crossing. NaN if the
    metric does not cross the level in [low, high]."""
    deal = resolve_deal(deal)
    metric, default_level = TARGETS.get(target, (target, None))
    if metric not in ops.METRICS:
        raise ValueError(f"unknown target '{target}' (metrics: {', '.join(ops.METRICS)})")
    level = default_level if level is None else level
    if level is None:
        raise ValueError(f"target '{target}' needs a level")
    if low is None or high is None:
        raise ValueError("give the bracket: low and high")
    plan = plan_sweep(deal, {path: [low, high]}, scenario=scenario)
    is_int = plan.paths[0].is_int

    def side(values):
        frame = evaluate(deal, {path: values}, scenario=scenario)
        m = frame[metric].to_numpy(dtype=float)
        if metric == "default_period":
            return ~np.isnan(m)
        m = np.where(np.isnan(m), -np.inf if metric != "lender_loss" else 0.0, m)
        return m > level

    lo, hi = float(low), float(high)
    for _ in range(max_rounds):
        xs = np.unique(np.rint(np.linspace(lo, hi, grid))) if is_int else np.linspace(lo, hi, grid)
        s = side(xs)
        flips = np.nonzero(s[1:] != s[:-1])[0]
        if len(flips) == 0:
            return math.nan
        i = flips[0]
        lo, hi = float(xs[i]), float(xs[i + 1])
        if is_int and hi - lo <= 1:
            return hi
        if not is_int and hi - lo <= tol * max(1.0, abs(lo)):
            return 0.5 * (lo + hi)
    return 0.5 * (lo + hi)


def tornado(deal, ranges: dict, metric: str = "lender_loss", scenario=None, base: dict | None = None):
    """Each input at its low and high with the others at base: a DataFrame sorted by
    swing with input, low, high, base value, metric at low/base/high, swing.
    ranges: {path: (low, high)}; base: {path: value} (default: the deal/scenario value,
    or the no-change value of a new multiplier/shock, else the midpoint)."""
    import pandas as pd

    deal = resolve_deal(deal)
    paths = list(ranges)
    base = dict(base or {})
    for p in paths:
        if p not in base:
            base[p] = _current_value(deal, p, scenario, ranges[p])
    rows = []
    columns = {p: [] for p in paths}
    for p in paths:
        for v in (ranges[p][0], ranges[p][1]):
            for q in paths:
                columns[q].append(v if q == p else base[q])
    for q in paths:
        columns[q].append(base[q])
    frame = evaluate(deal, columns, scenario=scenario)
    values = frame[metric].to_numpy(dtype=float)
    at_base = values[-1]
    for i, p in enumerate(paths):
        lo_v, hi_v = values[2 * i], values[2 * i + 1]
        rows.append({"input": p, "low": ranges[p][0], "high": ranges[p][1], "base": base[p],
                     f"{metric}_low": lo_v, f"{metric}_base": at_base, f"{metric}_high": hi_v,
                     "swing": abs(hi_v - lo_v)})
    return pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def _current_value(deal, path: str, scenario, rng) -> float:
    from .paths import resolve

    scen = resolve_scenario(deal, scenario)
    vp = resolve(path, deal, scen)
    if vp.side == "deal":
        obj = deal.model_dump()
        for k in vp.keys:
            obj = obj[k]
    else:
        index, field = vp.keys
        obj = NEUTRAL.get(field) if vp.new_adjustment else getattr(scen.adjustments[index], field)
    if obj is None:
        obj = 0.5 * (rng[0] + rng[1])
    return float(obj)


def table2d(deal, rows: tuple, cols: tuple, metric: str = "lender_loss", scenario=None, **kw):
    """A 2-D table: rows=(path, values), cols=(path, values) -> DataFrame of `metric`
    (index: row values, columns: column values)."""
    from .runner import sweep

    (rp, rv), (cp, cv) = rows, cols
    frame = sweep(deal, {rp: rv, cp: cv}, scenario=scenario, **kw)
    table = frame.pivot(index=rp, columns=cp, values=metric)
    table.attrs["metric"] = metric
    return table


def loss_distribution(frame, levels=(0.95, 0.99), loss: str = "lender_loss"):
    """Expected loss, VaR and CVaR (expected shortfall) at each level from a Monte
    Carlo sweep, for the deal and for each lender (tranche losses x the tranche's
    `lenders` shares) and each tranche. One row per holder: holder, kind, expected_loss,
    prob_loss, var_95, cvar_95, var_99, cvar_99, max_loss."""
    import pandas as pd

    holders = [("deal", "deal", frame[loss].to_numpy(dtype=float))]
    tranches = frame.attrs.get("tranches") or [c[5:] for c in frame.columns if c.startswith("loss_")]
    lenders = frame.attrs.get("lenders") or {}
    per_lender: dict = {}
    for t in tranches:
        col = f"loss_{t}"
        if col not in frame:
            continue
        values = frame[col].to_numpy(dtype=float)
        if len(tranches) > 1:
            holders.append((t, "tranche", values))
        for lender, share in (lenders.get(t) or {}).items():
            per_lender[lender] = per_lender.get(lender, 0.0) + share * values
    holders += [(name, "lender", values) for name, values in sorted(per_lender.items())]
    rows = []
    for name, kind, values in holders:
        values = np.nan_to_num(values, nan=0.0)
        row = {"holder": name, "kind": kind, "expected_loss": float(values.mean()),
               "prob_loss": float((values > 1e-9).mean())}
        for level in levels:
            var, cvar = var_cvar(values, level)
            tag = f"{round(level * 100):d}"
            row[f"var_{tag}"], row[f"cvar_{tag}"] = var, cvar
        row["max_loss"] = float(values.max()) if len(values) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def lgd_by_default_date(frame, by_year: bool = True):
    """Loss given default by when the default happens, from a sweep's rows: per default
    period (or year of it, with the sweep's period length), the number of defaults, the
    mean nominal LGD (1 - recovery_rate), the mean LGD at the contract rate
    (1 - recovery_rate_pv, as rating agencies measure it), the mean lender loss and the
    mean workout length in periods. Rows without a default are left out."""
    import pandas as pd

    hit = frame[frame["default_period"].notna() & frame["lender_claim"].gt(0)].copy()
    months = frame.attrs.get("months_per_period")
    if by_year and months:
        hit["when"] = np.ceil(hit["default_period"].astype(float) * months / 12.0).astype(int)
        key = "default_year"
    else:
        hit["when"], key = hit["default_period"].astype(int), "default_period"
    out = hit.groupby("when").agg(
        defaults=("lender_claim", "size"),
        lgd=("recovery_rate", lambda r: float(np.mean(1.0 - np.minimum(r.to_numpy(float), 1.0)))),
        lgd_pv=("recovery_rate_pv", lambda r: float(np.mean(1.0 - np.minimum(r.to_numpy(float), 1.0)))),
        mean_loss=("lender_loss", "mean"), workout_periods=("recovery_periods", "mean"))
    return out.rename_axis(key).reset_index()


def var_cvar(losses: np.ndarray, level: float) -> tuple[float, float]:
    """VaR: the `level` quantile of the loss (lower empirical quantile, a value that
    occurred); CVaR: the mean loss in the worst (1 - level) tail, counting the partial
    atom at VaR (Rockafellar-Uryasev), so CVaR >= VaR always."""
    x = np.sort(np.asarray(losses, dtype=float))
    n = len(x)
    if n == 0:
        return math.nan, math.nan
    k = min(n - 1, max(0, math.ceil(level * n) - 1))
    var = float(x[k])
    tail = 1.0 - level
    if tail <= 0:
        return var, float(x[-1])
    above = x[x > var]
    weight_at_var = tail * n - len(above)
    cvar = (above.sum() + max(weight_at_var, 0.0) * var) / (tail * n)
    return var, float(cvar)
