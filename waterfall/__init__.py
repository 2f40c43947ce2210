"""waterfall: period-by-period debt waterfalls for AI data-center financings.

    import waterfall
    deal = waterfall.load_deal("deals/examples/tieout.toml")
    result = waterfall.run(deal, "tenant-half-pay")
    result.metrics            # min/avg DSCR, LLCR, default, recovery, IRRs, WAL (m.min_dscr or m["min_dscr"])
    result.cash_flows()       # a row per period, a column per waterfall line
    result.to_excel("r.xlsx"); result.plot("charts")
    waterfall.run_batch(deal).metrics   # a row per scenario, the base case first
    waterfall.breakeven(deal, "scenario.rent_multiplier.multiplier", low=0.5, high=1.0,
                        scenario="renegotiation")   # the rent multiple at which min DSCR is 1.0x
"""
from .compile import compile_deal, compile_scenarios
from .engine import kernel_available, run, run_batch, run_program
from .errors import DealError
from .load import load_deal, load_scenario
from .model import Deal, Scenario
from .results import BatchResult, Metrics, Result
from .sweeps import sweep

__version__ = "0.1.0"

# Loaded on first use (they pull in xlsxwriter, matplotlib, the contagion chain):
# name -> (module, attribute)
_LAZY = {
    "write_workbook": ("waterfall.output.excel", "write_workbook"),
    "write_plots": ("waterfall.output.plots", "write_plots"),
    "build_pack": ("waterfall.report", "build_pack"),
    "write_report": ("waterfall.report", "write_report"),
    "write_sweep_workbook": ("waterfall.output.tables", "write_sweep_workbook"),
    "breakeven": ("waterfall.sweeps.analysis", "breakeven"),
    "tornado": ("waterfall.sweeps.analysis", "tornado"),
    "table2d": ("waterfall.sweeps.analysis", "table2d"),
    "loss_distribution": ("waterfall.sweeps.analysis", "loss_distribution"),
    "lgd_by_default_date": ("waterfall.sweeps.analysis", "lgd_by_default_date"),
    "run_portfolio": ("waterfall.commands.portfolio", "run_portfolio"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'waterfall' has no attribute '{name}'")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))


__all__ = ["BatchResult", "Deal", "DealError", "Metrics", "Result", "Scenario", "compile_deal",
           "compile_scenarios", "kernel_available", "load_deal", "load_scenario", "run", "run_batch",
           "run_program", "sweep", *_LAZY]
