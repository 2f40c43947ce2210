"""Write docs/steps.md from the step registry (waterfall/steps)."""
from pathlib import Path

from waterfall.steps.docs import markdown

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "docs" / "steps.md"
    out.write_text(markdown(), encoding="utf-8")
    print(f"wrote {out}")
