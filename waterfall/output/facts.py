"""docs/facts.md: the facts and sources behind the built-in deals, built from the deal
files' own provenance (every number from outside carries a source and a confidence) and
their labelled assumptions. Regenerate with `python scripts/facts_page.py`; a test checks
the page is current."""
from __future__ import annotations

from pydantic import BaseModel

from ..model.base import Part


def _cell(value) -> str:
    if isinstance(value, BaseModel):   # a part: its fields, without its own provenance
        value = value.model_dump(exclude={"provenance"}, exclude_none=True)
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 160 else text[:157] + "..."


def provenance_rows(part, path: str = "") -> list[tuple[str, object, object]]:
    """(field path, value, Source) for every provenance entry in `part` and the parts it holds."""
    rows = []
    if isinstance(part, Part):
        for field, source in part.provenance.items():
            rows.append((f"{path}{field}", getattr(part, field), source))
    if isinstance(part, BaseModel):
        for name in type(part).model_fields:
            if name == "provenance":
                continue
            value = getattr(part, name)
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                if isinstance(item, BaseModel):
                    where = f"{path}{name}[{i}]." if isinstance(value, list) else f"{path}{name}."
                    rows += provenance_rows(item, where)
    return rows


def _link(source: str) -> str:
    parts = [s.strip() for s in source.split(" ; ") if s.strip()]
    return " ; ".join(f"<{p}>" if p.startswith("http") else _cell(p) for p in parts) or "-"


def deal_section(name: str, deal) -> list[str]:
    rows = provenance_rows(deal)
    out = [f"## {name}", "", _cell(deal.deal.description) or "", "",
           f"{len(rows)} sourced or labelled figures; "
           f"{sum(1 for *_x, s in rows if s.confidence == 'assumption')} of them assumptions.", "",
           "| field | value | confidence | source | note |", "|---|---|---|---|---|"]
    for field, value, source in rows:
        out.append(f"| `{_cell(field)}` | {_cell(value)} | {source.confidence} | {_link(source.source)} | "
                   f"{_cell(source.note) or '-'} |")
    if deal.deal.assumptions:
        out += ["", "Assumptions the deal file lists:", ""] + [f"- {_cell(a)}" for a in deal.deal.assumptions]
    return out + [""]


def markdown(deals: dict) -> str:
    """The page for {name: Deal}, in name order."""
    lines = ["# Facts and sources behind the built-in deals", "",
             "Generated from each deal file's `provenance` and `deal.assumptions` by "
             "`python scripts/facts_page.py` (do not edit by hand). Confidence is as the file states it: "
             "`reported` (primary reporting), `reported (secondary)`, `estimated`, `assumption` "
             "(a modelling choice, labelled as such) or `illustrative`.", ""]
    for name in sorted(deals):
        lines += deal_section(name, deals[name])
    return "\n".join(lines).rstrip("\n") + "\n"
