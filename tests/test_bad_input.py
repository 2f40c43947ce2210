"""Bad input: every malformed or inconsistent deal file in tests/bad_deals/ makes
`waterfall run` exit with status 2 and a one-line-per-problem message naming the file,
the field path and the bad value; no traceback, no output file, nothing evaluated.

Each file is the tie-out deal (deals/examples/tieout.toml) with one defect (or, for
the several_* files, several). EXPECTED lists, per file, the substrings its message
must contain: the field path, what is wrong, and `(got VALUE)` where there is a value.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import waterfall

BAD = Path(__file__).resolve().parent / "bad_deals"
REPO = BAD.parent.parent

EXPECTED: dict[str, list[str]] = {
    # missing fields
    "missing_tranche_amount.toml": ["tranches[0].amount: give exactly one of amount and sizing"],
    "empty_file.toml": ["deal: required field is missing", "timeline: required field is missing",
                        "tranches: required field is missing", "waterfall: required field is missing"],
    "empty_waterfall.toml": ["waterfall: required field is missing"],
    # out-of-range amounts
    "negative_amount.toml": ["tranches[0].amount:", "greater than or equal to 0", "(got -700.0)"],
    "fraction_above_one.toml": ["enforcement.fire_sale_discount:", "less than or equal to 1", "(got 1.5)"],
    "debt_exceeds_cost.toml": ["tranches: debt commitments 1200 exceed total asset cost 1000", "(got 1200.0)"],
    "lender_shares_not_one.toml": ["tranches[0].lenders: lender shares must add up to 1",
                                   "(got {'Bank A': 0.6, 'Bank B': 0.3})"],
    # names that do not resolve
    "unknown_tranche_in_step.toml": ["waterfall[1].tranche: unknown tranche (got 'mezzanine')"],
    "unknown_account_in_step.toml": ["waterfall[2].account: unknown account (got 'mra')"],
    "unknown_tranche_in_dsra.toml": ["accounts[0].tranches[0]: unknown tranche (got 'junior')"],
    "duplicate_tranche_name.toml": ["tranches[1].name: name already used by tranches[0] (got 'senior')"],
    "lockup_account_in_reserve_step.toml": ["waterfall[2].account: a lockup account is filled by distribute",
                                            "(got 'lockup')"],
    "step_missing_tranche.toml": ["waterfall[0].tranche: an interest step needs a tranche"],
    "step_extra_operand.toml": ["waterfall[0].account: an interest step takes no account", "(got 'dsra')"],
    "distribute_not_last.toml": ["waterfall[0].step: distribute must be the last step", "(got 'distribute')"],
    "floating_without_base_rate.toml": ["tranches[0].rate: a floating tranche needs a [base_rate] curve",
                                        "(got 'floating')"],
    "provenance_unknown_field.toml": ["leases[0].provenance.annual_rnt:", "not a field of Lease",
                                      "(got 'annual_rnt')"],
    "unknown_field.toml": ["tranches[0].maturity_perod: unknown field (got 40)"],
    # interest-rate hedges
    "hedge_notional_past_horizon.toml": ["hedges[0].notional[1]: a notional schedule longer than the horizon",
                                         "(got 500)"],
    "hedge_cap_negative_strike.toml": ["hedges[0].strike:", "greater than or equal to 0", "(got -0.01)"],
    "hedge_unknown_index.toml": ["hedges[0].index: unknown index", "(got 'EURIBOR')"],
    "hedge_par_without_notional.toml": ["hedges[0].fixed_rate: a par swap needs a notional after close",
                                        "(got 'par')"],
    # extension options (issue 12.2)
    "extension_without_test.toml": ["tranches[0].extension.options: extension options with no test to pass",
                                    "min_dscr, max_ltv or min_debt_yield", "(got 2)"],
    # the new loan's terms at a refinancing (docs/credit.md, "Refinancing")
    "refinancing_fixed_without_rate.toml": ["tranches[0].refinancing.fixed_rate: a fixed-rate refinancing needs "
                                            "fixed_rate"],
    "refinancing_fixed_with_spread.toml": ["tranches[0].refinancing.spread: spread = 0.02 on a fixed-rate "
                                           "refinancing", "(got 0.02)"],
    "refinancing_unknown_amortisation.toml": ["tranches[0].refinancing.amortisation:", "'sculpted'",
                                              "(got 'bullet')"],
    "refinancing_unknown_rate_kind.toml": ["tranches[0].refinancing.rate_kind:", "'fixed'", "(got 'indexed')"],
    "refinancing_sculpted_without_dscr.toml": ["tranches[0].refinancing.min_dscr: a sculpted refinancing is "
                                               "sculpted to min_dscr", "(got 0.0)"],
    "notional_maturity_past_horizon.toml": ["tranches[0].notional_maturity_period: period is beyond the horizon",
                                            "(got 99)"],
    "unknown_step_kind.toml": ["waterfall[3].step:", "'distribute'", "(got 'cash_sweep')"],
    "unknown_rate_kind.toml": ["tranches[0].rate.kind: unknown kind", "'fixed', 'floating'", "(got 'fix')"],
    # credit terms (enforcement issue)
    "negative_months_to_sale.toml": ["enforcement.months_to_sale:", "greater than or equal to 0", "(got -3)"],
    "cap_rate_zero.toml": ["enforcement.valuation.exit_cap_rate:", "greater than 0", "(got 0.0)"],
    "cure_deadline_beyond_horizon.toml": ["covenants.equity_cure.until_period: period is beyond the horizon",
                                          "(got 60)"],
    "unknown_breach_action.toml": ["covenants.dscr_breach:", "'lock_up' or 'accelerate'", "(got 'foreclose')"],
    "hedge_ratio_minimum_above_one.toml": ["covenants.hedge_ratio.minimum:", "less than or equal to 1",
                                           "(got 1.5)"],
    "hedge_ratio_minimum_negative.toml": ["covenants.hedge_ratio.minimum:", "greater than or equal to 0",
                                          "(got -0.25)"],
    "unknown_covenant_basis.toml": ["covenants.lock_up_basis:", "'point', 'trailing_12m' or 'forward_12m'",
                                    "(got 'trailing_6m')"],
    "unknown_sale_rule.toml": ["enforcement.sale_rule:", "'stated' or 'best_execution'", "(got 'highest_bid')"],
    # the waterfall as a program (step registry): multiplicity and order
    "duplicate_interest_step.toml": ["waterfall[1].step: a second interest step for tranche 'senior'",
                                     "(got 'interest')"],
    "sweep_before_principal.toml": ["waterfall[1].step: a sweep step for 'senior' must come after its principal step",
                                    "(got 'sweep')"],
    # debt sizing (issue 14)
    "sizing_resculpt_not_sculpted.toml": ["tranches[0].sizing.when_capped: re-sculpting a capped loan needs "
                                          "sculpted amortisation", "(got 'resculpt')"],
    "sizing_unknown_when_capped.toml": ["tranches[0].sizing.when_capped:", "'repay_early' or 'resculpt'",
                                        "(got 'shorten')"],
    "sizing_capitalise_not_sculpted.toml": ["tranches[0].sizing.when_short: capitalising the interest CFADS / "
                                            "target does not pay needs sculpted amortisation", "(got 'capitalise')"],
    "sizing_unknown_when_short.toml": ["tranches[0].sizing.when_short:", "'reduce' or 'capitalise'",
                                       "(got 'defer')"],
    # escalation per line (issue 14)
    "indexation_cpi_without_curve.toml": ["leases[0].indexation.kind: CPI-linked indexation needs the deal's "
                                          "[cpi] curve", "(got 'cpi')"],
    "indexation_floor_above_cap.toml": ["leases[0].indexation.floor: the floor (0.04) is above the cap (0.03)",
                                        "(got 0.04)"],
    "indexation_every_zero_months.toml": ["leases[0].indexation.every_months:", "greater than or equal to 1",
                                          "(got 0)"],
    "indexation_and_escalation.toml": ["leases[0].escalation: give either escalation or indexation",
                                       "(got 0.02)"],
    # sources and uses, reserves (issue 14)
    "dsra_target_months_zero.toml": ["accounts[0].target_months:", "greater than or equal to 1", "(got 0)"],
    "dsra_target_months_and_periods.toml": ["accounts[0].target_months: give target_periods or target_months",
                                            "(got 6)"],
    "mra_target_months_unknown_opex.toml": ["accounts[1].target_opex[0]: unknown opex line",
                                            "(got 'major maintenance')"],
    "mra_target_months_without_opex.toml": ["accounts[1].target_months: a fixed reserve's target in months needs "
                                            "the opex lines it counts", "(got 6)"],
    "mra_target_and_target_months.toml": ["accounts[1].target_months: give target or target_months, not both",
                                          "(got 6)"],
    "upfront_fee_above_one.toml": ["tranches[0].upfront_fee:", "less than or equal to 1", "(got 1.5)"],
    "closing_costs_negative.toml": ["closing_costs:", "greater than or equal to 0", "(got -5.0)"],
    # a DSRA backed by a letter of credit (issue 14, item 4)
    "dsra_lc_amount_negative.toml": ["accounts[0].letter_of_credit.amount:", "greater than or equal to 0",
                                     "(got -5.0)"],
    "dsra_lc_fee_above_cap.toml": ["accounts[0].letter_of_credit.fee:", "less than or equal to 0.2", "(got 0.25)"],
    "dsra_lc_fee_negative.toml": ["accounts[0].letter_of_credit.fee:", "greater than or equal to 0", "(got -0.01)"],
    "lc_on_fixed_reserve.toml": ["accounts[1].letter_of_credit: a letter of credit backs a dsra only",
                                 "(got 'fixed')"],
    "lc_fee_without_fee_line.toml": ["accounts[0].letter_of_credit.fee: an LC fee needs a fee line naming the "
                                     "account", "(got 0.015)"],
    "lc_dsra_without_reserve_step.toml": ["accounts[0].letter_of_credit: an account backed by a letter of credit "
                                          "needs its reserve step", "(got 'dsra')"],
    "lc_fee_line_without_lc.toml": ["fees[0].letter_of_credit: no account of that name has a letter of credit",
                                    "(got 'dsra')"],
    # periods beyond the horizon or out of order
    "maturity_beyond_horizon.toml": ["tranches[0].maturity_period: period is beyond the horizon (40 periods)",
                                     "(got 48)"],
    "scenario_period_beyond_horizon.toml": ["scenarios[2].adjustments[0].from_period: period is beyond the horizon",
                                            "(got 53)"],
    "fee_to_before_from.toml": ["fees[0].to_period: to_period is before from_period (10) (got 5)"],
    # timeline and payment conventions (docs/conventions.md)
    "stub_longer_than_two_periods.toml": ["timeline.first_payment_date: a first period longer than 2 quarters",
                                          "(got 2026-09-30)"],
    "final_stub_longer_than_two_periods.toml": ["timeline.final_date: a last period longer than 2 quarters",
                                                "(got 2036-10-15)"],
    "payment_day_out_of_range.toml": ["timeline.payment_day:", "less than or equal to 31", "(got 32)"],
    "stated_payment_below_interest.toml": ["tranches[0].amortisation.payment: the stated payment is below the "
                                           "first period's interest 10.5", "(got 10.0)"],
    # NaN / inf / numbers too large for a float
    "nan_rate.toml": ["tranches[0].rate.annual: must be a finite number", "(got nan)"],
    "inf_rent.toml": ["leases[0].annual_rent: must be a finite number", "(got inf)"],
    "nan_in_json.json": ["tranches[0].rate.annual: must be a finite number", "(got nan)"],
    "huge_integer_amount.toml": ["tranches[0].amount: number is too large", "(got 9999999999"],
    # wrong types: never coerced, never evaluated
    "wrong_type_amount.toml": ["tranches[0].amount: Input should be a valid number (got '700')"],
    "wrong_type_amount_json.json": ["tranches[0].amount: Input should be a valid number (got '700')"],
    "wrong_type_bool_periods.toml": ["timeline.operating_periods: Input should be a valid integer (got True)"],
    "fractional_period.toml": ["timeline.operating_periods: Input should be a valid integer (got 40.5)"],
    "bad_date_string.toml": ["timeline.financial_close:", "valid date", "(got '15/01/2026')"],
    "code_injection_amount.toml": ["tranches[0].amount: Input should be a valid number",
                                   "(got \"__import__('os').system('touch /tmp/pwned')\")"],
    # not TOML / JSON at all
    "bad_toml_syntax.toml": ["line 41, column 15: not valid TOML"],
    "bad_date.toml": ["line 14, column 19: not valid TOML: Invalid date or datetime"],
    "json_not_an_object.json": ["the document must be a JSON object (got 'list')"],
    "duplicate_key_json.json": ["tranches[0].amount: given 2 times (got [700.0, -1.0])"],
    # taxes (issue 14)
    "tax_depreciation_life_zero.toml": ["tax.depreciation.shell.years:", "greater than or equal to 1", "(got 0)"],
    "tax_rate_one.toml": ["tax.rate: a tax rate must be from 0 to below 1", "(got 1.0)"],
    "tax_rate_negative.toml": ["tax.property_tax.rate: a tax rate must be from 0 to below 1", "(got -0.01)"],
    # several defects, all reported at once
    "several_defects.toml": [
        "tranches[0].amount: Input should be greater than or equal to 0 (got -700.0)",
        "leases[0].annual_rent: Input should be a valid number (got 'lots')",
        "tranches[0].rate.annual: must be a finite number (NaN and inf are not allowed) (got nan)",
        "tranches[0].maturity_perod: unknown field (got 40)",
    ],
    "several_cross_defects.toml": [
        "waterfall[1].tranche: unknown tranche (got 'mezzanine')",
        "waterfall[2].account: unknown account (got 'mra')",
        "accounts[0].tranches[0]: unknown tranche (got 'junior')",
        "tranches[0].maturity_period: period is beyond the horizon (40 periods) (got 48)",
    ],
}

# Standalone scenario files, run as `waterfall run tieout --scenario FILE`.
SCENARIO_EXPECTED: dict[str, list[str]] = {
    "scenario_refinancing_spread_bad.toml": [
        "adjustments[0].bp: Input should be less than or equal to 5000 (got 99999.0)",
        "adjustments[1].refinancing_spread: to_date 2031-01-01 must be after from_date 2031-06-01",
    ],
    "scenario_bad_multiplier.toml": [
        "adjustments[0].multiplier: Input should be greater than or equal to 0 (got -0.5)",
        "adjustments[1].kind: unknown kind", "(got 'rent_haircut')",
    ],
    "scenario_period_beyond_horizon_file.toml": [
        "adjustments[0].period: period is beyond the horizon (40 periods) (got 99)",
    ],
}


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "waterfall", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_bad_input(proc: subprocess.CompletedProcess, path: Path, expected: list[str], csv: Path):
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err, proc.stdout)
    assert "Traceback" not in err and "Traceback" not in proc.stdout, err
    assert str(path) in err, err
    for text in expected:
        assert text in err, f"{text!r} not in:\n{err}"
    # one line per problem, each `FILE: field.path: message (got VALUE)`
    lines = err.strip().splitlines()
    assert lines and all(line.startswith(f"{path}: ") for line in lines), err
    # nothing half-written
    assert not csv.exists() and not csv.with_name(csv.name + ".part").exists()
    assert list(csv.parent.iterdir()) == []


def test_enough_bad_files_and_each_has_expectations():
    files = sorted(p.name for p in BAD.iterdir() if p.suffix in (".toml", ".json"))
    assert len(EXPECTED) >= 15
    assert not set(EXPECTED) & set(SCENARIO_EXPECTED)
    assert sorted(list(EXPECTED) + list(SCENARIO_EXPECTED)) == files


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_rejects_bad_deal(name, tmp_path):
    path = BAD / name
    out = tmp_path / "out"
    out.mkdir()
    csv = out / "out.csv"
    proc = run_cli("run", str(path), "--csv", str(csv))
    assert_bad_input(proc, path, EXPECTED[name], csv)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_deal_raises_deal_error(name):
    path = BAD / name
    with pytest.raises(waterfall.DealError) as info:
        waterfall.load_deal(path)
    exc = info.value
    assert exc.path == str(path)
    assert exc.problems
    message = str(exc)
    for text in EXPECTED[name]:
        assert text in message
    # the field path of the first expectation is one of the problems' paths
    first = EXPECTED[name][0]
    if ": " in first and not first.startswith(("line ", "the document")):
        field = first.split(": ")[0].rstrip(":")
        assert field in [p for p, _, _ in exc.problems], exc.problems


def test_several_defects_are_reported_at_once():
    for name in ("several_defects.toml", "several_cross_defects.toml"):
        with pytest.raises(waterfall.DealError) as info:
            waterfall.load_deal(BAD / name)
        paths = [p for p, _, _ in info.value.problems]
        wanted = [line.split(": ")[0] for line in EXPECTED[name]]
        assert set(wanted) <= set(paths), (wanted, paths)
        assert len(str(info.value).splitlines()) == len(info.value.problems) >= 4


@pytest.mark.parametrize("name", sorted(SCENARIO_EXPECTED))
def test_cli_rejects_bad_scenario_file(name, tmp_path):
    path = BAD / name
    out = tmp_path / "out"
    out.mkdir()
    csv = out / "out.csv"
    proc = run_cli("run", "tieout", "--scenario", str(path), "--csv", str(csv))
    assert_bad_input(proc, path, SCENARIO_EXPECTED[name], csv)




def test_load_scenario_checks_the_horizon_given_the_deal():
    path = BAD / "scenario_period_beyond_horizon_file.toml"
    waterfall.load_scenario(path)  # valid on its own
    with pytest.raises(waterfall.DealError) as info:
        waterfall.load_scenario(path, waterfall.load_deal("tieout"))
    assert info.value.path == str(path)
    assert [p for p, _, _ in info.value.problems] == ["adjustments[0].period"]


def test_missing_file(tmp_path):
    path = tmp_path / "no_such_deal.toml"
    out = tmp_path / "out"
    out.mkdir()
    proc = run_cli("run", str(path), "--csv", str(out / "out.csv"))
    assert_bad_input(proc, path, ["cannot read the file"], out / "out.csv")


def test_code_in_a_deal_file_is_never_run(tmp_path):
    """A string that looks like Python is data: rejected as the wrong type, not run."""
    marker = tmp_path / "pwned"
    text = (BAD / "code_injection_amount.toml").read_text().replace("/tmp/pwned", str(marker))
    path = tmp_path / "inject.toml"
    path.write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    proc = run_cli("run", str(path), "--csv", str(out / "out.csv"))
    assert_bad_input(proc, path, ["tranches[0].amount: Input should be a valid number"], out / "out.csv")
    with pytest.raises(waterfall.DealError):
        waterfall.load_deal(path)
    assert not marker.exists()


def test_numbers_are_not_coerced_from_strings_or_booleans():
    import tomllib
    data = tomllib.loads((REPO / "deals" / "examples" / "tieout.toml").read_text())
    for field, value in (("amount", "700"), ("amount", True), ("maturity_period", 40.0)):
        bad = {**data, "tranches": [{**data["tranches"][0], field: value}]}
        with pytest.raises(waterfall.DealError) as info:
            waterfall.load.deal_from_data(bad, "<test>")
        assert [p for p, _, _ in info.value.problems] == [f"tranches[0].{field}"]
