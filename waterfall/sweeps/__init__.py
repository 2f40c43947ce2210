"""Sensitivity sweeps and Monte Carlo on the compiled kernel (see runner.sweep)."""
from .paths import PathError
from .runner import SweepError, plan_sweep, sweep
from .sampling import Dist, LogNormal, Normal, Triangular, Uniform

__all__ = ["Dist", "LogNormal", "Normal", "PathError", "SweepError", "Triangular", "Uniform",
           "plan_sweep", "sweep"]
