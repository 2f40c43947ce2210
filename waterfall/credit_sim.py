"""Portfolio credit simulation: correlated issuer defaults through the chain.

Each simulated obligor i (scenarios/entities.toml `[simulation]`) has an annual default
probability p_i (from its CDS spread or rating, with source and date) and so a constant
hazard h_i = -ln(1 - p_i). A path draws latent variables Z ~ N(0, C) (C the stated
correlation, an assumption), or a Student-t with `dof` degrees of freedom, maps them to
uniforms U_i = F(Z_i) and to default times tau_i = -ln(1 - U_i) / h_i (years after the
basis date). A default after the horizon is no default.

Losses come from the real chain, not a formula: for each obligor and each year y of the
horizon the whole portfolio is run with that obligor forced into default in the middle
of year y (commands.portfolio.chain_rows with `forced`): its instruments accelerate,
its leases are rejected, its SPVs run their waterfalls and collect their capped claims.
The loss of each deal, lender and sponsor on that run, less its base-case loss, is the
obligor's loss table. A path's loss is the base case plus, for every obligor that
defaults within the horizon, its table's row for its default year. That sum is exact when
no deal depends on two simulated obligors (true of the built-in graph: each deal has one
tenant or issuer, and CoreWeave guarantees only its own SPV); `tables_overlap` says when it
is not.

Paths are drawn in blocks of BLOCK from numpy SeedSequence(seed).spawn: path k is the same
whatever the number of paths asked for beyond it, and however the blocks are shared out.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

BLOCK = 10_000
LEVELS = (0.95, 0.99, 0.999)


@dataclass
class LossTables:
    """Per simulated obligor: [years + 1, columns] extra loss (USD millions) when it
    defaults in year y (the last row, no default, is zero); `columns` name the deals
    ("deal:NAME"), lenders ("lender:NAME") and sponsors ("sponsor:NAME"); `base` the
    base case's loss per column."""

    obligors: list[str]
    columns: list[str]
    tables: np.ndarray          # [obligor, year (+1 for none), column]
    base: np.ndarray
    years: int


def _losses(rows: list[dict], lenders: dict, sponsors: dict, columns: list[str]) -> np.ndarray:
    values = {f"deal:{r['deal']}": r["loss"] for r in rows}
    values.update({f"lender:{k}": v["loss"] for k, v in lenders.items()})
    values.update({f"sponsor:{k}": v["loss"] for k, v in sponsors.items()})
    return np.array([values.get(c, 0.0) for c in columns])


def loss_tables(graph, deals: list, progress=None) -> LossTables:
    """Run the chain once with no default and once per obligor and horizon year with
    that obligor forced into default mid-year (module doc)."""
    from .commands.portfolio import holders, chain_rows
    from .issuers import add_months
    from .scenarios.presets import load_preset

    sim, base_preset, by_name = graph.simulation, load_preset("base"), {d.name: d for d in deals}

    def run(forced):
        rows, _, _ = chain_rows(graph, base_preset, deals, forced=forced)
        lenders, sponsors = holders(rows, by_name)
        return rows, lenders, sponsors

    rows, lenders, sponsors = run(None)
    columns = ([f"deal:{r['deal']}" for r in rows] + [f"lender:{k}" for k in sorted(lenders)]
               + [f"sponsor:{k}" for k in sorted(sponsors)])
    base = _losses(rows, lenders, sponsors, columns)
    tables = np.zeros((len(sim.obligors), sim.horizon_years + 1, len(columns)))
    for i, name in enumerate(sim.obligors):
        for y in range(sim.horizon_years):
            when = add_months(graph.basis_date, 12 * y + 6)
            tables[i, y] = _losses(*run({name: when}), columns) - base
            if progress:
                progress()
    return LossTables(list(sim.obligors), columns, tables, base, sim.horizon_years)


def tables_overlap(tables: LossTables, tol: float = 1e-6) -> list[str]:
    """Deals whose loss moves with more than one obligor's default (the sum of tables is
    then an approximation for paths where both default)."""
    deals = [k for k, c in enumerate(tables.columns) if c.startswith("deal:")]
    moved = np.abs(tables.tables[:, :, deals]).max(axis=1) > tol      # [obligor, deal]
    return [tables.columns[deals[k]][5:] for k in np.flatnonzero(moved.sum(axis=0) > 1)]


