"""A sweep's definition (Plan) and the work on one chunk of its points.

A Plan is plain data (picklable, hashable into a digest): the deal and scenario as
dumps, the varied paths, and either grid axes or Monte Carlo distributions with a
seed. `run_chunk(plan, start, stop)` computes points start..stop-1 anywhere (here, or
on a Dask worker): it regenerates their inputs from the point index, compiles each
distinct deal once (cached per process), builds the scenario rows as arrays (no
pydantic object per point) and runs the compiled kernel (or the reference, given
engine='reference' or 'auto' without the kernel: the same numbers).
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .. import ops
from ..compile import batch_from_rows, compile_deal, scenario_adjustments
from ..model.scenario import Scenario
from ..program import ColumnBatch
from .paths import SCENARIO_KINDS, VaryPath
from .sampling import Dist, normals

FORMAT_VERSION = 1


@dataclass
class Plan:
    deal_data: dict
    scenario_data: dict
    paths: list[VaryPath]
    grid: list[np.ndarray] | None = None
    dists: list[Dist] | None = None
    chol: np.ndarray | None = None
    samples: int | None = None
    seed: int | None = None
    n_periods: int = 0
    tranches: list[str] = field(default_factory=list)
    lenders: dict = field(default_factory=dict)   # tranche -> {lender: share}
    digest: str = ""
    program: object = None   # the deal compiled, when no deal-side input varies (program_for)

    @property
    def mode(self) -> str:
        return "grid" if self.grid is not None else "montecarlo"

    @property
    def n_points(self) -> int:
        if self.grid is not None:
            return math.prod(len(a) for a in self.grid) if self.grid else 1   # exact: no int64 overflow
        return int(self.samples)

    @property
    def names(self) -> list[str]:
        return [p.raw for p in self.paths]

    def definition(self, with_seed: bool = True) -> dict:
        out = {
            "format": FORMAT_VERSION, "metrics": list(ops.METRICS),
            "deal": self.deal_data, "scenario": self.scenario_data,
            "vary": self.names, "mode": self.mode,
        }
        if self.grid is not None:
            out["grid"] = [[float(x) for x in a] for a in self.grid]
        else:
            out["dists"] = [str(d) for d in self.dists]
            out["correlation_cholesky"] = None if self.chol is None else self.chol.round(15).tolist()
            out["samples"] = self.samples
            if with_seed:
                out["seed"] = self.seed
        return out

    def compute_digest(self, with_seed: bool = True) -> str:
        text = json.dumps(self.definition(with_seed), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    # --- inputs of points -------------------------------------------------------------
    def inputs(self, start: int, stop: int) -> np.ndarray:
        """[stop - start, D] input values of points start..stop-1."""
        d = len(self.paths)
        if self.grid is not None:
            if d == 0:
                return np.zeros((stop - start, 0))
            idx = np.arange(start, stop)
            multi = np.unravel_index(idx, [len(a) for a in self.grid])
            return np.column_stack([self.grid[j][multi[j]] for j in range(d)]).astype(float)
        z = normals(self.seed, d, start, stop)
        if self.chol is not None:
            z = z @ self.chol.T
        cols = []
        for j, (path, dist) in enumerate(zip(self.paths, self.dists)):
            cols.append(clip_to_bounds(path, dist.from_normal(z[:, j], path.is_int)))
        return np.column_stack(cols) if cols else np.zeros((stop - start, 0))

    # --- deals and scenario batches ----------------------------------------------------
    def deal_for(self, values: tuple):
        """The deal with the deal-side inputs set to `values` (in path order)."""
        from ..load import deal_from_data

        data = copy.deepcopy(self.deal_data)
        deal_paths = [p for p in self.paths if p.side == "deal"]
        for path, value in zip(deal_paths, values):
            _set(data, path.keys, int(round(value)) if path.is_int else float(value))
        label = ", ".join(f"{p.raw}={v:g}" for p, v in zip(deal_paths, values))
        return deal_from_data(data, f"sweep point ({label})" if label else "<deal>")

    def batch(self, x: np.ndarray) -> ColumnBatch:
        """Scenario batch for input rows x [n, D] (scenario-side columns used)."""
        return scenario_batch(self, x)


def clip_to_bounds(path: VaryPath, values: np.ndarray) -> np.ndarray:
    low = path.low if path.low is None or not path.low_open else np.nextafter(path.low, np.inf)
    high = path.high if path.high is None or not path.high_open else np.nextafter(path.high, -np.inf)
    if low is not None or high is not None:
        values = np.clip(values, low, high)
    return values


def _set(data, keys, value):
    obj = data
    for key in keys[:-1]:
        child = obj[key]
        if isinstance(child, tuple):
            child = list(child)
            obj[key] = child
        obj = child
    obj[keys[-1]] = value


# --- vectorised scenario rows -------------------------------------------------------------

def _varied_rows(kind: str, f: dict, n: int, size: int):
    """Rows (channel, from, to, value) as arrays [size] for one adjustment whose fields
    are arrays; mirrors compile.scenario_adjustments (channel -1 where a row is absent)."""
    def full(v, dtype=float):  # a varied field's column, or a fixed one's value broadcast
        return np.broadcast_to(np.asarray(v, dtype=dtype), (size,))

    def to(v):
        return full(n if v is None else v, np.int64) if not isinstance(v, np.ndarray) else v.astype(np.int64)

    rows = []
    if kind == "rent_multiplier":
        rows.append((full(ops.CH_RENT, np.int64), full(f["from_period"], np.int64), to(f["to_period"]),
                     full(f["multiplier"])))
    elif kind == "tenant_default":
        period = full(f["period"], np.int64)
        down = full(f["downtime_periods"], np.int64)
        dark_end = period + down - 1
        ch1 = np.where(down > 0, ops.CH_RENT, -1).astype(np.int64)
        rows.append((ch1, period, np.minimum(dark_end, n), np.zeros(size)))
        ch2 = np.where(dark_end + 1 <= n, ops.CH_RENT, -1).astype(np.int64)
        rows.append((ch2, dark_end + 1, full(n, np.int64), 1.0 - full(f["relet_haircut"])))
    elif kind == "rate_shock":
        rows.append((full(ops.CH_RATE_ADD, np.int64), full(f["from_period"], np.int64),
                     to(f["to_period"]), full(f["bp"]) / 1e4))
    elif kind == "opex_multiplier":
        rows.append((full(ops.CH_OPEX, np.int64), full(f["from_period"], np.int64), to(f["to_period"]),
                     full(f["multiplier"])))
    elif kind == "asset_value_multiplier":
        classes = ops.COMPONENTS if f["component"] == "all" else (f["component"],)
        for c in classes:
            rows.append((full(ops.CH_VAL_LAND + ops.COMPONENTS.index(c), np.int64),
                         full(f["from_period"], np.int64), full(n, np.int64), full(f["multiplier"])))
    else:  # pragma: no cover - paths.resolve only lets SCENARIO_KINDS through
        raise ValueError(f"cannot vary a {kind} adjustment")
    return rows


def scenario_template(plan: Plan) -> list[tuple[dict, dict]]:
    """The scenario's adjustments (dumps; one new adjustment per kind the scenario lacks,
    appended in the order the paths name them) and, for each, the fields varied:
    {field: input column}."""
    adjustments = [dict(a) for a in plan.scenario_data.get("adjustments", [])]
    varied: list[dict] = [{} for _ in adjustments]
    new_index: dict[str, int] = {}
    for col, path in enumerate(plan.paths):
        if path.side != "scenario":
            continue
        index, name = path.keys
        if path.new_adjustment:
            if path.kind not in new_index:
                model = SCENARIO_KINDS[path.kind]
                defaults = {k: v.get_default(call_default_factory=True)
                            for k, v in model.model_fields.items() if not v.is_required()}
                defaults["kind"] = path.kind
                new_index[path.kind] = len(adjustments)
                adjustments.append(defaults)
                varied.append({})
            index = new_index[path.kind]
        varied[index][name] = col
    return list(zip(adjustments, varied))


def scenario_batch(plan: Plan, x: np.ndarray) -> ColumnBatch:
    """The scenario rows of input rows x [n, D] as adjustment columns: a varied field is
    a column of n values, a fixed one a single broadcast value (no memory per point)."""
    size, n = x.shape[0], plan.n_periods
    columns = []  # (channel, from, to, value): arrays [size] or single values, in row order
    path = None
    name = plan.scenario_data.get("name", "base")
    for adj, varied in scenario_template(plan):
        if not varied:
            fixed, adj_path = scenario_adjustments(Scenario(name=name, adjustments=[adj]), n)
            path = adj_path if adj_path is not None else path
            columns.extend((int(c), int(a), int(b), float(v)) for c, a, b, v in fixed)
            continue
        fields = dict(adj)
        for fname, col in varied.items():
            fields[fname] = x[:, col]
        columns.extend(_varied_rows(adj["kind"], fields, n, size))
    if not columns:
        columns = [(-1, 0, 0, 0.0)]
    if path is None:
        path_index, paths = None, np.zeros((0, n + 1))
    else:
        path_index, paths = 0, np.asarray(path, dtype=float).reshape(1, n + 1)
    return ColumnBatch(_Repeated(name, size), columns, n, path_index=path_index, paths=paths)


class _Repeated:
    """One name for every point (a sweep's points are numbered, not named)."""

    def __init__(self, name: str, count: int):
        self.name, self.count = name, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):
        return self.name

    def __iter__(self):
        return iter([self.name] * self.count)


