"""Metric definitions, each once: DSCR summaries, LLCR/PLCR, lender and equity cash
flows (for IRR, see irr.py), WAL (reference.wal). The Cython kernel mirrors these.

- DSCR of a period = CFADS / scheduled debt service (cash interest + scheduled
  principal, a balloon at maturity excluded) of the covenant tranches, where debt
  service > DUST (ops.DUST, a thousandth of a dollar: the floating-point residue a
  repaid loan can leave is no debt service, and has no DSCR). It is computed in the waterfall (reference.py, step 4) because the
  lock-up and default tests read it.
- min and average DSCR: over periods with debt service > DUST, up to and including a
  default period; the average is the mean of the ratios, not a ratio of sums.
- LLCR: NPV of projected CFADS from COD to the latest notional (banking-case) maturity
  of the covenant tranches (`notional_maturity_period`, else the legal maturity),
  discounted at the first covenant tranche's per-period rate, over their opening
  balance at COD; plus the DSRA balance in the numerator where the deal says
  (`llcr_net_of_dsra`). PLCR: the same NPV to the end of the horizon.
- LLCR path (ledger line `llcr`): the same ratio at each calculation date t from COD to
  the loan's legal maturity (and no later than the notional one), while the lenders have
  not accelerated (t up to the acceleration period): NPV at t of the CFADS of periods t.. (each period's CFADS discounted through
  its own period) over the covenant tranches' opening balance at t, where above DUST;
  `min_llcr` is its minimum. With N(t) the NPV from COD through t and D(t) the discount
  factor from COD through t, the NPV at t is (N(end) - N(t-1)) / D(t-1), computed so in
  every interpreter.
- Lender cash flows: - draws + interest + principal + prepayments + recoveries.
  Equity cash flows: - equity in - sponsor support + distributions (incl. surplus).
- Per tranche once the lenders accelerate (period d; all zero without it): exposure = the
  claim fixed at d (ledger line `claim`: balance after the period's payments + principal
  paid in d + cash interest due in d); recovery = everything the tranche received from d
  on (interest, principal, prepayments, recoveries), net of the protective advances it
  funded (draws in the workout, and in d the draw beyond the deal's own draw schedule);
  loss = max(0, exposure - recovery). Summed over tranches, exposure is the engine's
  lender_claim, recovery its lender_received and loss its lender_loss.
"""
from __future__ import annotations

import math

import numpy as np

from . import ops
from .ops import G
from .program import Program

NAN = math.nan


def dscr_summary(dscr: np.ndarray, debt_service: np.ndarray) -> tuple[float, float]:
    """(min, mean) DSCR over periods with positive debt service; NaN if none."""
    values = [d for d, ds in zip(dscr, debt_service) if ds > ops.DUST]
    if not values:
        return NAN, NAN
    return float(min(values)), float(sum(values) / len(values))


def cover_ratio(program: Program, ledger: np.ndarray, per_rate: np.ndarray,
                projected_cfads: np.ndarray) -> tuple[float, float]:
    """(LLCR, PLCR) at COD; NaN if the deal ended before COD or owes nothing then."""
    p0 = program.cod_period
    if p0 > program.n_periods:
        return NAN, NAN
    covered = [k for k in range(program.n_tranches) if program.dscr_mask[k]]
    debt = sum(ledger[p0, ops.tranche_col(k, "balance_open")] for k in covered)
    if not covered or debt <= ops.DUST:
        return NAN, NAN
    senior = covered[0]
    discount, npv_loan, npv_project = 1.0, 0.0, 0.0
    for t in range(p0, program.n_periods + 1):
        discount /= 1.0 + per_rate[senior, t]
        if t <= program.llcr_end:
            npv_loan += projected_cfads[t] * discount
        npv_project += projected_cfads[t] * discount
    if program.llcr_dsra:
        npv_loan = npv_loan + _dsra_balance(program, ledger, p0)
    return npv_loan / debt, npv_project / debt


def _dsra_balance(program: Program, ledger: np.ndarray, t: int) -> float:
    """The DSRA accounts' opening balance at period t (what an LLCR net of DSRA adds)."""
    out = 0.0
    for a in range(program.n_accounts):
        if program.acct_kind[a] == ops.ACCOUNT_KIND["dsra"]:
            out += ledger[t, ops.account_col(program.n_tranches, a, "balance_open")]
    return out


