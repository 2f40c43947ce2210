"""Bad entity graphs: every file in tests/bad_entities/ (scenarios/entities.toml with one
defect) makes `waterfall portfolio --entities FILE` exit 2 with a message naming the
file, the field and the bad value; no traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

import waterfall
from waterfall.cli import main
from waterfall.contagion import check_graph, load_graph

BAD = Path(__file__).resolve().parent / "bad_entities"

EXPECTED = {
    "pd_above_one.toml": ["obligors[0].default_probability.annual: Input should be less than 1", "(got 1.2)"],
    "lab_pd_above_one.toml": ["lab.default_probability.annual: Input should be less than 1", "(got 1.5)"],
    "lab_without_pd.toml": ["simulation: simulation.obligors: 'OpenAI' has no default_probability"],
    "pd_zero.toml": ["obligors[3].default_probability.annual: Input should be greater than 0", "(got 0.0)"],
    "correlation_not_psd.toml": ["simulation.correlation: correlation is not positive semi-definite "
                                 "(smallest eigenvalue -0.8)", "(got [[1.0, 0.9, -0.9]"],
    "correlation_not_square.toml": ["simulation.correlation: correlation must be 3 x 3", "(got [[1.0, 0.5], [0.5, 1.0]])"],
    "simulation_unknown_obligor.toml": ["simulation: simulation.obligors names no obligor: 'Softbank'"],
    "unknown_priority_entity.toml": ["lab.priority[0]: no such obligor", "(got 'Orcale')"],
    "unknown_deal.toml": ["deals[1].deal: no such deal", "(got 'vantage_frontierr')"],
    "unknown_instrument_deal.toml": ["obligors[0].instruments[0].deal: no such deal", "(got 'oracle_notes_2052')"],
    "unknown_tranche.toml": ["obligors[0].instruments[0].tranche: no such tranche in deal 'oracle_notes_2025'",
                             "(got 'notes-2031')"],
    "unknown_guaranteed_deal.toml": ["obligors[1].guarantees[0]: no such deal", "(got 'coreweave_ddtl4')"],
    "guarantee_cycle.toml": ["obligors.guarantees: guarantees form a cycle: Oracle -> SoftBank Group -> Oracle"],
    "instrument_without_terms.toml": ["obligors[0].instruments[2]", "missing: coupon, maturity"],
    "bad_seniority.toml": ["obligors[1].instruments[0].seniority:", "(got 'junior')"],
    "collateral_above_one.toml": ["obligors[1].instruments[0].collateral: Input should be less than or equal to 1",
                                  "(got 1.8)"],
    "negative_min_cash.toml": ["obligors[0].market.min_cash: Input should be greater than or equal to 0", "(got -10.0)"],
    "zero_max_leverage.toml": ["obligors[0].market.max_leverage: Input should be greater than 0", "(got 0.0)"],
    "ltv_as_percent.toml": ["obligors[3].market.max_ltv: Input should be less than or equal to 1", "(got 50.0)"],
    "coupon_as_percent.toml": ["obligors[0].instruments[3].coupon: must be an annual rate as a decimal", "(got 4.0)"],
}


def test_every_file_has_an_expectation():
    assert sorted(p.name for p in BAD.glob("*.toml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_entity_graph_exits_2_naming_file_field_value(name, capsys):
    path = BAD / name
    assert main(["portfolio", "--entities", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for part in EXPECTED[name]:
        assert f"{path}: " in err and part in err, (part, err)


def test_a_linked_deal_whose_lease_names_an_unknown_issuer():
    graph = load_graph()
    deals = {d.name: d for d in map(waterfall.load_deal, [d.deal for d in graph.deals])}
    data = deals["abilene"].model_dump()
    data["leases"][0]["issuer"] = "Orakle"
    deals["abilene"] = waterfall.Deal.model_validate(data)
    problems = check_graph(graph, deals)
    assert any(field == "deals[0].deal" and "leases[0].issuer names no entity" in msg and value == "Orakle"
               for field, msg, value in problems)
