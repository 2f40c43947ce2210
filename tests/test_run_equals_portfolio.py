"""One answer per question: `waterfall run DEAL --scenario PRESET` gives exactly the
numbers `waterfall portfolio --scenario PRESET` gives for that deal, for every deal and
preset; `--direct-only` runs the preset's direct effects alone and says so."""
from __future__ import annotations

import json

import pytest

from waterfall.cli import main
from waterfall.commands.portfolio import portfolio_deals, run_portfolio
from waterfall.scenarios.presets import preset_names

DEALS = sorted(d.name for d in portfolio_deals())
PORTFOLIOS: dict = {}


def portfolio_row(preset: str, deal: str) -> dict:
    if preset not in PORTFOLIOS:
        PORTFOLIOS[preset] = {r["deal"]: r for r in run_portfolio(preset)["deals"]}
    return PORTFOLIOS[preset][deal]


@pytest.mark.parametrize("preset", preset_names())
@pytest.mark.parametrize("deal", DEALS)
def test_run_under_a_preset_is_the_portfolio_row(deal, preset, capsys):
    assert main(["run", deal, "--scenario", preset, "--json"]) == 0
    chain = json.loads(capsys.readouterr().out)["chain"]
    row = portfolio_row(preset, deal)
    for key in ("default_period", "driver", "notes"):
        assert chain[key] == row[key], key
    for key in ("exposure", "recovery", "loss"):
        assert chain[key] == pytest.approx(row[key], rel=1e-12, abs=1e-9), key
    assert [t["loss"] for t in chain["tranches"]] == pytest.approx([t["loss"] for t in row["tranches"]], abs=1e-9)


def test_direct_only_says_so_and_differs_from_the_chain(capsys):
    # Abilene under technology-displaced: through the chain Oracle walks (a lease default
    # in quarter 12); the preset's direct effects alone (asset values, a dated market
    # closure) leave the rent paid
    assert main(["run", "abilene", "--scenario", "technology-displaced", "--json", "--direct-only"]) == 0
    captured = capsys.readouterr()
    direct = json.loads(captured.out)
    assert "chain" not in direct and "direct effects only" in captured.err
    assert any("direct effects only" in w for w in direct["warnings"])
    row = portfolio_row("technology-displaced", "abilene")
    assert row["default_period"] is not None and direct["metrics"]["default_period"] != row["default_period"]


def test_text_output_shows_the_chain(capsys):
    # Oracle's notes are its instruments: under technology-displaced Oracle walks from its
    # campuses while solvent (borrowing the damages while its market is open), then, with the
    # lab paying 31-40% and its market shut, runs out of cash (docs/issuers.md): the text says
    # it defaults, and that every instrument accelerates on that one date
    assert main(["run", "oracle_notes_2025", "--scenario", "technology-displaced"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("oracle_notes_2025: instruments of Oracle") and "Oracle defaults on 20" in out
    assert "(liquidity); every instrument accelerates that day" in out
    assert main(["run", "abilene", "--scenario", "technology-displaced"]) == 0
    out = capsys.readouterr().out
    assert "walks away while solvent (owes damages)" in out and "claim (walks) on Oracle" in out


def test_an_issuer_instrument_under_its_own_scenario_runs_through_its_issuer():
    # `run oracle_borrowing_programme --scenario refi-closed` printed a 57% loss from the deal
    # file's cash-slice template (with a warning that it was the standalone view); now the
    # file's scenario is a stress on Oracle, run by the portfolio's path, and the warning is gone
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "waterfall", "run", "oracle_borrowing_programme", "--scenario",
                           "refi-closed", "--quiet"], capture_output=True, text=True, cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "standalone view" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout.startswith("oracle_borrowing_programme: instruments of Oracle; under 'refi-closed'")
    assert "a stress on Oracle: Oracle's market shut 2035-06-02 to 2038-12-02" in proc.stdout
    base = subprocess.run([sys.executable, "-m", "waterfall", "run", "oracle_borrowing_programme", "--quiet"],
                          capture_output=True, text=True, cwd=root, timeout=300)
    assert base.returncode == 0 and "instrument of issuer" not in base.stderr
