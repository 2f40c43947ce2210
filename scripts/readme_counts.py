"""Rewrite the README's test count ("runs about N tests") from what pytest collects.

    python scripts/readme_counts.py
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATTERN = re.compile(r"runs about [\d,]+ tests")


def collected() -> int:
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if "::" in line)


def about(count: int) -> str:
    """The count as the README states it: rounded down to ten."""
    return f"{count // 10 * 10:,}"


if __name__ == "__main__":
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = PATTERN.sub(f"runs about {about(collected())} tests", text, count=1)
    readme.write_text(new, encoding="utf-8")
    print(PATTERN.search(new).group(0))
