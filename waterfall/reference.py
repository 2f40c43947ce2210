"""The pure-Python reference waterfall: the oracle every faster path is tested against.

It interprets a compiled Program for one scenario, period by period, in plain Python.
Each period t = 0..T (0 is financial close):

1. revenue = scheduled rent x scenario factor; opex likewise; CFADS = revenue - opex.
2. Each tranche: interest due = opening balance x annual rate x accrual; in a
   capitalised period it is added to the balance instead of being due in cash. Draws
   are added to the balance. Principal due = min(schedule, balance), the whole
   balance at maturity, unless it is refinanced then (market open; the new loan sized by
   LTV, debt yield and DSCR, refinancing.py): the loan then goes on at the refinancing
   spread, amortising straight-line, and the schedule plus what the new loan leaves of
   the balloon is due (an equity cure may meet that paydown).
3. Every reserve balance is released into cash, with the interest it earned over the
   period; cash = CFADS + draws + equity in - capex + reserves + their interest (+ the net sale proceeds at the last period if the deal has an exit). A negative cash is met by the sponsors (sponsor support).
4. DSCR = CFADS / (cash interest + scheduled principal, balloons excluded) over the
   covenant tranches, where that debt service is positive. Lock-up and default-DSCR tests read this DSCR.
5. The steps run in priority order, each kind's cash rule from the step registry
   (waterfall/steps, evaluated on floats by steps.floats). A hard shortfall, or a
   default-DSCR breach past its cure periods, is an event of default.
6. On an event of default the lenders take all cash, reserves, the net seizure
   value and any residual value guarantee (up to its cap, for what is still owed), in
   tranche order, interest then principal; the rest is written off and any surplus
   goes to equity. The deal ends.
At the last period every reserve target is zero and lock-up no longer applies.
"""
from __future__ import annotations

import numpy as np

from . import dscr_windows, ops, refinancing
from .hedges import hedge_ratio, hedge_ratio_breached, settlement, termination_value
from .irr import annualise, irr, xirr
from .level_payment import money
from .ops import G, TL
from .program import Program, ScenarioBatch
from .steps import kinds_of
from .steps.floats import FloatPeriod, run_steps
from .taxes import owner_tax, pre_depreciation_income
from .workout import CAUSE, allocate, best_sale, net_sale, sale_values

AL = {line: i for i, line in enumerate(ops.ACCOUNT_LINES)}   # account line -> offset in st.ac[a]

NAN = float("nan")


def scenario_factors(program: Program, batch: ScenarioBatch, s: int):
    """Per-period factors for scenario s: rent, opex, rate add-on, base rate, value [4]."""
    n = program.n_periods
    factor = np.ones((ops.N_CHANNELS, n + 1))
    for channel in ops.ADDITIVE_CHANNELS:
        factor[channel] = 0.0
    for j in range(batch.adj_channel.shape[1]):
        channel = int(batch.adj_channel[s, j])
        if channel < 0:
            continue
        for t in range(int(batch.adj_from[s, j]), int(batch.adj_to[s, j]) + 1):
            if channel in ops.ADDITIVE_CHANNELS:
                factor[channel, t] += batch.adj_value[s, j]
            else:
                factor[channel, t] *= batch.adj_value[s, j]
    p = int(batch.path_index[s])
    base = batch.paths[p] if p >= 0 else program.base_rate
    return factor, base


def tranche_rates(program: Program, base: np.ndarray, rate_add: np.ndarray):
    """(annual all-in rate, per-period rate) [K, T+1] for a scenario; never below zero."""
    k_count, n = program.n_tranches, program.n_periods
    annual = np.zeros((k_count, n + 1))
    for k in range(k_count):
        for t in range(n + 1):
            if program.is_floating[k]:
                rate = max(base[t] + rate_add[t], program.floor[k]) + program.spread[k, t]
            else:
                rate = program.fixed_rate[k, t]
            annual[k, t] = max(rate, 0.0)  # an all-in rate below zero is charged as zero
    return annual, annual * program.accrual


class _Terms:
    """What the steps read that depends on the scenario and the period (FloatPeriod.terms)."""

    def __init__(self, program, factor, per_rate, sched, maturity):
        self.program, self.factor, self.per_rate = program, factor, per_rate
        self.sched, self.maturity, self.t = sched, maturity, 0
        self.matured = [-1] * program.n_tranches   # the maturity a refinancing moved on from
        self.index = None   # the hedges' index path under the scenario (set by _State)

    def balloon(self, k):
        """Period t is tranche k's maturity: its balloon, or what a refinancing leaves of it, is due."""
        return self.t == self.maturity[k] or self.t == self.matured[k]

    def collateral(self, k):
        program, t = self.program, self.t
        return sum(program.asset_value[c, t] * self.factor[ops.CH_VAL_LAND + c, t]
                   for c in range(len(ops.COMPONENTS)) if program.bb_mask[k, c])

    def reserve_target(self, a, balance):
        return reserve_target(self.program, self.per_rate, self.sched, self.maturity, balance, a, self.t,
                              self.index)


