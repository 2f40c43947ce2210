"""Print the README's portfolio tables: every preset through the contagion chain.

    python scripts/portfolio_table.py          # a row per preset: default period / recovery per deal,
                                               # what drove the losses, loss by scope
    python scripts/portfolio_table.py --why    # a line per default: the rule that fired, the driver, the loss
    python scripts/portfolio_table.py --chain  # the chain's path: the lab's pay ratio, each issuer
    python scripts/portfolio_table.py --plot docs/img/chain.png   # the same path as a picture
"""
from __future__ import annotations

import json
import subprocess
import sys

PRESETS = ["base", "technology-displaced", "slow-adoption", "key-customer-churn",
           "tenant-strategic-default", "delivery-failure", "rates-stay-high", "regulation"]
ISSUERS = ["Oracle", "CoreWeave", "SoftBank Group"]


def run(preset: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "waterfall", "portfolio", "--scenario", preset, "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def cell(deal: dict) -> str:
    if deal["default_period"] is None:
        return "-"
    rec = deal["recovery_rate"]
    return f"{deal['default_period']} / {rec * 100:.0f}%" if rec is not None else str(deal["default_period"])


def drivers(res: dict) -> str:
    """The distinct drivers of the preset's defaults, most loss first."""
    seen: dict[str, float] = {}
    for d in res["deals"]:
        if d["default_period"] is not None:
            key = d["driver"].split(" (")[0].split(";")[0]
            seen[key] = seen.get(key, 0.0) + d["loss"]
    return "; ".join(k for k, _ in sorted(seen.items(), key=lambda kv: -kv[1])) or "-"


def why(preset: str, deal: dict) -> str:
    """Which rule fired, what drove it and what the recovery rested on, for one default."""
    periods, pv = deal["recovery_periods"], deal["recovery_rate_pv"]
    claims = sum(c["recovered"] for c in deal["claims"])
    return (f"| {preset} | {deal['deal']} | {deal['default_period']} | {deal['driver']} | "
            f"{periods if periods is not None else '-'} | {deal['recovery_rate'] * 100:.0f}% | "
            f"{f'{pv * 100:.0f}%' if pv is not None else '-'} | {claims:,.0f} | {deal['loss']:,.0f} |")


def chain_row(preset: str, res: dict) -> str:
    ratios = " ".join(f"{r:.2f}" for r in res["pay_ratio"][:8])
    cols = []
    for name in ISSUERS:
        e = res["entities"][name]
        low = min(e["cash"]) if e.get("cash") else float("nan")
        state = f"default {e['default_date']} ({e['cause']})" if e.get("default_date") else "solvent"
        cols.append(f"{state}; lowest year-end cash {low:,.1f}bn; market shut {e['quarters_shut']} of "
                    f"{e['quarters_run']} quarters")
    shut = ", ".join(f"{a}-{b - 1}" for a, b in res["refinancing_closed_years"]) or "-"
    return f"| {preset} | {ratios} | " + " | ".join(cols) + f" | {shut} |"


def plot(results: list[dict], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 1 + len(ISSUERS), figsize=(18, 4.5))
    for preset, res in zip(PRESETS, results):
        years = range(len(res["pay_ratio"]))
        axes[0].plot(years, res["pay_ratio"], marker="o", label=preset)
        for ax, name in zip(axes[1:], ISSUERS):
            cash = res["entities"][name].get("cash") or []
            ax.plot(range(len(cash)), cash, marker=".", label=preset)
    axes[0].set_title("the lab's pay ratio", fontsize=10)
    axes[0].set_xlabel("year after the Nov 2025 basis date")
    for ax, name in zip(axes[1:], ISSUERS):
        ax.set_title(f"{name}: year-end cash, USD bn (line ends at default)", fontsize=10)
        ax.set_xlabel("year")
        ax.axhline(0.0, color="grey", lw=0.5)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> None:
    results = [run(p) for p in PRESETS]
    if "--why" in sys.argv:
        print("| preset | deal | default period | driver | workout periods | recovery | waterfall recovery "
              "(PV, before claims) | claims collected | loss |")
        print("|---|---|---:|---|---:|---:|---:|---:|---:|")
        for preset, res in zip(PRESETS, results):
            for d in res["deals"]:
                if d["default_period"] is not None and d["recovery_rate"] is not None:
                    print(why(preset, d))
        return
    if "--chain" in sys.argv:
        print("| preset | lab pay ratio, years 0-7 | " + " | ".join(ISSUERS) + " | AI refinancing shut (years) |")
        print("|---|---|" + "---|" * len(ISSUERS) + "---|")
        for preset, res in zip(PRESETS, results):
            print(chain_row(preset, res))
        return
    if "--plot" in sys.argv:
        plot(results, sys.argv[sys.argv.index("--plot") + 1])
        return
    deals = [d["deal"] for d in results[0]["deals"]]
    print("| preset | " + " | ".join(deals) + " | defaulted debt | lender loss | loss: headline / comparable "
          "/ prospective | what drove the defaults |")
    print("|---|" + "---|" * len(deals) + "---:|---:|---:|---|")
    for preset, res in zip(PRESETS, results):
        by = {d["deal"]: d for d in res["deals"]}
        t, s = res["totals"], res["totals"]["by_scope"]
        split = " / ".join(f"{s.get(k, {}).get('loss', 0.0):,.0f}" for k in ("headline", "comparable", "prospective"))
        print(f"| {preset} | " + " | ".join(cell(by[d]) for d in deals)
              + f" | {t['exposure']:,.0f} | {t['loss']:,.0f} | {split} | {drivers(res)} |")


if __name__ == "__main__":
    main()
