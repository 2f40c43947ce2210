"""The metrics as formulas over the two sheets (definitions: waterfall/metrics.py and
reference.summarise), each cell caching the engine's value. The recovery metrics read
the carried rows at the last period: the claim at the (last) acceleration and what each
tranche received since, nominal and discounted at its contract rate."""
from __future__ import annotations

import math

from ... import ops
from ...irr import NOISE, irr as periodic_irr
from ...metrics import cash_flows as engine_cash_flows
from ..cells import EMPTY, IF, MAX, SUM_SEQ, X
from .grid import A, Model, T
from .layout_enforce import cause_legend


def _val(v):
    return "" if v is None or v == "" or (isinstance(v, float) and math.isnan(v)) else float(v)


def _cached(expr: X, value) -> X:
    """The formula of `expr` with the engine's value cached."""
    return X(_val(value), expr.f)


def _dscr_and_cover(model: Model, m) -> list:
    program, cf, inputs = model.program, model.cf, model.inputs
    tested = cf.range("dscr_tested")
    out = [("min_dscr", "Minimum DSCR", "ratio",
            X(_val(m["min_dscr"]), f'IF(COUNT({tested})=0,"",MIN({tested}))')),
           ("avg_dscr", "Average DSCR", "ratio",
            X(_val(m["avg_dscr"]), f'IF(COUNT({tested})=0,"",AVERAGE({tested}))'))]
    covered = [k for k in range(program.n_tranches) if program.dscr_mask[k]]
    p0 = program.cod_period
    if covered and p0 <= program.n_periods:
        debt = SUM_SEQ(cf.ref(T(k, "balance_open"), p0, qualified=True) for k in covered)
        disc = inputs.range("discount") if "discount" in inputs.index else cf.range("discount")
        pc, life = inputs.range("proj_cfads"), inputs.range("loan_life")
        npv = f"SUMPRODUCT({pc},{disc},{life})"
        dsra = [a for a in range(program.n_accounts) if int(program.acct_kind[a]) == 0]
        if program.llcr_dsra and dsra:
            npv += "+" + "+".join(cf.ref(A(a, "balance_open"), p0, qualified=True).f for a in dsra)
        out.append(("llcr", "LLCR (at COD)", "ratio",
                    X(_val(m["llcr"]), f'IF({debt.f}>{ops.DUST!r},({npv})/({debt.f}),"")')))
        path = cf.range("L:llcr")
        out.append(("min_llcr", "Minimum LLCR (each calculation date to the acceleration)", "ratio",
                    X(_val(m["min_llcr"]), f'IF(COUNT({path})=0,"",MIN({path}))')))
        out.append(("plcr", "PLCR (at COD)", "ratio",
                    X(_val(m["plcr"]), f'IF({debt.f}>{ops.DUST!r},SUMPRODUCT({pc},{disc})/({debt.f}),"")')))
    else:
        out.append(("llcr", "LLCR (at COD)", "ratio", X("", '""')))
        out.append(("min_llcr", "Minimum LLCR", "ratio", X("", '""')))
        out.append(("plcr", "PLCR (at COD)", "ratio", X("", '""')))
    return out


def recovery_metrics(model: Model) -> list:
    """[(key, label, fmt, X)]: the default and recovery metrics over the carried rows at
    the last period, with the values the formulas give (metric_formulas caches the
    engine's)."""
    program, cf = model.program, model.cf
    n, K = program.n_periods, range(program.n_tranches)
    at = lambda key: cf.ref(key, n, qualified=True)  # noqa: E731
    accel = at("accel_at")
    accelerated = accel > -1
    claim = SUM_SEQ(at(f"t{k}.claim_at") for k in K)
    received = SUM_SEQ(at(f"t{k}.received") for k in K)
    pv = SUM_SEQ(at(f"t{k}.pv") for k in K)
    return [
        ("default_period", "Default period", "int", IF(accelerated, accel, EMPTY)),
        ("lender_claim", "Lenders' claim at default", "amount", claim),
        ("lender_received", "Lenders received from the acceleration (nominal, less advances)", "amount", received),
        ("recovery_rate", "Recovery rate", "pct", IF(claim > 0, received / claim, EMPTY)),
        ("lender_loss", "Lenders' loss", "amount",
         SUM_SEQ(MAX(0, at(f"t{k}.claim_at") - at(f"t{k}.received")) for k in K)),
        ("default_cause", f"Default cause ({cause_legend()})", "int", IF(accelerated, at("cause_at"), EMPTY)),
        ("acceleration_period", "Acceleration period", "int", IF(accelerated, accel, EMPTY)),
        ("recovery_rate_pv", "Recovery rate (PV at the contract rates, to the acceleration)", "pct",
         IF(claim > 0, pv / claim, EMPTY)),
        ("recovery_periods", "Periods from acceleration to the final recovery", "int",
         IF(accelerated, at("end_at") - accel, EMPTY)),
        ("lender_loss_pv", "Lenders' loss (PV)", "amount",
         SUM_SEQ(MAX(0, at(f"t{k}.claim_at") - at(f"t{k}.pv")) for k in K)),
    ]


def _engine_value(result, key):
    """The engine's metric: its number (default_cause is a code; none is blank)."""
    value = float(result.metric_values[ops.M[key]])
    if key == "default_cause":
        return "" if value <= 0 else value
    if key in ("default_period", "acceleration_period", "recovery_periods"):
        return "" if not value >= 0 else value
    return value


