"""Print the deal library's base-case table (Markdown) as the engine computes it.

    python scripts/deal_table.py            # compiled kernel if built, else the reference
    python scripts/deal_table.py --engine reference
    python scripts/deal_table.py --scenarios  # every scenario: min DSCR, IRRs, default, loss, recovery
    python scripts/deal_table.py --matrix     # deal x scenario: default period and lender loss
    python scripts/deal_table.py --scenarios --direct-only   # issuers' instruments on their cash slice

With --scenarios or --matrix, a deal file that is an issuer's instrument (scenarios/entities.toml:
Oracle's notes and programme, SoftBank's bridge) is shown in the issuer view, what `waterfall run
DEAL --scenario NAME` gives: the file's scenario is a stress on the issuer, run with its whole debt
stack through the chain (waterfall.issuer_stress), and the row is the instrument's share of the
issuer's default: the deal period of the default date, the lenders' loss and recovery (no DSCR or
IRR: an issuer's bond has no cash-flow waterfall of its own). Its base row is the issuer in the
chain's base case (what `waterfall portfolio` gives). --direct-only shows those files' own
cash-slice template instead (`waterfall run DEAL --scenario NAME --direct-only`).

Columns: debt (sum of tranche commitments, USD millions), min and average DSCR, LLCR (to the
covenant tranches' notional maturity, else their legal one), PLCR (to the end of the
horizon), equity IRR (with the exit sale at the horizon's end where the deal has an [exit]),
lender IRR, the debt outstanding at the start of the last period ("tail": a balloon there must
be met by the exit sale, or it is an event of default), the net exit proceeds, and the default period if the base case defaults.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import waterfall
from waterfall.compile import compile_deal

ROOT = Path(__file__).resolve().parents[1]


def fmt(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if kind == "x":
        return f"{value:.2f}x"
    if kind == "%":
        return f"{100 * value:.1f}%" if abs(value) < 10 else "n/m"
    return f"{value:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="auto", choices=("auto", "compiled", "reference"))
    parser.add_argument("--scenarios", action="store_true", help="a row per deal and scenario")
    parser.add_argument("--matrix", action="store_true", help="a row per deal, a column per scenario")
    parser.add_argument("--direct-only", action="store_true",
                        help="issuers' instruments on their deal file's cash slice, not through the issuer")
    args = parser.parse_args()
    if args.scenarios:
        scenario_table(args.engine, args.direct_only)
        return
    if args.matrix:
        scenario_matrix(args.engine, args.direct_only)
        return
    print("| deal | kind | debt (USD m) | min DSCR | avg DSCR | LLCR | PLCR | equity IRR | lender IRR | "
          "tail (USD m) | exit, net (USD m) | base-case default |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for path in deal_paths():
        deal = waterfall.load_deal(path)
        debt = float(compile_deal(deal, str(path)).amounts.sum())
        result = waterfall.run(deal, "base", engine=args.engine)
        m = result.metrics
        tail, exit_net = horizon_end(deal, result)
        default = "none" if m["default_period"] is None else f"period {m['default_period']}"
        print(f"| {deal.name} | {deal.deal.kind} | {fmt(debt, 'n')} | {fmt(m['min_dscr'], 'x')} | "
              f"{fmt(m['avg_dscr'], 'x')} | {fmt(m['llcr'], 'x')} | {fmt(m['plcr'], 'x')} | "
              f"{fmt(m['equity_irr'], '%')} | {fmt(m['lender_irr'], '%')} | {fmt(tail, 'n')} | "
              f"{fmt(exit_net, 'n') if deal.exit is not None else '-'} | {default} |")


def deal_paths():
    return sorted((ROOT / "deals").glob("*.toml"))


def horizon_end(deal, result) -> tuple[float, float]:
    """(debt outstanding at the start of the last period, net exit proceeds) of a run;
    the tail is zero if the run defaulted before the last period."""
    frame = result.cash_flows()
    last = frame.iloc[-1]
    default = result.metrics["default_period"]
    if default is not None and default < len(frame) - 1:
        return 0.0, float(last["exit_proceeds"])
    return float(sum(last[f"{tr.name}.balance_open"] for tr in deal.tranches)), float(last["exit_proceeds"])


def scenario_names(deal) -> list[str]:
    return ["base"] + [s.name for s in deal.scenarios if s.name != "base"]


def issuer_of(deal, direct_only: bool) -> str | None:
    """The issuer whose instrument the deal file is (None: an SPV, or --direct-only)."""
    from waterfall.commands.chain_run import issuer_of_instrument

    return None if direct_only else issuer_of_instrument(deal)


def outcome(deal, name: str, engine: str, issuer: str | None) -> dict:
    """One deal x scenario: min DSCR, equity and lender IRR, default period, lender loss
    (USD m), recovery and the view it is in. The cash-slice / SPV view is the deal file's
    own run; the issuer view is the scenario as a stress on `issuer` through the chain
    (commands.chain_run.issuer_scenario_run, the path `waterfall run` takes)."""
    if issuer is None:
        m = waterfall.run(deal, name, engine=engine).metrics
        view = "deal file" if deal.deal.kind == "spv" else "cash slice"
        return {k: m[k] for k in ("min_dscr", "equity_irr", "lender_irr", "default_period", "lender_loss",
                                  "recovery_rate")} | {"view": view}
    from waterfall.commands.chain_run import issuer_scenario_run
    from waterfall.engine import resolve_scenario

    data, _ = issuer_scenario_run(deal, resolve_scenario(deal, name), f"deals/{deal.name}.toml")
    (row,) = data["deals"]
    return {"min_dscr": None, "equity_irr": None, "lender_irr": None, "default_period": row["default_period"],
            "lender_loss": row["loss"], "recovery_rate": row["recovery_rate"], "view": f"issuer ({issuer})"}


def scenario_table(engine: str, direct_only: bool = False) -> None:
    print("| deal | scenario | view | min DSCR | equity IRR | lender IRR | default period | lender loss (USD m) | recovery |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path in deal_paths():
        deal = waterfall.load_deal(path)
        issuer = issuer_of(deal, direct_only)
        for name in scenario_names(deal):
            m = outcome(deal, name, engine, issuer)
            default = "-" if m["default_period"] is None else str(m["default_period"])
            print(f"| {deal.name} | {name} | {m['view']} | {fmt(m['min_dscr'], 'x')} | {fmt(m['equity_irr'], '%')} | "
                  f"{fmt(m['lender_irr'], '%')} | {default} | "
                  f"{fmt(m['lender_loss'], 'n')} | {fmt(m['recovery_rate'], '%')} |")


def scenario_matrix(engine: str, direct_only: bool = False) -> None:
    """Deal x scenario: "ok" if the debt is paid, else "P<default period>: <lender loss>";
    "n/a" where the deal has no such scenario. Columns: base, then the scenario names that
    at least two deals share, in the order they first appear (deal-specific scenarios are
    in the --scenarios table)."""
    deals = [waterfall.load_deal(path) for path in deal_paths()]
    columns: list[str] = []
    for deal in deals:
        for name in scenario_names(deal):
            shared = sum(name in scenario_names(d) for d in deals) >= 2
            if name not in columns and shared:
                columns.append(name)
    print("| deal | view | " + " | ".join(columns) + " |")
    print("| --- | --- |" + " ---: |" * len(columns))
    for deal in deals:
        cells, view = [], None
        own = set(scenario_names(deal))
        issuer = issuer_of(deal, direct_only)
        for name in columns:
            if name not in own:
                cells.append("n/a")
                continue
            m = outcome(deal, name, engine, issuer)
            view = m["view"]
            cells.append("ok" if m["default_period"] is None
                         else f"P{m['default_period']}: {fmt(m['lender_loss'], 'n')}")
        print(f"| {deal.name} | {view} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
