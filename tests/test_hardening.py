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
