"""The engine against an independent peer: NREL's System Advisor Model (SAM), its Single
Owner financial model (PySAM.Singleowner), run for real on configurations both express
(tests/sam_peer.py builds each model's inputs from one Case). Compared per year to 1e-6
relative: debt size, interest, principal, DSCR, CFADS, equity cash flows before and
after tax, income tax, tax depreciation, property tax; the IRRs against the IRR of
SAM's own cash flows (numpy-financial) and SAM's reported IRR (which SAM solves only to
about 1e-6: docs/sam.md). Conventions that differ are in docs/sam.md, with why.

Nothing here is pasted from the engine: every expected value is SAM's output.
"""
from __future__ import annotations

import functools

import numpy as np
import numpy_financial as npf
import pytest

import waterfall
from waterfall.load import deal_from_data

from .sam_peer import Case, engine_deal, engine_series, max_rel, run_sam, sam_series

# no importorskip: nrel-pysam is in the [test] extra, and a peer that silently skips checks nothing
import PySAM.Singleowner  # noqa: E402,F401

TOL = 1e-6
SAM_IRR_TOL = 5e-6   # SAM's own IRR solver stops within about 1e-6 of the root (docs/sam.md)

TAXES = dict(tax_rate=0.21, allocation={"macrs_5": 0.5, "macrs_15": 0.2, "sl_39": 0.3}, bonus={"macrs_5": 0.6},
             property_tax=(0.01, 0.8, 0.05))
CASES = [
    Case("dscr_sculpted"),
    Case("dscr_sculpted_growth", dscr=1.45, revenue=11.0, growth=0.03, opex_growth=0.025, years=20, tenor=18, rate=0.055),
    Case("gearing_level_payment", debt="gearing", payment="level"),
    Case("gearing_straight_line", debt="gearing", payment="straight", gearing=0.55),
    Case("interest_only_straight", debt="gearing", payment="straight", gearing=0.5, tenor=12, moratorium=2),
    Case("interest_only_level", debt="gearing", payment="level", gearing=0.5, tenor=12, moratorium=2),
    Case("dsra_12_months", dsra_months=12, dscr=1.4),
    Case("dsra_6_months_growth", dsra_months=6, dscr=1.35, growth=0.02, opex_growth=0.025, years=18, tenor=16),
    Case("taxes_macrs_bonus_property", **TAXES),
    Case("taxes_level_full_bonus", debt="gearing", payment="level", tax_rate=0.21,
         allocation={"macrs_5": 0.7, "sl_39": 0.3}, bonus={"macrs_5": 1.0}),
    Case("taxes_federal_and_state", debt="gearing", payment="straight", tax_rate=0.21, state_tax_rate=0.07,
         allocation={"macrs_5": 0.4, "macrs_15": 0.6}, bonus={"macrs_15": 0.8}),
    Case("salvage_taxed", tax_rate=0.21, allocation={"macrs_5": 1.0}, salvage=0.10),
    Case("taxes_sculpted_sl39", tax_rate=0.25, allocation={"macrs_15": 0.6, "sl_39": 0.4}, bonus={"macrs_15": 0.4},
         property_tax=(0.012, 1.0, 0.03), growth=0.025, opex_growth=0.03, years=20, tenor=15),
]
# per year; what is compared where the debt is outstanding (DSCR, CFADS: SAM reports them only then)
YEARLY = ("interest", "principal", "dscr", "cfads", "equity_pretax", "equity_after_tax")
TAX_YEARLY = ("income_tax", "depreciation", "property_tax")


BY_NAME = {case.name: case for case in CASES}
FULL = [c.name for c in CASES]                          # equity flows and IRRs compared in full
DSRA = [c.name for c in CASES if c.dsra_months]         # SAM funds the DSRA at close, as the engine's does