class _State:
    """One scenario's running state between periods."""

    def __init__(self, program, batch, s):
        n, k_count = program.n_periods, program.n_tranches
        self.factor, self.base = scenario_factors(program, batch, s)
        self.annual, self.per_rate = tranche_rates(program, self.base, self.factor[ops.CH_RATE_ADD])
        self.projected_cfads = (program.base_rent * self.factor[ops.CH_RENT]
                                - program.opex * self.factor[ops.CH_OPEX])
        self.sched = program.sched.copy()          # refinancing rewrites these per scenario
        self.maturity = program.maturity.copy()
        self.ledger = np.zeros((n + 1, ops.n_lines(k_count, program.n_accounts, program.n_fees,
                                                   program.n_hedges)))
        self.tc = [[ops.tranche_col(k, line) for line in ops.TRANCHE_LINES] for k in range(k_count)]
        self.ac = [[ops.account_col(k_count, a, line) for line in ops.ACCOUNT_LINES]
                   for a in range(program.n_accounts)]
        self.fc = [[ops.fee_col(k_count, program.n_accounts, f, line) for line in ops.FEE_LINES]
                   for f in range(program.n_fees)]
        self.hc = [{line: ops.hedge_col(k_count, program.n_accounts, program.n_fees, h, line)
                    for line in ops.HEDGE_LINES} for h in range(program.n_hedges)]
        self.index = self.base + self.factor[ops.CH_RATE_ADD]   # the hedges' index under the scenario
        self.hedge_claim = [0.0] * program.n_hedges            # termination amounts owed to the banks
        self.balance = [0.0] * k_count
        self.reserve = [0.0] * program.n_accounts
        self.lc_owed = [0.0] * program.n_accounts   # owed to each account's LC bank (drawn, not reimbursed)
        self.lc_out = [0.0] * program.n_accounts    # the period's LC amount at the waterfall's disposal
        self.lc_open = [0.0] * program.n_accounts   # lc_owed at the start of the period
        self.cure_count = 0
        self.cov_cfads = [0.0] * (n + 1)   # each period's CFADS plus its equity cure (trailing DSCR)
        self.cov_ds = [0.0] * (n + 1)      # each period's debt service (trailing DSCR)
        self.first_ds = -1                 # the first period with debt service
        self.default_period = -1
        self.terms = _Terms(program, self.factor, self.per_rate, self.sched, self.maturity)
        self.terms.index = self.index
        self.kinds = kinds_of(program.step_op)
        # events and the workout (workout.py)
        self.sale_value = sale_values(program, self.factor, self.projected_cfads)
        self.cures = 0
        self.ext_left = [int(x) for x in program.ext_options]   # extension options left
        self.ext_undo = [None] * k_count   # an option exercised this period, until its conditions are met
        self.support_used = 0.0
        self.cause = 0
        self.accel = -1          # period the lenders accelerated (-1: not)
        self.in_workout = False
        self.sale_at = -1
        self.end = -1            # period of the final recovery
        self.arrears = [0.0] * k_count
        self.claim_k = [0.0] * k_count
        self.received_k = [0.0] * k_count
        self.pv_k = [0.0] * k_count
        self.discount_k = [1.0] * k_count


def run_one(program: Program, batch: ScenarioBatch, s: int = 0):
    """Run scenario s of the batch. Returns (ledger [T+1, lines], metrics [N_METRICS],
    wal [K] in years)."""
    st = _State(program, batch, s)
    for t in range(program.n_periods + 1):
        ended = _workout_period(program, st, t) if st.in_workout else _period(program, st, t)
        if ended:
            break
    metrics = summarise(program, st)
    return st.ledger, metrics, wal(program, st.ledger)


def _period(program: Program, st: _State, t: int) -> bool:
    """Period t before any acceleration (steps 1-5 of the module doc, then step 6 if the
    lenders accelerate); True when the deal ends (a sale in this period)."""
    row = st.ledger[t]
    revenue = program.base_rent[t] * st.factor[ops.CH_RENT, t]
    opex = program.opex[t] * st.factor[ops.CH_OPEX, t]
    cfads = revenue - opex
    row[G["revenue"]], row[G["opex"]], row[G["cfads"]] = revenue, opex, cfads
    row[G["capex"]], row[G["equity_in"]] = program.capex[t], program.equity_in[t]
    st.refi_shortfall = 0.0
    int_due, prin_due, scheduled, draws = _accrue(program, st, t, row)
    hedge_due = _hedge_settlements(program, st, t, row)
    # the lenders (and hedge banks) can accelerate only once, and only while something is owed to them
    lenders = st.accel < 0 and sum(st.balance) + sum(int_due) + sum(max(d, 0.0) for d in hedge_due) > ops.DUST
    receipts = sum(-d for d in hedge_due if d < 0.0)   # what the hedge banks pay: a source of the period
    cash, exit_proceeds, unpaid = _sources(program, st, t, row, cfads, draws, lenders, receipts)
    locked, cause, cure = _covenants(program, st, t, row, cfads, int_due, scheduled, unpaid, hedge_due)
    cash += cure
    if not lenders:
        cause = 0
    elif unpaid > 0.0:
        cause = CAUSE["payment"]   # costs the SPV cannot meet: the lenders step in
    cash += _maturity_cure(program, st, t, row, cash, lenders and not cause, int_due, prin_due, scheduled,
                           hedge_due)
    st.terms.t = t
    cash += _lc_liquidity(program, st, t, row, lenders)
    p = FloatPeriod(program, t, st.terms, cash, float(cause), locked, int_due, prin_due, st.balance, st.reserve)
    p.hedge_due, p.lc_owed, p.lc_out = hedge_due, st.lc_owed, st.lc_out
    run_steps(program, p, st.kinds)
    _write_steps(program, st, row, p)
    row[G["fees_paid"]], row[G["equity_distribution"]] = p.fees, p.equity
    if p.D:
        p.cash = _lc_at_acceleration(program, st, row, p.cash)
        return _accelerate(program, st, t, row, p, exit_proceeds, unpaid, int(p.D), hedge_due)
    row[G["reserve_funding"]] = sum(st.reserve)
    _lc_close(program, st, row)
    for k in range(program.n_tranches):
        row[st.tc[k][TL["balance_close"]]] = st.balance[k]
    for a in range(program.n_accounts):
        row[st.ac[a][1]] = st.reserve[a]
    return False


