"""The credit committee pack as one self-contained HTML page: CSS inline, the chart as
inline SVG, no script and nothing fetched. Every number from the engine or the deal file
is a `<span class="n" data-key=... data-value=...>` (the full-precision value), so a test
can read the page a browser rendered and compare each with the engine."""
from __future__ import annotations

import re
from html import escape
from urllib.parse import urlparse

from .breakevens import describe, target_label
from .chart import axis_cap, dscr_svg, tested_points
from .figures import OUTCOME_METRICS, finite

CSS = """
*{box-sizing:border-box}body{font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1b1f24;margin:0;padding:12px;background:#fff}h1{font-size:20px;margin:0 0 2px}
h2{font-size:15px;margin:0 0 6px;border-bottom:2px solid #1f4e79;color:#1f4e79}
.sub{color:#555;font-size:12px;margin:0 0 10px}.grid{display:grid;gap:14px;
grid-template-columns:repeat(auto-fit,minmax(340px,1fr))}section{min-width:0}
.wide{grid-column:1/-1}@media (min-width:1000px){.span2{grid-column:span 2}}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:12px}
th,td{padding:3px 5px;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
th{background:#eef3f8;font-weight:600}td.r,th.r{text-align:right;white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(100px,1fr));gap:6px}
.card{background:#f4f7fa;border-radius:6px;padding:6px 8px}.card b{display:block;font-size:17px}
.card small{color:#555}.tag{font-size:10px;padding:0 4px;border-radius:3px;background:#eee;white-space:nowrap}
.tag.assumption{background:#fde9d9}.tag.reported{background:#e2f0d9}.src{font-size:11px;color:#444;
overflow-wrap:anywhere}.note{font-size:11px;color:#555}.bad{color:#b00020;font-weight:600}
svg.chart{width:100%;height:auto}svg .grid{stroke:#e6e6e6}svg .tick{font-size:10px;fill:#555}
svg .dscr{fill:none;stroke:#1f4e79;stroke-width:2}svg .lockup{stroke:#d98c00;stroke-dasharray:5 3}
svg .default{stroke:#b00020;stroke-dasharray:2 2}svg text.lockup{fill:#9a6300;stroke:none}
svg text.default{fill:#b00020;stroke:none}svg .over{fill:#fff;stroke:#1f4e79}
@media (max-width:520px){body{padding:8px;font-size:13px}.grid{grid-template-columns:1fr}}
@page{size:A4 landscape;margin:8mm}
@media print{body{padding:0;font-size:8px}h1{font-size:13px}h2{font-size:10px;margin-bottom:3px}
.sub,.note{font-size:7px;margin:2px 0}table{font-size:7px}th,td{padding:1px 3px}
.grid{grid-template-columns:1fr 1fr 1fr;gap:6px}.span2{grid-column:span 2}.card{padding:2px 4px}
.card b{font-size:10px}.cards{grid-template-columns:repeat(4,1fr);gap:3px}.src,.tag{font-size:6.5px}svg.chart{max-height:34mm}section{break-inside:avoid}
section.wide{break-inside:auto}}
"""


def fmt_value(value, fmt: str) -> str:
    """A number as the page shows it: ratio 1.17x, pct 8.39%, rate 6.500%, amount 9,400.0,
    int 12, bp +150bp; '-' for none."""
    if value is None:
        return "-"
    if fmt == "ratio":
        return f"{value:.2f}x"
    if fmt == "pct":
        return f"{value * 100:.2f}%"
    if fmt == "rate":
        return f"{value * 100:.3f}%"
    if fmt == "int":
        return f"{int(round(value))}"
    if fmt == "bp":
        return f"+{value:,.1f}bp"
    if fmt == "years":
        return f"{value:.2f}"
    return f"{value:,.1f}"


def num(key: str, value, fmt: str) -> str:
    value = finite(value)
    data = "" if value is None else repr(value)
    return (f'<span class="n" data-key="{escape(key)}" data-fmt="{fmt}" data-value="{data}">'
            f"{escape(fmt_value(value, fmt))}</span>")


