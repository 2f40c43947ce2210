"""Results of a run: metrics, the per-period ledger and WAL, with pandas views at the edge."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import ops
from .program import Program


def ledger_columns(program: Program) -> list[str]:
    """Column names of the ledger: global lines, then '<tranche>.<line>', '<account>.<line>',
    '<fee>.<line>', '<hedge>.<line>' blocks in deal order."""
    cols = list(ops.GLOBAL_LINES)
    for name in program.names["tranches"]:
        cols += [f"{name}.{line}" for line in ops.TRANCHE_LINES]
    for name in program.names["accounts"]:
        cols += [f"{name}.{line}" for line in ops.ACCOUNT_LINES]
    for name in program.names["fees"]:
        cols += [f"{name}.{line}" for line in ops.FEE_LINES]
    for name in program.names.get("hedges", []):
        cols += [f"{name}.{line}" for line in ops.HEDGE_LINES]
    return cols


PERIOD_METRICS = ("default_period", "acceleration_period")


def metrics_dict(values: np.ndarray, wal: np.ndarray, program: Program) -> dict:
    """Metrics as JSON-ready Python values: NaN -> None; periods (1 = the first period
    after financial close) or None; `default_cause` by name; `default_date` the ISO date
    of the default period's end."""
    from .workout import CAUSES

    out = {}
    for name, value in zip(ops.METRICS, values):
        value = float(value)
        if name in PERIOD_METRICS:
            out[name] = None if not value >= 0 else int(value)
        elif name == "default_cause":
            out[name] = CAUSES[int(value)] if value >= 0 else None
        elif name == "recovery_periods":
            out[name] = None if not value >= 0 else int(value)
        else:
            out[name] = value if math.isfinite(value) else None
    d = out["default_period"]
    dates = program.dates
    out["default_date"] = dates[d].isoformat() if d is not None and d < len(dates) else None
    out["wal_years"] = {n: (None if math.isnan(w) else float(w))
                        for n, w in zip(program.names["tranches"], wal)}
    return out


@dataclass
class Result:
    """One deal under one scenario."""

    deal_name: str
    scenario: str
    engine: str
    program: Program
    ledger: np.ndarray          # [T+1, lines]
    metric_values: np.ndarray   # [N_METRICS]
    wal: np.ndarray             # [K]
    dates: list = field(default_factory=list)

    @property
    def metrics(self) -> dict:
        return metrics_dict(self.metric_values, self.wal, self.program)

    def cash_flows(self):
        """The ledger as a DataFrame: a row per period (0 = financial close), a column
        per waterfall line, plus the payment date."""
        import pandas as pd

        frame = pd.DataFrame(self.ledger, columns=ledger_columns(self.program))
        frame.index.name = "period"
        if self.dates:
            frame.insert(0, "date", [d.isoformat() for d in self.dates])
        return frame


@dataclass
class BatchResult:
    """Many scenarios of one deal: metrics a row per scenario; ledgers only if asked."""

    deal_name: str
    engine: str
    program: Program
    scenario_names: list
    metric_values: np.ndarray       # [S, N_METRICS]
    wal: np.ndarray                 # [S, K]
    ledgers: np.ndarray | None = None  # [S, T+1, lines]

    @property
    def metrics(self):
        import pandas as pd

        frame = pd.DataFrame(self.metric_values, columns=list(ops.METRICS))
        frame.insert(0, "scenario", self.scenario_names)
        for name in PERIOD_METRICS:
            frame[name] = frame[name].where(frame[name] >= 0)
        for k, name in enumerate(self.program.names["tranches"]):
            frame[f"wal_{name}"] = self.wal[:, k]
        return frame

    def long_ledger(self):
        """Per-period lines as a long DataFrame (scenario, period, line, value)."""
        import pandas as pd

        if self.ledgers is None:
            raise ValueError("run the batch with ledgers=True to get per-period lines")
        s_count, periods, lines = self.ledgers.shape
        cols = ledger_columns(self.program)
        return pd.DataFrame({
            "scenario": np.repeat(self.scenario_names, periods * lines),
            "period": np.tile(np.repeat(np.arange(periods), lines), s_count),
            "line": np.tile(cols, s_count * periods),
            "value": self.ledgers.reshape(-1),
        })
