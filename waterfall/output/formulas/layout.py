"""The Cash flows sheet's rows: ledger lines (`L:<line>`, the engine's own numbers) and
working lines (cash after each step, event-of-default flags, the DSRA target, ...), in
the order the period computes them. The steps' rows come from the step registry."""
from __future__ import annotations

from ... import dscr_windows, ops, steps
from ...program import Program
from ..labels import GLOBAL_LABELS, HEDGE_LABELS, TRANCHE_LABELS
from .grid import A, F, Grid, T
from .hedges import H, hedge_rows
from .inputs import cures_possible
from .layout_enforce import enforcement_rows, state_rows
from .refinancing import has_ext, has_refi, level, refi_cures_possible, refi_sizing_keys, refi_tranches, sculpt
from .taxes import tax_rows



def _sources_rows(grid: Grid, program: Program) -> None:
    grid.section("Revenue")
    grid.add("L:revenue", GLOBAL_LABELS["revenue"], "amount", total=True)
    grid.section("Operating costs")
    grid.add("L:opex", GLOBAL_LABELS["opex"], "amount", total=True)
    grid.section("CFADS")
    grid.add("L:cfads", GLOBAL_LABELS["cfads"], "amount", total=True)
    grid.section("Sources")
    grid.add("L:capex", GLOBAL_LABELS["capex"], "amount", total=True)
    grid.add("L:equity_in", GLOBAL_LABELS["equity_in"], "amount", total=True)
    grid.add("draws_sched", "Debt drawn as scheduled", "amount", total=True, level=1)
    grid.add("L:draws", GLOBAL_LABELS["draws"], "amount", total=True)
    grid.add("L:reserve_release", GLOBAL_LABELS["reserve_release"], "amount")  # balances: no total
    grid.add("L:reserve_interest", GLOBAL_LABELS["reserve_interest"], "amount", total=True)
    grid.add("L:exit_proceeds", GLOBAL_LABELS["exit_proceeds"], "amount", total=True)
    grid.add("cash_in", "Cash in: CFADS + debt drawn as scheduled + equity", "amount", total=True, level=1)
    grid.add("cash0", "Cash before sponsor support (cash in - capex + reserves and their interest + exit)",
             "amount", level=1)
    grid.add("lenders", "Lenders owed something and not yet accelerated (1 = yes: they can accelerate)",
             "flag", level=1)
    grid.add("shortfall", "Shortfall: costs the cash does not meet", "amount", total=True, level=1)
    grid.add("sponsors_all", "Sponsors meet the whole shortfall (1 = yes: no lender to fund it, or dust)",
             "flag", level=1)
    support = {0: "none", 1: "capped", 2: "unlimited"}[int(program.support_kind)]
    if int(program.support_kind) == 1:
        grid.add("support_left", "Sponsor support left under the cap", "amount", level=1)
    grid.add("L:sponsor_support", f"Sponsor support (terms: {support})", "amount", total=True)
    if int(program.support_kind) == 1:
        grid.add("support_used", "Sponsor support paid so far (against the cap)", "amount", level=1)
    grid.add("unpaid", "Costs left unpaid", "amount", total=True)
    grid.add("unpaid_eod", "Costs left unpaid (1 = yes: an event of default, payment)", "flag", level=1)
    grid.add("wk_net", "Workout: CFADS less workout costs", "amount", total=True, level=1)
    grid.add("L:cash_available", GLOBAL_LABELS["cash_available"], "amount")  # includes reserve balances


