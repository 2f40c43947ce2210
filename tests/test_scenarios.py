"""The scenario library on the tie-out deal, with hand-checked effects.

Tie-out facts used below: rent 40.0 a quarter x 1.02^floor((q - 1) / 4); opex 3.0 a
quarter; senior 700 at 1.5% a quarter, 17.5 principal a quarter to quarter 40; shell
1,000 worth 1,000 x (1 - q/40); DSRA one quarter of debt service (28.0 in quarter 1)."""
from __future__ import annotations

import numpy as np
import pytest

import waterfall
from waterfall import ops
from waterfall.errors import DealError
from waterfall.model import Scenario
from waterfall.scenarios import apply_structural, lease_runs, prepare, resolve
from waterfall.scenarios.presets import load_preset, load_scenario_file, preset_names
from waterfall.scenarios.timing import end_period, start_period

TIEOUT = waterfall.load_deal("tieout")


def S(*adjustments, **kw):
    return Scenario.model_validate({"name": "t", "adjustments": list(adjustments), **kw})


def same(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9, equal_nan=True)


def revenue(deal, scen):
    return waterfall.run(deal, scen).cash_flows()["revenue"]


def test_lease_default_continuation_pays_the_share():
    rev = revenue(TIEOUT, S({"kind": "lease_default", "period": 13, "outcome": "continuation",
                             "paid_share": 0.5}))
    assert rev[12] == pytest.approx(40 * 1.02 ** 2)            # 41.616, before the default
    assert rev[13] == pytest.approx(40 * 1.02 ** 3 * 0.5)      # 21.224


def test_lease_default_termination_relets_on_the_market_curve():
    relet = {"points": [(0, 0.5), (4, 1.0)], "haircut": 0.2}
    adj = S({"kind": "lease_default", "period": 5, "downtime": 2, "relet": relet}).adjustments[0]
    runs = lease_runs(adj, 40)
    # dark in 5-6; re-let from 7: level 0.5 + 0.125 a quarter, x 0.8 after the haircut
    assert runs[0] == (5, 6, 0.0)
    assert [r[2] for r in runs[1:5]] == pytest.approx([0.4, 0.5, 0.6, 0.7])
    assert runs[-1] == (11, 40, pytest.approx(0.8))


def test_named_tenant_equals_every_lease_on_a_single_tenant_deal():
    a = waterfall.run(TIEOUT, S({"kind": "renegotiation", "tenant": "Tenant", "from_period": 9, "rent_cut": 0.2}))
    b = waterfall.run(TIEOUT, "renegotiation")   # the deal's own: rent x 0.80 from quarter 9
    same(a.metric_values, b.metric_values)
    assert a.cash_flows()["revenue"][9] == pytest.approx(40 * 1.02 ** 2 * 0.8)   # 33.2928


def test_unknown_tenant_changes_nothing():
    a = waterfall.run(TIEOUT, S({"kind": "partial_payment", "tenant": "Nobody", "paid_share": 0.0}))
    same(a.metric_values, waterfall.run(TIEOUT).metric_values)


def test_partial_payment_window():
    rev = revenue(TIEOUT, S({"kind": "partial_payment", "from_period": 13, "to_period": 16, "paid_share": 0.9}))
    assert rev[13] == pytest.approx(40 * 1.02 ** 3 * 0.9) and rev[16] == pytest.approx(40 * 1.02 ** 3 * 0.9)
    assert rev[17] == pytest.approx(40 * 1.02 ** 4)            # 43.297, full again


def test_power_shortfall_is_pro_rata():
    result = waterfall.run(TIEOUT, S({"kind": "power_shortfall", "to_period": 4, "delivered": 0.8}))
    cf = result.cash_flows()
    assert cf["revenue"][1] == pytest.approx(32.0)             # 40 x 0.8
    assert cf["dscr"][1] == pytest.approx((32.0 - 3.0) / 28.0)  # 1.0357: 29 over 10.5 + 17.5
    assert cf["revenue"][5] == pytest.approx(40.8)