def _maturity_cure(program: Program, st: _State, t: int, row, cash: float, open_: bool, int_due, prin_due,
                   scheduled, hedge_due) -> float:
    """The sponsors' cure of the period's refinancing shortfalls (refinancing.cure), and
    whether each extension option exercised at t stands (docs/credit.md, "Extension
    options"): only if its paydown is met, from the cash the period leaves after its fees,
    hedge settlements, cash interest (the extension fee with it) and scheduled principal,
    or by the cure, that cash covers the fee with the period's interest and schedule, and
    the lenders do not accelerate in the period. Else the option is
    not exercised (refinancing.unextend: no fee, no step-up, the maturity stays, the
    balloon or what a refinancing on offer leaves of it is due) and the cure is tried on
    that. `open_`: the lenders are owed and nothing else accelerates. Returns the cure
    paid in, USD."""
    short = st.refi_shortfall
    cure = refinancing.cure(program, st, t, cash, int_due, scheduled, hedge_due, short) \
        if short > ops.DUST and open_ else 0.0
    extended = [k for k in range(program.n_tranches) if st.ext_undo[k] is not None]
    free = refinancing.free_cash(program, t, cash, int_due, scheduled, hedge_due)
    if extended and (not open_ or free < -ops.DUST or (short > ops.DUST and cure <= 0.0
                                                      and short - max(free, 0.0) > ops.DUST)):
        for k in extended:
            c = st.tc[k]
            pay, int_before, line_before = st.ext_undo[k][4:]
            loan, refi_short = refinancing.unextend(program, st, k, t)
            int_due[k], row[c[TL["interest_due"]]], row[c[TL["refinanced"]]] = int_before, line_before, loan
            prin_due[k] = scheduled[k] + refi_short
            row[c[TL["principal_due"]]] = prin_due[k]
            st.refi_shortfall += refi_short - pay
        short = st.refi_shortfall
        cure = refinancing.cure(program, st, t, cash, int_due, scheduled, hedge_due, short) \
            if short > ops.DUST and open_ else 0.0
    for k in extended:
        st.ext_undo[k] = None
    row[G["equity_cure"]] += cure
    return cure


def _lc_liquidity(program: Program, st: _State, t: int, row, lenders: bool) -> float:
    """The undrawn amount of each DSRA's letter of credit (its face less what is owed to the
    LC bank) is at the waterfall's disposal, as the account's cash is: drawn for what the
    steps above the account's reserve step pay, the rest handed back there (docs/money.md).
    None once nothing is owed to the lenders. Returns the total (USD)."""
    total = 0.0
    for a in range(program.n_accounts):
        st.lc_open[a] = st.lc_owed[a]
        avail = max(program.acct_lc[a, t] - st.lc_owed[a], 0.0) if lenders else 0.0
        st.lc_out[a] = avail
        row[st.ac[a][AL["lc_available"]]] = avail
        total += avail
    return total


def _lc_at_acceleration(program: Program, st: _State, row, cash: float) -> float:
    """At acceleration each LC bank is reimbursed first from the period's cash (its claim
    ranks senior: the undrawn part it put at the waterfall's disposal comes back); what the
    cash does not cover stays owed to it. Returns the cash left for the lenders (USD)."""
    for a in range(program.n_accounts):
        due = st.lc_owed[a] + st.lc_out[a]
        repay = min(due, cash)
        cash -= repay
        st.lc_owed[a], st.lc_out[a] = due - repay, 0.0
    _lc_close(program, st, row)
    return cash


def _lc_close(program: Program, st: _State, row) -> None:
    """The period's LC lines: net new drawing, net reimbursement, owed at the end (USD)."""
    for a in range(program.n_accounts):
        change = st.lc_owed[a] - st.lc_open[a]
        row[st.ac[a][AL["lc_drawn"]]] = change if change > 0.0 else 0.0
        row[st.ac[a][AL["lc_reimbursed"]]] = -change if change < 0.0 else 0.0
        row[st.ac[a][AL["lc_owed"]]] = st.lc_owed[a]


