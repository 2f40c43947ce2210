"""`waterfall bench`: time the compiled kernel against the reference on generated
lease scenarios, check that they agree, and report ns per scenario-period."""
from __future__ import annotations

import json
import time

import numpy as np

from . import ops, reference
from .compile import batch_from_rows, compile_deal
from .engine import default_threads, kernel_available, run_program
from .load import load_deal
from .program import ScenarioBatch

BENCH_DEAL = "benchmark_spv"


def lease_scenarios(n_periods: int, count: int, seed: int = 7) -> ScenarioBatch:
    """`count` generated lease scenarios: 30% with a tenant default (period, downtime of
    0-24 periods, re-let haircut 0-60%), each with a base-rate shock of -100..+200 bp and
    a rent multiplier of 0.9-1.05. Built as arrays directly (no pydantic objects)."""
    rng = np.random.default_rng(seed)
    j = 4
    channel = np.full((count, j), -1, dtype=np.int64)
    start = np.zeros((count, j), dtype=np.int64)
    stop = np.full((count, j), n_periods, dtype=np.int64)
    value = np.zeros((count, j))
    defaults = rng.random(count) < 0.3
    period = rng.integers(max(1, n_periods // 15), n_periods + 1, count)
    downtime = rng.integers(0, 25, count)
    haircut = rng.uniform(0.0, 0.6, count)
    dark_end = np.minimum(period + downtime - 1, n_periods)
    has_dark = defaults & (downtime > 0)
    channel[has_dark, 0] = ops.CH_RENT
    start[has_dark, 0], stop[has_dark, 0], value[has_dark, 0] = period[has_dark], dark_end[has_dark], 0.0
    relet = defaults & (period + downtime <= n_periods)
    channel[relet, 1] = ops.CH_RENT
    start[relet, 1], value[relet, 1] = (period + downtime)[relet], 1.0 - haircut[relet]
    channel[:, 2] = ops.CH_RATE_ADD
    start[:, 2], value[:, 2] = 1, rng.uniform(-0.01, 0.02, count)
    channel[:, 3] = ops.CH_RENT
    start[:, 3], value[:, 3] = 1, rng.uniform(0.9, 1.05, count)
    empty = batch_from_rows([], [], [], [], n_periods)
    return ScenarioBatch(names=[f"s{i}" for i in range(count)], adj_channel=channel, adj_from=start,
                         adj_to=stop, adj_value=value, path_index=np.full(count, -1, dtype=np.int64),
                         paths=empty.paths)


def _subset(batch: ScenarioBatch, rows: np.ndarray) -> ScenarioBatch:
    return ScenarioBatch(names=[batch.names[i] for i in rows], adj_channel=batch.adj_channel[rows],
                         adj_from=batch.adj_from[rows], adj_to=batch.adj_to[rows],
                         adj_value=batch.adj_value[rows], path_index=batch.path_index[rows],
                         paths=batch.paths)


def _agree(a: np.ndarray, b: np.ndarray, tol: float = 1e-9) -> bool:
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    a, b = np.nan_to_num(a, nan=0.0), np.nan_to_num(b, nan=0.0)
    same = a == b
    scale = np.maximum(1.0, np.abs(b))
    return bool(np.all(same | (np.abs(a - b) <= tol * scale)))


def bench(deal_path=None, scenarios: int = 100_000, threads: int | None = None,
          reference_sample: int = 200, seed: int = 7, repeats: int = 3, stage=None) -> dict:
    """Run the benchmark and return the report as a dict. `stage(name)`, if given, is told
    each step as it starts (the CLI's progress)."""
    stage = stage or (lambda name: None)
    deal = load_deal(deal_path or BENCH_DEAL)
    program = compile_deal(deal)
    periods = program.n_periods + 1
    batch = lease_scenarios(program.n_periods, scenarios, seed)
    threads = threads or default_threads()
    sample = np.arange(min(reference_sample, scenarios))

    stage(f"the reference on {len(sample):,} scenarios")
    t0 = time.perf_counter()
    _, ref_metrics, ref_wal = reference.run_batch(program, _subset(batch, sample))
    ref_seconds = time.perf_counter() - t0
    report = {"deal": deal.name, "scenarios": scenarios, "periods": periods, "threads": threads,
              "reference_sample": int(len(sample)),
              "reference_ns_per_scenario_period": ref_seconds / (len(sample) * periods) * 1e9}
    if not kernel_available():
        report.update(compiled_ns_per_scenario_period=None, speedup=None, agree=None)
        return report
    stage(f"the kernel on {scenarios:,} scenarios, best of {repeats}")
    run_program(program, _subset(batch, sample), threads=threads)  # warm up
    compiled_seconds, (_, metrics, wal) = _best_of(repeats, run_program, program, batch, threads)
    compiled_ns = compiled_seconds / (scenarios * periods) * 1e9
    report.update(
        compiled_seconds=compiled_seconds,
        scenarios_per_second=scenarios / compiled_seconds,
        compiled_ns_per_scenario_period=compiled_ns,
        speedup=report["reference_ns_per_scenario_period"] / compiled_ns,
        agree=_agree(metrics[sample], ref_metrics) and _agree(wal[sample], ref_wal),
        defaults_share=float(np.mean(metrics[:, ops.M["default_period"]] >= 0)),
        repeats=repeats,
        lanes=_lanes(),
    )
    stage(f"end to end on {scenarios:,} scenarios")
    report.update(_end_to_end(deal, program, scenarios, seed, threads))
    if threads > 1:
        stage("the kernel on one thread")
        one_thread, _ = _best_of(repeats, run_program, program, batch, 1)
        report["compiled_ns_per_scenario_period_1_thread"] = one_thread / (scenarios * periods) * 1e9
        report["thread_scaling"] = one_thread / compiled_seconds
    return report


def _lanes() -> int:
    """Scenarios the kernel steps through the periods together on one thread (1: scalar)."""
    from . import engine
    return int(getattr(engine._kernel, "LANES", 1))


def _end_to_end(deal, program, scenarios: int, seed: int, threads: int) -> dict:
    """What a user waits for and holds: the scenario arrays built, the kernel run (metrics
    only) and the metrics DataFrame made, in seconds; and the process's peak resident
    memory so far (MB, whatever ran before in this process included)."""
    import resource

    from .results import BatchResult

    t0 = time.perf_counter()
    batch = lease_scenarios(program.n_periods, scenarios, seed)
    built = time.perf_counter()
    _, metrics, wal = run_program(program, batch, threads=threads)
    ran = time.perf_counter()
    BatchResult(deal_name=deal.name, engine="compiled", program=program, scenario_names=batch.names,
                metric_values=metrics, wal=wal).metrics
    done = time.perf_counter()
    return {"end_to_end_s": done - t0, "end_to_end_build_s": built - t0, "end_to_end_kernel_s": ran - built,
            "end_to_end_frame_s": done - ran,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def _best_of(repeats: int, fn, program, batch, threads):
    """Fastest of `repeats` runs (these machines are noisy) and its result."""
    best, result = float("inf"), None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn(program, batch, threads=threads)
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench_main(args) -> int:
    from .progress import Stages

    with Stages("bench", 4, show=False if args.quiet else None) as stage:
        report = bench(args.deal, args.scenarios, args.threads, args.reference_sample, args.seed,
                       args.repeats, stage=stage)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"deal {report['deal']}: {report['scenarios']:,} scenarios x {report['periods']} periods, "
          f"{report['threads']} thread(s)")
    print(f"reference  {report['reference_ns_per_scenario_period']:12.1f} ns per scenario-period "
          f"(sample of {report['reference_sample']})")
    if report["compiled_ns_per_scenario_period"] is None:
        print("compiled   not built: the reference is all this install has")
        return 0
    print(f"compiled   {report['compiled_ns_per_scenario_period']:12.1f} ns per scenario-period, "
          f"{report['scenarios_per_second']:,.0f} scenarios/s")
    if "thread_scaling" in report:
        print(f"1 thread   {report['compiled_ns_per_scenario_period_1_thread']:12.1f} ns per "
              f"scenario-period; {report['threads']} threads are {report['thread_scaling']:.2f}x faster")
    print(f"speedup    {report['speedup']:12.1f}x; agree to 1e-9: {report['agree']}")
    print(f"end to end {report['end_to_end_s']:12.2f} s for {report['scenarios']:,} scenarios (build "
          f"{report['end_to_end_build_s']:.2f}, kernel {report['end_to_end_kernel_s']:.2f}, DataFrame "
          f"{report['end_to_end_frame_s']:.2f}); peak {report['peak_rss_mb']:,.0f} MB")
    return 0
