"""The layout every interpreter shares: account kinds, scenario channels, ledger lines,
metrics, and the compiled program's arrays. Step kinds (opcodes) live in the step
registry (waterfall/steps).

This module imports nothing from the package, so the build (setup.py) can run it on its
own: it generates the Cython kernel's constants (ext/_layout.pxi) from `layout()` with
the opcodes read from waterfall/steps, and stamps them with `digest()`. At import the
engine compares that digest with the one computed here: a kernel built from another
layout is refused, whichever fact differs.
"""
from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

ACCOUNT_KIND = {"dsra": 0, "fixed": 1, "lockup": 2}

# Scenario channels: a per-period factor the kernel builds from (channel, from, to, value).
CHANNELS = ("rent", "opex", "rate_add", "val_land", "val_shell", "val_mep", "val_it", "refi", "rvg",
            "market_rent", "cap_add", "cross", "refi_spread")
(CH_RENT, CH_OPEX, CH_RATE_ADD, CH_VAL_LAND, CH_VAL_SHELL, CH_VAL_MEP, CH_VAL_IT, CH_REFI, CH_RVG,
 CH_MARKET_RENT, CH_CAP_ADD, CH_CROSS, CH_REFI_SPREAD) = range(13)  # cross: 1 while the linked obligor performs, 0 once it defaults
# refi_spread: the refinancing market's margin add-on (annual), locked into a new loan at its date
ADDITIVE_CHANNELS = (CH_RATE_ADD, CH_CAP_ADD, CH_REFI_SPREAD)  # a scenario adds to these (0 untouched); others multiply
N_CHANNELS = len(CHANNELS)
COMPONENTS = ("land", "shell", "mep", "it")

# Ledger lines, one column each per period. Global lines first, then per tranche,
# per account, per fee blocks.
GLOBAL_LINES = (
    "revenue", "opex", "cfads", "capex", "equity_in", "sponsor_support", "draws",
    "reserve_release", "cash_available", "debt_service", "dscr", "lock_up", "fees_paid",
    "reserve_funding", "seizure_gross", "seizure_net", "guarantee_paid", "exit_proceeds", "equity_distribution",
    "event_of_default", "equity_cure", "covenant_breach", "workout", "workout_costs",
    "hedge_settlement", "hedge_termination_received", "llcr", "dscr_historic", "dscr_projected",
    "hedge_ratio", "hedge_ratio_breach", "reserve_interest",
    # owner-level taxes (waterfall/taxes.py; zero unless the deal has [tax])
    "depreciation", "taxable_income", "tax_loss_carried", "income_tax", "equity_after_tax",
)
TRANCHE_LINES = (
    "balance_open", "draw", "rate", "interest_due", "interest_paid", "interest_capitalised",
    "principal_due", "principal_paid", "prepayment", "recovery_interest",
    "recovery_principal", "write_off", "refinanced", "balance_close", "interest_arrears", "claim",
)
# Per account: opening and closing cash balance; a letter of credit's undrawn amount put at
# the waterfall's disposal in the period, the net new drawing on it, the net reimbursement
# to the LC bank and what is owed to that bank at the end of the period (docs/money.md).
ACCOUNT_LINES = ("balance_open", "balance_close", "lc_available", "lc_drawn", "lc_reimbursed", "lc_owed")
FEE_LINES = ("due", "paid")
# Per hedge: net settlement due (negative: the bank owes), the part capitalised onto the
# hedged tranche, the part paid in cash (signed), the termination amount at acceleration
# (signed), the bank's claim left after the period's recovery, its recovery and write-off.
HEDGE_LINES = ("notional", "index_rate", "net_due", "capitalised", "net_paid", "termination",
               "claim", "recovery", "write_off")

G = {name: i for i, name in enumerate(GLOBAL_LINES)}
TL = {name: i for i, name in enumerate(TRANCHE_LINES)}
N_GLOBAL, N_TRANCHE_LINES, N_ACCOUNT_LINES, N_FEE_LINES, N_HEDGE_LINES = (
    len(GLOBAL_LINES), len(TRANCHE_LINES), len(ACCOUNT_LINES), len(FEE_LINES), len(HEDGE_LINES))

