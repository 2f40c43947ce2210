"""The layers around the kernel (issue 16, item 3): scenario batches as parameter columns
(constant ones broadcast), metrics as one column-major block wrapped by pandas without a
copy, the compiled deal found again without its JSON. Each form must give exactly what
the dense form gives, and the reference must agree with the kernel on it."""
import numpy as np
import pandas as pd
import pytest

import waterfall
from waterfall import engine, ops, reference
from waterfall.bench import lease_scenarios
from waterfall.compile import compile_deal
from waterfall.program import ColumnBatch, ScenarioBatch, ScenarioNames

needs_kernel = pytest.mark.skipif(not engine.kernel_available(), reason="the compiled kernel is not built")

PROGRAM = compile_deal(waterfall.load_deal("benchmark_spv"))
N = PROGRAM.n_periods


def _dense_lease_scenarios(count, seed=7):
    """The bench's lease scenarios built the old way, a dense [S, 4] row per scenario:
    column 0 the dark spell (rent x 0 from the default period to the end of the
    downtime), column 1 the re-let (rent x (1 - haircut) from then on), column 2 the
    rate shock added from period 1, column 3 the rent multiplier from period 1; channel
    -1 where a scenario has no such row. The same draws in the same order."""
    rng = np.random.default_rng(seed)
    channel = np.full((count, 4), -1, dtype=np.int64)
    start = np.zeros((count, 4), dtype=np.int64)
    stop = np.full((count, 4), N, dtype=np.int64)
    value = np.zeros((count, 4))
    defaults = rng.random(count) < 0.3
    period = rng.integers(max(1, N // 15), N + 1, count)
    downtime = rng.integers(0, 25, count)
    haircut = rng.uniform(0.0, 0.6, count)
    for s in range(count):   # one scenario at a time, as a reader would write it
        if defaults[s] and downtime[s] > 0:
            channel[s, 0], start[s, 0], stop[s, 0] = ops.CH_RENT, period[s], min(period[s] + downtime[s] - 1, N)
        if defaults[s] and period[s] + downtime[s] <= N:
            channel[s, 1], start[s, 1], value[s, 1] = ops.CH_RENT, period[s] + downtime[s], 1.0 - haircut[s]
    channel[:, 2], start[:, 2], value[:, 2] = ops.CH_RATE_ADD, 1, rng.uniform(-0.01, 0.02, count)
    channel[:, 3], start[:, 3], value[:, 3] = ops.CH_RENT, 1, rng.uniform(0.9, 1.05, count)
    return ScenarioBatch(names=[f"s{i}" for i in range(count)], adj_channel=channel, adj_from=start,
                         adj_to=stop, adj_value=value, path_index=np.full(count, -1, dtype=np.int64),
                         paths=np.zeros((0, N + 1)))


def test_column_batch_factors_are_the_dense_batchs():
    """Every scenario's per-period factors (the reference's reading of a batch) are the
    same from the parameter columns as from the dense rows: an empty period range (the
    columns' 'no dark spell') changes nothing, as channel -1 does."""
    columns, dense = lease_scenarios(N, 300), _dense_lease_scenarios(300)
    assert isinstance(columns, ColumnBatch)
    for s in range(300):
        f_col, base_col = reference.scenario_factors(PROGRAM, columns.take([s]), 0)
        f_dense, base_dense = reference.scenario_factors(PROGRAM, dense, s)
        assert np.array_equal(f_col, f_dense) and np.array_equal(base_col, base_dense)


def test_column_batch_broadcasts_its_constants():
    """A column the same for every scenario holds one value (stride 0), so a million
    scenarios of the bench's four adjustments hold 3 parameters each (dark spell from
    and to, re-let from and value, rate shock, rent multiplier: 6 arrays of 8 bytes)."""
    batch = lease_scenarios(N, 10_000)
    held = {id(a.base if a.base is not None else a): a.nbytes for col in batch.columns for a in col
            if a.strides[0] != 0}
    assert sum(held.values()) == 6 * 8 * 10_000
    assert batch.columns[2][0].strides == (0,) and batch.columns[3][1].strides == (0,)


@needs_kernel
def test_kernel_on_columns_equals_kernel_on_dense_rows_and_the_reference():
    columns, dense = lease_scenarios(N, 2_000), _dense_lease_scenarios(2_000)
    _, met_c, wal_c, loss_c = engine.run_program(PROGRAM, columns, threads=2, losses=True)
    _, met_d, wal_d, loss_d = engine.run_program(PROGRAM, dense, threads=2, losses=True)
    for a, b in ((met_c, met_d), (wal_c, wal_d), (loss_c, loss_d)):
        assert np.array_equal(a, b, equal_nan=True)   # the same doubles, not just close
    assert (met_c[:, ops.M["default_period"]] >= 0).any()   # some scenarios do default
    sample = np.arange(0, 2_000, 97)
    _, ref_met, ref_wal = reference.run_batch(PROGRAM, columns.take(sample))
    np.testing.assert_allclose(met_c[sample], ref_met, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(wal_c[sample], ref_wal, rtol=1e-9, atol=1e-9)


@needs_kernel
def test_metrics_frame_wraps_the_kernels_columns_and_writes_never_reach_them():
    result = waterfall.run_batch("benchmark_spv", batch=lease_scenarios(N, 500))
    frame = result.metrics
    assert result.metric_values.flags.f_contiguous
    for name in ("llcr", "equity_irr"):   # no copy: the frame's column is the kernel's memory
        assert np.shares_memory(frame[name].to_numpy(), result.metric_values)
    assert np.shares_memory(frame["wal_senior"].to_numpy(), result.wal)
    assert list(frame["scenario"][:3]) == ["s0", "s1", "s2"] and frame["scenario"].iloc[-1] == "s499"
    before = result.metric_values.copy()
    frame.loc[0, "llcr"] = -1.0
    frame["equity_irr"] += 1.0
    assert np.array_equal(result.metric_values, before, equal_nan=True)
    again = result.metrics
    assert again.loc[0, "llcr"] == before[0, ops.M["llcr"]]
    # a period metric with none is missing, as before (-1 in the kernel's column)
    no_default = before[:, ops.M["default_period"]] < 0
    assert again["default_period"][no_default].isna().all()


def test_metrics_frame_from_separate_arrays_is_the_same_table():
    """A BatchResult made from arrays that are not one block (the reference's, C-ordered)
    gives the same table (one copy into columns)."""
    from waterfall.results import BatchResult

    met = np.arange(2 * ops.N_METRICS, dtype=float).reshape(2, ops.N_METRICS)
    wal = np.array([[1.5, 2.5], [3.5, 4.5]])
    frame = BatchResult(deal_name="d", engine="reference", program=PROGRAM, scenario_names=["a", "b"],
                        metric_values=met, wal=wal).metrics
    assert list(frame.columns) == ["scenario", *ops.METRICS, "wal_senior", "wal_mezzanine"]
    assert frame.loc[1, "lender_loss"] == met[1, ops.M["lender_loss"]]
    assert frame.loc[0, "wal_mezzanine"] == 2.5 and frame.loc[1, "scenario"] == "b"


def test_scenario_names_read_like_a_list():
    names = ScenarioNames("s", 12, start=5)
    as_list = [f"s{i}" for i in range(5, 17)]
    assert len(names) == 12 and names[0] == "s5" and names[-1] == "s16" and list(names) == as_list
    assert names == as_list and names[2:4] == ["s7", "s8"] and names[[1, 3]] == ["s6", "s8"]
    assert list(pd.Series(names.column())) == as_list
    with pytest.raises(IndexError):
        names[12]


def test_scenario_names_are_written_straight_into_arrow_buffers():
    """s8..s11 cross a digit count: lengths 2, 2, 3, 3 bytes, so the large_string offsets
    are 0, 2, 4, 7, 10 and the bytes "s8s9s10s11" (hand-derived)."""
    from waterfall.program import _arrow_names

    offsets, data = _arrow_names("s", 8, 4)
    assert offsets.tolist() == [0, 2, 4, 7, 10] and data.tobytes() == b"s8s9s10s11"
    offsets, data = _arrow_names("", 0, 0)
    assert offsets.tolist() == [0] and data.tobytes() == b""
    names = ScenarioNames("run-", 3, start=99)   # 99 | 100 101: widths 6, 7, 7
    assert list(pd.Series(names.column())) == ["run-99", "run-100", "run-101"]
    assert names.column().dtype == pd.StringDtype("pyarrow", na_value=np.nan)
    assert list(pd.Series(ScenarioNames("s", 4, start=-2).column())) == ["s-2", "s-1", "s0", "s1"]


def test_a_million_names_cost_their_own_bytes_and_nothing_in_arrows_pool():
    """s0..s999999: one prefix byte each plus 10 x 1 + 90 x 2 + 900 x 3 + 9,000 x 4
    + 90,000 x 5 + 900,000 x 6 = 5,888,890 digits, so 6,888,890 bytes of text and
    8 x (10^6 + 1) bytes of int64 offsets. They are numpy's buffers, wrapped: Arrow's own
    pool grows by nothing (built through Arrow's cast and join, the names took 53 MB of
    resident memory for their 15 MB)."""
    pa = pytest.importorskip("pyarrow")
    before = pa.total_allocated_bytes()
    column = ScenarioNames("s", 10**6).column()
    assert pa.total_allocated_bytes() - before < 1 << 20
    assert column.nbytes == 6_888_890 + 8 * 10**6   # Arrow's nbytes counts one offset a name
    assert column[0] == "s0" and column[9] == "s9" and column[10] == "s10" and column[999_999] == "s999999"


def test_the_metrics_frame_of_a_big_batch_holds_only_its_own_columns():
    """A fresh process wraps a [S, M + K] block of S = 10^6 (as the kernel returns it) in
    the metrics DataFrame: resident memory grows by at most the two period columns made
    NaN where none (2 x 8 bytes x S, the block keeps its -1) and the names (8 x (S + 1)
    offsets + 6,888,890 bytes, as above), plus 4 MiB: no copy of the block (200 MB), no
    Python string per scenario. (With the names made through Arrow's cast and join it grew by 48 MB.)"""
    import json
    import subprocess
    import sys

    code = """if True:
        import json, numpy as np, pandas as pd
        from waterfall import ops
        from waterfall.bench import BENCH_DEAL
        from waterfall.compile import compile_deal
        from waterfall.load import load_deal
        from waterfall.program import ScenarioNames
        from waterfall.results import BatchResult
        def rss():
            return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmRSS"))
        program = compile_deal(load_deal(BENCH_DEAL))
        m, k, size = ops.N_METRICS, program.n_tranches, 10**6
        def frame(block, size):
            return BatchResult(deal_name="d", engine="compiled", program=program, metric_values=block[:, :m],
                               wal=block[:, m:], scenario_names=ScenarioNames("s", size)).metrics
        frame(np.zeros((3, m + k), order="F"), 3)   # pandas' first-use set-up, not the frame's
        block = np.ones((size, m + k), order="F")
        before = rss()
        table = frame(block, size)
        print(json.dumps([rss() - before, len(table)]))
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    growth, rows = json.loads(done.stdout.strip().splitlines()[-1])
    size = 10**6
    assert rows == size
    assert growth <= 2 * 8 * size + 8 * (size + 1) + 6_888_890 + (4 << 20)


def test_the_same_deal_object_is_not_compiled_again_until_a_list_in_it_changes():
    deal = waterfall.load_deal("tieout")
    first = engine.compiled(deal)
    assert engine.compiled(deal) is first
    # frozen models change in place only through a list or dict they hold: the cache sees it
    tranche = deal.tranches[0]
    deal.tranches[0] = tranche.model_copy(update={"amount": tranche.amount * 1.1})
    changed = engine.compiled(deal)
    assert changed is not first and not np.array_equal(changed.amounts, first.amounts)
    assert np.array_equal(changed.amounts, compile_deal(deal).amounts)
    deal.tranches[0] = tranche   # back as it was: the first program again (its JSON is the key)
    assert engine.compiled(deal) is first


@needs_kernel
def test_the_kernel_writes_into_a_given_block_of_a_larger_table():
    """A sweep's chunk runs straight into its rows of the table: the kernel's block given
    as rows of a wider column-major array gives the numbers of a fresh block, in place."""
    batch = lease_scenarios(N, 300)
    _, met, wal, loss = engine.run_program(PROGRAM, batch, threads=2, losses=True)
    table = np.full((1_000, 2 + ops.N_METRICS + 4), -7.0, order="F")
    rows = table[100:400, 2:]
    _, met_o, wal_o, loss_o = engine.run_program(PROGRAM, batch, threads=2, losses=True, out=rows)
    assert np.shares_memory(met_o, table) and np.shares_memory(loss_o, table)
    assert np.array_equal(table[100:400, 2:2 + ops.N_METRICS], met, equal_nan=True)
    assert np.array_equal(table[100:400, 2 + ops.N_METRICS:], np.hstack([wal, loss]), equal_nan=True)
    assert (table[:100] == -7.0).all() and (table[400:] == -7.0).all() and (table[:, :2] == -7.0).all()
    with pytest.raises(ValueError, match="contiguous columns"):
        engine.run_program(PROGRAM, batch, losses=True, out=np.zeros((300, ops.N_METRICS + 4)))  # C order
