"""Write docs/facts.md from the built-in deals' provenance (waterfall/output/facts.py)."""
from pathlib import Path

import waterfall
from waterfall.load import builtin_deals
from waterfall.output.facts import markdown

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "docs" / "facts.md"
    deals = {p.stem: waterfall.load_deal(p) for p in builtin_deals()}
    out.write_text(markdown(deals), encoding="utf-8")
    print(f"wrote {out}")