def _accrue(program: Program, st: _State, t: int, row):
    """Step 2: accrue interest, add draws, refinance at maturity, set what is due."""
    k_count = program.n_tranches
    int_due, prin_due, scheduled = [0.0] * k_count, [0.0] * k_count, [0.0] * k_count
    draws = 0.0
    balance = st.balance
    for k in range(k_count):
        c = st.tc[k]
        row[c[TL["balance_open"]]] = balance[k]
        row[c[TL["rate"]]] = st.annual[k, t]
        interest = money(balance[k] * st.per_rate[k, t], program.round_to[k])   # a servicer's cents
        row[c[TL["interest_due"]]] = interest
        if program.capitalise[k, t]:
            row[c[TL["interest_capitalised"]]] = interest
            balance[k] += interest
        else:
            int_due[k] = interest
        draw = program.draw[k, t] if st.accel < 0 else 0.0   # accelerated: the commitments are cancelled
        balance[k] += draw
        draws += draw
        row[c[TL["draw"]]] = draw
        scheduled[k] = min(st.sched[k, t], balance[k])  # what DSCR counts: no balloon
        prin_due[k] = balance[k] if t == st.maturity[k] else scheduled[k]
        if t == st.maturity[k] and t < program.n_periods and (program.refi_periods[k] > 0
                                                              or program.ext_options[k] > 0):
            other = sum(balance[j] for j in range(k_count) if j != k)
            st.terms.matured[k] = t
            loan, short, fee = refinancing.at_maturity(program, st, k, t, balance[k], scheduled[k], other)
            row[c[TL["refinanced"]]] = loan
            prin_due[k] = scheduled[k] + short   # what the new loan (or extension) leaves of the balloon
            st.refi_shortfall += short
            if st.ext_undo[k] is not None:   # an extension: what its undoing restores (_maturity_cure)
                st.ext_undo[k] += (short, int_due[k], row[c[TL["interest_due"]]])
            if fee > 0.0:   # an extension fee, paid with the interest
                int_due[k] += fee
                row[c[TL["interest_due"]]] += fee
        row[c[TL["principal_due"]]] = prin_due[k]
    row[G["draws"]] = draws
    return int_due, prin_due, scheduled, draws


def _hedge_settlements(program: Program, st: _State, t: int, row) -> list:
    """Each hedge's net settlement of period t on the scenario's index (hedges.settlement).
    What the SPV owes in a period where the hedged tranche capitalises its interest is
    capitalised onto that tranche with it. Returns what is due in cash [H] (negative: the
    bank pays). Once the lenders have accelerated, every hedge has terminated."""
    out = [0.0] * program.n_hedges
    for h in range(program.n_hedges if st.accel < 0 else 0):
        c, k = st.hc[h], int(program.hedge_tranche[h])
        notional = program.hedge_notional[h, t]
        due = settlement(int(program.hedge_kind[h]), notional, program.hedge_accrual[h, t], st.index[t],
                         program.hedge_rate[h])
        row[c["notional"]], row[c["index_rate"]], row[c["net_due"]] = notional, st.index[t], due
        if program.capitalise[k, t] and due > 0.0:
            st.balance[k] += due
            row[st.tc[k][TL["interest_capitalised"]]] += due
            row[c["capitalised"]] = due
            due = 0.0
        out[h] = due
    return out


def _terminate_hedges(program: Program, st: _State, t: int, row, p: FloatPeriod, hedge_due) -> float:
    """At acceleration every hedge terminates: the early termination amount is its
    mark-to-market after period t (hedges.termination_value) plus what the SPV owed for
    the period and did not pay (a bank's payment for the period was received as a source). Owed to a bank, it is that bank's claim in the recovery; owed to the SPV,
    the bank pays it, and it is returned (it joins the lenders' recovery)."""
    received = 0.0
    for h in range(program.n_hedges):
        amount = termination_value(program, h, t, st.index) + (max(hedge_due[h], 0.0) - p.hedge_pay[h])
        row[st.hc[h]["termination"]] = amount
        if amount > 0.0:
            st.hedge_claim[h] = amount
        else:
            received -= amount
    row[G["hedge_termination_received"]] = received
    return received


def _sources(program: Program, st: _State, t: int, row, cfads: float, draws: float, lenders: bool,
             receipts: float = 0.0):
    """Step 3: release reserves into cash, add the exit sale and the hedge banks'
    settlements (`receipts`); the sponsors meet a
    shortfall as far as their support terms say (all of it where no lender is owed
    anything, and rounding dust). Returns (cash, exit proceeds, costs left unpaid)."""
    release = sum(st.reserve)
    earned = 0.0   # interest on the reserves' opening balances: cash of the period
    for a in range(program.n_accounts):
        row[st.ac[a][0]] = st.reserve[a]
        earned += st.reserve[a] * program.acct_rate[a, t]
        st.reserve[a] = 0.0
    row[G["reserve_interest"]] = earned
    exit_proceeds = 0.0
    if t == program.n_periods and program.exit_share > 0.0:  # the assets are sold at the horizon's end
        exit_proceeds = program.exit_share * asset_value(program, st.factor, t)
    row[G["exit_proceeds"]] = exit_proceeds
    cash = cfads + draws + program.equity_in[t] - program.capex[t] + release + earned + exit_proceeds + receipts
    support = unpaid = 0.0
    if cash < 0.0:
        support = -cash if not lenders or -cash <= ops.DUST else _support(program, st, -cash)
        unpaid, cash = -cash - support, 0.0
    row[G["reserve_release"]], row[G["sponsor_support"]] = release, support
    row[G["cash_available"]] = cash
    return cash, exit_proceeds, unpaid