def _refi_rows(grid: Grid, program: Program, names_safe) -> None:
    tr = program.names["tranches"]
    labels = {
        "refi_balloon": ("Balloon: balance less the scheduled principal", "amount"),
        "noi": ("NOI: projected CFADS of the next 12 months (annualised)", "amount"),
        "refi_ltv_cap": ("LTV limit: max LTV x appraised value - other debt", "amount"),
        "refi_dy_cap": ("Debt-yield limit: NOI / min debt yield - other debt", "amount"),
        "refi_others": ("Other tranches' debt service next period (held flat in the DSCR limit)", "amount"),
        "refi_dscr_cap": ("DSCR limit: most new loan the CFADS carries at min DSCR beside the others' debt "
                          "service, straight-line", "amount"),
        "refi_size": ("New loan: the lowest of the balloon and the limits", "amount"),
        "refi_loan": ("New loan (0 below dust)", "amount"),
        "ext_dscr_ok": ("Extension DSCR test: last period's CFADS >= min DSCR x its debt service, or a paydown "
                        "restores it (1 = yes)", "flag"),
        "ext_dscr_pay": ("Extension DSCR test: paydown restoring it, (debt service - CFADS / min DSCR) / the "
                         "loan's cash rate of last period", "amount"),
        "ext_ltv_pay": ("Extension LTV test: balloon - (max LTV x appraised value - other debt)", "amount"),
        "ext_dy_pay": ("Extension debt-yield test: balloon - (NOI / min debt yield - other debt)", "amount"),
        "ext_pay": ("Extension: paydown its tests need (-1: it cannot extend)", "amount"),
        "ext": ("Extended this period (1 = yes: an option left, tests met, paydown no more than a refinancing "
                "leaves)", "flag"),
        "ext_fee": ("Extension fee (paid with the interest)", "amount"),
        "refi_short": ("Shortfall: balloon not refinanced or extended, due now", "amount"),
    }
    for k in refi_tranches(program):
        refi, ext = has_refi(program, k), has_ext(program, k)
        grid.section(f"{'Refinancing' if refi else 'Extension'} at maturity: {names_safe(tr[k])}")
        if refi:
            grid.add(f"t{k}.on", "On refinanced terms (1 = yes)", "flag", level=1)
        grid.add(f"t{k}.mat", "Maturity period (current terms)", "int", level=1)
        if refi:
            grid.add(f"t{k}.amort", "Level-payment loan (current terms; its principal follows the annuity)"
                     if level(program, k) else ("Sculpted: new loan / the shape's size L (current terms)"
                                                if sculpt(program, k) else
                                                "Straight-line amortisation (current terms)"), "amount", level=1)
            grid.add(f"t{k}.radd", "Refinancing margin add-on locked in the current terms (annual)", "rate", level=1)
            if level(program, k):
                grid.add(f"t{k}.r1", "Level payment: the new loan's first-period rate", "rate", level=1)
                grid.add(f"t{k}.t0", "Level payment: the period it was signed", "int", level=1)
            if sculpt(program, k):
                _shape_rows(grid, k, "")
                grid.add(f"t{k}.sc_pay", "Sculpted: the shape's principal this period (max(min(D - r x balance, "
                         "balance), 0))", "amount", level=1)
        if ext:
            grid.add(f"t{k}.ext_left", "Extension options left", "int", level=1)
            grid.add(f"t{k}.ext_add", "Margin added by the extensions exercised (annual)", "rate", level=1)
        grid.add(f"t{k}.annual", "Interest rate (annual, current terms)", "rate", level=1)
        grid.add(f"t{k}.per_rate", "Interest rate for the period (current terms)", "rate", level=1)
        grid.add(f"t{k}.sched", "Scheduled principal (current terms)", "amount", level=1)
        if ext:
            grid.add(f"t{k}.int_calc", "Interest on the balance (before any extension fee)", "amount", level=1)
        grid.add(f"t{k}.at_mat", "Maturity this period (1 = yes)", "flag", level=1)
        for key in refi_sizing_keys(program, k):
            label, fmt = labels[key.split(".", 1)[1]]
            grid.add(key, label, fmt, level=1)
        if refi:
            grid.add(f"t{k}.refi", "Refinanced this period (1 = yes: market open, new loan > 0)", "flag")
            grid.add(f"t{k}.on_after", "On refinanced terms after this period (1 = yes)", "flag", level=1)
        grid.add(f"t{k}.mat_after", "Maturity period after this period", "int", level=1)
        if refi:
            grid.add(f"t{k}.amort_after", "Amortisation after this period", "amount", level=1)
            grid.add(f"t{k}.radd_after", "Margin add-on locked after this period (annual)", "rate", level=1)
            if level(program, k):
                grid.add(f"t{k}.r1_after", "Level payment: first-period rate after this period", "rate", level=1)
                grid.add(f"t{k}.t0_after", "Level payment: signing period after this period", "int", level=1)
            if sculpt(program, k):
                _shape_rows(grid, k, "_after")
        if ext:
            grid.add(f"t{k}.ext_left_after", "Extension options left after this period", "int", level=1)
            grid.add(f"t{k}.ext_add_after", "Margin added by extensions after this period (annual)", "rate", level=1)
            _ext_pre_rows(grid, program, k)
    covered = [k for k in range(program.n_tranches) if program.dscr_mask[k]]
    if covered and covered[0] in refi_tranches(program):
        grid.add("discount", f"Discount factor at the {names_safe(tr[covered[0]])} rate, from COD (LLCR, PLCR)",
                 "factor", level=1)


