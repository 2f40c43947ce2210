"""The numbers of a credit committee pack, from the engine's public results only
(`waterfall.run`, `Result.metrics`, `Result.cash_flows()`, the deal model): sources and
uses at close, the stress presets side by side, recovery and what it rested on.

Every amount is in the deal's units (USD millions); rates are annual decimals; periods
are the deal's own (1 = the first period after financial close)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# Metrics shown for each scenario: (metric, label, format).
OUTCOME_METRICS = (
    ("min_dscr", "Min DSCR", "ratio"), ("avg_dscr", "Avg DSCR", "ratio"), ("llcr", "LLCR", "ratio"),
    ("plcr", "PLCR", "ratio"), ("default_period", "Default period", "int"),
    ("recovery_rate", "Recovery", "pct"), ("recovery_rate_pv", "Recovery (PV)", "pct"),
    ("lender_loss", "Lender loss", "amount"), ("lender_irr", "Lender IRR", "pct"),
    ("equity_irr", "Equity IRR", "pct"),
)


@dataclass
class Line:
    """One line of a table: a label, a number (None: not applicable) and its format;
    `key` names the number for the page's data attributes (what a test compares)."""

    key: str
    label: str
    value: float | None
    fmt: str = "amount"


@dataclass
class SourcesUses:
    """Cash raised and spent from financial close (period 0) to the last construction
    period: sources and uses each sum to `total` (money is conserved every period)."""

    last_period: int
    sources: list = field(default_factory=list)
    uses: list = field(default_factory=list)

    @property
    def total_sources(self) -> float:
        return float(sum(line.value for line in self.sources))

    @property
    def total_uses(self) -> float:
        return float(sum(line.value for line in self.uses))


CLOSE_KEYS = {"hedge premiums": "su.hedge_premiums", "upfront fees": "su.upfront_fees",
              "closing costs": "su.closing_costs"}
"""Sources-and-uses keys of the costs at close that the ledger's capex line includes."""


def _col_sum(frame, column: str, last: int) -> float:
    return float(frame[column].iloc[: last + 1].fillna(0.0).sum()) if column in frame else 0.0


def sources_and_uses(result, construction_periods: int) -> SourcesUses:
    """Sources and uses of cash over periods 0..construction_periods (financial close to
    the period before commercial operation), from the ledger. Interest capitalised is on
    both sides: debt that funds interest during construction (IDC). Reserve releases and
    refills within the window net out to the reserves' balance at its end."""
    frame = result.cash_flows()
    last = min(construction_periods, len(frame) - 1)
    tranches = result.program.names["tranches"]
    su = SourcesUses(last_period=last)
    for name in tranches:
        su.sources.append(Line(f"su.draw.{name}", f"Debt drawn: {name}", _col_sum(frame, f"{name}.draw", last)))
    idc = sum(_col_sum(frame, f"{name}.interest_capitalised", last) for name in tranches)
    if idc:
        su.sources.append(Line("su.idc_debt", "Interest capitalised into the debt", idc))
    for key, label in (("equity_in", "Equity contributions"), ("sponsor_support", "Sponsor support"),
                       ("equity_cure", "Equity cures"), ("revenue", "Revenue before COD"),
                       ("reserve_interest", "Interest earned on reserves"),
                       ("seizure_net", "Sale proceeds on enforcement"), ("guarantee_paid", "Residual value guarantee"),
                       ("exit_proceeds", "Exit sale proceeds")):
        value = _col_sum(frame, key, last)
        if value or key == "equity_in":
            su.sources.append(Line(f"su.{key}", label, value))
    accounts = result.program.names["accounts"]
    lc_drawn = sum(_col_sum(frame, f"{name}.lc_drawn", last) for name in accounts)
    lc_reimbursed = sum(_col_sum(frame, f"{name}.lc_reimbursed", last) for name in accounts)
    if lc_drawn:   # a DSRA letter of credit drawn in the window (docs/money.md)
        su.sources.append(Line("su.lc_drawn", "Letter of credit drawn", lc_drawn))
    at_close = {k: v for k, v in (result.program.uses_at_close or {}).items() if v}
    su.uses.append(Line("su.capex", "Construction spend (capex)",
                        _col_sum(frame, "capex", last) - sum(at_close.values())))
    for name, value in at_close.items():   # costs at close inside the capex line (compile._uses_at_close)
        su.uses.append(Line(CLOSE_KEYS[name], name.capitalize() + " at close", value))
    if idc:
        su.uses.append(Line("su.idc", "Interest during construction (capitalised)", idc))
    cash_interest = sum(_col_sum(frame, f"{n}.interest_paid", last) for n in tranches)
    repaid = sum(_col_sum(frame, f"{n}.{line}", last) for n in tranches
                 for line in ("principal_paid", "prepayment", "recovery_interest", "recovery_principal"))
    reserves_end = float(frame["reserve_funding"].iloc[last]) - float(frame["reserve_release"].iloc[0])
    for key, label, value in (
            ("su.interest_paid", "Interest paid in cash", cash_interest),
            ("su.repaid", "Debt repaid", repaid),
            ("su.opex", "Operating costs", _col_sum(frame, "opex", last)),
            ("su.fees", "Fees", _col_sum(frame, "fees_paid", last)),
            ("su.workout_costs", "Workout costs", _col_sum(frame, "workout_costs", last)),
            ("su.lc_reimbursed", "Letter of credit reimbursed", lc_reimbursed),
            ("su.reserves", "Reserves funded (balance at the end)", reserves_end),
            ("su.distributions", "Distributions to equity", _col_sum(frame, "equity_distribution", last))):
        if value:
            su.uses.append(Line(key, label, value))
    return su