def _support(program: Program, st: _State, shortfall: float) -> float:
    """What the sponsors pay towards a cash shortfall under their support terms."""
    if program.support_kind == 2:
        return shortfall
    if program.support_kind == 1:
        paid = min(shortfall, max(0.0, program.support_cap - st.support_used))
        st.support_used += paid
        return paid
    return 0.0


def _covenants(program: Program, st: _State, t: int, row, cfads, int_due, scheduled, unpaid=0.0, hedge_due=()):
    """Step 4: DSCR, an equity cure, lock-up, and what a default-DSCR breach past its
    cure periods does (lock-up, or acceleration after `accelerate_after` more periods);
    the tenant event and a cross-default. No cure is paid into a period another event
    accelerates (costs unpaid, the tenant, the linked obligor): a cure mends a ratio only.
    Debt service is net of hedges: the net settlements of hedges on covenant tranches.
    Each test reads the DSCR of its basis (point, trailing or forward 12 months:
    dscr_windows.py); a cure counts in the numerator of every DSCR tested this period.
    Returns (locked, cause of acceleration or 0, equity cure paid in)."""
    debt_service = sum(int_due[k] + scheduled[k] for k in range(program.n_tranches) if program.dscr_mask[k])
    debt_service += sum(due for h, due in enumerate(hedge_due) if program.dscr_mask[program.hedge_tranche[h]])
    dscr = cfads / debt_service if debt_service > ops.DUST else NAN
    tests = _dscr_tests(program, st, t, cfads, debt_service, scheduled)
    d_test = tests.get(int(program.default_basis))
    below = d_test is not None and program.default_dscr >= 0.0 and d_test[0] / d_test[1] < program.default_dscr
    tenant = bool(program.tenant_accelerates) and _tenant_event(program, st, t)
    cross = bool(program.cross_accelerates) and st.factor[ops.CH_CROSS, t] <= 0.0
    cure = 0.0
    if below and st.cure_count + 1 > program.cure_periods and not (unpaid > 0.0 or tenant or cross):
        cure = _equity_cure(program, st, t, d_test[0], d_test[1])
        if cure > 0.0:
            dscr, below = (cfads + cure) / debt_service, False
    st.cov_cfads[t] = cfads + cure if cure != 0.0 else cfads   # the trailing windows' CFADS of period t
    row[G["debt_service"]], row[G["dscr"]], row[G["equity_cure"]] = debt_service, dscr, cure
    for basis, line in ((dscr_windows.TRAILING, "dscr_historic"), (dscr_windows.FORWARD, "dscr_projected")):
        test = tests.get(basis)
        row[G[line]] = NAN if test is None else (test[0] + cure if cure != 0.0 else test[0]) / test[1]
    l_test = tests.get(int(program.lock_up_basis))
    if int(program.lock_up_basis) == dscr_windows.POINT:
        l_ratio = dscr
    elif l_test is not None:
        l_ratio = (l_test[0] + cure if cure != 0.0 else l_test[0]) / l_test[1]
    locked = (t != program.n_periods and l_test is not None and program.lock_up_dscr >= 0.0
              and l_ratio < program.lock_up_dscr)
    st.cure_count = st.cure_count + 1 if below else 0
    breach = st.cure_count > program.cure_periods
    row[G["covenant_breach"]] = float(breach)
    locked = locked or (breach and t != program.n_periods)   # a breach blocks distributions
    hedge_breach = _hedge_ratio_test(program, st, t, row)
    locked = locked or (hedge_breach and not program.hedge_ratio_accelerates and t != program.n_periods)
    row[G["lock_up"]] = float(locked)
    cause = 0
    if breach and program.breach_accelerates and st.cure_count > program.cure_periods + program.accelerate_after:
        cause = CAUSE["covenant"]
    elif hedge_breach and program.hedge_ratio_accelerates:
        cause = CAUSE["covenant"]
    elif tenant:
        cause = CAUSE["tenant"]
    elif cross:
        cause = CAUSE["cross_default"]   # the linked obligor has defaulted
    return locked, cause, cure


def _hedge_ratio_test(program: Program, st: _State, t: int, row) -> bool:
    """The hedge-ratio covenant (hedges.hedge_ratio): the live hedges' notional over the
    floating covenant tranches' opening balance; its line, and whether it is breached."""
    if program.hedge_ratio_min < 0.0:
        row[G["hedge_ratio"]] = NAN
        return False
    opening = [row[st.tc[k][TL["balance_open"]]] for k in range(program.n_tranches)]
    notional = [row[st.hc[h]["notional"]] for h in range(program.n_hedges)]
    ratio = hedge_ratio(program, t, opening, notional)
    breached = hedge_ratio_breached(program, ratio)
    row[G["hedge_ratio"]], row[G["hedge_ratio_breach"]] = ratio, float(breached)
    return breached