def _ext_pre_rows(grid: Grid, program: Program, k: int) -> None:
    """Tranche k's option as exercised before its conditions are known (refinancing.settle
    with final False: what the covenants and the cure read), and whether it stands."""
    pre = " (the option as exercised, before its conditions are known)"
    if has_refi(program, k):
        grid.add(f"t{k}.refi_pre", "Refinanced this period" + pre, "flag", level=1)
    grid.add(f"t{k}.new_pre", "New loan" + pre, "amount", level=1)
    grid.add(f"t{k}.refi_short_pre", "Shortfall due now" + pre, "amount", level=1)
    if has_refi(program, k):
        grid.add(f"t{k}.on_pre", "On refinanced terms after this period" + pre, "flag", level=1)
        grid.add(f"t{k}.amort_pre", "Amortisation after this period" + pre, "amount", level=1)
        grid.add(f"t{k}.radd_pre", "Margin add-on locked after this period" + pre, "rate", level=1)
        if level(program, k):
            grid.add(f"t{k}.r1_pre", "Level payment: first-period rate after this period" + pre, "rate", level=1)
            grid.add(f"t{k}.t0_pre", "Level payment: signing period after this period" + pre, "int", level=1)
        if sculpt(program, k):
            _shape_rows(grid, k, "_pre")
    grid.add(f"t{k}.ext_left_pre", "Extension options left after this period" + pre, "int", level=1)
    grid.add(f"t{k}.ext_add_pre", "Margin added by extensions after this period" + pre, "rate", level=1)
    grid.add(f"t{k}.mat_pre", "Maturity period after this period" + pre, "int", level=1)
    grid.add(f"t{k}.ext_ok", "Extension stands (1 = yes: exercised, its paydown and fee met, no acceleration)",
             "flag")


def _shape_rows(grid: Grid, k: int, suffix: str) -> None:
    """A sculpted new loan's carried shape (refinancing.sculpted): the unit shape's balance
    (L at signing), the rent multiplier in place and the others' debt service at signing."""
    when = " after this period" if suffix else ""
    grid.add(f"t{k}.sb{suffix}", f"Sculpted: the shape's balance{when} (L at signing, less its principal)",
             "amount", level=1)
    grid.add(f"t{k}.rm{suffix}", f"Sculpted: rent multiplier in place at signing{when}", "factor", level=1)
    grid.add(f"t{k}.ods{suffix}", f"Sculpted: others' debt service at signing (held flat){when}", "amount",
             level=1)


BASIS_LABEL = {0: "point: the period", 1: "historic: trailing 12 months", 2: "projected: forward 12 months"}


