"""An independent peer: NREL's System Advisor Model (SAM), its Single Owner financial
model (PySAM.Singleowner), run for real on a deal both models can express.

A `Case` states the deal once; `run_sam` builds SAM's inputs from it and `engine_deal`
the engine's deal file (as plain data). SAM is annual and in dollars; the engine runs
the same deal in annual periods and USD millions. Every SAM feature the engine has no
counterpart for is switched off (inflation, degradation, insurance, salvage, working
capital and receivables reserves, equipment reserves, state tax, incentives, closing
costs, construction financing, salvage unless the case states it); docs/sam.md lists the conventions and why.

Units: SAM's dollars are the engine's USD millions x 1e6 (`SCALE`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import numpy as np

SCALE = 1e6          # dollars per USD million
HOURS = 8760
KW = 1000.0          # a flat 1 MW output: 8.76 GWh a year
ENERGY = KW * HOURS  # kWh a year

# SAM's depreciation classes -> (engine component class, engine rule). Each class's
# share of the cost is its SAM allocation; the engine holds it as an asset component.
SAM_CLASSES = {
    "macrs_5": ("it", {"method": "macrs_5"}),
    "macrs_15": ("mep", {"method": "macrs_15"}),
    "sl_39": ("shell", {"method": "macrs_39"}),
    "sl_20": ("land", {"method": "straight_line", "years": 20}),
}


@dataclass(frozen=True)
class Case:
    """One configuration both models express. Amounts in USD millions, rates decimals."""

    name: str
    years: int = 15                 # analysis period (operating years after close)
    cost: float = 100.0             # total installed cost, paid at close
    revenue: float = 14.0           # first-year revenue (PPA price x energy)
    growth: float = 0.02            # revenue escalation a year
    opex: float = 3.0               # first-year fixed O&M
    opex_growth: float = 0.0        # its escalation a year
    rate: float = 0.07              # term loan interest rate, annual
    tenor: int = 10                 # years
    debt: str = "dscr"              # "dscr": sized and sculpted to `dscr`; "gearing": `gearing` x cost
    dscr: float = 1.30
    gearing: float = 0.60
    payment: str = "level"          # with gearing: "level" (equal payments) or "straight" (equal principal)
    moratorium: int = 0             # interest-only years before amortisation
    dsra_months: int = 0            # debt service reserve: months of the next year's P&I (0: none)
    tax_rate: float = 0.0           # federal income tax rate
    state_tax_rate: float = 0.0     # state income tax rate (deductible from the federal base)
    allocation: dict = field(default_factory=lambda: {"macrs_5": 1.0})  # depreciation class -> share of cost
    bonus: dict = field(default_factory=dict)   # depreciation class -> bonus share (SAM: a federal bonus % x flags)
    property_tax: tuple | None = None            # (rate, assessed share, annual decline), decimals
    salvage: float = 0.0            # net salvage at the end, a share of the cost (the engine: an exit sale)

    def replace(self, **kw) -> "Case":
        return dataclasses.replace(self, **kw)


def run_sam(case: Case) -> dict:
    """Run SAM's Single Owner on the case; its outputs (arrays by year 0..years, dollars)."""
    import PySAM.Singleowner as Singleowner

    m = Singleowner.default("CustomGenerationProfileSingleOwner")
    _neutral(m, case)
    fp = m.FinancialParameters
    fp.analysis_period = case.years
    fp.term_int_rate = case.rate * 100.0
    fp.term_tenor = case.tenor
    fp.debt_option = 1 if case.debt == "dscr" else 0
    fp.dscr = case.dscr
    fp.dscr_limit_debt_fraction = 0
    fp.debt_percent = case.gearing * 100.0
    fp.payment_option = 0 if case.payment == "level" else 1
    fp.loan_moratorium = case.moratorium
    fp.dscr_reserve_months = case.dsra_months
    fp.salvage_percentage = case.salvage * 100.0
    fp.federal_tax_rate = [case.tax_rate * 100.0]
    fp.state_tax_rate = [case.state_tax_rate * 100.0]
    rate, assessed, decline = case.property_tax or (0.0, 1.0, 0.0)
    fp.property_tax_rate = rate * 100.0
    fp.prop_tax_cost_assessed_percent = assessed * 100.0
    fp.prop_tax_assessed_decline = decline * 100.0
    m.SystemCosts.total_installed_cost = case.cost * SCALE
    m.SystemCosts.om_fixed = [case.opex * SCALE]
    m.SystemCosts.om_fixed_escal = case.opex_growth * 100.0
    m.Revenue.ppa_price_input = [case.revenue * SCALE / ENERGY]
    m.Revenue.ppa_escalation = case.growth * 100.0
    _depreciation(m, case)
    m.execute(0)
    return m.Outputs.export()