def _signed(flows: str, expr: str) -> str:
    """`expr` (an IRR or XIRR) only where the flows have both signs beyond the engine's
    noise (irr.NOISE): without both there is no root, and a spreadsheet XIRR whose first
    flow is 0 can still "converge" towards an infinite rate (LibreOffice returned 2e13
    for the flows 0, -613, 0, ...)."""
    noise = f"{NOISE:.12f}".rstrip("0")
    return f'IF(AND(COUNTIF({flows},">{noise}")>0,COUNTIF({flows},"<-{noise}")>0),{expr},"")'


def _xirr_cells(model: Model, m) -> list:
    """Lender and equity XIRR: the spreadsheet XIRR on the flows and the Inputs sheet's
    payment dates (ACT/365F from the first date, as the engine), from the engine's root
    (then fallback guesses, as for the IRR)."""
    dates = model.inputs.range("pay_date")
    out = []
    for key, label, row in (("lender_xirr", "Lender XIRR (actual dates, ACT/365F)", "lender_cf"),
                            ("equity_xirr", "Equity XIRR (actual dates, ACT/365F)", "equity_cf")):
        guess = 0.1 if m[key] is None or math.isnan(m[key]) else m[key]
        expr = '""'
        for g in (-0.1, 0.01, guess):
            expr = f"IFERROR(XIRR({model.cf.range(row)},{dates},{g!r}),{expr})"
        out.append((key, label, "pct", X(_val(m[key]), _signed(model.cf.range(row), expr))))
    return out


def _tax_cells(model: Model, m, ppy) -> list:
    """Income tax paid and the after-tax equity IRR (reference._owner_taxes)."""
    r = model.cf.range
    guess = periodic_irr(model.cf.values("L:equity_after_tax"))
    guess = 0.1 if math.isnan(guess) else guess
    irr_expr = '""'
    for g in (-0.1, -0.02, 0.01, guess):
        irr_expr = f"IFERROR(IRR({r('L:equity_after_tax')},{g!r}),{irr_expr})"
    return [("income_tax_paid", "Income tax paid (owner level)", "amount",
             X(_val(m["income_tax_paid"]), f"SUM({r('L:income_tax')})")),
            ("equity_irr_after_tax", "Equity IRR after tax (annualised)", "pct",
             X(_val(m["equity_irr_after_tax"]),
               _signed(r('L:equity_after_tax'), f'IFERROR((1+{irr_expr})^{ppy}-1,"")')))]


def metric_formulas(model: Model, result) -> list:
    """[(key, label, fmt, X)]: the metrics as formulas over the two sheets, each with the
    engine's value. Ranges are qualified, so they can sit on any sheet."""
    program, cf, inputs = model.program, model.cf, model.inputs
    m = result.metrics
    ppy = 12 // program.months_per_period if 12 % program.months_per_period == 0 else 12 / program.months_per_period
    r = cf.range
    out = _dscr_and_cover(model, m)
    recovery = {key: (key, label, fmt, _cached(x, _engine_value(result, key)))
                for key, label, fmt, x in recovery_metrics(model)}
    out += [recovery[key] for key in ("default_period", "lender_claim", "lender_received", "recovery_rate",
                                      "lender_loss")]
    lender, equity = engine_cash_flows(program, result.ledger)
    for key, label, flows, row in (("lender_irr", "Lender IRR (annualised)", lender, "lender_cf"),
                                   ("equity_irr", "Equity IRR (annualised)", equity, "equity_cf")):
        guess = periodic_irr(flows)
        guess = 0.1 if math.isnan(guess) else guess
        # the engine's own root first; if an analyst's change moves the root out of its
        # reach, LibreOffice/Excel IRR gets further guesses (positive, then negative rates)
        irr_expr = '""'
        for g in (-0.1, -0.02, 0.01, guess):
            irr_expr = f"IFERROR(IRR({r(row)},{g!r}),{irr_expr})"
        out.append((key, label, "pct", X(_val(m[key]), _signed(r(row), f'IFERROR((1+{irr_expr})^{ppy}-1,"")'))))
    out += _xirr_cells(model, m)
    out.append(("equity_distributions", "Equity distributions", "amount",
                X(_val(m["equity_distributions"]), f"SUM({r('L:equity_distribution')})")))
    out.append(("equity_invested", "Equity invested (incl. sponsor support and equity cures)", "amount",
                X(_val(m["equity_invested"]),
                  f"SUM({r('L:equity_in')})+SUM({r('L:sponsor_support')})+SUM({r('L:equity_cure')})")))
    out += [recovery[key] for key in ("default_cause", "acceleration_period", "recovery_rate_pv",
                                      "recovery_periods", "lender_loss_pv")]
    if program.tax_on:
        out += _tax_cells(model, m, ppy)
    years = inputs.range("years")
    for k, name in enumerate(program.names["tranches"]):
        rep = r(f"t{k}.repaid")
        out.append((f"wal_{k}", f"WAL {name} (years)", "years",
                    X(_val(m["wal_years"][name]), f'IF(SUM({rep})>0,SUMPRODUCT({years},{rep})/SUM({rep}),"")')))
    return out