@dataclass
class Outcome:
    """One scenario's run: its metrics and, if the lenders accelerated, the recovery's basis."""

    scenario: str
    description: str
    metrics: dict
    basis: dict | None = None


def recovery_basis(deal, result) -> dict | None:
    """What a recovery rested on, from the ledger and the deal's enforcement terms: the
    cause, the default date, the workout length, the sale period and the gross and net
    sale value, whether a lease was paying at the sale (so an appraisal took the income
    approach) or the campus was dark (the dark value), and the valuation terms."""
    m = result.metrics
    if m["default_period"] is None:
        return None
    frame = result.cash_flows()
    sold = frame.index[frame["seizure_gross"].fillna(0.0) > 0].tolist()
    sale = sold[-1] if sold else None
    enf = deal.enforcement
    val = enf.valuation
    if sale is None:
        approach = "no asset sale (the claim was met from cash and reserves)"
    elif val.method == "replacement_cost":
        approach = "depreciated replacement cost of the components"
    elif float(frame["revenue"].iloc[sale]) > 0:
        approach = (f"income approach: a lease was paying at the sale (projected CFADS at "
                    f"{val.discount_rate:.2%}, residual at a {val.exit_cap_rate:.2%} cap rate)")
    else:
        approach = (f"dark value: market net rent capitalised at {val.exit_cap_rate:.2%} after "
                    f"{val.relet_months} months of re-letting")
    if val.method == "appraisal" and val.replacement_floor:
        approach += f"; floor {val.replacement_floor:.0%} of replacement cost"
    return {
        "cause": m["default_cause"], "date": m["default_date"], "workout_periods": m["recovery_periods"],
        "sale_period": sale, "sale_gross": float(frame["seizure_gross"].sum()),
        "sale_net": float(frame["seizure_net"].sum()), "guarantee": float(frame["guarantee_paid"].sum()),
        "approach": approach, "fire_sale_discount": enf.fire_sale_discount,
        "months_to_sale": enf.months_to_sale, "method": val.method,
    }


def outcomes(deal, scenarios, engine: str = "auto") -> list[Outcome]:
    """Each scenario (names, presets or Scenario objects) run alone, as
    `waterfall run DEAL --scenario NAME` runs it."""
    from ..engine import resolve_scenario, run

    out = []
    for name in scenarios:
        scen = resolve_scenario(deal, name)
        result = run(deal, scen, engine=engine)
        out.append(Outcome(scen.name, scen.description, result.metrics, recovery_basis(deal, result)))
    return out


def finite(value) -> float | None:
    """A number fit to print, or None (NaN, inf, a missing metric)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
