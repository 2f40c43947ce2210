"""The Cython kernel agrees with the pure-Python reference to 1e-9 on every ledger line,
metric and WAL, on random deals and scenarios; every run also satisfies the invariants."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waterfall import engine, ops, reference
from waterfall.metrics import tranche_losses
from waterfall.compile import compile_deal, compile_scenarios
from waterfall.load import builtin_deals, deal_from_data, load_deal
from waterfall.model import Scenario

from .invariants import assert_all
from .strategies import deals, scenarios

pytestmark = pytest.mark.skipif(not engine.kernel_available(),
                                reason="compiled kernel not built: " + str(engine.kernel_error()))

TOL = 1e-9


def assert_same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    assert a.shape == b.shape, what
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    assert np.array_equal(nan_a, nan_b), f"{what}: NaN pattern differs"
    a, b = np.where(nan_a, 0.0, a), np.where(nan_b, 0.0, b)
    same = a == b  # also equal infinities
    diff = np.where(same, 0.0, np.abs(a - b))
    scale = np.maximum(1.0, np.abs(np.where(same, 0.0, b)))
    worst = float(np.nan_to_num(diff / scale, nan=np.inf).max()) if diff.size else 0.0
    assert worst <= TOL, f"{what}: kernel and reference differ by {worst:.3e}"


def check_parity(program, batch, threads=2):
    led_r, met_r, wal_r = reference.run_batch(program, batch)
    led_c, met_c, wal_c = engine.run_program(program, batch, ledgers=True, threads=threads)
    assert_same(led_c, led_r, "ledger")
    assert_same(met_c, met_r, "metrics")
    assert_same(wal_c, wal_r, "wal")
    _, met_only, wal_only, loss_only = engine.run_program(program, batch, ledgers=False, threads=threads,
                                                          losses=True)
    assert_same(met_only, met_r, "metrics-only batch")
    # each tranche's loss from the kernel's metrics pass is the ledgers' (metrics.tranche_losses)
    assert_same(loss_only, tranche_losses(program, led_r, met_r[:, ops.M["default_period"]]), "tranche loss")
    for s in range(len(batch)):
        assert_all(program, led_r[s])
    return met_r


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernel_matches_reference_on_random_deals(data):
    raw = data.draw(deals())
    deal = deal_from_data(raw, "<random>")
    program = compile_deal(deal)
    scens = [Scenario(name="base")] + [
        Scenario.model_validate(data.draw(scenarios(program.n_periods))) for _ in range(3)]
    batch = compile_scenarios(scens, program)
    check_parity(program, batch)


@pytest.mark.parametrize("path", builtin_deals(), ids=lambda p: p.stem)
def test_kernel_matches_reference_on_builtin_deals(path):
    from waterfall.scenarios import prepare
    from waterfall.scenarios.presets import load_preset, preset_names

    deal = load_deal(path)
    scenarios = [deal.scenario("base")] + list(deal.scenarios) + [load_preset(n) for n in preset_names()]
    for scenario in scenarios:  # structural scenarios (delays, overruns) change the deal itself
        changed, lowered = prepare(deal, scenario)
        program = compile_deal(changed)
        check_parity(program, compile_scenarios([lowered], program))


def test_thread_count_does_not_change_results():
    deal = load_deal("tieout")
    program = compile_deal(deal)
    batch = compile_scenarios(list(deal.scenarios) * 50, program)
    _, one, _ = engine.run_program(program, batch, threads=1)
    _, two, _ = engine.run_program(program, batch, threads=2)
    assert np.array_equal(np.nan_to_num(one, nan=-7.0), np.nan_to_num(two, nan=-7.0))


def test_metrics_only_batch_allocates_no_ledger():
    deal = load_deal("tieout")
    program = compile_deal(deal)
    batch = compile_scenarios(list(deal.scenarios), program)
    ledgers, metrics, wal = engine.run_program(program, batch, ledgers=False)
    assert ledgers is None and metrics.shape == (3, len(engine._ops.METRICS))
