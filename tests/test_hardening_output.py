"""Output that stays valid whatever the names in a deal file (issue 17): control characters
escaped in workbooks and on the terminal, text over Excel's cell limit cut with a marker
and a warning, mathtext never parsed in plot labels, a write that fails (a full disk, a
file-size limit) one line and exit 2 with nothing half-written. Each failed on main."""
from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent
TIEOUT = ROOT / "deals" / "examples" / "tieout.toml"
NASTY = "half\x00pay \x1b[31mred\x1b[0m \x1b]0;title\x07"


def _deal(tmp_path, name="tieout", scenario="tenant-half-pay", description=None) -> Path:
    text = TIEOUT.read_text()
    assert 'name = "tieout"' in text and 'name = "tenant-half-pay"' in text
    text = text.replace('name = "tieout"', f"name = {_toml(name)}")
    text = text.replace('name = "tenant-half-pay"', f"name = {_toml(scenario)}")
    if description is not None:
        text = text.replace('description = "Rent x 0.50 from quarter 13 on."', f"description = {_toml(description)}")
    path = tmp_path / "named.toml"
    path.write_text(text)
    return path


def _toml(text: str) -> str:
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text) + '"'


def _cli(*args, cwd=None, preexec_fn=None):
    return subprocess.run([sys.executable, "-m", "waterfall", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, preexec_fn=preexec_fn)


def test_control_characters_in_a_scenario_name_make_a_workbook_every_reader_opens(tmp_path):
    # on main: the NUL and ESC went raw into the XML; openpyxl (like Excel) refused the file
    path = _deal(tmp_path, scenario=NASTY)
    out = tmp_path / "w.xlsx"
    proc = _cli("run", path, "--xlsx", out, "--engine", "reference")   # its Scenarios sheet lists every one
    assert proc.returncode == 0, proc.stderr
    book = openpyxl.load_workbook(out)
    texts = [v for ws in book for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert "half\\x00pay \\x1b[31mred\\x1b[0m \\x1b]0;title\\x07" in texts


def test_text_over_the_cell_limit_is_cut_with_a_marker_and_a_warning(tmp_path):
    # on main: cut silently (xlsxwriter keeps the first 32,767 characters and says nothing)
    path = _deal(tmp_path, description="d" * 40_000)
    out = tmp_path / "w.xlsx"
    proc = _cli("run", path, "--scenario", "tenant-half-pay", "--xlsx", out, "--engine", "reference")
    assert proc.returncode == 0, proc.stderr
    assert "warning: a text cell on sheet 'Summary' was longer than Excel's limit of 32,767" in proc.stderr
    texts = [v for ws in openpyxl.load_workbook(out) for row in ws.iter_rows(values_only=True) for v in row
             if isinstance(v, str) and v.startswith("ddd")]
    assert texts and all(len(v) == 32_767 for v in texts)
    assert all(v.endswith(" ... [cut: 40,000 characters, Excel's cell limit is 32,767]") for v in texts)


def _file_size_limit(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("option, name", [("--xlsx", "w.xlsx"), ("--csv", "flows.csv")])
def test_a_write_that_fails_is_one_line_and_exit_2_with_nothing_left(tmp_path, option, name):
    # on main (--xlsx): a FileCreateError traceback, status 1. The write fails as on a full
    # disk: the kernel refuses it (here the file-size limit, EFBIG; a full disk is ENOSPC).
    proc = _cli("run", TIEOUT, option, tmp_path / name, "--engine", "reference",
                preexec_fn=_file_size_limit(4096))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"error: cannot write {tmp_path / name}: File too large"
    assert list(tmp_path.iterdir()) == []   # no output, no temporary file


def test_a_deal_name_that_reads_as_mathtext_plots(tmp_path):
    # on main: "a $x^$ b" reached matplotlib's mathtext parser: ParseSyntaxException, status 1
    path = _deal(tmp_path, name="a $x^$ b")
    proc = _cli("run", path, "--plot", tmp_path / "plots", "--engine", "reference")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["balances.png", "cash_flows.png", "dscr.png"]


def test_terminal_escapes_in_names_do_not_reach_the_terminal(tmp_path):
    # on main: the run summary and the scenario list printed ESC sequences raw
    path = _deal(tmp_path, name="deal " + NASTY, scenario=NASTY)
    run = _cli("run", path, "--engine", "reference")
    listed = _cli("scenarios", path)
    for proc in (run, listed):
        assert proc.returncode == 0, proc.stderr
        assert "\x1b" not in proc.stdout and "\x00" not in proc.stdout and "\x07" not in proc.stdout
    assert "half\\x00pay \\x1b[31mred" in run.stdout and "half\\x00pay \\x1b[31mred" in listed.stdout


def test_error_messages_escape_terminal_sequences(tmp_path):
    # on main: "waterfall: tranche '<ESC>[2Jsenior' has no interest step" went to stderr raw
    # (the name is in the message, not only in the repr of the value)
    text = TIEOUT.read_text()
    assert text.count('name = "senior"') == 1
    path = tmp_path / "esc.toml"
    path.write_text(text.replace('name = "senior"', 'name = "\\u001b[2Jsenior"'))
    proc = _cli("run", path)
    assert proc.returncode == 2 and "\x1b" not in proc.stderr, proc.stderr
    assert "tranche '\\x1b[2Jsenior' has no interest step" in proc.stderr