def _dscr_tests(program: Program, st: _State, t: int, cfads: float, debt_service: float, scheduled) -> dict:
    """{basis: (numerator, denominator)} of each DSCR a covenant tests this period (before
    any cure), where it is tested: the period's debt service and the window's are positive
    (dscr_windows.py). Also records the period in the trailing windows' history."""
    if debt_service > ops.DUST and st.first_ds < 0:
        st.first_ds = t
    st.cov_cfads[t], st.cov_ds[t] = cfads, debt_service
    out = {}
    if not debt_service > ops.DUST:
        return out
    for basis in dscr_windows.bases_used(program):
        if basis == dscr_windows.POINT:
            num, den = cfads, debt_service
        elif basis == dscr_windows.TRAILING:
            num, den = dscr_windows.trailing_sums(program, st.cov_cfads, st.cov_ds, st.first_ds, t)
        else:
            num, den = dscr_windows.forward_sums(program, st.per_rate, st.sched, st.maturity, st.balance, scheduled,
                                                 st.projected_cfads, st.index, t)
        if den > ops.DUST:
            out[basis] = (num, den)
    return out


def _equity_cure(program: Program, st: _State, t: int, cfads: float, debt_service: float) -> float:
    """The cash that lifts DSCR to the default covenant, if the sponsors may still cure."""
    if st.cures >= program.cure_max or t > program.cure_until:
        return 0.0
    need = program.default_dscr * debt_service - cfads
    if need <= 0.0 or (program.cure_max_amount >= 0.0 and need > program.cure_max_amount):
        return 0.0
    st.cures += 1
    return need


def _tenant_event(program: Program, st: _State, t: int) -> bool:
    """The lease in place stops paying: rent was earned last period, is due now, and none comes."""
    if t == 0 or program.base_rent[t] <= 0.0:
        return False
    before = program.base_rent[t - 1] * st.factor[ops.CH_RENT, t - 1]
    return before > 0.0 and program.base_rent[t] * st.factor[ops.CH_RENT, t] <= 0.0


def _write_steps(program: Program, st: _State, row, p: FloatPeriod) -> None:
    """The steps' ledger lines (step 5)."""
    for k in range(program.n_tranches):
        c = st.tc[k]
        row[c[TL["interest_paid"]]] += p.int_paid[k]
        row[c[TL["interest_capitalised"]]] += p.cap[k]
        row[c[TL["principal_paid"]]] += p.prin_paid[k]
        row[c[TL["prepayment"]]] += p.prepay[k]
    for f, due in p.fee_due_.items():
        row[st.fc[f][0]] = due
    for f, pay in p.fee_pay.items():
        row[st.fc[f][1]] = pay
    for h, pay in enumerate(p.hedge_pay):
        net = pay - max(-p.hedge_due[h], 0.0)   # paid at the step, less what the bank paid in
        row[st.hc[h]["net_paid"]] = net
        row[G["hedge_settlement"]] += net


def _accelerate(program: Program, st: _State, t: int, row, p: FloatPeriod, exit_proceeds: float,
                unpaid: float, cause: int, hedge_due=()) -> bool:
    """Step 6, at the event of default the lenders accelerate on: the claim is fixed, the
    lenders fund any costs left unpaid (a protective advance), take the cash and
    reserves, and either sell now (no time to sale, or the last period) or run the SPV in
    a workout until the sale. True when the deal ends here."""
    st.accel, st.cause, st.default_period, st.in_workout = t, cause, t, True
    st.sale_at = (best_sale(program, t, st.per_rate, st.projected_cfads, st.sale_value) if program.sale_rule
                  else min(t + program.sale_periods, program.n_periods))
    row[G["event_of_default"]] = 1.0
    for k in range(program.n_tranches):
        st.arrears[k] = p.int_due[k] - p.int_paid[k]
        st.claim_k[k] = st.balance[k] + p.paid[k] + p.int_due[k]
        row[st.tc[k][TL["claim"]]] = st.claim_k[k]
        _receive(program, st, k, t, p.int_paid[k] + p.paid[k])
    _advance(program, st, t, row, unpaid)
    pool = p.cash + sum(st.reserve) + _terminate_hedges(program, st, t, row, p, hedge_due)
    st.reserve[:] = [0.0] * program.n_accounts
    return _recover(program, st, t, row, pool, sale=t == st.sale_at, exit_proceeds=exit_proceeds)


def _workout_period(program: Program, st: _State, t: int) -> bool:
    """A period of the workout: the lenders collect the rent (in place or re-let), pay
    costs, fund any shortfall, accrue interest (contract rate plus the default margin) on
    the claim and take the net cash; at the sale period they sell. True at the sale."""
    row = st.ledger[t]
    revenue = program.base_rent[t] * st.factor[ops.CH_RENT, t]
    opex = program.opex[t] * st.factor[ops.CH_OPEX, t]
    cfads = revenue - opex
    row[G["revenue"]], row[G["opex"]], row[G["cfads"]] = revenue, opex, cfads
    row[G["workout"]], row[G["workout_costs"]] = 1.0, program.workout_cost
    for k in range(program.n_tranches):
        c = st.tc[k]
        st.discount_k[k] /= 1.0 + st.per_rate[k, t]
        rate = st.per_rate[k, t] + program.default_margin * program.accrual[k, t]
        accrued = (st.balance[k] + st.arrears[k]) * rate
        row[c[TL["balance_open"]]], row[c[TL["interest_due"]]] = st.balance[k], accrued
        st.arrears[k] += accrued
    net = cfads - program.workout_cost
    _advance(program, st, t, row, max(0.0, -net))
    cash = max(0.0, net)
    row[G["cash_available"]] = cash
    return _recover(program, st, t, row, cash, sale=t == st.sale_at, exit_proceeds=0.0)