def _window_rows(grid: Grid, program: Program, names_safe) -> None:
    """The working rows of the trailing and forward DSCRs a covenant tests (covenants.py)."""
    used = dscr_windows.bases_used(program)
    if dscr_windows.TRAILING in used:
        grid.add("ds_started", "Debt service has begun (1 = yes: the trailing window starts there at the "
                 "earliest)", "flag", level=1)
        grid.add("hist_cfads", "Trailing 12 months: CFADS (incl. equity cures of earlier periods)", "amount",
                 level=1)
        grid.add("hist_ds", "Trailing 12 months: debt service", "amount", level=1)
    if dscr_windows.FORWARD in used:
        grid.add("fwd_cfads", "Forward 12 months: projected CFADS (scenario)", "amount", level=1)
        for k in range(program.n_tranches):
            if program.dscr_mask[k]:
                for j in range(1, int(program.dscr_window)):
                    grid.add(f"fwd{k}.{j}", names_safe(f"{program.names['tranches'][k]}: projected balance "
                                                       f"+{j} (forward DSCR)"), "amount", level=1)
                    if sculpt(program, k):
                        grid.add(f"fwd{k}.{j}.sb", names_safe(f"{program.names['tranches'][k]}: projected "
                                                               f"sculpted shape balance +{j}"), "amount", level=1)
        grid.add("fwd_ds", "Forward 12 months: scheduled debt service (incl. hedges)", "amount", level=1)


