"""Compiled programs are cached per distinct deal (issue 16: a run() recompiled the deal
every call): the cache must never serve a stale or a mutated Program."""
import numpy as np
import pytest

import waterfall
from waterfall import engine
from waterfall.compile import compile_deal, compile_scenarios
from waterfall.load import builtin_deals


def _arrays(program):
    return {k: v.copy() for k, v in vars(program).items() if isinstance(v, np.ndarray)}


@pytest.mark.parametrize("path", builtin_deals(), ids=lambda p: p.stem)
def test_a_cached_program_is_what_a_fresh_compile_gives_and_no_run_writes_into_it(path):
    deal = waterfall.load_deal(path)
    first = waterfall.run_batch(deal).metric_values
    cached = engine.compiled(deal)
    before = _arrays(cached)
    fresh = compile_deal(deal)
    for name, value in _arrays(fresh).items():     # the cached Program is the deal's Program
        np.testing.assert_array_equal(before[name], value, err_msg=name)
    for engine_name in ("compiled", "reference"):   # every scenario, both interpreters, twice
        for _ in range(2):
            again = waterfall.run_batch(deal, engine=engine_name).metric_values
            np.testing.assert_allclose(again, first, rtol=1e-9, atol=1e-9, equal_nan=True)
    for name, value in _arrays(engine.compiled(deal)).items():   # nothing wrote into it
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_a_changed_deal_is_compiled_afresh_and_an_equal_one_is_not():
    deal = waterfall.load_deal("tieout")
    base = waterfall.run(deal).metrics["min_dscr"]
    more = deal.tranches[0].model_copy(update={"amount": deal.tranches[0].amount * 1.1})
    changed = deal.model_copy(update={"tranches": [more, *deal.tranches[1:]]})   # more debt
    assert waterfall.run(changed).metrics["min_dscr"] < base
    assert waterfall.run(changed).program is engine.compiled(changed)
    # another object with the same content (a second load) shares the first one's Program
    assert engine.compiled(waterfall.load_deal("tieout")) is engine.compiled(deal)


def test_run_batch_on_a_precompiled_batch():
    # this path raised TypeError (an unknown BatchResult field) before the cache
    deal = waterfall.load_deal("tieout")
    program = compile_deal(deal)
    batch = compile_scenarios([deal.scenario("base"), deal.scenario("tenant-half-pay")], program)
    got = waterfall.run_batch(deal, batch=batch).metrics
    assert list(got["scenario"]) == ["base", "tenant-half-pay"]
    assert got["default_period"][1] == waterfall.run(deal, "tenant-half-pay").metrics["default_period"]
