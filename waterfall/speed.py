"""Measurements of the layers around the kernel (issue 16): each returns a dict of
seconds, rates and ratios, measured in one run so that the ratios compare like with like.
Used by benchmarks/bench_layers.py and scripts/speed_table.py (the README's table).

- sweep_vs_kernel: a Monte Carlo sweep's points/s against the kernel's scenarios/s on
  the same deal, both on the sweep's own scenarios and on the bench's lease scenarios;
- dask_vs_local: the same sweep on a two-worker distributed.LocalCluster on loopback
  (started before the clock) against local;
- irr_timings: the kernel's IRR per 181-period vector, in a batch and one call at a time
  (kernel_copy loads another build beside this one, to time them interleaved);
- run_call: one `waterfall.run()` of a deal already compiled (the cache's path);
- lanes_vs_scalar: the kernel on the benchmark deal with lane blocks and one scenario at a
  time (the same build), at 1 and 2 threads.
The 10^6-scenario end to end is bench.end_to_end_process (a fresh process: its peak RSS
is the whole process's).
"""
from __future__ import annotations

import time

import numpy as np

ABILENE = "abilene"
SWEEP_VARY = {"scenario.tenant_default.period": "uniform:4:24"}


def _best(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def lanes_vs_scalar(scenarios: int = 100_000, repeats: int = 5) -> dict:
    """ns per scenario-period of the kernel (metrics only) on the benchmark deal's generated
    lease scenarios, with lane blocks (the kernel's choice) and one scenario at a time, taking
    turns, at 1 and 2 threads; and the lanes the deal runs with."""
    from .bench import BENCH_DEAL, lease_scenarios
    from .compile import compile_deal
    from .engine import kernel_lanes, run_program
    from .load import load_deal

    program = compile_deal(load_deal(BENCH_DEAL))
    batch = lease_scenarios(program.n_periods, scenarios, seed=7)
    per = 1e9 / (scenarios * (program.n_periods + 1))
    out = {"scenarios": scenarios, "lanes": kernel_lanes(program)}
    for threads in (1, 2):
        lanes, scalar = _alternated([lambda: run_program(program, batch, threads=threads, lanes=0),
                                     lambda: run_program(program, batch, threads=threads, lanes=1)], repeats)
        out[f"lanes_ns_{threads}"] = lanes * per
        out[f"scalar_ns_{threads}"] = scalar * per
    out["thread_scaling"] = out["lanes_ns_1"] / out["lanes_ns_2"]
    return out


def _alternated(fns, repeats: int) -> list[float]:
    """The fastest of `repeats` timings of each function, the functions taking turns (a
    burst of load on a shared machine then hits each of them alike)."""
    best = [float("inf")] * len(fns)
    for _ in range(max(1, repeats)):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def sweep_vs_kernel(deal=ABILENE, samples: int = 100_000, threads: int | None = None, repeats: int = 5) -> dict:
    """Points/s of `waterfall.sweep` (the whole call: plan, chunks, table) against the
    kernel's scenarios/s on the same deal: on exactly the sweep's scenario batch (the
    layer's own cost) and on the bench's lease scenarios (`waterfall bench <deal>`)."""
    import waterfall
    from waterfall.bench import lease_scenarios
    from waterfall.engine import compiled, resolve_deal, run_program
    from waterfall.sweeps.runner import plan_sweep

    deal = resolve_deal(deal)
    program = compiled(deal)
    plan = plan_sweep(deal, SWEEP_VARY, samples=samples, seed=1)
    same = plan.batch(plan.inputs(0, samples))
    lease = lease_scenarios(program.n_periods, samples)
    run_program(program, lease_scenarios(program.n_periods, 100), threads=threads, losses=True)  # warm
    waterfall.sweep(deal, SWEEP_VARY, samples=1_000, seed=1, progress=False, threads=threads)
    kernel_same, kernel_lease, swept = _alternated([
        lambda: run_program(program, same, threads=threads, losses=True),
        lambda: run_program(program, lease, threads=threads, losses=True),
        lambda: waterfall.sweep(deal, SWEEP_VARY, samples=samples, seed=1, progress=False, threads=threads)],
        repeats)
    return {"deal": deal.name, "points": samples, "sweep_points_per_s": samples / swept,
            "kernel_same_scenarios_per_s": samples / kernel_same,
            "kernel_lease_scenarios_per_s": samples / kernel_lease,
            "sweep_vs_kernel_same": kernel_same / swept, "sweep_vs_kernel_lease": kernel_lease / swept}


def dask_vs_local(deal=ABILENE, samples: int = 100_000, repeats: int = 3) -> dict:
    """Points/s of the same sweep on a two-worker LocalCluster (one thread each, on
    127.0.0.1; started and warmed before the clock) against local (both cores), the two
    taking turns."""
    import waterfall
    from distributed import Client, LocalCluster

    from waterfall.engine import resolve_deal

    deal = resolve_deal(deal)
    waterfall.sweep(deal, SWEEP_VARY, samples=1_000, seed=1, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        waterfall.sweep(deal, SWEEP_VARY, samples=20_000, seed=2, dask=client, progress=False)  # warm
        local, remote = _alternated([
            lambda: waterfall.sweep(deal, SWEEP_VARY, samples=samples, seed=1, progress=False),
            lambda: waterfall.sweep(deal, SWEEP_VARY, samples=samples, seed=1, dask=client, progress=False)],
            repeats)
    return {"deal": deal.name, "points": samples, "local_points_per_s": samples / local,
            "dask_points_per_s": samples / remote, "dask_vs_local": local / remote}


def kernel_copy(path: str):
    """Another build of the compiled kernel (a `_kernel*.so`, e.g. main's) loaded beside
    this one, to time the two interleaved in one process (docs/speed.md). The copy is
    imported as `<tmp package>._kernel`; this package's own kernel is imported first, as
    both register under the module name waterfall._kernel."""
    import importlib
    import shutil
    import sys
    import tempfile
    from pathlib import Path

    from waterfall import _kernel  # noqa: F401  (first: see above)

    root = Path(tempfile.mkdtemp(prefix="wf_kernel_"))
    package = root / "wf_other_kernel"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(path, package / Path(path).name)
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module("wf_other_kernel._kernel")
    finally:
        sys.path.remove(str(root))
    assert module is not _kernel
    return module


def irr_timings(vectors: int = 20_000, calls: int = 20_000, kernels: dict | None = None,
                repeats: int = 3) -> dict:
    """The kernel's IRR of the benchmark deal's flows (181 periods, 64 lease scenarios):
    microseconds per vector in a batch (`irr_many`, the GIL released) of the lender flows
    and of the equity flows, and per single call from Python (a lender vector). `kernels`
    (name -> module, e.g. {"main": kernel_copy(path), "": _kernel}) are timed taking turns,
    best of `repeats`; keys are suffixed with the name (none for "")."""
    from waterfall import _kernel
    from waterfall.bench import lease_scenarios
    from waterfall.compile import compile_deal
    from waterfall.engine import run_program
    from waterfall.load import load_deal
    from waterfall.metrics import cash_flows

    program = compile_deal(load_deal("benchmark_spv"))
    ledgers, _, _ = run_program(program, lease_scenarios(program.n_periods, 64), ledgers=True)
    pairs = [cash_flows(program, ledger) for ledger in ledgers]
    pick = np.arange(vectors) % len(pairs)
    lender = np.array([p[0] for p in pairs])[pick]
    equity = np.array([p[1] for p in pairs])[pick]
    one = lender[0]
    kernels = kernels or {"": _kernel}
    fns, keys = [], []
    for name, kernel in kernels.items():
        kernel.irr_many(lender[:100])

        def singles(irr=kernel.irr):
            for _ in range(calls):
                irr(one)
        fns += [lambda k=kernel: k.irr_many(lender), lambda k=kernel: k.irr_many(equity), singles]
        suffix = f"_{name}" if name else ""
        keys += [("irr_batch_us" + suffix, vectors), ("irr_batch_equity_us" + suffix, vectors),
                 ("irr_single_us" + suffix, calls)]
    best = _alternated(fns, repeats)
    out = {"periods": int(lender.shape[1])}
    out.update({key: seconds / count * 1e6 for (key, count), seconds in zip(keys, best)})
    return out


def run_call(deal=ABILENE, calls: int = 2_000) -> dict:
    """Microseconds of one `waterfall.run(deal)` (base case, ledger and metrics) once the
    deal object has run before: the compiled program and the kernel's setup are cached."""
    import waterfall
    from waterfall.engine import resolve_deal

    deal = resolve_deal(deal)
    waterfall.run(deal)

    def calls_():
        for _ in range(calls):
            waterfall.run(deal)
    return {"deal": deal.name, "run_us": _best(calls_) / calls * 1e6}