def _with_renewal(exercised: bool):
    data = TIEOUT.model_dump()
    data["timeline"]["operating_periods"] = 48
    data["leases"][0]["renewals"] = [{"term_months": 24, "rent_reset": 1.0, "exercised": exercised}]
    data["scenarios"] = []
    return waterfall.Deal.model_validate(data)


def test_lease_option_exit_stops_rent_at_the_option():
    deal = _with_renewal(True)
    rev = revenue(deal, S({"kind": "lease_option", "option": 1, "decision": "exit"}))
    assert rev[40] == pytest.approx(40 * 1.02 ** 9)            # last quarter of the first term
    assert rev[41] == 0.0 and rev[48] == 0.0


def test_lease_option_renew_extends_the_lease():
    deal = _with_renewal(False)
    assert revenue(deal, S())[41] == 0.0
    rev = revenue(deal, S({"kind": "lease_option", "option": 1, "decision": "renew", "rent_reset": 0.9}))
    assert rev[41] == pytest.approx(40 * 1.02 ** 10 * 0.9)     # 43.883: 10 escalations, reset 0.9


def test_gpu_obsolescence_steps_the_seizure_value():
    scen = S({"kind": "gpu_obsolescence", "component": "shell", "steps": [(4, 0.3)]},
             {"kind": "tenant_default", "period": 8})
    cf = waterfall.run(TIEOUT, scen).cash_flows()
    d = int(cf.index[cf["event_of_default"] == 1][0])
    assert cf["seizure_gross"][d] == pytest.approx(1000 * (1 - d / 40) * 0.7)


def test_construction_delay_moves_cod_and_pays_damages():
    scen = S({"kind": "construction_delay", "delay": 2, "ld_rent_share": 0.5, "ld_cap": 0.05,
              "only_under_construction": False})
    result = waterfall.run(TIEOUT, scen)
    cf = result.cash_flows()
    assert result.program.n_periods == 42 and result.program.cod_period == 3
    # damages 0.5 x 40 = 20 a quarter for 2 quarters (40 <= cap 0.05 x 1,000 = 50)
    assert list(cf["revenue"][1:4]) == pytest.approx([20.0, 20.0, 40.0])
    assert cf["senior.interest_paid"][1] == pytest.approx(10.5)
    assert cf["senior.principal_due"][3] == pytest.approx(17.5)   # amortisation from the new COD
    capped = waterfall.run(TIEOUT, S({**scen.adjustments[0].model_dump(), "ld_cap": 0.03}))
    # cap 30: one quarter of 20, then 10
    assert list(capped.cash_flows()["revenue"][1:3]) == pytest.approx([20.0, 10.0])


def test_construction_delay_skips_deals_already_operating():
    scen = S({"kind": "construction_delay", "delay": 2})
    same(waterfall.run(TIEOUT, scen).metric_values, waterfall.run(TIEOUT).metric_values)


def test_cost_overrun_is_funded_only_as_the_sponsor_support_terms_say():
    overrun = S({"kind": "cost_overrun", "share": 0.2, "components": ["shell"], "only_under_construction": False})
    # unlimited support: the sponsors fund the overrun as equity (1,200 - 700 of debt)
    backed = TIEOUT.model_copy(update={"sponsor_support": TIEOUT.sponsor_support.model_copy(
        update={"kind": "unlimited"})})
    program = waterfall.compile_deal(apply_structural(backed, overrun))
    assert program.capex[0] == pytest.approx(1200.0)
    assert program.equity_in[0] == pytest.approx(500.0)
    assert program.asset_value[1, 8] == pytest.approx(800.0)      # 1,000 x (1 - 8/40), as before
    # no support (the tie-out's terms): the equity commitment stays the 300 of close, so the
    # 200 overrun is a shortfall nobody funds: a payment default at close
    deal = apply_structural(TIEOUT, overrun)
    assert waterfall.compile_deal(deal).equity_in[0] == pytest.approx(300.0)
    result = waterfall.run(deal, engine="reference")
    assert result.metrics["default_period"] == 0 and result.metrics["default_cause"] == "payment"


