"""The pure-Python reference waterfall: the oracle every faster path is tested against.

It interprets a compiled Program for one scenario, period by period, in plain Python.
Each period t = 0..T (0 is financial close):

1. revenue = scheduled rent x scenario factor; opex likewise; CFADS = revenue - opex.
2. Each tranche: interest due = opening balance x annual rate x accrual; in a
   capitalised period it is added to the balance instead of being due in cash. Draws
   are added to the balance. Principal due = min(schedule, balance), the whole
   balance at maturity, unless a refinancing can be done then (market open, next
   period's projected DSCR on the new terms >= its minimum): the loan then goes on at
   the refinancing spread, amortising straight-line, and only the schedule is due.
3. Every reserve balance is released into cash; cash = CFADS + draws + equity in -
   capex + reserves (+ the net sale proceeds at the last period if the deal has an exit). A negative cash is met by the sponsors (sponsor support).
4. DSCR = CFADS / (cash interest + scheduled principal, balloons excluded) over the
   covenant tranches, where that debt service is positive. Lock-up and default-DSCR tests read this DSCR.
5. The steps run in priority order (see ops.STEP_KINDS). A hard shortfall, or a
   default-DSCR breach past its cure periods, is an event of default.
6. On an event of default the lenders take all cash, reserves, the net seizure
   value and any residual value guarantee (up to its cap, for what is still owed), in
   tranche order, interest then principal; the rest is written off and any surplus
   goes to equity. The deal ends.
At the last period every reserve target is zero and lock-up no longer applies.
"""
from __future__ import annotations

import numpy as np

from . import ops
from .irr import annualise, irr
from .ops import G, TL
from .program import Program, ScenarioBatch

NAN = float("nan")


def scenario_factors(program: Program, batch: ScenarioBatch, s: int):
    """Per-period factors for scenario s: rent, opex, rate add-on, base rate, value [4]."""
    n = program.n_periods
    factor = np.ones((ops.N_CHANNELS, n + 1))
    factor[ops.CH_RATE_ADD] = 0.0
    for j in range(batch.adj_channel.shape[1]):
        channel = int(batch.adj_channel[s, j])
        if channel < 0:
            continue
        for t in range(int(batch.adj_from[s, j]), int(batch.adj_to[s, j]) + 1):
            if channel == ops.CH_RATE_ADD:
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


