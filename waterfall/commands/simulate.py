"""`waterfall portfolio --simulate N --seed S`: correlated issuer defaults through the
chain (waterfall.credit_sim), printed as expected loss, VaR and CVaR in total, per deal
(with its contribution), per lender and per sponsor, the loss timing and each obligor's
simulated default rate against its input PD."""
from __future__ import annotations

import json
import sys


def _bar(total: int, quiet: bool = False):
    """A tqdm bar on stderr while the loss tables are built (one chain run each)."""
    from tqdm import tqdm
    return tqdm(total=total, desc="loss tables", unit="run", file=sys.stderr,
                disable=quiet or not sys.stderr.isatty())


def cmd_simulate(args) -> int:
    from ..contagion import ENTITIES_FILE, check_graph, load_graph
    from ..credit_sim import LEVELS, simulate_portfolio
    from ..errors import DealError
    from .portfolio import portfolio_deals

    source = str(args.entities or ENTITIES_FILE)
    try:
        graph = load_graph(args.entities) if args.entities else load_graph()
        deals = portfolio_deals()
        problems = check_graph(graph, {d.name: d for d in deals})
        if graph.simulation is None:
            problems.append(("simulation", "--simulate needs a [simulation] table (obligors, correlation)", None))
        if problems:
            raise DealError(source, problems)
    except DealError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    bar = _bar(len(graph.simulation.obligors) * graph.simulation.horizon_years, getattr(args, "quiet", False))
    result = simulate_portfolio(graph, deals, args.simulate, args.seed, progress=lambda: bar.update(1))
    bar.close()
    pds = {o.name: o.default_probability for o in graph.obligors}
    if args.json:
        out = dict(result.__dict__)
        out["input_pd"] = {k: pds[k].annual for k in result.obligors}
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(render(result, pds, graph.simulation, LEVELS))
    return 0


def render(r, pds, sim, levels) -> str:
    from ..output.summary import aligned

    h = sim.horizon_years
    lines = [f"{r.n:,} joint paths, seed {r.seed}, {sim.copula} copula over {', '.join(r.obligors)} "
             f"(correlation an assumption), {h}-year horizon; USD millions", ""]
    rows = [[name, f"{pds[name].annual * 100:.2f}%", pds[name].method, str(pds[name].date),
             f"{(1 - (1 - pds[name].annual) ** h) * 100:.1f}%", f"{r.default_rate[name] * 100:.1f}%"]
            for name in r.obligors]
    lines.append(aligned(["obligor", "annual PD", "from", "as of", f"{h}-yr PD", "simulated"], rows))
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
        lines.append("note: deals moved by two obligors' defaults (their sum is an approximation): "
                     + ", ".join(r.overlap))
    return "\n".join(lines)
