"""Print the README's portfolio table: every preset through the contagion chain, a row
per preset, a column per deal (default period / recovery), and the totals.

    python scripts/portfolio_table.py          # the table
    python scripts/portfolio_table.py --why    # a line per default: the rule that fired, the workout, the loss
"""
from __future__ import annotations

import json
import subprocess
import sys

PRESETS = ["base", "technology-displaced", "slow-adoption", "key-customer-churn",
           "tenant-strategic-default", "delivery-failure", "rates-stay-high", "regulation"]


def run(preset: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "waterfall", "portfolio", "--scenario", preset, "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def cell(deal: dict) -> str:
    if deal["default_period"] is None:
        return "-"
    rec = deal["recovery_rate"]
    return f"{deal['default_period']} / {rec * 100:.0f}%" if rec is not None else str(deal["default_period"])


def why(preset: str, deal: dict) -> str:
    """Which rule fired and what the recovery rested on, for one default."""
    periods, pv = deal["recovery_periods"], deal["recovery_rate_pv"]
    return (f"| {preset} | {deal['deal']} | {deal['default_period']} | {deal['default_cause']} | "
            f"{periods if periods is not None else '-'} | {deal['recovery_rate'] * 100:.0f}% | "
            f"{(pv * 100 if pv is not None else float('nan')):.0f}% | {deal['loss']:,.0f} |")


def main() -> None:
    results = [run(p) for p in PRESETS]
    if "--why" in sys.argv:
        print("| preset | deal | default period | cause | workout periods | recovery | recovery (PV) | loss |")
        print("|---|---|---:|---|---:|---:|---:|---:|")
        for preset, res in zip(PRESETS, results):
            for d in res["deals"]:
                if d["default_period"] is not None and d["recovery_rate"] is not None:
                    print(why(preset, d))
        return
    deals = [d["deal"] for d in results[0]["deals"]]
    print("| preset | " + " | ".join(deals) + " | defaulted debt | lender loss |")
    print("|---|" + "---|" * len(deals) + "---:|---:|")
    for preset, res in zip(PRESETS, results):
        by = {d["deal"]: d for d in res["deals"]}
        t = res["totals"]
        print(f"| {preset} | " + " | ".join(cell(by[d]) for d in deals)
              + f" | {t['exposure']:,.0f} | {t['loss']:,.0f} |")


if __name__ == "__main__":
    main()