def _neutral(m, case: Case) -> None:
    """Switch off what the engine has no counterpart for (module doc)."""
    fp = m.FinancialParameters
    fp.inflation_rate = 0.0
    m.Lifetime.inflation_rate = 0.0
    m.Lifetime.system_use_lifetime_output = 0
    fp.insurance_rate = 0.0
    fp.construction_financing_cost = 0.0
    fp.cost_debt_closing = 0.0
    fp.cost_debt_fee = 0.0
    fp.cost_other_financing = 0.0
    fp.equip1_reserve_cost = fp.equip2_reserve_cost = fp.equip3_reserve_cost = 0.0
    fp.months_receivables_reserve = 0.0
    fp.months_working_reserve = 0.0
    fp.reserves_interest = 0.0
    m.SystemOutput.gen = [KW] * HOURS
    m.SystemOutput.degradation = [0.0]
    m.Revenue.ppa_soln_mode = 1                 # the PPA price is an input, not solved for
    m.Revenue.ppa_multiplier_model = 1          # hourly factors, all 1: a flat price
    m.Revenue.dispatch_factors_ts = [1.0] * HOURS
    sc = m.SystemCosts
    sc.om_capacity = [0.0]
    sc.om_production = [0.0]
    sc.om_fuel_cost = [0.0]
    ti = m.TaxCreditIncentives
    ti.itc_fed_percent = ti.itc_sta_percent = [0.0]
    ti.itc_fed_amount = ti.itc_sta_amount = [0.0]
    ti.ptc_fed_amount = ti.ptc_sta_amount = [0.0]
    pi = m.PaymentIncentives
    for name in dir(pi):
        if (name.startswith(("cbi_", "ibi_", "pbi_")) and ("amount" in name or "percent" in name)
                and not name.endswith(("tax_fed", "tax_sta", "deprbas_fed", "deprbas_sta", "maxvalue",
                                       "term", "escal"))):
            setattr(pi, name, [0.0] if isinstance(getattr(pi, name), tuple) else 0.0)


def _depreciation(m, case: Case) -> None:
    """SAM's allocation of the depreciable basis by class, and bonus depreciation: SAM has
    one federal bonus % and a flag per class, so every bonused class shares one share."""
    d = m.Depreciation
    for name in ("custom", "macrs_15", "macrs_5", "sl_15", "sl_20", "sl_39", "sl_5"):
        setattr(d, f"depr_alloc_{name}_percent", 100.0 * case.allocation.get(name, 0.0))
        setattr(d, f"depr_bonus_fed_{name}", 1.0 if name in case.bonus else 0.0)
        setattr(d, f"depr_bonus_sta_{name}", 1.0 if name in case.bonus else 0.0)   # state as federal
        setattr(d, f"depr_itc_fed_{name}", 0.0)
        setattr(d, f"depr_itc_sta_{name}", 0.0)
    shares = set(case.bonus.values())
    assert len(shares) <= 1, "SAM has one federal bonus share for every class"
    d.depr_bonus_fed = 100.0 * (shares.pop() if shares else 0.0)
    d.depr_bonus_sta = d.depr_bonus_fed


def engine_deal(case: Case) -> dict:
    """The same deal as the engine's deal file (plain data): annual periods, the cost at
    close, a lease for the revenue, fixed opex, one fixed-rate term loan (30/360: an
    accrual of exactly one year), interest - principal - [DSRA] - distribute."""
    components = {}
    for cls, share in case.allocation.items():
        component, _rule = SAM_CLASSES[cls]
        components[component] = {"cost": case.cost * share}
    tranche = {"name": "term loan", "rate": {"kind": "fixed", "annual": case.rate}, "day_count": "30/360",
               "maturity_period": case.tenor, "capitalise_interest": "never",
               "interest_only_periods": case.moratorium}
    if case.debt == "dscr":
        tranche["sizing"] = {"target_dscr": case.dscr, "tenor_periods": case.tenor - case.moratorium}
        tranche["amortisation"] = {"kind": "sculpted", "target_dscr": case.dscr}
    else:
        kind = "level_payment" if case.payment == "level" else "straight_line"
        tranche["amount"] = case.gearing * case.cost
        tranche["amortisation"] = {"kind": kind, "periods": case.tenor - case.moratorium}
    steps = [{"step": "interest", "tranche": "term loan"}, {"step": "principal", "tranche": "term loan"}]
    deal = {
        "deal": {"name": f"sam-{case.name}", "units": "USD millions", "kind": "example",
                 "assumptions": ["Every figure is a test configuration shared with NREL SAM (tests/sam_peer.py)."]},
        "timeline": {"financial_close": dt.date(2026, 1, 15), "period": "year", "construction_periods": 0,
                     "operating_periods": case.years},
        "assets": [{"name": "plant", "spend": "at_close", **components}],
        "leases": [{"tenant": "offtaker", "annual_rent": case.revenue, "term_months": 12 * case.years,
                    "escalation": case.growth, "escalation_every_months": 12}],
        "opex": [{"name": "fixed O&M", "annual_amount": case.opex, "escalation": case.opex_growth}],
        "tranches": [tranche], "equity": {"sponsors": {"owner": 1.0}}, "waterfall": steps,
    }
    if case.dsra_months:
        deal["accounts"] = [{"name": "dsra", "kind": "dsra", "target_months": case.dsra_months,
                             "tranches": ["term loan"], "funded_at_close": True}]   # as SAM funds it
        steps.append({"step": "reserve", "account": "dsra"})
    steps.append({"step": "distribute"})
    if case.salvage:   # components keep their value (constant curves): the sale fetches salvage x cost
        deal["exit"] = {"value_share": case.salvage, "cost_share": 0.0}
    if case.tax_rate or case.state_tax_rate or case.property_tax:
        deal["tax"] = _engine_tax(case)
    return deal


