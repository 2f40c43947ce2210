"""The DSCRs a covenant can test (the reference's; the kernel and the workbook restate
them in the same floating-point order). docs/credit.md, "DSCR covenants", states the rules.

- point: the period's CFADS over its debt service (cash interest, scheduled principal,
  net hedge settlements of the covenant tranches; no balloon).
- trailing_12m (historic): the sum of the CFADS of the last `dscr_window` periods (12
  months) over the sum of their debt service, a ratio of sums. The window starts no
  earlier than the first period with debt service: early on it holds the periods since
  debt service began, fewer than 12 months, not annualised (a ratio of sums needs none).
  The CFADS of a period includes an equity cure paid in it (deemed CFADS of that period,
  so later trailing windows that contain it see it too).
- forward_12m (projected): the sum of the scenario's projected CFADS of the next
  `dscr_window` periods (t+1 .. t+12 months, at most to the horizon) over the scheduled
  debt service of those periods: each covenant tranche's cash interest and scheduled
  principal projected from its balance after this period's scheduled principal (no
  balloon, nothing past its maturity, on the terms a refinancing left), plus the net
  settlements of the hedges on covenant tranches on the scenario's index path (a part owed
  in a period the tranche capitalises is capitalised, not cash, and left out).

Every basis is tested where the period's (point) debt service is positive, and only if its
window's debt service is positive too (a forward window past the last maturity is not)."""
from __future__ import annotations

from .hedges import settlement

POINT, TRAILING, FORWARD = 0, 1, 2


def bases_used(program) -> set:
    """The DSCR bases a set covenant (lock-up or default) tests."""
    used = set()
    if program.lock_up_dscr >= 0.0:
        used.add(int(program.lock_up_basis))
    if program.default_dscr >= 0.0:
        used.add(int(program.default_basis))
    return used


def trailing_sums(program, cov_cfads, cov_ds, first_ds: int, t: int) -> tuple:
    """(sum of CFADS, sum of debt service) over the trailing window ending at t: periods
    max(t - window + 1, first_ds) .. t, in that order. `cov_cfads` holds each earlier
    period's CFADS plus its equity cure, and this period's CFADS (no cure yet)."""
    lo = max(t - int(program.dscr_window) + 1, first_ds)
    cfads = ds = 0.0
    for u in range(lo, t + 1):
        cfads += cov_cfads[u]
        ds += cov_ds[u]
    return cfads, ds


def hedges_on(program, mask) -> bool:
    """Whether any hedge is on a tranche `mask` selects."""
    return any(mask[int(program.hedge_tranche[h])] for h in range(program.n_hedges))


def hedge_service(program, index, mask, t: int, last: int) -> float:
    """The net settlements owed in cash over periods t+1 .. last by the hedges whose tranche
    `mask` selects, on the scenario's index path (negative: the banks pay); a settlement
    owed in a period its tranche capitalises is capitalised, not cash, and left out."""
    total = 0.0
    for h in range(program.n_hedges):
        k = int(program.hedge_tranche[h])
        if not mask[k]:
            continue
        for u in range(t + 1, last + 1):
            leg = settlement(int(program.hedge_kind[h]), program.hedge_notional[h, u], program.hedge_accrual[h, u],
                             index[u], program.hedge_rate[h])
            if program.capitalise[k, u] and leg > 0.0:
                continue
            total += leg
    return total


def forward_sums(program, per_rate, sched, maturity, balance, scheduled, projected_cfads, index,
                 t: int) -> tuple:
    """(projected CFADS, scheduled debt service) over periods t+1 .. min(t + window, T) for
    the forward test at t (module doc): each covenant tranche from its balance after this
    period's scheduled principal, then the covenant tranches' hedges."""
    n = program.n_periods
    last = min(t + int(program.dscr_window), n)
    cfads = 0.0
    for u in range(t + 1, last + 1):
        cfads += projected_cfads[u]
    ds = 0.0
    for k in range(program.n_tranches):
        if not program.dscr_mask[k]:
            continue
        b = balance[k] - scheduled[k]
        for u in range(t + 1, last + 1):
            if u > maturity[k]:
                break
            interest = 0.0 if program.capitalise[k, u] else b * per_rate[k, u]
            principal = min(sched[k, u], b)
            ds += interest + principal
            b -= principal
    if program.n_hedges:
        ds += hedge_service(program, index, program.dscr_mask, t, last)
    return cfads, ds
