"""`waterfall.sweep`: plan the points, run them in chunks (locally on all cores, or on a
Dask cluster), resume from finished chunks, and return / write a row per point.

Resume: with `out=`, each finished chunk is saved to `<out>.chunks/` next to the output
with a manifest holding the sweep definition's digest. A rerun with the same definition
(whatever the chunk size) computes only the points no saved chunk covers; the output is
written atomically once every point is done, and the sidecar directory is removed.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from .. import ops
from ..model.deal import PERIOD_MONTHS
from ..engine import pick_engine, resolve_deal, resolve_scenario
from ..files import writing
from ..model.scenario import Scenario
from ..progress import bar as progress_bar
from .core import Plan, run_chunk
from .paths import PathError, VaryPath, required_fields, resolve
from .sampling import Dist, cholesky, parse_dist

DEFAULT_CHUNK = 20_000
XLSX_MAX_ROWS = 1_048_575


class SweepError(ValueError):
    """A sweep definition that cannot run (bad values, mixed grid and Monte Carlo...)."""


MAX_AXIS = 10_000_000
"""The most values one grid axis may list (the grid's size is checked as a whole later)."""


def _axis(path: VaryPath, values) -> np.ndarray:
    if hasattr(values, "__len__") and len(values) > MAX_AXIS:
        raise PathError(path.raw, f"{len(values):,} values; a grid axis may have at most {MAX_AXIS:,}")
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float).reshape(-1)
    if arr.size == 0:
        raise PathError(path.raw, "no values to vary over")
    if not np.all(np.isfinite(arr)):
        raise PathError(path.raw, "values must be finite")
    if path.is_int:
        arr = np.rint(arr)
        _, first = np.unique(arr, return_index=True)
        arr = arr[np.sort(first)]
    bad = path.check(arr)
    if bad:
        lo = "-inf" if path.low is None else f"{path.low:g}"
        hi = "inf" if path.high is None else f"{path.high:g}"
        raise PathError(path.raw, f"value {bad[0]:g} is outside the allowed range "
                                  f"{'(' if path.low_open else '['}{lo}, {hi}{')' if path.high_open else ']'}")
    return arr


def _as_dist(path: VaryPath, spec) -> Dist | None:
    if isinstance(spec, Dist):
        return spec
    if isinstance(spec, str):
        try:
            return parse_dist(spec)
        except ValueError as exc:
            raise PathError(path.raw, str(exc)) from None
    return None


def plan_sweep(deal, vary: dict, samples: int | None = None, seed: int | None = None,
               scenario=None, correlations: dict | None = None) -> Plan:
    """Check every path and value and build the Plan (raises PathError / SweepError)."""
    deal = resolve_deal(deal)
    scen = resolve_scenario(deal, scenario)
    if not vary:
        raise SweepError("nothing to vary: give at least one path")
    paths = [resolve(p, deal, scen) for p in vary]
    names = [p.raw for p in paths]
    if len(set(names)) != len(names):
        raise SweepError("a path is given twice")
    _check_new_adjustments(paths, scen)
    tranches = [t.name for t in deal.tranches]
    plan = Plan(deal_data=deal.model_dump(mode="json"), scenario_data=scen.model_dump(mode="json"),
                paths=paths, n_periods=deal.timeline.n_periods, tranches=tranches,
                lenders={t.name: dict(t.lenders) for t in deal.tranches})
    specs = list(vary.values())
    if samples is None:
        axes = []
        for path, spec in zip(paths, specs):
            if _as_dist(path, spec) is not None:
                raise PathError(path.raw, "a distribution needs a Monte Carlo sweep (give samples)")
            axes.append(_axis(path, [spec] if np.isscalar(spec) else spec))
        plan.grid = axes
        if correlations:
            raise SweepError("correlations apply to Monte Carlo sweeps only")
    else:
        if int(samples) < 1:
            raise SweepError("samples must be at least 1")
        dists = []
        for path, spec in zip(paths, specs):
            dist = _as_dist(path, spec)
            if dist is None:
                raise PathError(path.raw, "a Monte Carlo sweep needs a distribution "
                                          "(e.g. uniform:0.5:1.0, normal:0:50, triangular:0:0.3:1, lognormal:0:0.2)")
            dists.append(dist)
        plan.dists, plan.samples = dists, int(samples)
        try:
            plan.chol = cholesky(names, correlations)
        except ValueError as exc:
            raise SweepError(str(exc)) from None
        plan.seed = int(np.random.SeedSequence().entropy % (2**63)) if seed is None else int(seed)
    _check_deal_values(plan)
    plan.digest = plan.compute_digest()
    if not any(p.side == "deal" for p in paths):  # one deal for every point: compiled here, once
        from ..engine import compiled
        plan.program = compiled(deal)
    return plan


