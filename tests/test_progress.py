"""Progress of every long command: log lines in a pipe, a bar on a terminal, a widget in a
real Jupyter kernel, and --quiet silencing it (issue 15)."""
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "waterfall", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, env=env or ENV, timeout=600)


# a line at least every half second: each command below takes several seconds
FAST_LOG = {**ENV, "WATERFALL_PROGRESS_SECONDS": "0.5"}

LONG_COMMANDS = {
    "bench": ["bench", "--scenarios", "20000", "--reference-sample", "400"],
    "run": ["run", "abilene", "--xlsx", "{tmp}/a.xlsx", "--formulas"],
    "report": ["report", "abilene", "--out", "{tmp}/a.pdf"],   # the HTML alone now takes under 0.5 s
}


@pytest.mark.parametrize("name", sorted(LONG_COMMANDS))
def test_a_long_command_in_a_pipe_logs_its_step_and_quiet_silences_it(name, tmp_path):
    args = [a.format(tmp=tmp_path) for a in LONG_COMMANDS[name]]
    loud = cli(*args, env=FAST_LOG)
    assert loud.returncode == 0, loud.stderr
    lines = [ln for ln in loud.stderr.splitlines() if ln.startswith(f"{name}: ")]
    assert lines, loud.stderr
    # "bench: the kernel on 20,000 scenarios, best of 5 (2 of 5), 3.0 s": the step, its place, the time
    assert all(" of " in ln and ln.endswith(" s") for ln in lines), lines
    quiet = cli(*args, "--quiet", env=FAST_LOG)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    # progress never changes the answer (bench's answer is a timing: only its first line is fixed)
    same = (lambda out: out.splitlines()[0]) if name == "bench" else (lambda out: out)
    assert same(quiet.stdout) == same(loud.stdout)


def test_a_long_command_on_a_terminal_draws_a_bar():
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))   # 100 columns
    proc = subprocess.Popen([sys.executable, "-m", "waterfall", "bench", "--scenarios", "20000",
                             "--reference-sample", "400"], stdin=child, stdout=subprocess.DEVNULL,
                            stderr=child, cwd=ROOT, env=ENV)
    os.close(child)
    seen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(main, 4096)
        except OSError:   # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(main)
    assert proc.returncode == 0
    text = seen.decode(errors="replace")
    assert "bench: " in text and "of 5" in text and "\r" in text, text   # a bar redrawn in place (5 stages)


def test_a_sweep_in_a_jupyter_kernel_shows_a_widget():
    import nbformat   # the [test] extra installs nbclient, ipykernel and ipywidgets
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import waterfall\n"
        "r = waterfall.sweep('tieout', {'scenario.rent_multiplier.multiplier': 'uniform:0.5:1.0'},"
        " samples=200, seed=1)\n"
        "len(r)")]
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = nb.cells[0].outputs
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, outputs                       # an ipywidgets progress bar, not log text
    assert not [o for o in outputs if o.get("name") == "stderr" and "sweep: " in o.get("text", "")]
    assert outputs[-1]["data"]["text/plain"] == "200"