def default_years(sim, pds: np.ndarray, n: int, seed: int, start_block: int = 0) -> np.ndarray:
    """[n, obligors] default year (0 .. horizon-1) or `horizon` for none, for paths
    BLOCK x start_block ... onwards: block b from SeedSequence(seed).spawn(...)[b]."""
    from scipy.stats import norm, t as student

    k = len(sim.obligors)
    chol = _factor(np.array(sim.correlation, dtype=float))
    hazard = -np.log1p(-pds)
    out, blocks = [], math.ceil(n / BLOCK)
    children = np.random.SeedSequence(seed).spawn(start_block + blocks)[start_block:]
    for b, child in enumerate(children):
        rng = np.random.default_rng(child)
        z = rng.standard_normal((BLOCK, k)) @ chol.T
        if sim.copula == "student_t":
            w = rng.chisquare(sim.dof, size=(BLOCK, 1))
            u = student.cdf(z / np.sqrt(w / sim.dof), sim.dof)
        else:
            u = norm.cdf(z)
        tau = -np.log1p(-np.minimum(u, 1 - 1e-16)) / hazard
        out.append(np.minimum(np.floor(tau), sim.horizon_years).astype(np.int64))
    return np.concatenate(out)[:n]


def _factor(corr: np.ndarray) -> np.ndarray:
    """A square root L of a PSD correlation (L L' = C), by eigenvalues (C may be singular)."""
    vals, vecs = np.linalg.eigh(corr)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


def path_losses(tables: LossTables, years: np.ndarray) -> np.ndarray:
    """[paths, columns] loss on each path: the base case plus each defaulting obligor's row."""
    out = np.broadcast_to(tables.base, (len(years), len(tables.columns))).copy()
    for i in range(len(tables.obligors)):
        out += tables.tables[i][years[:, i]]
    return out


def risk_measures(losses: np.ndarray) -> dict:
    """Expected loss, VaR and CVaR at LEVELS, of one loss per path: VaR_q is the
    ceil(q n)-th smallest loss, CVaR_q (expected shortfall) the mean of the worst
    ceil((1 - q) n) losses."""
    n = len(losses)
    out = {"expected_loss": float(losses.mean())}
    ordered = np.sort(losses)
    for q in LEVELS:
        k = max(1, math.ceil((1.0 - q) * n - 1e-9))
        out[f"var_{q:g}"] = float(ordered[n - k])
        out[f"cvar_{q:g}"] = float(ordered[n - k:].mean())
    return out


@dataclass
class SimulationResult:
    n: int
    seed: int
    obligors: list[str]
    default_rate: dict
    total: dict
    by_column: dict
    contribution: dict
    timing: dict
    overlap: list[str]


def simulate_portfolio(graph, deals: list, n: int, seed: int, progress=None) -> SimulationResult:
    """`n` joint paths (module doc): risk measures in total, per deal, lender and sponsor,
    each deal's contribution (its mean loss, and its mean loss on the total's 99% tail
    paths) and the loss timing (expected loss by the default year that caused it)."""
    sim = graph.simulation
    pds = np.array([next(o for o in graph.obligors if o.name == name).default_probability.annual
                    for name in sim.obligors])
    tables = loss_tables(graph, deals, progress)
    years = default_years(sim, pds, n, seed)
    losses = path_losses(tables, years)
    deal_cols = [k for k, c in enumerate(tables.columns) if c.startswith("deal:")]
    total = losses[:, deal_cols].sum(axis=1)
    tail = np.argsort(total, kind="stable")[n - max(1, math.ceil(0.01 * n - 1e-9)):]
    timing = {}
    for y in range(sim.horizon_years):
        extra = sum(tables.tables[i, y, deal_cols].sum() * (years[:, i] == y).sum() for i in range(len(pds)))
        timing[y] = float(extra / n)
    return SimulationResult(
        n, seed, list(sim.obligors),
        {name: float((years[:, i] < sim.horizon_years).mean()) for i, name in enumerate(sim.obligors)},
        risk_measures(total),
        {c: risk_measures(losses[:, k]) for k, c in enumerate(tables.columns)},
        {tables.columns[k][5:]: {"expected_loss": float(losses[:, k].mean()),
                                 "tail_99": float(losses[tail, k].mean())} for k in deal_cols},
        timing, tables_overlap(tables))
