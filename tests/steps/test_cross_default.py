"""Cross-default, by hand: the tie-out deal with `covenants.cross_default = "accelerate"`,
its linked obligor defaulting in quarter 10 (an `obligor_default` scenario)."""
from __future__ import annotations

import pytest

import waterfall
from waterfall.load import deal_from_data, read_document, resolve_deal_path
from waterfall.model import Scenario

from ..invariants import assert_all
from .handworked import ENGINES


def _deal(cross: str):
    data = read_document(resolve_deal_path("tieout"))
    data["covenants"]["cross_default"] = cross
    return deal_from_data(data, "<tie-out with cross-default>")


SCENARIO = Scenario.model_validate({"name": "parent-defaults", "adjustments": [
    {"kind": "obligor_default", "obligor": "Parent", "from_period": 10}]})


@pytest.mark.parametrize("engine", ENGINES)
def test_a_linked_obligor_default_accelerates_when_the_covenants_say_so(engine):
    result = waterfall.run(_deal("accelerate"), SCENARIO, engine=engine)
    m, flows = result.metrics, result.cash_flows()
    # By hand. Base-case DSCR stays above 1.20 (min 37/28): no sweep, so the opening
    # balance of q10 is 700 - 9 x 17.5 = 542.5. The cross-default is found before the
    # steps: nothing is paid in q10. Claim = 542.5 + 0 + 542.5 x 1.5% = 550.6375.
    # Pool: CFADS q10 = 40 x 1.02^2 - 3 = 38.616; the DSRA set in q9 = next quarter's debt
    # service on 542.5 = 8.1375 + 17.5 = 25.6375; sale at once (months_to_sale 0) at
    # 1,000 x (1 - 10/40) x (1 - 0.5) = 375. Pool 439.2535: interest 8.1375, principal
    # 431.116, write-off 542.5 - 431.116 = 111.384; nothing to equity.
    assert m["default_period"] == 10 and m["default_cause"] == "cross_default"
    assert m["lender_claim"] == pytest.approx(550.6375, abs=1e-9)
    assert m["lender_received"] == pytest.approx(439.2535, abs=1e-9)
    assert m["lender_loss"] == pytest.approx(111.384, abs=1e-9)
    assert flows["senior.write_off"].iloc[10] == pytest.approx(111.384, abs=1e-9)
    assert flows["seizure_net"].iloc[10] == pytest.approx(375.0, abs=1e-9)
    assert flows["equity_distribution"].iloc[10] == pytest.approx(0.0, abs=1e-9)
    assert_all(result.program, result.ledger)


@pytest.mark.parametrize("engine", ENGINES)
def test_without_the_covenant_the_obligor_default_changes_nothing(engine):
    plain = waterfall.run(_deal("none"), SCENARIO, engine=engine)
    base = waterfall.run(_deal("none"), "base", engine=engine)
    assert plain.metrics["default_period"] is None
    assert plain.metrics["equity_irr"] == pytest.approx(base.metrics["equity_irr"], rel=1e-12)


def _cure_deal(tenant_event: str):
    data = read_document(resolve_deal_path("tieout"))
    data["covenants"].update({"default_dscr": 1.05, "cure_periods": 0, "tenant_event": tenant_event,
                              "equity_cure": {"max_cures": 2}})
    return deal_from_data(data, "<tie-out with an equity cure>")


DARK = Scenario.model_validate({"name": "dark-q16", "adjustments": [
    {"kind": "tenant_default", "period": 16, "downtime_periods": 30, "relet_haircut": 1.0}]})


@pytest.mark.parametrize("engine", ENGINES)
def test_no_equity_cure_is_paid_into_a_period_another_event_accelerates(engine):
    # By hand. q16: opening balance 700 - 15 x 17.5 = 437.5; debt service 437.5 x 1.5% +
    # 17.5 = 24.0625; the tenant pays nothing: CFADS = -3, DSCR < 1.05. A cure would need
    # 1.05 x 24.0625 + 3 = 28.265625.
    # tenant_event = "accelerate": the lease stopping accelerates in q16, so no cure is paid.
    accelerated = waterfall.run(_cure_deal("accelerate"), DARK, engine=engine)
    flows = accelerated.cash_flows()
    assert accelerated.metrics["default_period"] == 16 and accelerated.metrics["default_cause"] == "tenant"
    assert flows["equity_cure"].sum() == 0.0
    # tenant_event = "none": the cure is paid (DSCR exactly 1.05) and q16's debt service with it.
    cured = waterfall.run(_cure_deal("none"), DARK, engine=engine)
    flows = cured.cash_flows()
    assert flows["equity_cure"].iloc[16] == pytest.approx(28.265625, abs=1e-9)
    assert flows["dscr"].iloc[16] == pytest.approx(1.05, rel=1e-12)
    assert flows["senior.interest_paid"].iloc[16] == pytest.approx(6.5625, abs=1e-9)
    assert flows["senior.principal_paid"].iloc[16] == pytest.approx(17.5, abs=1e-9)
    assert_all(cured.program, cured.ledger)
