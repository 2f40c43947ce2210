"""PNG charts of sweeps (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib
    matplotlib.use("Agg", force=True)
    # names come from deal files: "$x^" in a deal or scenario name is text, not mathtext
    # (parsed as math it crashes the plot or shows something else)
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt
    return plt


def plot_lines(frame, path: str, metrics=("min_dscr", "lender_loss", "equity_irr"), out: Path = None) -> Path:
    plt = _plt()
    data = frame.groupby(path, sort=True)[list(metrics)].mean()
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7, 2.4 * len(metrics)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, m in zip(axes, metrics):
        ax.plot(data.index, data[m], marker="o", ms=3)
        ax.set_ylabel(m)
        ax.grid(alpha=0.3)
        if m == "min_dscr":
            ax.axhline(1.0, color="red", lw=0.8, ls="--")
    axes[-1].set_xlabel(path)
    fig.suptitle(f"{frame.attrs.get('deal', '')}: metrics vs {path}")
    fig.tight_layout()
    return _save(fig, out)


def plot_table2d(table, out: Path, metric: str | None = None) -> Path:
    plt = _plt()
    metric = metric or table.attrs.get("metric", "")
    fig, ax = plt.subplots(figsize=(8, 5.5))
    im = ax.imshow(table.to_numpy(dtype=float), aspect="auto", origin="lower", cmap="viridis")
    ax.set_xticks(range(len(table.columns)), [f"{c:g}" for c in table.columns], rotation=45)
    ax.set_yticks(range(len(table.index)), [f"{r:g}" for r in table.index])
    ax.set_xlabel(table.columns.name)
    ax.set_ylabel(table.index.name)
    fig.colorbar(im, ax=ax, label=metric)
    ax.set_title(f"{metric} by {table.index.name} x {table.columns.name}")
    fig.tight_layout()
    return _save(fig, out)


def plot_tornado(tornado, out: Path, metric: str = "lender_loss") -> Path:
    plt = _plt()
    t = tornado.iloc[::-1]
    base = float(t[f"{metric}_base"].iloc[0])
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(t) + 1.5))
    y = np.arange(len(t))
    lo, hi = t[f"{metric}_low"].to_numpy(float), t[f"{metric}_high"].to_numpy(float)
    ax.barh(y, lo - base, left=base, color="tab:blue", label="input low")
    ax.barh(y, hi - base, left=base, color="tab:orange", label="input high")
    ax.axvline(base, color="black", lw=0.8)
    ax.set_yticks(y, t["input"])
    ax.set_xlabel(metric)
    ax.legend(loc="lower right")
    ax.set_title(f"tornado: {metric}")
    fig.tight_layout()
    return _save(fig, out)


def plot_loss_distribution(frame, out: Path, loss: str = "lender_loss", levels=(0.95, 0.99)) -> Path:
    from .analysis import var_cvar

    plt = _plt()
    values = np.nan_to_num(frame[loss].to_numpy(float))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.hist(values, bins=60, color="tab:gray")
    ax.set_yscale("log")
    ax.axvline(values.mean(), color="tab:green", label=f"expected loss {values.mean():,.2f}")
    for level, color in zip(levels, ("tab:orange", "tab:red")):
        var, cvar = var_cvar(values, level)
        ax.axvline(var, color=color, ls="--", label=f"VaR {level:.0%} {var:,.2f}")
        ax.axvline(cvar, color=color, ls=":", label=f"CVaR {level:.0%} {cvar:,.2f}")
    ax.set_xlabel(f"{loss} ({len(values):,} samples)")
    ax.set_ylabel("count (log)")
    ax.legend(fontsize=8)
    ax.set_title(f"{frame.attrs.get('deal', '')}: Monte Carlo loss distribution")
    fig.tight_layout()
    return _save(fig, out)


def _save(fig, out: Path) -> Path:
    import matplotlib.pyplot as plt

    from ..files import atomic_path

    out = Path(out)
    try:
        with atomic_path(out, ".png") as tmp:
            fig.savefig(tmp, format="png", dpi=110)
    finally:
        plt.close(fig)
    return out


def plot_sweep(frame, directory: Path) -> list[Path]:
    """The charts that fit a sweep: a line chart per grid input (1-D), a heat map
    (2-D grids) and the loss distribution (Monte Carlo)."""
    directory = Path(directory)
    inputs = frame.attrs.get("inputs", [])
    made = []
    if frame.attrs.get("mode") == "montecarlo":
        made.append(plot_loss_distribution(frame, directory / "loss_distribution.png"))
        return made
    if len(inputs) == 2:
        for metric in ("lender_loss", "min_dscr"):
            table = frame.pivot_table(index=inputs[0], columns=inputs[1], values=metric, aggfunc="mean")
            table.attrs["metric"] = metric
            made.append(plot_table2d(table, directory / f"table_{metric}.png", metric))
    for path in inputs:
        safe = path.replace(".", "_").replace("/", "_")
        made.append(plot_lines(frame, path, out=directory / f"lines_{safe}.png"))
    return made