def _check_new_adjustments(paths: list[VaryPath], scen: Scenario) -> None:
    for kind in {p.kind for p in paths if p.side == "scenario" and p.new_adjustment}:
        given = {p.keys[1] for p in paths if p.kind == kind and p.new_adjustment}
        missing = [f for f in required_fields(kind) if f not in given]
        if missing:
            first = next(p for p in paths if p.kind == kind and p.new_adjustment)
            raise PathError(first.raw, f"scenario '{scen.name}' has no {kind} adjustment and a new one "
                                       f"needs {', '.join(missing)}: vary scenario.{kind}.{missing[0]} too, "
                                       "or start from a scenario that has one")


def _check_deal_values(plan: Plan) -> None:
    """Every grid value of a deal input makes a valid deal (one input at a time)."""
    from ..errors import DealError

    deal_paths = [(j, p) for j, p in enumerate(plan.paths) if p.side == "deal"]
    if not deal_paths or plan.grid is None:
        return
    base = plan.inputs(0, 1)[0]
    for j, path in deal_paths:
        for value in plan.grid[j]:
            values = [base[i] for i, _ in deal_paths]
            values[[i for i, _ in deal_paths].index(j)] = value
            try:
                from ..compile import compile_deal
                compile_deal(plan.deal_for(tuple(values)))
            except DealError as exc:
                problem = "; ".join(f"{f}: {m}" for f, m, _ in exc.problems)
                raise PathError(path.raw, f"value {value:g} makes an invalid deal ({problem})") from None


# --- output table ------------------------------------------------------------------------

def table_block(plan: Plan, n: int) -> np.ndarray:
    """[n, inputs + metrics + 2 x tranches]: the table's numbers, column-major (to_frame)."""
    return np.empty((n, len(plan.paths) + ops.N_METRICS + 2 * len(plan.tranches)), order="F")


def to_frame(plan: Plan, parts: list[dict], block: np.ndarray | None = None):
    """The table: `point`, the inputs, the metrics, `wal_<tranche>`, `loss_<tranche>`. The
    chunks are copied once, into the columns of one column-major block that the DataFrame
    wraps without a further copy (integer inputs and `point` are their own columns); or
    `block` is that block already, the chunks written into it as they ran."""
    import pandas as pd

    parts = sorted(parts, key=lambda p: p["start"])
    n = sum(len(p["metrics"]) for p in parts)
    d, k = len(plan.paths), len(plan.tranches)
    names = ([path.raw for path in plan.paths] + list(ops.METRICS) + [f"wal_{t}" for t in plan.tranches]
             + [f"loss_{t}" for t in plan.tranches])
    filled = block is not None
    block = table_block(plan, n) if block is None else block
    row = 0
    for part in ([] if filled else parts):
        rows = slice(row, row + len(part["metrics"]))
        block[rows, :d] = part["inputs"]
        block[rows, d:d + ops.N_METRICS] = part["metrics"]
        block[rows, d + ops.N_METRICS:d + ops.N_METRICS + k] = part["wal"]
        block[rows, d + ops.N_METRICS + k:] = part["tranche_loss"]
        row = rows.stop
    start = parts[0]["start"] if parts else 0
    frame = pd.DataFrame(block, columns=names, copy=False)
    for j, path in enumerate(plan.paths):
        if path.is_int:
            frame[path.raw] = block[:, j].astype(np.int64)
    frame["default_period"] = frame["default_period"].where(frame["default_period"] >= 0)
    frame.insert(0, "point", np.arange(start, start + n, dtype=np.int64))
    frame.attrs.update({"mode": plan.mode, "seed": plan.seed, "inputs": plan.names,
                        "tranches": plan.tranches, "lenders": plan.lenders,
                        "deal": plan.deal_data["deal"]["name"], "digest": plan.digest,
                        "months_per_period": PERIOD_MONTHS[
                            plan.deal_data["timeline"].get("period", "quarter")]})
    return frame