# Scalar metrics per scenario, in this order, from both interpreters.
METRICS = (
    "min_dscr", "avg_dscr", "llcr", "plcr", "default_period", "lender_claim",
    "lender_received", "recovery_rate", "lender_loss", "lender_irr", "equity_irr", "lender_xirr", "equity_xirr",
    "equity_distributions", "equity_invested", "default_cause", "acceleration_period",
    "recovery_rate_pv", "recovery_periods", "lender_loss_pv", "min_llcr",
    "income_tax_paid", "equity_irr_after_tax",
)
M = {name: i for i, name in enumerate(METRICS)}
N_METRICS = len(METRICS)


def n_lines(n_tranches: int, n_accounts: int, n_fees: int, n_hedges: int = 0) -> int:
    return (N_GLOBAL + n_tranches * N_TRANCHE_LINES + n_accounts * N_ACCOUNT_LINES + n_fees * N_FEE_LINES
            + n_hedges * N_HEDGE_LINES)


def tranche_col(k: int, line: str) -> int:
    return N_GLOBAL + k * N_TRANCHE_LINES + TL[line]


def account_col(n_tranches: int, a: int, line: str) -> int:
    return N_GLOBAL + n_tranches * N_TRANCHE_LINES + a * N_ACCOUNT_LINES + ACCOUNT_LINES.index(line)


def fee_col(n_tranches: int, n_accounts: int, f: int, line: str) -> int:
    return (N_GLOBAL + n_tranches * N_TRANCHE_LINES + n_accounts * N_ACCOUNT_LINES
            + f * N_FEE_LINES + FEE_LINES.index(line))


def hedge_col(n_tranches: int, n_accounts: int, n_fees: int, h: int, line: str) -> int:
    return n_lines(n_tranches, n_accounts, n_fees) + h * N_HEDGE_LINES + HEDGE_LINES.index(line)


# The Program's arrays the kernel reads, by dtype (waterfall/program.py holds them).
PROGRAM_F64 = (
    "base_rent", "opex", "capex", "equity_in", "base_rate", "draw", "accrual", "fixed_rate",
    "spread", "floor", "sched", "acct_target", "fee_due", "step_share", "step_share_locked",
    "asset_value", "refi_spread", "refi_floor", "refi_min_dscr", "refi_max_ltv", "refi_min_dy", "refi_fixed",
    "ext_fee", "ext_step", "ext_min_dscr", "ext_max_ltv", "ext_min_dy", "bb_advance", "market_rent",
    "hedge_rate", "hedge_notional", "hedge_accrual",
    "flow_years", "round_to", "periods_a_year", "acct_rate", "acct_lc", "acct_last_weight",
    "tax_depreciation",
)
PROGRAM_I64 = (
    "is_floating", "maturity", "capitalise", "hard", "dscr_mask", "acct_kind", "acct_periods",
    "acct_mask", "step_op", "step_arg", "refi_periods", "refi_rate_kind", "refi_profile", "ext_options", "ext_periods", "bb_mask", "rank",
    "hedge_kind", "hedge_tranche", "hedge_rank",
)
PROGRAM_SCALARS = (
    "n_periods", "months_per_period", "cod_period", "lock_up_dscr", "default_dscr", "cure_periods",
    "fire_sale", "cost_share", "cost_fixed", "rvg_cap", "rvg_until", "exit_share",
    "support_kind", "support_cap", "breach_accelerates", "accelerate_after", "cure_max",
    "cure_max_amount", "cure_until", "tenant_accelerates", "sale_periods", "workout_cost",
    "default_margin", "val_method", "val_discount", "exit_cap", "relet_periods", "reletting_cost",
    "replacement_floor", "exit_value_share", "cross_accelerates", "llcr_end", "llcr_dsra", "llcr_dates_end", "sale_rule",
    "lock_up_basis", "default_basis", "dscr_window",
    "hedge_ratio_min", "hedge_ratio_from", "hedge_ratio_to", "hedge_ratio_accelerates",
    "tax_on", "tax_rate", "tax_interest", "tax_offset", "tax_nol_limit", "tax_basis",
)

# Amounts at or below DUST (deal units) are rounding residue, not money: a shortfall that
# small is no event of default, and a claim that small is repaid.
DUST = 1e-9
# A hedge ratio this close under its minimum is rounding (a notional stated as a share of the
# balance), not a breach (hedges.hedge_ratio_breached).
HEDGE_RATIO_TOL = 1e-9

# Rounding to an increment (level_payment.money): a quotient within ROUND_TIE (in units of
# the increment) below a half rounds up, as a decimal half-cent does for a servicer.
ROUND_TIE = 1e-9