def _advance(program: Program, st: _State, t: int, row, amount: float) -> None:
    """Lenders fund `amount` of costs: the rank-1 tranches pro rata by claim, added to
    their principal claim (a protective advance, repaid first by its rank)."""
    if amount <= 0.0:
        return
    first = min(int(r) for r in program.rank)
    members = [k for k in range(program.n_tranches) if program.rank[k] == first]
    owed = sum(st.balance[k] + st.arrears[k] for k in members)
    for k in members:
        share = amount * ((st.balance[k] + st.arrears[k]) / owed) if owed > 0.0 else amount / len(members)
        st.balance[k] += share
        row[st.tc[k][TL["draw"]]] += share
        row[G["draws"]] += share
        _receive(program, st, k, t, -share)


def _receive(program: Program, st: _State, k: int, t: int, amount: float) -> None:
    """Tranche k receives `amount` at period t (negative: it advances it): nominal and
    PV at the contract rate from the acceleration period (st.discount_k, moved on once a
    workout period)."""
    st.received_k[k] += amount
    st.pv_k[k] += amount * st.discount_k[k]


def _recover(program: Program, st: _State, t: int, row, pool: float, sale: bool, exit_proceeds: float) -> bool:
    """Apply the period's recoveries by rank; at the sale add its net proceeds and any
    guarantee, write off what is left and pay a surplus to equity. True at the sale."""
    if sale:
        # construction stops at acceleration: work in progress is what was spent by then
        at = st.accel if st.accel < program.cod_period else t
        gross = 0.0 if exit_proceeds > 0.0 else st.sale_value[at]
        net = net_sale(program, gross)
        row[G["seizure_gross"]], row[G["seizure_net"]] = gross, net
        pool += net
        if program.rvg_cap > 0.0 and st.accel <= program.rvg_until:
            owed = sum(st.arrears[k] + st.balance[k] for k in range(program.n_tranches))
            guarantee = min(program.rvg_cap * st.factor[ops.CH_RVG, st.accel], max(0.0, owed - pool))
            row[G["guarantee_paid"]] = guarantee
            pool += guarantee
    to_int, to_prin, to_hedge, pool = allocate(program, pool, st.arrears, st.balance, st.hedge_claim)
    for k in range(program.n_tranches):
        st.arrears[k] -= to_int[k]
        st.balance[k] -= to_prin[k]
        _receive(program, st, k, t, to_int[k] + to_prin[k])
    for h in range(program.n_hedges):
        st.hedge_claim[h] -= to_hedge[h]
    repaid = (all(st.balance[k] <= ops.DUST and st.arrears[k] <= ops.DUST for k in range(program.n_tranches))
              and all(claim <= ops.DUST for claim in st.hedge_claim))
    for k in range(program.n_tranches):
        c = st.tc[k]
        row[c[TL["recovery_interest"]]], row[c[TL["recovery_principal"]]] = to_int[k], to_prin[k]
        if sale or repaid:   # the final recovery: what is left (at most dust if repaid) is written off
            row[c[TL["write_off"]]] = st.balance[k]
            st.balance[k] = st.arrears[k] = 0.0
        row[c[TL["balance_close"]]], row[c[TL["interest_arrears"]]] = st.balance[k], st.arrears[k]
    for h in range(program.n_hedges):
        c = st.hc[h]
        row[c["recovery"]] = to_hedge[h]
        if sale or repaid:
            row[c["write_off"]], st.hedge_claim[h] = st.hedge_claim[h], 0.0
        row[c["claim"]] = st.hedge_claim[h]
    if sale or repaid:   # a surplus is the sponsors'
        row[G["equity_distribution"]] += pool
        st.end, st.in_workout = t, False
    return sale


def asset_value(program: Program, factor: np.ndarray, t: int) -> float:
    """Gross value of all asset components at period t under the scenario, USD."""
    return sum(program.asset_value[c, t] * factor[ops.CH_VAL_LAND + c, t] for c in range(4))


def reserve_target(program: Program, per_rate: np.ndarray, sched: np.ndarray, maturity,
                   balance, a: int, t: int, index=None) -> float:
    """Target of account a at period t: for a DSRA, the scheduled debt service of the
    next `acct_periods` periods on the covered tranches, projected from the current
    balance (no balloon), the last of them weighted by `acct_last_weight` (a target in
    months that is not whole periods), plus the net settlements of the hedges on those
    tranches projected on the scenario's index path `index` (dscr_windows.hedge_service:
    a swap's receipt lowers it), never below zero; for a fixed reserve, its target for the period (its amount, or months of cost lines). Zero
    at the last period."""
    n = program.n_periods
    if t >= n:
        return 0.0
    kind = program.acct_kind[a]
    if kind == ops.ACCOUNT_KIND["fixed"]:
        return program.acct_target[a, t]
    if kind != ops.ACCOUNT_KIND["dsra"]:
        return 0.0
    target = 0.0
    for k in range(program.n_tranches):
        if not program.acct_mask[a, k]:
            continue
        b = balance[k]
        last = t + program.acct_periods[a]
        for u in range(t + 1, min(last, n) + 1):
            if u > maturity[k]:
                break
            interest = 0.0 if program.capitalise[k, u] else b * per_rate[k, u]
            principal = min(sched[k, u], b)
            if u == last and program.acct_last_weight[a] != 1.0:   # a target in months: part of a period
                target += program.acct_last_weight[a] * (interest + principal)
            else:
                target += interest + principal
            b -= principal
    if dscr_windows.hedges_on(program, program.acct_mask[a]):
        target += dscr_windows.hedge_service(program, index, program.acct_mask[a], t,
                                             min(t + int(program.acct_periods[a]), n))
        target = max(target, 0.0)
    return target


