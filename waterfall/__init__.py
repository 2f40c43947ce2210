"""waterfall: period-by-period debt waterfalls for AI data-center financings.

    import waterfall
    deal = waterfall.load_deal("deals/examples/tieout.toml")
    result = waterfall.run(deal, "tenant-half-pay")
    result.metrics            # min/avg DSCR, LLCR, default, recovery, IRRs, WAL
    result.cash_flows()       # a row per period, a column per waterfall line
    waterfall.run_batch(deal).metrics   # a row per scenario
"""
from .compile import compile_deal, compile_scenarios
from .engine import kernel_available, run, run_batch, run_program
from .errors import DealError
from .load import load_deal, load_scenario
from .model import Deal, Scenario
from .sweeps import sweep

__version__ = "0.1.0"
__all__ = ["Deal", "DealError", "Scenario", "compile_deal", "compile_scenarios",
           "kernel_available", "load_deal", "load_scenario", "run", "run_batch", "run_program", "sweep"]
