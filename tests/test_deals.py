"""The deal library (deals/*.toml): every deal loads, compiles and runs under each of its
scenarios on both engines (which agree); headline amounts match the facts sheet
(shared/context/deal-facts.md, section cited at each figure); every tranche amount and
lease rent says where it comes from; `python -m waterfall deals` lists every deal; and the
base case of each SPV deal is sound, or its default is a finding documented in the deal.

Amounts in USD millions."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import waterfall
from waterfall.compile import compile_deal

ROOT = Path(__file__).resolve().parents[1]
DEALS = ("abilene", "vantage_frontier", "vantage_lighthouse", "project_jupiter", "coreweave_ddtl3",
         "oracle_borrowing_programme",
         "oracle_notes_2025", "softbank_bridge", "meta_hyperion")
LEASE_SCENARIO_KINDS = {"tenant_default", "rent_multiplier", "rate_shock", "refinancing_closed",
                        "asset_value_multiplier", "guarantor_default", "lease_default", "partial_payment",
                        "renegotiation", "power_shortfall", "lease_option"}

_cache: dict = {}


def deal(name: str):
    if name not in _cache:
        _cache[name] = waterfall.load_deal(ROOT / "deals" / f"{name}.toml")
    return _cache[name]


def scenario_names(d) -> list[str]:
    return ["base"] + [s.name for s in d.scenarios if s.name != "base"]


def amounts(name: str) -> dict[str, float]:
    return {t.name: t.amount for t in deal(name).tranches}


def base(name: str, engine: str = "reference"):
    return waterfall.run(deal(name), "base", engine=engine)


# ----------------------------------------------------------------------------- (1) runs

CASES = [(name, s) for name in DEALS for s in scenario_names(deal(name))]


@pytest.mark.parametrize("name", DEALS)
def test_deal_loads_compiles_and_has_scenarios(name):
    d = deal(name)
    assert d.deal.units == "USD millions"
    assert d.deal.assumptions, "every deal lists its assumptions"
    program = compile_deal(d)
    assert program.n_periods == d.timeline.n_periods
    lease_scenarios = [s for s in d.scenarios if any(a.kind in LEASE_SCENARIO_KINDS for a in s.adjustments)]
    assert len(lease_scenarios) >= 3, "base plus at least three lease scenarios"
    if d.timeline.construction_periods > 0:
        delay = d.scenario("construction-delay")
        assert any(a.kind == "construction_delay" for a in delay.adjustments)


@pytest.mark.parametrize("name,scenario", CASES)
def test_both_engines_run_and_agree(name, scenario):
    if not waterfall.kernel_available():
        pytest.skip("compiled kernel not built")
    d = deal(name)
    ref = waterfall.run(d, scenario, engine="reference")
    com = waterfall.run(d, scenario, engine="compiled")
    assert ref.ledger.shape == com.ledger.shape
    np.testing.assert_allclose(com.ledger, ref.ledger, rtol=1e-9, atol=1e-6)
    for key, value in ref.metrics.items():
        other = com.metrics[key]
        if key == "wal_years":
            for tranche, wal in value.items():
                assert (wal is None and other[tranche] is None) or math.isclose(wal, other[tranche], rel_tol=1e-9, abs_tol=1e-9)
        elif value is None or other is None:
            assert value is None and other is None, key
        elif isinstance(value, str):   # default_cause, default_date
            assert value == other, key
        elif abs(value) > 1e12:      # IRR annualisation blow-ups: compare loosely
            assert math.isclose(value, other, rel_tol=1e-6), key
        else:
            assert math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-9), key


@pytest.mark.parametrize("name,scenario", CASES)
def test_no_negative_balances(name, scenario):
    result = waterfall.run(deal(name), scenario, engine="reference")
    frame = result.cash_flows()
    for tr in deal(name).tranches:
        assert (frame[f"{tr.name}.balance_close"] >= -1e-6).all(), tr.name
    assert (frame["equity_distribution"] >= -1e-6).all()


# ------------------------------------------------------------------ (2) headline amounts

def test_vantage_package_is_38bn():
    # facts s.2a: Texas (Frontier) 23.25 $bn + Wisconsin (Lighthouse) 14.75 $bn = 38.0 $bn
    assert amounts("vantage_frontier") == {"frontier-facility": 23_250.0}
    assert amounts("vantage_lighthouse") == {"lighthouse-facility": 14_750.0}
    assert sum(amounts("vantage_frontier").values()) + sum(amounts("vantage_lighthouse").values()) == 38_000.0


def test_vantage_terms():
    # facts s.2a: ~SOFR+250, 4 years + two 1-year extensions, IO in construction
    for name in ("vantage_frontier", "vantage_lighthouse"):
        (tr,) = deal(name).tranches
        assert tr.rate.kind == "floating" and tr.rate.spread == 0.025
        assert tr.maturity_period == 16 and tr.extension_periods == 0      # quarters; the options are tested
        assert (tr.extension.options, tr.extension.periods) == (2, 4)
        assert tr.capitalise_interest == "construction"
        assert deal(name).leases[0].tenant.startswith("Oracle")


@pytest.mark.parametrize("name", ("vantage_frontier", "vantage_lighthouse"))
def test_vantage_facility_funds_its_construction_interest(name):
    # facts s.2b/s.2c: 23.25 / 14.75 $bn against '>25bn' / '>15bn' of cost: the facility also funds
    # capitalised interest, so the balance at COD is the commitment, not commitment + IDC
    d = deal(name)
    (tr,) = d.tranches
    assert tr.commitment_includes_idc
    assert tr.provenance["commitment_includes_idc"].confidence == "assumption"
    program = compile_deal(d)
    frame = base(name).cash_flows()
    cod = d.timeline.cod_period
    assert frame[f"{tr.name}.balance_open"].iloc[cod] == pytest.approx(tr.amount, rel=1e-9)
    assert program.draw[0].sum() < tr.amount                      # capex draws + IDC = commitment
    assert frame[f"{tr.name}.interest_capitalised"].sum() == pytest.approx(tr.amount - program.draw[0].sum(), rel=1e-9)
    # equity funds the rest of the (facts model) cost
    assert program.equity_in.sum() == pytest.approx(sum(a.cost for a in d.assets) - program.draw[0].sum())


def test_abilene_loans():
    # facts s.1: Phase 1 JPMorgan 2.3 $bn (Jan 2025) and Phase 2 7.1 $bn (May 2025).
    # The facts sheet's reconciliation says "2.3 + 7.1 = 9.6"; the components add up to 9.4.
    # The reported 9.6 total (techspot) is within 2.1% of the modelled 9,400 and both are "~10".
    a = amounts("abilene")
    assert a == {"phase-1-loan": 2_300.0, "phase-2-loan": 7_100.0}
    total = sum(a.values())
    assert total == 9_400.0
    assert abs(total - 9_600.0) / 9_600.0 < 0.025
    assert "9,400" in deal("abilene").deal.description and "9,600" in deal("abilene").deal.description
    # facts s.1: total JV size 15 $bn; Oracle 15-year lease; no GPUs in the SPV collateral
    assert sum(asset.cost for asset in deal("abilene").assets) == 15_000.0
    assert all(lease.term_months == 180 and lease.tenant == "Oracle" for lease in deal("abilene").leases)
    assert all(asset.it is None for asset in deal("abilene").assets)
    assert deal("abilene").deal.recourse == "non-recourse"


def test_project_jupiter():
    # facts s.3a: ~18 $bn, SOFR+250, 4 years + two 12-month extensions, 18-year Oracle lease
    d = deal("project_jupiter")
    assert amounts("project_jupiter") == {"jupiter-loan": 18_000.0}
    (tr,) = d.tranches
    assert tr.rate.spread == 0.025 and tr.maturity_period == 16 and tr.extension_periods == 0
    assert (tr.extension.options, tr.extension.periods) == (2, 4)   # two 12-month options, tested
    assert d.leases[0].term_months == 216
    assert d.equity.sponsors == {"Blue Owl funds": 1.0}


def test_coreweave_ddtl3():
    # facts s.5: DDTL 3.0 2.6 $bn at SOFR + 4.00%, ~Aug 2030; facts s.9d GB200 curve
    d = deal("coreweave_ddtl3")
    assert amounts("coreweave_ddtl3") == {"ddtl-3": 2_600.0}
    (tr,) = d.tranches
    assert tr.rate.spread == 0.04
    assert tr.borrowing_base is not None and tr.borrowing_base.components == ["it"]
    assert any(step.step == "borrowing_base" for step in d.waterfall)
    curve = d.assets[0].it.curve
    assert curve.kind == "points"
    assert dict(curve.points) == {0: 1.0, 12: 0.70, 24: 0.50, 36: 0.32, 48: 0.20, 60: 0.12}


def test_oracle_notes():
    # facts s.4a: 18 $bn in six tranches, semi-annual coupons, issued 26 Sep 2025
    expected = {  # name: (amount, coupon, maturity year)
        "notes-2030": (3_000.0, 0.04450, 2030), "notes-2032": (3_000.0, 0.04800, 2032),
        "notes-2035": (4_000.0, 0.05200, 2035), "notes-2045": (2_500.0, 0.05875, 2045),
        "notes-2055": (3_500.0, 0.05950, 2055), "notes-2065": (2_000.0, 0.06100, 2065),
    }
    d = deal("oracle_notes_2025")
    assert d.timeline.period == "half-year" and d.deal.kind == "corporate" and d.deal.recourse == "full"
    assert sum(amounts("oracle_notes_2025").values()) == 18_000.0
    for tr in d.tranches:
        amount, coupon, year = expected[tr.name]
        assert tr.amount == amount and tr.rate.kind == "fixed" and tr.rate.annual == coupon
        assert tr.day_count == "30/360" and tr.amortisation.kind == "bullet"
        # half-years from 26 Sep 2025 to 26 Sep <year>
        assert tr.maturity_period == 2 * (year - 2025)
    assert set(t.name for t in d.tranches) == set(expected)


def test_oracle_borrowing_programme():
    # facts s.4b: "up to 100 (~25/yr)" over 4 years (KeyBanc estimate)
    d = deal("oracle_borrowing_programme")
    assert d.deal.kind == "corporate" and d.timeline.period == "half-year"
    assert sum(amounts("oracle_borrowing_programme").values()) == 100_000.0
    issues = sorted(period for tr in d.tranches for period, _ in tr.draws)
    assert issues == [0, 2, 4, 6]  # one 25bn vintage a year over four years
    assert all(tr.amount == 25_000.0 and tr.refinancing is not None for tr in d.tranches)
    # the AI lab's ~$300bn contract from 2027 (facts s.4b) is one of the two cash sources
    lab = [lease for lease in d.leases if lease.tenant.startswith("AI lab")]
    assert len(lab) == 1 and lab[0].term_months == 60
    # the bullets fall due after the contract ends: refinancing is the structure's weak point
    assert waterfall.run(d, "refi-closed").metrics["default_period"] == 20
    assert waterfall.run(d, "ai-lab-default").metrics["default_period"] is None


def test_softbank_bridge():
    # facts s.0 / s.6: 8.5 $bn OpenAI first-closing bridge, 1-year; 1 $bn repaid by Nov 2025
    d = deal("softbank_bridge")
    assert amounts("softbank_bridge") == {"bridge": 8_500.0}
    (tr,) = d.tranches
    assert tr.maturity_period == 4    # quarters
    schedule = compile_deal(d).sched[0]
    assert math.isclose(schedule.sum(), 1_000.0)
    # facts s.6 gap: SOFR+125 with 25bp step-ups every 90 days, as the tranche's own margin schedule
    # (the base-rate curve is plain SOFR, facts s.9a)
    assert tr.rate.spread == 0.0125
    assert [tuple(x) for x in tr.rate.spread_steps] == [(2, 0.015), (3, 0.0175), (4, 0.02)]
    assert max(rate for _, rate in d.base_rate.points) == 0.039
    rates = base("softbank_bridge").cash_flows()["bridge.rate"]
    sofr = compile_deal(d).base_rate
    for period, spread in ((1, 0.0125), (2, 0.015), (3, 0.0175), (4, 0.02)):
        assert rates.iloc[period] == pytest.approx(sofr[period] + spread)
    assert rates.iloc[5] == pytest.approx(sofr[5] + tr.refinancing.spread)   # the takeout


def test_meta_hyperion():
    # facts s.7: 27.30 $bn amortising notes due May 2049 at ~6.58%, 4-year lease terms, capped RVG
    # for the first 16 years
    d = deal("meta_hyperion")
    assert amounts("meta_hyperion") == {"beignet-notes-2049": 27_300.0}
    (tr,) = d.tranches
    assert tr.rate.annual == 0.0658 and tr.amortisation.kind == "level_payment"
    assert d.leases[0].term_months == 48 and all(r.term_months == 48 for r in d.leases[0].renewals)
    rvg = d.residual_value_guarantee
    assert rvg is not None and rvg.guarantor == "Meta" and rvg.until_period == 32   # 16 years
    assert rvg.provenance["cap"].confidence == "assumption"


# ------------------------------------------------------------------------- (3) provenance

@pytest.mark.parametrize("name", DEALS)
def test_every_amount_and_rent_has_provenance(name):
    d = deal(name)
    for tr in d.tranches:
        src = tr.provenance.get("amount") or tr.provenance.get("sizing")
        assert src is not None, f"{name}: tranche {tr.name} has no provenance for its amount"
        assert src.source or src.confidence == "assumption"
    for lease in d.leases:
        src = lease.provenance.get("annual_rent")
        assert src is not None, f"{name}: lease {lease.tenant} has no provenance for its rent"
        assert src.source or src.confidence == "assumption"


def _provenance_entries(obj, out):
    from pydantic import BaseModel
    if isinstance(obj, BaseModel):
        for field, src in getattr(obj, "provenance", {}).items():
            out.append((type(obj).__name__, field, src))
        for field in type(obj).model_fields:
            _provenance_entries(getattr(obj, field), out)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _provenance_entries(item, out)
    return out


@pytest.mark.parametrize("name", DEALS)
def test_every_provenance_entry_has_a_source_or_is_an_assumption(name):
    for part, field, src in _provenance_entries(deal(name), []):
        assert src.source or src.confidence == "assumption", f"{name}: {part}.{field}"
        assert src.confidence != "illustrative", f"{name}: {part}.{field}"


# ---------------------------------------------------------------------------------- (4) CLI

def test_cli_lists_every_deal():
    out = subprocess.run([sys.executable, "-m", "waterfall", "deals"], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    listed = {line.split("\t")[0] for line in out.splitlines() if line.strip()}
    assert set(DEALS) <= listed


# ------------------------------------------------------------------------- (5) base cases

SOUND = ("abilene", "project_jupiter", "coreweave_ddtl3", "meta_hyperion", "vantage_frontier",
         "vantage_lighthouse")
# Deals whose base case, as the facts sheet's assumptions imply, ends in default: the period and
# the word FINDING are in the deal's description. Empty since the facility funds its construction
# interest (Vantage, facts s.2b) and the campus is sold at lease end ([exit]); what is left of the
# Vantage findings is tested below (test_vantage_findings).
FINDINGS: dict[str, int] = {}
# Lease-backed SPVs whose horizon ends with an exit sale (facts s.7/s.10 stressed residual of 50%
# of cost, labelled an assumption); CoreWeave sells its GPUs at the s.9d curve.
EXITS = {"abilene": 0.5, "vantage_frontier": 0.5, "vantage_lighthouse": 0.5, "project_jupiter": 0.5,
         "meta_hyperion": 0.5}


@pytest.mark.parametrize("name", SOUND)
def test_spv_base_case_is_sound(name):
    assert deal(name).deal.kind == "spv"
    m = base(name).metrics
    assert m["default_period"] is None
    assert m["min_dscr"] > 1.0


def test_spv_base_case_default_is_a_documented_finding():
    for name, period in sorted(FINDINGS.items()):
        d = deal(name)
        assert "FINDING" in d.deal.description
        m = base(name).metrics
        assert m["default_period"] == period
        assert m["min_dscr"] > 1.0      # cover is fine while the loan runs; the balloon is the problem


def test_every_spv_deal_is_classified():
    spv = {name for name in DEALS if deal(name).deal.kind == "spv"}
    assert spv == set(SOUND) | set(FINDINGS)
    assert not set(SOUND) & set(FINDINGS)


@pytest.mark.parametrize("name,share_of_cost", sorted(EXITS.items()))
def test_exit_is_a_labelled_residual(name, share_of_cost):
    # the sale at the horizon's end: gross = value_share x curve value = the assumed share of cost
    d = deal(name)
    assert d.exit is not None and d.exit.provenance["value_share"].confidence == "assumption"
    assert any("Exit" in a for a in d.deal.assumptions)
    program = compile_deal(d)
    n = program.n_periods
    gross = d.exit.value_share * program.asset_value[:, n].sum()
    cost = sum(a.cost for a in d.assets)
    assert gross == pytest.approx(share_of_cost * cost, rel=0.01)
    frame = base(name).cash_flows()
    assert frame["exit_proceeds"].iloc[-1] == pytest.approx(gross * (1 - d.exit.cost_share), rel=1e-9)
    assert (frame["exit_proceeds"].iloc[:-1] == 0).all()
    assert base(name).metrics["equity_irr"] > 0.05      # no longer understated by a zero terminal value


def test_corporate_claims_have_no_exit():
    # the notional claim assets of the corporate deals are recovery devices, not saleable assets
    assert deal("oracle_notes_2025").exit is None and deal("softbank_bridge").exit is None
    assert deal("oracle_borrowing_programme").exit is None


@pytest.mark.parametrize("name,cod_default", (("vantage_frontier", 9), ("vantage_lighthouse", 11)))
def test_vantage_findings(name, cod_default):
    """The Vantage loans are repaid by the campus sale, not by the 15-year lease (facts s.2 rent and
    cost assumptions): documented as a FINDING and kept visible by scenarios."""
    d = deal(name)
    assert "FINDING" in d.deal.description
    (tr,) = d.tranches
    result = base(name)
    frame = result.cash_flows()
    n = d.timeline.n_periods
    tail = frame[f"{tr.name}.balance_open"].iloc[n]
    assert tail > 0.3 * tr.amount                                # over 30% of the facility at lease end
    assert frame["exit_proceeds"].iloc[n] > tail                 # met by the sale at 50% of cost...
    assert result.metrics["plcr"] < 1.15                          # ...because the lease alone is thin
    # ...and at depreciated cost only just: value curves age from the in-service date, so a
    # sale at book at lease end still meets the balloon, by about 10% (the margin is thin;
    # Frontier 9.0% with its extensions assumed exercised, 10.3% once they are tested: the
    # refinancing at 24 is a little smaller and the difference was paid down from cash)
    at_book = waterfall.run(d, "residual-at-book").metrics
    exit_at_book = frame["exit_proceeds"].iloc[n] * d.scenario("residual-at-book").adjustments[0].multiplier
    assert at_book["default_period"] is None and tail < exit_at_book < 1.11 * tail
    # the facts' mortgage-style profile sized to the 15-year lease (s.2a) breaches at COD
    data = d.model_dump()
    data["tranches"][0]["amortisation"] = {"kind": "level_payment", "periods": 60}
    data["scenarios"] = []
    mortgage = waterfall.run(type(d).model_validate(data), "base", engine="reference").metrics
    assert mortgage["default_period"] == cod_default and mortgage["min_dscr"] < 1.0


def test_construction_delay_scenarios():
    # maturities stay where they are, so a 9-month delay eats into amortisation before the 4+1+1
    # refinancing. Jupiter's refinancing is then sized below its balloon (docs/credit.md,
    # "Refinancing") and the paydown is more than the quarter's cash: a maturity default
    # (the lenders then run an 18-month workout on the lease in place and sell on the
    # income approach: the balloon default costs them nothing). Lighthouse, Abilene and
    # Frontier absorb it (Lighthouse's balloon, the balance less the quarter's scheduled
    # principal, is within its DSCR limit)
    for name, period in (("project_jupiter", 24),):
        m = waterfall.run(deal(name), "construction-delay").metrics
        assert m["default_period"] == period and m["default_cause"] == "maturity"
        assert m["recovery_periods"] == 6 and m["lender_loss"] == 0.0
    for name in ("abilene", "vantage_frontier", "vantage_lighthouse"):
        m = waterfall.run(deal(name), "construction-delay").metrics
        assert m["default_period"] is None
        assert m["min_dscr"] < base(name).metrics["min_dscr"] or m["equity_irr"] < base(name).metrics["equity_irr"]
    result = waterfall.run(deal("vantage_frontier"), "construction-delay")
    assert result.ledger.shape[0] == deal("vantage_frontier").timeline.n_periods + 1 + 3


@pytest.mark.parametrize("name", ("oracle_notes_2025", "softbank_bridge", "oracle_borrowing_programme"))
def test_corporate_base_case_pays(name):
    m = base(name).metrics
    assert m["default_period"] is None and m["min_dscr"] > 1.0


def test_stress_scenarios_bite():
    # Sanity of the scenario library: each named stress ends in default where the structure says so
    assert waterfall.run(deal("oracle_notes_2025"), "refi-closed").metrics["default_period"] == 10
    assert waterfall.run(deal("abilene"), "refi-closed").metrics["default_period"] == 24
    assert waterfall.run(deal("coreweave_ddtl3"), "gpu-obsolescence").metrics["default_period"] is not None
    # the RVG makes the Hyperion noteholders whole on an early non-renewal, not after it expires
    assert waterfall.run(deal("meta_hyperion"), "non-renewal").metrics["lender_loss"] == 0.0
    # after it expires nothing is guaranteed: the noteholders rest on the sale of a campus
    # re-let at half the rent (income approach), which covers the amortised claim
    late = waterfall.run(deal("meta_hyperion"), "non-renewal-late")
    flows = late.cash_flows()
    assert flows["guarantee_paid"].sum() == 0.0 and late.metrics["default_cause"] == "tenant"
    assert flows["seizure_gross"].sum() > late.metrics["lender_claim"] and late.metrics["lender_loss"] == 0.0
    # an early non-renewal with the guarantor paying half: a loss the guarantee no longer covers
    assert waterfall.run(deal("meta_hyperion"), "non-renewal-guarantor-half").metrics["lender_loss"] > 0.0
