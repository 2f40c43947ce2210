"""Deal files that crashed or were accepted wrongly on main (the hardening issue's list),
each through the real CLI or loader."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import waterfall
from waterfall.errors import DealError
from waterfall.load import deal_from_data, read_document, resolve_deal_path

ROOT = Path(__file__).resolve().parent.parent
TIEOUT = ROOT / "deals" / "examples" / "tieout.toml"


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    # on main: "line 1, column 1: not valid TOML: Invalid statement"
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + TIEOUT.read_bytes())
    proc = subprocess.run([sys.executable, "-m", "waterfall", "run", str(path), "--json"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert '"min_dscr": 1.3214285714285714' in proc.stdout


def test_a_closed_pipe_is_a_quiet_exit_141():
    # on main: `waterfall schema | head -1` printed a BrokenPipeError traceback
    proc = subprocess.run(f"{sys.executable} -m waterfall schema | head -1; exit ${{PIPESTATUS[0]}}",
                          shell=True, executable="/bin/bash", capture_output=True, text=True)
    assert proc.stdout.strip() == "{"
    assert proc.returncode == 141 and "Traceback" not in proc.stderr and "Broken pipe" not in proc.stderr


def test_a_tranche_and_an_account_may_not_share_a_name():
    # on main accepted: the ledger got two 'senior.balance_open' columns
    data = read_document(resolve_deal_path("tieout"))
    data["accounts"][0]["name"] = "senior"
    data["waterfall"] = [s if s.get("account") != "dsra" else {**s, "account": "senior"} for s in data["waterfall"]]
    with pytest.raises(DealError, match=r"accounts\[0\]\.name: name already used by tranches\[0\]"):
        waterfall.compile_deal(deal_from_data(data, "<clash>"))


def test_equity_first_funding_with_no_debt_runs():
    # on main: IndexError in compile._funding
    data = read_document(resolve_deal_path("tieout"))
    data["funding"], data["tranches"][0]["amount"] = "equity_first", 0.0
    result = waterfall.run(deal_from_data(data, "<no debt>"), engine="reference")
    flows = result.cash_flows()
    assert flows["equity_in"].iloc[0] == pytest.approx(1000.0) and flows["draws"].sum() == 0.0


# --- issue 17, the rest: each case reproduced on main first (the comment says what main did) ---

import copy
import datetime as dt
import json
import os
import resource
import signal

import numpy as np

JUPITER = ROOT / "deals" / "project_jupiter.toml"


def _tieout() -> dict:
    return read_document(TIEOUT)


def _cli(*args, cwd=None, **kw):
    return subprocess.run([sys.executable, "-m", "waterfall", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, **kw)


def _rejected(data, field: str, *words: str, source: str = "case.toml") -> str:
    """The deal is rejected with a message naming the file and `field` (and `words`)."""
    with pytest.raises(DealError) as info:
        waterfall.compile_deal(deal_from_data(data, source), source)
    text = str(info.value)
    assert f"{source}: {field}:" in text, text
    for word in words:
        assert word in text, text
    return text


# Numbers that hang or overflow

def test_level_payment_over_two_billion_periods_is_rejected_at_load():
    # on main: accepted; compiling built a 2^31-long annuity (past 60 s and 7 GB)
    data = _tieout()
    data["tranches"][0]["amortisation"] = {"kind": "level_payment", "periods": 2147483647}
    _rejected(data, "tranches[0].amortisation.periods", "less than or equal to 100000", "(got 2147483647)")


@pytest.mark.parametrize("where, value", [
    (("covenants", "cure_periods"), 2**31),
    (("covenants", "accelerate_after"), 2**31 + 5),
    (("accounts", 0, "target_periods"), 2**40),
    (("leases", 0, "escalation_every_months"), 2**31),
    (("tranches", 0, "interest_only_periods"), 2**33),
])
def test_integers_past_the_kernels_range_are_rejected_at_load(where, value):
    # on main: accepted up to 2^53; the kernel truncated them to 32 bits (the compiled run
    # disagreed with the reference) or raised OverflowError
    data = _tieout()
    node = data
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in where).replace(".[", "[")
    _rejected(data, field, "less than or equal to 100000", f"(got {value})")


def test_a_rent_near_the_float_limit_is_rejected_not_written_as_inf():
    # on main: annual_rent = 1.7e308 ran to exit 0 with inf in the ledger
    data = _tieout()
    data["leases"][0]["annual_rent"] = 1.7e308
    _rejected(data, "leases[0].annual_rent", "less than or equal to 1e+12", "(got 1.7e+308)")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the overflow is made on purpose
def test_an_overflow_that_still_arises_is_an_error_never_inf():
    # A deal changed in code without validation (model_copy) can still hold a rent of
    # 1.7e308: its run must stop with a DealError, not hand back inf (on main: inf, no error).
    deal = waterfall.load_deal(TIEOUT)
    lease = deal.leases[0].model_copy(update={"annual_rent": 1.7e308})
    huge = deal.model_copy(update={"leases": [lease]})
    for engine in ("reference", "compiled"):
        if engine == "compiled" and not waterfall.engine.kernel_available():
            continue
        with pytest.raises(DealError, match="the run overflowed: .* is infinite in period"):
            waterfall.run(huge, engine=engine)


def test_a_scenario_rate_path_of_1e300_is_rejected():
    # on main: ran, lender loss 1.75e302
    data = _tieout()
    data["scenarios"].append({"name": "hot", "adjustments": [{"kind": "rate_path", "points": [[0, 1e300]]}]})
    _rejected(data, "scenarios[3].adjustments[0].points[0][1]", "at most 1, i.e. 100% a year", "(got 1e+300)")


def test_a_100_percent_monthly_escalation_is_rejected():
    # on main: OverflowError (a traceback) compounding 2^120 ... in the rent schedule
    data = _tieout()
    data["leases"][0].update(escalation=1.0, escalation_every_months=1)
    # 120 monthly doublings over the 40-quarter horizon: 2^120 = 1.3e36 > 1e9
    _rejected(data, "leases[0].escalation", "grow more than 1e+09-fold", "(got 1.0)")


def test_a_rate_that_compounds_past_any_sane_range_is_rejected():
    # 100% a year (the highest rate a deal may state), monthly, over 1,200 + 1,200 periods:
    # (1 + 1/12 x 366/360)^2400 = e^195 = 10^84-fold, past the 1e30 bound (on main the same case
    # at 500% a year gave inf in the capitalised balance)
    data = _tieout()
    data["timeline"].update(period="month", construction_periods=1200, operating_periods=1200,
                            financial_close=dt.date(1990, 1, 1))
    data["tranches"][0].update(capitalise_interest="always", maturity_period=2400,
                               rate={"kind": "fixed", "annual": 1.0})
    data["tranches"][0]["amortisation"]["periods"] = 2400
    data["leases"][0]["escalation"] = 0.0
    _rejected(data, "tranches[0].rate", "compound more than 1e+30-fold")


# Dates and shapes

@pytest.mark.parametrize("close, field, words", [
    ("1899-06-30", "timeline.financial_close", ["from 1901-01-01 to 2199-12-01", "(got 1899-06-30)"]),
    ("2190-01-15", "timeline.operating_periods", ["the horizon ends in 2200", "(got 40)"]),
])
def test_dates_outside_the_supported_range_are_a_clean_exit_2(tmp_path, close, field, words):
    # on main: a QuantLib RuntimeError traceback ("year 1899 out of bound")
    path = tmp_path / "dated.toml"
    path.write_text(TIEOUT.read_text().replace("financial_close = 2026-01-15", f"financial_close = {close}"))
    assert f"financial_close = {close}" in path.read_text()
    proc = _cli("run", path, "--engine", "reference")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{path}: {field}:" in proc.stderr
    for word in words:
        assert word in proc.stderr


def test_dotted_keys_990_deep_are_a_clean_rejection(tmp_path):
    # on main: RecursionError traceback (the parsed table was walked recursively)
    path = tmp_path / "deep.toml"
    path.write_text(TIEOUT.read_text() + "\n[extra]\n" + ".".join(["k"] * 990) + " = 1\n")
    proc = _cli("run", path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "nested too deeply (at most 24 levels" in proc.stderr and str(path) in proc.stderr


def test_json_nested_300_deep_says_so(tmp_path):
    # on main: 'not valid JSON: ...' or 'Invalid JSON' naming nothing useful
    data = json.loads(json.dumps(_tieout(), default=str))
    data["deal"]["assumptions"] = json.loads("[" * 300 + "]" * 300)
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(data))
    proc = _cli("run", path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{path}: deal.assumptions" in proc.stderr and "nested too deeply" in proc.stderr


def test_a_hundred_thousand_tranches_are_refused_by_count():
    # on main: validated, then compiled in quadratic time (minutes)
    data = _tieout()
    data["tranches"] = [dict(data["tranches"][0], name=f"t{i}") for i in range(100_000)]
    with pytest.raises(DealError) as info:
        deal_from_data(data, "many.toml")
    assert str(info.value) == "many.toml: tranches: 100,000 items; at most 200"


def test_a_100000_character_name_gives_a_short_message():
    # on main: a 200 KB message (the name repeated in every line that mentions it)
    data = _tieout()
    data["tranches"][0]["name"] = "n" * 100_000
    with pytest.raises(DealError) as info:
        deal_from_data(data, "long.toml")
    lines = str(info.value).splitlines()
    assert lines and all(len(line) <= 600 for line in lines), max(map(len, lines))
    assert all(line.startswith("long.toml: ") for line in lines)
    assert len(str(info.value)) < 5_000


# Checks that miss

def test_a_sized_tranche_cannot_take_debt_past_the_cost():
    # on main: 700 given + a sized junior of 1,000 (capped at 1.0 x cost) = 1,700 of debt on
    # a 1,000 asset, accepted. At a target DSCR of 0.05 the base-case sizing PV is far above
    # the cap, so the junior is sized at max_gearing x cost = 1,000 and the total is 1,700.
    data = _tieout()
    junior = copy.deepcopy(data["tranches"][0])
    junior.pop("amount")
    junior.update(name="junior", sizing={"target_dscr": 0.05, "max_gearing": 1.0})
    data["tranches"].append(junior)
    data["waterfall"][2:2] = [{"step": "interest", "tranche": "junior"},
                              {"step": "principal", "tranche": "junior"}]
    deal = deal_from_data(data, "sized.toml")
    with pytest.raises(DealError) as info:
        waterfall.run(deal, engine="reference")
    assert str(info.value).startswith("sized.toml: tranches: debt commitments 1700 (sized: junior 1000) "
                                      "exceed total asset cost 1000")


def test_a_structural_scenario_error_names_the_file_and_the_adjustment(tmp_path):
    # on main: "<deal>: timeline.construction_periods: at most 1200 periods" (no file, no scenario)
    path = tmp_path / "delayed.toml"
    path.write_text(TIEOUT.read_text() + '\n[[scenarios]]\nname = "forever"\nadjustments = [{ kind = '
                    '"construction_delay", delay = 1300, only_under_construction = false }]\n')
    proc = _cli("run", path, "--scenario", "forever", "--engine", "reference")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"{path}: scenarios[3].adjustments[0]: the scenario makes the deal invalid: "), first


def test_two_construction_delays_add_up():
    # on main: delays of 3 and 5 on Project Jupiter's 80 periods gave 85 (the second replaced
    # the first). 80 + 3 + 5 = 88; the lease (rent from COD, period 9) starts at 9 + 8 = 17.
    deal = waterfall.load_deal(JUPITER)
    scen = waterfall.Scenario(name="two", adjustments=[{"kind": "construction_delay", "delay": 3},
                                                       {"kind": "construction_delay", "delay": 5}])
    result = waterfall.run(deal, scen, engine="reference")
    revenue = result.cash_flows()["revenue"]
    assert len(revenue) - 1 == 88
    assert revenue.iloc[9:17].sum() == 0.0 and revenue.iloc[17] == pytest.approx(1955.0 / 4)


def test_a_delay_with_damages_and_a_renewal_runs():
    # on main: KeyError 'renewals' (the builder's damages lease had no renewals), shown as
    # "error: renewals". Damages: 0.25 x the first quarter's rent (1,955 / 4 = 488.75) per
    # period of delay, 3 periods = 366.5625, under the cap 0.02 x 23,000 = 460: paid in periods
    # 9, 10, 11 (the original COD on), when the moved lease has not started yet.
    deal = waterfall.load_deal(JUPITER)
    scen = waterfall.Scenario(name="ld-renew", adjustments=[
        {"kind": "construction_delay", "delay": 3, "ld_rent_share": 0.25, "ld_cap": 0.02},
        {"kind": "lease_option", "decision": "renew", "option": 1}])
    revenue = waterfall.run(deal, scen, engine="reference").cash_flows()["revenue"]
    assert revenue.iloc[9:12].tolist() == pytest.approx([122.1875] * 3)
    assert revenue.iloc[12] == pytest.approx(488.75)


def test_two_delays_with_damages_pay_under_one_cap():
    # Damages of 0.25 x 488.75 = 122.1875 a period for 3 + 5 = 8 periods would be 977.5;
    # the cap, 0.02 x 23,000 = 460, allows 3 full periods (366.5625) and 93.4375 in a fourth.
    deal = waterfall.load_deal(JUPITER)
    scen = waterfall.Scenario(name="two-ld", adjustments=[
        {"kind": "construction_delay", "delay": 3, "ld_rent_share": 0.25, "ld_cap": 0.02},
        {"kind": "construction_delay", "delay": 5, "ld_rent_share": 0.25, "ld_cap": 0.02}])
    revenue = waterfall.run(deal, scen, engine="reference").cash_flows()["revenue"]
    assert revenue.iloc[9:17].tolist() == pytest.approx([122.1875] * 3 + [93.4375] + [0.0] * 4)
