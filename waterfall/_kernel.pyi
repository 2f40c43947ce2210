"""Typed stub of the compiled kernel (ext/_kernel.pyx)."""
from typing import Any

import numpy as np
import numpy.typing as npt

LAYOUT: dict[str, Any]  # every layout fact shared with Python (ops.layout), generated
LAYOUT_DIGEST: str      # ops.digest(LAYOUT): the engine refuses a kernel whose digest differs
PROGRAM_F64: tuple[str, ...]
PROGRAM_I64: tuple[str, ...]

def irr(cash_flows: npt.ArrayLike) -> float:
    """Periodic IRR of one cash-flow vector (NaN where there is no root)."""

def irr_many(cash_flows: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Periodic IRR of each row of a 2-D array, GIL released, four rows at a time in AVX2
    lanes (the same results as one at a time)."""

def irr_four(cash_flows: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Periodic IRR of the four rows of a 4 x n array by irr_periodic4 (tests)."""

def irr_one_by_one(cash_flows: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """irr_many without the lanes: each row by the scalar irr_periodic."""

def xirr_four(cash_flows: npt.ArrayLike, years: npt.ArrayLike, guesses: Any = ..., gap4: Any = ...,
              gap_min: int = ..., gap_max: int = ...) -> npt.NDArray[np.float64]:
    """XIRR of the four rows of a 4 x n array at `years` by irr_dated4 (tests): lane l from
    the annual rate guesses[l] (None or NaN: none), with the gap table gap4/gap_min/gap_max."""

def xirr_many(cash_flows: npt.ArrayLike, years: npt.ArrayLike, guesses: Any = ..., gap4: Any = ...,
              gap_min: int = ..., gap_max: int = ...) -> npt.NDArray[np.float64]:
    """xirr_four's rows (any number), four at a time by irr_dated4."""

def xirr_one_by_one(cash_flows: npt.ArrayLike, years: npt.ArrayLike, guesses: Any = ..., gap4: Any = ...,
                    gap_min: int = ..., gap_max: int = ...) -> npt.NDArray[np.float64]:
    """xirr_many without the lanes: each row by the scalar irr_dated."""

LANES: int  # scenarios a lane block steps through the periods together (ext/_lanes.pxi)

def lanes_for(program: Any) -> int:
    """LANES where the program's metrics-only runs use lane blocks, else 1."""

def run_batch(
    program: Any, batch: Any, want_ledgers: bool = ..., threads: int = ..., want_losses: bool = ...,
    out: Any = ..., lanes: int = ...
) -> tuple[npt.NDArray[np.float64] | None, npt.NDArray[np.float64], npt.NDArray[np.float64],
           npt.NDArray[np.float64] | None, npt.NDArray[np.int64]]:
    """(ledgers [S, T+1, lines] or None, metrics [S, N_METRICS], wal [S, K], tranche loss
    [S, K] (metrics.tranche_losses; None without want_losses), status [S, 2]; metrics, WAL
    and loss are column views of one Fortran-ordered block; the batch's adjustments may be
    dense [S, J] arrays or columns (`adj_columns()`, constant ones broadcast)):
    status row (0, 0) where the scenario ran, (ERR_UNKNOWN_STEP, step index) where a
    step's opcode has no branch."""
