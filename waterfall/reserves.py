"""Reserve accounts funded from the sources at close (`funded_at_close`): the sponsors pay
in each such account's target in the last period before commercial operation (period 0
when there is no construction), so the account's `reserve` step fills it there from that
cash instead of from the first operating cash flows (docs/money.md).

The target is the interpreters' own (reference.reserve_target: a DSRA's next
target_periods of scheduled debt service on the base case from the balances after that
period's draws and capitalised interest, a fixed reserve's amount), so in the base case
the account closes that period exactly at its target and the money is conserved: the
extra equity in is the reserve funding. A DSRA backed by a letter of credit is issued its
LC in the same period (issue_letters_of_credit); the sources pay in only the target the LC's
face does not cover.
"""
from __future__ import annotations

import numpy as np

from .hedges import base_case_balances


def funding_period(program) -> int:
    """The period the accounts are funded at close: the last before operation."""
    return max(program.cod_period - 1, 0)


def _close_balances(program, per_rate: np.ndarray, t: int) -> list:
    """Base-case balances of period t after its capitalised interest and draws (USD)."""
    balances = base_case_balances(program.draw, program.sched, program.maturity, program.capitalise, per_rate)
    return [float(balances[k, t] * (1.0 + per_rate[k, t] * program.capitalise[k, t]) + program.draw[k, t])
            for k in range(program.n_tranches)]


def issue_letters_of_credit(deal, program, per_rate: np.ndarray) -> None:
    """A DSRA's letter of credit is issued in the funding period (the last before operation)
    for its stated face, or for the account's base-case target there (the interpreters'
    own, as for cash funded at close); `acct_lc` [A, T+1] holds the face from then on. Each
    fee line that names the account (`letter_of_credit`) is due face x the LC's annual
    fee x months / 12 in its periods (fee_due was compiled for a face and fee of 1)."""
    from .reference import reserve_target  # lazily: the reference imports the compiled layout

    t = funding_period(program)
    program.acct_lc = np.zeros((program.n_accounts, program.n_periods + 1))
    for a, acct in enumerate(deal.accounts):
        lc = acct.letter_of_credit
        if lc is None:
            continue
        face = lc.amount
        if face is None:
            face = reserve_target(program, per_rate, program.sched, program.maturity,
                                  _close_balances(program, per_rate, t), a, t, index=program.base_rate)
        program.acct_lc[a, t:] = face
        for f, fee in enumerate(deal.fees):
            if fee.letter_of_credit == acct.name:
                program.fee_due[f] = program.fee_due[f] * face * lc.fee


def fund_reserves_at_close(deal, program, per_rate: np.ndarray) -> None:
    """Add each funded account's target at the funding period to the program's equity in
    (`reserve_at_close` [A] records it)."""
    from .reference import reserve_target  # lazily: the reference imports the compiled layout

    program.reserve_at_close = np.zeros(program.n_accounts)
    if not any(a.funded_at_close for a in deal.accounts):
        return
    t = funding_period(program)
    balance = _close_balances(program, per_rate, t)   # after the period's capitalised interest and draws
    for a, acct in enumerate(deal.accounts):
        if acct.funded_at_close:
            # the hedges' part of a DSRA target on the base case's index (no scenario shock); a
            # letter of credit issued then covers its face: only the rest is cash from the sources
            target = reserve_target(program, per_rate, program.sched, program.maturity,
                                    balance, a, t, index=program.base_rate)
            program.reserve_at_close[a] = max(target - float(program.acct_lc[a, t]), 0.0)
    program.equity_in = program.equity_in.copy()
    program.equity_in[t] += program.reserve_at_close.sum()
