"""A one-page credit committee pack for a deal: terms with their sources, sources and
uses at close, the scenario's metrics and DSCR chart against the covenants, the seven
stress presets side by side, breakevens per tranche and the recovery with its basis.

    from waterfall.report import build_pack, write_report
    pack = build_pack("abilene")                  # runs the engine (public API only)
    write_report(pack, "abilene.html")            # self-contained HTML
    write_report(pack, "abilene.pdf")             # the HTML printed by headless Chromium
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Pack:
    """Everything the page shows, computed once: `result` is the run of `scenario`."""

    deal: object
    scenario: str
    result: object
    units: str
    terms: list = field(default_factory=list)
    source_counts: tuple = (0, 0)
    sources_uses: object = None
    outcomes: list = field(default_factory=list)
    breakevens: list = field(default_factory=list)


def build_pack(deal, scenario=None, engine: str = "auto", result=None) -> Pack:
    """Run `deal` under `scenario` (default base), base and the stress presets, and the
    breakevens on top of `scenario`; `result`, if given, is that scenario's run already
    made (`Result.report` passes itself) and is not run again."""
    from ..engine import resolve_deal, resolve_scenario, run
    from ..scenarios.presets import preset_names
    from .breakevens import breakevens
    from .figures import outcomes, sources_and_uses
    from .terms import count_sources, key_terms

    deal = resolve_deal(deal)
    scen = resolve_scenario(deal, scenario)
    result = result if result is not None else run(deal, scen, engine=engine)
    names = ["base"] + preset_names()
    shown = ([scen] if scen.name not in names else []) + names
    return Pack(deal=deal, scenario=scen.name, result=result, units=deal.deal.units,
                terms=key_terms(deal, result.program.amounts), source_counts=count_sources(deal),
                sources_uses=sources_and_uses(result, deal.timeline.construction_periods),
                outcomes=outcomes(deal, shown, engine=engine),
                breakevens=breakevens(deal, scen, engine=engine))


def write_report(pack: Pack, path) -> Path:
    """Write the pack to `path`: .html (self-contained) or .pdf (needs Chromium;
    OutputError naming what is missing otherwise). Atomic: nothing is left on failure."""
    from ..errors import OutputError
    from ..files import atomic_path
    from .html import render

    path = Path(path)
    suffix = path.suffix.lower()
    page = render(pack)
    if suffix in (".html", ".htm"):
        with atomic_path(path, ".html") as tmp:
            tmp.write_text(page, encoding="utf-8")
        return path
    if suffix == ".pdf":
        from .pdf import html_to_pdf
        with atomic_path(path, ".pdf") as tmp:
            html_to_pdf(page, tmp)
        return path
    raise OutputError(path, f"the report is written as .html or .pdf, not '{path.suffix or 'no extension'}'")


__all__ = ["Pack", "build_pack", "write_report"]
