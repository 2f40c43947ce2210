"""Portfolio credit simulation: marginal default rates match the input PDs within Monte
Carlo error, a perfectly correlated run is the chain with every obligor (the lab too)
defaulting on one date, the lab defaulting alone is the chain run with the lab
defaulting, paths are fixed by the seed whatever their number, the results are the same
to the last bit whatever the chunking, the number of local processes or a Dask cluster,
and bad inputs exit 2."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from waterfall.cli import main
from waterfall.commands.portfolio import holders, chain_rows, portfolio_deals
from waterfall.contagion import ENTITIES_FILE, Graph, load_graph, run_chain
from waterfall.credit_sim import (BLOCK, LocalPool, copula_of, default_years, draw_years, loss_tables,
                                  path_losses, risk_measures, run_losses, simulate_portfolio, simulated_pds,
                                  summarise)
from waterfall.issuers import add_months
from waterfall.scenarios.presets import load_preset

GRAPH = load_graph()
LAB = GRAPH.lab.name
DEALS = portfolio_deals()


def short(graph: Graph, years: int) -> Graph:
    """The graph with a shorter simulation horizon (fewer chain runs for the tables)."""
    return graph.model_copy(update={"simulation": graph.simulation.model_copy(update={"horizon_years": years})})


@pytest.fixture(scope="module")
def tables5():
    return loss_tables(short(GRAPH, 5), DEALS)


def test_the_lab_is_a_simulated_obligor_with_a_labelled_pd():
    assert LAB in GRAPH.simulation.obligors
    pd = GRAPH.lab.default_probability
    assert pd.method == "assumption" and 0 < pd.annual < 1 and "facts s.8" in pd.source


@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_marginal_default_rates_match_the_input_pds(copula):
    # a copula changes how defaults cluster, never each obligor's own default rate
    sim, p, n = GRAPH.simulation.model_copy(update={"copula": copula}), simulated_pds(GRAPH), 100_000
    years = default_years(sim, p, n, seed=11)
    assert years.shape == (n, 4)
    for i in range(len(p)):
        # within the horizon: 1 - (1 - p)^H; and in year 0 alone: p (a constant hazard)
        for want, got in ((1 - (1 - p[i]) ** sim.horizon_years, (years[:, i] < sim.horizon_years).mean()),
                          (p[i], (years[:, i] == 0).mean())):
            assert abs(got - want) < 4 * math.sqrt(want * (1 - want) / n), (sim.obligors[i], got, want)


def test_paths_are_fixed_by_the_seed_whatever_their_number_or_cut():
    sim, p = GRAPH.simulation, simulated_pds(GRAPH)
    many = default_years(sim, p, 25_000, seed=5)
    assert np.array_equal(default_years(sim, p, 10_000, seed=5), many[:10_000])
    assert np.array_equal(default_years(sim, p, BLOCK, seed=5, start_block=1), many[BLOCK:2 * BLOCK])
    assert not np.array_equal(default_years(sim, p, 10_000, seed=6), many[:10_000])
    # a span across a block boundary is the same paths
    cop = copula_of(sim, p, 5)
    assert np.array_equal(draw_years(cop, 7_000, 23_000), many[7_000:23_000])


def test_the_lab_forced_into_default_stops_paying():
    # forced mid-year 2: add_months(30 Nov 2025, 30) = 28 May 2028 (day capped at 28).
    # 30 Nov 2025 -> 30 Nov 2027 is 730 days (no 29 Feb in between); -> 28 May 2028 is
    # 31 (Dec) + 31 + 29 (Feb 2028) + 31 + 30 + 28 = 180 more: 910 days = 2.49144 years. Year 2's pay ratio is the share
    # of the year before the date, 0.49144; years 3-7 (the lab still owes): 0; from year 8
    # nothing is owed (every commitment has run off): 1
    when = add_months(GRAPH.basis_date, 30)
    assert when.isoformat() == "2028-05-28"
    base = run_chain(GRAPH)
    out = run_chain(GRAPH, forced={LAB: when})
    assert out.pay_ratio[:2] == base.pay_ratio[:2] == [1.0, 1.0]
    assert out.pay_ratio[2] == pytest.approx(910 / 365.25 - 2, abs=1e-12)
    assert out.pay_ratio[3:8] == [0.0] * 5 and out.pay_ratio[8:12] == [1.0] * 4


def test_the_lab_defaulting_alone_is_the_chain_run_with_the_lab_defaulting(tables5):
    # a path on which only the lab defaults, in year y: its loss per deal, lender and
    # sponsor is the whole portfolio run through the chain with the lab forced into
    # default mid-year y (its providers unpaid from then, toppled as the chain says)
    h = tables5.years
    for y in (0, 3):
        years = np.full((1, 4), h)
        years[0, tables5.obligors.index(LAB)] = y
        loss = path_losses(tables5, years)[0]
        rows, _, _ = chain_rows(GRAPH, load_preset("base"), DEALS, forced={LAB: add_months(GRAPH.basis_date, 12 * y + 6)})
        lenders, sponsors = holders(rows, {d.name: d for d in DEALS})
        assert sum(r["loss"] for r in rows) > 1000.0          # the lab's default costs lenders money
        for r in rows:
            assert loss[tables5.columns.index(f"deal:{r['deal']}")] == pytest.approx(r["loss"], abs=1e-6)
        for kind, accounts in (("lender", lenders), ("sponsor", sponsors)):
            for name, acc in accounts.items():
                assert loss[tables5.columns.index(f"{kind}:{name}")] == pytest.approx(acc["loss"], abs=1e-6)


def test_no_default_is_the_base_case_and_a_late_forced_default_adds_nothing(tables5):
    h = tables5.years
    assert np.array_equal(path_losses(tables5, np.full((1, 4), h))[0], tables5.base)
    # with the lab defaulting in year 0 the chain itself puts Oracle into default in 2026;
    # a drawn Oracle default in year 3 comes after it: the run is the lab's run (not made
    # by loss_tables, its table row zero), and running it gives the same losses
    a, i = 0, tables5.obligors.index("Oracle")
    assert tables5.chain_default[a, i] == 0
    assert not tables5.tables[a, i, 3].any()
    late, _ = run_losses((GRAPH, DEALS), {LAB: 0, "Oracle": 3})
    lab_only, _ = run_losses((GRAPH, DEALS), {LAB: 0})
    assert late == lab_only
    assert np.array_equal([lab_only.get(c, 0.0) for c in tables5.columns], tables5.rows[0])


def test_without_the_lab_a_path_is_the_base_plus_each_obligors_row():
    # a graph that draws Oracle alone (the lab not simulated): one lab state, the base
    # case; Oracle defaulting in year 1 is the chain run with Oracle forced mid-year 1
    sim = GRAPH.simulation.model_copy(update={"obligors": ["Oracle"], "correlation": [[1.0]], "horizon_years": 2})
    graph = GRAPH.model_copy(update={"simulation": sim})
    tables = loss_tables(graph, DEALS)
    assert tables.lab is None and tables.rows.shape[0] == 1
    loss = path_losses(tables, np.array([[1]]))[0]
    rows, _, _ = chain_rows(graph, load_preset("base"), DEALS, forced={"Oracle": add_months(graph.basis_date, 18)})
    assert sum(r["loss"] for r in rows) > 0
    for r in rows:
        assert loss[tables.columns.index(f"deal:{r['deal']}")] == pytest.approx(r["loss"], abs=1e-6)


def test_summary_of_counted_paths(tables5):
    # 100 paths: 50 with no default, 30 with the lab defaulting in year 1 alone, 20 with
    # the lab in year 1 and CoreWeave in year 0. With L1 the lab's year-1 run's total deal
    # loss over the base B and C0 CoreWeave's extra on it: EL = B + (30 L1 + 20 (L1 + C0)) / 100;
    # the timing puts 50 L1 / 100 in year 1 and 20 C0 / 100 in year 0; the lab's drawn rate
    # is 50%, CoreWeave's 20% drawn and, in the chain, 20% plus the lab-year-1 paths on which
    # the chain itself topples it
    h, lab, cw = tables5.years, tables5.obligors.index(LAB), tables5.obligors.index("CoreWeave")
    deals = [k for k, c in enumerate(tables5.columns) if c.startswith("deal:")]
    none, lab1, both = np.full(4, h), np.full(4, h), np.full(4, h)
    lab1[lab] = both[lab] = 1
    both[cw] = 0
    r = summarise(tables5, np.array([none, lab1, both]), np.array([50, 30, 20]), seed=0)
    b = tables5.base[deals].sum()
    l1 = tables5.rows[1, deals].sum() - b
    c0 = tables5.tables[1, cw, 0, deals].sum()
    assert l1 > 0 and c0 >= 0
    assert r.total["expected_loss"] == pytest.approx(b + (30 * l1 + 20 * (l1 + c0)) / 100)
    assert r.timing[1] == pytest.approx(50 * l1 / 100) and r.timing[0] == pytest.approx(20 * c0 / 100)
    assert r.default_rate[LAB] == 0.5 and r.default_rate["CoreWeave"] == 0.2
    toppled = tables5.chain_default[1, cw] < h
    assert r.chain_default_rate["CoreWeave"] == (0.5 if toppled else 0.2)
    assert sum(v["expected_loss"] for v in r.contribution.values()) == pytest.approx(r.total["expected_loss"])


def test_a_lab_default_after_its_last_commitment_is_no_default():
    # the lab's commitments all run off by year 8: defaulting mid-year 8 it owes nothing,
    # its pay ratio path is the base case's, and every run on it (alone or with Oracle's
    # default) is the run without it; loss_tables copies those tables instead of running them
    shared = (GRAPH, DEALS)
    alone, states = run_losses(shared, {LAB: 8})
    base, base_states = run_losses(shared, {})
    assert states["pay_ratio"] == base_states["pay_ratio"] and alone == base
    assert run_losses(shared, {LAB: 8, "Oracle": 2})[0] == run_losses(shared, {"Oracle": 2})[0]
    assert run_losses(shared, {LAB: 7})[1]["pay_ratio"] != base_states["pay_ratio"]


def test_perfectly_correlated_run_is_the_chain_with_joint_defaults():
    # correlation 1 and one PD for all four: on every path they default in the same year;
    # each such path's loss is exactly the chain run with all four forced into default
    # on that year's mid-point
    data = short(GRAPH, 4).model_dump()
    data["simulation"]["correlation"] = [[1.0] * 4 for _ in range(4)]
    data["lab"]["default_probability"]["annual"] = 0.05
    for o in data["obligors"]:
        if o["name"] in data["simulation"]["obligors"]:
            o["default_probability"]["annual"] = 0.05
    graph = Graph.model_validate(data)
    years = default_years(graph.simulation, simulated_pds(graph), 20_000, seed=2)
    assert (years == years[:, :1]).all()
    tables = loss_tables(graph, DEALS)
    losses = path_losses(tables, years)
    for y in (0, 3):
        k = int(np.flatnonzero(years[:, 0] == y)[0])
        when = add_months(graph.basis_date, 12 * y + 6)
        rows, _, _ = chain_rows(graph, load_preset("base"), DEALS, forced={n: when for n in graph.simulation.obligors})
        lenders, _ = holders(rows, {d.name: d for d in DEALS})
        for r in rows:
            assert losses[k, tables.columns.index(f"deal:{r['deal']}")] == pytest.approx(r["loss"], abs=1e-6)
        for name, acc in lenders.items():
            assert losses[k, tables.columns.index(f"lender:{name}")] == pytest.approx(acc["loss"], abs=1e-6)


def test_risk_measures_by_hand():
    # 1,000 losses 0..999: VaR 95% is the 950th smallest (949), CVaR the mean of the worst
    # 50 (950..999: 974.5); at 99.9% the worst one (999)
    m = risk_measures(np.arange(1000.0))
    assert m["expected_loss"] == pytest.approx(499.5)
    assert (m["var_0.95"], m["cvar_0.95"]) == (950.0, pytest.approx(974.5))
    assert (m["var_0.999"], m["cvar_0.999"]) == (999.0, 999.0)


def test_risk_measures_of_counted_losses_by_hand():
    # 100 paths: 90 lose 0, 9 lose 10, 1 loses 20. EL = (9 x 10 + 20) / 100 = 1.1.
    # 95%: the worst k = 5 paths are the 20 and four 10s: VaR = 10 (the 96th smallest),
    # CVaR = (20 + 4 x 10) / 5 = 12. 99%: k = 1, the 20. As the 100 losses written out.
    m = risk_measures(np.array([20.0, 0.0, 10.0]), np.array([1, 90, 9]))
    assert m["expected_loss"] == pytest.approx(1.1)
    assert (m["var_0.95"], m["cvar_0.95"], m["var_0.99"], m["cvar_0.99"]) == (10.0, pytest.approx(12.0), 20.0, 20.0)
    assert m == pytest.approx(risk_measures(np.repeat([0.0, 10.0, 20.0], [90, 9, 1])))


def test_the_same_bits_whatever_the_chunks_the_processes_or_dask():
    # one process in default chunks is the reference; cut into 7,000-path chunks (across
    # block boundaries), on two local processes in 25,000-path chunks, and on a real Dask
    # cluster on loopback (two worker processes) in 9,000-path chunks: every risk measure,
    # default rate, contribution and timing equal to the last bit
    from distributed import LocalCluster

    graph, n = short(GRAPH, 3), 30_000

    def numbers(r):
        out = dict(r.__dict__)
        out.pop("backend")
        return out

    one = simulate_portfolio(graph, DEALS, n, 9)
    assert one.total["expected_loss"] > 0 and one.backend == "one process"
    assert numbers(simulate_portfolio(graph, DEALS, n, 9, chunk_size=7_000)) == numbers(one)
    two = simulate_portfolio(graph, DEALS, n, 9, workers=2, chunk_size=25_000)
    assert two.backend == "2 local processes" and numbers(two) == numbers(one)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as cluster:
        # by its address, as `--dask tcp://127.0.0.1:PORT` gives it
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        on_dask = simulate_portfolio(graph, DEALS, n, 9, dask=cluster.scheduler_address, chunk_size=9_000)
    assert on_dask.backend == "Dask (2 workers)" and numbers(on_dask) == numbers(one)
    assert numbers(simulate_portfolio(graph, DEALS, n, 10)) != numbers(one)


def test_local_pool_sends_the_graph_once_per_process():
    # the pool's workers hold what is shared from their start: a job carries a key only
    pool = LocalPool(2)
    try:
        handle = pool.share({"graph": "big"})
        assert handle[0] == "key"
        assert pool.map(_read_shared, handle, [1, 2, 3]) == [("big", 1), ("big", 2), ("big", 3)]
    finally:
        pool.close()


def _read_shared(shared, job):
    return shared["graph"], job


@pytest.fixture
def short_entities(tmp_path) -> Path:
    text = Path(ENTITIES_FILE).read_text()
    assert "horizon_years = 10" in text
    path = tmp_path / "entities.toml"
    path.write_text(text.replace("horizon_years = 10", "horizon_years = 3"))
    return path


def test_cli_simulate_json_with_a_progress_line_per_chunk(capsys, monkeypatch, short_entities):
    monkeypatch.setenv("WATERFALL_PROGRESS_SECONDS", "0")     # a log line per update
    assert main(["portfolio", "--simulate", "30000", "--seed", "4", "--json", "--workers", "1",
                 "--chunk-size", "10000", "--entities", str(short_entities)]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["n"] == 30000 and set(out["default_rate"]) == set(GRAPH.simulation.obligors)
    assert out["input_pd"][LAB] == GRAPH.lab.default_probability.annual
    assert out["total"]["cvar_0.99"] >= out["total"]["var_0.99"] >= out["total"]["var_0.95"]
    assert sum(v["expected_loss"] for v in out["contribution"].values()) == pytest.approx(out["total"]["expected_loss"])
    for done in ("10,000", "20,000", "30,000"):
        assert f"paths: {done} of 30,000 paths" in captured.err, captured.err


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "argument --workers: must be at least 1, got 0"),
    (["--chunk-size", "-5"], "argument --chunk-size: must be at least 1, got -5"),
])
def test_bad_parallel_options_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["portfolio", "--simulate", "1000"] + argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_workers_and_dask_together_exit_2(capsys):
    assert main(["portfolio", "--simulate", "1000", "--workers", "2", "--dask", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "--workers 2 and --dask tcp://127.0.0.1:1" in err and "Traceback" not in err


def test_an_unreachable_dask_scheduler_exits_2(capsys, short_entities):
    assert main(["portfolio", "--simulate", "1000", "--dask", "tcp://127.0.0.1:1",
                 "--entities", str(short_entities)]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in err and "Traceback" not in err


def test_cli_simulate_runs_on_this_process_unless_told(capsys, short_entities):
    # no --workers: one process (on a 2-core machine two workers' ~3 s start is more than
    # the work they share; docs/issuers.md 'Where it runs'), whatever os.cpu_count() says
    assert main(["portfolio", "--simulate", "10000", "--seed", "4", "--json", "--quiet",
                 "--entities", str(short_entities)]) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "one process"


def test_a_preset_states_pds_as_a_hazard_multiplier_or_a_stressed_spread():
    # graph PDs: the lab 4%/yr, Oracle 2.06%/yr (CDS). A hazard x 2 on the lab: annual
    # 1 - (1 - 0.04)^2 = 1 - 0.9216 = 0.0784. Oracle at a stressed 250bp with R = 40%:
    # hazard 0.025 / 0.6 = 0.041667, annual 1 - exp(-0.041667) = 0.040811. The others keep
    # the graph's (CoreWeave 5.95%, SoftBank 1%); no preset: the graph's all round.
    from waterfall.credit_sim import simulated_pds
    from waterfall.model.scenario import ChainShock, Scenario

    shock = ChainShock(default_probability={LAB: {"multiplier": 2.0, "source": "assumption"},
                                            "Oracle": {"cds_spread_bp": 250.0, "source": "assumption"}})
    got = simulated_pds(GRAPH, Scenario(name="stressed", chain=shock))
    order = list(GRAPH.simulation.obligors)
    assert got[order.index(LAB)] == pytest.approx(0.0784, abs=1e-12)
    assert got[order.index("Oracle")] == pytest.approx(0.040811, abs=1e-6)
    assert got[order.index("CoreWeave")] == 0.0595 and got[order.index("SoftBank Group")] == 0.010
    assert list(simulated_pds(GRAPH)) == [0.04, 0.0206, 0.0595, 0.010]
    with pytest.raises(ValueError, match="give one of multiplier"):
        ChainShock(default_probability={LAB: {"multiplier": 2.0, "cds_spread_bp": 100.0, "source": "x"}})


def test_cli_simulate_under_a_preset_draws_its_pds(capsys, short_entities):
    # key-customer-churn doubles the lab's hazard: 7.84%/yr (above); over the 3-year
    # horizon its default rate is 1 - 0.9216^3 = 0.21726; 20,000 paths: standard error
    # sqrt(0.21726 x 0.78274 / 20000) = 0.0029, so within 0.012 (4 s.e.); on the base
    # case (4%/yr) it would be 1 - 0.96^3 = 0.1153, far outside that
    assert main(["portfolio", "--simulate", "20000", "--seed", "3", "--json", "--quiet", "--scenario",
                 "key-customer-churn", "--entities", str(short_entities)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["preset"] == "key-customer-churn" and out["input_pd"][LAB] == pytest.approx(0.0784)
    assert out["input_pd"]["Oracle"] == 0.0206            # the graph's: the preset states none for it
    assert abs(out["default_rate"][LAB] - 0.21726) < 0.012


def test_a_preset_pd_for_an_unknown_obligor_exits_2_naming_file_field_and_value(capsys, tmp_path):
    preset = tmp_path / "pd-typo.toml"
    preset.write_text('name = "pd-typo"\ntime_unit = "year"\n[chain.default_probability."Orcale"]\n'
                      'multiplier = 2.0\nsource = "assumption"\n')
    assert main(["portfolio", "--simulate", "1000", "--scenario", str(preset), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(preset) in err and "chain.default_probability['Orcale']" in err and "Orcale" in err
    assert "Traceback" not in err
