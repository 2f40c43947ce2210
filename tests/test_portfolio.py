"""The portfolio: every non-example deal under a preset, through the chain; per-deal
figures reconcile exactly with running the deal alone, and totals add up."""
from __future__ import annotations

import json

import numpy as np
import pytest

import waterfall
from waterfall.cli import main
from waterfall.commands.portfolio import portfolio_deals, run_portfolio
from waterfall.load import DEALS_DIR, builtin_deals


def test_portfolio_picks_up_every_non_example_deal():
    names = {d.name for d in portfolio_deals()}
    expected = {waterfall.load_deal(p).name for p in builtin_deals() if "examples" not in p.parts}
    assert names == expected and "tieout" not in names


@pytest.mark.parametrize("preset", ["base", "technology-displaced", "tenant-strategic-default"])
def test_per_deal_figures_reconcile_with_single_runs(preset):
    data = run_portfolio(preset)
    deals = {d.name: d for d in portfolio_deals()}
    for row in data["deals"]:
        if row["kind"] == "instrument":       # an issuer's instrument: tests/test_issuers.py
            continue
        alone = waterfall.run(deals[row["deal"]], row["scenario"]).metrics
        assert alone == row["metrics"]
        # what the SPV collects on its claims (lease rejection, damages, guarantee) goes to
        # its lenders first: their loss is the waterfall's less that
        to_lenders = row.get("claims_to_lenders", 0.0)
        assert sum(t["loss"] for t in row["tranches"]) == pytest.approx(alone["lender_loss"] - to_lenders, abs=1e-6)
        if alone["default_period"] is not None:
            assert row["exposure"] == pytest.approx(alone["lender_claim"], rel=1e-12)
            assert row["recovery"] == pytest.approx(alone["lender_received"] + to_lenders, rel=1e-12)
    for key in ("debt", "exposure", "loss", "recovery"):
        assert data["totals"][key] == pytest.approx(sum(r[key] for r in data["deals"]))
    assert sum(v["loss"] for v in data["lenders"].values()) == pytest.approx(data["totals"]["loss"])
    assert sum(v["exposure"] for v in data["lenders"].values()) == pytest.approx(data["totals"]["exposure"])


def test_unaffected_deal_equals_the_preset_alone():
    data = run_portfolio("rates-stay-high")     # no chain shock: every deal runs the preset alone
    deals = {d.name: d for d in portfolio_deals()}
    from waterfall.contagion import direct_scenario, load_graph
    from waterfall.scenarios.presets import load_preset
    preset, graph = load_preset("rates-stay-high"), load_graph()
    for row in data["deals"]:
        if row["kind"] == "spv":     # its direct effects, dated from the chain's basis date
            alone = waterfall.run(deals[row["deal"]], direct_scenario(graph, deals[row["deal"]], preset))
            assert alone.metrics == row["metrics"]


def test_cli_json_and_csv(tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["portfolio", "--scenario", "slow-adoption", "--json", "--csv", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["preset"] == "slow-adoption" and len(data["deals"]) == len(portfolio_deals())
    assert out.read_text().startswith("deal,default_period,min_dscr")
    assert main(["portfolio"]) == 0
    text = capsys.readouterr().out
    assert "the ~100bn headline counts, 94.5bn" in text


def test_scope_subtotals_add_up_and_lenders_have_one_name():
    from waterfall.lenders import canonical

    data = run_portfolio("technology-displaced")
    by_scope = data["totals"]["by_scope"]
    # the FT's ~100bn: Abilene 9.4 + Frontier 23.25 + Lighthouse 14.75 + Jupiter 18 + DDTL3 2.6
    # + Oracle notes 18 + SoftBank bridge 8.5 = 94.5bn; Hyperion 27.3 comparable; the
    # programme's 100 prospective
    assert by_scope["headline"]["debt"] == pytest.approx(94_500.0)
    assert by_scope["comparable"]["debt"] == pytest.approx(27_300.0)
    assert by_scope["prospective"]["debt"] == pytest.approx(100_000.0)
    for key in ("debt", "exposure", "loss", "recovery"):
        assert sum(s[key] for s in by_scope.values()) == pytest.approx(data["totals"][key])
    # every lender name in the deal files is already its canonical name (no bank twice)
    for deal in portfolio_deals():
        for tranche in deal.tranches:
            for name in tranche.lenders:
                assert canonical(name) == name, name
    assert canonical("J.P. Morgan") == canonical("JPMorgan-led bank group") == "JPMorgan"


def test_lender_table_has_the_deal_tables_scope_subtotals():
    # issue 13 item 5: every table separates the headline debt, the comparables and the
    # prospective programme; a tranche's lender shares sum to one, so each scope's lender
    # subtotal is that scope's deal subtotal (commitment = debt)
    from waterfall.commands.portfolio import render, run_portfolio

    data = run_portfolio("slow-adoption")
    by_deal, by_lender = data["totals"]["by_scope"], data["totals"]["lenders_by_scope"]
    assert set(by_lender) == set(by_deal) == {"headline", "comparable", "prospective"}
    for scope, sub in by_deal.items():
        assert by_lender[scope]["commitment"] == pytest.approx(sub["debt"], rel=1e-12)
        for key in ("exposure", "loss", "recovery"):
            assert by_lender[scope][key] == pytest.approx(sub[key], rel=1e-9, abs=1e-6), (scope, key)
    lender_block = render(data).split("\nlender ")[1].split("\n\n")[0]
    assert lender_block.count("subtotal: ") == 3