def write_table(frame, out: Path) -> None:
    """Write by extension (.parquet, .csv, .xlsx), atomically."""
    from ..files import atomic_path

    suffix = out.suffix.lower()
    if suffix == ".xlsx":   # a formatted, filterable workbook (header row 1, frozen); atomic itself
        from ..output.tables import write_sweep_workbook
        write_sweep_workbook(frame, out)
        return
    if suffix not in (".parquet", ".csv"):
        raise SweepError(f"output {out}: unknown extension '{out.suffix}' (use .parquet, .csv or .xlsx)")
    with atomic_path(out) as tmp:
        if suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, float_format="%.17g")


MAX_POINTS = 10**11
"""No sweep has more points than this, whatever the machine (a grid's size is exact)."""


def row_bytes(plan: Plan) -> int:
    """Bytes of one point in the table: point, inputs, metrics, WAL and loss per tranche."""
    return 8 * (1 + len(plan.paths) + ops.N_METRICS + 2 * len(plan.tranches))


def available_memory() -> int | None:
    """Bytes of memory available now (Linux MemAvailable; None where it cannot be read)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB"


def check_size(plan: Plan, out: Path | None, resident: bool = True) -> None:
    """Refuse, before anything runs, a sweep whose table cannot fit: in memory (the table
    returned, with the copies made building it) and, with `out`, on disk (the finished
    chunks plus the table, CSV as text). Raises SweepError with the numbers."""
    n = plan.n_points
    if n > MAX_POINTS:
        raise SweepError(f"{n:,} points: a sweep may have at most {MAX_POINTS:,} (use fewer values or samples)")
    table = n * row_bytes(plan)
    memory = available_memory()
    if resident and memory is not None and 3 * table > memory:
        raise SweepError(f"{n:,} points need about {_gb(3 * table)} of memory for the table "
                         f"({_gb(table)} of numbers, copied while it is built); {_gb(memory)} is available: "
                         "use fewer values or samples, or split the sweep")
    if out is not None:
        on_disk = table * (3.5 if out.suffix.lower() == ".csv" else 2.0)
        free = shutil.disk_usage(out.parent).free if out.parent.exists() else None
        if free is not None and on_disk > free:
            raise SweepError(f"output {out}: {n:,} points need about {_gb(on_disk)} on disk (the chunks, "
                             f"then the table); {_gb(free)} is free there")


def check_output(out: Path, n_points: int) -> None:
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".csv", ".xlsx"):
        raise SweepError(f"output {out}: unknown extension '{out.suffix}' (use .parquet, .csv or .xlsx)")
    if suffix == ".xlsx" and n_points > XLSX_MAX_ROWS:
        raise SweepError(f"output {out}: {n_points:,} points do not fit in an Excel sheet; use .parquet or .csv")
    if not out.parent.exists():
        raise SweepError(f"output {out}: directory {out.parent} does not exist")


# --- resume store ------------------------------------------------------------------------

class ChunkStore:
    """Finished chunks of one sweep in `<out>.chunks/`, named by their point range."""

    def __init__(self, out: Path, plan: Plan, seed_given: bool):
        self.out = out
        self.dir = out.with_name(out.name + ".chunks")
        self._lock = None
        with writing(self.dir):
            self._open(plan, seed_given)
            self._take_lock()

    def _take_lock(self) -> None:
        """One sweep at a time writes to an output: a second one started on it while the
        first runs is refused (the lock goes with the process, however it ends)."""
        import fcntl

        self._lock = open(self.dir / ".lock", "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise SweepError(f"output {self.out}: another sweep is writing to it now ({self.dir} is locked)") from None

    def _refuse(self, why: str) -> None:
        raise SweepError(f"output {self.out}: {self.dir} {why}; a different sweep cannot resume it: "
                         f"rerun the sweep that made it, remove {self.dir}, or choose another output")

    def _open(self, plan: Plan, seed_given: bool) -> None:
        self.plan = plan
        manifest = self.dir / "manifest.json"
        old = None
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text())
            except (OSError, ValueError):
                old = None
        if old is not None and not seed_given and plan.mode == "montecarlo" \
                and old.get("digest_without_seed") == plan.compute_digest(with_seed=False):
            plan.seed = int(old["seed"])  # resume an unseeded sweep with the seed it drew
            plan.digest = plan.compute_digest()
        if old is not None and old.get("digest") != plan.digest:
            self._refuse(f"holds chunks of a different sweep (varying {', '.join(map(str, old.get('vary', [])))}, "
                         f"{old.get('n_points', '?'):,} points, started {old.get('created', '?')})"
                         if isinstance(old.get("n_points"), int) else "holds chunks of a different sweep")
        if old is None:
            if self.dir.exists():
                if any(self.dir.glob("chunk-*.npz")):
                    self._refuse("holds chunks but no readable manifest saying which sweep made them")
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = manifest.with_name("manifest.json.part")
            tmp.write_text(json.dumps({
                "digest": plan.digest, "digest_without_seed": plan.compute_digest(with_seed=False),
                "seed": plan.seed, "n_points": plan.n_points, "vary": plan.names,
                "mode": plan.mode, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2))
            os.replace(tmp, manifest)

    def finished(self, load: bool = True) -> list[dict]:
        """Saved chunks of this sweep that do not overlap (earliest start first); without
        `load` only their ranges (their digests are checked all the same)."""
        found = []
        for path in self.dir.glob("chunk-*.npz"):
            try:
                _, a, b = path.stem.split("-")
                found.append((int(a), int(b), path))
            except ValueError:
                continue
        kept, cursor = [], 0
        for a, b, path in sorted(found):
            if a < cursor or b > self.plan.n_points:
                continue
            try:
                with np.load(path) as data:
                    digest = str(data["digest"]) if "digest" in data.files else None
                    part = {k: data[k] for k in ("inputs", "metrics", "wal", "tranche_loss")} if load else {}
            except (OSError, ValueError, KeyError, EOFError):
                continue   # a chunk that cannot be read is computed again
            if digest != self.plan.digest:
                self._refuse(f"holds {path.name}, a chunk of a different sweep")
            if load and len(part["metrics"]) != b - a:
                continue
            part.update(start=a, stop=b)
            kept.append(part)
            cursor = b
        return kept

    def save(self, part: dict) -> None:
        name = f"chunk-{part['start']:012d}-{part['stop']:012d}"
        tmp = self.dir / f".{name}.part.npz"
        with writing(self.dir / f"{name}.npz"):
            np.savez(tmp, inputs=part["inputs"], metrics=part["metrics"], wal=part["wal"],
                     tranche_loss=part["tranche_loss"], digest=np.array(self.plan.digest))
            os.replace(tmp, self.dir / f"{name}.npz")

    def verify(self) -> None:
        """The manifest still names this sweep (nothing else took the output meanwhile)."""
        try:
            digest = json.loads((self.dir / "manifest.json").read_text()).get("digest")
        except (OSError, ValueError):
            digest = None
        if digest != self.plan.digest:
            self._refuse("was changed by another sweep while this one ran")

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def todo_ranges(n_points: int, done: list[dict], chunk_size: int) -> list[tuple[int, int]]:
    """The point ranges no finished chunk covers, cut into chunks of `chunk_size`."""
    ranges, cursor = [], 0
    edges = sorted((p["start"], p["stop"]) for p in done) + [(n_points, n_points)]
    for a, b in edges:
        for lo in range(cursor, a, chunk_size):
            ranges.append((lo, min(a, lo + chunk_size)))
        cursor = max(cursor, b)
    return ranges


# --- execution ---------------------------------------------------------------------------

DASK_CONNECT_SECONDS = 5.0


def _check_reachable(address: str) -> None:
    """Fail fast (SweepError naming the address) when nothing listens at a scheduler's
    tcp address, rather than wait for the client's connection timeout."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname:
        return  # another transport (inproc, ucx...): let distributed judge it
    try:
        port = parts.port or 8786
        with socket.create_connection((parts.hostname, port), timeout=DASK_CONNECT_SECONDS):
            pass
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise SweepError(f"cannot reach the Dask scheduler at {address} ({reason}); is a scheduler "
                         f"running there? (`dask scheduler` starts one; 'local' runs a local cluster)") from None