def llcr_path(program: Program, ledger: np.ndarray, per_rate: np.ndarray, projected_cfads: np.ndarray,
              last: int) -> np.ndarray:
    """The LLCR at each period [T+1] (NaN where it is not defined; see the module doc);
    `last` is the last period it is tested in (the acceleration period, or the horizon)."""
    n, p0 = program.n_periods, program.cod_period
    out = np.full(n + 1, NAN)
    covered = [k for k in range(program.n_tranches) if program.dscr_mask[k]]
    if not covered or p0 > n:
        return out
    senior = covered[0]
    before_n, before_d = np.zeros(n + 1), np.ones(n + 1)   # N(t-1), D(t-1)
    discount, npv = 1.0, 0.0
    for t in range(p0, n + 1):
        before_n[t], before_d[t] = npv, discount
        discount /= 1.0 + per_rate[senior, t]
        if t <= program.llcr_end:
            npv += projected_cfads[t] * discount
    for t in range(p0, min(program.llcr_end, program.llcr_dates_end, last) + 1):
        debt = sum(ledger[t, ops.tranche_col(k, "balance_open")] for k in covered)
        if debt > ops.DUST:
            value = (npv - before_n[t]) / before_d[t]
            if program.llcr_dsra:
                value = value + _dsra_balance(program, ledger, t)
            out[t] = value / debt
    return out


def cash_flows(program: Program, ledger: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lender, equity) cash flows per period, USD, lenders' and sponsors' view."""
    lender = np.zeros(program.n_periods + 1)
    for k in range(program.n_tranches):
        lender -= ledger[:, ops.tranche_col(k, "draw")]
        for line in ("interest_paid", "principal_paid", "prepayment", "recovery_interest",
                     "recovery_principal"):
            lender += ledger[:, ops.tranche_col(k, line)]
    equity = (ledger[:, G["equity_distribution"]] - ledger[:, G["equity_in"]]
              - ledger[:, G["sponsor_support"]] - ledger[:, G["equity_cure"]])
    return lender, equity


def _default_rows(ledgers, default_periods):
    """(ledgers as [S, T+1, L], default periods as int64 [S] with -1 for none, whether
    one ledger was given)."""
    ledgers = np.asarray(ledgers, dtype=float)
    single = ledgers.ndim == 2
    if single:
        ledgers = ledgers[None]
    if ledgers.ndim != 3:
        raise ValueError(f"ledgers must be [T+1, L] or [S, T+1, L], not of shape {ledgers.shape}")
    d = np.array([-1.0 if v is None else float(v)
                  for v in np.ravel(np.asarray(default_periods, dtype=object))])
    if d.shape != (ledgers.shape[0],):
        raise ValueError(f"{ledgers.shape[0]} ledger(s) but {d.size} default period(s)")
    return ledgers, np.where(np.isnan(d), -1.0, d).astype(np.int64), single


def tranche_default_split(program: Program, ledgers: np.ndarray, default_periods) -> dict:
    """{'exposure', 'recovery', 'loss'}: per tranche from the acceleration on (see the
    module doc), each [K] for one ledger [T+1, L] and its default period (an int, or
    None / NaN / a negative number for none), or [S, K] for ledgers [S, T+1, L] and
    default periods [S] (the engine's default_period metric: -1 or NaN for none)."""
    ledgers, d, single = _default_rows(ledgers, default_periods)
    s_count, k_count = ledgers.shape[0], program.n_tranches
    out = {key: np.zeros((s_count, k_count)) for key in ("exposure", "recovery", "loss")}
    rows = np.nonzero(d >= 0)[0]
    t = d[rows]
    periods = np.arange(ledgers.shape[1])
    from_default, after_default = periods[None, :] >= t[:, None], periods[None, :] > t[:, None]
    for k in range(k_count):
        col = lambda name, k=k: ledgers[rows, :, ops.tranche_col(k, name)]  # noqa: E731 - [R, T+1]
        paid = sum(col(name) for name in ("interest_paid", "principal_paid", "prepayment",
                                          "recovery_interest", "recovery_principal"))
        draw = col("draw")
        at_default = draw[np.arange(len(rows)), t] - program.draw[k, t]   # the advance beyond the schedule
        advances = np.where(after_default, draw, 0.0).sum(axis=1) + at_default
        out["exposure"][rows, k] = col("claim")[np.arange(len(rows)), t]
        out["recovery"][rows, k] = np.where(from_default, paid, 0.0).sum(axis=1) - advances
    out["loss"] = np.maximum(0.0, out["exposure"] - out["recovery"])
    return {key: (v[0] if single else v) for key, v in out.items()}


def tranche_losses(program: Program, ledgers: np.ndarray, default_periods) -> np.ndarray:
    """Per-tranche lender loss at the event of default: [K] for one ledger, [S, K] for
    a batch (see tranche_default_split). Sums over tranches to lender_loss."""
    return tranche_default_split(program, ledgers, default_periods)["loss"]
