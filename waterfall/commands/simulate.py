"""`waterfall portfolio --simulate N --seed S`: correlated issuer defaults through the
chain (waterfall.credit_sim), printed as expected loss, VaR and CVaR in total, per deal
(with its contribution), per lender and per sponsor, the loss timing and each obligor's
simulated default rate against its input PD."""
from __future__ import annotations

import json
import sys

DEFAULT_WORKERS = 1
"""Local processes for `--simulate` when --workers is not given. One: on the built-in
portfolio (10^5 paths, ~200 chain runs of ~15 ms) on a 2-core machine it beats two,
whose ~3 s start (spawn, import, compile the deals) is more than the work they share
(docs/issuers.md, 'Where it runs')."""


def add_arguments(p) -> None:
    """--workers, --dask and --chunk-size of `portfolio --simulate`."""
    from ..cli import positive_int

    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="with --simulate: local processes for the chain runs and the paths "
                        "(default 1: everything in this process, the fastest for the built-in "
                        "portfolio on a 2-core machine; each worker pays ~3 s to start)")
    p.add_argument("--dask", default=None, metavar="ADDRESS|local",
                   help="with --simulate: run on a dask.distributed scheduler, or a LocalCluster with 'local'")
    p.add_argument("--chunk-size", type=positive_int, default=None, metavar="PATHS",
                   help="with --simulate: paths per chunk (the results do not depend on it)")


def cmd_simulate(args) -> int:
    from ..contagion import ENTITIES_FILE, check_graph, load_graph
    from ..credit_sim import LEVELS, pd_problems, preset_pds, simulate_portfolio
    from ..scenarios.presets import load_preset
    from ..errors import DealError
    from ..sweeps import SweepError
    from .portfolio import portfolio_deals

    workers, dask = getattr(args, "workers", None), getattr(args, "dask", None)
    if workers is not None and dask is not None:
        print(f"error: --workers {workers} and --dask {dask}: the Dask cluster has its own workers; "
              "give one of them", file=sys.stderr)
        return 2

    source = str(args.entities or ENTITIES_FILE)
    try:
        graph = load_graph(args.entities) if args.entities else load_graph()
        deals = portfolio_deals()
        problems = check_graph(graph, {d.name: d for d in deals})
        if graph.simulation is None:
            problems.append(("simulation", "--simulate needs a [simulation] table (obligors, correlation)", None))
        if problems:
            raise DealError(source, problems)
        named = getattr(args, "scenario", "base") or "base"
        preset = None if named == "base" else load_preset(named)
        if preset is not None and pd_problems(graph, preset):
            from ..scenarios.presets import PRESETS_DIR
            from pathlib import Path
            raise DealError(named if Path(named).exists() else str(PRESETS_DIR / f"{named}.toml"),
                            pd_problems(graph, preset))
    except DealError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        result = simulate_portfolio(graph, deals, args.simulate, args.seed,
                                    workers=workers or DEFAULT_WORKERS, dask=dask,
                                    chunk_size=getattr(args, "chunk_size", None),
                                    show=False if getattr(args, "quiet", False) else None, preset=preset)
    except SweepError as exc:   # a Dask scheduler that cannot be reached
        print(f"error: --dask {dask}: {exc}", file=sys.stderr)
        return 2
    pds = {o.name: o.default_probability for o in graph.obligors}
    pds[graph.lab.name] = graph.lab.default_probability
    for name, stress in preset_pds(preset).items():   # the PDs the preset states replace the graph's
        pds[name] = _Stated(stress.annual(pds[name].annual), f"preset {preset.name}", "-", stress.source)
    if args.json:
        out = dict(result.__dict__)
        out["input_pd"] = {k: pds[k].annual for k in result.obligors}
        out["preset"] = named
        print(json.dumps(out, indent=2, default=str))
        return 0
    if preset is not None:
        stated = "; ".join(f"{k}: {pds[k].annual * 100:.2f}%/yr ({pds[k].source})" for k in preset_pds(preset))
        stated = stated or "none (the graph's)"
        print(f"under preset '{named}': the chain runs under it; PDs it states: {stated}")
    print(render(result, pds, graph.simulation, LEVELS))
    return 0


class _Stated:
    """A PD a preset states (model.scenario.PdStress), as render shows an input PD."""

    def __init__(self, annual: float, method: str, date: str, source: str):
        self.annual, self.method, self.date, self.source = annual, method, date, source


def render(r, pds, sim, levels) -> str:
    from ..output.summary import aligned

    h = sim.horizon_years
    lines = [f"{r.n:,} joint paths, seed {r.seed}, {sim.copula} copula over {', '.join(r.obligors)} "
             f"(correlation an assumption), {h}-year horizon; USD millions; run on {r.backend}", ""]
    rows = [[name, f"{pds[name].annual * 100:.2f}%", pds[name].method, str(pds[name].date),
             f"{(1 - (1 - pds[name].annual) ** h) * 100:.1f}%", f"{r.default_rate[name] * 100:.1f}%",
             f"{r.chain_default_rate[name] * 100:.1f}%"]
            for name in r.obligors]
    lines.append(aligned(["obligor", "annual PD", "from", "as of", f"{h}-yr PD", "drawn",
                          "in the chain (drawn or toppled by the lab)"], rows))
    heads = ["", "EL"] + [f"{m} {q * 100:g}%" for q in levels for m in ("VaR", "CVaR")]

    def cells(m):
        return [f"{m['expected_loss']:,.0f}"] + [f"{m[f'{k}_{q:g}']:,.0f}" for q in levels for k in ("var", "cvar")]

    body = [["total"] + cells(r.total)]
    body += [[c[5:]] + cells(m) for c, m in r.by_column.items() if c.startswith("deal:")]
    lines += ["", aligned(heads, body, left=1)]
    contrib = [[d, f"{v['expected_loss']:,.0f}", f"{v['tail_99']:,.0f}"] for d, v in r.contribution.items()]
    lines += ["", aligned(["deal", "EL contribution", "mean loss on the worst 1% of paths"], contrib)]
    for kind in ("lender", "sponsor"):
        rows = sorted(((c.split(":", 1)[1], m) for c, m in r.by_column.items() if c.startswith(kind + ":")),
                      key=lambda kv: -kv[1]["expected_loss"])
        lines += ["", aligned([kind] + heads[1:], [[n] + cells(m) for n, m in rows], left=1)]
    lines += ["", "expected loss by the year of the default that causes it: "
              + ", ".join(f"year {y}: {v:,.0f}" for y, v in r.timing.items())]
    if r.overlap:
        lines.append("note: deals moved by two obligors' defaults other than the lab's (their sum is an approximation): "
                     + ", ".join(r.overlap))
    return "\n".join(lines)