# A refinancing's level payment at a per-period rate at or below LEVEL_ZERO_RATE amortises
# straight line: the annuity factor (1 + r)^N - 1 loses a relative 1e-16 / (N r) to
# cancellation (0/0 once 1 + r == 1), and below 1e-6 a period (0.0004% a year on quarters)
# the two profiles differ by under 1e-5 of a payment.
LEVEL_ZERO_RATE = 1e-6

# Kernel status codes (per scenario): 0 = ran; ERR_UNKNOWN_STEP = a step whose opcode
# has no branch (the step's index is reported beside it).
STATUS_OK, ERR_UNKNOWN_STEP = 0, 1


def layout(opcodes: dict[str, int]) -> dict:
    """Every fact the kernel shares with Python, as {constant name: value} in a fixed
    order, given the step kinds' {name: code}."""
    facts: dict = {}
    for name, code in sorted(opcodes.items(), key=lambda kv: kv[1]):
        facts[f"OP_{name.upper()}"] = code
    facts.update({f"ACC_{k.upper()}": v for k, v in ACCOUNT_KIND.items()})
    groups = (("CH", CHANNELS, "N_CHANNELS"), ("G", GLOBAL_LINES, "N_GLOBAL"),
              ("T", TRANCHE_LINES, "N_TRANCHE_LINES"), ("A", ACCOUNT_LINES, "N_ACCOUNT_LINES"),
              ("F", FEE_LINES, "N_FEE_LINES"), ("H", HEDGE_LINES, "N_HEDGE_LINES"),
              ("M", METRICS, "N_METRICS"))
    for prefix, names, count in groups:
        facts.update({f"{prefix}_{n.upper()}": i for i, n in enumerate(names)})
        facts[count] = len(names)
    facts["N_COMPONENTS"] = len(COMPONENTS)
    facts["STATUS_OK"], facts["ERR_UNKNOWN_STEP"] = STATUS_OK, ERR_UNKNOWN_STEP
    facts["DUST"] = DUST
    facts["HEDGE_RATIO_TOL"] = HEDGE_RATIO_TOL
    facts["ROUND_TIE"] = ROUND_TIE
    facts["LEVEL_ZERO_RATE"] = LEVEL_ZERO_RATE
    facts["PROGRAM_F64"], facts["PROGRAM_I64"] = list(PROGRAM_F64), list(PROGRAM_I64)
    return facts


def digest(facts: dict) -> str:
    """A digest of the whole layout (names, values and order)."""
    return hashlib.sha256(json.dumps(list(facts.items())).encode()).hexdigest()[:16]


def pxi_text(facts: dict) -> str:
    """ext/_layout.pxi: the kernel's constants, generated at build time."""
    lines = ["# Generated by setup.py from waterfall/ops.py and waterfall/steps/*.py. Do not edit.",
             "cdef enum:"]
    lines += [f"    {k} = {v}" for k, v in facts.items() if isinstance(v, int)]
    lines += [f"cdef double {k} = {v!r}" for k, v in facts.items() if isinstance(v, float)]
    lines.append(f"PROGRAM_F64 = {tuple(facts['PROGRAM_F64'])!r}")
    lines.append(f"PROGRAM_I64 = {tuple(facts['PROGRAM_I64'])!r}")
    lines.append(f"LAYOUT = {facts!r}")
    lines.append(f"LAYOUT_DIGEST = {digest(facts)!r}")
    return "\n".join(lines) + "\n"


def kind_modules(folder: Path | None = None) -> dict[str, tuple[str, int]]:
    """{module name: (NAME, CODE)} of every step-kind module in waterfall/steps, read from
    its source text without importing it (the build has no pydantic). The registry imports
    exactly these modules; the build generates the kernel's opcodes from them."""
    folder = folder or Path(__file__).parent / "steps"
    out = {}
    for path in sorted(folder.glob("*.py")):
        consts = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant):
                consts[node.targets[0].id] = node.value.value
        if "CODE" in consts and "NAME" in consts:
            out[path.stem] = (consts["NAME"], consts["CODE"])
    return out


def opcodes_in_sources(folder: Path | None = None) -> dict[str, int]:
    """{NAME: CODE} of every step kind (kind_modules): what the kernel's opcode constants are
    generated from. The registry (steps.STEP_CODE) must agree (tests/test_registry.py)."""
    return {name: code for name, code in kind_modules(folder).values()}
