"""Invariants every ledger must satisfy: conservation, no negative balances, priority."""
from __future__ import annotations

import numpy as np

from waterfall import ops
from waterfall.steps import STEP_CODE
from waterfall.program import Program

TOL = 1e-9


def col(program: Program, name: str) -> int:
    return ops.G[name]


def sources_and_uses(program: Program, ledger: np.ndarray):
    """Per period (sources, uses) of cash, USD."""
    g = ops.G
    sources = (ledger[:, g["revenue"]] + ledger[:, g["draws"]] + ledger[:, g["equity_in"]]
               + ledger[:, g["sponsor_support"]] + ledger[:, g["reserve_release"]]
               + ledger[:, g["seizure_net"]] + ledger[:, g["guarantee_paid"]]
               + ledger[:, g["exit_proceeds"]] + ledger[:, g["equity_cure"]]
               + ledger[:, g["hedge_termination_received"]] + ledger[:, g["reserve_interest"]])
    uses = (ledger[:, g["opex"]] + ledger[:, g["capex"]] + ledger[:, g["fees_paid"]] + ledger[:, g["workout_costs"]]
            + ledger[:, g["reserve_funding"]] + ledger[:, g["equity_distribution"]]
            + ledger[:, g["hedge_settlement"]])   # signed: a hedge receipt is a negative use
    for k in range(program.n_tranches):
        for line in ("interest_paid", "principal_paid", "prepayment", "recovery_interest",
                     "recovery_principal"):
            uses = uses + ledger[:, ops.tranche_col(k, line)]
    for a in range(program.n_accounts):   # a letter of credit: a drawing is a source, a reimbursement a use
        sources = sources + ledger[:, ops.account_col(program.n_tranches, a, "lc_drawn")]
        uses = uses + ledger[:, ops.account_col(program.n_tranches, a, "lc_reimbursed")]
    for h in range(program.n_hedges):
        uses = uses + ledger[:, ops.hedge_col(program.n_tranches, program.n_accounts, program.n_fees, h, "recovery")]
    return sources, uses


def assert_conserved(program: Program, ledger: np.ndarray) -> None:
    sources, uses = sources_and_uses(program, ledger)
    scale = max(1.0, float(np.abs(sources).max()))
    bad = np.nonzero(np.abs(sources - uses) > TOL * scale)[0]
    assert bad.size == 0, f"sources != uses in periods {bad.tolist()}: {sources[bad]} vs {uses[bad]}"


def assert_no_negative_balances(program: Program, ledger: np.ndarray) -> None:
    k_count, a_count = program.n_tranches, program.n_accounts
    cols = [ops.tranche_col(k, line) for k in range(k_count)
            for line in ("balance_open", "balance_close", "interest_paid", "principal_paid",
                         "prepayment", "recovery_interest", "recovery_principal", "write_off")]
    cols += [ops.account_col(k_count, a, line) for a in range(a_count) for line in ops.ACCOUNT_LINES]
    cols += [ops.G[name] for name in ("equity_distribution", "fees_paid", "cash_available",
                                       "seizure_net", "guarantee_paid", "sponsor_support")]
    worst = ledger[:, cols].min() if cols else 0.0
    assert worst >= -TOL, f"a balance or payment went negative: {worst}"


def step_due_and_paid(program: Program, ledger: np.ndarray, t: int):
    """(due, paid) of each fee / interest / principal step in priority order at period t."""
    out = []
    k_count, a_count = program.n_tranches, program.n_accounts
    for op, arg in zip(program.step_op, program.step_arg):
        if op == STEP_CODE["fee"]:
            out.append((ledger[t, ops.fee_col(k_count, a_count, arg, "due")],
                        ledger[t, ops.fee_col(k_count, a_count, arg, "paid")]))
        elif op == STEP_CODE["interest"]:
            cash_due = 0.0 if program.capitalise[arg, t] else ledger[t, ops.tranche_col(arg, "interest_due")]
            out.append((cash_due, ledger[t, ops.tranche_col(arg, "interest_paid")]))
        elif op == STEP_CODE["hedge"]:
            due = ledger[t, ops.hedge_col(k_count, a_count, program.n_fees, arg, "net_due")]
            due -= ledger[t, ops.hedge_col(k_count, a_count, program.n_fees, arg, "capitalised")]
            paid = ledger[t, ops.hedge_col(k_count, a_count, program.n_fees, arg, "net_paid")]
            out.append((max(due, 0.0), max(paid, 0.0)))
        elif op == STEP_CODE["principal"]:
            out.append((ledger[t, ops.tranche_col(arg, "principal_due")],
                        ledger[t, ops.tranche_col(arg, "principal_paid")]))
    return out


def assert_priority(program: Program, ledger: np.ndarray) -> None:
    """Once a step is paid short, no later step is paid and equity gets nothing from the
    waterfall (a surplus after enforcement is not the waterfall)."""
    for t in range(ledger.shape[0]):
        if ledger[t, ops.G["workout"]]:
            continue   # the lenders run the SPV: no priority of payments
        short = False
        for due, paid in step_due_and_paid(program, ledger, t):
            if short:
                assert paid <= TOL, f"period {t}: a junior step was paid while a senior one was short"
            if paid < due - TOL:
                short = True
        if short and ledger[t, ops.G["event_of_default"]] == 0.0:
            assert ledger[t, ops.G["equity_distribution"]] <= TOL, f"period {t}: equity paid while debt was short"


def assert_taxes(program: Program, ledger: np.ndarray) -> None:
    """Owner-level taxes (docs/taxes.md) move no money inside the SPV: the after-tax
    equity flow is the pre-tax one less the income tax, to the cent; a carried loss is
    never negative and no tax is due on a loss carried forward."""
    g = lambda name: ledger[:, col(program, name)]  # noqa: E731
    if not program.tax_on:
        for name in ("depreciation", "taxable_income", "tax_loss_carried", "income_tax", "equity_after_tax"):
            assert not g(name).any(), name
        return
    equity = g("equity_distribution") - g("equity_in") - g("sponsor_support") - g("equity_cure")
    assert np.allclose(g("equity_after_tax"), equity - g("income_tax"), rtol=0, atol=0.005)
    assert (g("tax_loss_carried") >= 0.0).all()
    if not program.tax_offset:
        assert (g("income_tax") >= 0.0).all() and (g("income_tax")[g("taxable_income") < 0.0] == 0.0).all()


def assert_all(program: Program, ledger: np.ndarray) -> None:
    assert_conserved(program, ledger)
    assert_no_negative_balances(program, ledger)
    assert_priority(program, ledger)
    assert_taxes(program, ledger)
