"""Taxes (docs/taxes.md): compiled once from the deal's `[tax]` section, and the
owner-level income tax the reference applies to a run's ledger. The Cython kernel has
its twin (ext/_kernel.pyx, owner_tax); the workbook writes the same rule as formulas
(waterfall/output/formulas/taxes.py).

Owner level: income tax is computed on the equity's side after the debt waterfall. It
never changes what the lenders receive or the DSCR; it turns the equity's pre-tax
cash flows into after-tax ones. Property tax is different: an operating cost of the
SPV, it is compiled into opex (in CFADS, before debt service).

Taxable income of period t, while the lenders have not accelerated (t before the
acceleration period; from it on the SPV is the lenders' and no owner tax is modelled):

    CFADS_t (revenue - opex, property tax included)
    - fees paid_t - net hedge settlements paid_t
    - cash interest paid_t (when interest is deductible; capitalised interest is not)
    - tax depreciation_t
    + the gain on an exit sale: net exit proceeds_t - the undepreciated basis

Income tax_t = rate x taxable income_t, where with `losses = "offset"` a loss is used
at once against the owner's other income (a negative tax: a benefit), and with
`carry_forward` a loss is carried forward (NOL) and used against later taxable income,
up to `nol_limit` of each period's; unused losses expire with the horizon.
"""
from __future__ import annotations

import numpy as np

from . import ops
from .model.deal import Deal
from .ops import G

LOSSES = {"carry_forward": 0, "offset": 1}


def depreciation_schedule(deal: Deal, n: int, months: int, cod: int) -> np.ndarray:
    """Tax depreciation per period [T+1], USD: each component class's cost (summed over
    the assets) times its schedule's share for tax year y (year 1 starts at COD, the
    asset placed in service), spread evenly over that year's periods. Depreciation
    past the horizon is not taken."""
    out = np.zeros(n + 1)
    tax = deal.tax
    if tax is None:
        return out
    per_year = 12 // months if 12 % months == 0 else None
    for name, rule in tax.depreciation.items():
        basis = sum(getattr(a, name).cost for a in deal.assets if getattr(a, name) is not None)
        for year, share in enumerate(rule.shares()):
            _spread(out, basis * share, year, per_year, months, cod, n)
    return out


def _spread(out: np.ndarray, amount: float, year: int, per_year, months: int, cod: int, n: int) -> None:
    """Add tax year `year`'s (0-based) annual `amount` to its periods from COD."""
    if per_year is None:   # periods longer than a year: whole tax years fall in each
        t = cod + (year * 12) // months
        if t <= n:
            out[t] += amount
        return
    first = cod + year * per_year
    for t in range(first, min(first + per_year, n + 1)):
        out[t] += amount / per_year


def property_tax_schedule(deal: Deal, n: int, months: int, cod: int) -> np.ndarray:
    """Property tax per period [T+1], USD: rate x assessed value, the assessed value
    assessed_share x the total asset cost less annual_decline of it per year after the
    first (never below zero), from COD, a year's tax spread over its periods."""
    out = np.zeros(n + 1)
    tax = deal.tax
    if tax is None or tax.property_tax is None:
        return out
    pt = tax.property_tax
    assessed = pt.assessed_share * sum(a.cost for a in deal.assets)
    for t in range(cod, n + 1):
        year = ((t - cod) * months) // 12
        out[t] = pt.rate * assessed * max(0.0, 1.0 - pt.annual_decline * year) * months / 12.0
    return out


def effective_rate(tax) -> float:
    """The rate charged: state tax, deductible from the federal taxable income on the same
    base, plus federal tax on the rest: state + federal x (1 - state)."""
    return tax.state_rate + tax.rate * (1.0 - tax.state_rate)


def compile_tax(deal: Deal, n: int, months: int, cod: int) -> dict:
    """The Program's tax fields (waterfall/program.py)."""
    tax = deal.tax
    if tax is None:
        return dict(tax_on=0, tax_depreciation=np.zeros(n + 1), property_tax=np.zeros(n + 1))
    return dict(tax_on=1, tax_rate=effective_rate(tax), tax_interest=int(tax.interest_deductible),
                tax_offset=LOSSES[tax.losses], tax_nol_limit=tax.nol_limit,
                tax_basis=float(sum(a.cost for a in deal.assets)),
                tax_depreciation=depreciation_schedule(deal, n, months, cod),
                property_tax=property_tax_schedule(deal, n, months, cod))


def pre_depreciation_income(program, ledger: np.ndarray, last: int) -> np.ndarray:
    """Taxable income before depreciation and the exit gain [T+1] (see the module doc),
    zero from the acceleration on (periods after `last`)."""
    income = ledger[:, G["cfads"]] - ledger[:, G["fees_paid"]] - ledger[:, G["hedge_settlement"]]
    if program.tax_interest:
        for k in range(program.n_tranches):
            income = income - ledger[:, ops.tranche_col(k, "interest_paid")]
    income = np.array(income, dtype=float)
    income[last + 1:] = 0.0
    return income


def owner_tax(program, income: np.ndarray, last: int, exit_proceeds: float) -> dict:
    """Per period [T+1]: depreciation taken, taxable income, the loss carried forward
    (closing NOL) and the income tax, for periods 0..last (see the module doc)."""
    width = program.n_periods + 1
    out = {key: np.zeros(width) for key in ("depreciation", "taxable_income", "tax_loss_carried", "income_tax")}
    nol, left = 0.0, program.tax_basis
    for t in range(last + 1):
        dep = program.tax_depreciation[t]
        left -= dep
        taxable = income[t] - dep
        if t == program.n_periods and exit_proceeds > 0.0:
            taxable += exit_proceeds - left
        if program.tax_offset:
            tax = program.tax_rate * taxable
        elif taxable < 0.0:
            nol, tax = nol - taxable, 0.0
        else:
            used = min(nol, program.tax_nol_limit * taxable)
            nol, tax = nol - used, program.tax_rate * (taxable - used)
        out["depreciation"][t], out["taxable_income"][t] = dep, taxable
        out["tax_loss_carried"][t], out["income_tax"][t] = nol, tax
    return out