def run_one(program: Program, batch: ScenarioBatch, s: int = 0):
    """Run scenario s of the batch. Returns (ledger [T+1, lines], metrics [N_METRICS],
    wal [K] in years)."""
    n, k_count, a_count, f_count = program.n_periods, program.n_tranches, program.n_accounts, program.n_fees
    factor, base = scenario_factors(program, batch, s)
    annual, per_rate = tranche_rates(program, base, factor[ops.CH_RATE_ADD])
    projected_cfads = program.base_rent * factor[ops.CH_RENT] - program.opex * factor[ops.CH_OPEX]
    sched = program.sched.copy()          # refinancing rewrites these per scenario
    maturity = program.maturity.copy()
    ledger = np.zeros((n + 1, ops.n_lines(k_count, a_count, f_count)))
    tc = [[ops.tranche_col(k, line) for line in ops.TRANCHE_LINES] for k in range(k_count)]
    ac = [[ops.account_col(k_count, a, line) for line in ops.ACCOUNT_LINES] for a in range(a_count)]
    fc = [[ops.fee_col(k_count, a_count, f, line) for line in ops.FEE_LINES] for f in range(f_count)]

    balance = [0.0] * k_count
    reserve = [0.0] * a_count
    cure_count = 0
    default_period = -1
    claim_total = received_total = 0.0

    for t in range(n + 1):
        row = ledger[t]
        revenue = program.base_rent[t] * factor[ops.CH_RENT, t]
        opex = program.opex[t] * factor[ops.CH_OPEX, t]
        cfads = revenue - opex
        row[G["revenue"]], row[G["opex"]], row[G["cfads"]] = revenue, opex, cfads
        row[G["capex"]], row[G["equity_in"]] = program.capex[t], program.equity_in[t]

        # 2. accrue interest, add draws, set what is due
        int_due = [0.0] * k_count
        prin_due = [0.0] * k_count
        scheduled = [0.0] * k_count  # principal due without any balloon: what DSCR counts
        draws = 0.0
        for k in range(k_count):
            c = tc[k]
            row[c[TL["balance_open"]]] = balance[k]
            row[c[TL["rate"]]] = annual[k, t]
            interest = balance[k] * per_rate[k, t]
            row[c[TL["interest_due"]]] = interest
            if program.capitalise[k, t]:
                row[c[TL["interest_capitalised"]]] = interest
                balance[k] += interest
            else:
                int_due[k] = interest
            balance[k] += program.draw[k, t]
            draws += program.draw[k, t]
            row[c[TL["draw"]]] = program.draw[k, t]
            if t == maturity[k] and refinance(program, k, t, balance[k], base, factor, annual,
                                              per_rate, sched, maturity, projected_cfads):
                row[c[TL["refinanced"]]] = balance[k]
            scheduled[k] = min(sched[k, t], balance[k])
            prin_due[k] = balance[k] if t == maturity[k] else scheduled[k]
            row[c[TL["principal_due"]]] = prin_due[k]
        row[G["draws"]] = draws

        # 3. release reserves into cash
        release = sum(reserve)
        for a in range(a_count):
            row[ac[a][0]] = reserve[a]
            reserve[a] = 0.0
        exit_proceeds = 0.0
        if t == n and program.exit_share > 0.0:  # the assets are sold at the horizon's end
            exit_proceeds = program.exit_share * asset_value(program, factor, t)
        row[G["exit_proceeds"]] = exit_proceeds
        cash = cfads + draws + program.equity_in[t] - program.capex[t] + release + exit_proceeds
        support = 0.0
        if cash < 0.0:
            support, cash = -cash, 0.0
        row[G["reserve_release"]], row[G["sponsor_support"]] = release, support
        row[G["cash_available"]] = cash

        # 4. covenant tests
        debt_service = sum(int_due[k] + scheduled[k] for k in range(k_count) if program.dscr_mask[k])
        dscr = cfads / debt_service if debt_service > 0.0 else NAN
        row[G["debt_service"]], row[G["dscr"]] = debt_service, dscr
        last = t == n
        locked = (not last and debt_service > 0.0 and program.lock_up_dscr >= 0.0
                  and dscr < program.lock_up_dscr)
        row[G["lock_up"]] = float(locked)
        if debt_service > 0.0 and program.default_dscr >= 0.0 and dscr < program.default_dscr:
            cure_count += 1
        else:
            cure_count = 0
        default = cure_count > program.cure_periods

        # 5. the priority of payments
        paid = [0.0] * k_count  # principal (scheduled and prepaid) paid to tranche k this period
        equity_out = fees_paid = 0.0
        for i in range(len(program.step_op)):
            if default:
                break
            op, arg = int(program.step_op[i]), int(program.step_arg[i])
            if op == ops.OP_FEE:
                due = program.fee_due[arg, t]
                pay = min(cash, due)
                cash -= pay
                fees_paid += pay
                row[fc[arg][0]], row[fc[arg][1]] = due, pay
            elif op == ops.OP_INTEREST:
                pay = min(cash, int_due[arg])
                cash -= pay
                row[tc[arg][TL["interest_paid"]]] += pay
                shortfall = int_due[arg] - pay
                if shortfall > 0.0:
                    if program.hard[arg]:
                        default = True
                    else:
                        balance[arg] += shortfall
                        row[tc[arg][TL["interest_capitalised"]]] += shortfall
                        int_due[arg] = pay
            elif op == ops.OP_PRINCIPAL:
                pay = min(cash, prin_due[arg])
                cash -= pay
                balance[arg] -= pay
                paid[arg] += pay
                row[tc[arg][TL["principal_paid"]]] += pay
                if prin_due[arg] - pay > 0.0 and (program.hard[arg] or t == maturity[arg]):
                    default = True
            elif op == ops.OP_BORROWING_BASE:
                collateral = sum(program.asset_value[c, t] * factor[ops.CH_VAL_LAND + c, t]
                                 for c in range(4) if program.bb_mask[arg, c])
                excess = max(0.0, balance[arg] - program.bb_advance[arg] * collateral)
                pay = min(cash, excess)
                cash -= pay
                balance[arg] -= pay
                paid[arg] += pay
                row[tc[arg][TL["prepayment"]]] += pay
                if excess - pay > 0.0 and program.hard[arg]:
                    default = True
            elif op == ops.OP_RESERVE:
                target = reserve_target(program, per_rate, sched, maturity, balance, arg, t)
                reserve[arg] = min(target, cash)
                cash -= reserve[arg]
            elif op == ops.OP_SWEEP:
                share = program.step_share_locked[i] if locked else program.step_share[i]
                pay = min(cash * share, balance[arg])
                cash -= pay
                balance[arg] -= pay
                paid[arg] += pay
                row[tc[arg][TL["prepayment"]]] += pay
            elif op == ops.OP_DISTRIBUTE:
                if locked and arg >= 0:
                    reserve[arg] += cash
                else:
                    equity_out += cash
                cash = 0.0

        # 6. event of default: enforcement
        if default:
            default_period = t
            row[G["event_of_default"]] = 1.0
            gross = 0.0 if exit_proceeds > 0.0 else asset_value(program, factor, t)
            net = max(0.0, gross * (1.0 - program.fire_sale) - program.cost_share * gross
                      - program.cost_fixed) * program.sale_discount
            row[G["seizure_gross"]], row[G["seizure_net"]] = gross, net
            pool = cash + sum(reserve) + net
            reserve = [0.0] * a_count
            if program.rvg_cap > 0.0 and t <= program.rvg_until:
                owed = sum(int_due[k] - row[tc[k][TL["interest_paid"]]] + balance[k] for k in range(k_count))
                guarantee = min(program.rvg_cap * factor[ops.CH_RVG, t], max(0.0, owed - pool))
                row[G["guarantee_paid"]] = guarantee
                pool += guarantee
            for k in range(k_count):
                c = tc[k]
                unpaid_interest = int_due[k] - row[c[TL["interest_paid"]]]
                claim_total += balance[k] + paid[k] + int_due[k]
                received_total += row[c[TL["interest_paid"]]]
                rec_int = min(pool, unpaid_interest)
                pool -= rec_int
                rec_prin = min(pool, balance[k])
                pool -= rec_prin
                row[c[TL["recovery_interest"]]], row[c[TL["recovery_principal"]]] = rec_int, rec_prin
                row[c[TL["write_off"]]] = balance[k] - rec_prin
                received_total += paid[k] + rec_int + rec_prin
                balance[k] = 0.0
            equity_out += pool
            cash = 0.0

        row[G["fees_paid"]], row[G["equity_distribution"]] = fees_paid, equity_out
        row[G["reserve_funding"]] = sum(reserve)
        for k in range(k_count):
            row[tc[k][TL["balance_close"]]] = balance[k]
        for a in range(a_count):
            row[ac[a][1]] = reserve[a]
        if default:
            break

    metrics = summarise(program, ledger, per_rate, projected_cfads, default_period,
                        claim_total, received_total)
    return ledger, metrics, wal(program, ledger)