def _engine_tax(case: Case) -> dict:
    """SAM's taxes in the engine's terms: losses offset the owner's other income at once
    (SAM's Single Owner books a negative tax), interest deductible."""
    depreciation = {}
    for cls in case.allocation:
        component, rule = SAM_CLASSES[cls]
        depreciation[component] = {**rule, "bonus": case.bonus.get(cls, 0.0)}
    tax = {"rate": case.tax_rate, "state_rate": case.state_tax_rate, "losses": "offset", "interest_deductible": True, "depreciation": depreciation}
    if case.property_tax:
        rate, assessed, decline = case.property_tax
        tax["property_tax"] = {"rate": rate, "assessed_share": assessed, "annual_decline": decline}
    return tax


def sam_series(out: dict, years: int) -> dict:
    """SAM's outputs in the engine's units and signs, by year 0..years."""
    def arr(key):
        return np.asarray(out[key], dtype=float)[: years + 1] / SCALE
    return {
        "debt": out["size_of_debt"] / SCALE,
        "interest": arr("cf_debt_payment_interest"),
        "principal": arr("cf_debt_payment_principal"),
        "dscr": np.asarray(out["cf_pretax_dscr"], dtype=float)[: years + 1],
        "cfads": arr("cf_cash_for_ds"),
        "equity_pretax": arr("cf_project_return_pretax"),
        "equity_after_tax": arr("cf_project_return_aftertax"),
        # SAM's cf_fedtax and cf_statax are the owner's benefit (+) or cost (-)
        "income_tax": -(arr("cf_fedtax") + arr("cf_statax")),
        "depreciation": arr("cf_feddepr_total"),
        "property_tax": arr("cf_property_tax_expense"),
        "irr_pretax": float(out["cf_project_return_pretax_irr"][years]) / 100.0,
        "irr_after_tax": float(out["project_return_aftertax_irr"]) / 100.0,
    }


def engine_series(result) -> dict:
    """The engine's result in the same shape as sam_series."""
    from waterfall import ops

    program, ledger = result.program, np.asarray(result.ledger)
    col = lambda line: ledger[:, ops.G[line]]                                   # noqa: E731
    tcol = lambda line: ledger[:, ops.tranche_col(0, line)]                      # noqa: E731
    equity = col("equity_distribution") - col("equity_in")
    m = result.metrics
    return {
        "debt": float(program.amounts[0]),
        "interest": tcol("interest_paid"),
        "principal": tcol("principal_paid") + tcol("prepayment"),
        "dscr": np.where(col("debt_service") > 0.0, col("dscr"), 0.0),
        "cfads": np.where(col("debt_service") > 0.0, col("cfads"), 0.0),
        "equity_pretax": equity,
        "equity_after_tax": col("equity_after_tax") if program.tax_on else equity,
        "income_tax": col("income_tax"),
        "depreciation": col("depreciation"),
        "property_tax": program.property_tax,
        "irr_pretax": m["equity_irr"],
        "irr_after_tax": m["equity_irr_after_tax"] if program.tax_on else m["equity_irr"],
    }


def max_rel(engine, sam, floor: float = 1e-6) -> float:
    """Largest relative difference |engine - sam| / max(|sam|, floor) over the values
    (floor: USD 1 in USD millions, so a zero against a zero is no difference)."""
    a, b = np.atleast_1d(np.asarray(engine, dtype=float)), np.atleast_1d(np.asarray(sam, dtype=float))
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor))) if a.size else 0.0
