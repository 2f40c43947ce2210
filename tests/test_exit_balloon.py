"""A balloon that the deal's own planned exit sale pays in the same period is not an event
of default: the exit proceeds are a source of the period before maturities are tested."""
from __future__ import annotations

import datetime as dt

import pytest

import waterfall
from waterfall.load import deal_from_data


def _deal(exit_share: float):
    # 4 quarters, 1,000 of land (constant value), a 600 bullet at 8% (30/360: 12.0 a
    # quarter), rent 40 a quarter, exit at the horizon's end at value_share x 1,000 less 2%.
    return deal_from_data({
        "deal": {"name": "exit-balloon", "kind": "example"},
        "timeline": {"financial_close": dt.date(2026, 1, 15), "period": "quarter", "operating_periods": 4},
        "assets": [{"name": "site", "land": {"cost": 1000.0, "curve": {"kind": "constant", "level": 1.0}}}],
        "leases": [{"tenant": "T", "annual_rent": 160.0, "term_months": 12}],
        "tranches": [{"name": "loan", "amount": 600.0, "rate": {"kind": "fixed", "annual": 0.08},
                      "day_count": "30/360", "amortisation": {"kind": "bullet"}, "maturity_period": 4}],
        "waterfall": [{"step": "interest", "tranche": "loan"}, {"step": "principal", "tranche": "loan"},
                      {"step": "distribute"}],
        "exit": {"value_share": exit_share, "cost_share": 0.02},
    }, "<exit-balloon>")


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_exit_sale_pays_the_balloon_without_a_default(engine):
    if engine == "compiled" and not waterfall.kernel_available():
        pytest.skip("kernel not built")
    result = waterfall.run(_deal(0.9), engine=engine)
    flows = result.cash_flows()
    # q4: exit 0.9 x 1000 x 0.98 = 882; cash 40 + 882 = 922; interest 12, balloon 600 paid;
    # equity gets 922 - 612 = 310
    assert result.metrics["default_period"] is None
    assert flows["exit_proceeds"].iloc[4] == pytest.approx(882.0)
    assert flows["loan.principal_paid"].iloc[4] == pytest.approx(600.0)
    assert flows["equity_distribution"].iloc[4] == pytest.approx(310.0)


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_an_exit_too_small_for_the_balloon_is_a_maturity_default(engine):
    if engine == "compiled" and not waterfall.kernel_available():
        pytest.skip("kernel not built")
    # exit 0.5 x 1000 x 0.98 = 490; cash 530 pays interest 12 and 518 of the 600 balloon
    result = waterfall.run(_deal(0.5), engine=engine)
    m = result.metrics
    assert m["default_period"] == 4 and m["default_cause"] == "maturity"
    assert result.cash_flows()["loan.principal_paid"].iloc[4] == pytest.approx(518.0)
    assert m["lender_loss"] == pytest.approx(82.0)
