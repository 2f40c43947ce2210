"""PNG plots: DSCR by scenario with covenant lines, tranche balances, uses of cash."""
from __future__ import annotations

from pathlib import Path

import pytest

import waterfall
from waterfall.cli import main
from waterfall.output import plots
from waterfall.output.plots import PLOTS, write_plots

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def _check(directory: Path) -> None:
    for name in PLOTS:
        data = (directory / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5_000, name
    assert not [p for p in directory.iterdir() if p.name.startswith(".")]   # no temp files left


@pytest.mark.parametrize("scenario", ["base", "tenant-half-pay"])
def test_write_plots(tmp_path, scenario):
    deal = waterfall.load_deal(ROOT / "deals/examples/tieout.toml")
    paths = write_plots(waterfall.run(deal, scenario), tmp_path / "plots", deal=deal)
    assert [p.name for p in paths] == list(PLOTS)
    _check(tmp_path / "plots")


def test_cli_plot(tmp_path, capsys):
    assert main(["run", "tieout", "--scenario", "renegotiation", "--plot", str(tmp_path)]) == 0
    assert "plots written" in capsys.readouterr().out
    _check(tmp_path)


def test_failed_plot_leaves_no_partial_file(tmp_path, monkeypatch):
    deal = waterfall.load_deal(ROOT / "deals/examples/tieout.toml")
    result = waterfall.run(deal)

    def broken_savefig(self, fname, **kwargs):
        Path(fname).write_bytes(b"half")
        raise OSError("disk full")
    import matplotlib.figure
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    with pytest.raises(OSError):
        write_plots(result, tmp_path, deal=deal)
    assert list(tmp_path.iterdir()) == []
    assert plots.PLOTS