def dask_client(dask):
    """(client, close) for an address, 'local', or an existing Client."""
    from distributed import Client, LocalCluster

    if not isinstance(dask, str):
        return dask, lambda: None
    if dask == "local":
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
        client = Client(cluster)

        def close():
            client.close()
            cluster.close()
        return client, close
    _check_reachable(dask)
    try:
        client = Client(dask, timeout=f"{DASK_CONNECT_SECONDS:g}s")
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"cannot connect to the Dask scheduler at {dask}: {exc}") from None
    return client, client.close


DASK_TASKS_PER_THREAD = 2
"""A Dask sweep's default chunks: two tasks per worker thread of the cluster (enough to
balance the workers), each of at least DASK_MIN_CHUNK points and at most DASK_MAX_CHUNK.
A worker waits for the scheduler's reply between two tasks (tens of milliseconds on a
loaded machine), so few large tasks hide it behind the kernel's time."""
DASK_MIN_CHUNK, DASK_MAX_CHUNK = 5_000, 200_000


def dask_chunk(n_points: int, worker_threads: int) -> int:
    """Points per Dask task for `n_points` on a cluster of `worker_threads` threads."""
    tasks = DASK_TASKS_PER_THREAD * max(1, worker_threads)
    return max(DASK_MIN_CHUNK, min(DASK_MAX_CHUNK, math.ceil(n_points / tasks)))