def asset_value(program: Program, factor: np.ndarray, t: int) -> float:
    """Gross value of all asset components at period t under the scenario, USD."""
    return sum(program.asset_value[c, t] * factor[ops.CH_VAL_LAND + c, t] for c in range(4))


def refinance(program: Program, k: int, t: int, balance: float, base, factor, annual, per_rate,
              sched, maturity, projected_cfads) -> bool:
    """Try to refinance tranche k at its maturity t; on success rewrite its rates,
    schedule and maturity from t+1 on (in place) and return True."""
    n, periods = program.n_periods, int(program.refi_periods[k])
    if periods <= 0 or t >= n or balance <= 0.0 or factor[ops.CH_REFI, t] <= 0.0:
        return False
    new_annual = [max(0.0, max(base[u] + factor[ops.CH_RATE_ADD, u], program.refi_floor[k])
                      + program.refi_spread[k]) for u in range(t + 1, n + 1)]
    amortisation = balance / periods
    service = balance * new_annual[0] * program.accrual[k, t + 1] + min(amortisation, balance)
    if projected_cfads[t + 1] < program.refi_min_dscr[k] * service:
        return False
    for i, u in enumerate(range(t + 1, n + 1)):
        annual[k, u] = new_annual[i]
        per_rate[k, u] = new_annual[i] * program.accrual[k, u]
        sched[k, u] = amortisation if u <= t + periods else 0.0
    maturity[k] = min(t + periods, n)
    return True


