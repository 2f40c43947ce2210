"""Readable labels for a run: the summary `waterfall run` prints, the default period with
its length and date, the equity IRR's blanks told apart, percentages. Shared by the
command line and the notebook views (results.py)."""
from __future__ import annotations

PERIOD_WORDS = {1: "month", 3: "quarter", 6: "half-year", 12: "year"}


def period_word(months_per_period: int) -> str:
    return PERIOD_WORDS.get(int(months_per_period), f"{months_per_period}-month period")


def period_label(program, period) -> str:
    """'period 16 (quarter ending 2030-03-31)': the index counts from financial close
    (period 0) and the date is the period's (business-day adjusted) payment date."""
    if period is None:
        return "none"
    word = period_word(program.months_per_period)
    dates = getattr(program, "dates", None) or []
    if 0 <= period < len(dates):
        return f"period {period} ({word} ending {dates[period].isoformat()})"
    return f"period {period} ({word}s from financial close)"


def pct(value, digits: int = 3) -> str:
    """A fraction as a percentage (0.7296 -> '72.959%'); '-' for none."""
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def ratio(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}x"


def amount(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def equity_irr_label(metrics, digits: int = 3) -> str:
    """The equity IRR, or why there is none: no equity was invested, or the sponsors put
    money in and got nothing back (wiped out), or the cash flows have no IRR."""
    irr = metrics.get("equity_irr")
    if irr is not None:
        return pct(irr, digits)
    invested = metrics.get("equity_invested") or 0.0
    distributed = metrics.get("equity_distributions") or 0.0
    if invested <= 1e-9:
        return "n/a (no equity invested)"
    if distributed <= 1e-9:
        return "wiped out (nothing distributed to equity: -100%)"
    return "undefined (the equity cash flows have no IRR)"


def summary_rows(result, units: str) -> list[tuple[str, str]]:
    """(label, value) rows of `waterfall run`'s summary; amounts in `units`."""
    m = result.metrics
    d = m["default_period"]
    default = "none" if d is None else f"{period_label(result.program, d)}; cause: {m['default_cause']}"
    rows = [
        ("deal", result.deal_name), ("scenario", result.scenario), ("engine", result.engine),
        ("min DSCR", ratio(m["min_dscr"])), ("average DSCR", ratio(m["avg_dscr"])),
        ("LLCR", ratio(m["llcr"])), ("minimum LLCR", ratio(m["min_llcr"])), ("PLCR", ratio(m["plcr"])),
        ("default", default),
        (f"lender claim ({units})", amount(m["lender_claim"] if d else None)),
        (f"workout before the final recovery ({period_word(result.program.months_per_period)}s)",
         "-" if m["recovery_periods"] is None else str(m["recovery_periods"])),
        ("recovery rate", pct(m["recovery_rate"])),
        ("recovery rate, PV at the contract rate", pct(m["recovery_rate_pv"])),
        (f"lender loss ({units})", amount(m["lender_loss"])),
        (f"lender loss, PV ({units})", amount(m["lender_loss_pv"])),
        ("lender IRR", pct(m["lender_irr"])), ("equity IRR", equity_irr_label(m)),
        ("lender XIRR (actual dates)", pct(m["lender_xirr"])), ("equity XIRR (actual dates)", pct(m["equity_xirr"])),
        (f"equity invested ({units})", amount(m["equity_invested"])),
        (f"equity distributions ({units})", amount(m["equity_distributions"])),
    ]
    if result.program.tax_on:
        rows += [(f"income tax paid ({units})", amount(m["income_tax_paid"])),
                 ("equity IRR after tax", pct(m["equity_irr_after_tax"]))]
    rows += [(f"WAL {name} (years)", "-" if w is None else f"{w:.3f}") for name, w in m["wal_years"].items()]
    return rows + balloon_rows(result, units)


def balloon_rows(result, units: str) -> list[tuple[str, str]]:
    """A row per balloon loan (waterfall.balloons): the balloon, its share of the amount
    drawn, the lease tail after it, LTV and debt yield at the maturity."""
    from ..balloons import balloons
    return [(f"balloon {b['name']} at {period_label(result.program, b['period'])} ({units})",
             f"{amount(b['balloon'])} ({pct(b['balloon_share'], 1)} of drawn); tail {b['tail_years']:.2f} years; "
             f"LTV {pct(b['ltv'], 1)}; debt yield {pct(b['debt_yield'], 1)}")
            for b in balloons(result.program, result.ledger)]


def render_rows(rows) -> str:
    from ..errors import printable

    rows = [(printable(k), printable(v)) for k, v in rows]   # names from the file: no raw escapes
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def aligned(headers, rows, left=1) -> str:
    """A plain-text table: the first `left` columns left-aligned, the rest right-aligned,
    each as wide as its widest cell (nothing is cut)."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max([len(str(h))] + [len(r[j]) for r in rows]) for j, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if j < left else c.rjust(w) for j, (c, w) in enumerate(zip(cells, widths)))
    head = line([str(h) for h in headers])
    return "\n".join([head, "-" * len(head)] + [line(r) for r in rows])


def equity_irr_short(metrics, digits: int = 1) -> str:
    """equity_irr_label in a table cell: 'no equity', 'wiped out' or 'undefined'."""
    label = equity_irr_label(metrics, digits)
    return label.split(" (")[0].replace("n/a", "no equity")