def _remote_chunk(plan, start, stop, threads, engine="compiled"):
    return run_chunk(plan, start, stop, threads=threads, engine=engine)


WORKERLESS_SECONDS = 30.0
"""How long a Dask sweep waits with no worker at all before it stops (finished chunks are
saved, so a rerun resumes)."""


def _run_on_dask(dask, plan, todo, threads, engine: str, retries: int, finish, done_before: int = 0) -> None:
    """Run the chunks `todo` (a list of point ranges, or a function of the cluster's
    worker threads giving them) on a Dask cluster (the plan, with its compiled deal,
    scattered once to every worker), each finished chunk handed to `finish` as it completes. Losing the workers (every one gone for
    WORKERLESS_SECONDS, a task's workers killed `retries` times, the scheduler gone) is a
    SweepError saying that a rerun resumes."""
    client, close = dask_client(dask)
    finished = []   # the chunks finished here
    try:
        try:
            if callable(todo):
                todo = todo(sum(client.nthreads().values()))
            remote_plan = client.scatter(plan, broadcast=True)
            futures = [client.submit(_remote_chunk, remote_plan, a, b, threads or 1, engine,
                                     retries=retries, pure=False, key=f"sweep-{plan.digest[:12]}-{a}-{b}")
                       for a, b in todo]

            def done(future):
                finish(future.result())
                finished.append(future.key)
            as_completed_watched(client, futures, done)
        except SweepError:
            raise
        except Exception as exc:   # noqa: BLE001 - distributed raises many kinds on a lost cluster
            from ..errors import OutputError
            if isinstance(exc, OutputError) or not lost_cluster(exc):
                raise
            reason = (str(exc).strip().splitlines() or [""])[0][:200]
            raise SweepError(f"the Dask cluster was lost ({type(exc).__name__}: {reason}); "
                             f"{len(finished)} chunks finished here and are saved with the output's "
                             "chunks: rerun the same command to resume") from None
    finally:
        try:
            close()
        except Exception:   # noqa: BLE001 - closing a client whose cluster is gone may fail too
            pass


