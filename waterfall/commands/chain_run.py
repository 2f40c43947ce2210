"""`waterfall run DEAL --scenario PRESET`: a built-in deal under a stress preset runs
through the contagion chain, by the code path `waterfall portfolio` uses
(commands.portfolio.run_portfolio with `only`), so both print the same numbers.
`--direct-only` runs the preset's direct adjustments alone (dated from the chain's
basis date) and says so.

A deal file that is an issuer's instrument (Oracle's notes and programme, SoftBank's
bridge) under one of its own scenarios runs the same path with the scenario as a stress
on its issuer (waterfall.issuer_stress): the issuer with its whole debt stack, the
instrument's result its. `--direct-only` runs the file's own cash-slice template alone,
without the issuer, and says so."""
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


def issuer_of_instrument(deal) -> str | None:
    """The issuer whose instrument this built-in deal file is (scenarios/entities.toml)."""
    from ..contagion import load_graph
    from ..errors import DealError
    from .portfolio import portfolio_deals

    try:
        graph = load_graph()
    except DealError:   # a broken entity graph is reported where the chain runs
        return None
    issuer = next((o.name for o in graph.obligors for i in o.instruments if i.deal == deal.name), None)
    if issuer is None:
        return None
    builtin = {d.name: d for d in portfolio_deals()}
    return issuer if deal.name in builtin and builtin[deal.name] == deal else None


def issuer_scenario_applies(deal, scenario, base: bool = False) -> bool:
    """True for a built-in instrument's deal file under a scenario that is not a stress
    preset (one of its own, or a scenario file), and under the base case if `base`: its
    credit is its issuer's, so `run` shows what the issuer pays it."""
    from ..scenarios.presets import preset_names

    name = str(getattr(scenario, "name", scenario))
    if name == "base" and not base:
        return False
    return name not in preset_names() and issuer_of_instrument(deal) is not None


def run_issuer_scenario(args, deal) -> int:
    """The deal file's own scenario as a stress on its issuer, by the portfolio's path."""
    from pathlib import Path

    from .. import engine
    from ..notices import horizon_notices

    scen = engine.resolve_scenario(deal, args.scenario)
    named = str(args.scenario)
    source = named if Path(named).suffix.lower() in (".toml", ".json") else (
        args.deal if str(args.deal).endswith(".toml") else f"deals/{deal.name}.toml")
    data, stress = issuer_scenario_run(deal, scen, source)
    (row,) = data["deals"]
    if scen.name != "base":
        row["notes"] = [f"{stress.label}: {line}" for line in _stress_lines(stress)] + row["notes"]
    return _instrument(args, deal, row, data, horizon_notices(deal) + data["warnings"],
                       f"through {stress.issuer} (its whole debt stack, by the path `waterfall portfolio` takes):")


def issuer_scenario_run(deal, scen, source: str | None = None):
    """(run_portfolio's data for this instrument alone, the IssuerStress) of the deal
    file's scenario `scen` read as a stress on its issuer: the one path behind `run
    INSTRUMENT --scenario ITS-OWN` and the issuer rows of scripts/deal_table.py."""
    from ..contagion import load_graph
    from ..issuer_stress import issuer_stress
    from .portfolio import run_portfolio

    stress = issuer_stress(load_graph(), deal, scen, source)
    return run_portfolio("base", only=deal.name, stress={stress.issuer: stress}, label=scen.name), stress


def _stress_lines(stress) -> list[str]:
    """The stress in words, dated."""
    def when(a, b):
        return f"{a} to {b}" if b else f"from {a}"
    out = [f"{stress.issuer}'s market shut {when(a, b)}" for a, b, _ in stress.shut]
    out += [f"base rate {v:+.0f}bp {when(a, b)}" for a, b, v in stress.rate_bp]
    out += [f"{stress.issuer}'s own cash flow x {v:.2f} {when(a, b)}" for a, b, v in stress.own]
    out += [f"what the lab pays {stress.issuer} x {v:.2f} {when(a, b)}" for a, b, v in stress.lab]
    out += [f"asset values x {v:.2f} {when(a, b)}" for a, b, v in stress.assets]
    return out or ["no adjustment"]


def direct_only(deal, scenario):
    """(the preset's direct scenario for this deal, the notice saying so)."""
    from .. import engine
    from ..contagion import direct_scenario, load_graph
    from ..scenarios.presets import preset_names

    scen = engine.resolve_scenario(deal, scenario)
    issuer = issuer_of_instrument(deal) if str(scenario) not in preset_names() else None
    if issuer is not None and scen.name != "base":
        return scen, (f"direct effects only: scenario '{scen.name}' on the deal file's own cash-slice template "
                      f"(a slice of {issuer}'s cash flow), without {issuer}'s balance sheet and debt stack; "
                      f"without --direct-only it runs as a stress on {issuer}, whose default and recovery "
                      f"by class the instrument shares")
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


def chain_lines(row: dict, preset: str, head: str | None = None) -> list[str]:
    """What the chain did to the deal and what its lenders get, as `portfolio` counts it."""
    lines = ["", head or f"through the contagion chain (the numbers `waterfall portfolio --scenario {preset}` gives):"]
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


def _paid(t: dict) -> str:
    """How the issuer paid the tranche before any default, in words ('' if nothing to say)."""
    if not t.get("issued", True):
        return "never issued (its market shut on the issue date), "
    out = f"refinanced {t['refinanced']}x, " if t.get("refinanced") else ""
    return out + (f"repaid at maturity {t['repaid_on']}, " if t.get("repaid_on") else "")


def _instrument(args, deal, row, data, warnings, title: str | None = None) -> int:
    """An issuer's instrument: its claim and recovery at the issuer's default."""
    import json

    if args.csv or args.xlsx or args.plot:
        print(f"error: {deal.name} is an instrument of {row['issuer']} (scenarios/entities.toml): under a "
              f"preset or its own scenario it has no cash-flow waterfall to write; use --direct-only for the deal file's own run",
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
        print(f"  {t['tranche']}: commitment {t['commitment']:,.0f}, {_paid(t)}claim {t['exposure']:,.0f}, "
              f"recovered {t['recovery']:,.0f}, loss {t['loss']:,.0f}")
    print("\n".join(chain_lines(row, data["preset"], title)[1:]))
    return 0