def _covenant_rows(grid: Grid, program: Program, names_safe) -> None:
    grid.section("Debt service and covenant tests")
    for k in range(program.n_tranches):
        grid.add(f"t{k}.bal_due", f"{names_safe(program.names['tranches'][k])}: balance before payments",
                 "amount", level=1)
    grid.add("L:debt_service", GLOBAL_LABELS["debt_service"], "amount", total=True)
    _window_rows(grid, program, names_safe)
    if program.default_dscr >= 0:
        grid.add("dscr_pre", f"DSCR the default test reads ({BASIS_LABEL[int(program.default_basis)]}), "
                 "before any equity cure", "ratio", level=1)
        grid.add("below_pre", "Below the default DSCR before any cure (1 = yes)", "flag", level=1)
    if cures_possible(program):
        grid.add("cure_need", "Equity cure needed: default DSCR x debt service - CFADS", "amount", level=1)
        grid.add("cure_test", "Breach unless cured (1 = yes: past the cure periods)", "flag", level=1)
        grid.add("cure_ok", "Sponsors cure (1 = yes: cures left, in time, within the cap)", "flag", level=1)
        grid.add("cures_dscr", "Equity cures made so far, with this period's covenant cure", "int", level=1)
    grid.add("dscr_cure", "Equity cure of the DSCR covenant", "amount", total=True, level=1)
    if any(has_ext(program, k) for k in range(program.n_tranches)):
        pre = " (the options as exercised)"
        grid.add("ext_short_pre", "Refinancing and extension shortfalls due this period" + pre, "amount", level=1)
        grid.add("ext_free_pre", "Cash left for them after fees, hedges, interest and scheduled principal" + pre,
                 "amount", level=1)
        grid.add("ext_need_pre", "Equity cure they need" + pre, "amount", level=1)
        if refi_cures_possible(program):
            grid.add("ext_cure_ok_pre", "Sponsors would cure them (1 = yes)" + pre, "flag", level=1)
        grid.add("ext_stand", "The extensions exercised stand (1 = yes: their fees with the interest and "
                              "schedule covered by the cash, paydowns met by the cash or a cure, the lenders "
                              "owed and not accelerating)", "flag", level=1)
    if refi_cures_possible(program):
        grid.add("refi_short_total", "Refinancing shortfalls due this period", "amount", level=1)
        grid.add("refi_free", "Cash left for them after fees, hedges, interest and scheduled principal",
                 "amount", level=1)
        grid.add("refi_need", "Equity cure needed for the refinancing shortfalls", "amount", level=1)
        grid.add("refi_cure_ok", "Sponsors cure the refinancing shortfall (1 = yes: cures left, in time, "
                                 "within the cap)", "flag", level=1)
        grid.add("refi_cure", "Equity cure of a refinancing shortfall", "amount", total=True, level=1)
    if cures_possible(program) or refi_cures_possible(program):
        grid.add("cures_used", "Equity cures made so far", "int", level=1)
    grid.add("L:equity_cure", GLOBAL_LABELS["equity_cure"], "amount", total=True)
    grid.add("L:dscr", GLOBAL_LABELS["dscr"], "ratio")
    grid.add("L:dscr_historic", GLOBAL_LABELS["dscr_historic"], "ratio")
    grid.add("L:dscr_projected", GLOBAL_LABELS["dscr_projected"], "ratio")
    if dscr_windows.TRAILING in dscr_windows.bases_used(program):
        grid.add("cov_cfads", "CFADS + equity cure of the period (what later trailing windows count)", "amount",
                 level=1)
    grid.add("dscr_tested", "DSCR where debt service > 0, up to the last acceleration (the DSCR metrics)",
             "ratio", level=1)
    if any(program.dscr_mask) and program.cod_period <= program.n_periods:
        grid.add("npv_cum", "NPV from COD of CFADS within the loan life, cumulative (LLCR)", "amount", level=1)
    grid.add("L:llcr", GLOBAL_LABELS["llcr"], "ratio")
    if program.lock_up_dscr >= 0:
        grid.add("cov_lock_up", f"Lock-up DSCR covenant ({BASIS_LABEL[int(program.lock_up_basis)]})", "ratio",
                 level=1)
    if program.default_dscr >= 0:
        grid.add("cov_default", f"Default DSCR covenant ({BASIS_LABEL[int(program.default_basis)]})", "ratio",
                 level=1)
        grid.add("cure", "Periods below the default DSCR (after any cure; kept through a workout)", "int",
                 level=1)
    grid.add("L:covenant_breach", GLOBAL_LABELS["covenant_breach"],
             "flag")
    if program.hedge_ratio_min >= 0:
        grid.add("hr_debt", "Hedge ratio: floating covenant debt (opening balances)", "amount", level=1)
    grid.add("L:hedge_ratio", GLOBAL_LABELS["hedge_ratio"], "pct")
    grid.add("L:hedge_ratio_breach", GLOBAL_LABELS["hedge_ratio_breach"], "flag")
    grid.add("L:lock_up", GLOBAL_LABELS["lock_up"], "flag")
    if program.default_dscr >= 0 and program.breach_accelerates:
        grid.add("cov_accel", "Breach lasted past the acceleration grace (1 = yes: lenders accelerate)",
                 "flag", level=1)
    grid.add("cause0", "Event of default before the steps (cause: 1 payment, 2 covenant, 3 tenant; 0 none)",
             "int")
    grid.add("cash_steps", "Cash for the priority of payments (cash available + equity cure)", "amount",
             level=1)
    if program.acct_lc.any():
        for a, name in enumerate(program.names["accounts"]):
            if program.acct_lc[a].any():
                grid.add(f"a{a}.lc_open", names_safe(f"{name}: owed to the LC bank at the start"), "amount",
                         level=1)
                grid.add(A(a, "lc_available"), names_safe(f"{name}: letter of credit at the waterfall's "
                                                            "disposal (face less owed)"), "amount")
        grid.add("cash_lc", "Cash for the priority of payments with the letters of credit", "amount", level=1)


def _step_rows(grid: Grid, program: Program, names_safe) -> None:
    grid.section("Priority of payments")
    for i, kind in enumerate(steps.kinds_of(program.step_op)):
        arg = int(program.step_arg[i])
        name = kind.label(program.names, i, arg)
        for line in kind.lines(program, i, arg):
            grid.add(f"s{i}.{line.name}", names_safe(f"{name}: {line.label}"), line.fmt,
                     total=line.total, level=line.level)