@functools.lru_cache(maxsize=None)
def _pair(name: str):
    """(case, SAM's series, {engine: the engine's series}) for a case, run once."""
    case = BY_NAME[name]
    sam = sam_series(run_sam(case), case.years)
    deal = deal_from_data(engine_deal(case), f"<{case.name}>")
    runs = {engine: engine_series(waterfall.run(deal, engine=engine)) for engine in ("reference", "compiled")}
    return case, sam, runs


def _yearly(case: Case) -> tuple:
    return YEARLY + (TAX_YEARLY if case.tax_rate or case.state_tax_rate or case.property_tax else ())


@pytest.mark.parametrize("engine", ["reference", "compiled"])
@pytest.mark.parametrize("name", list(BY_NAME))
def test_debt_and_flows_match_sam(name, engine):
    case, sam, runs = _pair(name)
    ours = runs[engine]
    assert max_rel(ours["debt"], sam["debt"]) <= TOL, (ours["debt"], sam["debt"])
    for key in _yearly(case):
        worst = max_rel(ours[key], sam[key])
        assert worst <= TOL, f"{case.name} {key}: {worst:.3e}\nengine {ours[key]}\nSAM    {sam[key]}"


@pytest.mark.parametrize("engine", ["reference", "compiled"])
@pytest.mark.parametrize("name", FULL)
def test_irrs_match_sam(name, engine):
    case, sam, runs = _pair(name)
    ours = runs[engine]
    for ours_key, flows in (("irr_pretax", "equity_pretax"), ("irr_after_tax", "equity_after_tax")):
        root = float(npf.irr(sam[flows]))   # the IRR of SAM's own flows, solved tightly
        assert max_rel(ours[ours_key], root) <= 1e-9, (case.name, ours_key, ours[ours_key], root)
        assert max_rel(ours[ours_key], sam[ours_key]) <= SAM_IRR_TOL, (case.name, ours_key, ours[ours_key], sam[ours_key])


@pytest.mark.parametrize("engine", ["reference", "compiled"])
@pytest.mark.parametrize("name", DSRA)
def test_dsra_funded_at_close_matches_sam(name, engine):
    """SAM funds the DSRA at close from the sources; so does the engine's account with
    `funded_at_close` (tests/sam_peer.py). The reserve holds the same balance (next year's
    P&I) every year from close to its release in the last debt year, and equity pays the
    same from close to the end (equity and IRR are compared over the whole life by
    test_debt_and_flows_match_sam and test_irrs_match_sam)."""
    case, sam, _runs = _pair(name)
    out = run_sam(case)
    result = waterfall.run(deal_from_data(engine_deal(case), f"<{case.name}>"), engine=engine)
    from waterfall import ops
    ledger = np.asarray(result.ledger)
    balance = ledger[:, ops.account_col(1, 0, "balance_close")]
    sam_balance = np.asarray(out["cf_reserve_debtservice"][: case.years + 1]) / 1e6
    assert sam_balance[0] > 0.0   # funded at close, in both
    assert max_rel(balance, sam_balance) <= TOL, (balance, sam_balance)
    assert ledger[0, ops.G["equity_in"]] == pytest.approx(-sam["equity_pretax"][0], rel=TOL)


def test_sam_runs_the_configuration_it_was_given():
    """The harness is not comparing two copies of one input: SAM's debt follows its own
    sizing rule (a DSCR-sized loan differs from a 60%-geared one), and its taxes react to
    the depreciation table (MACRS 5 with 60% bonus: 60% + 40% x 20% = 68% of the basis in year 1)."""
    sized = sam_series(run_sam(Case("a")), 15)
    geared = sam_series(run_sam(Case("b", debt="gearing")), 15)
    assert abs(geared["debt"] - 60.0) < 1e-9 and abs(sized["debt"] - 60.0) > 1.0
    taxed = sam_series(run_sam(Case("c", **TAXES)), 15)
    assert abs(taxed["depreciation"][1] - 100.0 * (0.5 * 0.68 + 0.2 * 0.05 + 0.3 * 0.5 / 39)) < 1e-9
