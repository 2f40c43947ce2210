"""Portfolio credit simulation: correlated issuer defaults through the chain.

Each simulated obligor i (scenarios/entities.toml `[simulation]`: the AI lab and the
obligors) has an annual default probability p_i (from its CDS spread or rating, with
source and date, or an assumption) and so a constant hazard h_i = -ln(1 - p_i). A path
draws latent variables Z ~ N(0, C) (C the stated correlation, an assumption), or a
Student-t with `dof` degrees of freedom, maps them to uniforms U_i = F(Z_i) and to
default times tau_i = -ln(1 - U_i) / h_i (years after the basis date). A default after
the horizon is no default.

Losses come from the real chain, not a formula. The lab is the root of the chain: for
each year a of the horizon (and for no lab default) the whole portfolio is run with the
lab forced into default in the middle of year a (it pays its providers nothing from
then on; run_chain's `forced`), and, on each such run, with each other obligor forced
into default in the middle of each year y too: its instruments accelerate, its leases
are rejected, its SPVs run their waterfalls and collect their capped claims. The loss of
each deal, lender and sponsor on the lab's run is the path's starting point; each other
obligor's extra loss over the lab's run is its table. A path's loss is the lab's row for
its lab year plus, for every other obligor that defaults within the horizon, its table's
row for (lab year, its year). That is exact in the lab (every lab year is its own run,
so the providers the lab's default topples are not counted twice) and exact in the rest
when no deal depends on two obligors other than the lab (true of the built-in graph:
each deal has one tenant or issuer, and CoreWeave guarantees only its own SPV);
`tables_overlap` says when it is not. A run whose forced default falls after the quarter
in which the chain has already put that obligor into default is the lab's run itself
(its extra loss is zero) and is not run again; nor is any run on a lab year after the lab's
last commitment (its default changes no pay ratio: those are the no-default runs).

Paths are drawn in blocks of BLOCK, block b from numpy SeedSequence(seed).spawn(...)[b]:
path k is the same whatever the number of paths asked for beyond it, and however the
paths are cut into chunks. A chunk (on this process, a local worker process or a Dask
worker) returns how many of its paths fell on each combination of default years; the
counts are integers, so their sum, and every risk measure computed from it, is the same
to the last bit whatever the chunking, the number of workers or the backend.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

BLOCK = 10_000
LEVELS = (0.95, 0.99, 0.999)
MIN_CHUNK = 5 * BLOCK
"""Default paths per chunk at least (a chunk of 50,000 paths takes ~20 ms: more is
scheduling, not work)."""


@dataclass
class LossTables:
    """The chain's losses (USD millions) per column: `columns` name the deals
    ("deal:NAME"), lenders ("lender:NAME") and sponsors ("sponsor:NAME").

    `rows[a]`: the loss on the run with the lab defaulting in year a (a = `years`: no lab
    default; a single row, the base case, when the lab is not simulated). `tables[a, i, y]`:
    the extra loss over `rows[a]` when obligor i also defaults in year y (y = `years`:
    none, zero; the lab's own slice is zero). `chain_default[a, i]`: the year obligor i
    defaults in the chain on the lab's run a (`years`: not within the horizon)."""

    obligors: list[str]
    columns: list[str]
    lab: int | None
    rows: np.ndarray            # [lab states, column]
    tables: np.ndarray          # [lab states, obligor, year (+1 for none), column]
    base: np.ndarray
    years: int
    chain_default: np.ndarray   # [lab states, obligor]


@dataclass
class Copula:
    """What a chunk of paths needs: the factor L of the correlation (L L' = C, computed
    once on the driver so every worker draws with the same bits), the hazards, the copula
    and its degrees of freedom, the horizon in years, and the seed."""

    factor: np.ndarray
    hazard: np.ndarray
    kind: str
    dof: float
    horizon: int
    seed: int


def copula_of(sim, pds: np.ndarray, seed: int) -> Copula:
    return Copula(_factor(np.array(sim.correlation, dtype=float)), -np.log1p(-np.asarray(pds, dtype=float)),
                  sim.copula, float(sim.dof), int(sim.horizon_years), int(seed))


def simulated_pds(graph, preset=None) -> np.ndarray:
    """The input annual PD of each simulated obligor, in [simulation] order: the graph's,
    or under `preset` the PD its chain.default_probability states for that obligor
    (model.scenario.PdStress: a hazard multiplier or a stressed CDS spread)."""
    known = {graph.lab.name: graph.lab.default_probability}
    known.update({o.name: o.default_probability for o in graph.obligors})
    stated = preset_pds(preset)
    return np.array([stated[name].annual(known[name].annual) if name in stated else known[name].annual
                     for name in graph.simulation.obligors])


def preset_pds(preset) -> dict:
    """{obligor: PdStress} a preset states (none for the base case or no preset)."""
    chain = None if preset is None else preset.chain
    return {} if chain is None else dict(chain.default_probability)


def pd_problems(graph, preset) -> list[tuple[str, str, str]]:
    """Bad-input problems (field, message, value) of a preset's PDs: each must name a
    simulated obligor."""
    names = list(graph.simulation.obligors) if graph.simulation is not None else []
    return [(f"chain.default_probability[{name!r}]", f"not a simulated obligor (known: {', '.join(names)})", name)
            for name in preset_pds(preset) if name not in names]


# --- loss tables from the chain --------------------------------------------------------

def _losses(rows: list[dict], lenders: dict, sponsors: dict) -> dict:
    """{column: loss} of one run: its deals in their order, then lenders and sponsors by name."""
    values = {f"deal:{r['deal']}": r["loss"] for r in rows}
    values.update({f"lender:{k}": lenders[k]["loss"] for k in sorted(lenders)})
    values.update({f"sponsor:{k}": sponsors[k]["loss"] for k in sorted(sponsors)})
    return values


def _chain_run(graph, deals: list, forced: dict | None, preset=None):
    """(rows, lenders, sponsors, outcome) of `preset` (None: the base case) through the
    chain with `forced` defaults {entity: date}."""
    from .commands.portfolio import chain_rows, holders
    from .scenarios.presets import load_preset

    rows, outcome, _ = chain_rows(graph, preset or load_preset("base"), deals, forced=forced)
    lenders, sponsors = holders(rows, {d.name: d for d in deals})
    return rows, lenders, sponsors, outcome


def _mid_year(graph, y: int):
    from .issuers import add_months
    return add_months(graph.basis_date, 12 * y + 6)


def run_losses(shared, forced_years: dict) -> tuple[dict, dict]:
    """One chain run with {entity: year} forced defaults (each mid-year): its loss per
    column ({column: USD m}) and, per simulated obligor, (its default year in the chain or
    None, the end of the quarter it defaults in or None), and under "pay_ratio" the lab's
    pay ratio by year. `shared` is (graph, deals) or (graph, deals, preset)."""
    graph, deals, preset = shared if len(shared) == 3 else (*shared, None)
    forced = {name: _mid_year(graph, y) for name, y in forced_years.items()} or None
    rows, lenders, sponsors, outcome = _chain_run(graph, deals, forced, preset)
    states = {}
    for name in graph.simulation.obligors:
        st = outcome.entities.get(name)
        out = None if st is None else st.issuer
        if out is None or out.default_date is None:
            states[name] = (None, None)
        else:
            states[name] = (out.default_year, out.path[-1]["date"])
    states["pay_ratio"] = tuple(outcome.pay_ratio)
    return _losses(rows, lenders, sponsors), states


def _run_many(shared, specs: list[dict]) -> list:
    return [run_losses(shared, spec) for spec in specs]


def loss_tables(graph, deals: list, pool=None, progress=None, preset=None) -> LossTables:
    """The lab's runs, then every other obligor's on each of them (module doc), under
    `preset` (None: the base case). `pool` runs the chain runs (serially here when
    None); `progress(k)` after k runs."""
    pool = pool or Serial()
    sim, h = graph.simulation, graph.simulation.horizon_years
    names = list(sim.obligors)
    lab = names.index(graph.lab.name) if graph.lab.name in names else None
    handle = pool.share((graph, deals) if preset is None else (graph, deals, preset))
    states = h + 1 if lab is not None else 1
    lab_specs = [{names[lab]: a} if lab is not None and a < h else {} for a in range(states)]
    first = pool.map(_run_many, handle, [[s] for s in lab_specs], progress)
    columns = list(first[-1][0][0])          # the base case's deals, lenders and sponsors

    def vector(values: dict) -> np.ndarray:
        return np.array([values.get(c, 0.0) for c in columns])

    lab_rows = np.array([vector(r[0][0]) for r in first])
    chain_state = [r[0][1] for r in first]
    tables = np.zeros((states, len(names), h + 1, len(columns)))
    chain_default = np.full((states, len(names)), h, dtype=np.int64)
    jobs, where = [], []
    # a lab year after its last commitment (it owes nothing, so its default changes no pay
    # ratio) is the no-default run: its tables are that run's, copied below, not run again
    same = [a for a in range(states - 1) if chain_state[a]["pay_ratio"] == chain_state[-1]["pay_ratio"]]
    if progress and same:
        progress(len(same) * (len(names) - 1) * h)
    for a in range(states):
        if a in same:
            continue
        for i, name in enumerate(names):
            if i == lab:
                continue
            year, quarter_end = chain_state[a][name]
            if year is not None and year < h:
                chain_default[a, i] = int(math.floor(year))
            ys = [y for y in range(h) if quarter_end is None or _mid_year(graph, y) < quarter_end]
            if progress and len(ys) < h:
                progress(h - len(ys))      # runs that would be the lab's run itself: not run
            if ys:
                jobs.append([dict(lab_specs[a], **{name: y}) for y in ys])
                where.append((a, i, ys))
    for (a, i, ys), results in zip(where, pool.map(_run_many, handle, jobs, progress, weight=len)):
        for y, (loss, _) in zip(ys, results):
            tables[a, i, y] = vector(loss) - lab_rows[a]
    for a in same:
        tables[a], chain_default[a] = tables[-1], chain_default[-1]
    return LossTables(names, columns, lab, lab_rows, tables, lab_rows[-1], h, chain_default)


def table_runs(graph) -> int:
    """How many chain runs loss_tables makes at most (the progress bar's total)."""
    sim = graph.simulation
    lab = graph.lab.name in sim.obligors
    states = sim.horizon_years + 1 if lab else 1
    return states + states * (len(sim.obligors) - lab) * sim.horizon_years


def tables_overlap(tables: LossTables, tol: float = 1e-6) -> list[str]:
    """Deals whose loss moves with more than one obligor's default other than the lab's
    (the sum of their tables is then an approximation on paths where both default)."""
    deals = [k for k, c in enumerate(tables.columns) if c.startswith("deal:")]
    moved = np.abs(tables.tables[..., deals]).max(axis=(0, 2)) > tol      # [obligor, deal]
    return [tables.columns[deals[k]][5:] for k in np.flatnonzero(moved.sum(axis=0) > 1)]


# --- draws -----------------------------------------------------------------------------

def draw_years(cop: Copula, start: int, stop: int) -> np.ndarray:
    """[stop - start, obligors] default year (0 .. horizon-1, or `horizon` for none) of
    paths start .. stop-1: the blocks that hold them, block b from
    SeedSequence(seed).spawn(...)[b], so a path does not depend on how paths are cut."""
    from scipy.stats import norm, t as student

    if stop <= start:
        return np.zeros((0, len(cop.hazard)), dtype=np.int64)
    first, last = start // BLOCK, (stop - 1) // BLOCK
    children = np.random.SeedSequence(cop.seed).spawn(last + 1)[first:]
    out = []
    for child in children:
        rng = np.random.default_rng(child)
        x = rng.standard_normal((BLOCK, len(cop.hazard)))
        z = np.zeros_like(x)
        for m in range(x.shape[1]):        # z = x L', term by term: the same bits on every machine
            z += x[:, m:m + 1] * cop.factor[:, m]
        if cop.kind == "student_t":
            w = rng.chisquare(cop.dof, size=(BLOCK, 1))
            u = student.cdf(z / np.sqrt(w / cop.dof), cop.dof)
        else:
            u = norm.cdf(z)
        tau = -np.log1p(-np.minimum(u, 1 - 1e-16)) / cop.hazard
        out.append(np.minimum(np.floor(tau), cop.horizon).astype(np.int64))
    years = np.concatenate(out)
    return years[start - first * BLOCK:stop - first * BLOCK]


def default_years(sim, pds: np.ndarray, n: int, seed: int, start_block: int = 0) -> np.ndarray:
    """[n, obligors] default years of paths BLOCK x start_block ... onwards (draw_years)."""
    start = start_block * BLOCK
    return draw_years(copula_of(sim, pds, seed), start, start + n)


def _factor(corr: np.ndarray) -> np.ndarray:
    """A square root L of a PSD correlation (L L' = C), by eigenvalues (C may be singular)."""
    vals, vecs = np.linalg.eigh(corr)
    return vecs * np.sqrt(np.clip(vals, 0.0, None))


def count_chunk(cop: Copula, span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(combinations, counts): each distinct row of default years among paths
    span[0] .. span[1]-1 and how many paths drew it."""
    years = draw_years(cop, *span)
    base, k = cop.horizon + 1, years.shape[1]
    if base ** k >= 2 ** 62:      # too many combinations for one int64 code: rows themselves
        combos, counts = np.unique(years.astype(np.int16), axis=0, return_counts=True)
        return combos, counts.astype(np.int64)
    codes = years @ (base ** np.arange(k, dtype=np.int64))    # integers: exact
    unique, counts = np.unique(codes, return_counts=True)
    combos = (unique[:, None] // (base ** np.arange(k, dtype=np.int64))) % base
    return combos.astype(np.int16), counts.astype(np.int64)


def _count_many(cop: Copula, spans: list) -> list:
    return [count_chunk(cop, span) for span in spans]


def merge_counts(parts: list[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The chunks' combinations and counts added up (sorted combinations: the same
    whatever order or cut the chunks came in)."""
    if not parts:
        return np.zeros((0, k), dtype=np.int16), np.zeros(0, dtype=np.int64)
    combos = np.concatenate([c for c, _ in parts])
    counts = np.concatenate([n for _, n in parts])
    unique, inverse = np.unique(combos, axis=0, return_inverse=True)
    total = np.zeros(len(unique), dtype=np.int64)
    np.add.at(total, inverse.ravel(), counts)
    return unique, total


# --- losses and risk measures ----------------------------------------------------------

def path_losses(tables: LossTables, years: np.ndarray) -> np.ndarray:
    """[paths, columns] loss on each path (or each combination of default years): the
    lab's row for its year plus each other defaulting obligor's row on that lab run."""
    years = np.asarray(years, dtype=np.int64)
    state = years[:, tables.lab] if tables.lab is not None else np.zeros(len(years), dtype=np.int64)
    out = tables.rows[state].copy()
    for i in range(len(tables.obligors)):
        if i != tables.lab:
            out += tables.tables[state, i, years[:, i]]
    return out


def risk_measures(losses: np.ndarray, counts: np.ndarray | None = None) -> dict:
    """Expected loss, VaR and CVaR at LEVELS of a loss distribution (`losses` one per
    path, or with `counts` each value's number of paths): over n paths VaR_q is the
    ceil(q n)-th smallest loss, CVaR_q (expected shortfall) the mean of the worst
    k = ceil((1 - q) n) losses."""
    losses = np.asarray(losses, dtype=float)
    counts = np.ones(len(losses), dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    out = {"expected_loss": float((losses * counts).sum() / n)}
    order = np.argsort(losses, kind="stable")
    values, weights = losses[order], counts[order]
    below = np.cumsum(weights)                       # paths at or below each value
    for q in LEVELS:
        k = max(1, math.ceil((1.0 - q) * n - 1e-9))
        j = int(np.searchsorted(below, n - k, side="right"))   # the (n-k)-th path (0-based) sits here
        inside = below[j] - (n - k)                      # paths of value j among the worst k
        out[f"var_{q:g}"] = float(values[j])
        out[f"cvar_{q:g}"] = float(((values[j + 1:] * weights[j + 1:]).sum() + values[j] * inside) / k)
    return out


def _tail_mean(total: np.ndarray, counts: np.ndarray, losses: np.ndarray, share: float) -> np.ndarray:
    """Mean of each column of `losses` over the worst ceil(share n) paths by `total`
    (ties at the boundary broken by the combination's order)."""
    n = int(counts.sum())
    k = max(1, math.ceil(share * n - 1e-9))
    order = np.argsort(-total, kind="stable")
    taken = np.minimum(counts[order], np.maximum(0, k - (np.cumsum(counts[order]) - counts[order])))
    return (losses[order] * taken[:, None]).sum(axis=0) / k


@dataclass
class SimulationResult:
    n: int
    seed: int
    obligors: list[str]
    default_rate: dict
    chain_default_rate: dict
    total: dict
    by_column: dict
    contribution: dict
    timing: dict
    overlap: list[str]
    backend: str


def summarise(tables: LossTables, combos: np.ndarray, counts: np.ndarray, seed: int,
              backend: str = "one process") -> SimulationResult:
    """Risk measures in total, per deal, lender and sponsor, each deal's contribution
    (its mean loss, and its mean loss on the total's worst 1% of paths), the loss timing
    (expected loss by the year of the default that caused it), and each obligor's default
    rate as drawn and in the chain (drawn, or toppled by the lab's default)."""
    h, n = tables.years, int(counts.sum())
    combos = combos.astype(np.int64)
    losses = path_losses(tables, combos)
    deal_cols = [k for k, c in enumerate(tables.columns) if c.startswith("deal:")]
    total = losses[:, deal_cols].sum(axis=1)
    tail = _tail_mean(total, counts, losses, 0.01)
    state = combos[:, tables.lab] if tables.lab is not None else np.zeros(len(combos), dtype=np.int64)
    timing = np.zeros(h)
    if tables.lab is not None:
        extra = (tables.rows[:, deal_cols].sum(axis=1) - tables.base[deal_cols].sum())[state]
        np.add.at(timing, combos[combos[:, tables.lab] < h, tables.lab], (extra * counts)[combos[:, tables.lab] < h])
    rates, chain = {}, {}
    for i, name in enumerate(tables.obligors):
        drawn = combos[:, i] < h
        rates[name] = float(counts[drawn].sum() / n)
        if i == tables.lab:
            chain[name] = rates[name]
            continue
        chain[name] = float(counts[drawn | (tables.chain_default[state, i] < h)].sum() / n)
        extra = tables.tables[state, i, combos[:, i]][:, deal_cols].sum(axis=1)
        np.add.at(timing, combos[drawn, i], (extra * counts)[drawn])
    return SimulationResult(
        n, seed, list(tables.obligors), rates, chain,
        risk_measures(total, counts),
        {c: risk_measures(losses[:, k], counts) for k, c in enumerate(tables.columns)},
        {tables.columns[k][5:]: {"expected_loss": float((losses[:, k] * counts).sum() / n),
                                 "tail_99": float(tail[k])} for k in deal_cols},
        {y: float(v / n) for y, v in enumerate(timing)}, tables_overlap(tables), backend)


# --- where the work runs ---------------------------------------------------------------

def chunk_spans(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(a, min(n, a + chunk)) for a in range(0, n, chunk)]


def default_chunk(n: int, workers: int) -> int:
    """Paths per chunk: about four chunks a worker, in whole blocks, at least MIN_CHUNK."""
    per = math.ceil(n / max(1, 4 * workers))
    return max(MIN_CHUNK, math.ceil(per / BLOCK) * BLOCK)


def simulate_portfolio(graph, deals: list, n: int, seed: int, workers: int = 1, dask=None,
                       chunk_size: int | None = None, show: bool | None = False, preset=None) -> SimulationResult:
    """`n` joint paths (module doc) on this process (`workers` 1), on `workers` local
    processes, or on a Dask cluster (`dask`: an address, 'local' or a Client); the same
    numbers to the last bit whichever. `show`: progress bars (waterfall.progress.bar).
    `preset`: the chain runs under it and the PDs it states (simulated_pds); None: base."""
    from .progress import bar

    pool = (DaskPool(dask) if dask is not None else LocalPool(workers) if workers > 1 else Serial())
    try:
        runs = bar("loss tables", table_runs(graph), "runs", show=show)
        try:
            tables = loss_tables(graph, deals, pool, None if runs is None else runs.update, preset)
        finally:
            if runs is not None:
                runs.close()
        cop = copula_of(graph.simulation, simulated_pds(graph, preset), seed)
        spans = chunk_spans(n, int(chunk_size) if chunk_size else default_chunk(n, pool.workers))
        paths = bar("paths", n, "paths", show=show)
        try:
            parts = pool.map(_count_many, pool.share(cop, small=True), [[s] for s in spans],
                             None if paths is None else paths.update,
                             weight=lambda job: job[0][1] - job[0][0])
        finally:
            if paths is not None:
                paths.close()
    finally:
        pool.close()
    combos, counts = merge_counts([p[0] for p in parts], len(tables.obligors))
    return summarise(tables, combos, counts, seed, pool.name)


class Serial:
    """Every job on this process."""

    workers, name = 1, "one process"

    def share(self, obj, small: bool = False):
        return obj

    def map(self, fn, shared, jobs: list, progress=None, weight=None) -> list:
        out = []
        for job in jobs:
            out.append(fn(shared, job))
            if progress:
                progress(weight(job) if weight else 1)
        return out

    def close(self) -> None:
        pass


_SHARED: dict = {}


def _init_worker(key, obj) -> None:
    _SHARED[key] = obj


def _call_shared(fn, key, job):
    return fn(_SHARED[key], job)


class LocalPool:
    """Jobs on `workers` local processes (spawned: no inherited OpenMP or lock state);
    what they share (the graph and the deals) is sent once per process when it starts."""

    def __init__(self, workers: int):
        self.workers, self.name = int(workers), f"{int(workers)} local processes"
        self._pool, self._shared = None, {}

    def share(self, obj, small: bool = False):
        if small:
            return ("inline", obj)
        key = f"shared-{len(self._shared)}"
        self._shared[key] = obj
        self._restart()
        return ("key", key)

    def _restart(self) -> None:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is not None:
            self._pool.shutdown()
        items = list(self._shared.items())
        self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                         initializer=_init_many, initargs=(items,))

    def map(self, fn, shared, jobs: list, progress=None, weight=None) -> list:
        from concurrent.futures import as_completed

        if self._pool is None:
            self._restart()
        kind, value = shared
        futures = {(self._pool.submit(_call_shared, fn, value, job) if kind == "key"
                    else self._pool.submit(fn, value, job)): k for k, job in enumerate(jobs)}
        out = [None] * len(jobs)
        for future in as_completed(futures):
            k = futures[future]
            out[k] = future.result()
            if progress:
                progress(weight(jobs[k]) if weight else 1)
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _init_many(items) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for key, obj in items:
        _init_worker(key, obj)


class DaskPool:
    """Jobs on a Dask cluster (waterfall.sweeps' client: an address, 'local' or a Client);
    what they share is scattered once to every worker (broadcast)."""

    def __init__(self, dask):
        from .sweeps.runner import dask_client

        self.client, self._close = dask_client(dask)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.name = f"Dask ({self.workers} workers)"

    def share(self, obj, small: bool = False):
        return self.client.scatter(obj, broadcast=True)

    def map(self, fn, shared, jobs: list, progress=None, weight=None) -> list:
        """Every job's result in job order; a cluster lost on the way (no worker for
        WORKERLESS_SECONDS, workers killed, the scheduler gone) is a SweepError."""
        from .sweeps.runner import SweepError, as_completed_watched, lost_cluster

        futures = [self.client.submit(fn, shared, job, pure=False) for job in jobs]
        index = {f.key: k for k, f in enumerate(futures)}
        out = [None] * len(jobs)

        def done(future):
            k = index[future.key]
            out[k] = future.result()
            if progress:
                progress(weight(jobs[k]) if weight else 1)
        try:
            as_completed_watched(self.client, futures, done)
        except Exception as exc:   # noqa: BLE001 - distributed raises many kinds on a lost cluster
            if not lost_cluster(exc):
                raise
            reason = (str(exc).strip().splitlines() or [""])[0][:200]
            raise SweepError(f"the Dask cluster was lost ({type(exc).__name__}: {reason})") from None
        return out

    def close(self) -> None:
        try:
            self._close()
        except Exception:   # noqa: BLE001 - closing a client whose cluster is gone may fail too
            pass