def reserve_target(program: Program, per_rate: np.ndarray, sched: np.ndarray, maturity,
                   balance, a: int, t: int) -> float:
    """Target of account a at period t: for a DSRA, the scheduled debt service of the
    next `acct_periods` periods on the covered tranches, projected from the current
    balance (no balloon); for a fixed reserve, its amount. Zero at the last period."""
    n = program.n_periods
    if t >= n:
        return 0.0
    kind = program.acct_kind[a]
    if kind == ops.ACCOUNT_KIND["fixed"]:
        return program.acct_target[a]
    if kind != ops.ACCOUNT_KIND["dsra"]:
        return 0.0
    target = 0.0
    for k in range(program.n_tranches):
        if not program.acct_mask[a, k]:
            continue
        b = balance[k]
        for u in range(t + 1, min(t + program.acct_periods[a], n) + 1):
            if u > maturity[k]:
                break
            interest = 0.0 if program.capitalise[k, u] else b * per_rate[k, u]
            principal = min(sched[k, u], b)
            target += interest + principal
            b -= principal
    return target


def summarise(program: Program, ledger: np.ndarray, per_rate: np.ndarray,
              projected_cfads: np.ndarray, default_period: int, claim: float,
              received: float) -> np.ndarray:
    """Scalar metrics of one run, in ops.METRICS order (see metrics.py for definitions)."""
    from .metrics import cash_flows, dscr_summary, cover_ratio

    out = np.full(ops.N_METRICS, NAN)
    last = program.n_periods if default_period < 0 else default_period
    out[ops.M["min_dscr"]], out[ops.M["avg_dscr"]] = dscr_summary(
        ledger[: last + 1, G["dscr"]], ledger[: last + 1, G["debt_service"]])
    out[ops.M["llcr"]], out[ops.M["plcr"]] = cover_ratio(program, ledger, per_rate, projected_cfads)
    out[ops.M["default_period"]] = default_period
    out[ops.M["lender_claim"]] = claim
    out[ops.M["lender_received"]] = received
    out[ops.M["recovery_rate"]] = received / claim if claim > 0.0 else NAN
    out[ops.M["lender_loss"]] = claim - received if default_period >= 0 else 0.0
    lender, equity = cash_flows(program, ledger)
    periods_per_year = 12.0 / program.months_per_period
    out[ops.M["lender_irr"]] = annualise(irr(lender), periods_per_year)
    out[ops.M["equity_irr"]] = annualise(irr(equity), periods_per_year)
    out[ops.M["equity_distributions"]] = ledger[:, G["equity_distribution"]].sum()
    out[ops.M["equity_invested"]] = (ledger[:, G["equity_in"]] + ledger[:, G["sponsor_support"]]).sum()
    return out


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