# --- running a chunk ----------------------------------------------------------------------

_PROGRAMS: "OrderedDict[tuple, object]" = OrderedDict()
_CACHE_SIZE = 2048


def program_for(plan: Plan, values: tuple):
    """The compiled deal of a point whose deal-side inputs are `values`: compiled once per
    process (cached), or the plan's own `program` when nothing on the deal side varies
    (compiled once where the sweep starts and sent to each Dask worker once, with the plan)."""
    if values == () and plan.program is not None:
        return plan.program
    key = (plan.digest, values)
    program = _PROGRAMS.get(key)
    if program is None:
        program = compile_deal(plan.deal_for(values), "sweep")
        _PROGRAMS[key] = program
        if len(_PROGRAMS) > _CACHE_SIZE:
            _PROGRAMS.popitem(last=False)
    else:
        _PROGRAMS.move_to_end(key)
    return program


def run_chunk(plan: Plan, start: int, stop: int, threads: int | None = None,
              engine: str = "auto", out: np.ndarray | None = None) -> dict:
    """Points start..stop-1: {'start', 'stop', 'inputs' [n,D], 'metrics' [n,M], 'wal' [n,K],
    'tranche_loss' [n,K]}. The metrics, WAL and loss are the columns of one block [n,
    M + 2K]: `out` if given (the rows of a sweep's table, written in place), else a new one."""
    from ..engine import run_program

    x = plan.inputs(start, stop)
    size, k_count = stop - start, len(plan.tranches)
    block = np.empty((size, ops.N_METRICS + 2 * k_count), order="F") if out is None else out
    metrics = block[:, :ops.N_METRICS]
    wal, losses = block[:, ops.N_METRICS:ops.N_METRICS + k_count], block[:, ops.N_METRICS + k_count:]
    part = {"start": start, "stop": stop, "inputs": x, "metrics": metrics, "wal": wal, "tranche_loss": losses}
    deal_cols = [j for j, p in enumerate(plan.paths) if p.side == "deal"]
    if not deal_cols:  # one deal: the kernel writes straight into the block
        run_program(program_for(plan, ()), scenario_batch(plan, x), threads=threads, engine=engine,
                    losses=True, out=block)
        return part
    keys, inverse = np.unique(x[:, deal_cols], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    for g in range(len(keys)):
        rows = np.nonzero(inverse == g)[0]
        program = program_for(plan, tuple(float(v) for v in keys[g]))
        _, met, w, loss = run_program(program, scenario_batch(plan, x[rows]), ledgers=False, threads=threads,
                                      engine=engine, losses=True)
        metrics[rows], wal[rows], losses[rows] = met, w, loss
    return part


def is_finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
