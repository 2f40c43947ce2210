"""SIMD lanes across scenarios (ext/_lanes.pxi): a lane block of the kernel gives the scalar
kernel's results bit for bit (each lane does the scalar loop's operations in the same
order), whatever the batch size, the thread count and wherever a lane leaves the block
for the scalar loop (an event of default, sponsor support, a maturity with refinancing or
extension options); and so the reference's to 1e-9 (tests/test_parity.py)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waterfall import _kernel, engine, reference
from waterfall.bench import lease_scenarios
from waterfall.compile import compile_deal, compile_scenarios
from waterfall.load import builtin_deals, deal_from_data, load_deal
from waterfall.model import Scenario

from .strategies import deals, scenarios
from .test_parity import assert_same

pytestmark = pytest.mark.skipif(not engine.kernel_available(),
                                reason="compiled kernel not built: " + str(engine.kernel_error()))


def runs(program, batch, threads):
    """The metrics-only run with lane blocks (the kernel's choice) and one scenario at a time."""
    lanes = engine.run_program(program, batch, threads=threads, losses=True, lanes=0)
    scalar = engine.run_program(program, batch, threads=threads, losses=True, lanes=1)
    return lanes, scalar


def assert_bitwise(lanes, scalar, what):
    for name, a, b in zip(("metrics", "wal", "loss"), lanes[1:], scalar[1:]):
        assert np.array_equal(a, b, equal_nan=True), f"{what}: {name} differ between lanes and scalar"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), threads=st.sampled_from([1, 2]))
def test_lanes_equal_the_scalar_kernel_on_random_deals(data, threads):
    # 9 scenarios: two lane blocks of 4 and one scenario after them, run scalar
    deal = deal_from_data(data.draw(deals(hedges=False)), "<random>")
    program = compile_deal(deal)
    scens = [Scenario(name="base")] + [
        Scenario.model_validate(data.draw(scenarios(program.n_periods))) for _ in range(8)]
    batch = compile_scenarios(scens, program)
    lanes, scalar = runs(program, batch, threads)
    assert_bitwise(lanes, scalar, "random deal")
    if engine.kernel_lanes(program) > 1:   # and the reference's, on the scenarios the lanes ran
        _, met_r, wal_r = reference.run_batch(program, batch)
        assert_same(lanes[1], met_r, "metrics")
        assert_same(lanes[2], wal_r, "wal")


def test_random_deals_often_run_in_lanes():
    # the property above is not vacuous: a good share of random deals without hedges use
    # lane blocks (about 15%: the strategy often draws a letter of credit, a trailing or
    # projected DSCR test, the hedge-ratio covenant or a borrowing base, which run scalar);
    # a build without AVX2 (LANES 1) runs none of them in lanes. 300 draws: the share
    # shifts with what the process ran before (9 of 100 after the CLI had run a deal), so
    # at least 5% of 300 (15, against about 45 expected) is asked for
    found = []

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(raw=deals(hedges=False))
    def draw(raw):
        found.append(engine.kernel_lanes(compile_deal(deal_from_data(raw, "<random>"))))

    draw()
    if _kernel.LANES == 1:
        assert set(found) == {1}, found
    else:
        assert sum(n > 1 for n in found) >= 15, (sum(n > 1 for n in found), found)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("count", [1, 3, 4, 5, 999])
def test_lanes_on_the_benchmark_deal(count, threads):
    # 30% of the generated scenarios have a tenant default (an event of default: the lane
    # leaves its block in that period); the rest run in the lanes to the end
    program = compile_deal(load_deal("benchmark_spv"))
    assert engine.kernel_lanes(program) == _kernel.LANES   # 4 where the build has AVX2, else 1
    batch = lease_scenarios(program.n_periods, count, seed=11)
    lanes, scalar = runs(program, batch, threads)
    assert_bitwise(lanes, scalar, f"{count} scenarios")
    if count == 999:
        defaulted = lanes[1][:, engine._ops.M["default_period"]] >= 0
        assert 0.1 < defaulted.mean() < 0.5   # both paths ran