def test_rate_path_and_refinancing_closed_compile_to_channels():
    rows, path = waterfall.compile.scenario_adjustments(
        S({"kind": "refinancing_closed", "from_period": 10}, {"kind": "rate_shock", "bp": 200.0}), 40)
    assert (ops.CH_REFI, 10, 40, 0.0) in rows and (ops.CH_RATE_ADD, 0, 40, 0.02) in rows


def test_times_in_years_become_periods():
    assert start_period(24, 3) == 9 and start_period(0, 3) == 0 and end_period(60, 3) == 20
    scen = resolve(S({"kind": "partial_payment", "from_period": 1, "to_period": 2, "paid_share": 0.5},
                     {"kind": "rate_path", "points": [(0, 0.04), (2, 0.05)]},
                     {"kind": "lease_default", "period": 20}, time_unit="year"), TIEOUT)
    assert scen.time_unit == "period"
    pp = scen.adjustments[0]
    assert (pp.from_period, pp.to_period) == (5, 8)              # year 2 = quarters 5..8
    assert scen.adjustments[1].points == [(0, 0.04), (9, 0.05)]
    assert len(scen.adjustments) == 2                            # year 20 is beyond the 10-year horizon


def test_compile_refuses_unprepared_kinds():
    with pytest.raises(ValueError, match="needs the deal"):
        waterfall.compile_scenarios([S({"kind": "renegotiation", "tenant": "Tenant", "rent_cut": 0.1})],
                                    waterfall.compile_deal(TIEOUT))


def test_run_batch_groups_by_deal_and_matches_single_runs():
    scens = [S(), S({"kind": "construction_delay", "delay": 1, "ld_rent_share": 1.0, "ld_cap": 0.1,
                     "only_under_construction": False}),
             S({"kind": "renegotiation", "tenant": "Tenant", "rent_cut": 0.1})]
    batch = waterfall.run_batch(TIEOUT, scens)
    for i, s in enumerate(scens):
        single = waterfall.run(TIEOUT, s).metric_values
        assert batch.metric_values[i] == pytest.approx(single, nan_ok=True)


@pytest.mark.parametrize("name", preset_names())
def test_presets_load_and_apply_to_every_deal(name):
    preset = load_preset(name)
    assert preset.assumptions and preset.description
    for path in waterfall.load.builtin_deals():
        deal = waterfall.load_deal(path)
        result = waterfall.run(deal, preset)
        assert result.metric_values.shape == (len(ops.METRICS),)
        changed, lowered = prepare(deal, preset)
        assert lowered.time_unit == "period"


def test_seven_presets_are_listed(capsys):
    from waterfall.cli import main
    assert main(["presets"]) == 0
    assert capsys.readouterr().out.split() == [
        "technology-displaced", "slow-adoption", "key-customer-churn", "tenant-strategic-default",
        "delivery-failure", "rates-stay-high", "regulation"]


def test_bad_scenario_file_names_file_field_and_value(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ntime_unit = "year"\n[[adjustments]]\nkind = "power_shortfall"\ndelivered = 1.5\n'
                   '[[adjustments]]\nkind = "teleport"\n')
    with pytest.raises(DealError) as err:
        load_scenario_file(bad)
    text = str(err.value)
    assert f"{bad}: adjustments[0].delivered" in text and "1.5" in text
    assert "adjustments[1].kind" in text and "teleport" in text
    from waterfall.cli import main
    assert main(["portfolio", "--scenario", str(bad)]) == 2
    assert "adjustments[0].delivered" in capsys.readouterr().err
    assert main(["portfolio", "--scenario", "no-such-preset"]) == 2
