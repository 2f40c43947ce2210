"""How the workbook prints: landscape A4, labels and header rows repeated on every page,
the period sheets broken into blocks of whole years, each block one page wide.

A period sheet (Cash flows, Inputs) has a column per period, so it cannot fit one page
wide as a whole; instead each printed page is one page wide and holds whole years of
periods (as many as fit at a print scale of at least MIN_SCALE%), with the line labels
and units (columns A:B) and the header rows repeated, and a page break before each
block's first period. The Summary and Scenarios sheets fit one page wide."""
from __future__ import annotations

PAPER_A4 = 9
PRINTABLE_PX = 1065        # A4 landscape less 0.3in side margins, at 96 px an inch
MIN_SCALE, MAX_SCALE = 60, 85
PERIODS_A_YEAR = {"month": 12, "quarter": 4, "half-year": 2, "year": 1}
FOOTER = "&L&A&RPage &P of &N"


def column_px(width_chars: float) -> int:
    """Pixels of a column `width_chars` wide (Calibri 11: 7 px a digit plus 5 of padding)."""
    return int(width_chars * 7 + 0.5) + 5


def _common(ws) -> None:
    ws.set_landscape()
    ws.set_paper(PAPER_A4)
    ws.set_margins(left=0.3, right=0.3, top=0.45, bottom=0.45)
    ws.set_footer(FOOTER)


def fit_one_page_wide(ws) -> None:
    """A sheet that prints one page wide, as many pages tall as it needs."""
    _common(ws)
    ws.fit_to_pages(1, 0)


def year_blocks(dates, first_period_col: int, periods_a_year: int, years_a_page: int) -> list[int]:
    """Columns before which a page breaks: the first period of every `years_a_page`-th
    calendar year after the first (the period's end date gives its year)."""
    years = [d.year for d in dates]
    breaks, start = [], years[0] if years else 0
    for t in range(1, len(years)):
        if years[t] != years[t - 1] and (years[t] - start) % years_a_page == 0:
            breaks.append(first_period_col + t)
    return breaks


def choose_block(periods_a_year: int, repeated_px: int, first_page_px: int, period_px: int) -> tuple[int, int]:
    """(years a page, print scale %): the most whole years whose columns, with the
    repeated columns (and the first page's extra ones), fit one page at >= MIN_SCALE%."""
    best = (1, MIN_SCALE)
    for years in range(1, 41):
        need = repeated_px + first_page_px + (years * periods_a_year + 1) * period_px  # +1: close, or a 5th date
        scale = min(MAX_SCALE, int(100 * PRINTABLE_PX / need))
        if scale < MIN_SCALE:
            break
        best = (years, scale)
    return best


def period_sheet(ws, dates, period: str, repeat_rows: tuple[int, int], widths: dict) -> dict:
    """Print a period sheet (columns: label, units, total, then a period each) in blocks of
    whole years. widths: {'label', 'units', 'total', 'period'} in characters. Returns
    what was chosen: years a page, scale, break columns."""
    from .excel import FIRST_COL
    _common(ws)
    ws.repeat_rows(*repeat_rows)
    ws.repeat_columns(0, 1)
    a_year = PERIODS_A_YEAR.get(period, 4)
    repeated = column_px(widths["label"]) + column_px(widths["units"])
    years, scale = choose_block(a_year, repeated, column_px(widths["total"]), column_px(widths["period"]))
    ws.set_print_scale(scale)
    breaks = year_blocks(dates, FIRST_COL, a_year, years)
    ws.set_v_pagebreaks(breaks)
    return {"years_a_page": years, "scale": scale, "breaks": breaks}