def test_a_lane_leaves_at_each_rule_the_lanes_do_not_carry():
    # each scenario makes the lanes hand over in a different way: a tenant default, a
    # covenant breach cured by equity, costs the SPV cannot meet (sponsor support), a hard
    # payment shortfall; each equals the scalar kernel and the reference
    program = compile_deal(load_deal("benchmark_spv"))
    n = program.n_periods
    scens = [Scenario(name="base"),
             Scenario.model_validate({"name": "dark", "adjustments": [
                 {"kind": "tenant_default", "period": 40, "downtime_periods": 6, "relet_haircut": 0.3}]}),
             Scenario.model_validate({"name": "tight", "adjustments": [
                 {"kind": "rate_shock", "from_period": 1, "bp": 400}]}),
             Scenario.model_validate({"name": "costly", "adjustments": [
                 {"kind": "opex_multiplier", "from_period": 60, "multiplier": 30.0}]}),
             Scenario.model_validate({"name": "thin", "adjustments": [
                 {"kind": "rent_multiplier", "from_period": 30, "multiplier": 0.35}]})]
    batch = compile_scenarios(scens * 2, program)
    lanes, scalar = runs(program, batch, 1)
    assert_bitwise(lanes, scalar, "handover scenarios")
    _, met_r, _ = reference.run_batch(program, batch)
    assert_same(lanes[1], met_r, "metrics")
    m = engine._ops.M
    assert np.isnan(lanes[1][0, m["lender_loss"]]) or lanes[1][0, m["default_period"]] < 0   # base: no default
    assert lanes[1][1, m["default_period"]] == 40                    # the tenant event, in its period
    assert lanes[1][4, m["default_period"]] >= 30 or lanes[1][4, m["min_dscr"]] < 1.0
    assert n > 0


@pytest.mark.parametrize("path", [p for p in builtin_deals() if p.stem in (
    "tieout", "meta_hyperion", "softbank_bridge", "oracle_notes_2025")], ids=lambda p: p.stem)
def test_lanes_on_built_in_deals_with_their_scenarios_and_presets(path):
    from waterfall.scenarios import prepare
    from waterfall.scenarios.presets import load_preset, preset_names

    deal = load_deal(path)
    program = compile_deal(deal)
    assert engine.kernel_lanes(program) == _kernel.LANES   # 4 where the build has AVX2, else 1
    lowered = []
    for scenario in [deal.scenario("base")] + list(deal.scenarios) + [load_preset(n) for n in preset_names()]:
        changed, low = prepare(deal, scenario)
        if changed == deal:   # (a structural scenario changes the deal: another program)
            lowered.append(low)
    batch = compile_scenarios(lowered * 3, program)
    lanes, scalar = runs(program, batch, 2)
    assert_bitwise(lanes, scalar, path.stem)


def _unhedged(name: str):
    """A built-in deal's data without its hedges (and their steps and covenant)."""
    from waterfall.load import read_document, resolve_deal_path

    raw = read_document(resolve_deal_path(name))
    raw.pop("hedges", None)
    raw["waterfall"] = [s for s in raw["waterfall"] if s.get("step") != "hedge"]
    return deal_from_data(raw, f"<{name} without hedges>")


def test_lanes_hand_over_at_a_maturity_with_extension_and_refinancing_options():
    # Jupiter's mini-perm (4 years + two 1-year extensions, then a refinancing): every lane
    # leaves its block at the first option's maturity (quarter 16) for the scalar loop, which
    # tests the extensions and sizes the refinancing; the results are the scalar's bit for bit
    deal = _unhedged("project_jupiter")
    program = compile_deal(deal)
    assert engine.kernel_lanes(program) == _kernel.LANES   # 4 where the build has AVX2, else 1
    batch = lease_scenarios(program.n_periods, 37, seed=5)
    lanes, scalar = runs(program, batch, 2)
    assert_bitwise(lanes, scalar, "jupiter without hedges")
    _, met_r, _ = reference.run_batch(program, batch)
    assert_same(lanes[1], met_r, "metrics")


def test_programs_the_lanes_do_not_carry_run_scalar():
    # a hedge (its settlement and its termination in the recovery) is not carried by the
    # lanes: the program runs one scenario at a time, and a lanes= value it cannot use fails
    program = compile_deal(load_deal("benchmark_spv"))
    batch = lease_scenarios(program.n_periods, 8, seed=3)
    with pytest.raises(ValueError, match="lanes must be"):
        engine.run_program(program, batch, lanes=3)
    hedged = compile_deal(load_deal("project_jupiter"))
    assert hedged.n_hedges > 0 and engine.kernel_lanes(hedged) == 1
    batch = lease_scenarios(hedged.n_periods, 9, seed=3)
    assert_bitwise(*runs(hedged, batch, 1), "hedged: scalar either way")