def as_completed_watched(client, futures: list, done) -> None:
    """Wait for Dask `futures`, calling done(future) as each finishes (then releasing it),
    while watching the cluster: no worker for WORKERLESS_SECONDS raises _Workerless (a lost
    cluster, lost_cluster). What is left is cancelled on the way out, however it ends."""
    from distributed import TimeoutError as DaskTimeout
    from distributed import wait

    pending, workerless = set(futures), None
    try:
        while pending:
            try:
                finished, pending = wait(pending, timeout=1.0, return_when="FIRST_COMPLETED")
            except DaskTimeout:   # nothing finished within the second: check the workers
                finished = set()
            for future in finished:
                done(future)
                future.release()
            workerless = watch_workers(client, workerless, bool(finished))
    finally:
        for f in futures:
            f.cancel()


def watch_workers(client, workerless, progressed: bool):
    """The time since the cluster last had a worker (None while it has one)."""
    if progressed:
        return None
    if client.scheduler_info().get("workers"):
        return None
    now = time.monotonic()
    if workerless is None:
        return now
    if now - workerless > WORKERLESS_SECONDS:
        raise _Workerless(f"no Dask worker for {WORKERLESS_SECONDS:.0f} s")
    return workerless


class _Workerless(Exception):
    pass


def lost_cluster(exc: BaseException) -> bool:
    from distributed import TimeoutError as DaskTimeout
    from concurrent.futures import CancelledError   # distributed's Future(s)CancelledError
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    # cancelled: the workers holding the scattered plan died with it
    return isinstance(exc, (_Workerless, KilledWorker, CommClosedError, DaskTimeout, CancelledError, OSError))


def sweep(deal, vary: dict, samples: int | None = None, seed: int | None = None, scenario=None,
          correlations: dict | None = None, out=None, chunk_size: int | None = None, dask=None,
          threads: int | None = None, progress: bool | None = None, retries: int = 3,
          on_chunk=None, engine: str = "auto", keep_chunks: bool = False, on_start=None):
    """Run a sweep and return a DataFrame with a row per point: `point`, the inputs (one
    column per path, named as given), the metrics (waterfall.ops.METRICS), `wal_<tranche>`
    and `loss_<tranche>`.

    vary: {path: values} where values is a sequence (a grid axis; the grid is the product
    of the axes) or, with `samples`, a distribution (a `Dist`, or text such as
    'uniform:0.5:1.0', 'normal:0:50', 'triangular:0:0.3:1', 'lognormal:0:0.2'); values of
    a Monte Carlo input outside the schema's bounds are clipped to them. correlations:
    {(path_a, path_b): rho} for a Gaussian copula. scenario: the scenario the varied
    adjustments modify (default base). out: write the table (.parquet/.csv/.xlsx) and
    keep resumable chunks next to it. dask: None (local cores), 'local' (a LocalCluster)
    or a scheduler address or Client. on_chunk(done_points, total) is called after each
    saved chunk (raising from it interrupts the sweep; a rerun resumes). engine:
    'compiled', 'reference' or 'auto' (the kernel when it is built, else the reference:
    the same numbers, slower); frame.attrs['engine'] says which ran. on_start(engine) is
    called once the sweep and its output are checked, before any point runs.
    """
    engine = pick_engine(engine)  # once, here: every chunk (and every Dask worker) runs the same
    plan = plan_sweep(deal, vary, samples=samples, seed=seed, scenario=scenario,
                      correlations=correlations)
    n = plan.n_points
    if isinstance(dask, str) and dask != "local":
        _check_reachable(dask)   # before any file is made: a wrong address is the user's to fix
    store = None
    if out is not None:
        out = Path(out)
        check_output(out, n)
    check_size(plan, out)
    if out is not None:
        store = ChunkStore(out, plan, seed_given=seed is not None)
    try:
        return _sweep_with(plan, store, out, chunk_size, dask, threads, progress, retries, on_chunk,
                           engine, keep_chunks, on_start)
    finally:
        if store is not None:
            store.close()