def _source(src) -> str:
    if src is None:
        return '<span class="tag">no source given</span>'
    links = []
    for part in re.split(r"\s+;\s+", src.source.strip()) if src.source.strip() else []:
        if part.startswith(("http://", "https://")):
            host = urlparse(part).netloc.removeprefix("www.")
            links.append(f'<a href="{escape(part)}">{escape(host)}</a>')
        else:
            links.append(escape(part))
    note = f" {escape(src.note)}" if src.note else ""
    return (f'<span class="tag {escape(src.confidence.split()[0])}">{escape(src.confidence)}</span> '
            f'<span class="src">{"; ".join(links)}{note}</span>')


def _table(head: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    th = "".join(f'<th class="{"r" if i in right else ""}">{h}</th>' for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="{"r" if i in right else ""}">{c}</td>' for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def _cards(pack) -> str:
    m, s = pack.result.metrics, pack.scenario
    cards = [(label, num(f"metric.{s}.{name}", m.get(name), fmt))
             for name, label, fmt in OUTCOME_METRICS if name not in ("default_period",)]
    for tranche, wal in m["wal_years"].items():
        cards.append((f"WAL {escape(tranche)} (years)", num(f"wal.{s}.{tranche}", wal, "years")))
    cause = m["default_cause"]
    cards.append(("Default", num(f"metric.{s}.default_period", m["default_period"], "int")
                  + (f' <small class="bad">{escape(cause)}</small>' if cause else "")))
    return '<div class="cards">' + "".join(f'<div class="card"><small>{label}</small><b>{v}</b></div>'
                                           for label, v in cards) + "</div>"


def _terms(pack) -> str:
    rows = [[escape(t.label), num(t.key, t.value, t.fmt), escape(t.text), _source(t.source)] for t in pack.terms]
    n, assumed = pack.source_counts
    note = (f'<p class="note">The deal file carries {n} provenance entries, {assumed} of them labelled '
            f'assumptions, and {len(pack.deal.deal.assumptions)} listed assumptions.</p>')
    return _table(["Term", "Value", "", "Source"], rows, {1}) + note


def _sources_uses(pack) -> str:
    su = pack.sources_uses
    def block(lines, total_key, total, title):
        rows = [[escape(line.label), num(line.key, line.value, "amount")] for line in lines]
        rows.append([f"<b>Total {title}</b>", "<b>" + num(total_key, total, "amount") + "</b>"])
        return _table([title.capitalize(), pack.units], rows, {1})
    return (f'<p class="note">Periods 0 (financial close) to {su.last_period} (the last before commercial '
            f'operation), from the ledger.</p>' + block(su.sources, "su.total_sources", su.total_sources, "sources")
            + block(su.uses, "su.total_uses", su.total_uses, "uses"))


def _presets(pack) -> str:
    head = ["Scenario"] + [label for _, label, _ in OUTCOME_METRICS] + ["Cause"]
    rows = []
    for o in pack.outcomes:
        cells = [f'<span title="{escape(o.description)}">{escape(o.scenario)}</span>']
        cells += [num(f"metric.{o.scenario}.{name}", o.metrics.get(name), fmt) for name, _, fmt in OUTCOME_METRICS]
        cells.append(escape(o.metrics["default_cause"] or "-"))
        rows.append(cells)
    return (_table(head, rows, set(range(1, len(head) - 1)))
            + '<p class="note">Each preset on this deal alone, as <code>waterfall run DEAL --scenario PRESET</code> '
              'runs it (the portfolio\'s contagion chain is not applied). Periods are the deal\'s own.</p>')


def _breakevens(pack) -> str:
    rows = []
    for b in pack.breakevens:
        rows.append([escape(b.stress), escape(target_label(b.target)), num(b.key, b.value, b.unit),
                     escape(describe(b))])
    return (_table(["Stress", "Crossing", "Breakeven", ""], rows, {2})
            + f'<p class="note">On top of scenario {escape(pack.scenario)}. Rent haircut: all rent x (1 - haircut) '
              'from period 1. Re-let rate: the tenant stops paying in the first operating period and the space is '
              're-let at once at this share of the scheduled rent (the highest rate that still crosses). Rate '
              'shock: base rate + shock from close. First loss: the tranche loses more than 0.000001.</p>')


def _recoveries(pack) -> str:
    rows = []
    for o in pack.outcomes:
        b = o.basis
        if b is None:
            continue
        s = o.scenario
        rows.append([escape(s), escape(f"{b['cause']} ({b['date']})"),
                     num(f"rec.{s}.workout_periods", b["workout_periods"], "int"),
                     num(f"metric.{s}.recovery_rate_pv", o.metrics["recovery_rate_pv"], "pct"),
                     num(f"rec.{s}.sale_gross", b["sale_gross"], "amount"),
                     num(f"rec.{s}.sale_net", b["sale_net"], "amount"), escape(b["approach"])])
    if not rows:
        return '<p class="note">The lenders accelerate in none of these scenarios.</p>'
    d = pack.deal.enforcement
    return (_table(["Scenario", "Cause (date)", "Workout periods", "Recovery (PV)", "Sale, gross", "Sale, net",
                    "What the value rested on"], rows, {2, 3, 4, 5})
            + f'<p class="note">Sale at the appraisal less a {num("term.enforcement.fire_sale_discount", d.fire_sale_discount, "pct")} '
              'forced-sale discount and costs; recovery (PV) is the receipts discounted at each tranche\'s contract '
              'rate over the claim at acceleration (docs/credit.md).</p>')


def _chart(pack) -> str:
    frame = pack.result.cash_flows()
    cov = pack.deal.covenants
    svg = dscr_svg(frame, cov.lock_up_dscr, cov.default_dscr, f"period ({pack.deal.timeline.period}s)")
    cap = axis_cap(cov.lock_up_dscr, cov.default_dscr)
    over = [(t, v) for t, v in tested_points(frame) if v > cap]
    note = f"Axis to {cap:.1f}x: the higher of 3x and twice the lock-up level, so the covenant band stays readable."
    if over:
        top = max(over, key=lambda p: p[1])
        note += (f" {len(over)} period(s) above it are drawn at the cap as open circles; the highest is "
                 f"{num(f'chart.{pack.scenario}.max_dscr', top[1], 'ratio')} in period {top[0]}.")
    return svg + f'<p class="note">{note}</p>'


def render(pack) -> str:
    """The page for a report.Pack."""
    d = pack.deal
    sections = [
        ("Metrics: " + escape(pack.scenario), _cards(pack), ""),
        ("DSCR against the covenants", _chart(pack), "span2"),
        ("Sources and uses at close", _sources_uses(pack), ""),
        ("Breakevens", _breakevens(pack), "span2"),
        ("Deal terms and their sources", _terms(pack), "wide"),
        ("Stress presets", _presets(pack), "wide"),
        ("Recovery and its basis", _recoveries(pack), "wide"),
    ]
    body = "".join(f'<section class="{cls}"><h2>{title}</h2>{html}</section>' for title, html, cls in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(d.name)}: credit committee pack</title><style>{CSS}</style></head><body>"
            f"<h1>{escape(d.name)}: credit committee pack</h1>"
            f'<p class="sub">{escape(d.deal.kind)}, {escape(d.deal.recourse)}; financial close '
            f"{d.timeline.financial_close.isoformat()}; {escape(pack.units)}; scenario {escape(pack.scenario)}; "
            f"engine {escape(pack.result.engine)}. {escape(_first_sentence(d.deal.description))}</p>"
            f'<div class="grid">{body}</div></body></html>')


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    cut = text.find(". ")
    return text if cut < 0 else text[: cut + 1]
