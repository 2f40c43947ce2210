"""`waterfall portfolio --xlsx`: the workbook read back holds what --json says."""
from __future__ import annotations

import json
import subprocess
import sys

import openpyxl
import pytest


def test_portfolio_workbook_matches_json(tmp_path):
    path = tmp_path / "portfolio.xlsx"
    proc = subprocess.run([sys.executable, "-m", "waterfall", "portfolio", "--scenario", "slow-adoption",
                           "--xlsx", str(path), "--json"], capture_output=True, text=True, check=True)
    data = json.loads(proc.stdout)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Deals", "Lenders", "Sponsors", "About"]
    rows = list(wb["Deals"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:2] == ("deal", "default_period")
    by_deal = {d["deal"]: d for d in data["deals"]}
    assert {r[0] for r in body} == set(by_deal)
    for r in body:
        record = dict(zip(header, r))
        expected = by_deal[record["deal"]]
        for key in ("debt", "exposure", "loss", "recovery"):
            assert record[key] == pytest.approx(expected[key], rel=1e-12, abs=1e-9)
        assert record["default_period"] == expected["default_period"]
    lenders = list(wb["Lenders"].iter_rows(values_only=True))
    assert lenders[0][0] == "lender" and len(lenders) > 5
    assert sum(r[lenders[0].index("loss")] for r in lenders[1:]) == pytest.approx(
        data["totals"]["loss"], rel=1e-9)
