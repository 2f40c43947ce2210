"""docs/first-deal.md, run line by line: the TOML it says to save is saved, every `bash`
block's commands run through the real command line, every `python` block runs in order in
one namespace (its asserts are the tutorial's hand-derived figures), and every `text`
block (the output it shows) must appear in what the commands before it printed ('...'
lines stand for output not shown). A change that makes the tutorial wrong fails here."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "first-deal.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def blocks(text: str):
    """(language, code, text before the block) for each fenced block."""
    last = 0
    for match in BLOCK.finditer(text):
        yield match.group(1), match.group(2), text[last:match.start()]
        last = match.end()


def _run_bash(code: str, cwd: Path) -> str:
    out = []
    for line in code.splitlines():
        line = line.split("  #")[0].strip()
        if not line or line.startswith("#"):
            continue
        argv = shlex.split(line)
        assert argv[0] == "waterfall", f"the tutorial runs only waterfall commands: {line}"
        proc = subprocess.run([sys.executable, "-m", "waterfall", *argv[1:]], cwd=cwd, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, f"{line}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr
        out.append(proc.stdout)
    return "\n".join(out)


def _shown_in(expected: str, printed: str) -> None:
    lines = [" ".join(line.split()) for line in printed.splitlines()]
    for want in expected.splitlines():
        want = " ".join(want.split())
        if want and want != "...":
            assert want in lines, f"the tutorial shows {want!r}; the command printed:\n{printed}"


def test_the_first_deal_tutorial_runs_as_written(tmp_path, monkeypatch):
    text = DOC.read_text()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {}
    printed, ran = "", {"toml": 0, "bash": 0, "python": 0, "text": 0}
    for language, code, before in blocks(text):
        ran[language] = ran.get(language, 0) + 1
        if language == "toml":
            name = re.findall(r"Save this as `([^`]+)`", before)[-1]
            (tmp_path / name).write_text(code)
        elif language == "bash":
            printed = _run_bash(code, tmp_path)
        elif language == "text":
            _shown_in(code, printed)
        elif language == "python":
            exec(compile(code, f"{DOC.name} (python block)", "exec"), namespace)
    assert ran["toml"] == 1 and ran["bash"] >= 3 and ran["text"] >= 3 and ran["python"] >= 1, ran
    assert (tmp_path / "my_deal.xlsx").stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["balances.png", "cash_flows.png", "dscr.png"]
