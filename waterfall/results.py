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


class Metrics(dict):
    """The metrics of one run: read-only, by key (`m["min_dscr"]`, as a dict) or by
    attribute (`m.min_dscr`); `to_series()` gives a pandas Series. Ratios are multiples
    (1.32 is 1.32x), rates and recovery are fractions (0.73 is 73%), IRRs annualised,
    amounts in the deal's units, periods counted from financial close (period 0); None
    where a metric is undefined (no default, no IRR)."""

    __slots__ = ()

    min_dscr: float | None
    avg_dscr: float | None
    llcr: float | None
    plcr: float | None
    default_period: int | None
    lender_claim: float | None
    lender_received: float | None
    recovery_rate: float | None
    lender_loss: float | None
    lender_irr: float | None
    equity_irr: float | None
    lender_xirr: float | None
    equity_xirr: float | None
    equity_distributions: float | None
    equity_invested: float | None
    default_cause: str | None
    acceleration_period: int | None
    recovery_rate_pv: float | None
    recovery_periods: int | None
    lender_loss_pv: float | None
    min_llcr: float | None
    income_tax_paid: float | None
    equity_irr_after_tax: float | None
    default_date: str | None
    wal_years: dict

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no metric '{name}' (metrics: {', '.join(self)})") from None

    def _read_only(self, *args, **kwargs):
        raise TypeError("metrics are read-only (copy them with dict(metrics) to change them)")

    __setitem__ = __delitem__ = __setattr__ = __delattr__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce_ex__(self, protocol):  # pickle and copy rebuild it whole, never item by item
        return (type(self), (dict(self),))

    def to_series(self):
        """A pandas Series: the scalar metrics, then `wal_<tranche>` per tranche."""
        import pandas as pd

        data = {k: v for k, v in self.items() if k != "wal_years"}
        data.update({f"wal_{name}": w for name, w in self.get("wal_years", {}).items()})
        return pd.Series(data, dtype=object, name="metrics")


def metrics_dict(values: np.ndarray, wal: np.ndarray, program: Program) -> Metrics:
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
    return Metrics(out)


@dataclass(repr=False)
class Result:
    """One deal under one scenario: `metrics`, the ledger (`cash_flows()`), and writers
    for the workbook (`to_excel`) and the charts (`plot`)."""

    deal_name: str
    scenario: str
    engine: str
    program: Program
    ledger: np.ndarray          # [T+1, lines]
    metric_values: np.ndarray   # [N_METRICS]
    wal: np.ndarray             # [K]
    dates: list = field(default_factory=list)
    units: str = "USD millions"  # the deal's units for every amount
    source_deal: object = None      # the Deal run and the Scenario object (for to_excel and plot)
    source_scenario: object = None

    @property
    def metrics(self) -> Metrics:
        return metrics_dict(self.metric_values, self.wal, self.program)

    def __repr__(self) -> str:
        from .output.notebook import result_repr
        return result_repr(self)

    def _repr_html_(self) -> str:
        from .output.notebook import result_html
        return result_html(self)

    def to_excel(self, path, formulas: bool = False, deal=None, scenario=None):
        """Write the workbook (Summary, Cash flows, Scenarios; Inputs with `formulas`) to
        `path` (.xlsx) and return its path (by default for the deal and scenario this
        result ran)."""
        from .output.excel import write_workbook
        return write_workbook(self, path, formulas=formulas, deal=deal or self.source_deal,
                              scenario=scenario or self.source_scenario)

    def plot(self, directory, deal=None, scenario=None) -> list:
        """Write the PNG charts (DSCR by scenario, balances, cash flows) into the folder
        `directory` and return their paths."""
        from .output.plots import write_plots
        return write_plots(self, directory, deal=deal or self.source_deal,
                           scenario=scenario or self.source_scenario)

    def report(self, path):
        """Write the one-page credit committee pack for this result's deal and scenario to
        `path` (.html, or .pdf through headless Chromium) and return its path. The pack also
        runs the seven presets and the breakevens (this run is not repeated)."""
        from .report import build_pack, write_report
        pack = build_pack(self.source_deal, self.source_scenario, engine=self.engine, result=self)
        return write_report(pack, path)

    def cash_flows(self):
        """The ledger as a DataFrame: a row per period (0 = financial close), a column
        per waterfall line, plus the payment date."""
        import pandas as pd

        frame = pd.DataFrame(self.ledger, columns=ledger_columns(self.program))
        frame.index.name = "period"
        if self.dates:
            frame.insert(0, "date", [d.isoformat() for d in self.dates])
        return frame


def metric_columns(metrics: np.ndarray, wal: np.ndarray) -> np.ndarray:
    """[S, M + K]: the metrics then each tranche's WAL, column-major. A view when `wal`'s
    columns follow the metrics' in one column-major block (as the kernel returns them),
    else one copy."""
    size, m = metrics.shape
    k = wal.shape[1]
    if (size and metrics.flags.f_contiguous and wal.flags.f_contiguous and metrics.dtype == wal.dtype
            == np.float64 and wal.ctypes.data == metrics.ctypes.data + 8 * size * m
            and metrics.base is not None and metrics.base is wal.base):
        return np.lib.stride_tricks.as_strided(metrics, shape=(size, m + k), strides=(8, 8 * size))
    out = np.empty((size, m + k), order="F")
    out[:, :m], out[:, m:] = metrics, wal
    return out


@dataclass(repr=False)
class BatchResult:
    """Many scenarios of one deal: metrics a row per scenario; ledgers only if asked."""

    deal_name: str
    engine: str
    program: Program
    scenario_names: list
    metric_values: np.ndarray       # [S, N_METRICS]
    wal: np.ndarray                 # [S, K]
    ledgers: np.ndarray | None = None  # [S, T+1, lines]
    units: str = "USD millions"
    _frame: object = field(default=None, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        from .output.notebook import batch_repr
        return batch_repr(self)

    def _repr_html_(self) -> str:
        from .output.notebook import batch_html
        return batch_html(self)

    @property
    def metrics(self):
        """A row per scenario: `scenario`, the metrics (ops.METRICS; a period metric is
        NaN where there is none) and `wal_<tranche>`. The numbers are the kernel's columns
        wrapped without a copy where it returned them as one column-major block."""
        import pandas as pd

        if self._frame is None:  # made once and kept: each caller gets a copy-on-write view of it
            columns = list(ops.METRICS) + [f"wal_{name}" for name in self.program.names["tranches"]]
            frame = pd.DataFrame(metric_columns(self.metric_values, self.wal), columns=columns, copy=False)
            for name in PERIOD_METRICS:
                frame[name] = frame[name].where(frame[name] >= 0)
            names = self.scenario_names
            frame.insert(0, "scenario", names.column() if hasattr(names, "column") else names)
            self._frame = frame
        # a shallow copy: pandas copies a column only when the caller writes to it, so neither
        # the kept frame nor metric_values ever change
        return self._frame.copy(deep=False)

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