def summarise(program: Program, st: _State) -> np.ndarray:
    """Scalar metrics of one run, in ops.METRICS order (see metrics.py for definitions)."""
    from .metrics import cash_flows, cover_ratio, dscr_summary, llcr_path

    ledger = st.ledger
    out = np.full(ops.N_METRICS, NAN)
    last = program.n_periods if st.accel < 0 else st.accel
    out[ops.M["min_dscr"]], out[ops.M["avg_dscr"]] = dscr_summary(
        ledger[: last + 1, G["dscr"]], ledger[: last + 1, G["debt_service"]])
    out[ops.M["llcr"]], out[ops.M["plcr"]] = cover_ratio(program, ledger, st.per_rate, st.projected_cfads)
    path = llcr_path(program, ledger, st.per_rate, st.projected_cfads, last)
    ledger[:, G["llcr"]] = path
    tested = path[~np.isnan(path)]
    out[ops.M["min_llcr"]] = float(tested.min()) if tested.size else NAN
    out[ops.M["default_period"]] = st.default_period
    claim, received, pv = sum(st.claim_k), sum(st.received_k), sum(st.pv_k)
    out[ops.M["lender_claim"]], out[ops.M["lender_received"]] = claim, received
    out[ops.M["recovery_rate"]] = received / claim if claim > 0.0 else NAN
    out[ops.M["recovery_rate_pv"]] = pv / claim if claim > 0.0 else NAN
    out[ops.M["lender_loss"]] = sum(max(0.0, c - r) for c, r in zip(st.claim_k, st.received_k))
    out[ops.M["lender_loss_pv"]] = sum(max(0.0, c - r) for c, r in zip(st.claim_k, st.pv_k))
    out[ops.M["default_cause"]] = st.cause
    out[ops.M["acceleration_period"]] = st.accel
    out[ops.M["recovery_periods"]] = st.end - st.accel if st.accel >= 0 else NAN
    lender, equity = cash_flows(program, ledger)
    periods_per_year = 12.0 / program.months_per_period
    out[ops.M["lender_irr"]] = annualise(irr(lender), periods_per_year)
    out[ops.M["equity_irr"]] = annualise(irr(equity), periods_per_year)
    # the XIRRs start from the periodic ones, annualised (the same root to rounding)
    out[ops.M["lender_xirr"]] = xirr(lender, program.flow_years, out[ops.M["lender_irr"]])
    out[ops.M["equity_xirr"]] = xirr(equity, program.flow_years, out[ops.M["equity_irr"]])
    out[ops.M["equity_distributions"]] = ledger[:, G["equity_distribution"]].sum()
    out[ops.M["equity_invested"]] = (ledger[:, G["equity_in"]] + ledger[:, G["sponsor_support"]]
                                     + ledger[:, G["equity_cure"]]).sum()
    if program.tax_on:
        _owner_taxes(program, ledger, out, equity, last if st.accel < 0 else st.accel - 1, periods_per_year)
    return out


def _owner_taxes(program: Program, ledger, out, equity, last: int, periods_per_year: float) -> None:
    """The owner's income tax on the periods before any acceleration (taxes.py), its
    ledger lines and the after-tax metrics."""
    income = pre_depreciation_income(program, ledger, last)
    lines = owner_tax(program, income, last, ledger[program.n_periods, G["exit_proceeds"]])
    for name, values in lines.items():
        ledger[:, G[name]] = values
    after = equity - lines["income_tax"]
    ledger[:, G["equity_after_tax"]] = after
    out[ops.M["income_tax_paid"]] = lines["income_tax"].sum()
    out[ops.M["equity_irr_after_tax"]] = annualise(irr(after), periods_per_year)


def wal(program: Program, ledger: np.ndarray) -> np.ndarray:
    """Weighted-average life of each tranche in years from financial close, weighting
    each period's principal (scheduled, prepaid, recovered) by its time."""
    years = np.arange(program.n_periods + 1) * program.months_per_period / 12.0
    out = np.full(program.n_tranches, NAN)
    for k in range(program.n_tranches):
        repaid = sum(ledger[:, ops.tranche_col(k, line)] for line in
                     ("principal_paid", "prepayment", "recovery_principal"))
        total = repaid.sum()
        if total > 0.0:
            out[k] = float((years * repaid).sum() / total)
    return out


def run_batch(program: Program, batch: ScenarioBatch):
    """Reference over every scenario of a batch: (ledgers [S,T+1,L], metrics [S,M], wal [S,K])."""
    results = [run_one(program, batch, s) for s in range(len(batch))]
    return (np.stack([r[0] for r in results]), np.stack([r[1] for r in results]),
            np.stack([r[2] for r in results]))