def _party_rows(grid: Grid, program: Program, names_safe) -> None:
    for k in range(program.n_tranches):
        grid.section(f"Tranche: {names_safe(program.names['tranches'][k])}")
        for line in ops.TRANCHE_LINES:
            label, total = TRANCHE_LABELS[line]
            grid.add(T(k, line), label, "rate" if line == "rate" else "amount", total=total)
        grid.add(f"t{k}.repaid", "Principal repaid (all kinds, for WAL)", "amount", total=True, level=1)
    if program.n_accounts:
        grid.section("Reserve accounts")
        for a, name in enumerate(program.names["accounts"]):
            grid.add(A(a, "balance_open"), f"{names_safe(name)}: opening balance", "amount")
            grid.add(A(a, "balance_close"), f"{names_safe(name)}: closing balance", "amount")
            if program.acct_lc[a].any():
                grid.add(f"a{a}.lc_accel_repay", f"{names_safe(name)}: LC bank reimbursed at acceleration",
                         "amount", level=1)
                grid.add(f"a{a}.lc_state", f"{names_safe(name)}: owed to the LC bank (carried)", "amount", level=1)
                grid.add(f"a{a}.lc_change", f"{names_safe(name)}: change in what is owed to the LC bank",
                         "amount", level=1)
            else:
                grid.add(A(a, "lc_available"), f"{names_safe(name)}: letter of credit available", "amount", level=1)
            grid.add(A(a, "lc_drawn"), f"{names_safe(name)}: letter of credit drawn (net)", "amount", total=True,
                     level=0 if program.acct_lc[a].any() else 1)
            grid.add(A(a, "lc_reimbursed"), f"{names_safe(name)}: reimbursed to the LC bank (net)", "amount",
                     total=True, level=0 if program.acct_lc[a].any() else 1)
            grid.add(A(a, "lc_owed"), f"{names_safe(name)}: owed to the LC bank", "amount",
                     level=0 if program.acct_lc[a].any() else 1)
        if program.acct_lc.any():
            grid.add("cash_after_lc", "Cash after the LC banks at an acceleration", "amount", level=1)
    grid.add("L:reserve_funding", GLOBAL_LABELS["reserve_funding"], "amount")
    if program.n_fees:
        grid.section("Fees")
        for f, name in enumerate(program.names["fees"]):
            grid.add(F(f, "due"), f"{names_safe(name)}: due", "amount", total=True)
            grid.add(F(f, "paid"), f"{names_safe(name)}: paid", "amount", total=True)
    grid.add("L:fees_paid", GLOBAL_LABELS["fees_paid"], "amount", total=True)
    for h, name in enumerate(program.names.get("hedges", [])):
        grid.add(H(h, "net_paid"), f"{names_safe(name)}: {HEDGE_LABELS['net_paid'][0]}", "amount", total=True)
    grid.add("L:hedge_settlement", GLOBAL_LABELS["hedge_settlement"], "amount", total=True,
             level=0 if program.n_hedges else 1)
    if not program.n_hedges:
        grid.add("L:hedge_termination_received", GLOBAL_LABELS["hedge_termination_received"], "amount",
                 total=True, level=1)


def _outcome_rows(grid: Grid) -> None:
    grid.section("Equity")
    grid.add("L:equity_distribution", GLOBAL_LABELS["equity_distribution"], "amount",
             total=True)
    grid.add("equity_cf", "Equity cash flow", "amount", total=True)
    grid.section("Lenders")
    grid.add("lender_cf", "Lender cash flow", "amount", total=True)


def layout_cash_flows(program: Program, grid: Grid, names_safe) -> None:
    """Every row of the Cash flows sheet, in order."""
    state_rows(grid)
    _sources_rows(grid, program)
    _refi_rows(grid, program, names_safe)
    hedge_rows(grid, program, names_safe)
    _covenant_rows(grid, program, names_safe)
    _step_rows(grid, program, names_safe)
    _party_rows(grid, program, names_safe)
    enforcement_rows(grid, program, names_safe)
    _outcome_rows(grid)
    tax_rows(grid, program)
