"""PNG plots of a run (matplotlib, Agg backend): the DSCR path of every scenario of the
deal against the covenant lines, the tranche balances, and the uses of revenue by
period (a cash-flow waterfall). Each file is written atomically."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import ops
from ..ops import G
from ..files import atomic_path, make_dirs

PLOTS = ("dscr.png", "balances.png", "cash_flows.png")


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    # names come from deal files: "$x^" in a deal or scenario name is text, not mathtext
    # (parsed as math it crashes the plot or shows something else)
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt
    return plt


def _covenants(ax, program) -> None:
    if program.lock_up_dscr >= 0:
        ax.axhline(program.lock_up_dscr, color="black", linestyle="--", linewidth=1.2,
                   label=f"lock-up {program.lock_up_dscr:.2f}x")
    if program.default_dscr >= 0:
        ax.axhline(program.default_dscr, color="tab:red", linestyle="--", linewidth=1.2,
                   label=f"default {program.default_dscr:.2f}x")
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)


def _save(fig, path: Path) -> Path:
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    return path


def write_plots(result, directory, deal=None, scenario=None, batch=None) -> list[Path]:
    """Write dscr.png, balances.png and cash_flows.png into `directory`; return the paths.
    `batch` (a BatchResult with ledgers) gives the DSCR paths by scenario; by default every
    scenario of the deal is run (deal: a Deal or a file/built-in name; default the result's)."""
    from ..engine import resolve_deal, run_batch

    plt = _pyplot()
    directory = Path(directory)
    make_dirs(directory)
    if batch is None or batch.ledgers is None:
        try:
            batch = run_batch(resolve_deal(deal if deal is not None else result.deal_name), ledgers=True)
        except Exception:  # noqa: BLE001 - plot this run alone
            batch = None
    return [_dscr_plot(plt, result, batch, directory), _balances_plot(plt, result, directory),
            _uses_plot(plt, result, directory)]


def _dscr_plot(plt, result, batch, directory: Path) -> Path:
    """DSCR by scenario against the covenants, a cross at each event of default."""
    program, periods = result.program, np.arange(result.program.n_periods + 1)
    fig, ax = plt.subplots(figsize=(10, 5))
    paths = ([(name, batch.ledgers[s]) for s, name in enumerate(batch.scenario_names)]
             if batch is not None else [(result.scenario, result.ledger)])
    for name, led in paths:
        ds, dscr = led[:, G["debt_service"]], led[:, G["dscr"]].copy()
        dscr[~(ds > 0)] = np.nan
        line, = ax.plot(periods, dscr, label=name, linewidth=1.6)
        eod = np.nonzero(led[:, G["event_of_default"]] > 0)[0]
        if len(eod):
            t = int(eod[0])
            ax.plot([t], [dscr[t]], marker="x", markersize=10, color=line.get_color())
    _covenants(ax, program)
    ax.set_title(f"DSCR by scenario: {result.deal_name}")
    ax.set_xlabel("period")
    ax.set_ylabel("DSCR (x)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out = _save(fig, directory / "dscr.png")
    plt.close(fig)
    return out


def _balances_plot(plt, result, directory: Path) -> Path:
    """Tranche and account closing balances of this scenario."""
    program, ledger, periods = result.program, result.ledger, np.arange(result.program.n_periods + 1)
    fig, ax = plt.subplots(figsize=(10, 5))
    for k, name in enumerate(program.names["tranches"]):
        ax.plot(periods, ledger[:, ops.tranche_col(k, "balance_close")], label=name, linewidth=1.8)
    for a, name in enumerate(program.names["accounts"]):
        ax.plot(periods, ledger[:, ops.account_col(program.n_tranches, a, "balance_close")],
                label=f"{name} (account)", linestyle="--", linewidth=1.2)
    ax.set_title(f"Closing balances: {result.deal_name} / {result.scenario} (USD millions)")
    ax.set_xlabel("period")
    ax.set_ylabel("USD millions")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out = _save(fig, directory / "balances.png")
    plt.close(fig)
    return out


def _uses(program, ledger) -> list:
    """(label, per-period amounts): where each period's cash went."""
    def tranche_sum(line):
        if not program.n_tranches:
            return np.zeros(ledger.shape[0])
        return sum(ledger[:, ops.tranche_col(k, line)] for k in range(program.n_tranches))

    return [
        ("opex", ledger[:, G["opex"]]),
        ("workout costs", ledger[:, G["workout_costs"]]),
        ("fees", ledger[:, G["fees_paid"]]),
        ("interest", tranche_sum("interest_paid")),
        ("principal", tranche_sum("principal_paid")),
        ("prepayment", tranche_sum("prepayment")),
        ("reserve change", ledger[:, G["reserve_funding"]] - ledger[:, G["reserve_release"]]),
        ("recoveries", tranche_sum("recovery_interest") + tranche_sum("recovery_principal")),
        ("to equity", ledger[:, G["equity_distribution"]]),
    ]


def _uses_plot(plt, result, directory: Path) -> Path:
    """Cash-flow waterfall: the uses of each period's cash, stacked, against revenue."""
    program, ledger, periods = result.program, result.ledger, np.arange(result.program.n_periods + 1)
    fig, ax = plt.subplots(figsize=(11, 5.5))
    pos = np.zeros(len(periods))
    neg = np.zeros(len(periods))
    for label, values in _uses(program, ledger):
        values = np.asarray(values, dtype=float)
        if not np.any(np.abs(values) > 1e-12):
            continue
        up, down = np.clip(values, 0, None), np.clip(values, None, 0)
        bars = ax.bar(periods, up, bottom=pos, label=label, width=0.8)
        ax.bar(periods, down, bottom=neg, width=0.8, color=bars.patches[0].get_facecolor())
        pos += up
        neg += down
    ax.plot(periods, ledger[:, G["revenue"]], color="black", marker=".", linewidth=1, label="revenue")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_title(f"Uses of cash by period: {result.deal_name} / {result.scenario} (USD millions)")
    ax.set_xlabel("period")
    ax.set_ylabel("USD millions")
    ax.legend(fontsize=8, ncol=3)
    ax.grid(alpha=0.3, axis="y")
    out = _save(fig, directory / "cash_flows.png")
    plt.close(fig)
    return out
