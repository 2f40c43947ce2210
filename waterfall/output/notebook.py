"""Short reprs and HTML summaries for notebooks: a deal, a run, a batch of scenarios, a
portfolio. Everything shown is escaped (text from deal files is never markup)."""
from __future__ import annotations

import html

from .summary import amount, equity_irr_label, pct, period_label, ratio


def _table(rows, head=None) -> str:
    cells = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                    f"<td style='text-align:right'>{html.escape(str(v))}</td></tr>" for k, v in rows)
    caption = f"<caption style='text-align:left'><b>{html.escape(head)}</b></caption>" if head else ""
    return f"<table>{caption}{cells}</table>"


def deal_rows(deal) -> list[tuple[str, str]]:
    t = deal.timeline
    debt = sum(tr.amount or 0.0 for tr in deal.tranches)
    return [("kind", f"{deal.deal.kind}, {deal.deal.recourse}"),
            ("financial close", t.financial_close.isoformat()),
            ("periods", f"{t.n_periods} {t.period}s ({t.construction_periods} construction)"),
            ("asset cost", f"{amount(sum(a.cost for a in deal.assets), 0)} {deal.deal.units}"),
            ("debt (committed amounts)", f"{amount(debt, 0)} {deal.deal.units}"),
            ("tranches", ", ".join(tr.name for tr in deal.tranches)),
            ("tenants", ", ".join(sorted({lease.tenant for lease in deal.leases})) or "-"),
            ("scenarios", ", ".join(["base"] + [s.name for s in deal.scenarios if s.name != "base"]))]


def deal_repr(deal) -> str:
    t = deal.timeline
    return (f"<Deal {deal.name!r}: {len(deal.tranches)} tranche(s), {t.n_periods} {t.period}s from "
            f"{t.financial_close.isoformat()}, {len(deal.scenarios)} scenario(s)>")


def deal_html(deal) -> str:
    return _table(deal_rows(deal), f"Deal {deal.name}")


def result_rows(result) -> list[tuple[str, str]]:
    m, units = result.metrics, result.units
    d = m["default_period"]
    return [("engine", result.engine), ("min DSCR", ratio(m["min_dscr"])), ("average DSCR", ratio(m["avg_dscr"])),
            ("LLCR", ratio(m["llcr"])), ("PLCR", ratio(m["plcr"])),
            ("default", "none" if d is None else f"{period_label(result.program, d)}; cause: {m['default_cause']}"),
            ("recovery rate", pct(m["recovery_rate"])), (f"lender loss ({units})", amount(m["lender_loss"])),
            ("lender IRR", pct(m["lender_irr"])), ("equity IRR", equity_irr_label(m))]


def result_repr(result) -> str:
    m = result.metrics
    d = m["default_period"]
    return (f"<Result {result.deal_name!r} / {result.scenario!r} ({result.engine}): min DSCR "
            f"{ratio(m['min_dscr'])}, default {'none' if d is None else period_label(result.program, d)}, "
            f"lender loss {amount(m['lender_loss'])} {result.units}>")


def result_html(result) -> str:
    return _table(result_rows(result), f"{result.deal_name} / {result.scenario}")


BATCH_COLUMNS = ("scenario", "min_dscr", "default_period", "recovery_rate", "lender_loss", "lender_irr", "equity_irr")


def batch_repr(batch) -> str:
    return (f"<BatchResult {batch.deal_name!r} ({batch.engine}): {len(batch.scenario_names)} scenario(s)"
            f"{', ledgers' if batch.ledgers is not None else ''}>")


def batch_html(batch, limit: int = 50) -> str:
    frame = batch.metrics[list(BATCH_COLUMNS)].head(limit)
    more = len(batch.scenario_names) - len(frame)
    note = f"<p>... and {more} more scenario(s): see .metrics</p>" if more > 0 else ""
    return (f"<p><b>{html.escape(batch.deal_name)}</b>: {len(batch.scenario_names)} scenario(s), "
            f"amounts in {html.escape(batch.units)}</p>" + frame.to_html(index=False, na_rep="-") + note)


def portfolio_repr(data) -> str:
    t = data["totals"]
    return (f"<Portfolio {data['preset']!r}: {len(data['deals'])} deals, debt {amount(t['debt'], 0)}, "
            f"defaulted exposure {amount(t['exposure'], 0)}, loss {amount(t['loss'], 0)} {data['units']}>")


def portfolio_html(data) -> str:
    rows = [(r["deal"], "-" if r["default_period"] is None else str(r["default_period"]),
             pct(r["recovery_rate"], 1), amount(r["debt"], 0), amount(r["loss"], 0)) for r in data["deals"]]
    head = "".join(f"<th>{h}</th>" for h in ("deal", "default period", "recovery", "debt", "loss"))
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (f"<p><b>Portfolio under {html.escape(data['preset'])}</b> ({html.escape(data['units'])})</p>"
            f"<table><tr>{head}</tr>{body}</table>")
