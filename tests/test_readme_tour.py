"""The README's Quick tour runs as written: every shell line through the installed CLI, and
the Python block as one script, in a scratch folder beside the repository's deals (the
outputs they write land there, not in the checkout)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOUR = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quick tour", 1)[1].split("\n## ", 1)[0]
SHELL = [ln for ln in re.search(r"```bash\n(.*?)```", TOUR, re.S).group(1).splitlines() if ln.strip()]
PYTHON = re.search(r"```python\n(.*?)```", TOUR, re.S).group(1)
ENV = {**os.environ, "PYTHONPATH": str(ROOT),
       "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    where = tmp_path_factory.mktemp("tour")
    (where / "deals").symlink_to(ROOT / "deals")
    return where


def test_the_tour_has_the_commands_it_promises():
    assert len(SHELL) >= 15 and all(ln.startswith("waterfall ") for ln in SHELL), SHELL


@pytest.mark.parametrize("line", SHELL, ids=[ln.split("#")[0].strip()[:60] for ln in SHELL])
def test_each_shell_line_of_the_tour_runs(line, scratch):
    proc = subprocess.run(["bash", "-c", line.replace("waterfall ", f"{sys.executable} -m waterfall ", 1)],
                          capture_output=True, text=True, cwd=scratch, env=ENV, timeout=600)
    assert proc.returncode == 0, (line, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    if ">" not in line.split("#")[0]:
        assert proc.stdout.strip(), line  # every tour command prints something (or writes its file)


def test_the_python_block_of_the_tour_runs(scratch):
    script = PYTHON + "\nprint('tour ok')\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=scratch,
                          env=ENV, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("tour ok")
    for made in ("tieout.xlsx", "tieout.html", "charts/dscr.png"):
        assert (scratch / made).stat().st_size > 0, made