def _sweep_with(plan, store, out, chunk_size, dask, threads, progress, retries, on_chunk, engine,
                keep_chunks, on_start):
    """Run the plan's missing chunks and build the table. With a store, finished chunks
    go to disk only (memory holds one chunk at a time) and the table is read back from
    them at the end."""
    n = plan.n_points
    done = store.finished(load=False) if store else []
    chunk = int(chunk_size) if chunk_size else DEFAULT_CHUNK
    if chunk < 1:
        raise SweepError("chunk size must be at least 1")
    todo = todo_ranges(n, done, chunk)
    resumed = sum(p["stop"] - p["start"] for p in done)
    chunks = todo
    if dask is not None and not chunk_size:   # sized for the cluster once connected
        def chunks(worker_threads):
            return todo_ranges(n, done, dask_chunk(n - resumed, worker_threads))
    parts: list[dict] = []   # without a store only; a store's chunks are read back at the end
    # local without a store: the chunks run straight into the table's block
    table = table_block(plan, n) if store is None and dask is None and not done else None
    done_points = resumed
    if on_start is not None:
        on_start(engine)
    bar = progress_bar("sweep", n, "points", done_points, progress)
    started = time.perf_counter()

    def finish(part):
        nonlocal done_points
        _finite_chunk(plan, part)
        if store is not None:
            store.save(part)
        else:
            parts.append(part)
        done_points += part["stop"] - part["start"]
        if bar is not None:
            bar.update(part["stop"] - part["start"])
        if on_chunk is not None:
            on_chunk(done_points, n)

    try:
        if dask is None:
            d = len(plan.paths)
            for a, b in todo:   # without a store, each chunk is written into the table's rows
                part = run_chunk(plan, a, b, threads=threads, engine=engine,
                                 out=None if table is None else table[a:b, d:])
                if table is not None:
                    table[a:b, :d] = part["inputs"]
                finish(part)
        elif todo:
            _run_on_dask(dask, plan, chunks, threads, engine, retries, finish, done_points)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    if store is not None:
        store.verify()
        parts = store.finished()
    frame = to_frame(plan, parts, block=table)
    del parts
    if len(frame) != n or not np.array_equal(frame["point"].to_numpy(), np.arange(n)):
        raise RuntimeError("sweep lost or duplicated points (a bug)")  # pragma: no cover
    computed = n - resumed
    frame.attrs.update(seconds=elapsed, computed_points=computed, engine=engine,
                       points_per_second=(computed / elapsed if elapsed > 0 else float("nan")))
    if out is not None:
        write_table(frame, out)
        if not keep_chunks:
            store.remove()
    return frame


def _finite_chunk(plan: Plan, part: dict) -> None:
    """No infinite metric reaches the table: the first such point is a SweepError naming
    its inputs (the schema's bounds keep every product finite; this is the last guard)."""
    bad = np.isinf(part["metrics"])
    if bad.any():
        row, m = (int(i) for i in np.argwhere(bad)[0])
        inputs = ", ".join(f"{name}={float(v):g}" for name, v in zip(plan.names, part["inputs"][row]))
        raise SweepError(f"point {part['start'] + row} ({inputs}) overflowed: {ops.METRICS[m]} is infinite")
