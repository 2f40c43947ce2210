"""Print the deal library's base-case table (Markdown) as the engine computes it.

    python scripts/deal_table.py            # compiled kernel if built, else the reference
    python scripts/deal_table.py --engine reference
    python scripts/deal_table.py --scenarios  # every scenario: min DSCR, default, loss, recovery

Columns: debt (sum of tranche commitments, USD millions), min and average DSCR, LLCR (to the
last covenant maturity, so below 1 where a balloon is refinanced), PLCR (to the end of the
horizon), equity IRR, lender IRR, and the default period if the base case defaults.
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
    args = parser.parse_args()
    if args.scenarios:
        scenario_table(args.engine)
        return
    print("| deal | kind | debt (USD m) | min DSCR | avg DSCR | LLCR | PLCR | equity IRR | lender IRR | base-case default |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for path in sorted((ROOT / "deals").glob("*.toml")):
        deal = waterfall.load_deal(path)
        debt = float(compile_deal(deal, str(path)).amounts.sum())
        m = waterfall.run(deal, "base", engine=args.engine).metrics
        default = "none" if m["default_period"] is None else f"period {m['default_period']}"
        print(f"| {deal.name} | {deal.deal.kind} | {fmt(debt, 'n')} | {fmt(m['min_dscr'], 'x')} | "
              f"{fmt(m['avg_dscr'], 'x')} | {fmt(m['llcr'], 'x')} | {fmt(m['plcr'], 'x')} | "
              f"{fmt(m['equity_irr'], '%')} | {fmt(m['lender_irr'], '%')} | {default} |")


def scenario_table(engine: str) -> None:
    print("| deal | scenario | min DSCR | default period | lender loss (USD m) | recovery |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for path in sorted((ROOT / "deals").glob("*.toml")):
        deal = waterfall.load_deal(path)
        for name in ["base"] + [s.name for s in deal.scenarios if s.name != "base"]:
            m = waterfall.run(deal, name, engine=engine).metrics
            default = "-" if m["default_period"] is None else str(m["default_period"])
            print(f"| {deal.name} | {name} | {fmt(m['min_dscr'], 'x')} | {default} | "
                  f"{fmt(m['lender_loss'], 'n')} | {fmt(m['recovery_rate'], '%')} |")


if __name__ == "__main__":
    main()
