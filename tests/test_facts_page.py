"""docs/facts.md is the deal files' provenance, generated and current."""
from __future__ import annotations

from pathlib import Path

import waterfall
from waterfall.load import builtin_deals
from waterfall.output.facts import markdown, provenance_rows

ROOT = Path(__file__).resolve().parents[1]


def _deals():
    return {p.stem: waterfall.load_deal(p) for p in builtin_deals()}


def test_the_facts_page_is_current():
    assert (ROOT / "docs" / "facts.md").read_text(encoding="utf-8") == markdown(_deals()), \
        "docs/facts.md is stale: run python scripts/facts_page.py"


def test_every_provenance_entry_is_on_the_page_with_its_source():
    page = (ROOT / "docs" / "facts.md").read_text(encoding="utf-8")
    deals = _deals()
    frontier = deals["vantage_frontier"]
    rows = provenance_rows(frontier)
    # the facility's amount: 23,250, reported, with the two sources the file gives
    amount = [r for r in rows if r[0] == "tranches[0].amount"]
    assert amount and amount[0][1] == 23250.0 and amount[0][2].confidence == "reported"
    assert "| `tranches[0].amount` | 23250.0 | reported | <https://www.tradingkey.com/" in page
    for name, deal in deals.items():
        section = page.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert section.count("\n| `") == len(provenance_rows(deal)), name


def test_the_readme_test_count_is_what_pytest_collects():
    """scripts/readme_counts.py writes it; rerun it when tests are added or removed."""
    import importlib.util
    import re

    spec = importlib.util.spec_from_file_location("readme_counts", ROOT / "scripts" / "readme_counts.py")
    counts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(counts)
    stated = re.search(r"runs about ([\d,]+) tests", (ROOT / "README.md").read_text(encoding="utf-8")).group(1)
    assert stated == counts.about(counts.collected()), "README's test count is stale: run python scripts/readme_counts.py"
