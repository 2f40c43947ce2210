"""A corporate deal file's own scenario is a stress on its issuer (waterfall/issuer_stress.py):
`waterfall run INSTRUMENT --scenario ITS-OWN` runs the issuer with its whole debt stack by the
portfolio's path, and the instrument's result is the issuer's. SoftBank's 2026 bridge and the
LTV market test of a holdco. Expected values are worked by hand in the comments."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from waterfall.cli import main
from waterfall.errors import DealError
from waterfall.issuer_stress import IssuerStress, issuer_stress
from waterfall.issuers import Flows, Live, MarketAccess, resolve_default, simulate


def run_json(capsys, *argv) -> tuple[dict, str]:
    assert main(["run", *argv, "--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_programme_refi_closed_is_oracle_with_its_market_shut(capsys):
    # On main `run oracle_borrowing_programme --scenario refi-closed` ran the file's cash-slice
    # template: a default in period 20 recovering 44.8%, a loss of 56,715, with Oracle solvent
    # in the issuer model. Now the scenario shuts Oracle's market for the periods it names:
    # periods 20-26 of a half-yearly file closed 1 Dec 2025 cover (1 Jun 2035, 1 Dec 2038].
    # Maturities then, paid from cash: Oracle notes 2035 (15 Jul 2035, 8), the Sept-2025
    # notes-2035 (26 Sep 2035, 4), vintage-2025 (1 Dec 2035, 25): 37 in five months against ~33
    # of cash and ~5 a year of free cash flow, leaving ~1. The next, Oracle notes 2026 rolled on
    # 15 Jul 2026 for the market's 10-year tenor, falls due on 15 Jul 2036 (8) with ~5 of cash
    # and the market still shut (to Dec 2038): Oracle defaults that day, and every instrument
    # outstanding accelerates on it.
    out, err = run_json(capsys, "oracle_borrowing_programme", "--scenario", "refi-closed")
    issuer, chain = out["issuer"], out["chain"]
    assert "standalone view" not in err
    assert issuer["name"] == "Oracle" and issuer["default_date"] == "2036-07-15"
    assert issuer["cause"] == "maturity of Oracle notes 2026 (market closed)"
    assert chain["default_date"] == "2036-07-15"
    by = {t["tranche"]: t for t in chain["tranches"]}
    # vintage-2025 was paid at its maturity; the three later vintages are claims of 25,000 each
    assert by["vintage-2025"]["exposure"] == 0.0 and by["vintage-2025"]["repaid_on"] == "2035-12-01"
    assert [by[f"vintage-202{k}"]["exposure"] for k in (6, 7, 8)] == pytest.approx([25000.0] * 3)
    # the estate (5x an operating cash flow of ~60bn a year, the lab's contract over) is worth
    # more than Oracle's ~170bn of financial debt plus its capped lease-rejection claims: every
    # senior unsecured claim recovers in full, so the loss is 0, not 56,715
    assert issuer["senior_unsecured_recovery"] == pytest.approx(1.0)
    assert chain["loss"] == pytest.approx(0.0, abs=1e-6) and chain["exposure"] == pytest.approx(75000.0)


def test_notes_refi_closed_oracle_runs_out_before_its_market_reopens(capsys):
    # oracle_notes_2025 refi-closed printed a loss of 8,622 (a period-10 default of the cash
    # slice). As a stress on Oracle: periods 9-21 of the half-yearly file closed 26 Sep 2025
    # cover (26 Sep 2029, 26 Mar 2036]: its market is shut from 27 Sep 2029 to 27 Mar 2036
    # (each quarter that window touches). Maturities paid from
    # cash in the window: 2030 (Oracle notes 2030 8 + notes-2030 3), 2031 (8), 2032 (8 + notes-2032
    # 3): 30, so its financial debt falls from 206 to 176; by mid-2033 its cash is ~2, and
    # Oracle notes 2033 (15 Jul 2033, 8) cannot be paid: a default on that date, before the
    # market would reopen in March 2036.
    out, _ = run_json(capsys, "oracle_notes_2025", "--scenario", "refi-closed")
    issuer, chain = out["issuer"], out["chain"]
    assert issuer["default_date"] == "2033-07-15"
    assert issuer["cause"] == "maturity of Oracle notes 2033 (market closed)"
    by = {t["tranche"]: t["exposure"] for t in chain["tranches"]}
    repaid = {t["tranche"]: t["repaid_on"] for t in chain["tranches"] if t["repaid_on"]}
    assert repaid == {"notes-2030": "2030-09-26", "notes-2032": "2032-09-26"}
    # the notes repaid at maturity in the window have no claim; the rest accelerate in full
    assert by == pytest.approx({"notes-2030": 0.0, "notes-2032": 0.0, "notes-2035": 4000.0,
                                "notes-2045": 2500.0, "notes-2055": 3500.0, "notes-2065": 2000.0})
    assert chain["loss"] == pytest.approx(0.0, abs=1e-6)   # was 8,622
    # the year-end debt the issuer path records: 206 before the window, 176 by end-2032
    assert 206.0 in issuer["debt"]


def test_direct_only_keeps_the_files_own_template_and_says_so(capsys):
    # --direct-only: the deal file's standalone cash slice alone (the old numbers), saying so
    out, err = run_json(capsys, "oracle_borrowing_programme", "--scenario", "refi-closed", "--direct-only")
    assert "direct effects only" in err and "without Oracle's balance sheet" in err
    assert out["metrics"]["default_period"] == 20
    assert out["metrics"]["lender_loss"] == pytest.approx(56714.78, abs=0.01)


def test_a_scenario_kind_with_no_meaning_for_an_issuer_is_bad_input():
    from waterfall.commands.portfolio import portfolio_deals
    from waterfall.contagion import load_graph
    from waterfall.model.scenario import Scenario

    deal = next(d for d in portfolio_deals() if d.name == "oracle_notes_2025")
    scen = Scenario.model_validate({"name": "opex", "adjustments": [
        {"kind": "opex_multiplier", "from_period": 2, "multiplier": 1.5}]})
    with pytest.raises(DealError) as exc:
        issuer_stress(load_graph(), deal, scen)
    assert "adjustments[0].kind" in str(exc.value) and "opex_multiplier" in str(exc.value)


def test_lease_kinds_split_the_lab_contract_from_the_issuers_own_cash():
    # programme ai-lab-default: lease_default on tenant "AI lab" in period 6 of a half-yearly
    # file closed 1 Dec 2025: period 6 covers (1 Jun 2028, 1 Dec 2028]: what the lab pays Oracle
    # is 0 from 2 Jun 2028 on; Oracle's own cash flow untouched. cash-squeeze: partial_payment on
    # "Oracle operating cash flow" at 60% from period 4 (from 2 Jun 2027): its own cash only.
    from waterfall.commands.portfolio import portfolio_deals
    from waterfall.contagion import load_graph

    deal = next(d for d in portfolio_deals() if d.name == "oracle_borrowing_programme")
    graph = load_graph()
    lab = issuer_stress(graph, deal, deal.scenario("ai-lab-default"))
    assert lab.lab == [(dt.date(2028, 6, 2), None, 0.0)] and lab.own == []
    assert lab.lab_multiple(dt.date(2028, 6, 1)) == 1.0 and lab.lab_multiple(dt.date(2028, 6, 2)) == 0.0
    squeeze = issuer_stress(graph, deal, deal.scenario("cash-squeeze"))
    assert squeeze.own == [(dt.date(2027, 6, 2), None, 0.6)] and squeeze.lab == []


def holdco(assets: float, stress=None, discount: float = 0.0):
    """A holdco with 5 of cash, inflow 8 and outflow 4 a year (1 of cash a quarter before
    interest), a 40 bridge due 31 Mar 2027, 10 of bonds due 2030 and a 6 secured margin loan
    due 2029, all at 0% until refinanced; its market is an LTV test at 50%."""
    lives = [Live("bridge", "senior_unsecured", 40.0, 0.0, dt.date(2027, 3, 31), None, 0.0),
             Live("bonds 2030", "senior_unsecured", 10.0, 0.0, dt.date(2030, 6, 30), None, 0.0),
             Live("margin loan", "secured", 6.0, 0.0, dt.date(2029, 1, 1), None, 1.0)]
    flows = Flows(inflow=lambda t, r: 8.0, outflow=lambda t, r: 4.0, funding=lambda t: 0.0, cash=5.0,
                  pledged=lambda t, r: assets, sale_discount=discount)
    return simulate("HoldCo", lives, flows, MarketAccess(max_ltv=0.5, max_leverage=1.0), dt.date(2026, 1, 1),
                    [1.0] * 40, stress=stress)


def test_ltv_under_the_limit_refinances_the_bridge():
    # the quarter from 1 Jan 2027: cash 5 + 4 x 1 = 9, LTV = (56 of debt - 9) / 120 = 0.392 <= 0.50:
    # its market is open (the cash-flow leverage test, 56 / 8 = 7x over its 1x, is not the test
    # for a holdco), the bridge rolls on 31 Mar 2027 at the day's rate: 3.5% + 1.5% + 0.25% x
    # (7 - 3) = 6%, 2.4 a year, under its 4 a year to spare: no default
    out = holdco(120.0)
    assert out.default_date is None
    assert out.path[4]["ltv"] == pytest.approx(47.0 / 120.0) and out.path[4]["market_open"]


def test_ltv_over_the_limit_is_a_maturity_default_with_every_instrument_accelerating():
    # assets 90: LTV = 47 / 90 = 0.522 > 0.50: shut; the 40 bridge falls due on 31 Mar 2027
    # with 9 + 1 = 10 of cash: default that day, the bonds and the margin loan accelerating with it
    out = holdco(90.0)
    assert out.path[4]["ltv"] == pytest.approx(47.0 / 90.0) and not out.path[4]["market_open"]
    assert out.default_date == dt.date(2027, 3, 31) and out.cause == "maturity of bridge (market closed)"
    assert out.claims == pytest.approx({"bridge": 40.0, "bonds 2030": 10.0, "margin loan": 6.0})
    # the same holdco with 120 of assets marked down 30% from 1 Jan 2027 (a scenario's
    # asset_value_multiplier): 0.7 x 120 = 84, LTV 47 / 84 = 0.560 > 0.5: the same default
    marked = holdco(120.0, IssuerStress("HoldCo", assets=[(dt.date(2027, 1, 1), None, 0.7)]))
    assert marked.default_date == dt.date(2027, 3, 31)


def test_softbanks_2026_bridge_is_in_its_stack_and_refinances_in_the_base_case():
    # facts s.6 (post-Nov-2025): a 40bn unsecured bridge maturing Mar 2027. Base case: debt
    # 59.5 + 40 = 99.5, holdings 165 + the lab stake at cost 60 = 225, cash between ~42 (Nov 2026)
    # and ~33 (Nov 2027, after a year of the bridge's interest and the follow-on): LTV at its
    # maturity between (99.5 - 42) / 225 = 0.256 and (99.5 - 33) / 225 = 0.296, under the 50%
    # limit: it is refinanced, and SoftBank does not default
    from waterfall.commands.portfolio import portfolio_deals
    from waterfall.contagion import load_graph, run_chain

    graph = load_graph()
    sb = next(o for o in graph.obligors if o.name == "SoftBank Group")
    bridge = next(i for i in sb.instruments if i.name == "2026 OpenAI bridge")
    assert (bridge.amount, bridge.maturity, bridge.issue) == (40.0, dt.date(2027, 3, 31), dt.date(2026, 3, 31))
    out = run_chain(graph, None, {d.name: d for d in portfolio_deals()}).entities["SoftBank Group"].issuer
    assert out.default_date is None
    quarter = next(p for p in out.path if p["date"] > dt.date(2027, 3, 31))
    assert 0.256 <= quarter["ltv"] <= 0.296 and quarter["market_open"]


def test_bad_scenario_file_on_an_instrument_exits_2_naming_file_field_and_value(tmp_path, capsys):
    path = tmp_path / "opex.toml"
    path.write_text('name = "opex-up"\n[[adjustments]]\nkind = "opex_multiplier"\nfrom_period = 2\nmultiplier = 1.5\n')
    assert main(["run", "oracle_notes_2025", "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "adjustments[0].kind" in err and "opex_multiplier" in err


def test_a_defaulted_holdcos_estate_is_its_holdings_sold_at_a_discount():
    # assets 60: LTV 47 / 60 = 0.78 > 0.5, the same maturity default on 31 Mar 2027 with 10 of
    # cash. The estate is not 6x its cash flow (6 x 8 = 48) but its holdings sold at a 30%
    # discount, 60 x 0.7 = 42, plus the cash, 10: 52. The margin loan (6, fully secured) takes its
    # collateral, 6; the seniors (bridge 40 + bonds 10 = 50) share 46: 92% each
    out = resolve_default(holdco(60.0, discount=0.3), multiple=6.0, extra=[])
    assert out.default_date == dt.date(2027, 3, 31)
    assert out.holdings_value == pytest.approx(42.0) and out.value == pytest.approx(52.0)
    assert out.recoveries == pytest.approx({"margin loan": 6.0, "bridge": 40 * 0.92, "bonds 2030": 10 * 0.92})


def test_notes_lab_scenarios_stress_what_the_lab_pays_not_oracles_own_cash():
    # oracle_notes_2025 closes 26 Sep 2025, half-yearly: period p covers (26 Sep 2025 + 6(p-1)
    # months, 26 Sep 2025 + 6p months]. ai-lab-default: the lab's lease ends in period 6,
    # which starts the day after 26 Mar 2028: what the lab pays Oracle x 0 from 27 Mar 2028.
    # renegotiation: the lab's rent cut by half over periods 4-13: x 0.5 from 27 Mar 2027
    # (after period 3's 26 Mar 2027) to 27 Mar 2032 (the day after period 13's 26 Mar 2032).
    # cash-squeeze: Oracle's own cash flow x 0.5 from 27 Mar 2027. Each leaves the other
    # stream alone (on main the two lab scenarios also cut Oracle's own cash flow).
    from waterfall.commands.portfolio import portfolio_deals
    from waterfall.contagion import load_graph

    deal = next(d for d in portfolio_deals() if d.name == "oracle_notes_2025")
    graph = load_graph()
    lab = issuer_stress(graph, deal, deal.scenario("ai-lab-default"))
    assert lab.lab == [(dt.date(2028, 3, 27), None, 0.0)] and lab.own == []
    cut = issuer_stress(graph, deal, deal.scenario("renegotiation"))
    assert cut.lab == [(dt.date(2027, 3, 27), dt.date(2032, 3, 27), 0.5)] and cut.own == []
    squeeze = issuer_stress(graph, deal, deal.scenario("cash-squeeze"))
    assert squeeze.own == [(dt.date(2027, 3, 27), None, 0.5)] and squeeze.lab == []


def test_deal_table_shows_an_instrument_as_run_does(capsys):
    # docs/deals.md's deal x scenario table (scripts/deal_table.py) shows an issuer's
    # instrument in the issuer view: its default period, loss and recovery are the ones
    # `waterfall run DEAL --scenario NAME` prints; --direct-only is the file's cash slice,
    # as `run --direct-only` prints it
    import importlib.util
    from pathlib import Path

    import waterfall

    path = Path(__file__).resolve().parents[1] / "scripts" / "deal_table.py"
    spec = importlib.util.spec_from_file_location("deal_table", path)
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    deal = waterfall.load_deal(path.parents[1] / "deals" / "oracle_notes_2025.toml")
    row = table.outcome(deal, "ai-lab-default", "auto", table.issuer_of(deal, False))
    out, _ = run_json(capsys, "oracle_notes_2025", "--scenario", "ai-lab-default")
    chain = out["chain"]
    assert row["view"] == "issuer (Oracle)" and row["min_dscr"] is None
    assert (row["default_period"], row["lender_loss"], row["recovery_rate"]) == (
        chain["default_period"], chain["loss"], chain["recovery_rate"])
    assert chain["loss"] > 0
    direct = table.outcome(deal, "ai-lab-default", "auto", table.issuer_of(deal, True))
    m = waterfall.run(deal, "ai-lab-default").metrics
    assert direct["view"] == "cash slice" and direct["lender_loss"] == m["lender_loss"]


def test_an_instruments_base_case_runs_through_its_issuer(tmp_path):
    """`waterfall run oracle_notes_2025` (no scenario) printed the file's cash-slice run
    (min DSCR 2.32x, LLCR 5.03x: cover ratios on a slice of Oracle's cash); its credit is
    Oracle's, so the base case shows what Oracle pays each note. Oracle does not default in
    its base case (the portfolio's base row: no default, loss 0). A cash-flow output still
    needs a waterfall: it comes from the file's template, with a warning saying so."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    def run(*extra):
        return subprocess.run([sys.executable, "-m", "waterfall", "run", "oracle_notes_2025", "--quiet", *extra],
                              capture_output=True, text=True, cwd=root, timeout=300)
    base = run()
    assert base.returncode == 0, base.stderr
    assert base.stdout.startswith("oracle_notes_2025: instruments of Oracle; under 'base' Oracle does not default")
    assert "min DSCR" not in base.stdout and "loss 0" in base.stdout
    csv = run("--csv", str(tmp_path / "notes_base.csv"))
    assert csv.returncode == 0, csv.stderr
    assert "the deal file's own cash-slice run" in csv.stderr
