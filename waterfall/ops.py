"""The registry of waterfall step kinds (opcodes), scenario channels and ledger lines.

The compiler, the pure-Python reference, the Cython kernel and the docs all read
these numbers from here. Each step's cash rule is its one-line docstring.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepKind:
    code: int
    name: str
    operand: str  # "tranche", "account", "fee", "account?" (optional) or ""
    rule: str


STEP_KINDS = [
    StepKind(0, "fee", "fee", "pay the fee due this period, as far as cash allows; a shortfall is dropped"),
    StepKind(1, "interest", "tranche",
             "pay cash interest due on the opening balance; a shortfall is an event of default "
             "for a tranche with default_on_shortfall, else it is capitalised (PIK)"),
    StepKind(2, "principal", "tranche",
             "pay scheduled principal min(schedule, balance) (the whole balance at maturity); a "
             "shortfall is an event of default if default_on_shortfall or at maturity, else deferred"),
    StepKind(3, "reserve", "account",
             "set the account to min(target, cash): refills a shortfall, releases a surplus"),
    StepKind(4, "sweep", "tranche",
             "prepay min(cash x share, balance), share_locked while the lock-up test fails"),
    StepKind(6, "borrowing_base", "tranche",
             "prepay the excess of the balance over advance rate x collateral value, as far as "
             "cash allows; a shortfall is an event of default for a tranche with default_on_shortfall"),
    StepKind(5, "distribute", "account?",
             "pay all remaining cash to equity, or into the lock-up account while locked up"),
]
STEP_CODE = {k.name: k.code for k in STEP_KINDS}
OP_FEE, OP_INTEREST, OP_PRINCIPAL, OP_RESERVE, OP_SWEEP, OP_DISTRIBUTE, OP_BORROWING_BASE = range(7)

ACCOUNT_KIND = {"dsra": 0, "fixed": 1, "lockup": 2}

# Scenario channels: a per-period factor the kernel builds from (channel, from, to, value).
CH_RENT, CH_OPEX, CH_RATE_ADD, CH_VAL_LAND, CH_VAL_SHELL, CH_VAL_MEP, CH_VAL_IT, CH_REFI, CH_RVG = range(9)
N_CHANNELS = 9
COMPONENTS = ("land", "shell", "mep", "it")

# Ledger lines, one column each per period. Global lines first, then per tranche,
# per account, per fee blocks.
GLOBAL_LINES = (
    "revenue", "opex", "cfads", "capex", "equity_in", "sponsor_support", "draws",
    "reserve_release", "cash_available", "debt_service", "dscr", "lock_up", "fees_paid",
    "reserve_funding", "seizure_gross", "seizure_net", "guarantee_paid", "exit_proceeds", "equity_distribution",
    "event_of_default",
)
TRANCHE_LINES = (
    "balance_open", "draw", "rate", "interest_due", "interest_paid", "interest_capitalised",
    "principal_due", "principal_paid", "prepayment", "recovery_interest",
    "recovery_principal", "write_off", "refinanced", "balance_close",
)
ACCOUNT_LINES = ("balance_open", "balance_close")
FEE_LINES = ("due", "paid")

G = {name: i for i, name in enumerate(GLOBAL_LINES)}
TL = {name: i for i, name in enumerate(TRANCHE_LINES)}
N_GLOBAL, N_TRANCHE_LINES, N_ACCOUNT_LINES, N_FEE_LINES = (
    len(GLOBAL_LINES), len(TRANCHE_LINES), len(ACCOUNT_LINES), len(FEE_LINES))

# Scalar metrics per scenario, in this order, from both interpreters.
METRICS = (
    "min_dscr", "avg_dscr", "llcr", "plcr", "default_period", "lender_claim",
    "lender_received", "recovery_rate", "lender_loss", "lender_irr", "equity_irr",
    "equity_distributions", "equity_invested",
)
M = {name: i for i, name in enumerate(METRICS)}
N_METRICS = len(METRICS)


def n_lines(n_tranches: int, n_accounts: int, n_fees: int) -> int:
    return N_GLOBAL + n_tranches * N_TRANCHE_LINES + n_accounts * N_ACCOUNT_LINES + n_fees * N_FEE_LINES


def tranche_col(k: int, line: str) -> int:
    return N_GLOBAL + k * N_TRANCHE_LINES + TL[line]


def account_col(n_tranches: int, a: int, line: str) -> int:
    return N_GLOBAL + n_tranches * N_TRANCHE_LINES + a * N_ACCOUNT_LINES + ACCOUNT_LINES.index(line)


def fee_col(n_tranches: int, n_accounts: int, f: int, line: str) -> int:
    return (N_GLOBAL + n_tranches * N_TRANCHE_LINES + n_accounts * N_ACCOUNT_LINES
            + f * N_FEE_LINES + FEE_LINES.index(line))
