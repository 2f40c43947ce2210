"""`waterfall run DEAL --scenario PRESET`: a built-in deal under a stress preset runs
through the contagion chain, by the code path `waterfall portfolio` uses
(commands.portfolio.run_portfolio with `only`), so both print the same numbers.
`--direct-only` runs the preset's direct adjustments alone (dated from the chain's
basis date) and says so."""
from __future__ import annotations

import sys


def chain_applies(deal, scenario) -> bool:
    """True for a stress preset named on a built-in portfolio deal (not one of the deal's
    own scenarios, nor the base case)."""
    from ..scenarios.presets import preset_names
    from .portfolio import portfolio_deals

    name = str(scenario)
    if name == "base" or any(s.name == name for s in deal.scenarios) or name not in preset_names():
        return False
    builtin = {d.name: d for d in portfolio_deals()}
    return deal.name in builtin and builtin[deal.name] == deal


def direct_only(deal, scenario):
    """(the preset's direct scenario for this deal, the notice saying so)."""
    from .. import engine
    from ..contagion import direct_scenario, load_graph
    from ..scenarios.presets import preset_names

    scen = engine.resolve_scenario(deal, scenario)
    if str(scenario) not in preset_names():
        return scen, f"--direct-only: '{scenario}' is not a stress preset; it ran as it is"
    graph = load_graph()
    return (direct_scenario(graph, deal, scen),
            f"direct effects only: preset '{scen.name}' without the contagion chain (its market-wide "
            f"stresses dated from {graph.basis_date}); `waterfall run {deal.name} --scenario {scen.name}` "
            f"gives the chain's numbers, as `waterfall portfolio` does")


def chain_summary(row: dict) -> dict:
    """The figures `portfolio` shows for this deal (USD millions), for `run --json`."""
    keys = ("kind", "default_period", "default_cause", "exposure", "recovery", "loss", "recovery_rate",
            "driver", "notes", "claims")
    out = {k: row.get(k) for k in keys}
    out["default_date"] = (row.get("metrics") or {}).get("default_date")
    out["tranches"] = [dict(t) for t in row["tranches"]]
    return out


def chain_lines(row: dict, preset: str) -> list[str]:
    """What the chain did to the deal and what its lenders get, as `portfolio` counts it."""
    lines = ["", f"through the contagion chain (the numbers `waterfall portfolio --scenario {preset}` gives):"]
    lines += [f"  {n}" for n in row["notes"]] or ["  the chain does not touch this deal"]
    for c in row["claims"]:
        lines.append(f"  claim ({c['kind']}) on {c['issuer']}: {c['claim']:,.0f}, recovered {c['recovered']:,.0f} "
                     f"on {c['paid_on']}")
    rate = "-" if row["recovery_rate"] is None else f"{row['recovery_rate'] * 100:.1f}%"
    lines.append(f"  lenders: exposure at default {row['exposure']:,.0f}, recovered {row['recovery']:,.0f} "
                 f"({rate}), loss {row['loss']:,.0f}; driver: {row['driver']}")
    return lines


def run_through_chain(args, deal, engine_name: str, emit) -> int:
    from ..notices import horizon_notices
    from .portfolio import run_portfolio

    data = run_portfolio(args.scenario, only=deal.name, engine=engine_name)
    (row,) = data["deals"]
    warnings = horizon_notices(deal) + data["warnings"]
    if row["kind"] == "spv":
        return emit(args, deal, row["result"], row["scenario"], warnings, chain_lines(row, data["preset"]),
                    chain_summary(row))
    return _instrument(args, deal, row, data, warnings)


def _instrument(args, deal, row, data, warnings) -> int:
    """An issuer's instrument: its claim and recovery at the issuer's default."""
    import json

    if args.csv or args.xlsx or args.plot:
        print(f"error: {deal.name} is an instrument of {row['issuer']} (scenarios/entities.toml): under a "
              f"preset it has no cash-flow waterfall to write; use --direct-only for the deal file's own run",
              file=sys.stderr)
        return 2
    entity = data["entities"][row["issuer"]]
    if args.json:
        print(json.dumps({"deal": deal.name, "scenario": data["preset"], "units": deal.deal.units,
                          "warnings": warnings, "issuer": {"name": row["issuer"], **entity},
                          "chain": chain_summary(row)}, indent=2, default=str))
        return 0
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    head = (f"{deal.name}: instruments of {row['issuer']}; under '{data['preset']}' "
            + (f"{row['issuer']} defaults on {entity['default_date']} ({entity['cause']}); every instrument "
               f"accelerates that day; senior unsecured recover {entity['senior_unsecured_recovery'] * 100:.1f}%"
               if entity.get("default_date") else f"{row['issuer']} does not default"))
    print(head)
    for t in row["tranches"]:
        print(f"  {t['tranche']}: commitment {t['commitment']:,.0f}, claim {t['exposure']:,.0f}, "
              f"recovered {t['recovery']:,.0f}, loss {t['loss']:,.0f}")
    print("\n".join(chain_lines(row, data["preset"])[1:]))
    return 0
